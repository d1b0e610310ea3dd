"""Exact soft labels must be calibrated against the outcomes the programs drew.

If inference were wrong (soft labels not the posterior) or outcome sampling were wrong (the outcome not
drawn jointly with the observations), top-label ECE would exceed 0.03 and/or the log score would not
beat uniform; the perturbation tests show the check has that power.
"""

import numpy as np
import pytest

from ppt_bench.programs import MOTIFS
from tests.programs._calibration import log_score_z, mean_log_score_gain, self_consistency, top_label_ece

ECE_MAX = 0.03
N_FULL = 4000  # >= 2000; at 2000 the ECE's own sampling noise is ~0.02-0.03


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MOTIFS))
def test_exact_soft_labels_are_calibrated(name):
    soft, outcomes = self_consistency(MOTIFS[name], N_FULL)
    assert top_label_ece(soft, outcomes) <= ECE_MAX
    assert mean_log_score_gain(soft, outcomes) > 0
    assert abs(log_score_z(soft, outcomes)) < 4


@pytest.fixture(scope="module")
def sample():
    return self_consistency(MOTIFS["rate_from_counts"], 800, seed=1)


def test_calibrated_on_a_sample(sample):
    soft, outcomes = sample
    assert abs(log_score_z(soft, outcomes)) < 3.5
    assert top_label_ece(soft, outcomes) <= 0.08  # 800 items: ECE's sampling noise alone is ~0.04
    assert mean_log_score_gain(soft, outcomes) > 0


def test_check_fails_when_inference_is_wrong(sample):
    soft, outcomes = sample
    sharpened = [q ** 3 / (q ** 3).sum() for q in soft]  # overconfident "posterior"
    shifted = [np.roll(q, 1) for q in soft]  # posterior of the wrong bin
    tempered = [np.sqrt(q) / np.sqrt(q).sum() for q in soft]  # underconfident "posterior"
    assert top_label_ece(sharpened, outcomes) > ECE_MAX and abs(log_score_z(sharpened, outcomes)) > 3.5
    assert abs(log_score_z(tempered, outcomes)) > 3.5
    assert top_label_ece(shifted, outcomes) > ECE_MAX and mean_log_score_gain(shifted, outcomes) < 0


def test_check_fails_when_outcomes_are_not_from_the_program(sample):
    soft, outcomes = sample
    other = np.random.default_rng(0).permutation(outcomes)  # outcomes drawn independently of the data
    assert top_label_ece(soft, other) > ECE_MAX and abs(log_score_z(soft, other)) > 3.5
    assert mean_log_score_gain(soft, other) < mean_log_score_gain(soft, outcomes)
