"""The official Bayesian-teaching files (Qiu et al. 2026) through the loader, and the paper's curve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ppt_bench.errors import DataError
from ppt_bench.recommend import BayesianAssistant, accuracy_curve, render_options
from ppt_bench.recommend.official import load_all, load_weight_records, parse_product


@pytest.fixture(scope="module")
def loaded(bayesian_teaching_dir):
    return load_all(bayesian_teaching_dir)


def test_loader_reads_every_file(loaded, bayesian_teaching_dir):
    interaction = bayesian_teaching_dir / "eval" / "interaction"
    expected = {p.stem for p in interaction.glob("*.jsonl")}
    expected |= {f"webshop/{p.stem}" for p in (interaction / "webshop").glob("*.jsonl")}
    assert set(loaded) == expected
    assert loaded["flight"].n_users == 194 and loaded["flight"].heldout_choices.shape == (194, 100)
    assert loaded["flight_human"].n_users == 156
    for name, batch in loaded.items():
        assert batch.n_rounds == 5 and batch.features.shape[-2] == 3, name


def test_flight_records_round_trip_and_match_published_choices(loaded, bayesian_teaching_dir):
    flight = loaded["flight"]
    first = json.loads((bayesian_teaching_dir / "eval" / "interaction" / "flight.jsonl")
                       .open().readline())
    assert render_options(flight.domain, flight.options[0, 0]).splitlines() == \
        first["rounds"][0]["options"]
    # Simulated users: every published choice is their (unique) argmax.
    weights = flight.domain.hypotheses[flight.user_types]
    utility = np.einsum("urkd,ud->urk", flight.features, weights)
    assert np.array_equal(utility.argmax(axis=-1), flight.choices)


def test_official_flight_curve(loaded):
    flight = loaded["flight"]
    curve = accuracy_curve(BayesianAssistant().recommend(flight), flight.heldout_choices)
    # Paper: 58% after round 1 and 81% after round 5; this subset (194 users) gives about 57.5 / 81.9.
    assert 0.56 <= curve[1] <= 0.59
    assert 0.80 <= curve[5] <= 0.83
    assert np.all(np.diff(curve) > 0)


def test_human_participants(loaded):
    human = loaded["flight_human"]
    assert human.source == "official:flight_human"
    weights = np.array(human.domain.hypotheses[np.maximum(human.user_types, 0)])
    agree = (np.einsum("urkd,ud->urk", human.features, weights).argmax(-1) == human.choices).mean()
    assert 0.55 < agree < 0.7                       # README: 62.7% follow their stated weights
    curve = accuracy_curve(BayesianAssistant(temperature=0.1).recommend(human),
                           human.heldout_choices)
    assert curve[5] > curve[0]


def test_webshop_products(loaded):
    title, attributes = parse_product("Product 1: Levi's 501\nColor: black\nSize: 32w x 30l\n: x")
    assert title == "Levi's 501" and attributes == {"color": "black", "size": "32w x 30l", "": "x"}
    for name in ("webshop/mens_jeans", "webshop/womens_dresses", "webshop/coffee_tables"):
        batch = loaded[name]
        assert batch.n_users == 10
        assert batch.domain.n_hypotheses > 100
        assert np.all(batch.user_types == -1)


def test_missing_files_are_data_errors(tmp_path):
    with pytest.raises(DataError):
        load_all(tmp_path)
    (tmp_path / "eval" / "interaction").mkdir(parents=True)
    (tmp_path / "eval" / "interaction" / "flight.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match="flight.jsonl: line 1: invalid JSON"):
        load_weight_records(tmp_path, "flight")


def test_webshop_heldout_file_is_used_when_present(tmp_path):
    from ppt_bench.recommend.curves import curve_report

    def product(number, color, size):
        return f"Product {number}: Some jeans\nColor: {color}\nSize: {size}"

    def option_set(colors, sizes, choice):
        return {"options": [product(k + 1, c, s) for k, (c, s) in enumerate(zip(colors, sizes, strict=True))],
                "user_idx": choice, "score": [float(k == choice) for k in range(3)]}

    # The user wants blue: the blue product is chosen every time.
    rounds = [option_set(["blue", "red", "black"], ["30", "32", "34"], 0),
              option_set(["red", "blue", "black"], ["32", "30", "34"], 1)] * 2 + \
             [option_set(["black", "red", "blue"], ["34", "32", "30"], 2)]
    heldout = [option_set(["red", "black", "blue"], ["34", "32", "30"], 2),
               option_set(["blue", "black", "red"], ["32", "34", "30"], 0)]
    interaction = tmp_path / "eval" / "interaction" / "webshop"
    heldout_dir = tmp_path / "eval" / "heldout" / "webshop"
    interaction.mkdir(parents=True)
    heldout_dir.mkdir(parents=True)
    record = {"idx": 0, "goal_attrs": [], "goal_options": {"color": "blue"}, "rounds": rounds}
    (interaction / "jeans.jsonl").write_text(json.dumps(record) + "\n")
    (heldout_dir / "jeans.jsonl").write_text(json.dumps({"idx": 0, "all_options": heldout}) + "\n")
    batch = load_all(tmp_path)["webshop/jeans"]
    assert batch.heldout_features.shape[:3] == (1, 2, 3)
    report = curve_report("shopping", tmp_path)
    assert report["config"]["protocol"] == "heldout" and len(report["bayesian"]) == 6
    assert report["bayesian"][5] == 1.0


@pytest.fixture
def flight_copy(bayesian_teaching_dir, tmp_path):
    """The official flight files copied to a folder of their own, to be damaged by a test."""
    import shutil

    for part in ("interaction/flight.jsonl", "heldout/flight.json"):
        (tmp_path / "eval" / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(bayesian_teaching_dir / "eval" / part, tmp_path / "eval" / part)
    return tmp_path


def _edit_heldout(folder, edit) -> None:
    path = folder / "eval" / "heldout" / "flight.json"
    heldout = json.loads(path.read_text())
    edit(heldout)
    path.write_text(json.dumps(heldout))


def test_heldout_file_missing_a_user_is_refused(flight_copy):
    _edit_heldout(flight_copy, lambda heldout: heldout["user_idxs"].pop())
    with pytest.raises(DataError, match=r"flight\.json: user_idxs has 193 users, expected 194"):
        load_weight_records(flight_copy, "flight")


def test_short_idxs_names_the_file_and_user(flight_copy):
    _edit_heldout(flight_copy, lambda heldout: heldout["user_idxs"][7]["idxs"].pop())
    with pytest.raises(DataError, match=r"flight\.json: user index 7: idxs has 99 entries, expected 100"):
        load_weight_records(flight_copy, "flight")


def test_other_users_weights_are_refused(flight_copy):
    def swap(heldout):
        heldout["user_idxs"][3]["reward_fn"] = heldout["user_idxs"][3]["reward_fn"][:2]
    _edit_heldout(flight_copy, swap)
    with pytest.raises(DataError, match=r"flight\.json: user index 3: reward_fn .* differs"):
        load_weight_records(flight_copy, "flight")


def test_ragged_rounds_name_the_user(flight_copy):
    path = flight_copy / "eval" / "interaction" / "flight.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[11]["rounds"].pop()
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(DataError, match=r"flight\.jsonl: user index 11: rounds has 4 entries, expected 5"):
        load_weight_records(flight_copy, "flight")
