"""Which model inputs share a prefix worth computing once: a pure planner for `ppt-hf` (no torch).

A Bayesian-teaching document repeats its whole conversation for every held-out query of one
(user, round), and every document of a task starts with the same instructions. Scoring each distinct
prefix once and each input's remaining tokens from its cached keys and values gives the same
log-likelihoods for fewer token positions.

The planner sorts the inputs lexicographically, so inputs sharing a prefix are adjacent and the longest
prefix shared by a run of them is the minimum of the adjacent common-prefix lengths (LCP array). It
then chooses, over the tree that the LCP array defines (split a run where its minimum LCP is reached),
the partition into groups that minimises the token positions computed:

    cost(group with prefix L) = L + sum_i (n_i - L)     if L >= min_prefix,
                                sum_i n_i               otherwise (scored plainly, L = 0),

where n_i is input i's length and L is capped so that every scored position of every member (its last
`window_i` positions) lies after the prefix: L <= min_i (n_i - window_i). A run is split into its
children only when that costs strictly less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_SHARED_PREFIX = 32  # tokens: below this a cached prefix saves less than copying its cache costs


@dataclass(frozen=True)
class PrefixGroup:
    """Inputs scored from one cached prefix: their indices, and the prefix length (0: no cache)."""

    prefix_len: int
    members: tuple[int, ...]


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def plan_prefix_groups(inputs: Sequence[Sequence[int]], windows: Sequence[int],
                       min_prefix: int = MIN_SHARED_PREFIX) -> list[PrefixGroup]:
    """Partition `inputs` (token sequences) into `PrefixGroup`s of least total cost (module docstring).

    windows[i] >= 1: how many trailing positions of input i are scored. Every index appears in exactly
    one group; groups list their members in sorted (lexicographic) order.
    """
    if len(inputs) != len(windows):
        raise ValueError(f"{len(inputs)} inputs but {len(windows)} windows")
    if not inputs:
        return []
    order = sorted(range(len(inputs)), key=lambda i: tuple(inputs[i]))
    lcp = [common_prefix_len(inputs[a], inputs[b]) for a, b in zip(order, order[1:], strict=False)]
    limit = [len(inputs[i]) - windows[i] for i in order]
    length = [len(inputs[i]) for i in order]

    def one_group(lo: int, hi: int) -> tuple[int, int]:
        """(cost, prefix length) of scoring order[lo:hi] from one prefix."""
        total = sum(length[lo:hi])
        if hi - lo < 2:
            return total, 0
        shared = min(min(lcp[lo:hi - 1]), min(limit[lo:hi]))
        if shared < min_prefix:
            return total, 0
        return total - (hi - lo - 1) * shared, shared

    # Post-order walk of the LCP tree with an explicit stack (nested prefixes can be deep).
    groups: dict[tuple[int, int], list[PrefixGroup]] = {}
    costs: dict[tuple[int, int], int] = {}
    stack: list[tuple[int, int, bool]] = [(0, len(order), False)]
    while stack:
        lo, hi, expanded = stack.pop()
        children = _split(lcp, lo, hi)
        if not expanded and children:
            stack.append((lo, hi, True))
            stack.extend((a, b, False) for a, b in children)
            continue
        cost, shared = one_group(lo, hi)
        best = [PrefixGroup(shared, tuple(order[lo:hi]))] if shared or hi - lo < 2 else \
            [PrefixGroup(0, (i,)) for i in order[lo:hi]]
        if children:
            split_cost = sum(costs.pop(child) for child in children)
            if split_cost < cost:
                cost, best = split_cost, [group for child in children for group in groups.pop(child)]
            else:
                for child in children:
                    groups.pop(child)
        costs[(lo, hi)], groups[(lo, hi)] = cost, best
    return groups[(0, len(order))]


def _split(lcp: Sequence[int], lo: int, hi: int) -> list[tuple[int, int]]:
    """Children of the run order[lo:hi]: cut wherever the adjacent LCP equals the run's minimum."""
    if hi - lo < 2:
        return []
    inner = lcp[lo:hi - 1]
    low = min(inner)
    cuts = [lo + j + 1 for j, value in enumerate(inner) if value == low]
    bounds = [lo, *cuts, hi]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
