"""Temperature scaling, calibration errors, reliability diagrams and bootstrap intervals.

netcal does the standard parts, behind a small scikit-learn-shaped interface:

    fit_temperature(logits, y)           -> TemperatureFit: ppt-bench's one temperature definition
                                            (T, items it was fitted on, at-bound flag)
    TemperatureScaler().fit(logits, y)   -> self, with `temperature_` (T) and `backend_`
    scaler.predict_proba(logits)         -> softmax(logits / T)
    ece(confidences, correct)            -> netcal's ECE, 15 equal-width bins (Guo et al. 2017)
    reliability_diagram(...)             -> netcal's ReliabilityDiagram (a matplotlib Figure)

netcal's traps, and how this module avoids them (netcal 1.4):
  * it takes probabilities, not logits: we pass softmax(logits); its mapping softmax(w * log p) equals
    softmax(logits / T) with w = 1 / T, because log p and the logits differ by a per-item constant;
  * its `temperature` attribute is the weight w = 1 / T, not T;
  * its ECE and diagrams decide binary vs multiclass from the labels present (two distinct values of
    y make y the "correct" flags), so we always pass the top-label form (confidence, correct in {0, 1});
    the binary form is also used to fit T when K = 2 (sigmoid(w * logit p_1) = softmax(w * logits)_1);
  * it needs one K for all items: with ragged K (different numbers of choices per item) T is fitted by
    a bounded scipy search over log T (the same objective, `_nll_temperature`) and `backend_` says so.
netcal imports torch and pyro (seconds), so it is imported inside the functions that use it.

Every temperature is fitted here: `fit_temperature` (the one definition the report, compare, the
leaderboard, `run` and the figures use), `TemperatureScaler` under it, and `cross_fit` (lm-eval's
in-task `*_cv` diagnostics). Written here because netcal lacks them: cross-fitting and paired
bootstrap percentile intervals over items (`raw_vs_scaled`). Metric definitions, the ECE binnings
included, are `ppt_bench.metrics`'s; this module only calls them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ppt_bench import metrics

N_BINS = 15  # ece, soft_ece
N_BINS_EQUAL_MASS = 10  # ece_em
# Every metric of the raw-vs-scaled table; all are lower-is-better.
TABLE_METRICS = ("nll", "brier", "ece", "ece_em", "soft_ece", "kl")
LOG_T_BOUNDS = (-5.0, 5.0)  # every fit searches log T in this range: T in [0.0067, 148]
SCIPY_NOTE = "scipy bounded search over log T"  # how a fit without netcal is described


# --- temperature scaling ------------------------------------------------------------------------

def _rows(logits) -> list[np.ndarray]:
    return [np.asarray(row, dtype=np.float64) for row in logits]


def _nll_temperature(logits: Sequence[np.ndarray], labels: Sequence[int]) -> float:
    """T = exp(argmin_{log T in LOG_T_BOUNDS} mean_i -log softmax(l_i / T)[y_i]) by a bounded scalar
    search (scipy); `logits` may be ragged (K_i per item); 1.0 for no items."""
    from scipy.optimize import minimize_scalar

    if len(labels) == 0:
        return 1.0
    rows = _rows(logits)
    width = max(len(row) for row in rows)
    # Pad ragged rows with -inf so one vectorised log-sum-exp serves every K.
    padded = np.full((len(rows), width), -np.inf)
    for i, row in enumerate(rows):
        padded[i, :len(row)] = row - row.max()
    labels = np.asarray(labels, dtype=int)

    def mean_nll(log_t: float) -> float:
        scaled = padded / np.exp(log_t)
        log_norm = np.log(np.exp(scaled - scaled.max(axis=1, keepdims=True)).sum(axis=1)) \
            + scaled.max(axis=1)
        return float(np.mean(log_norm - scaled[np.arange(len(labels)), labels]))

    result = minimize_scalar(mean_nll, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-6})
    return float(np.exp(result.x))


class TemperatureScaler:
    """Temperature scaling p_T = softmax(logits / T), T minimising the mean NLL (Guo et al. 2017).

    `backend`: "auto" (netcal when all items have the same number of choices, else scipy),
    "netcal", or "scipy" (`_nll_temperature`, a bounded search over log T). `logits` is (n_items, K)
    or a ragged sequence of (K_i,) rows (log-likelihoods are fine: softmax ignores per-row
    constants); `y` the outcomes.
    """

    def __init__(self, backend: str = "auto"):
        self.backend = backend

    def fit(self, logits, y) -> TemperatureScaler:
        if self.backend not in ("auto", "netcal", "scipy"):
            raise ValueError(f"unknown backend {self.backend!r} (auto, netcal or scipy)")
        rows, labels = _rows(logits), np.asarray(y, dtype=int).reshape(-1)
        if len(rows) != len(labels):
            raise ValueError(f"{len(rows)} logit rows but {len(labels)} labels")
        if any(not 0 <= label < len(row) for row, label in zip(rows, labels, strict=True)):
            raise ValueError("a label is outside its item's choices")
        widths = {len(row) for row in rows}
        self.backend_, self.note_ = "netcal", "netcal TemperatureScaling (mle)"
        if not rows or widths == {1}:
            self.backend_, self.note_, self.temperature_ = "none", "no items with 2+ choices: T = 1", 1.0
            return self
        if self.backend == "scipy" or len(widths) > 1:
            if self.backend == "netcal":
                raise ValueError("netcal needs the same number of choices for every item")
            self.backend_ = "scipy"
            self.note_ = (f"items have different numbers of choices (netcal needs one K): {SCIPY_NOTE}"
                          if len(widths) > 1 else SCIPY_NOTE)
            self.temperature_ = _nll_temperature(rows, labels)
            return self
        temperature = _netcal_temperature(np.stack(rows), labels)
        if not (np.isfinite(temperature) and temperature > 0):
            # netcal's weight is unconstrained; a non-positive w (anti-informative scores) has no T.
            self.backend_ = "scipy"
            self.note_ = f"netcal gave 1/T = {1 / temperature:.3g}; refitted with {SCIPY_NOTE}"
            temperature = _nll_temperature(rows, labels)
        # The NLL is convex in 1/T, so clipping to the bounds on T gives the bounded optimum.
        low, high = np.exp(LOG_T_BOUNDS)
        self.temperature_ = float(np.clip(temperature, low, high))
        if self.temperature_ >= high * (1 - 1e-3):
            self.note_ += ("; T at its upper bound: the scaled distributions are nearly uniform "
                           "(the scores carry no usable signal on these items)")
        return self

    def predict_proba(self, logits):
        """softmax(logits / T): (n_items, K) for a rectangular input, else a list of (K_i,) arrays."""
        rows = _rows(logits)
        probs = [metrics.softmax(row, self.temperature_) for row in rows]
        return np.stack(probs) if probs and len({len(p) for p in probs}) == 1 else probs


def _netcal_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """T from netcal's TemperatureScaling on (n_items, K) logits (netcal reports w = 1 / T)."""
    from netcal.scaling import TemperatureScaling

    probs = metrics.softmax(logits)
    inputs = probs[:, 1] if probs.shape[1] == 2 else probs  # binary form for K = 2
    # netcal prints a warning to stdout when some class never occurs as a label; keep it quiet.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pyro's, inside netcal
        model = TemperatureScaling(method="mle").fit(inputs, labels, tensorboard=False)
    weight = float(np.ravel(model.temperature)[0])
    return 1.0 / weight if weight != 0 else float("inf")


