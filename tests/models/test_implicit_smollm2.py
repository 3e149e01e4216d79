"""LM-defined rewards on the real default model, SmolLM2-135M-Instruct (converted once from the shipped GGUF)."""

from __future__ import annotations

import pytest

from rewardkit.data.schemas import Sample
from rewardkit.models.implicit import ImplicitOptions, ImplicitRewardModel
from rewardkit.models.logprobs import LogprobScorer
from rewardkit.models.process import ImplicitProcessModel, ProcessOptions
from rewardkit.models.steps import response_token_steps

pytestmark = pytest.mark.slow

FRANCE = "What is the capital of France?"


@pytest.fixture(scope="module")
def smollm2():
    from rewardkit.models.causal_lm import load_causal_lm_and_tokenizer

    return load_causal_lm_and_tokenizer("smollm2")


def model(smollm2, kind: str, criteria: str | None = None, **extra) -> ImplicitRewardModel:
    network, tokenizer = smollm2
    options = ImplicitOptions(kind=kind, policy="smollm2", beta=1.0, criteria=criteria, max_length=256, **extra)
    return ImplicitRewardModel(LogprobScorer(network, tokenizer, 256), None, options)


def test_paris_is_far_likelier_than_berlin(smollm2):
    scorer = model(smollm2, "simpo").policy
    assert scorer.encoder.uses_chat_template
    encoded = scorer.encode([Sample.from_text(FRANCE, f"The capital of France is {city}.")
                             for city in ("Paris", "Berlin")])
    paris, berlin = (float(row.sum()) for row in scorer.response_logprobs(encoded))
    assert paris - berlin > 5.0


def test_density_ratio_follows_the_criteria(smollm2):
    cdr = model(smollm2, "cdr", criteria="You are a pirate. Always answer like a pirate, saying 'Arr matey'.")
    pirate, plain = cdr.score([Sample.from_text("How are you today?", "Arr matey, I be fine!"),
                               Sample.from_text("How are you today?", "I am fine, thank you.")]).rewards
    assert pirate > plain + 3.0


def test_reference_probability_prefers_the_right_answer(smollm2):
    samples = [Sample.from_text("What is 6 times 7?", "6 times 7 is 42.", reference_answer="42"),
               Sample.from_text("What is 6 times 7?", "6 times 7 is 36.", reference_answer="42"),
               Sample.from_text("What is 6 times 7?", "", reference_answer="42")]
    right, wrong, bare = model(smollm2, "rlpr", debias=False).score(samples).rewards
    assert 0.0 < wrong < right <= 1.0
    # Debiased (the default): what the response adds to the prompt alone. The wrong working makes 42 less
    # likely than the bare prompt does (measured: p 0.90 and 0.38 against 0.42 with no response), so it earns 0.
    debiased = model(smollm2, "rlpr").score(samples).rewards
    assert debiased == pytest.approx([right - bare, 0.0, 0.0], abs=1e-5) and debiased[0] > 0.3


def test_steps_on_a_byte_level_tokenizer(smollm2):
    network, tokenizer = smollm2
    scorer = LogprobScorer(network, tokenizer, 256)
    prm = ImplicitProcessModel(scorer, scorer, ProcessOptions(reference="smollm2"))
    sample = Sample.from_text("Start with 3, add 4, then multiply by 2.",
                              "Step 1: 3 + 4 = 7\nStep 2: 7 x 2 = 14\nThe answer is 14.")
    assert prm.score([sample]).steps == [[0.0, 0.0, 0.0]]  # policy == reference: every log-ratio is 0
    encoded = scorer.encode([sample])[0]
    index, n_steps = response_token_steps(scorer.encoder, sample, encoded, "newline")
    text = [tokenizer.decode([t for t, k in zip(encoded.input_ids[encoded.response_start:], index) if k == step])
            for step in range(n_steps)]
    assert text == ["Step 1: 3 + 4 = 7\n", "Step 2: 7 x 2 = 14\n", "The answer is 14.<|im_end|>\n"]


def test_dpo_spec_with_the_default_model_scores_verifiable_pairs():
    from rewardkit import families
    from rewardkit.synth import generate_pairs

    dpo = families.build("implicit:dpo", policy="smollm2", reference="smollm2", max_length=256)
    samples = [s for p in generate_pairs(3, seed=0) for s in p.pair.samples()]
    scores = dpo.score(samples)
    assert len(scores) == len(samples) and scores.rewards == [0.0] * len(samples)
    assert dpo.reference.cache is not None and len(dpo.reference.cache) == len(samples)
