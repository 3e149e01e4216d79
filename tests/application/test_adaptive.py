"""Adaptive Best-of-N: the gain formula by hand, the budget kept exactly, and budget going where rewards spread."""

import math

import pytest

from rewardkit.application.adaptive import adaptive_best_of_n, best_index, expected_gain, fixed_best_of_n
from rewardkit.application.adaptive_eval import compare_policies


def lookup(grid, calls=None):
    def score(requests):
        if calls is not None:
            calls.append(list(requests))
        return [grid[p][c] for p, c in requests]
    return score


def test_expected_gain_by_hand():
    # rewards 0, 1, 2: m = 1, s = 1, z = 1; φ(1) = 0.2419707, 1 − Φ(1) = 0.1586553 → 0.0833154
    assert expected_gain([0.0, 1.0, 2.0]) == pytest.approx(0.2419707 - 0.1586553, abs=1e-7)
    # scaling every reward by 10 scales the gain by 10; shifting them changes nothing
    assert expected_gain([5.0, 15.0, 25.0]) == pytest.approx(10 * expected_gain([0.0, 1.0, 2.0]))
    assert expected_gain([4.0, 4.0, 4.0]) == 0.0 and expected_gain([1.0]) == 0.0
    # a best that stands out gains less than one among equals: [0, 0, 3] vs [0, 3, 3] (same spread)
    assert expected_gain([0.0, 0.0, 3.0]) < expected_gain([0.0, 3.0, 3.0])


def test_best_index_takes_the_first_of_equal_rewards():
    assert best_index([1.0, 3.0, 3.0, 2.0]) == 1
    assert best_index([-math.inf, -1.0]) == 1


@pytest.mark.parametrize("rule", ["lowest-best", "spread"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 9])
def test_adaptive_spends_exactly_the_fixed_budget_on_prefixes(n, rule):
    grid = [[(p * 7 + c * 3) % 5 * 0.1 for c in range(size)] for p, size in enumerate([8, 3, 1, 8, 6, 2, 8])]
    sizes = [len(row) for row in grid]
    fixed = fixed_best_of_n(sizes, n, lookup(grid))
    adaptive = adaptive_best_of_n(sizes, n, lookup(grid), rule=rule)
    assert sum(map(len, adaptive)) == sum(map(len, fixed)) == sum(min(n, s) for s in sizes)
    for p, rewards in enumerate(adaptive):
        assert rewards == grid[p][: len(rewards)]  # a prefix of the pool, in order
        assert len(rewards) >= min(2, n, sizes[p])  # the warm-up


def test_rounds_are_batched_calls():
    grid = [[float(c % 3) for c in range(8)] for _ in range(8)]
    calls = []
    adaptive_best_of_n([8] * 8, 4, lookup(grid, calls), rule="spread")
    assert [len(c) for c in calls] == [16, 2, 2, 2, 2, 2, 2, 2, 2]  # warm-up, then ⌈8/4⌉ prompts per round


def test_lowest_best_sends_budget_to_prompts_whose_best_scores_low():
    """Four easy prompts (every candidate right, high reward) and four hard ones whose right answer is the
    fourth candidate. At n = 3 fixed Best-of-N misses the hard ones; lowest-best moves the easy prompts' third
    candidates to the hard ones, which then reach their right answer."""
    easy, hard = [1.0] * 6, [-1.0, -1.1, -1.2, 1.0, -1.0, -1.0]
    grid, right = [easy] * 4 + [hard] * 4, [[1] * 6] * 4 + [[0, 0, 0, 1, 0, 0]] * 4
    (row,) = compare_policies(grid, right, [3], rules=["lowest-best"])
    assert row["fixed"]["scored"] == row["adaptive lowest-best"]["scored"] == 24
    assert row["fixed"]["right"] == 0.5
    assert row["adaptive lowest-best"]["right"] == 1.0


def test_spread_sends_budget_to_prompts_whose_rewards_spread():
    """Four prompts whose candidates all score alike (nothing to gain) and four whose first two differ, with the
    right answer fourth. Fixed n = 3 never reaches it. spread gives the flat prompts' share to the others, but
    once a prompt finds its standout its spread grows and it keeps drawing: two of the four reach it."""
    flat, spread = [0.0] * 6, [0.0, 0.2, 0.1, 1.0, 0.0, 0.0]
    grid, right = [flat] * 4 + [spread] * 4, [[0] * 6] * 4 + [[0, 0, 0, 1, 0, 0]] * 4
    (row,) = compare_policies(grid, right, [3], rules=["spread"])
    assert row["fixed"]["right"] == 0.0
    assert row["adaptive spread"]["right"] == 0.25


def test_an_unknown_rule_is_named():
    from rewardkit.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown adaptive rule 'best'.*lowest-best, spread"):
        adaptive_best_of_n([3], 2, lookup([[0.0, 1.0, 2.0]]), rule="best")


def test_the_evaluation_runs_on_simulated_rewards():
    from rewardkit.application.adaptive_eval import fixed_vs_adaptive

    result = fixed_vs_adaptive(None, [2, 4], problems=30, pool=6, simulate_noise=0.5)
    assert [row["n"] for row in result["rows"]] == [2, 4]
    for row in result["rows"]:
        assert {v["scored"] for v in row.values() if isinstance(v, dict)} == {30 * row["n"]}
        assert row["fixed"]["right"] <= row["fixed"]["any_right"]
