"""Adversarial programs the sandbox must reject, each with the reason it must give.

`ADVERSARIAL` is a tuple of (name, expected reason, source). Most are stopped by the static checks;
the rest (`RUNTIME`) need the subprocess (memory, NaN, wrong shapes) and are stopped there.
"""

from __future__ import annotations

_HEAD = '''STORY = "Saw {x}."
QUESTION = "Which?"
CHOICES = ["low", "high"]
EDGES = [-1000.0, 0.0, 1000.0]
OBSERVED = ["x"]
'''


def _prog(body: str, head: str = _HEAD) -> str:
    return head + "\ndef model(x=None):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"


_OK_BODY = '''mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
numpyro.sample("x", dist.Normal(mu, 1.0), obs=x)
numpyro.deterministic("answer", mu)'''

ADVERSARIAL: tuple[tuple[str, str, str], ...] = (
    ("import_os", "import", "import os\n" + _prog(_OK_BODY)),
    ("from_import", "import", "from subprocess import run\n" + _prog(_OK_BODY)),
    ("import_in_model", "import", _prog("import os\n" + _OK_BODY)),
    ("open_file", "disallowed-call", _prog('f = open("/tmp/ppt_pwned", "w")\n' + _OK_BODY)),
    ("open_write", "attribute-escape", _prog('open("/tmp/ppt_pwned", "w").write("x")\n' + _OK_BODY)),
    ("dunder_import", "dunder", _prog('os = __import__("os")\n' + _OK_BODY)),
    ("eval", "disallowed-call", _prog('eval("1+1")\n' + _OK_BODY)),
    ("exec", "disallowed-call", _prog('exec("import os")\n' + _OK_BODY)),
    ("getattr", "disallowed-call", _prog('getattr(dist, "Normal")\n' + _OK_BODY)),
    ("class_escape", "dunder", _prog('y = ().__class__.__bases__[0].__subclasses__()\n' + _OK_BODY)),
    ("globals", "disallowed-call", _prog('globals()["x"] = 1\n' + _OK_BODY)),
    ("compile", "disallowed-call", _prog('compile("1", "a", "eval")\n' + _OK_BODY)),
    ("os_via_numpyro", "attribute-escape", _prog('numpyro.util.os.system("id")\n' + _OK_BODY)),
    ("module_attr", "disallowed-call", _prog('jnp.load("/etc/passwd")\n' + _OK_BODY)),
    ("method_escape", "attribute-escape", _prog('s = "a".join(["b"])\n' + _OK_BODY)),
    ("while_true", "unbounded-loop", _prog("while True:\n    pass\n" + _OK_BODY)),
    ("huge_range", "unbounded-loop", _prog("for i in range(1000000000):\n    pass\n" + _OK_BODY)),
    ("range_variable", "unbounded-loop", _prog("n = 5\nfor i in range(n):\n    pass\n" + _OK_BODY)),
    ("power_bomb", "large-literal", _prog("y = 10 ** 10 ** 10\n" + _OK_BODY)),
    ("lambda", "lambda", _prog("f = lambda: 1\n" + _OK_BODY)),
    ("class_def", "disallowed-syntax", "class A:\n    pass\n" + _prog(_OK_BODY)),
    ("try_except", "disallowed-syntax", _prog("try:\n    pass\nexcept Exception:\n    pass\n" + _OK_BODY)),
    ("fstring", "f-string", _prog('s = f"{x}"\n' + _OK_BODY)),
    ("format_escape", "bad-metadata", _prog(_OK_BODY, _HEAD.replace("Saw {x}.", "Saw {x.real}."))),
    ("top_level_call", "bad-format", _prog(_OK_BODY) + "model()\n"),
    ("no_model", "bad-format", _HEAD),
    ("choices_edges_mismatch", "bad-choices", _prog(_OK_BODY, _HEAD.replace("EDGES = [-1000.0, 0.0, 1000.0]",
                                                                          "EDGES = [0.0, 1.0]"))),
    ("too_many_choices", "bad-choices", _prog(_OK_BODY, _HEAD.replace('CHOICES = ["low", "high"]',
                                                                    "CHOICES = " + repr([str(i) for i in range(11)])))),
    ("observed_not_argument", "bad-metadata", _prog(_OK_BODY, _HEAD.replace('OBSERVED = ["x"]', 'OBSERVED = ["y"]'))),
    ("syntax_error", "syntax-error", _prog(_OK_BODY) + "def (:\n"),
    ("builtins_dunder", "dunder", _prog("b = __builtins__\n" + _OK_BODY)),
    # needs the subprocess:
    ("memory_bomb", "memory-limit", _prog("big = jnp.ones((100000, 100000))\n" + _OK_BODY)),
    ("nan_distribution", "runtime-error", _prog(_OK_BODY.replace('dist.Normal(mu, 1.0)', 'dist.Normal(mu, -1.0)'))),
    ("vector_answer", "bad-answer", _prog(_OK_BODY.replace('numpyro.deterministic("answer", mu)',
                                                           'numpyro.deterministic("answer", jnp.ones(3) * mu)'))),
    ("no_answer", "no-answer-site", _prog(_OK_BODY.replace('numpyro.deterministic("answer", mu)', "pass"))),
    ("runtime_type_error", "runtime-error", _prog('y = dist.Normal(0.0, 1.0) + 1\n' + _OK_BODY)),
    ("nan_answer", "bad-answer", _prog(_OK_BODY.replace('"answer", mu)', '"answer", jnp.log(-1.0 - mu * mu))'))),
)

RUNTIME = frozenset({"memory_bomb", "nan_distribution", "vector_answer", "no_answer", "runtime_type_error",
                     "nan_answer"})
VALID_EXAMPLE = _prog(_OK_BODY)
