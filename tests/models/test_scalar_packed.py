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
