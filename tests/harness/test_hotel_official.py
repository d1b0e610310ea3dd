"""bt_hotel_official end to end on a small file in the official layout (the archive's hotel files are
not in the shared partial copy), and the one-line error when they are absent."""

import json
import shutil

import numpy as np
import pytest

from ppt_bench.cli import main

N_USERS, N_HELDOUT = 3, 4


def _write_official_copy(root, bayesian_teaching_dir, with_hotel: bool = True):
    """<root>/bayesian_teaching/eval/... : the flight files (the archive's required ones) and, with
    `with_hotel`, hotel.jsonl + heldout/hotel.json for N_USERS simulated hotel users."""
    from ppt_bench.recommend import hotel_domain, render_options, simulate

    folder = root / "bayesian_teaching" / "eval"
    for part in ("interaction/flight.jsonl", "heldout/flight.json"):
        (folder / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(bayesian_teaching_dir / "eval" / part, folder / part)
    if not with_hotel:
        return
    domain = hotel_domain()
    batch = simulate(domain, n_users=N_USERS, n_heldout=N_HELDOUT, seed=5)
    names = [feature.name for feature in domain.features]
    with (folder / "interaction" / "hotel.jsonl").open("w") as handle:
        for u in range(N_USERS):
            rounds = [{"options": render_options(domain, batch.options[u, t]).splitlines(),
                       "user_idx": int(batch.choices[u, t])} for t in range(batch.n_rounds)]
            handle.write(json.dumps({"idx": u, "reward_fn": domain.hypotheses[batch.user_types[u]].tolist(),
                                     "rounds": rounds, "features": names,
                                     "rounds_numpy": batch.features[u].tolist()}) + "\n")
    heldout = {"features": names,
               "all_options": [render_options(domain, s).splitlines() for s in batch.heldout_options],
               "user_idxs": [{"reward_fn": domain.hypotheses[batch.user_types[u]].tolist(),
                              "idxs": batch.heldout_choices[u].tolist()} for u in range(N_USERS)]}
    (folder / "heldout" / "hotel.json").write_text(json.dumps(heldout))


def test_bt_hotel_official_runs_end_to_end(tmp_path, monkeypatch, bayesian_teaching_dir, capsys):
    from ppt_bench.harness.bt_reference import reference_curves
    from ppt_bench.harness.bt_tasks import official_documents

    _write_official_copy(tmp_path / "data", bayesian_teaching_dir)
    monkeypatch.setenv("PPT_BENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PPT_BENCH_OFFLINE", "1")
    out = tmp_path / "runs" / "ppt-bayes"
    assert main(["eval", "--model", "ppt-bayes", "--tasks", "bt_hotel_official", "--size", "quick",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "bt_hotel_official" / "results.json").read_text())["results"]["bt_hotel_official"]
    docs = official_documents("bt_hotel_official", "quick")
    assert len(docs) == N_USERS * 6 * N_HELDOUT
    assert {doc["domain"] for doc in docs} == {"hotel"} and "Hotel 1: distance to downtown" in docs[0]["question"]
    reference = reference_curves("bt_hotel_official", str(tmp_path / "data"))
    assert reference.population == f"{N_USERS} users x {N_HELDOUT} held-out sets"
    for r in range(6):  # ppt-bayes is the Bayesian Assistant; the documents are the whole population
        assert metrics[f"acc_r{r},none"] == pytest.approx(reference.bayesian[r], abs=1e-12)
        assert metrics[f"agree_r{r},none"] == 1.0
    assert reference.bayesian[5] >= reference.bayesian[0] and np.isclose(reference.random[0], 1 / 3)


def test_bt_hotel_official_without_the_hotel_files_is_a_one_line_error(tmp_path, monkeypatch,
                                                                       bayesian_teaching_dir, capsys):
    _write_official_copy(tmp_path / "data", bayesian_teaching_dir, with_hotel=False)
    monkeypatch.setenv("PPT_BENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PPT_BENCH_OFFLINE", "1")
    assert main(["eval", "--model", "ppt-bayes", "--tasks", "bt_hotel_official", "--size", "quick",
                 "--out", str(tmp_path / "runs" / "ppt-bayes")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ppt-bench: error")]
    assert len(errors) == 1 and "missing data file" in errors[0]
    assert errors[0].endswith("eval/interaction/hotel.jsonl")
