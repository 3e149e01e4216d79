"""ShapedReward over toy models whose rewards are known: PAR against reference responses, statistics, steps."""

import math
from dataclasses import dataclass

import pytest

from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import Scores
from rewardkit.models.shaped import ShapedReward


@dataclass
class Options:
    reward_mean: float = 1.0
    reward_std: float = 2.0
    normalize: bool = False


class WordCount:
    """reward = words in the response; steps = words per line; stores a training mean 1 and std 2."""

    family = "toy"

    def __init__(self, options=None):
        self.options, self.calls = options, []

    def score(self, batch, batch_size=None):
        self.calls.append([s.response for s in batch])
        steps = [[float(len(line.split())) for line in s.response.split("\n")] for s in batch]
        return Scores([float(len(s.response.split())) for s in batch], steps=steps,
                      truncated_items=[False] * len(batch))

    def parameter_count(self):
        return 3


def sample(response, references=()):
    return Sample(Sample.from_text("Say something.", "").prompt, response, reference_responses=tuple(references))


def test_par_scores_references_in_the_same_call_and_compares_against_them():
    model = WordCount()
    shaped = ShapedReward(model, "par")
    scores = shaped.score([sample("a b c", ["a", "a b c d e"]), sample("a", ["a b"])])
    # item 1: r = 3 against 1 and 5 → (σ(2) + σ(−2)) / 2 = 0.5; item 2: r = 1 against 2 → σ(−1).
    assert scores.rewards == pytest.approx([0.5, 1 / (1 + math.e)])
    assert scores.attributes["unshaped"] == [3.0, 1.0]
    assert model.calls == [["a b c", "a", "a", "a b c d e", "a b"]]  # the samples, then every reference
    assert len(scores.truncated_items) == 2


def test_par_without_references_names_the_first_sample_missing_them():
    with pytest.raises(ConfigError, match="1 of 2 have none, the first at position 1"):
        ShapedReward(WordCount(), "par").score([sample("a", ["b"]), sample("a")])


def test_z_center_and_clip_use_the_models_statistics():
    model = WordCount(Options())
    assert ShapedReward(model, "z").score([sample("a b c d e")]).rewards == [2.0]  # (5 − 1) / 2
    assert ShapedReward(model, "center").score([sample("a b c")]).rewards == [2.0]  # 3 − 1
    assert ShapedReward(model, "center=2.5").score([sample("a b c")]).rewards == [0.5]
    assert ShapedReward(model, "z; clip=-1,1").score([sample("a b c d e f g")]).rewards == [1.0]  # 3 → 1
    # z before par: σ((r − r_ref) / std) = σ((3 − 1) / 2) = σ(1).
    assert ShapedReward(model, "z; par").score([sample("a b c", ["a"])]).rewards == pytest.approx(
        [1 / (1 + math.exp(-1))])


def test_statistics_are_required_and_not_applied_twice():
    with pytest.raises(ConfigError, match="needs the reward mean and std a toy model stores"):
        ShapedReward(WordCount(), "z").score([sample("a")])
    with pytest.raises(ConfigError, match="normalize=True already"):
        ShapedReward(WordCount(Options(normalize=True)), "z")


def test_step_shaping_sums_the_shaped_steps():
    model = WordCount()
    response = "a b c\na\na b"  # steps 3, 1, 2
    clipped = ShapedReward(model, "stepclip=2").score([sample(response)])
    assert clipped.steps == [[0.0, -1.0, 0.0]] and clipped.rewards == [-1.0]
    delta = ShapedReward(model, "delta").score([sample(response)])
    assert delta.steps == [[2.0, -1.0, 2.0]] and delta.rewards == [3.0]  # telescopes to the first step


def test_step_shaping_needs_step_rewards():
    class Outcome(WordCount):
        def score(self, batch, batch_size=None):
            return Scores([1.0] * len(batch))

    with pytest.raises(ConfigError, match="'delta' needs per-step rewards"):
        ShapedReward(Outcome(), "delta").score([sample("a")])
