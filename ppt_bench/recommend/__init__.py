"""Bayesian-teaching recommendation environment (Qiu et al., Nature Communications 2026).

Domains (flight with 2..8 features, hotel, shopping), the Bayesian / Oracle / Random / heuristic
assistants, the 5-round evaluation protocol, the official-data loader, and dialogue rendering for
Bayesian and Oracle teaching. Pure functions and frozen records; nothing runs at import.
"""

from ppt_bench.recommend._domain import (
    Domain,
    Feature,
    choice_probs,
    sample_choices,
    utilities,
    weight_hypotheses,
)
from ppt_bench.recommend._posterior import (
    choice_likelihoods,
    feature_marginals,
    option_likelihoods,
    posteriors_by_round,
    predictive,
)
from ppt_bench.recommend._protocol import (
    Interactions,
    accuracy_curve,
    agreement_curve,
    online_accuracy,
    online_view,
    simulate,
)
from ppt_bench.recommend._render import parse_option, parse_options, render_option, render_options
from ppt_bench.recommend.assistants import (
    BayesianAssistant,
    HeuristicAssistant,
    OracleAssistant,
    RandomAssistant,
    default_assistants,
    first_argmax,
)
from ppt_bench.recommend.dialogues import (
    answer_text,
    dialogue_messages,
    parse_answer,
    posterior_after,
    predictive_after,
    round_predictives,
    teaching_records,
)
from ppt_bench.recommend.domains import flight_domain, get_domain, hotel_domain, shopping_domain

__all__ = [
    "Domain", "Feature", "choice_probs", "sample_choices", "utilities", "weight_hypotheses",
    "choice_likelihoods", "feature_marginals", "option_likelihoods", "posteriors_by_round",
    "predictive", "Interactions", "accuracy_curve", "agreement_curve", "online_accuracy",
    "online_view", "simulate", "parse_option", "parse_options", "render_option", "render_options",
    "BayesianAssistant", "HeuristicAssistant", "OracleAssistant", "RandomAssistant",
    "default_assistants", "first_argmax", "answer_text", "dialogue_messages", "parse_answer",
    "posterior_after", "predictive_after", "round_predictives", "teaching_records",
    "flight_domain", "get_domain", "hotel_domain", "shopping_domain",
]
