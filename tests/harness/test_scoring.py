"""lm-eval glue: per-item values are `metrics.per_item`'s, aggregations are the metrics', documents
are checked."""

import numpy as np
import pytest

from ppt_bench import calibration, metrics
from ppt_bench.errors import DataError
from ppt_bench.harness import scoring


def test_item_metrics_packs_the_per_item_values():
    lls, q = np.log([0.2, 0.5, 0.3]), [0.1, 0.6, 0.3]
    values = scoring.item_metrics(lls, q, outcome=2, ordinal=True)
    p = metrics.softmax(lls)
    assert values["acc"] == 0.0 and values["nll"] == pytest.approx(-np.log(0.3))
    assert values["brier"] == pytest.approx(0.04 + 0.25 + 0.49)
    assert values["tv"] == pytest.approx(0.1) and values["kl"] == pytest.approx(metrics.kl(q, p))
    assert values["w1"] == pytest.approx(metrics.w1(q, p)) and values["mode_agree"] == 1.0
    assert values["ece"] == values["ece_em"] == [pytest.approx(0.5), 0.0]
    assert values["soft_ece"] == [pytest.approx(0.5), pytest.approx(0.6)]
    assert values["nll_cv"] == [2.0, *lls.tolist()]
    assert "w1" not in scoring.item_metrics(lls, q, outcome=2)
    assert set(scoring.item_metrics(lls, q)) == {"kl", "tv", "mode_agree", "soft_ece"}


def test_tied_maxima_score_their_expected_values():
    values = scoring.item_metrics(np.zeros(4), [0.1, 0.2, 0.3, 0.4], outcome=1)  # a uniform model
    assert values["acc"] == 0.25 and values["mode_agree"] == 0.25
    assert values["ece"] == [0.25, 0.25]  # perfectly calibrated: confidence 1/4, correct 1/4
    assert values["soft_ece"] == [0.25, pytest.approx(0.25)]  # mean of q over the four tied choices


def test_aggregations_are_the_metrics_functions():
    rng = np.random.default_rng(0)
    lls = [rng.normal(size=k) * 2 for k in rng.integers(2, 6, 60)]
    outcomes = [int(rng.integers(0, len(row))) for row in lls]
    items = [scoring.item_metrics(row, outcome=y) for row, y in zip(lls, outcomes, strict=True)]
    probs = [metrics.softmax(row) for row in lls]
    values = calibration.item_values(probs, outcomes)
    assert scoring.agg_ece([i["ece"] for i in items]) == pytest.approx(calibration.aggregate(values)["ece"])
    assert scoring.agg_ece_em([i["ece_em"] for i in items]) == pytest.approx(calibration.aggregate(values)["ece_em"])
    cross_fitted, _ = calibration.cross_fit(lls, outcomes, n_folds=scoring.N_FOLDS)
    expected = np.mean([metrics.nll(p, y) for p, y in zip(cross_fitted, outcomes, strict=True)])
    assert scoring.agg_nll_cv([i["nll_cv"] for i in items]) == pytest.approx(expected)


def test_documents_with_a_soft_label_that_is_not_a_distribution_are_refused():
    good = {"id": "a", "labels": ["A", "B"], "soft_label": [0.25, 0.75], "outcome": 1}
    assert len(scoring.lm_eval_dataset([good])["test"]) == 1
    with pytest.raises(DataError, match="document b: soft label is not a distribution"):
        scoring.lm_eval_dataset([good, {**good, "id": "b", "soft_label": [0.5, 0.6]}])
    with pytest.raises(DataError, match="document c: soft label has shape"):
        scoring.lm_eval_dataset([{**good, "id": "c", "soft_label": [1.0]}])
