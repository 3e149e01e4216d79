"""The packed decoder forward gives the network's own logits and gradients: Llama (plain and grouped-query),
Qwen2 (attention biases) and Mistral (a sliding window shorter than the sequences), either padding side."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models.packed_decoder import packable_decoder, packed_decoder_logits

PAD = 1
"""The pad id; never a real token here, so plain transformers pools the last real token too."""


def tiny_decoder(kind: str, vocab: int = 100, seed: int = 0, causal_lm: bool = False):
    """A 3-layer, 32-wide random decoder of `kind`: a 2-label sequence classifier, or (`causal_lm`) a causal LM
    with its own LM head drawn sharper than the default init, so log-probabilities are far from uniform."""
    import transformers

    torch.manual_seed(seed)
    head = {"tie_word_embeddings": False} if causal_lm else {"num_labels": 2}
    shape = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
                 max_position_embeddings=128, pad_token_id=PAD, **head)
    family, config = {
        "llama": ("Llama", dict(num_key_value_heads=4)),
        "llama-gqa": ("Llama", dict(num_key_value_heads=2, rope_theta=500.0)),
        "qwen2": ("Qwen2", dict(num_key_value_heads=2)),
        "mistral": ("Mistral", dict(num_key_value_heads=1, sliding_window=5)),  # most sequences below are longer
    }[kind]
    model_class = getattr(transformers, family + ("ForCausalLM" if causal_lm else "ForSequenceClassification"))
    network = model_class(getattr(transformers, family + "Config")(**config, **shape))
    if causal_lm:
        with torch.no_grad():
            network.lm_head.weight.normal_(0.0, 0.5)
    return network


def padded_batch(lengths: list[int], side: str = "right", vocab: int = 100, seed: int = 1):
    """Random ids (never PAD) and mask, padded on `side`."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        cells = slice(0, n) if side == "right" else slice(width - n, width)
        ids[row, cells] = torch.randint(5, vocab, (n,), generator=generator)
        mask[row, cells] = 1
    return ids, mask


def plain_logits(network, ids, mask):
    """transformers' own forward, with positions counted from each row's first real token."""
    return network(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0)).logits


FEW = [7, 3, 12, 1, 9]
MANY = [7, 3, 12, 1, 9, 14, 2, 2, 11, 5, 13, 6, 8, 10, 4, 12, 3, 9, 1]
"""More sequences than one attention group, unsorted, repeated lengths, single-token sequences."""
SPREAD = [3, 61, 5, 40, 2]
"""Very different lengths in one batch."""
KINDS = ["llama", "llama-gqa", "qwen2", "mistral"]


@pytest.mark.parametrize("lengths", [FEW, MANY, SPREAD])
@pytest.mark.parametrize("kind", KINDS)
def test_packed_logits_equal_the_network_forward(kind, lengths):
    network = tiny_decoder(kind).eval()
    ids, mask = padded_batch(lengths)
    with torch.no_grad():
        expected = network(input_ids=ids, attention_mask=mask).logits
        got = packed_decoder_logits(network, ids, mask)
    assert packable_decoder(network)
    assert got.shape == expected.shape == (len(lengths), 2)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["llama-gqa", "mistral"])
