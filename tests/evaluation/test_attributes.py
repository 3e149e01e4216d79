"""Attribute figures of a multi-objective model's evaluation (rewardkit.evaluation.attributes) on hand-made
scores: contributions overall and per section, the gated / single-attribute / equal-weight accuracies, the
decorrelation check; and the tables report.html and the terminal show (report_attributes.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rewardkit.evaluation.attributes import decorrelation_check, pair_attribution
from rewardkit.evaluation.report_attributes import attributes_html, decorrelation_table, section_table
from rewardkit.models.base import Scores

# three pairs (chosen, rejected); attributes a and b; the gate gives each prompt its own weights
VALUES = {"a": [2.0, 0.0, 1.0, 3.0, 4.0, 0.0], "b": [0.0, 1.0, 2.0, 0.0, 1.0, 1.0]}
WEIGHTS = {"a": [0.5, 0.5, 0.25, 0.25, 1.0, 1.0], "b": [0.5, 0.5, 0.75, 0.75, 0.0, 0.0]}
REWARDS = [sum(WEIGHTS[n][i] * VALUES[n][i] for n in VALUES) for i in range(6)]  # 1.0, 0.5, 1.75, 0.75, 4.0, 0.0
SCORES = Scores(REWARDS, attributes=VALUES, weights=WEIGHTS)


def test_contributions_overall_and_per_section_by_hand():
    result = pair_attribution(SCORES, sections=["x", "y", "y"], seed=0)
    overall = result["contributions"]["overall"]
    assert overall["n"] == 3
    # a: values 2,0,1,3,4,0 → 10/6; weights 0.5,0.5,0.25,0.25,1,1 → 3.5/6; contributions 1,0,.25,.75,4,0 → 6/6
    # margins (chosen − rejected contribution): 1, −0.5, 4 → 4.5/3
    assert overall["attributes"]["a"] == pytest.approx({"value": 10 / 6, "weight": 3.5 / 6, "contribution": 1.0,
                                                        "margin": 1.5})
    # section y = pairs 2 and 3; b: values 2,0,1,1 → 1; weights .75,.75,0,0 → 0.375; contributions 1.5,0,0,0
    y = result["contributions"]["sections"]["y"]
    assert y["n"] == 2 and y["attributes"]["b"] == pytest.approx({"value": 1.0, "weight": 0.375,
                                                                  "contribution": 0.375, "margin": 0.75})
    assert result["contributions"]["sections"]["x"]["attributes"]["b"]["margin"] == pytest.approx(-0.5)
    margins = sum(entry["margin"] for entry in overall["attributes"].values())
    assert margins == pytest.approx((0.5 + 1.0 + 4.0) / 3)  # the margins add up to the mean reward margin
    # accuracies: gated wins all three; a alone wins pairs 1 and 3; b alone only pair 2; the mean 1 and 3
    assert result["gated"]["accuracy"] == 1.0 and result["only"]["a"]["accuracy"] == pytest.approx(2 / 3)
    assert result["only"]["b"]["accuracy"] == pytest.approx(1 / 3)
    assert result["equal_weight"]["accuracy"] == pytest.approx(2 / 3)


def test_one_section_gives_no_per_section_table_and_no_gate_no_contributions():
    assert "sections" not in pair_attribution(SCORES, sections=["x"] * 3)["contributions"]
    assert "contributions" not in pair_attribution(Scores(REWARDS, attributes=VALUES))


def test_decorrelation_check_measures_the_correlation_on_the_scored_responses():
    scores = Scores([0.0] * 4, attributes={"a": [1.0, 2.0, 3.0, 4.0], "verbosity": [1.0, 2.0, 3.0, 5.0],
                                           "b": [1.0, -1.0, -1.0, 1.0]})
    saved = {"a": {"lambda": 0.5, "corr_before": 0.9, "corr_after": 0.0}, "b": {"lambda": 0.0}}
    checked = decorrelation_check(scores, saved, "verbosity")
    assert checked["a"]["lambda"] == 0.5 and checked["a"]["corr_before"] == 0.9
    # verbosity centred: (−1.75, −0.75, 0.25, 2.25), Σ² = 8.75
    assert checked["a"]["corr_here"] == pytest.approx(6.5 / (5 * 8.75) ** 0.5)  # a centred (−1.5, −.5, .5, 1.5)
    assert checked["b"]["corr_here"] == pytest.approx(1.0 / (4 * 8.75) ** 0.5)
    assert decorrelation_check(scores, saved, "length") == {}


def test_the_html_tables_carry_the_numbers():
    metrics = {"pairs": pair_attribution(SCORES, sections=["x", "y", "y"]),
               "decorrelation": {"a": {"lambda": 0.25, "corr_before": 0.5, "corr_after": 0.0, "corr_here": 0.01}},
               "steering": "b:0"}
    page = attributes_html(metrics)
    assert "<tr><td>y</td><td>2</td><td>b</td><td>1.000</td><td>0.375</td><td>0.375</td><td>0.750</td></tr>" in page
    assert "<tr><td>a</td><td>0.250</td><td>0.500</td><td>0.000</td><td>0.010</td></tr>" in page
    assert "Gate steered by weights b:0" in page
    assert [row[0] for row in section_table(metrics)[2]] == ["x", "x", "y", "y"]
    assert decorrelation_table({})[2] == []


class CountingGatedModel:
    """A gated model without weights to load: safety = 1 for a refusal, verbosity = words / 10, gate (0.5, 0.5);
    it counts the samples it is asked to score."""

    options = SimpleNamespace(attributes=["safety", "verbosity"])  # the rating columns to read; no decorrelation

    def __init__(self):
        self.scored = 0

    def score(self, batch, batch_size=None):
        self.scored += len(batch)
        safety = [float(s.response.startswith("I can't")) for s in batch]
        verbosity = [len(s.response.split()) / 10 for s in batch]
        return Scores([0.5 * a + 0.5 * b for a, b in zip(safety, verbosity)],
                      attributes={"safety": safety, "verbosity": verbosity},
                      weights={"safety": [0.5] * len(batch), "verbosity": [0.5] * len(batch)})

    def parameter_count(self):
        return 0


def test_a_suite_evaluation_gives_the_attribute_figures_from_its_own_scoring(tmp_path):
    from rewardkit.data.schemas import PreferencePair, as_conversation
    from rewardkit.evaluation.attributes import suite_attribute_metrics
    from rewardkit.evaluation.suite_eval import evaluate_pairs
    from rewardkit.synth.multi_attribute import rating_rows
    from tests.helpers import write_jsonl

    refusal, compliance = "I can't help with that.", "Sure, here is how to do it, step by step, in detail."
    pairs = [PreferencePair(as_conversation("q"), refusal, compliance, subset="harm"),
             PreferencePair(as_conversation("q"), compliance, refusal, subset="chat"),
             PreferencePair(as_conversation("q"), compliance, refusal, subset="chat")]
    model = CountingGatedModel()
    result = evaluate_pairs(model, pairs, section_of=lambda subset: subset.upper(), batch_size=2)
    assert model.scored == 6  # each response once
    sections = result.metrics["attributes"]["pairs"]["contributions"]["sections"]
    assert {name: entry["n"] for name, entry in sections.items()} == {"HARM": 1, "CHAT": 2}
    # HARM: safety margin 0.5·(1 − 0) = 0.5; CHAT: verbosity margin 0.5·(12 − 5 words)/10 = 0.35
    assert sections["HARM"]["attributes"]["safety"]["margin"] == pytest.approx(0.5)
    assert sections["CHAT"]["attributes"]["verbosity"]["margin"] == pytest.approx(0.35)

    ratings = write_jsonl(tmp_path / "ratings.jsonl", rating_rows(6, 0))
    model.scored = 0
    merged = suite_attribute_metrics(model, "verifiable", str(ratings), known=result.metrics["attributes"])
    assert model.scored == 6  # the rated responses only: the suite's pairs are not scored again
    assert merged["pairs"] == result.metrics["attributes"]["pairs"] and set(merged["ratings"]) == {"safety",
                                                                                                  "verbosity"}


def test_rewardbench_v1_shows_the_contributions_per_rewardbench_section(tmp_path):
    from rewardkit.evaluation.rewardbench_eval import evaluate_rewardbench_v1
    from tests.helpers import write_jsonl

    rows = [{"prompt": f"p{i}", "chosen": "I can't help with that.", "rejected": "Sure, do it like this.",
             "subset": subset, "id": i}
            for i, subset in enumerate(["alpacaeval-easy", "mt-bench-hard", "refusals-dangerous", "math-prm"])]
    metrics = evaluate_rewardbench_v1(CountingGatedModel(), str(write_jsonl(tmp_path / "rb.jsonl", rows))).metrics
    sections = metrics["attributes"]["pairs"]["contributions"]["sections"]
    assert set(sections) == {"Chat", "Chat Hard", "Safety", "Reasoning"} == set(metrics["rewardbench"]) - {
        "Score (excl. prior sets)"}
