"""LLM-authored programs: prompt an author with motif examples, validate, run in the sandbox, and turn
accepted programs into scenarios. An author is any callable `(prompt, seed) -> text`.

Request `index` of a run with `seed` uses prompt `author_prompt(index)` and seed `request_seed(seed,
index)`, for the author and for the sandbox run, so a request's result does not depend on the others
and a shard (`indices`, the requests index % n == i) asks exactly what the unsharded run asks.

Each reply goes through `scenario_from_reply`, whose every step is bounded (`limits`), and a batch
(`author_scenarios`) counts each failure under a reason instead of stopping: `Rejected` reasons,
`author-error:<Type>` when the author itself fails, `internal-error:<Type>` for anything else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ppt_bench.programs.sandbox.limits import MAX_RENDERED_STORY_CHARS, MAX_REPLY_CHARS, Rejected
from ppt_bench.programs.sandbox.template import render_template
from ppt_bench.programs.sandbox.validate import validate_source

Author = Callable[[str, int], str]

EXAMPLE = '''STORY = "Ada took {shots} free throws... she made {made} of 12."
QUESTION = "What is Ada's true free-throw success rate?"
CHOICES = ["below 25%", "25% to 50%", "50% to 75%", "above 75%"]
EDGES = [0.0, 0.25, 0.5, 0.75, 1.0]
OBSERVED = ["made"]

def model(made=None):
    rate = numpyro.sample("rate", dist.Beta(2.0, 2.0))
    numpyro.sample("made", dist.Binomial(12, rate), obs=made)
    numpyro.deterministic("answer", rate)
'''.replace("{shots} free throws... she made ", "12 free throws and made ")

PROMPT = """Write a new everyday scenario as a small numpyro probabilistic program, in exactly this format
(only numpyro.sample/deterministic/plate, dist.*, jnp.* and arithmetic; no imports; STORY shows the
observed values through {{placeholders}}; `answer` is the quantity asked about, binned by EDGES).

Example:
```python
{example}```

Topic idea: {topic}. Reply with one ```python block only.
"""

TOPICS = ("cooking times", "sports scores", "weather", "commuting", "gardening", "online shopping",
          "wildlife counts", "exam results", "factory quality", "music practice")


def request_seed(seed: int, index: int) -> int:
    return seed * 100_003 + index


def author_prompt(index: int) -> str:
    return PROMPT.format(example=EXAMPLE, topic=TOPICS[index % len(TOPICS)])


FENCE = "```"


def extract_code(text: str) -> str:
    """The first fenced code block marked ```` ```python ```` or unmarked, else the whole reply.

    Linear in the reply (str.find only); a reply longer than MAX_REPLY_CHARS is rejected unread.
    """
    if type(text) is not str:
        raise Rejected("bad-reply", f"the author returned {type(text).__name__}, not text")
    if len(text) > MAX_REPLY_CHARS:
        raise Rejected("too-long", f"reply of {len(text)} characters (max {MAX_REPLY_CHARS})")
    start = text.find(FENCE)
    while start != -1:
        line_end = text.find("\n", start)
        end = text.find(FENCE, line_end + 1) if line_end != -1 else -1
        if end == -1:
            break
        if text[start + len(FENCE):line_end].strip() in ("", "python"):
            return text[line_end + 1:end]
        start = text.find(FENCE, end + len(FENCE))  # skip the whole block in another language
    return text


@dataclass(frozen=True)
class AuthoringReport:
    requested: int
    accepted: int
    rejections: dict

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.requested if self.requested else 0.0

    def summary(self) -> str:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejections.items())) or "none"
        return (f"accepted {self.accepted}/{self.requested} programs ({100 * self.acceptance_rate:.0f}%); "
                f"rejections: {reasons}")


def scenario_from_source(source: str, seed: int, scenario_id: str, author: str = ""):
    """Validate, run in the sandbox, and build a Scenario (raises Rejected)."""
    from ppt_bench.programs._motif import LABELS, Choices, options_text
    from ppt_bench.programs.sandbox.runner import run_in_sandbox
    from ppt_bench.programs.scenario import INSTRUCTION, Scenario

    spec = validate_source(source)
    result = run_in_sandbox(spec, seed)
    choices = Choices(spec.choices, spec.edges)
    shown = {name: _show(value) for name, value in result.observations.items()}
    try:
        story = render_template(spec.story_parts, shown, MAX_RENDERED_STORY_CHARS)
    except Rejected as rejection:
        rejection.usage = result.usage
        raise
    soft = np.asarray(result.soft_label, dtype=np.float64)
    return Scenario(
        id=scenario_id, motif="authored", split="train", skin=author or "authored",
        prompt=f"{story}\n{spec.question}\n{options_text(choices)}\n{INSTRUCTION}", choices=spec.choices,
        labels=LABELS[: len(spec.choices)], soft_label=tuple(float(p) for p in soft / soft.sum()),
        outcome=int(choices.index_of(result.answer)),
        program={"source": source, "observations": result.observations, "ess": result.ess},
        seed=int(seed), query_value=float(result.answer))


def scenario_from_reply(reply: str, seed: int, scenario_id: str, author: str = ""):
    """`scenario_from_source` of the reply's code block (raises Rejected)."""
    return scenario_from_source(extract_code(reply), seed, scenario_id, author)


def _show(value) -> str:
    """An observation as the story shows it (values are checked numbers or shallow lists of them)."""
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def author_scenarios(author: Author, n: int, seed: int = 0, *, name: str = "author", progress: bool = False,
                     indices: Sequence[int] | None = None):
    """Ask `author` for programs 0..n-1 (or only `indices` of them); return (accepted scenarios,
    AuthoringReport)."""
    from tqdm import tqdm

    indices = range(n) if indices is None else indices
    accepted, reasons = [], Counter()
    for index in tqdm(indices, desc="programs", disable=not progress):
        try:
            text = author(author_prompt(index), request_seed(seed, index))
        except Rejected as rejection:  # e.g. a reply over the size limit
            reasons[rejection.reason] += 1
            continue
        except Exception as error:  # an author failing is counted, not fatal
            reasons[f"author-error:{type(error).__name__}"] += 1
            continue
        try:
            accepted.append(scenario_from_reply(text, request_seed(seed, index),
                                                f"authored-{seed}-{index:05d}", name))
        except Rejected as rejection:
            reasons[rejection.reason] += 1
        except Exception as error:  # a bug must not end the batch either; it is counted and named
            reasons[f"internal-error:{type(error).__name__}"] += 1
    return accepted, AuthoringReport(len(indices), len(accepted), dict(reasons))
