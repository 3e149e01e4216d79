"""The multi-objective model on tiny backbones: the reward is the sum of contributions, scores do not depend on
batch size or padding, the folder round-trips (backbone readable by plain transformers), and steering the gate
flips a preference."""

from __future__ import annotations

import pytest
import torch

import rewardkit
from rewardkit import Sample
from rewardkit.errors import ConfigError
from rewardkit.models import multi
from tests.helpers import preference_flipping_multi

ATTRIBUTES = ["helpfulness", "safety", "verbosity"]
SAMPLES = [Sample.from_text("How do I bake bread?", "Mix flour, water and yeast; bake for 40 minutes."),
           Sample.from_text("How do I bake bread?", "No."),
           Sample.from_text("Tell me a joke about owls, please, a long one.", "Owls give a hoot. " * 12),
           Sample.from_text("Hi", "Hello there!")]


@pytest.fixture(params=["tiny_bert", "tiny_llama"])
def model(request):
    built = multi.build(request.getfixturevalue(request.param), attributes=ATTRIBUTES, max_length=64, seed=0)
    with torch.no_grad():  # give the gate's output some spread (a fresh one at temperature 10 is nearly uniform)
        built.heads.gate.layers[2].weight.mul_(50.0)
    return built


def test_the_reward_is_the_sum_of_weight_times_value_and_the_weights_are_a_distribution(model):
    scores = model.score(SAMPLES)
    assert set(scores.attributes) == set(scores.weights) == set(ATTRIBUTES)
    for i, reward in enumerate(scores.rewards):
        weights = [scores.weights[a][i] for a in ATTRIBUTES]
        assert sum(weights) == pytest.approx(1.0, abs=1e-5) and min(weights) >= 0
        assert reward == pytest.approx(sum(w * scores.attributes[a][i] for w, a in zip(weights, ATTRIBUTES)),
                                       abs=1e-5)
    assert scores.weights["safety"][0] == pytest.approx(scores.weights["safety"][1])  # one prompt, one gate
    assert scores.weights["safety"][0] != pytest.approx(scores.weights["safety"][2], abs=1e-4)


def test_scores_do_not_depend_on_batch_size_or_on_the_other_samples(model):
    together = model.score(SAMPLES, batch_size=4)
    for i, sample in enumerate(SAMPLES):
        alone = model.score([sample], batch_size=1)
        assert alone.rewards[0] == pytest.approx(together.rewards[i], abs=1e-5)
        assert alone.weights["helpfulness"][0] == pytest.approx(together.weights["helpfulness"][i], abs=1e-5)


def test_the_folder_round_trips_and_its_backbone_loads_in_plain_transformers(model, tmp_path):
    from transformers import AutoModel

    model.options.decorrelation = {"helpfulness": {"lambda": 0.5, "corr_before": 0.4, "corr_after": 0.0}}
    model.apply_decorrelation()
    folder = model.save(tmp_path / "multi")
    loaded = rewardkit.load(str(folder))
    assert isinstance(loaded, multi.MultiObjectiveRewardModel) and loaded.options.decorrelation == \
        model.options.decorrelation
    assert loaded.score(SAMPLES).rewards == pytest.approx(model.score(SAMPLES).rewards, abs=1e-6)
    backbone = AutoModel.from_pretrained(str(folder), use_safetensors=True)
    assert backbone.config.hidden_size == model.backbone.config.hidden_size
    assert not list(folder.glob("*.bin")) and (folder / multi.HEADS_FILE).is_file()


def test_decorrelation_subtracts_lambda_times_verbosity(model):
    before = model.score(SAMPLES).attributes
    model.options.decorrelation = {"helpfulness": {"lambda": 0.5}}
    model.apply_decorrelation()
    after = model.score(SAMPLES).attributes
    for i in range(len(SAMPLES)):
        assert after["helpfulness"][i] == pytest.approx(before["helpfulness"][i] - 0.5 * before["verbosity"][i],
                                                        abs=1e-5)
        assert after["safety"][i] == pytest.approx(before["safety"][i], abs=1e-6)


def test_steering_the_gate_flips_a_preference(tiny_bert, tmp_path):
    """Heads set so that helpfulness favours the full answer and safety the curt one: putting the gate's weight on
    either attribute picks either answer, from the CLI-style string and from a dict alike."""
    folder, first, second = preference_flipping_multi(tiny_bert, tmp_path / "m")
    default = rewardkit.load(str(folder)).score([first, second])
    values = default.attributes
    assert values["helpfulness"][0] > values["helpfulness"][1] and values["safety"][0] < values["safety"][1]
    assert default.rewards[0] < default.rewards[1]  # the near-uniform gate: safety's larger gap wins
    steered = rewardkit.load(str(folder), weights="safety:0").score([first, second])
    assert steered.rewards[0] > steered.rewards[1]  # safety off: helpfulness decides, the preference flips
    fixed = rewardkit.load(str(folder), weights={"helpfulness": "=0", "safety": "=1"}).score([first, second])
    assert fixed.rewards[0] < fixed.rewards[1] and fixed.weights["safety"] == [1.0, 1.0]
    scaled = rewardkit.load(str(folder), weights="helpfulness:2").score([first])
    assert scaled.weights["helpfulness"][0] == pytest.approx(2 * default.weights["helpfulness"][0])
    with pytest.raises(ConfigError, match="unknown attribute 'honesty'; known: helpfulness, safety, verbosity"):
        rewardkit.load(str(folder), weights={"honesty": 2})


def test_a_llama_backbone_runs_packed_with_the_plain_embeddings(tiny_llama, monkeypatch):
    """Packed (one pass per batch, shared prompts once, prompt embeddings from the same pass) against the plain
    padded forward with each prompt run on its own."""
    model = multi.build(tiny_llama, attributes=ATTRIBUTES, max_length=64, seed=0)
    assert model.packed
    samples = SAMPLES + [Sample.from_text("How do I bake bread?", "Mix flour, water and yeast; bake for 40 minutes.")]
    responses, prompts, encoded = model.embed_samples(samples, batch_size=3)
    embedded = model.embed(encoded, batch_size=2)
    monkeypatch.setattr(multi.MultiObjectiveRewardModel, "packed", property(lambda self: False))
    plain_responses, plain_prompts, _ = model.embed_samples(samples, batch_size=3)
    torch.testing.assert_close(responses, plain_responses, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(prompts, plain_prompts, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(embedded, plain_responses, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(prompts[0], responses[0], atol=1e-3)  # two different tokens' states
    assert model.embed([], batch_size=2).shape == (0, model.backbone.config.hidden_size)
