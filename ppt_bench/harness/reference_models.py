"""Reference models registered as lm-eval backends (importing this module registers them).

- `ppt-bayes`: answers every multiple-choice item with its soft label q (the exact posterior, the
  Bayesian Assistant's predictive, or the human histogram): log-likelihood of choice k = log q_k.
  Its kl is 0 (up to 1e-9) and its mode_agree 1 by construction; on the Bayesian-teaching tasks its
  accuracy is the Bayesian Assistant's (tied options: the first, as the assistant does).
- `ppt-uniform`: equal log-likelihood for every choice (p = 1/K; ties go to the first choice).

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


class _ChoiceOnly(LM):
    """Scores multiple-choice requests only; generation and rolling log-likelihood are refused."""

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
        raise PPTBenchError(f"{type(self).__name__} scores multiple-choice tasks only")


@register_model("ppt-bayes")
class BayesReference(_ChoiceOnly):
    """log p(choice k) = log q_k, with q the document's soft label."""

    def choice_loglikelihood(self, doc: dict, index: int) -> float:
        soft_label = doc.get("soft_label")
        if soft_label is None:
            raise PPTBenchError("ppt-bayes needs documents with a `soft_label` field; this task has none")
        # The Bayesian Assistant picks the first of tied options: a 1e-9 nudge per index makes the
        # model's argmax do the same (kl stays ~1e-9).
        return math.log(max(float(soft_label[index]), FLOOR)) - TIE_NUDGE * index


@register_model("ppt-uniform")
class UniformReference(_ChoiceOnly):
    """The same log-likelihood for every choice: p = 1/K."""

    def choice_loglikelihood(self, doc: dict, index: int) -> float:
        return 0.0


