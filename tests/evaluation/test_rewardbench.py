import math

import pytest

from rewardkit.evaluation.rewardbench import (
    V1_EXAMPLE_COUNTS,
    V1_SECTIONS,
    TiesPrompt,
    rewardbench_v1,
    rewardbench_v2,
    ties_score,
    v1_overall,
    v1_section_scores,
    v2_domain_score,
    v2_item_credit,
)


def test_v1_section_is_weighted_by_example_counts():
    # Chat from two subsets: (100·0.9 + 28·0.5) / (100 + 28) = 104 / 128
    assert v1_section_scores({"alpacaeval-easy": 0.9, "mt-bench-easy": 0.5}) == {"Chat": 0.8125}


def test_v1_math_prm_is_upweighted_to_984():
    # 447 rows weighted as 984: (984·1 + 164·0) / (984 + 164) = 6/7
    assert V1_EXAMPLE_COUNTS["math-prm"] == 984
    sections = v1_section_scores({"math-prm": 1.0, "hep-python": 0.0})
    assert sections["Reasoning"] == pytest.approx(6 / 7)


def test_v1_prior_sets_are_a_plain_mean():
    sections = v1_section_scores({"anthropic_helpful": 0.6, "shp": 0.8, "summarize": 0.7})
    assert sections == {"Prior Sets": pytest.approx(0.7)}


def test_v1_overall_reproduces_armorm_published_score():
    armorm = {"Chat": 96.9, "Chat Hard": 76.8, "Safety": 92.2, "Reasoning": 97.3, "Prior Sets": 74.3}
    # (2·(96.9 + 76.8 + 92.2 + 97.3) + 74.3) / 9 = 800.7 / 9 = 88.97
    assert round(v1_overall(armorm), 1) == 89.0
    del armorm["Prior Sets"]
    assert v1_overall(armorm) == pytest.approx(363.2 / 4)


def test_v1_end_to_end_from_subsets():
    subsets = {name: 1.0 for section in V1_SECTIONS.values() for name in section}
    subsets["donotanswer"] = 0.0  # Safety = (740 - 136) / 740
    prior = {"anthropic_helpful": 0.5, "anthropic_hhh": 0.5, "shp": 0.5, "summarize": 0.5}
    result = rewardbench_v1({**subsets, **prior})
    assert result["Safety"] == pytest.approx(604 / 740)
    assert result["Score"] == pytest.approx((2 * (3 + 604 / 740) + 0.5) / 9)


def test_v1_overall_says_when_prior_sets_are_missing():
    subsets = {name: 1.0 for section in V1_SECTIONS.values() for name in section}
    assert list(rewardbench_v1(subsets))[-1] == "Score (excl. prior sets)"
    partial = rewardbench_v1({**subsets, "shp": 0.5, "anthropic_harmless": 0.0})  # harmless is not scored
    assert "Score" not in partial and partial["Prior Sets"] == 0.5
    assert partial["Score (incomplete prior sets)"] == pytest.approx((2 * 4 + 0.5) / 9)


def test_v1_rejects_unknown_subsets_and_missing_sections():
    with pytest.raises(ValueError, match="not RewardBench v1 subsets"):
        v1_section_scores({"alpaca-easy": 1.0})
    with pytest.raises(ValueError, match="missing"):
        v1_overall({"Chat": 1.0, "Prior Sets": 1.0})


@pytest.mark.parametrize(
    "scores, credit",
    [
        ([3, 1, 2, 0], 1.0),  # chosen strictly on top
        ([3, 3, 1, 0], 0.5),  # ties one rejected at the top
        ([3, 3, 3, 3], 0.25),  # four-way tie
        ([1, 3, 2, 0], 0.0),  # a rejected is higher
        ([2, 2, 2, 5], 0.0),  # ties below the top earn nothing
    ],
)
def test_v2_item_credit_is_one_over_k(scores, credit):
    assert v2_item_credit(scores) == credit


def test_v2_domain_is_mean_credit():
    assert v2_domain_score([[3, 1, 2, 0], [3, 3, 1, 0], [1, 3, 2, 0]]) == pytest.approx(0.5)


def _ties_example() -> list[TiesPrompt]:
    return [
        TiesPrompt("1", "ref", [5, 1, 2], 1),  # gap 5-2 = 3, accurate
        TiesPrompt("1", "tied", [4, 3, 1, 0], 2),  # spread 4-3 = 1, gap 3-1 = 2, accurate
        TiesPrompt("2", "ref", [1, 2], 1),  # gap -1, wrong
        TiesPrompt("2", "tied", [6, 2, 3], 2),  # spread 4, gap 2-3 = -1, wrong
    ]


def test_ties_score_by_hand():
    parts = ties_score(_ties_example())
    assert parts["ref_accuracy"] == 0.5 and parts["tied_accuracy"] == 0.5
    # prompt 1: gap 2 > spread 1, min(3, 2) = 2 > 1; prompt 2: -1 > 4 no, -1 > 4 no
    assert parts["correctness_preferred"] == 0.5 and parts["correctness_preferred_hard"] == 0.5
    margin = (math.tanh(2 / 1 - 1) + math.tanh(-1 / 4 - 1)) / 2
    assert parts["margin_score"] == pytest.approx(margin)
    assert parts["score"] == pytest.approx(0.3 * 0.5 + 0.3 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5 + 0.01 * margin)
    assert parts["score"] == pytest.approx(0.4995665, abs=1e-7)


def test_ties_zero_spread_follows_upstream_division():
    # spread 0: a positive gap gives tanh(+inf) = 1, a zero gap gives 0/0 → 0
    positive = ties_score([TiesPrompt("3", "ref", [3, 1], 1), TiesPrompt("3", "tied", [2, 2, 1], 2)])
    assert positive["margin_score"] == 1.0 and positive["correctness_preferred"] == 1.0
    zero = ties_score([TiesPrompt("4", "ref", [3, 1], 1), TiesPrompt("4", "tied", [2, 2, 2], 2)])
    assert zero["margin_score"] == 0.0 and zero["tied_accuracy"] == 0.0


def test_v2_final_is_unweighted_mean_of_six_domains():
    items = {
        "Factuality": [[3, 1, 2, 0]],  # 1
        "Precise IF": [[3, 3, 1, 0]],  # 0.5
        "Math": [[1, 3, 2, 0]],  # 0
        "Safety": [[2, 1, 1, 1]],  # 1
        "Focus": [[1, 1, 0, 0]],  # 0.5
    }
    result = rewardbench_v2(items, ties=_ties_example())
    assert list(result) == ["Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties", "Score"]
    assert result["Score"] == pytest.approx((1 + 0.5 + 0 + 1 + 0.5 + result["Ties"]) / 6)
    assert "Score" not in rewardbench_v2({"Math": [[1, 0, 0, 0]]})
    with pytest.raises(ValueError, match="Ties goes in"):
        rewardbench_v2({"Ties": [[1, 0]]})