# --- the temperature fit every consumer uses -----------------------------------------------------
#
# ppt-bench's temperature-scaled numbers (report, compare, leaderboard, `run` summary, figures) all
# come from `fit_temperature` on a calibration split chosen by `calibration_split_fraction` /
# `in_calibration_split` (fixed data) or a `<task>_calib` twin (generated families); reading those
# from a run directory is `ppt_bench.report.calibration_report.task_temperature`.

MIN_CALIB_ITEMS = 10  # fewer than this: T = 1, not fitted (a fit on a handful of items is noise)
STABLE_CALIB_ITEMS = 300  # HELM's threshold for a stable binned ECE; fewer is flagged
CALIB_FRACTION = 0.3  # least share of a fixed data set held out for T
MAX_CALIB_FRACTION = 0.5  # most share held out (the test split keeps at least half)


@dataclass(frozen=True)
class TemperatureFit:
    """T = argmin_T mean_i -log softmax(l_i / T)[y_i] over `n_items` calibration items.

    `at_bound`: T reached a bound of `LOG_T_BOUNDS` (at the upper one the scaled
    distributions are nearly uniform: the scores carry no usable signal on these items);
    `fitted`: False when there were fewer than `MIN_CALIB_ITEMS` items and T = 1 was used.
    """

    temperature: float
    n_items: int
    note: str
    at_bound: bool = False
    fitted: bool = True

    @property
    def flags(self) -> tuple[str, ...]:
        """Warnings to show next to T wherever it is shown (empty when T is trustworthy)."""
        flags = []
        if not self.fitted:
            flags.append(f"not fitted (< {MIN_CALIB_ITEMS} items)")
        elif self.at_bound:
            flags.append("T at its bound")
        if self.fitted and self.n_items < STABLE_CALIB_ITEMS:
            flags.append(f"< {STABLE_CALIB_ITEMS} items")
        return tuple(flags)

    def label(self) -> str:
        """`T (n items)`, with the flags: e.g. `1.42 (n=310)`, `148 (n=40; T at its bound, < 300 items)`."""
        return f"{self.temperature:.3g} (n={self.n_items}" + (f"; {', '.join(self.flags)})" if self.flags
                                                            else ")")


