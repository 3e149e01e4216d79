"""The packed encoder forward gives the network's own logits and gradients, with padding and token types."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models.packed_encoder import packable, packed_logits


def _tiny(kind: str, vocab: int, dropout: float = 0.0):
    from transformers import (BertConfig, BertForSequenceClassification, RobertaConfig,
                              RobertaForSequenceClassification)

    torch.manual_seed(0)
    shape = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                 intermediate_size=64, num_labels=2, hidden_dropout_prob=dropout,
                 attention_probs_dropout_prob=dropout)
    if kind == "bert":
        return BertForSequenceClassification(BertConfig(max_position_embeddings=64, type_vocab_size=2, **shape))
    return RobertaForSequenceClassification(RobertaConfig(max_position_embeddings=66, pad_token_id=1, **shape))


def _batch(vocab: int, lengths: list[int], token_types: bool):
    """Right-padded ids (pad 1, never used as a real token), mask and optional segment ids."""
    generator = torch.Generator().manual_seed(1)
    width = max(lengths)
    ids = torch.full((len(lengths), width), 1, dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    types = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(5, vocab, (n,), generator=generator)
        mask[row, :n] = 1
        types[row, n // 2 : n] = 1
    return ids, mask, (types if token_types else None)


FEW = [7, 3, 12, 1, 9]
MANY = [7, 3, 12, 1, 9, 14, 2, 2, 11, 5, 13, 6, 8, 10, 4, 12, 3, 9, 1]
"""More sequences than one attention group (GROUP_SIZE), unsorted, with repeated lengths."""


@pytest.mark.parametrize("lengths", [FEW, MANY])
@pytest.mark.parametrize("pack", [True, False])
@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_packed_logits_equal_the_network_forward(kind, pack, lengths):
    from rewardkit.models.grouped_grids import GROUP_SIZE

    assert len(MANY) > 2 * GROUP_SIZE
    network = _tiny(kind, vocab=100).eval()
    ids, mask, types = _batch(100, lengths, token_types=kind == "bert")
    extra = {"token_type_ids": types} if types is not None else {}
    with torch.no_grad():
        expected = network(input_ids=ids, attention_mask=mask, **extra).logits
        got = packed_logits(network, ids, mask, types, pack=pack)
    assert packable(network)
    assert got.shape == expected.shape == (len(lengths), 2)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_packed_logits_do_not_depend_on_the_padding_width():
    network = _tiny("bert", vocab=100).eval()
    ids, mask, types = _batch(100, [6, 4], token_types=True)
    wide = [torch.nn.functional.pad(t, (0, 10)) for t in (ids, mask, types)]
    wide[0][:, 6:] = 1
    with torch.no_grad():
        torch.testing.assert_close(packed_logits(network, *wide), packed_logits(network, ids, mask, types),
                                   atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("lengths", [[8, 5, 11], MANY])
def test_packed_gradients_equal_the_network_gradients(lengths):
    packed, plain = _tiny("bert", vocab=100).train(), _tiny("bert", vocab=100).train()
    ids, mask, types = _batch(100, lengths, token_types=True)
    packed_logits(packed, ids, mask, types)[:, 0].sum().backward()
    plain(input_ids=ids, attention_mask=mask, token_type_ids=types).logits[:, 0].sum().backward()
    compared = 0
    for (name, a), b in zip(packed.named_parameters(), plain.parameters()):
        if b.grad is None:
            assert a.grad is None or not a.grad.any(), name
            continue
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
        compared += 1
    assert compared > 20


def test_unsupported_networks_are_not_packable():
    from transformers import BertConfig, BertForSequenceClassification, LlamaConfig, LlamaForSequenceClassification

    relative = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                        num_attention_heads=2, intermediate_size=32,
                                                        position_embedding_type="relative_key"))
    decoder = LlamaForSequenceClassification(LlamaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                         num_attention_heads=2, intermediate_size=32))
    assert not packable(relative) and not packable(decoder)
