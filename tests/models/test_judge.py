"""Judges over a scripted backend: prompt construction, parsing of well-formed and malformed outputs, the A/B
order swap, rubric weighting and spread over k samples, unparseable outputs counted (never ties or wins)."""

from __future__ import annotations

import math

import pytest

from rewardkit import families
from rewardkit.families import registry
from rewardkit.data.schemas import PreferencePair, Sample, as_conversation
from rewardkit.errors import ConfigError, DataError
from rewardkit.models.backends import Usage
from rewardkit.models.judge import JudgeOptions, PairwiseJudge, PointwiseJudge, combine_orders
from rewardkit.models.judge_prompts import load_rubric, parse_score, parse_verdict, reasoning_of


class Scripted:
    """A backend answering each prompt with reply(prompt, sample index)."""

    name, model = "scripted", "script"

    def __init__(self, reply):
        self.reply, self.prompts, self.usage = reply, [], Usage()

    def generate(self, prompts, *, max_tokens, temperature=0.0, n=1, seed=0, logprobs=False):
        self.prompts += list(prompts)
        self.usage.add(requests=len(prompts) * n, generated_tokens=3 * len(prompts) * n)
        return [[self.reply(p, k) for k in range(n)] for p in prompts]


def response_a(prompt: str) -> str:
    return prompt.split("Response A:\n")[1].split("\n\nResponse B:")[0]


PAIRS = [PreferencePair(as_conversation("2+2?"), "4", "5"),
         PreferencePair(as_conversation("capital of France?"), "Paris", "Lyon"),
         PreferencePair(as_conversation("say hi"), "hi", "bye")]


@pytest.mark.parametrize("text, value", [
    ("Score: 7", 7.0), ("**Score:** 9", 9.0), ("I'd say 6/10.", 6.0), ("<rubric>x</rubric><score> 3 </score>", 3.0),
    ("Score: 4 ... on reflection Score: 8", 8.0), ("Score: 0", None), ("Score: 12", None), ("seven", None), ("", None),
    ("Score: 8/10", 8.0), ("Score: 7.", 7.0), ("Score: 7.5/10", 7.5),
    ("Score: 3/5", None), ("Score: 35/50", None), ("<score>4 / 5</score>", None),  # another scale: not a 1-10 score
])
def test_parse_score(text, value):
    assert parse_score(text) == value


@pytest.mark.parametrize("text, value", [
    ("Verdict: A", "A"), ("verdict: b", "B"), ("**Verdict:** [[A]]", "A"), ("<verdict>B</verdict>", "B"),
    ("[[B]]", "B"), ("Verdict: tie", "tie"), ("Verdict: Response A", "A"), ("A", "A"), (" (b).\n", "B"),
    ("**Response B**", "B"), ("A: A", None), ("A is better", None), ("AB", None), ("Both are fine.", None),
    ("Verdict: C", None), ("<verdict>Response B</verdict>", "B"), ("<verdict></verdict>", None),
    ("<verdict>A or B</verdict>", None),
])
def test_parse_verdict(text, value):
    assert parse_verdict(text) == value


def test_combine_orders_counts_a_side_only_when_both_orders_agree():
    assert combine_orders("A", "B") == (1.0, True)     # chosen first as A, then as B
    assert combine_orders("B", "A") == (-1.0, True)
    assert combine_orders("A", "A") == (0.0, False)    # position bias: always the first slot
    assert combine_orders("tie", "tie") == (0.0, True)
    assert combine_orders(None, "B") == (None, None)


def test_pairwise_prompts_swap_the_order_and_fill_every_field():
    judge = PairwiseJudge(JudgeOptions(), Scripted(lambda p, k: "Verdict: A"))
    first, swapped = judge.prompts_for(PAIRS[0])
    assert "2+2?" in first and response_a(first) == "4" and response_a(swapped) == "5"
    assert "{" not in first  # no unfilled field


def test_pairwise_verdicts_position_consistency_and_unparseable_pairs():
    def reply(prompt, k):
        a = response_a(prompt)
        return {"4": "Verdict: A", "5": "Verdict: B",          # pair 0: consistent, chosen wins
                "Paris": "Verdict: A", "Lyon": "Verdict: A",    # pair 1: always A → a tie
                "hi": "Verdict: A", "bye": "I cannot decide"}[a]  # pair 2: one order unparseable
    judge = PairwiseJudge(JudgeOptions(), Scripted(reply))
    judged = judge.compare_pairs(PAIRS)
    assert judged.margins == [1.0, 0.0, 0.0]
    assert judged.unparseable == [False, False, True]
    report = judge.judge_report()
    assert report["position_consistency"] == 0.5  # of the 2 pairs with both orders parsed
    assert report["unparseable_rate"] == pytest.approx(1 / 6) and report["unparseable_pairs"] == 1
    assert report["tie_rate"] == pytest.approx(1 / 3)  # the unparseable pair is not a tie
    assert "I cannot decide" in judged.texts[2]
    with pytest.raises(ConfigError, match="no score for one alone"):
        judge.score([PAIRS[0].samples()[0]])


