"""Decoder scalar models score and train through the packed forward unless told not to, with the scores of the
network's own forward (either padding side, pad == eos), and a static graph (ONNX export) keeps the plain one."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models import scalar
from tests.models.test_scalar import SAMPLES


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_llama_pad_eos"])
def test_packed_and_plain_decoder_scores_agree(fixture, side, request):
    packed = scalar.load(request.getfixturevalue(fixture), padding_side=side)
    plain = scalar.load(request.getfixturevalue(fixture), padding_side=side, packed=False)
    assert packed.scorer.packed_decoder and not plain.scorer.packed_decoder
    rewards = packed.score(SAMPLES).rewards
    assert rewards == pytest.approx(plain.score(SAMPLES).rewards, abs=1e-5)
    assert len({round(r, 4) for r in rewards}) > 1


def test_static_graphs_run_the_decoders_own_forward(tiny_llama):
    model = scalar.load(tiny_llama)
    assert not scalar.PooledScorer(model.network, static_graph=True).packed_decoder


def test_pairwise_training_runs_packed_with_the_plain_gradients(tiny_llama):
    """The module training wraps is the packed scorer; one loss's gradients equal the unpacked scorer's."""
    packed, plain = scalar.load(tiny_llama), scalar.load(tiny_llama, packed=False)
    encoded = packed.encoder.encode_many(SAMPLES)
    for model in (packed, plain):
        model.network.train()
        model.scorer(**model.collate(encoded))[:, 0].pow(2).sum().backward()
    compared = 0
    for (name, a), b in zip(packed.network.named_parameters(), plain.network.parameters()):
        if b.grad is not None and b.grad.any():
            torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
            compared += 1
    assert packed.scorer.packed_decoder and compared >= 2 * 9 + 2


def test_responses_to_one_prompt_share_its_forward_and_score_as_alone(tiny_llama):
    """Best-of-N candidates and a pair's two responses after one long prompt: the prompt is computed once per
    batch, and every score equals the plain forward's and the score of the sample alone."""
    from rewardkit import Sample

    prompt = "Plan a week of meals for a family of four on a budget, with a shopping list. " * 4
    samples = [Sample.from_text(prompt, f"Candidate {i}: " + "beans and rice " * i) for i in range(6)]
    samples += [Sample.from_text("Something else entirely?", "Yes."), samples[2]]  # unrelated, and a duplicate
    packed, plain = scalar.load(tiny_llama), scalar.load(tiny_llama, packed=False)
    passes = []
    packed.network.base_model.layers[0].mlp.register_forward_hook(lambda m, a, out: passes.append(a[0].shape[0]))
    rewards = packed.score(samples, batch_size=16).rewards
    assert rewards == pytest.approx(plain.score(samples).rewards, abs=1e-5)
    assert rewards == pytest.approx([packed.score([s]).rewards[0] for s in samples], abs=1e-5)
    encoded = packed.encoder.encode_many(samples)
    prompt_tokens = encoded[0].response_start
    assert passes[0] <= sum(len(e.input_ids) for e in encoded) - 6 * prompt_tokens + 31  # 7 copies → 1 (+ rows to 32)


def test_pair_training_computes_each_prompt_once_with_the_plain_gradients(tiny_llama):
    """PairTask's loss on a packed decoder shares each pair's prompt between its two responses; the loss and
    its gradients equal those of the unpacked model."""
    from rewardkit import PreferencePair
    from rewardkit.data.schemas import as_conversation
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.tasks import PairTask

    pairs = [PreferencePair(as_conversation(f"Question {i}: how do I keep basil alive indoors in winter? " * 3),
                            f"Good answer {i}: bright window, water when dry.", f"Bad answer {i}: ignore it.")
             for i in range(4)]
    losses, passes = [], []
    packed, plain = scalar.load(tiny_llama), scalar.load(tiny_llama, packed=False)
    packed.network.base_model.layers[0].mlp.register_forward_hook(lambda m, a, out: passes.append(a[0].shape[0]))
    for model in (packed, plain):
        model.network.train()
        task = PairTask(model, pairs, [], pair_objective("bt"))
        loss, _ = task.loss(model.scorer, [0, 1, 2, 3])
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    compared = 0
    for (name, a), b in zip(packed.network.named_parameters(), plain.network.parameters()):
        if b.grad is not None and b.grad.any():
            torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
            compared += 1
    assert compared >= 2 * 9 + 2
    encoded = [e for pair in task.train_pairs for e in pair]
    prompts = sum(c.response_start for c, _ in task.train_pairs)
    assert passes[0] <= sum(len(e.input_ids) for e in encoded) - prompts + 31
