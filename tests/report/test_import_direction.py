"""The flow reads one way: evaluate -> run records -> report. Nothing in `ppt_bench.report` imports a
command module, the CLI or torch (at module level or inside a function), and importing every report
module loads neither torch nor a command module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ppt_bench.report

REPORT_DIR = Path(ppt_bench.report.__file__).parent
FORBIDDEN = ("torch", "transformers", "ppt_bench.commands", "ppt_bench.cli")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every import anywhere in a module, `from a import b` as `a.b` too."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def forbidden_imports(source: str) -> list[str]:
    return [f"line {line}: {name}" for line, name in imported_modules(ast.parse(source))
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)]


def test_the_check_sees_imports_inside_functions():
    source = "def f():\n    from ppt_bench import commands\n    import torch.nn\n"
    assert forbidden_imports(source) == ["line 2: ppt_bench.commands", "line 3: torch.nn"]
    assert forbidden_imports("from ppt_bench.report import records\nimport numpy\n") == []


def test_no_report_module_imports_a_command_or_torch():
    modules = sorted(REPORT_DIR.glob("*.py"))
    assert len(modules) > 5
    offending = {path.name: bad for path in modules if (bad := forbidden_imports(path.read_text()))}
    assert offending == {}


def test_importing_the_report_loads_no_command_module_and_no_torch():
    code = ("import importlib, pkgutil, sys, ppt_bench.report as r\n"
            "for m in pkgutil.iter_modules(r.__path__): importlib.import_module('ppt_bench.report.' + m.name)\n"
            "print(sorted(m for m in sys.modules if m in ('torch', 'transformers') "
            "or m.startswith('ppt_bench.commands')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
