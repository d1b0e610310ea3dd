"""Figures of both protocols (g, h, i) from real run directories of a renamed reference model."""

import json
import shutil

import matplotlib
import pytest

matplotlib.use("Agg")

from ppt_bench.harness.evaluate import EvalConfig, evaluate  # noqa: E402
from ppt_bench.report.figures_interactive import FIGURES, teaching_group  # noqa: E402
from ppt_bench.report.results import read_runs  # noqa: E402


def _renamed(folder, model):
    """The run directory `folder` relabelled as a run of `model` (so it is drawn as a model)."""
    for path in [folder / "run.json", *folder.glob("*/results.json")]:
        record = json.loads(path.read_text())
        (record.get("ppt_bench") or record)["model"] = model
        path.write_text(json.dumps(record))
    return folder


@pytest.fixture(scope="module")
def protocol_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocols")
    folders = []
    for protocol in ("assistant-context", "interactive"):
        config = EvalConfig(model="ppt-uniform", tasks=("bt_flight",), sizes={"bt_flight": "quick"},
                            out_dir=root / protocol, protocol=protocol)
        evaluate(config, progress=lambda message: None)
        folders.append(_renamed(root / protocol, "runs/train/smollm2-bayesian-teaching-48"))
    base = shutil.copytree(folders[0], root / "base")
    folders.append(_renamed(base, "smollm2"))
    return read_runs(folders)


def test_teaching_groups_from_labels():
    assert teaching_group("smollm2-bayesian-teaching-48") == "Bayesian-taught"
    assert teaching_group("smollm2-oracle-teaching-48") == "Oracle-taught"
    assert teaching_group("smollm2") == teaching_group("gemma3-270m") == "base"


def test_figures_draw_both_protocols_with_a_caption(protocol_runs):
    for name, draw in FIGURES.items():
        figure = draw(protocol_runs)
        labels = [text.get_text() for text in figure.legends[0].texts]
        caption = figure._supxlabel.get_text()
        assert "bt_flight: size quick, 200 held-out documents per round" in caption, name
        assert "protocol assistant-context and interactive" in caption, name
        if name != "k_taught_first_vs_final":
            assert any("(interactive)" in label for label in labels), name
            assert any("(assistant-context)" in label for label in labels), name
        else:
            ticks = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
            assert ticks[0].startswith("base\nsmollm2") and "Bayesian-taught" in ticks[1]
    agreement = FIGURES["j_agreement_by_protocol"](protocol_runs)
    assert any("own recommendation" in text.get_text() for text in agreement.legends[0].texts)
