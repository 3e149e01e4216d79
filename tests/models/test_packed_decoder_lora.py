"""LoRA (peft) adapters on a decoder's projections and MLP run through the packed forward: the same logits as the
unpacked peft model, and gradients that reach the adapters (and only them)."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models.packed_decoder import packable_decoder, packed_decoder_logits
from tests.models.test_packed_decoder import MANY, padded_batch, tiny_decoder

peft = pytest.importorskip("peft")

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def with_adapters(kind: str):
    """A tiny decoder with rank-4 adapters initialised at random (zero-initialised ones would change nothing)."""
    torch.manual_seed(3)
    config = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=TARGETS, init_lora_weights=False)
    return peft.get_peft_model(tiny_decoder(kind), config)


@pytest.mark.parametrize("kind", ["llama-gqa", "qwen2"])
def test_packed_logits_equal_the_peft_forward(kind):
    wrapped = with_adapters(kind).eval()
    network = wrapped.base_model.model  # the HF classifier, its Linear layers now LoRA layers
    ids, mask = padded_batch(MANY)
    with torch.no_grad():
        expected = wrapped(input_ids=ids, attention_mask=mask).logits
        got = packed_decoder_logits(network, ids, mask)
        with wrapped.disable_adapter():
            without = packed_decoder_logits(network, ids, mask)
    assert packable_decoder(network)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, without, atol=1e-3)  # the adapters are really in the packed forward


def test_packed_gradients_reach_the_adapters_only():
    packed, plain = with_adapters("llama-gqa").train(), with_adapters("llama-gqa").train()
    ids, mask = padded_batch([8, 5, 11, 2])
    packed_decoder_logits(packed.base_model.model, ids, mask)[:, 0].sum().backward()
    plain(input_ids=ids, attention_mask=mask).logits[:, 0].sum().backward()
    adapters = 0
    for (name, a), b in zip(packed.named_parameters(), plain.parameters()):
        if not a.requires_grad:
            assert a.grad is None, name
            continue
        assert "lora_" in name and a.grad is not None and a.grad.abs().sum() > 0, name
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
        adapters += 1
    assert adapters == 2 * len(TARGETS) * 3  # A and B of every target in each of the 3 layers
