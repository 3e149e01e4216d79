"""Rule rewards by hand, and their combination with a model's reward."""

import pytest

from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import Scores
from rewardkit.models.combined import CombinedReward, parse_combination
from rewardkit.models.rules import answer_rule, final_answer, format_rule, length_rule


def s(response: str, reference: str | None = None) -> Sample:
    return Sample.from_text("What is 6 times 7?", response, reference)


@pytest.mark.parametrize(("response", "reference", "credit"), [
    ("6 x 7 = 42. The answer is 42.", "42", 1.0),
    ("<answer>42</answer>", "42.0", 1.0),          # numerically equal
    ("so \\boxed{3/4}", "0.75", 1.0),             # a fraction
    ("It is 1,234 in total.", "1234", 1.0),       # thousands separator, last number
    ("<answer> X = 5 </answer>", "x=5", 1.0),     # case and spaces
    ("The answer is 41.", "42", 0.0),
    ("I do not know.", "42", 0.0),                # no final answer
])
def test_answer_rule(response, reference, credit):
    assert answer_rule(s(response, reference), {}) == credit


def test_answer_rule_needs_a_reference_and_final_answer_takes_the_last_tag():
    with pytest.raises(ConfigError, match="reference answer"):
        answer_rule(s("42"), {})
    assert final_answer("<answer>1</answer> then <answer>2</answer>") == "2"


def test_format_and_length_rules():
    assert format_rule(s("Think.\n<answer>42</answer>"), {}) == 1.0
    assert format_rule(s("<answer>42</answer> and more"), {}) == 0.0
    assert format_rule(s("Step 1: x"), {"pattern": r"Step \d+:.*"}) == 1.0
    assert length_rule(s("a " * 10), {"limit": 10}) == 0.0
    assert length_rule(s("a " * 15), {"limit": 10}) == -0.5


def test_combination_spec_is_read_not_evaluated():
    assert parse_combination("rm") == [(1.0, "rm")]
    assert parse_combination("0.5*rm-.25*length+format") == [(0.5, "rm"), (-0.25, "length"), (1.0, "format")]
    for bad, reason in (("0.8*rm 0.2*format", "character 8"), ("__import__('os')", "unknown reward '__import__'"),
                        ("0.8*rm + 0.2*vibes", "unknown reward 'vibes'"), ("", "empty")):
        with pytest.raises(ConfigError, match=reason):
            parse_combination(bad)


class Fixed:
    family = "toy"

    def score(self, batch, batch_size=None):
        return Scores([2.0] * len(batch), truncated=1, truncated_items=[True] + [False] * (len(batch) - 1))

    def parameter_count(self):
        return 7


def test_combined_reward_is_the_weighted_sum_and_keeps_each_part():
    model = CombinedReward(Fixed(), "0.8*rm + 0.2*answer + 0.1*length", {"length": {"limit": 2}})
    scores = model.score([s("The answer is 42.", "42"), s("The answer is 41.", "42")])
    assert scores.rewards == pytest.approx([0.8 * 2 + 0.2 * 1 + 0.1 * -1.0, 0.8 * 2 + 0.1 * -1.0])
    assert scores.attributes == {"rm": [2.0, 2.0], "answer": [1.0, 0.0], "length": [-1.0, -1.0]}
    assert scores.truncated_items == [True, False] and model.parameter_count() == 7 and model.family == "toy"
    assert CombinedReward(None, "format").score([s("<answer>1</answer>")]).rewards == [1.0]
    with pytest.raises(ConfigError, match="names 'rm' but no model"):
        CombinedReward(None, "rm + format")


def test_reasoning_rule_counts_distinct_phrases_before_the_answer():
    from rewardkit.models.rules import reasoning_part, reasoning_phrases, reasoning_rule

    worked = "First, I need to multiply. 6 x 7 = 42. Let me check: 42 / 7 = 6. Therefore the answer is 42."
    # "first," | "i need to" | "let me" | "therefore" ("first i" is not there: a comma follows "first")
    assert reasoning_phrases(reasoning_part(worked)) == ["first,", "i need to", "let me", "therefore"]
    assert reasoning_rule(s(worked), {}) == 1.0  # 4 × 0.25
    assert reasoning_rule(s(worked), {"per_phrase": 0.3}) == 1.0  # 1.2, capped
    assert reasoning_rule(s(worked), {"per_phrase": 0.3, "cap": 5.0}) == pytest.approx(1.2)
    assert reasoning_rule(s("42"), {}) == 0.0
    assert reasoning_rule(s("Therefore, because thus."), {}) == 0.75
    # each phrase counts once: repeating it earns nothing
    assert reasoning_rule(s("therefore " * 20), {}) == 0.25
    # phrases after the final answer are not reasoning; a phrase inside a word does not count
    assert reasoning_rule(s("<answer>42</answer> Therefore, thus, because."), {}) == 0.0
    assert reasoning_rule(s("Nevertheless, athus."), {}) == 0.0
    assert reasoning_rule(s("Step 1: add. Step 12: done."), {"phrases": ["step 1"], "per_phrase": 0.5}) == 0.5


def test_reasoning_combines_with_the_model_reward():
    model = CombinedReward(Fixed(), "0.7*rm + 0.3*reasoning")
    scores = model.score([s("First, 6 x 7 = 42. Therefore the answer is 42."), s("42")])
    assert scores.rewards == pytest.approx([0.7 * 2 + 0.3 * 0.5, 0.7 * 2])
    assert scores.attributes["reasoning"] == [0.5, 0.0]