def test_reasoning_pairwise_prompts_ask_for_a_rubric_then_a_tagged_verdict_in_both_orders():
    assert "judge:reasoning-pairwise" in registry.specs()
    judge = PairwiseJudge(JudgeOptions(kind="reasoning-pairwise"), Scripted(lambda p, k: ""))
    first, swapped = judge.prompts_for(PAIRS[1])
    assert "<rubric></rubric>" in first and "<verdict>A</verdict>" in first and "capital of France?" in first
    assert response_a(first) == "Paris" and response_a(swapped) == "Lyon" and "{" not in first
    assert judge.options.max_tokens == 256  # room to reason before the verdict


def test_reasoning_pairwise_verdicts_keep_the_reasoning_and_flag_malformed_outputs():
    def reply(prompt, k):
        a = response_a(prompt)
        return {"4": "<rubric>2+2 is 4.</rubric> A is right. <verdict>A</verdict>",
                "5": "<rubric>2+2 is 4.</rubric> B is right. <verdict>B</verdict>",
                "Paris": "<rubric>Paris.</rubric> Verdict: B would be wrong. <verdict>A</verdict>",
                "Lyon": "<rubric>Paris.</rubric> B names Paris.",  # cut off before the tag: unparseable
                "hi": "<rubric>A greeting.</rubric> <verdict>Response B</verdict>",
                "bye": "<rubric>A greeting.</rubric> <verdict>B</verdict>"}[a]  # always B: position bias
    judge = PairwiseJudge(JudgeOptions(kind="reasoning-pairwise"), Scripted(reply))
    judged = judge.compare_pairs(PAIRS)
    assert judged.margins == [1.0, 0.0, 0.0] and judged.unparseable == [False, True, False]
    assert judged.chosen_rewards == [1.0, 0.5, 0.5]
    assert "<rubric>2+2 is 4.</rubric> A is right." in judged.texts[0]
    assert "B names Paris." in judged.texts[1]  # the malformed text is kept too
    report = judge.judge_report()
    assert report["kind"] == "reasoning-pairwise" and report["unparseable_rate"] == pytest.approx(1 / 6)
    assert report["position_consistency"] == 0.5 and report["unparseable_pairs"] == 1
    with pytest.raises(ConfigError, match="judge:reasoning-pairwise compares two responses"):
        judge.score([PAIRS[0].samples()[0]])
    with pytest.raises(ConfigError, match="not to reasoning-pairwise"):
        JudgeOptions(kind="reasoning-pairwise", samples=2, temperature=0.5)


def test_rubric_weights_criteria_and_reports_spread(tmp_path):
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("criteria:\n  - {name: correct, description: The answer is right., weight: 3}\n"
                      "  - Be brief.\n")
    scores = {("The answer is right.", 0): "Score: 8", ("The answer is right.", 1): "Score: 6",
              ("Be brief.", 0): "Score: 2", ("Be brief.", 1): "nonsense"}
    backend = Scripted(lambda p, k: scores[(p.split("Criterion: ")[1].split("\n")[0], k)])
    judge = PointwiseJudge(JudgeOptions(kind="rubric", rubric=str(rubric), samples=2, temperature=0.7), backend)
    result = judge.score([Sample.from_text("2+2?", "4")])
    # criterion means: correct (8+6)/2 = 7, brief 2 (one sample unparseable) → (3·7 + 1·2) / 4 = 5.75
    assert result.rewards == [5.75]
    assert result.attributes["correct"] == [7.0] and result.attributes["principle 2"] == [2.0]
    # per-sample weighted scores: sample 0 (3·8 + 2)/4 = 6.5, sample 1 only "correct" = 6 → std 0.25
    assert result.attributes["spread"] == [pytest.approx(0.25)]
    assert result.attributes["unparseable"] == [0.25]
    assert judge.judge_report()["unparseable_rate"] == 0.25
    assert len(backend.prompts) == 2 and "4" in backend.prompts[0]


