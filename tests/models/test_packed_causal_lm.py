"""The packed causal-LM forward gives the plain forward's response-token log-probabilities: Llama (plain and
grouped-query), Qwen2 and Mistral (a sliding window shorter than the sequences), either padding side, with shared
prefixes, and through LogprobScorer (cache, peft wrapper)."""

from __future__ import annotations

import pytest
import torch

from rewardkit.data.chat import Encoded
from rewardkit.models import packed_causal_lm
from rewardkit.models.logprobs import LogprobScorer, next_token_logprobs
from rewardkit.models.packed_causal_lm import packable_causal_lm, packed_response_logprobs
from tests.models.test_packed_decoder import MANY, PAD, SPREAD, padded_batch, tiny_decoder

KINDS = ["llama", "llama-gqa", "qwen2", "mistral"]


def tiny_causal_lm(kind: str):
    return tiny_decoder(kind, causal_lm=True).eval()


def plain_columns(network, ids, mask, firsts):
    """Columns firsts[b] … L_b − 2 of next_token_logprobs from transformers' own forward, positions counted from
    each row's first real token (so left padding is read as the packed forward reads it)."""
    with torch.no_grad():
        logits = network(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0)).logits
    out = []
    for row, first in enumerate(firsts):
        cells = mask[row].bool()
        values = next_token_logprobs(logits[row][cells][None], ids[row][cells][None])[0]
        out.append(values[first:])
    return out


def firsts_for(lengths):
    """A response start per sequence: 0, the middle, the last token, and past the end (an empty response)."""
    return [(0, n // 2, n - 1, n + 3)[i % 4] for i, n in enumerate(lengths)]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("lengths", [MANY, SPREAD])
@pytest.mark.parametrize("kind", KINDS)
def test_packed_logprobs_equal_the_network_forward(kind, lengths, side):
    network = tiny_causal_lm(kind)
    ids, mask = padded_batch(lengths, side)
    firsts = firsts_for(lengths)
    expected = plain_columns(network, ids, mask, firsts)
    with torch.no_grad():
        got = packed_response_logprobs(network, ids, mask, firsts)
    assert packable_causal_lm(network)
    assert [len(g) for g in got] == [max(n - 1 - f, 0) for n, f in zip(lengths, firsts)]
    assert sum(len(g) for g in got) > len(lengths)  # not all empty
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)


def shared_prefix_batch(vocab: int = 100):
    """Three prompts, each followed by 2 or 3 responses (rows of one prompt adjacent), right-padded; the tokens
    each row shares with the row before it; and each row's response start (two of them inside the shared part,
    as when two responses begin with the same words)."""
    generator = torch.Generator().manual_seed(3)

    def tokens(n):
        return torch.randint(5, vocab, (n,), generator=generator).tolist()

    rows, shared, firsts = [], [], []
    for prompt_length, responses in ((9, [4, 7]), (20, [1, 6, 3]), (2, [11, 5])):
        prompt = tokens(prompt_length)
        for k, n in enumerate(responses):
            rows.append(prompt + tokens(n))
            shared.append(prompt_length if k else 0)
            firsts.append(prompt_length - 1)
    rows[1][9:11] = rows[0][9:11]  # the second response begins like the first: 11 tokens in common
    shared[1] = 11
    firsts[1] = 10
    width = max(len(r) for r in rows)
    ids = torch.tensor([r + [PAD] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    return ids, mask, torch.tensor(shared), firsts


@pytest.mark.parametrize("kind", KINDS)
def test_shared_prefixes_give_the_same_logprobs(kind, monkeypatch):
    network = tiny_causal_lm(kind)
    ids, mask, shared, firsts = shared_prefix_batch()
    expected = plain_columns(network, ids, mask, firsts)
    monkeypatch.setattr(packed_causal_lm, "LOGIT_CHUNK_ROWS", 5)  # several LM-head chunks, cut mid-sequence
    embedded = []
    network.model.embed_tokens.register_forward_hook(lambda module, args, out: embedded.append(len(args[0])))
    with torch.no_grad():
        got = packed_response_logprobs(network, ids, mask, firsts, shared)
    assert embedded == [int(mask.sum()) - int(shared[1:].sum())]  # each shared token computed once
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)


def encoded_batch(lengths, vocab: int = 100):
    """Encoded sequences: pairs of responses after one prompt each, and a repeat of the first sequence."""
    generator = torch.Generator().manual_seed(7)
    out = []
    for n in lengths:
        prompt = torch.randint(5, vocab, (n,), generator=generator).tolist()
        for response_length in (3, 8):
            response = torch.randint(5, vocab, (response_length,), generator=generator).tolist()
            out.append(Encoded(prompt + response, n, truncated=False))
    return out + [out[0]]


class _Tokenizer:
    pad_token_id = PAD
    chat_template = None


def test_the_scorer_runs_packed_and_agrees_with_its_plain_forward():
    network = tiny_causal_lm("llama-gqa")
    encoded = encoded_batch([5, 17, 2, 30, 9])
    packed = LogprobScorer(network, _Tokenizer(), max_length=128, batch_size=4, cache=True)
    plain = LogprobScorer(network, _Tokenizer(), max_length=128, batch_size=4, packed=False)
    assert packed.packed and not plain.packed
    got, expected = packed.response_logprobs(encoded), plain.response_logprobs(encoded)
    assert [len(g) for g in got] == [len(e.input_ids) - e.response_start for e in encoded]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)
    assert len(packed.cache) == len(encoded) - 1  # the repeated sequence is one entry
    assert got[-1] is got[0]  # and computed once
    again = packed.response_logprobs(encoded)
    assert packed.cache.hits == len(encoded) and all(torch.equal(a, g) for a, g in zip(again, got))


def test_a_peft_wrapped_lm_runs_packed_with_its_adapters():
    from peft import LoraConfig, get_peft_model

    adapters = LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)  # non-zero from the start
    network = get_peft_model(tiny_causal_lm("llama"), adapters)
    encoded = encoded_batch([6, 11])
    packed = LogprobScorer(network, _Tokenizer(), max_length=128)
    plain = LogprobScorer(network, _Tokenizer(), max_length=128, packed=False)
    bare = LogprobScorer(network.get_base_model(), _Tokenizer(), max_length=128, packed=False)
    assert packed.packed
    with network.disable_adapter():
        without_adapters = bare.response_logprobs(encoded)
    got, expected = packed.response_logprobs(encoded), plain.response_logprobs(encoded)
    for g, e, w in zip(got, expected, without_adapters):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(g, w, atol=1e-3)  # the adapters took part