def test_left_padding_gives_the_same_logits(kind):
    network = tiny_decoder(kind).eval()
    right, left = padded_batch(MANY, "right"), padded_batch(MANY, "left")
    assert torch.equal(right[0][right[1].bool()], left[0][left[1].bool()])  # the same tokens
    with torch.no_grad():
        expected = plain_logits(network, *left)
        torch.testing.assert_close(packed_decoder_logits(network, *left), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(packed_decoder_logits(network, *right), expected, atol=1e-5, rtol=1e-5)


def test_the_sliding_window_is_applied():
    """A Mistral whose window is wider than every sequence differs from one with a 5-token window: the window
    test above is not passing by ignoring it."""
    narrow = tiny_decoder("mistral").eval()
    wide = tiny_decoder("mistral").eval()
    wide.config.sliding_window = 1000
    ids, mask = padded_batch(SPREAD)
    with torch.no_grad():
        assert not torch.allclose(packed_decoder_logits(narrow, ids, mask), packed_decoder_logits(wide, ids, mask),
                                  atol=1e-4)


@pytest.mark.parametrize("lengths", [[8, 5, 11], MANY])
@pytest.mark.parametrize("kind", KINDS)
def test_packed_gradients_equal_the_network_gradients(kind, lengths):
    packed, plain = tiny_decoder(kind).train(), tiny_decoder(kind).train()
    ids, mask = padded_batch(lengths)
    weights = torch.linspace(-1.0, 1.0, len(lengths))  # a loss that reads every row differently
    (packed_decoder_logits(packed, ids, mask)[:, 0] * weights).sum().backward()
    (plain(input_ids=ids, attention_mask=mask).logits[:, 0] * weights).sum().backward()
    compared = 0
    for (name, a), b in zip(packed.named_parameters(), plain.parameters()):
        if b.grad is None:
            assert a.grad is None or not a.grad.any(), name
            continue
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
        compared += 1
    assert compared >= 3 * 9 + 3  # every layer's projections, MLP and norms, the embeddings, final norm and head


def test_logits_do_not_depend_on_the_padding_width():
    network = tiny_decoder("llama-gqa").eval()
    ids, mask = padded_batch([6, 4])
    wide_ids = torch.nn.functional.pad(ids, (0, 10), value=PAD)
    wide_mask = torch.nn.functional.pad(mask, (0, 10))
    with torch.no_grad():
        torch.testing.assert_close(packed_decoder_logits(network, wide_ids, wide_mask),
                                   packed_decoder_logits(network, ids, mask), atol=1e-6, rtol=1e-6)


def test_other_networks_are_not_packable():
    from transformers import GPT2Config, GPT2ForSequenceClassification

    gpt2 = GPT2ForSequenceClassification(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=32))
    assert not packable_decoder(gpt2)


def sharing_batch(side: str = "right"):
    """Rows that begin like the row before them: a pair after one prompt (rows 0-1), three candidates after
    another (2-4; 4 shares less with 3 than 3 with 2), a row that is a prefix of the one before it (5-6), an
    exact duplicate (7-8), and a row sharing nothing (9). Returns ids, mask and shared."""
    generator = torch.Generator().manual_seed(5)

    def tokens(n):
        return torch.randint(5, 100, (n,), generator=generator).tolist()

    prompt, other = tokens(20), tokens(9)
    rows = [prompt + tokens(4), prompt + tokens(7), other + tokens(3), other + tokens(3), other[:6] + tokens(5)]
    rows[3][9] = rows[2][9]  # rows 2 and 3 share one response token too
    longer = tokens(12)
    duplicate = tokens(8)
    rows += [longer, longer[:7], duplicate, list(duplicate), tokens(6)]
    shared = [0, 20, 0, 10, 6, 0, 7, 0, 8, 0]
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for index, row in enumerate(rows):
        cells = slice(0, len(row)) if side == "right" else slice(width - len(row), width)
        ids[index, cells], mask[index, cells] = torch.tensor(row), 1
    return ids, mask, torch.tensor(shared)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("kind", KINDS)
def test_shared_prefixes_give_the_same_logits(kind, side):
    network = tiny_decoder(kind).eval()
    ids, mask, shared = sharing_batch(side)
    with torch.no_grad():
        expected = plain_logits(network, ids, mask)
        torch.testing.assert_close(packed_decoder_logits(network, ids, mask, shared), expected, atol=1e-5, rtol=1e-5)


def test_shared_prefixes_are_computed_once():
    network = tiny_decoder("llama").eval()
    ids, mask, shared = sharing_batch()
    rows_seen = []
    projection = network.base_model.layers[0].mlp
    projection.register_forward_hook(lambda module, args, out: rows_seen.append(args[0].shape[0]))
    with torch.no_grad():
        packed_decoder_logits(network, ids, mask)
        packed_decoder_logits(network, ids, mask, shared)
    real = int(mask.sum())
    assert rows_seen[0] == real + (-real % 32)
    fresh = real - (20 + 10 + 6 + 7 + 8)
    assert rows_seen[1] == fresh + (-fresh % 32)


@pytest.mark.parametrize("kind", ["llama-gqa", "mistral"])
def test_shared_prefix_gradients_equal_the_network_gradients(kind):
    packed, plain = tiny_decoder(kind).train(), tiny_decoder(kind).train()
    ids, mask, shared = sharing_batch()
    weights = torch.linspace(-1.0, 1.0, len(ids))
    (packed_decoder_logits(packed, ids, mask, shared)[:, 0] * weights).sum().backward()
    (plain_logits(plain, ids, mask)[:, 0] * weights).sum().backward()
    compared = 0
    for (name, a), b in zip(packed.named_parameters(), plain.parameters()):
        if b.grad is None:
            continue
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
        compared += 1
    assert compared >= 3 * 9 + 3
