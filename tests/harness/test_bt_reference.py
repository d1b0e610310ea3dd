"""Exact reference curves: the same protocol as the tasks' documents, on the whole population."""

from collections import defaultdict

import numpy as np
import pytest


def test_generated_reference_is_assistant_curve_on_the_paper_population():
    from ppt_bench.harness.bt_documents import EVAL_SEED
    from ppt_bench.harness.bt_reference import reference_curves
    from ppt_bench.recommend.curves import curve_report

    reference = reference_curves("bt_flight")
    report = curve_report("flight", seed=EVAL_SEED)
    assert reference.bayesian == pytest.approx(report["bayesian"], abs=1e-6)
    assert reference.bayesian[0] == pytest.approx(0.41, abs=0.01)
    assert reference.bayesian[-1] == pytest.approx(0.80, abs=0.01)
    assert reference.random == pytest.approx([1 / 3] * 6)
    assert reference.population == "624 users x 100 held-out sets"


@pytest.mark.parametrize("task", ["bt_flight_human", "bt_webshop_official"])
def test_next_round_reference_equals_the_documents_assistant_accuracy(task, data_root):
    """These fixed data sets are built whole, so their documents are the population: the mean of
    the documents' `ba_correct` per round must equal the reference curve exactly."""
    from ppt_bench.harness.bt_reference import reference_curves
    from ppt_bench.harness.bt_tasks import official_documents

    by_round = defaultdict(list)
    for doc in official_documents(task, "quick", data_root):
        by_round[doc["round"]].append(doc["ba_correct"])
    documents_curve = [np.mean(by_round[r]) for r in sorted(by_round)]
    assert reference_curves(task, data_root).bayesian == pytest.approx(documents_curve, abs=1e-12)
