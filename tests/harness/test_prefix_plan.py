"""The shared-prefix planner: every input in one group, prefixes long enough and before every scored
position, and no plan costlier than scoring plainly or from the one common prefix."""

import random

import pytest

from ppt_bench.harness.prefix_plan import PrefixGroup, common_prefix_len, plan_prefix_groups


def _cost(inputs, groups):
    return sum(g.prefix_len + sum(len(inputs[i]) - g.prefix_len for i in g.members) for g in groups)


def _check(inputs, windows, groups, min_prefix):
    members = sorted(i for g in groups for i in g.members)
    assert members == list(range(len(inputs)))
    for group in groups:
        if group.prefix_len:
            assert group.prefix_len >= min_prefix and len(group.members) >= 2
            first = inputs[group.members[0]][:group.prefix_len]
            for i in group.members:
                assert tuple(inputs[i][:group.prefix_len]) == tuple(first)
                assert len(inputs[i]) - windows[i] >= group.prefix_len  # scored positions after it


def test_conversations_repeated_for_several_queries_share_their_prefix():
    conversation_a, conversation_b = list(range(100, 160)), list(range(200, 250))
    inputs = [conversation_a + [1, 2, 3, k] for k in range(4)] + [conversation_b + [k, 9] for k in range(3)]
    groups = plan_prefix_groups(inputs, [1] * len(inputs), min_prefix=32)
    _check(inputs, [1] * len(inputs), groups, 32)
    assert sorted((g.prefix_len, len(g.members)) for g in groups) == [(50, 3), (63, 4)]


def test_short_common_prefixes_are_scored_plainly():
    inputs = [[1, 2, 3, 4, k] for k in range(5)]
    assert plan_prefix_groups(inputs, [1] * 5, min_prefix=32) == [PrefixGroup(0, (i,)) for i in range(5)]


def test_prefix_stops_before_the_longest_scored_window():
    inputs = [list(range(40)) + [50, 51], list(range(40)) + [60, 61, 62, 63, 64, 65, 66, 67, 68, 69]]
    windows = [2, 10]  # input 1 scores its last 10 positions: the prefix can cover at most 40 tokens
    groups = plan_prefix_groups(inputs, windows, min_prefix=32)
    _check(inputs, windows, groups, 32)
    assert groups == [PrefixGroup(40, (0, 1))]


def test_identical_inputs_and_nested_prefixes():
    base = list(range(64))
    deep = [base + [2] * 40 + [k] for k in (3, 4, 5, 6)]
    inputs = [base + [1], base + [1], *deep, base[:10]]
    groups = plan_prefix_groups(inputs, [1] * len(inputs), min_prefix=32)
    _check(inputs, [1] * len(inputs), groups, 32)
    # 4 inputs sharing 104 tokens: their own prefix (104 + 4) beats the common one (4 x 41)
    assert sorted(groups, key=lambda g: g.prefix_len) == [
        PrefixGroup(0, (6,)), PrefixGroup(64, (0, 1)), PrefixGroup(104, (2, 3, 4, 5))]
    # with 2 of them, one group over the common 64 tokens costs less (148 < 172 positions)
    two = [base + [1], base + [1], *deep[:2]]
    assert plan_prefix_groups(two, [1] * 4, min_prefix=32) == [PrefixGroup(64, (0, 1, 2, 3))]


@pytest.mark.parametrize("seed", range(20))
def test_random_plans_are_valid_and_never_costlier_than_the_obvious_ones(seed):
    rng = random.Random(seed)
    stems = [[rng.randrange(5) for _ in range(rng.randrange(0, 80))] for _ in range(4)]
    inputs = [rng.choice(stems) + [rng.randrange(3) for _ in range(rng.randrange(1, 30))] for _ in range(25)]
    windows = [rng.randint(1, min(4, len(x))) for x in inputs]
    groups = plan_prefix_groups(inputs, windows, min_prefix=8)
    _check(inputs, windows, groups, 8)
    plain = sum(len(x) for x in inputs)
    assert _cost(inputs, groups) <= plain
    shared = min(min(common_prefix_len(inputs[0], x) for x in inputs),
                 min(len(x) - w for x, w in zip(inputs, windows, strict=True)))
    if shared >= 8:
        assert _cost(inputs, groups) <= plain - (len(inputs) - 1) * shared


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 inputs but 1 windows"):
        plan_prefix_groups([[1], [2]], [1])
