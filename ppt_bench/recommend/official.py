"""Loader for the official Bayesian-teaching evaluation files (Qiu et al. 2026, Zenodo 17677329).

``data_dir`` is the unzipped folder that contains ``eval/`` (formats in ``docs/data.md``):

- ``eval/interaction/flight.jsonl`` (and ``hotel``, ``flight_Nfeatures``): one simulated user per line,
  ``{"idx", "reward_fn", "rounds": [{"options", "user_idx"}], "features", "rounds_numpy"}``;
- ``eval/heldout/<name>.json``: ``{"features", "all_options", "user_idxs": [{"reward_fn", "idxs"}]}``,
  the published preferred index per held-out set (ties already broken: we score against it);
- ``eval/interaction/flight_human.jsonl``: human participants, stated weights and actual choices;
- ``eval/interaction/webshop/CATEGORY.jsonl`` (+ optional ``eval/heldout/webshop/CATEGORY.jsonl``):
  real products with ``Key: value`` lines, the user's goal, per-option ``score``.

Everything becomes an :class:`Interactions` batch on a :class:`Domain`, so the same assistants run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ppt_bench.data.parse import iter_jsonl
from ppt_bench.errors import DataError
from ppt_bench.recommend._domain import Domain, Feature
from ppt_bench.recommend._protocol import Interactions
from ppt_bench.recommend._render import parse_options
from ppt_bench.recommend.domains import FLIGHT_FEATURES, flight_domain, goal_hypotheses, hotel_domain

# Tolerance between our encoding of parsed option strings and the published ``rounds_numpy``.
_ENCODING_ATOL = 1e-6


def read_jsonl(path: Path) -> list[dict]:
    """All records of a JSON-lines file; ``DataError`` naming the file and line on bad input."""
    if not path.is_file():
        raise DataError(f"missing data file {path}")
    return [record for _, record in iter_jsonl(path)]


def _domain_for(name: str, feature_names: list[str]) -> Domain:
    if name.startswith("hotel"):
        return hotel_domain()
    domain = flight_domain(len(feature_names)) if 2 <= len(feature_names) <= 8 else None
    if domain is None or [f.name for f in domain.features] != list(feature_names):
        known = [feature.name for feature in FLIGHT_FEATURES]
        raise DataError(f"{name}: features {feature_names} do not match the flight features {known}")
    return domain


def _type_index(domain: Domain, weights: list[float]) -> int:
    """Row of ``domain.hypotheses`` equal to ``weights`` or -1 (stated weights off the grid)."""
    hits = np.flatnonzero(np.all(np.isclose(domain.hypotheses, weights), axis=1))
    return int(hits[0]) if len(hits) else -1


def _check_lengths(path: Path, what: str, lengths: list[int], expected: int | None = None) -> int:
    """The common length of `what` over the users (index i of `lengths`), or DataError naming the
    file, the first user index whose length differs and what was expected."""
    expected = lengths[0] if expected is None and lengths else expected
    for user, length in enumerate(lengths):
        if length != expected:
            raise DataError(f"{path}: user index {user}: {what} has {length} entries, expected {expected}")
    return expected


def _check_rounds(path: Path, records: list[dict]) -> None:
    """Every user has the same number of rounds, options per round and a chosen index among them."""
    try:
        n_rounds = _check_lengths(path, "rounds", [len(record["rounds"]) for record in records])
        n_options = len(records[0]["rounds"][0]["options"]) if n_rounds else 0
        for user, record in enumerate(records):
            for number, round_ in enumerate(record["rounds"]):
                if len(round_["options"]) != n_options:
                    raise DataError(f"{path}: user index {user}: round {number} has {len(round_['options'])} "
                                    f"options, expected {n_options}")
                if not (isinstance(round_["user_idx"], int) and 0 <= round_["user_idx"] < n_options):
                    raise DataError(f"{path}: user index {user}: round {number} user_idx "
                                    f"{round_['user_idx']!r} is not an option index 0..{n_options - 1}")
    except (KeyError, TypeError, IndexError) as error:
        raise DataError(f"{path}: unexpected record layout ({error!r})") from None


def _published_targets(path: Path, published: list, records: list[dict], n_sets: int,
                       n_options: int) -> np.ndarray:
    """The published preferred index (n_users, n_sets) after checking that `user_idxs` lists every
    user of the interaction file, in order, with one index per held-out set."""
    if len(published) != len(records):
        raise DataError(f"{path}: user_idxs has {len(published)} users, expected {len(records)} "
                        "(one per user of the interaction file, in order)")
    for user, (entry, record) in enumerate(zip(published, records, strict=True)):
        if not isinstance(entry, dict) or not isinstance(entry.get("idxs"), list):
            raise DataError(f"{path}: user index {user}: expected {{'reward_fn', 'idxs'}}, got {entry!r:.80}")
        weights = entry.get("reward_fn", [])
        if np.shape(weights) != np.shape(record["reward_fn"]) or not np.allclose(weights, record["reward_fn"]):
            raise DataError(f"{path}: user index {user}: reward_fn {entry.get('reward_fn')} differs from "
                            f"the interaction file's {record['reward_fn']}")
        if len(entry["idxs"]) != n_sets:
            raise DataError(f"{path}: user index {user}: idxs has {len(entry['idxs'])} entries, expected "
                            f"{n_sets} (one per held-out set in all_options)")
        bad = [i for i in entry["idxs"] if not (isinstance(i, int) and 0 <= i < n_options)]
        if bad:
            raise DataError(f"{path}: user index {user}: idxs holds {bad[0]!r}, expected an option index "
                            f"0..{n_options - 1}")
    return np.array([entry["idxs"] for entry in published])


def _parse_rounds(domain: Domain, path: Path, records: list[dict]) -> np.ndarray:
    _check_rounds(path, records)
    try:
        options = np.array([[parse_options(domain, round_["options"]) for round_ in record["rounds"]]
                            for record in records])
    except (ValueError, KeyError) as error:
        raise DataError(f"{path}: cannot read option strings ({error})") from None
    if "rounds_numpy" in records[0]:
        published = np.array([record["rounds_numpy"] for record in records], dtype=float)
        if not np.allclose(domain.encode(options), published, atol=_ENCODING_ATOL):
            raise DataError(f"{path}: parsed options disagree with rounds_numpy")
    return options


def load_weight_records(data_dir: Path | str, name: str = "flight",
                        heldout_name: str | None = None) -> Interactions:
    """Flight/hotel users of ``eval/interaction/<name>.jsonl`` with held-out sets and published targets.

    heldout_name: held-out file to use (default ``name``). When the held-out file does not list these
    users (human participants), the target is the argmax of the user's stated ``reward_fn``, ties to
    the lowest index, as in the shared data's reconstruction.
    """
    data_dir = Path(data_dir)
    path = data_dir / "eval" / "interaction" / f"{name}.jsonl"
    records = read_jsonl(path)
    if not records:
        raise DataError(f"{path}: no users")
    domain = _domain_for(name, records[0].get("features", [f.name for f in FLIGHT_FEATURES[:4]]))
    options = _parse_rounds(domain, path, records)
    choices = np.array([[round_["user_idx"] for round_ in record["rounds"]] for record in records])
    user_types = np.array([_type_index(domain, record["reward_fn"]) for record in records])

    heldout_path = data_dir / "eval" / "heldout" / f"{heldout_name or name}.json"
    if not heldout_path.is_file():
        raise DataError(f"missing data file {heldout_path}")
    heldout = json.loads(heldout_path.read_text(encoding="utf-8"))
    try:
        heldout_options = np.stack([parse_options(domain, texts) for texts in heldout["all_options"]])
    except (ValueError, KeyError) as error:
        raise DataError(f"{heldout_path}: cannot read option strings ({error})") from None
    heldout_features = domain.encode(heldout_options)
    published = heldout.get("user_idxs") or []
    if heldout_name in (None, name) and published:  # this file's own users: every count must agree
        targets = _published_targets(heldout_path, published, records, *heldout_options.shape[:2])
    else:  # another file's users (human participants): targets from their stated weights
        weights = np.array([record["reward_fn"] for record in records], dtype=float)
        targets = np.einsum("skd,ud->usk", heldout_features, weights).argmax(axis=-1)
    return Interactions(domain=domain, features=domain.encode(options), choices=choices,
                        heldout_features=heldout_features, heldout_choices=targets,
                        user_types=user_types, options=options, heldout_options=heldout_options,
                        source=f"official:{name}")


def parse_product(text: str) -> tuple[str, dict[str, str]]:
    """``"Product 1: title\\nColor: blue\\n: extra"`` -> (title, {"color": "blue", "": "extra"})."""
    head, *lines = text.split("\n")
    title = head.split(": ", 1)[1] if ": " in head else head
    attributes = {}
    for line in lines:
        key, _, value = line.partition(":")
        attributes[key.strip().lower()] = value.strip()
    return title, attributes


def _webshop_domain(category: str, products: list[dict[str, str]]) -> Domain:
    """Attributes seen in a category; level 0 of each is "absent". Goals: 1-2 present values."""
    keys: dict[str, set[str]] = {}
    for attributes in products:
        for key, value in attributes.items():
            keys.setdefault(key, set()).add(value)
    features = tuple(Feature(key or "extra", key or "extra", ("",) + tuple(sorted(values)),
                             categorical=True) for key, values in keys.items())
    goals = goal_hypotheses(features, max_goal_size=2)
    absent = np.concatenate([np.eye(1, f.n_levels, 0)[0] for f in features]) > 0
    goals = goals[~(goals[:, absent] > 0).any(axis=1)]
    # Products carry no comparable price here, so the heuristic baseline is "always the first one".
    return Domain(name=f"webshop_{category}", noun="Product", features=features, hypotheses=goals,
                  heuristic=np.zeros(sum(f.n_levels for f in features)))


def _product_levels(domain: Domain, attributes: dict[str, str]) -> list[int]:
    return [feature.values.index(attributes.get("" if feature.name == "extra" else feature.name, ""))
            for feature in domain.features]


def load_webshop(data_dir: Path | str, category: str) -> Interactions:
    """One web-shop category. Held-out sets come from ``eval/heldout/webshop/<category>.jsonl`` when
    present (per user ``all_options`` of ``{"options", "user_idx"}``); otherwise the batch carries
    the interaction rounds as per-user held-out sets (use the online protocol on it).
    """
    data_dir = Path(data_dir)
    path = data_dir / "eval" / "interaction" / "webshop" / f"{category}.jsonl"
    records = read_jsonl(path)
    heldout_path = data_dir / "eval" / "heldout" / "webshop" / f"{category}.jsonl"
    heldout_records = read_jsonl(heldout_path) if heldout_path.is_file() else None
    if heldout_records is not None and len(heldout_records) != len(records):
        raise DataError(f"{heldout_path}: {len(heldout_records)} users, expected {len(records)} "
                        f"(one per user of {path.name}, in order)")
    try:
        rounds = [[[parse_product(text)[1] for text in round_["options"]] for round_ in record["rounds"]]
                  for record in records]
        heldout_sets = None if heldout_records is None else [
            [[parse_product(text)[1] for text in entry["options"]] for entry in record["all_options"]]
            for record in heldout_records]
        choices = np.array([[round_["user_idx"] for round_ in record["rounds"]] for record in records])
    except (KeyError, TypeError, IndexError) as error:
        raise DataError(f"{path}: unexpected record layout ({error!r})") from None
    products = [p for user in rounds for set_ in user for p in set_]
    products += [p for user in heldout_sets or [] for set_ in user for p in set_]
    domain = _webshop_domain(category, products)
    levels = np.array([[[_product_levels(domain, p) for p in set_] for set_ in user] for user in rounds])
    features = domain.encode(levels)
    if heldout_sets is None:
        heldout_features, heldout_choices, source = features, choices, f"official:webshop/{category}"
    else:
        heldout_levels = np.array([[[_product_levels(domain, p) for p in set_] for set_ in user]
                                   for user in heldout_sets])
        heldout_features = domain.encode(heldout_levels)
        heldout_choices = np.array([[entry["user_idx"] for entry in record["all_options"]]
                                    for record in heldout_records])
        source = f"official:webshop/{category}+heldout"
    return Interactions(domain=domain, features=features, choices=choices,
                        heldout_features=heldout_features, heldout_choices=heldout_choices,
                        user_types=np.full(len(records), -1), options=levels, source=source)


def webshop_categories(data_dir: Path | str) -> list[str]:
    folder = Path(data_dir) / "eval" / "interaction" / "webshop"
    return sorted(path.stem for path in folder.glob("*.jsonl"))


def load_all(data_dir: Path | str) -> dict[str, Interactions]:
    """Every interaction file under ``data_dir/eval/interaction`` that this module understands.

    Keys: ``flight``, ``hotel``, ``flight_Nfeatures`` (with their own held-out file), ``flight_human``
    (held-out sets of ``flight``, targets from stated weights), ``webshop/CATEGORY``.
    """
    data_dir = Path(data_dir)
    folder = data_dir / "eval" / "interaction"
    if not folder.is_dir():
        raise DataError(f"{data_dir} has no eval/interaction folder (expected the unzipped data)")
    loaded: dict[str, Interactions] = {}
    for path in sorted(folder.glob("*.jsonl")):
        name = path.stem
        if name.endswith("human"):
            loaded[name] = load_weight_records(data_dir, name, heldout_name=name[:-len("_human")])
        else:
            loaded[name] = load_weight_records(data_dir, name)
    for category in webshop_categories(data_dir):
        loaded[f"webshop/{category}"] = load_webshop(data_dir, category)
    return loaded
