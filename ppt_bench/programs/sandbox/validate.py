"""Static checks of an authored program: the restricted format and an `ast` allowlist.

The format (what a model is asked to write; see `authored.PROMPT`):

    STORY = "Out of 12 shots, {successes} went in. ..."   # placeholders: observed site names only
    QUESTION = "What is her true success rate?"
    CHOICES = ["below 25%", "25% to 50%", "50% to 75%", "above 75%"]   # 2..10 strings
    EDGES = [0.0, 0.25, 0.5, 0.75, 1.0]                     # len(CHOICES) + 1 increasing numbers
    OBSERVED = ["successes"]                                # sites shown in the story

    def model(successes=None):
        rate = numpyro.sample("rate", dist.Beta(2.0, 2.0))
        numpyro.sample("successes", dist.Binomial(12, rate), obs=successes)
        numpyro.deterministic("answer", rate)               # the queried value, binned by EDGES

Allowed inside `model`: assignments to local names, arithmetic, comparisons, `if`, `for` over `range`
with literal bounds, `with numpyro.plate(...)`, calls to `numpyro.sample/deterministic/plate`,
`dist.<allowed>`, `jnp.<allowed>`, and the builtins `range len float int abs min max`. Everything else
(imports, attribute access on other objects, assignment to module attributes or rebinding the module
and builtin names, dunders, `eval`/`exec`/`open`/`getattr`, `while`, lambdas, classes, try/raise,
f-strings, large literals, nesting deeper than MAX_AST_DEPTH) is rejected with a reason. The source is
measured before it is parsed and the metadata is checked strictly (`metadata`), so validation is
bounded in time and memory (`limits`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ppt_bench.programs.sandbox.limits import (
    MAX_AST_DEPTH,
    MAX_INT_LITERAL,
    MAX_LOOP,
    MAX_SOURCE_CHARS,
    Rejected,
)
from ppt_bench.programs.sandbox.metadata import QUERY_SITE, check_metadata
from ppt_bench.programs.sandbox.template import Parts

__all__ = ["ProgramSpec", "Rejected", "QUERY_SITE", "validate_source"]

ALLOWED_DISTS = frozenset({
    "Normal", "HalfNormal", "LogNormal", "Beta", "Gamma", "Exponential", "Uniform", "Bernoulli", "Binomial",
    "Poisson", "Categorical", "DiscreteUniform", "Dirichlet", "StudentT", "Cauchy", "Geometric",
    "NegativeBinomial2", "BetaBinomial", "Laplace", "HalfCauchy", "TruncatedNormal", "MultivariateNormal"})
ALLOWED_JNP = frozenset({
    "exp", "log", "log1p", "sqrt", "abs", "minimum", "maximum", "where", "clip", "sum", "mean", "prod",
    "arange", "array", "asarray", "ones", "zeros", "dot", "argmax", "argmin", "cumsum", "tanh", "floor",
    "round", "stack", "concatenate", "sin", "cos", "pi", "inf", "float32", "int32", "max", "min"})
ALLOWED_NUMPYRO = frozenset({"sample", "deterministic", "plate"})
ALLOWED_BUILTINS = frozenset({"range", "len", "float", "int", "abs", "min", "max"})
MODULE_NAMES = frozenset({"numpyro", "dist", "jnp"})
REQUIRED = ("STORY", "QUESTION", "CHOICES", "EDGES", "OBSERVED")

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign, ast.Expr, ast.Call,
    ast.keyword, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice,
    ast.List, ast.Tuple, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.If, ast.For,
    ast.With, ast.withitem, ast.Pass, ast.Return, ast.Dict,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)
_PROTECTED_NAMES = MODULE_NAMES | ALLOWED_BUILTINS


@dataclass(frozen=True)
class ProgramSpec:
    """The literal parts of a validated program (the model itself runs only in the sandbox).

    ``story_parts`` is the parsed STORY template (`template.parse_template`).
    """

    source: str
    story: str
    question: str
    choices: tuple[str, ...]
    edges: tuple[float, ...]
    observed: tuple[str, ...]
    story_parts: Parts = ()


def _literal(node: ast.AST, name: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise Rejected("bad-metadata", f"{name} must be a literal") from None


def _depth(tree: ast.AST) -> int:
    """Nesting depth of the tree, computed without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_range(call: ast.expr) -> None:
    """`for` must iterate over range() with 1..3 literal int arguments and at most MAX_LOOP steps."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"
            and not call.keywords and 1 <= len(call.args) <= 3
            and all(isinstance(a, ast.Constant) and type(a.value) is int for a in call.args)):
        raise Rejected("unbounded-loop", "for loops must run over range() with 1..3 literal int bounds")
    bounds = [a.value for a in call.args]
    if any(abs(b) > MAX_INT_LITERAL for b in bounds) or (len(bounds) == 3 and bounds[2] == 0):
        raise Rejected("unbounded-loop", f"range{tuple(bounds)} needs bounds <= {MAX_INT_LITERAL} and a step != 0")
    if len(range(*bounds)) > MAX_LOOP:
        raise Rejected("unbounded-loop", f"more than {MAX_LOOP} iterations")


def _check_binding(node: ast.AST) -> None:
    """Only local names may be bound: never a module attribute, never the module or builtin names."""
    if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
        shown = node.value.id if isinstance(node.value, ast.Name) else "..."
        raise Rejected("module-assignment", f"assignment to {shown}.{node.attr} at line {node.lineno}")
    if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
        base = node.value
        while isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Attribute) or isinstance(base, ast.Name) and base.id in _PROTECTED_NAMES:
            raise Rejected("module-assignment", f"item assignment into a module value at line {node.lineno}")
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and node.id in _PROTECTED_NAMES:
        raise Rejected("module-assignment", f"rebinding {node.id!r} at line {node.lineno}")
    if isinstance(node, ast.arg) and node.arg in _PROTECTED_NAMES:
        raise Rejected("module-assignment", f"argument named {node.arg!r}")


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        kind = type(node).__name__
        reason = {"Import": "import", "ImportFrom": "import", "While": "unbounded-loop",
                  "Lambda": "lambda", "JoinedStr": "f-string"}.get(kind, "disallowed-syntax")
        raise Rejected(reason, f"{kind} at line {getattr(node, 'lineno', '?')}")
    if isinstance(node, ast.Name) and ("__" in node.id):
        raise Rejected("dunder", node.id)
    _check_binding(node)
    if isinstance(node, ast.Attribute):
        if "__" in node.attr:
            raise Rejected("dunder", node.attr)
        if not isinstance(node.value, ast.Name) or node.value.id not in MODULE_NAMES:
            raise Rejected("attribute-escape", f".{node.attr} on a non-module value")
        allowed = {"numpyro": ALLOWED_NUMPYRO, "dist": ALLOWED_DISTS, "jnp": ALLOWED_JNP}[node.value.id]
        if node.attr not in allowed:
            raise Rejected("disallowed-call", f"{node.value.id}.{node.attr}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if "__" in node.func.id:
            raise Rejected("dunder", node.func.id)
        if node.func.id not in ALLOWED_BUILTINS:
            raise Rejected("disallowed-call", f"{node.func.id}()")
    if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name | ast.Attribute):
        raise Rejected("disallowed-call", "call of a computed value")
    if isinstance(node, ast.Constant):
        number = isinstance(node.value, int | float) and not isinstance(node.value, bool)
        if number and abs(node.value) > MAX_INT_LITERAL:
            raise Rejected("large-literal", f"{node.value!r:.40}")
        if isinstance(node.value, str) and "__" in node.value:
            raise Rejected("dunder", f"{node.value!r:.40}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        if not (isinstance(node.right, ast.Constant) and isinstance(node.right.value, int | float)
                and abs(node.right.value) <= 4):
            raise Rejected("large-literal", "powers need a literal exponent <= 4")
    if isinstance(node, ast.For):
        _check_range(node.iter)
    if isinstance(node, ast.With):
        for item in node.items:
            call = item.context_expr
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "plate"):
                raise Rejected("disallowed-syntax", "with is only for numpyro.plate")


def _parse(source: str) -> ast.Module:
    """`ast.parse` of a measured, encodable source; the parser's own overflows become `too-deep`."""
    if type(source) is not str:
        raise Rejected("bad-format", f"source must be text, got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise Rejected("too-long", f"{len(source)} characters (max {MAX_SOURCE_CHARS})")
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as error:
        raise Rejected("bad-encoding", f"not UTF-8 text at character {error.start}") from None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:
        raise Rejected("syntax-error", (str(error).splitlines() or ["?"])[0]) from None
    except (RecursionError, MemoryError):
        raise Rejected("too-deep", "the parser's nesting limit was reached") from None
    if _depth(tree) > MAX_AST_DEPTH:
        raise Rejected("too-deep", f"syntax nested deeper than {MAX_AST_DEPTH} levels")
    return tree


def validate_source(source: str) -> ProgramSpec:
    """Parse and check an authored program; raise `Rejected` with the reason, else return its spec."""
    tree = _parse(source)
    values, models = {}, []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id in REQUIRED:
            name = statement.targets[0].id
            if name in values:
                raise Rejected("bad-metadata", f"{name} is assigned twice")
            values[name] = _literal(statement.value, name)
        elif isinstance(statement, ast.FunctionDef) and statement.name == "model":
            models.append(statement)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring
        else:
            _check_node(statement)  # gives the specific reason when there is one
            raise Rejected("bad-format", f"unexpected top-level {type(statement).__name__}")
    for node in ast.walk(tree):
        _check_node(node)
    if len(models) != 1:
        raise Rejected("bad-format", "exactly one `def model(...)` is required")
    arguments = models[0].args
    if models[0].decorator_list or arguments.vararg or arguments.kwarg or arguments.posonlyargs \
            or arguments.kwonlyargs:
        raise Rejected("bad-format", "model takes plain keyword arguments only")
    missing = [k for k in REQUIRED if k not in values]
    if missing:
        raise Rejected("bad-metadata", f"missing {missing}")
    meta = check_metadata(values, tuple(a.arg for a in arguments.args))
    return ProgramSpec(source, meta.story, meta.question, meta.choices, meta.edges, meta.observed, meta.story_parts)
