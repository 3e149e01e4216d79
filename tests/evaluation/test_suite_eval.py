"""Suite evaluation on dummy models (no weights): metrics by hand, ties wrong, layout of the metrics dict."""

from __future__ import annotations

import numpy as np
import pytest

from rewardkit.data.schemas import PreferencePair, as_conversation
from rewardkit.evaluation.suite_eval import evaluate_pairs, evaluate_verifiable, pairwise_metrics, score_pairs
from rewardkit.models.base import Scores


class LengthModel:
    """Reward = number of words: a pure length baseline."""

    family = "dummy"

    def parameter_count(self):
        return None

    def __init__(self):
        self.calls = 0

    def score(self, batch):
        self.calls += 1
        return Scores([float(len(s.response.split())) for s in batch])


class TableModel:
    """Reward read from a dict keyed by response text."""

    family = "dummy"

    def parameter_count(self):
        return None

    def __init__(self, table):
        self.table = table

    def score(self, batch):
        return Scores([self.table[s.response] for s in batch])


def _pair(chosen, rejected, subset):
    return PreferencePair(as_conversation("q"), chosen, rejected, subset=subset)


def test_hand_worked_accuracy_sections_and_ties_wrong():
    pairs = [_pair("a", "b", "x"), _pair("c", "d", "x"), _pair("e", "f", "y"), _pair("g", "h", "y")]
    table = {"a": 2.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 0.0, "f": 3.0, "g": 5.0, "h": -5.0}
    result = evaluate_pairs(TableModel(table), pairs, section_of={"x": "S1", "y": "S2"}.get, heldout=("y",),
                            batch_size=3)
    m = result.metrics
    assert m["accuracy"]["accuracy"] == 0.5 and m["accuracy"]["n"] == 4  # the tie (c, d) counts as wrong
    assert m["sections"]["S1"]["accuracy"] == 0.5 and m["sections"]["S2"]["accuracy"] == 0.5
    assert m["subsets"]["y"] == {**m["subsets"]["y"], "section": "S2", "heldout": True}
    assert m["generalisation"]["heldout"]["n"] == 2
    assert result.arrays["chosen_rewards"] == [2.0, 1.0, 0.0, 5.0]
    assert m["ms_per_pair"] >= 0 and m["parameters"] is None


def test_length_baseline_and_calibration_headlines():
    chosen, rejected = np.array([1.0, 2.0, -1.0]), np.array([0.0, 0.0, 0.0])
    pairs = [_pair("one two", "one", "s"), _pair("one", "one two three", "s"), _pair("a b", "c d", "s")]
    m = pairwise_metrics(chosen, rejected, pairs)
    assert m["length_baseline"]["longer_is_better"] == pytest.approx(1 / 3)
    assert m["length_bias"]["by_length_order"]["chosen_shorter"] == {"accuracy": 1.0, "n": 1}
    p = 1 / (1 + np.exp(-np.array([1.0, 2.0, -1.0])))
    assert m["calibration"]["brier"] == pytest.approx(np.mean((p - 1) ** 2))
    assert 0 <= m["calibration"]["ece"] <= 1 and m["calibration"]["temperature"] > 0


def test_score_pairs_batches_and_keeps_order():
    model = LengthModel()
    pairs = [_pair("a b c", "a", "s"), _pair("a", "a b", "s"), _pair("x y", "x y z w", "s")]
    chosen, rejected, cost = score_pairs(model, pairs, batch_size=4)
    assert chosen.tolist() == [3, 1, 2] and rejected.tolist() == [1, 2, 4] and model.calls == 2
    assert cost["truncated"] == 0


def test_verifiable_suite_metrics_layout():
    seen = []
    result = evaluate_verifiable(LengthModel(), n_per_subset=2, seed=3, on_progress=lambda d, t: seen.append((d, t)))
    m = result.metrics
    assert set(m["sections"]) == {"chat", "chat-hard", "safety", "reasoning", "length-adversarial"}
    assert all({"accuracy", "ci_low", "ci_high", "n"} <= set(s) for s in m["sections"].values())
    from rewardkit.synth.suite import SECTIONS, build_suite

    adversarial = [sp.pair for sp in build_suite(2, 3) if sp.family in SECTIONS["length-adversarial"]]
    longer_right = [len(p.chosen.split()) > len(p.rejected.split()) for p in adversarial]
    # the length model is right exactly where the longer answer is the chosen one (both ways occur since suite 2.0)
    assert m["sections"]["length-adversarial"]["accuracy"] == pytest.approx(np.mean(longer_right))
    assert m["suite"]["seed"] == 3 and m["suite"]["version"] and m["suite"]["n_per_subset"] == 2
    assert set(m["best_of_n"]) >= {"n", "picked", "oracle", "random", "win_rate"}
    assert seen[-1][0] == seen[-1][1] == 2 * m["accuracy"]["n"]
    assert {"in_distribution", "heldout"} == set(m["generalisation"])
    ceiling = m["shortcuts"]["ceiling"]  # the surface baselines beside the model, per section and subset
    assert set(ceiling["sections"]) == set(m["sections"]) and set(ceiling["subsets"]) == set(m["subsets"])
    adversarial_ceiling = ceiling["sections"]["length-adversarial"]
    assert adversarial_ceiling["n"] == 4 and isinstance(adversarial_ceiling["baseline"], str)
    # "more words wins" is one of the baselines, so the ceiling is at least the length model's accuracy
    assert adversarial_ceiling["accuracy"] >= m["sections"]["length-adversarial"]["accuracy"]
    assert "another seed" in m["shortcuts"]["ngram_fitted_on"]
