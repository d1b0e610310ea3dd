"""Static checks of an authored program: the restricted format and an `ast` allowlist.

The format (what a model is asked to write; see `FORMAT_SPEC`):

    STORY = "Out of 12 shots, {successes} went in. ..."   # placeholders: observed site names only
    QUESTION = "What is her true success rate?"
    CHOICES = ["below 25%", "25% to 50%", "50% to 75%", "above 75%"]   # 2..10 strings
    EDGES = [0.0, 0.25, 0.5, 0.75, 1.0]                     # len(CHOICES) + 1 increasing numbers
    OBSERVED = ["successes"]                                # sites shown in the story

    def model(successes=None):
        rate = numpyro.sample("rate", dist.Beta(2.0, 2.0))
        numpyro.sample("successes", dist.Binomial(12, rate), obs=successes)
        numpyro.deterministic("answer", rate)               # the queried value, binned by EDGES

Allowed inside `model`: assignments, arithmetic, comparisons, `if`, `for` over `range` with literal
bounds, `with numpyro.plate(...)`, calls to `numpyro.sample/deterministic/plate`, `dist.<allowed>`,
`jnp.<allowed>`, and the builtins `range len float int abs min max`. Everything else (imports,
attribute access on other objects, dunders, `eval`/`exec`/`open`/`getattr`, `while`, lambdas, classes,
try/raise, f-strings, large literals) is rejected with a reason.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass

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
MAX_INT_LITERAL = 100_000
MAX_LOOP = 1_000
QUERY_SITE = "answer"

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign, ast.Expr, ast.Call,
    ast.keyword, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice,
    ast.List, ast.Tuple, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.If, ast.For,
    ast.With, ast.withitem, ast.Pass, ast.Return, ast.Dict,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)


class Rejected(Exception):
    """An authored program is not acceptable; `reason` is a short category, `detail` says where."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class ProgramSpec:
    """The literal parts of a validated program (the model itself runs only in the sandbox)."""

    source: str
    story: str
    question: str
    choices: tuple[str, ...]
    edges: tuple[float, ...]
    observed: tuple[str, ...]


def _literal(node: ast.AST, name: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise Rejected("bad-metadata", f"{name} must be a literal") from None


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        kind = type(node).__name__
        reason = {"Import": "import", "ImportFrom": "import", "While": "unbounded-loop",
                  "Lambda": "lambda", "JoinedStr": "f-string"}.get(kind, "disallowed-syntax")
        raise Rejected(reason, f"{kind} at line {getattr(node, 'lineno', '?')}")
    if isinstance(node, ast.Name) and ("__" in node.id):
        raise Rejected("dunder", node.id)
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
    if isinstance(node, ast.Call) and not isinstance(node.func, (ast.Name, ast.Attribute)):
        raise Rejected("disallowed-call", "call of a computed value")
    if isinstance(node, ast.Constant):
        number = isinstance(node.value, int | float) and not isinstance(node.value, bool)
        if number and abs(node.value) > MAX_INT_LITERAL:
            raise Rejected("large-literal", repr(node.value))
        if isinstance(node.value, str) and "__" in node.value:
            raise Rejected("dunder", repr(node.value))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        if not (isinstance(node.right, ast.Constant) and isinstance(node.right.value, int | float)
                and abs(node.right.value) <= 4):
            raise Rejected("large-literal", "powers need a literal exponent <= 4")
    if isinstance(node, ast.For):
        it = node.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
                and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in it.args)):
            raise Rejected("unbounded-loop", "for loops must run over range() with literal bounds")
        if len(range(*[a.value for a in it.args])) > MAX_LOOP:
            raise Rejected("unbounded-loop", f"more than {MAX_LOOP} iterations")
    if isinstance(node, ast.With):
        for item in node.items:
            call = item.context_expr
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "plate"):
                raise Rejected("disallowed-syntax", "with is only for numpyro.plate")


def validate_source(source: str) -> ProgramSpec:
    """Parse and check an authored program; raise `Rejected` with the reason, else return its spec."""
    if len(source) > 20_000:
        raise Rejected("too-long", f"{len(source)} characters")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:
        raise Rejected("syntax-error", str(error).splitlines()[0]) from None
    values, models = {}, []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id in REQUIRED:
            values[statement.targets[0].id] = _literal(statement.value, statement.targets[0].id)
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
    if models[0].decorator_list or models[0].args.vararg or models[0].args.kwarg:
        raise Rejected("bad-format", "model takes plain keyword arguments only")
    missing = [k for k in REQUIRED if k not in values]
    if missing:
        raise Rejected("bad-metadata", f"missing {missing}")
    choices, edges, observed = values["CHOICES"], values["EDGES"], values["OBSERVED"]
    if not (isinstance(choices, list | tuple) and 2 <= len(choices) <= 10 and all(isinstance(c, str) for c in choices)):
        raise Rejected("bad-choices", "CHOICES must be 2..10 strings")
    if not (isinstance(edges, list | tuple) and len(edges) == len(choices) + 1
            and all(isinstance(e, int | float) for e in edges)
            and all(a < b for a, b in zip(edges, edges[1:], strict=False))):
        raise Rejected("bad-choices", "EDGES must be len(CHOICES) + 1 increasing numbers")
    arg_names = {a.arg for a in models[0].args.args}
    if not (isinstance(observed, list | tuple) and observed and all(isinstance(o, str) for o in observed)
            and set(observed) <= arg_names):
        raise Rejected("bad-metadata", "OBSERVED must name model arguments")
    for text in (values["STORY"], values["QUESTION"]):
        if not isinstance(text, str):
            raise Rejected("bad-metadata", "STORY and QUESTION must be strings")
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(values["STORY"]) if f is not None]
    except ValueError as error:
        raise Rejected("bad-metadata", f"STORY template: {error}") from None
    if any(f not in observed for f in fields):
        raise Rejected("bad-metadata", "STORY placeholders must be plain observed site names")
    return ProgramSpec(source, values["STORY"], values["QUESTION"], tuple(choices),
                       tuple(float(e) for e in edges), tuple(observed))
