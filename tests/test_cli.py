import subprocess
import sys
from pathlib import Path

import pytest

from ppt_bench import __version__
from ppt_bench.cli import COMMANDS, GENERATE, build_parser, main

ALL_WORDS = [[command.name] for command in COMMANDS] + [["generate"]] + [
    ["generate", command.name] for command in GENERATE]


@pytest.mark.parametrize("words", ALL_WORDS, ids=" ".join)
def test_every_subcommand_has_help(words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ppt-bench " + " ".join(words))


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in [command.name for command in COMMANDS] + ["generate"]:
        assert f"    {name}" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ppt-bench {__version__}"


def test_unavailable_command_fails_clearly(monkeypatch, capsys):
    import ppt_bench.cli as cli

    fake = cli.Command("leaderboard", "build the leaderboard", "ppt_bench.commands.no_such_module")
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS[:2], fake))
    assert main(["leaderboard"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ppt-bench: error: `ppt-bench leaderboard` is not available yet")
    assert len(err.strip().splitlines()) == 1


def test_parser_builds_without_heavy_imports():
    # Help must stay fast: building the parser may not import torch, jax or lm-eval.
    code = ("import sys; from ppt_bench.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'jax', 'lm_eval', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "ppt-bench"
    if not script.exists():
        pytest.skip("ppt-bench is not installed in this interpreter's environment (run `make test`)")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    assert "assistant-curve" in out and "leaderboard" in out


def test_parser_is_buildable_twice():
    assert build_parser().prog == build_parser().prog == "ppt-bench"