def test_other_models_are_not_packed():
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_embd=32, n_layer=1, n_head=2))
    assert not packable_causal_lm(gpt2)
    assert not packable_causal_lm(tiny_decoder("llama"))  # a sequence classifier has no LM head
    assert not LogprobScorer(gpt2, _Tokenizer(), max_length=64).packed


@pytest.mark.parametrize("kind", ["llama-gqa", "mistral"])
def test_training_sums_and_gradients_equal_the_plain_forward(kind):
    """ResponseLogprobSum (DPO training's module) packed, with shared prompts, against its plain forward."""
    from rewardkit.training.log_ratio import ResponseLogprobSum

    packed, plain = ResponseLogprobSum(tiny_causal_lm(kind).train()), ResponseLogprobSum(tiny_causal_lm(kind).train())
    plain.packed = False
    assert packed.packed
    ids, mask, shared, firsts = shared_prefix_batch()
    firsts = torch.tensor(firsts)
    weights = torch.linspace(-1.0, 1.0, len(ids))  # a loss that reads every row differently
    sums = packed(ids, mask, firsts, shared)
    expected = plain(ids, mask, firsts, torch.zeros_like(shared))
    torch.testing.assert_close(sums, expected, atol=1e-5, rtol=1e-5)
    (sums * weights).sum().backward()
    (expected * weights).sum().backward()
    compared = 0
    for (name, a), b in zip(packed.named_parameters(), plain.parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
        compared += 1
    assert compared == 3 * 9 + 3  # every layer's projections, MLP and norms; embeddings, final norm, LM head