def fit_temperature(logits, outcomes) -> TemperatureFit:
    """The temperature fit of ppt-bench: `TemperatureScaler` on the calibration items, T = 1 (not
    fitted) below `MIN_CALIB_ITEMS`. `logits`: (n_items, K) or ragged (K_i,) rows; `outcomes`: y_i."""
    n_items = len(outcomes)
    if n_items < MIN_CALIB_ITEMS:
        return TemperatureFit(1.0, n_items, f"only {n_items} calibration items (< {MIN_CALIB_ITEMS}): "
                              f"T = 1, not fitted", fitted=False)
    scaler = TemperatureScaler().fit(logits, outcomes)
    low, high = np.exp(LOG_T_BOUNDS)
    temperature = scaler.temperature_
    at_bound = bool(temperature >= high * (1 - 1e-3) or temperature <= low * (1 + 1e-3))
    return TemperatureFit(temperature, n_items, scaler.note_, at_bound, fitted=scaler.backend_ != "none")


def cross_fit(logits: Sequence[np.ndarray], labels: Sequence[int], n_folds: int = 5,
              seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Temperature-scaled probabilities for every item, each with T fitted on the other folds.

    Items are assigned to `n_folds` folds by a seeded permutation (fold = permutation index mod
    n_folds); T per fold is `_nll_temperature` on the other folds. Returns (probs per item, T per
    fold). With fewer than 2 * n_folds items, T = 1 (nothing is fitted on the items it scores).
    """
    n_items = len(labels)
    rows = _rows(logits)
    if n_items < 2 * n_folds:
        return [metrics.softmax(row) for row in rows], np.ones(1)
    folds = np.random.default_rng(seed).permutation(n_items) % n_folds
    labels = np.asarray(labels, dtype=int)
    probs: list[np.ndarray] = [np.empty(0)] * n_items
    temperatures = np.empty(n_folds)
    for fold in range(n_folds):
        train = np.flatnonzero(folds != fold)
        temperatures[fold] = _nll_temperature([rows[i] for i in train], labels[train])
        for i in np.flatnonzero(folds == fold):
            probs[i] = metrics.softmax(rows[i], temperatures[fold])
    return probs, temperatures


def calibration_split_fraction(n_items: int) -> float:
    """Share of a fixed data set held out for T: enough for `STABLE_CALIB_ITEMS` where the data
    allow, clip(300 / n, 0.3, 0.5) (e.g. 30% of 2000 items, 300 of 800, half of 181)."""
    if n_items <= 0:
        return CALIB_FRACTION
    return float(np.clip(STABLE_CALIB_ITEMS / n_items, CALIB_FRACTION, MAX_CALIB_FRACTION))


def in_calibration_split(doc_id: str, fraction: float = CALIB_FRACTION) -> bool:
    """Deterministic held-out split: sha256(doc id), its first 8 bytes read as a number in [0, 1),
    below `fraction`. Nested: an item held out at one fraction is held out at every larger one."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


# --- top-label calibration ----------------------------------------------------------------------

def _binary(correct: np.ndarray) -> bool:
    return bool(np.isin(correct, (0.0, 1.0)).all())


def ece(confidences: Sequence[float], correct: Sequence[float], n_bins: int = N_BINS) -> float:
    """Top-label ECE with `n_bins` equal-width bins, by netcal (top-label form): the cross-check of
    `metrics.ece` (equal to float rounding; see the tests).

    `correct` in {0, 1}; fractional values (expected correctness when p has tied maxima) would be
    misread by netcal, so those go to `metrics.ece`.
    """
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    if len(confidences) == 0:
        return float("nan")
    if not _binary(correct):
        return metrics.ece(confidences, correct, n_bins)
    from netcal.metrics import ECE

    return float(ECE(bins=n_bins).measure(confidences, correct.astype(int)))


def reliability_diagram(confidences: Sequence[float], correct: Sequence[float], title: str,
                        n_bins: int = N_BINS):
    """Reliability diagram (accuracy and count per confidence bin) as a matplotlib Figure.

    netcal's ReliabilityDiagram in top-label form; a plain matplotlib one when `correct` has
    fractional values (ties), which netcal would misread. Close the figure after saving it.
    """
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    if len(confidences) and _binary(correct):
        from netcal.presentation import ReliabilityDiagram

        return ReliabilityDiagram(bins=n_bins).plot(confidences, correct.astype(int),
                                                    title_suffix=title)
    return _plain_reliability_diagram(confidences, correct, title, n_bins)


def _plain_reliability_diagram(confidences: np.ndarray, correct: np.ndarray, title: str, n_bins: int):
    from matplotlib.figure import Figure

    counts, _, accuracy = metrics.bin_stats(confidences, correct, metrics.equal_width_bins(confidences, n_bins),
                                            n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    fig = Figure(figsize=(7, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.bar(edges[:-1], np.nan_to_num(accuracy), width=1 / n_bins, align="edge", edgecolor="black",
            label="accuracy")
    top.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    top.set(ylabel="accuracy", ylim=(0, 1), title=f"Reliability diagram - {title}")
    top.legend(loc="upper left")
    bottom.bar(edges[:-1], counts, width=1 / n_bins, align="edge", edgecolor="black")
    bottom.set(xlabel="confidence", ylabel="items", xlim=(0, 1))
    fig.tight_layout()
    return fig


# --- per-item values, aggregates, bootstrap ------------------------------------------------------

@dataclass(frozen=True)
class ItemValues:
    """Per-item values of one set of predictions, each (n_items,); nan where a soft label is missing.

    `correct` = [argmax p == y] (expected value when p has tied maxima, as in `metrics.acc`);
    `soft_correct` = q[argmax p], the exact probability that the top choice is right.
    """

    confidence: np.ndarray
    correct: np.ndarray
    soft_correct: np.ndarray
    nll: np.ndarray
    brier: np.ndarray
    kl: np.ndarray

    def __len__(self) -> int:
        return len(self.confidence)


def item_values(probs: Sequence[np.ndarray], outcomes: Sequence[int],
                soft_labels: Sequence[Sequence[float] | None] | None = None) -> ItemValues:
    """Per-item values (`metrics.per_item`) of distributions `probs` (ragged K allowed) with their
    outcomes and soft labels, as columns."""
    soft_labels = soft_labels if soft_labels is not None else [None] * len(outcomes)
    columns: dict[str, list[float]] = {name: [] for name in ItemValues.__dataclass_fields__}
    for p, y, q in zip(probs, outcomes, soft_labels, strict=True):
        values = {"soft_correct": np.nan, "kl": np.nan, **metrics.per_item(p, y, q)}
        values["correct"] = values["acc"]
        for name, column in columns.items():
            column.append(values[name])
    return ItemValues(**{name: np.asarray(values, dtype=np.float64) for name, values in columns.items()})


def aggregate(values: ItemValues, index: np.ndarray | None = None) -> dict[str, float]:
    """The table metrics over the items `index` (all by default; repeats allowed, as in a bootstrap).

    `ppt_bench.metrics`'s formulas (vectorised, fast enough for thousands of resamples); `soft_ece`
    and `kl` are nan when any selected item lacks a soft label.
    """
    index = np.arange(len(values)) if index is None else np.asarray(index)
    if len(index) == 0:
        return dict.fromkeys(TABLE_METRICS, float("nan"))
    conf, correct, soft = values.confidence[index], values.correct[index], values.soft_correct[index]
    return {"nll": float(values.nll[index].mean()), "brier": float(values.brier[index].mean()),
            "ece": metrics.ece(conf, correct, N_BINS),
            "ece_em": metrics.ece_equal_mass(conf, correct, N_BINS_EQUAL_MASS),
            "soft_ece": float("nan") if np.isnan(soft).any() else metrics.soft_ece(conf, soft, N_BINS),
            "kl": float(values.kl[index].mean())}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a bootstrap percentile interval [low, high]."""

    value: float
    low: float
    high: float


def bootstrap_intervals(values: dict[str, ItemValues], n_boot: int = 1000, seed: int = 0,
                        level: float = 0.95) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile intervals of `aggregate` for each named set of predictions on the same items.

    Items are resampled with replacement, the same resamples for every set (paired), so raw and
    scaled intervals describe the same uncertainty about which items were drawn.
    """
    sizes = {len(v) for v in values.values()}
    if len(sizes) != 1:
        raise ValueError("every set of predictions must cover the same items")
    n_items = sizes.pop()
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list[float]]] = {name: {m: [] for m in TABLE_METRICS} for name in values}
    for _ in range(n_boot if n_items else 0):
        index = rng.integers(0, n_items, n_items)
        for name, item_set in values.items():
            for metric, value in aggregate(item_set, index).items():
                draws[name][metric].append(value)
    tail = 100 * (1 - level) / 2
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    for name, by_metric in draws.items():
        intervals[name] = {}
        for metric, samples in by_metric.items():
            finite = np.asarray(samples)[np.isfinite(samples)] if samples else np.empty(0)
            intervals[name][metric] = ((float(np.percentile(finite, tail)),
                                        float(np.percentile(finite, 100 - tail)))
                                       if len(finite) else (float("nan"), float("nan")))
    return intervals


def raw_vs_scaled(logits: Sequence[np.ndarray], outcomes: Sequence[int],
                  soft_labels: Sequence[Sequence[float] | None] | None, temperature: float,
                  n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, Estimate]]:
    """`{metric: {"raw": Estimate, "scaled": Estimate}}` on test items, scaled = softmax(logits / T).

    T must come from items disjoint from these. `ece` is netcal's; the rest, and every interval,
    use the plain formulas (the same numbers; see the tests).
    """
    rows = _rows(logits)
    values = {"raw": item_values([metrics.softmax(r) for r in rows], outcomes, soft_labels),
              "scaled": item_values([metrics.softmax(r, temperature) for r in rows], outcomes,
                                    soft_labels)}
    intervals = bootstrap_intervals(values, n_boot=n_boot, seed=seed)
    table: dict[str, dict[str, Estimate]] = {metric: {} for metric in TABLE_METRICS}
    for name, item_set in values.items():
        point = aggregate(item_set)
        point["ece"] = ece(item_set.confidence, item_set.correct) if len(item_set) else float("nan")
        for metric in TABLE_METRICS:
            table[metric][name] = Estimate(point[metric], *intervals[name][metric])
    return table
