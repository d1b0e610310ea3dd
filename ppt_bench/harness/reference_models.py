"""Reference models registered as lm-eval backends (importing this module registers them).

- `ppt-bayes`: answers every multiple-choice item with its soft label q (the exact posterior, the
  Bayesian Assistant's predictive, or the human histogram): log-likelihood of choice k = log q_k.
  Its kl is 0 (up to 1e-9) and its mode_agree 1 by construction; on the Bayesian-teaching tasks its
  accuracy is the Bayesian Assistant's (tied options: the first, as the assistant does).
- `ppt-uniform`: equal log-likelihood for every choice (p = 1/K; ties go to the first choice).

On a generation task (`generate_until`) each answers with the text its document names for it,
`doc["reference_answers"][<backend name>]`, a principled reference the task defines (for
`openestimate_prior`: the five-sample statistical baseline and the uninformative prior, see
`prior_tasks.py`); a generation task whose documents name none is refused with a clear error.

Both read only the document lm-eval attaches to each request, never the text, and make no forward
pass. `import lm_eval.models` runs first so registering does not hide lm-eval's own backends.
"""

from __future__ import annotations

import abc
import math

import lm_eval.models  # noqa: F401  (must run before register_model, see design.md)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from ppt_bench.errors import PPTBenchError

FLOOR = 1e-30  # log-probability floor for choices the soft label rules out
TIE_NUDGE = 1e-9


class _Reference(LM):
    """Scores multiple-choice requests from the document and generates its reference answers;
    rolling log-likelihood is refused."""

    name: str = ""  # the registered backend name, the key of `reference_answers`

    def __init__(self, **kwargs) -> None:
        super().__init__()

    @abc.abstractmethod
    def choice_loglikelihood(self, doc: dict, index: int) -> float:
        """Log-likelihood of choice `index` of `doc`."""

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        return [(self.choice_loglikelihood(request.doc, request.idx), False) for request in requests]

    def loglikelihood_rolling(self, requests) -> list[float]:
        raise PPTBenchError(f"{type(self).__name__} scores multiple-choice tasks only")

    def generate_until(self, requests) -> list[str]:
        answers = []
        for request in requests:
            answer = (request.doc.get("reference_answers") or {}).get(self.name)
            if answer is None:
                raise PPTBenchError(f"{self.name} has no reference answer for this generation task "
                                    "(its documents carry no `reference_answers`); leave it out of the run")
            answers.append(str(answer))
        return answers


@register_model("ppt-bayes")
class BayesReference(_Reference):
    """log p(choice k) = log q_k, with q the document's soft label."""

    name = "ppt-bayes"

    def choice_loglikelihood(self, doc: dict, index: int) -> float:
        soft_label = doc.get("soft_label")
        if soft_label is None:
            raise PPTBenchError("ppt-bayes needs documents with a `soft_label` field; this task has none")
        # The Bayesian Assistant picks the first of tied options: a 1e-9 nudge per index makes the
        # model's argmax do the same (kl stays ~1e-9).
        return math.log(max(float(soft_label[index]), FLOOR)) - TIE_NUDGE * index


@register_model("ppt-uniform")
class UniformReference(_Reference):
    """The same log-likelihood for every choice: p = 1/K."""

    name = "ppt-uniform"

    def choice_loglikelihood(self, doc: dict, index: int) -> float:
        return 0.0


