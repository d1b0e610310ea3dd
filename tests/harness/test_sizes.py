"""The suites' sizes follow the rule of tasks/suites/README.md: counts of documents, not timings."""

from collections import Counter

import pytest

from ppt_bench.harness.sizes import MIN_CALIB, MIN_PER_MOTIF, MIN_PER_ROUND, half_width


def test_half_width_of_the_rule():
    assert half_width(MIN_PER_ROUND) <= 0.07 < half_width(MIN_PER_ROUND - 5)
    assert half_width(MIN_PER_MOTIF) == pytest.approx(0.098, abs=1e-3)


@pytest.mark.parametrize("task", ["bt_flight", "bt_hotel", "bt_shopping"])
def test_quick_bt_tasks_have_200_documents_per_round_and_300_calibration_items(task):
    from ppt_bench.harness.bt_tasks import generated_documents

    per_round = Counter(doc["round"] for doc in generated_documents(task, "quick"))
    assert sorted(per_round) == list(range(6))
    assert min(per_round.values()) >= MIN_PER_ROUND, per_round
    assert len(generated_documents(f"{task}_calib", "quick")) >= MIN_CALIB


def test_quick_bt_documents_share_conversations():
    """Many held-out sets per (user, round): 20 users x 10 sets, not 200 users x 1 set."""
    from ppt_bench.harness.bt_tasks import generated_documents

    docs = generated_documents("bt_flight", "quick")
    conversations = Counter((doc["user"], doc["round"]) for doc in docs)
    assert len({user for user, _ in conversations}) == 20 and set(conversations.values()) == {10}


def test_quick_official_flight_has_200_documents_per_round(data_root):
    from ppt_bench.harness.bt_tasks import official_documents

    docs = official_documents("bt_flight_official", "quick", data_root)
    per_round = Counter(doc["round"] for doc in docs)
    assert min(per_round.values()) >= MIN_PER_ROUND, per_round


def test_fixed_bt_data_keep_their_natural_size(data_root):
    from ppt_bench.harness.bt_tasks import official_documents

    human = official_documents("bt_flight_human", "quick", data_root)
    assert len({doc["user"] for doc in human}) == len(
        {doc["user"] for doc in official_documents("bt_flight_human", "full", data_root)}) > 100


def test_quick_heldout_motifs_have_100_documents_each():
    from ppt_bench.harness.ppt_tasks import ppt_documents, scenario_count
    from ppt_bench.programs.motifs import motifs_for_split

    per_motif = Counter(doc["motif"] for doc in ppt_documents("ppt_motifs_heldout", "quick"))
    assert set(per_motif) == {motif.name for motif in motifs_for_split("heldout")}
    assert min(per_motif.values()) >= MIN_PER_MOTIF, per_motif
    assert scenario_count("ppt_motifs_train", "quick") >= MIN_PER_MOTIF * len(motifs_for_split("train"))
    for twin in ("ppt_motifs_heldout_calib", "ppt_motifs_train_calib"):
        assert scenario_count(twin, "quick") >= MIN_CALIB


def test_default_size_is_full_not_paper_and_the_loader_says_how_many(capsys):
    from ppt_bench.harness import bt_documents, bt_tasks

    users, heldout = bt_documents.SIZES["full"]
    assert (users, heldout) != bt_documents.SIZES["paper"] and users is not None
    dataset = bt_tasks.load("bt_hotel_calib")  # no size metadata
    expected = bt_tasks.CALIB_SIZES["full"][0] * 6 * bt_tasks.CALIB_SIZES["full"][1]
    assert len(dataset["test"]) == expected
    assert f"bt_hotel_calib size=full: {expected:,} documents" in capsys.readouterr().err


def test_unknown_size_is_a_clear_error():
    from ppt_bench.harness.bt_tasks import generated_documents

    with pytest.raises(ValueError, match="size must be one of"):
        generated_documents("bt_flight", "huge")
