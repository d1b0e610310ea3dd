"""Accuracy curves on generated users (the paper's acceptance ranges) and the assistant-curve CLI."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from ppt_bench.recommend.curves import curve_report


@pytest.fixture(scope="module")
def flight_report():
    return curve_report("flight", n_heldout=100, seed=0)


def test_generated_flight_matches_paper(flight_report):
    bayesian = flight_report["bayesian"]
    assert flight_report["config"]["users"] == 624
    assert 0.56 <= bayesian[1] <= 0.61              # paper: 58%
    assert 0.78 <= bayesian[5] <= 0.84              # paper: 81%
    assert np.all(np.diff(bayesian) > 0)
    assert flight_report["oracle"] == [1.0] * 6
    assert all(abs(value - 1 / 3) < 0.02 for value in flight_report["random"])
    assert flight_report["agreement"]["bayesian_vs_oracle"] == bayesian


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_flight_other_seeds(seed):
    bayesian = curve_report("flight", seed=seed)["bayesian"]
    assert 0.56 <= bayesian[1] <= 0.61 and 0.78 <= bayesian[5] <= 0.84


@pytest.mark.parametrize("domain", ["hotel", "shopping"])
def test_other_domains_rise_with_rounds(domain):
    report = curve_report(domain, seed=0)
    assert np.all(np.diff(report["bayesian"]) > 0)
    assert report["bayesian"][5] > report["random"][5] + 0.15
    if domain == "shopping":
        assert len(report["categories"]) == 3


def test_flight_feature_variant():
    report = curve_report("flight", n_users=100, n_heldout=30, n_features=6)
    assert report["config"]["hypotheses"] == {"flight_6features": 15_624}
    assert report["bayesian"][5] > report["bayesian"][0]


def test_assistant_curve_command_generated(capsys):
    from ppt_bench.commands import assistant_curve

    parser = argparse.ArgumentParser()
    assistant_curve.configure(parser)
    args = parser.parse_args(["--domain", "hotel", "--users", "50", "--heldout", "20", "--json"])
    assert assistant_curve.execute(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"bayesian", "oracle", "random", "heuristic", "agreement", "config"}
    assert len(report["bayesian"]) == 6 and report["config"]["users"] == 50


def test_assistant_curve_command_official(capsys, bayesian_teaching_dir):
    from ppt_bench.commands import assistant_curve

    parser = argparse.ArgumentParser()
    assistant_curve.configure(parser)
    args = parser.parse_args(["--domain", "flight", "--data-dir", str(bayesian_teaching_dir),
                              "--json"])
    assert assistant_curve.execute(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["users"] == 194 and report["config"]["heldout"] == 100
    assert abs(report["bayesian"][1] - 0.575) < 0.01 and abs(report["bayesian"][5] - 0.816) < 0.01
    args = parser.parse_args(["--domain", "shopping", "--data-dir", str(bayesian_teaching_dir),
                              "--json"])
    assert assistant_curve.execute(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["protocol"] == "online" and len(report["bayesian"]) == 5


def test_assistant_curve_command_errors(tmp_path):
    from ppt_bench.commands import assistant_curve
    from ppt_bench.errors import PPTBenchError

    parser = argparse.ArgumentParser()
    assistant_curve.configure(parser)
    with pytest.raises(PPTBenchError):
        assistant_curve.execute(parser.parse_args(["--domain", "flight", "--data-dir",
                                                   str(tmp_path)]))
    with pytest.raises(PPTBenchError):
        assistant_curve.execute(parser.parse_args(["--domain", "hotel", "--human"]))
