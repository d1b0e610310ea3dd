"""Adversarial programs the sandbox must reject, each with the reason it must give.

`ADVERSARIAL` is a tuple of (name, expected reason, source) for `scenario_from_source`. Most are
stopped by the static checks; the rest (`RUNTIME`) need the subprocess (memory, NaN, wrong shapes, a
story too long once rendered) and are stopped there. The parent-side classes (templates that would
allocate, parser and range failures that used to escape as other exceptions, metadata of the wrong
type or size, assignment to module attributes) are among the static ones. `REPLIES` are whole author
replies for `scenario_from_reply` (size, fences, non-text); `CHILD_RESULTS` are result lines a
compromised child could print, for `result.parse_child_result`; `CHILD_PROCESSES` are plain Python
children (what an escaped program could do to the pipes) for `runner.exchange`.
`python -m ppt_bench.programs.sandbox.audit` runs them all and measures the parent's memory.
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


def _meta(old: str, new: str) -> str:
    """The valid example with one metadata line (or part of one) replaced."""
    assert old in _HEAD, old
    return _prog(_OK_BODY, _HEAD.replace(old, new, 1))


def _story(story: str) -> str:
    return _meta('STORY = "Saw {x}."', f"STORY = {story!r}")


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
    ("format_escape", "bad-template", _prog(_OK_BODY, _HEAD.replace("Saw {x}.", "Saw {x.real}."))),
    ("top_level_call", "bad-format", _prog(_OK_BODY) + "model()\n"),
    ("no_model", "bad-format", _HEAD),
    ("choices_edges_mismatch", "bad-choices", _prog(_OK_BODY, _HEAD.replace("EDGES = [-1000.0, 0.0, 1000.0]",
                                                                          "EDGES = [0.0, 1.0]"))),
    ("too_many_choices", "bad-choices", _prog(_OK_BODY, _HEAD.replace('CHOICES = ["low", "high"]',
                                                                    "CHOICES = " + repr([str(i) for i in range(11)])))),
    ("observed_not_argument", "bad-metadata", _prog(_OK_BODY, _HEAD.replace('OBSERVED = ["x"]', 'OBSERVED = ["y"]'))),
    ("syntax_error", "syntax-error", _prog(_OK_BODY) + "def (:\n"),
    ("builtins_dunder", "dunder", _prog("b = __builtins__\n" + _OK_BODY)),
    # the parent's own process: templating that allocates or fails at format time
    ("format_width", "bad-template", _story("Saw {x:>999999999}.")),
    ("format_conversion", "bad-template", _story("Saw {x!z}.")),
    ("format_nested", "bad-template", _story("Saw {x:{x}}.")),
    ("format_index", "bad-template", _story("Saw {x[0]}.")),
    ("lone_brace", "bad-template", _story("Saw x}.")),
    ("too_many_placeholders", "bad-template", _story("{x} " * 21)),
    # parsing and checks that raised other exceptions
    ("range_overflow", "unbounded-loop", _prog("for i in range(10000000000000000000000):\n    pass\n" + _OK_BODY)),
    ("range_zero_step", "unbounded-loop", _prog("for i in range(0, 5, 0):\n    pass\n" + _OK_BODY)),
    ("range_keyword", "unbounded-loop", _prog("for i in range(stop=5):\n    pass\n" + _OK_BODY)),
    ("range_bool", "unbounded-loop", _prog("for i in range(True):\n    pass\n" + _OK_BODY)),
    ("deep_unary", "too-deep", _prog("y = " + "-" * 15_000 + "1\n" + _OK_BODY)),
    ("deep_sum", "too-deep", _prog("y = " + "1 + " * 4_000 + "1\n" + _OK_BODY)),
    ("deep_sum_parses", "too-deep", _prog("y = " + "1 + " * 60 + "1\n" + _OK_BODY)),
    ("deep_metadata", "too-deep", _HEAD.replace("EDGES = [-1000.0, 0.0, 1000.0]", "EDGES = " + "[" * 90 + "]" * 90)
     + _prog(_OK_BODY)[len(_HEAD):]),
    ("too_long_source", "too-long", _prog(_OK_BODY) + "#" * 20_000 + "\n"),
    ("lone_surrogate_source", "bad-encoding", _prog(_OK_BODY) + "# \ud800\n"),
    ("surrogate_escape_story", "bad-metadata", _story("Saw {x} \ud800.")),  # no UTF-8 for it
    ("null_byte", "syntax-error", _prog(_OK_BODY) + "\x00"),
    # metadata of the wrong type or size
    ("bool_edges", "bad-choices", _meta("EDGES = [-1000.0, 0.0, 1000.0]", "EDGES = [False, True, 2]")),
    ("string_edges", "bad-choices", _meta("EDGES = [-1000.0, 0.0, 1000.0]", 'EDGES = ["a", "b", "c"]')),
    ("decreasing_edges", "bad-choices", _meta("EDGES = [-1000.0, 0.0, 1000.0]", "EDGES = [1000.0, 0.0, -1000.0]")),
    ("huge_choice", "bad-metadata", _meta('"low"', repr("l" * 9_000))),
    ("empty_choice", "bad-metadata", _meta('"low"', '"  "')),
    ("bytes_choice", "bad-metadata", _meta('"low"', 'b"low"')),
    ("forged_option", "bad-metadata", _meta('"low"', '"low\\nC. the real answer"')),
    ("bidi_choice", "bad-metadata", _meta('"low"', '"low\\u202e"')),
    ("zero_width_question", "bad-metadata", _meta('QUESTION = "Which?"', 'QUESTION = "Which\\u200b?"')),
    ("duplicate_choices", "bad-choices", _meta('["low", "high"]', '["low", "low"]')),
    ("dict_choices", "bad-metadata", _meta('CHOICES = ["low", "high"]', 'CHOICES = {"low": 1, "high": 2}')),
    ("huge_story", "bad-metadata", _story("Saw {x}. " + "word " * 500)),
    ("huge_question", "bad-metadata", _meta('QUESTION = "Which?"', "QUESTION = " + repr("why " * 100))),
    ("story_not_text", "bad-metadata", _meta('STORY = "Saw {x}."', 'STORY = ["Saw {x}."]')),
    ("observed_answer", "bad-metadata", _prog(_OK_BODY, _HEAD.replace('OBSERVED = ["x"]', 'OBSERVED = ["x", "answer"]'))
     .replace("def model(x=None)", "def model(x=None, answer=None)")),
    ("duplicate_observed", "bad-metadata", _meta('OBSERVED = ["x"]', 'OBSERVED = ["x", "x"]')),
    ("assigned_twice", "bad-metadata", _meta('QUESTION = "Which?"', 'QUESTION = "Which?"\nQUESTION = "Again?"')),
    # assignment to the modules a program is given
    ("assign_module_attribute", "module-assignment", _prog("dist.Normal = dist.Cauchy\n" + _OK_BODY)),
    ("augassign_module_attribute", "module-assignment", _prog("jnp.pi += 1.0\n" + _OK_BODY)),
    ("assign_numpyro_sample", "module-assignment", _prog("numpyro.sample = numpyro.deterministic\n" + _OK_BODY)),
    ("item_assign_module", "module-assignment", _prog("jnp.pi[0] = 1.0\n" + _OK_BODY)),
    ("rebind_module", "module-assignment", _prog("dist = jnp\n" + _OK_BODY)),
    ("rebind_builtin", "module-assignment", _prog("range = jnp.arange\n" + _OK_BODY)),
    ("loop_rebinds_module", "module-assignment", _prog("for jnp in range(3):\n    pass\n" + _OK_BODY)),
    ("argument_shadows_module", "module-assignment", _prog(_OK_BODY).replace("def model(x=None)",
                                                                           "def model(x=None, dist=None)")),
    # needs the subprocess:
    ("memory_bomb", "memory-limit", _prog("big = jnp.ones((100000, 100000))\n" + _OK_BODY)),
    ("nan_distribution", "runtime-error", _prog(_OK_BODY.replace('dist.Normal(mu, 1.0)', 'dist.Normal(mu, -1.0)'))),
    ("vector_answer", "bad-answer", _prog(_OK_BODY.replace('numpyro.deterministic("answer", mu)',
                                                           'numpyro.deterministic("answer", jnp.ones(3) * mu)'))),
    ("no_answer", "no-answer-site", _prog(_OK_BODY.replace('numpyro.deterministic("answer", mu)', "pass"))),
    ("runtime_type_error", "runtime-error", _prog('y = dist.Normal(0.0, 1.0) + 1\n' + _OK_BODY)),
    ("nan_answer", "bad-answer", _prog(_OK_BODY.replace('"answer", mu)', '"answer", jnp.log(-1.0 - mu * mu))'))),
    ("rendered_story_too_long", "too-long", _prog(_OK_BODY.replace(
        'numpyro.sample("x", dist.Normal(mu, 1.0), obs=x)',
        'with numpyro.plate("n", 200):\n    numpyro.sample("x", dist.Normal(mu, 1.0), obs=x)'), _HEAD.replace(
        "Saw {x}.", "Saw {x}. " * 20))),
)

RUNTIME = frozenset({"memory_bomb", "nan_distribution", "vector_answer", "no_answer", "runtime_type_error",
                     "nan_answer", "rendered_story_too_long"})

_FENCE = "```"
REPLIES: tuple[tuple[str, str, object], ...] = (
    ("fence_backtracking", "too-long", _FENCE + "\n" * 90_000),  # quadratic for a lazy-dot regex
    ("many_fences", "import", (_FENCE + "js\n") * 3_000 + _FENCE + "python\nimport os\n" + _FENCE),
    ("huge_reply", "too-long", "x = 1\n" * 50_000),
    ("no_text", "bad-reply", None),
    ("bytes_reply", "bad-reply", b"import os"),
)

CHILD_RESULTS: tuple[tuple[str, str, bytes], ...] = (
    ("deep_json", "bad-result", b"[" * 200_000 + b"]" * 200_000),
    ("nan_soft_label", "bad-result", b'{"ok": true, "observations": {"x": 1}, "answer": 0.5, '
                                     b'"soft_label": [NaN, 1.0], "ess": 500}'),
    ("bool_answer", "bad-result", b'{"ok": true, "observations": {"x": 1}, "answer": true, '
                                  b'"soft_label": [0.5, 0.5], "ess": 500}'),
    ("huge_int", "bad-result", b'{"ok": true, "observations": {"x": 1' + b"0" * 1000 + b'}, "answer": 0.5, '
                               b'"soft_label": [0.5, 0.5], "ess": 500}'),
    ("long_soft_label", "bad-result", b'{"ok": true, "observations": {"x": 1}, "answer": 0.5, '
                                      b'"soft_label": [' + b"0.0," * 9_999 + b'1.0], "ess": 500}'),
    ("many_observations", "bad-result", b'{"ok": true, "observations": {"x": [' + b"1," * 999 + b'1]}, '
                                        b'"answer": 0.5, "soft_label": [0.5, 0.5], "ess": 500}'),
    ("deep_observation", "bad-result", b'{"ok": true, "observations": {"x": ' + b"[" * 50 + b"1" + b"]" * 50
                                       + b'}, "answer": 0.5, "soft_label": [0.5, 0.5], "ess": 500}'),
    ("unknown_site", "bad-result", b'{"ok": true, "observations": {"y": 1}, "answer": 0.5, '
                                   b'"soft_label": [0.5, 0.5], "ess": 500}'),
    ("invented_reason", "bad-result", b'{"ok": false, "reason": "accepted", "detail": ""}'),
    ("not_utf8", "bad-result", b'{"ok": false, "reason": "\xff", "detail": ""}'),
    ("not_json", "bad-result", b"pwned"),
)
VALID_EXAMPLE = _prog(_OK_BODY)

CHILD_PROCESSES: tuple[tuple[str, str, str], ...] = (
    ("stdout_flood", "output-limit", "import sys\nwhile True:\n    sys.stdout.buffer.write(b'x' * 2 ** 20)"),
    ("stderr_flood", "output-limit", "import sys\nwhile True:\n    sys.stderr.buffer.write(b'x' * 2 ** 20)"),
    ("one_huge_line", "output-limit", "import sys\nsys.stdout.buffer.write(b'[' * 2 ** 28)"),
    ("never_ends", "timeout", "import time\ntime.sleep(3600)"),
    ("grandchild_holds_pipes", "timeout",
     "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'])"),
)