def test_an_unparseable_response_is_nan_and_its_pair_is_flagged_not_tied():
    judge = PointwiseJudge(JudgeOptions(kind="reasoning"),
                           Scripted(lambda p, k: "<rubric>need 4</rubric> <score>9</score>" if "\n4\n" in p
                                    else "I refuse to grade"))
    result = judge.score([Sample.from_text("2+2?", "4"), Sample.from_text("2+2?", "5")])
    assert result.rewards[0] == 9.0 and math.isnan(result.rewards[1])
    assert reasoning_of(result.texts[0]) == "<rubric>need 4</rubric>"
    judged = judge.compare_pairs([PAIRS[0]])
    assert judged.margins == [0.0] and judged.unparseable == [True]
    assert judged.chosen_rewards == judged.rejected_rewards == [0.0]
    assert judge.judge_report()["tie_rate"] == 0.0


def test_a_user_template_replaces_the_default_and_must_hold_its_fields(tmp_path):
    good = tmp_path / "mine.txt"
    good.write_text('Q: {prompt}\nA: {response_a}\nB: {response_b}\nReply as JSON {"verdict": "A"}')
    backend = Scripted(lambda p, k: "Verdict: A")
    judge = PairwiseJudge(JudgeOptions(template=str(good)), backend)
    assert judge.prompts_for(PAIRS[0])[0] == 'Q: 2+2?\nA: 4\nB: 5\nReply as JSON {"verdict": "A"}'
    bad = tmp_path / "bad.txt"
    bad.write_text("Q: {prompt}\nA: {response_a}")
    with pytest.raises(DataError, match=r"bad.txt.*must contain \{response_b\}"):
        PairwiseJudge(JudgeOptions(template=str(bad)), backend)


def test_rubric_file_errors_name_the_file_and_field(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("criteria:\n  - {name: x, description: ok, weight: -1}\n")
    with pytest.raises(DataError, match=r"r.yaml, field 'criteria\[0\].weight': weight must be a positive"):
        load_rubric(str(path))
    path.write_text("criteria: 3\n")
    with pytest.raises(DataError, match="field 'criteria'"):
        load_rubric(str(path))
    assert [c.description for c in load_rubric(_principles(tmp_path))] == ["Be honest.", "Be brief."]


def _principles(tmp_path):
    path = tmp_path / "salmon.yaml"
    path.write_text("- Be honest.\n- Be brief.\n")
    return str(path)


def test_options_are_checked():
    with pytest.raises(ConfigError, match="needs temperature > 0"):
        JudgeOptions(kind="rubric", samples=3)
    with pytest.raises(ConfigError, match="unknown judge kind 'vibes'"):
        JudgeOptions(kind="vibes")
    with pytest.raises(ConfigError, match=r"unknown judge option\(s\) \['colour'\]"):
        JudgeOptions.from_dict({"colour": "red"})
    assert JudgeOptions(kind="reasoning").max_tokens == 256
    assert "judge:pairwise" in registry.specs() and "judge:cloud" in registry.specs()


def test_a_saved_judge_loads_with_its_options(tmp_path, monkeypatch):
    from rewardkit.models import judge as judge_module

    monkeypatch.setattr(judge_module, "backend_for", lambda options: Scripted(lambda p, k: "Score: 5"))
    folder = PointwiseJudge(JudgeOptions(kind="rubric", max_tokens=12), Scripted(lambda p, k: "")).save(
        tmp_path / "judge")
    loaded = families.load(str(folder))
    assert isinstance(loaded, PointwiseJudge) and loaded.options.max_tokens == 12
    assert loaded.score([Sample.from_text("q", "a")]).rewards == [5.0]


def test_rewardkit_score_writes_the_reasoning(tmp_path, monkeypatch):
    from rewardkit.scale.batch_scoring import score_jsonl
    from tests.helpers import write_jsonl

    judge = PointwiseJudge(JudgeOptions(kind="reasoning"),
                           Scripted(lambda p, k: "<rubric>needs 4</rubric><score>8</score>" if "\n4\n" in p
                                    else "<rubric>needs 4</rubric><score>2</score>"))
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "2+2?", "chosen": "4", "rejected": "5"},
                                                 {"prompt": "2+2?", "response": "4"}])
    score_jsonl(judge, str(source), str(tmp_path / "out.jsonl"))
    pair, single = [__import__("json").loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert pair["margin"] == 6.0 and pair["judge_text_rejected"].endswith("<score>2</score>")
    assert single["reward"] == 8.0 and single["judge_text"].startswith("<rubric>needs 4</rubric>")
