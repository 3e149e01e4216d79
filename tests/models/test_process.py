"""Step segmentation, per-step implicit rewards by hand, aggregation, padding invariance, save/load."""

from __future__ import annotations

import pytest

import rewardkit
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.implicit import build_implicit
from rewardkit.models.process import ImplicitProcessModel, StepHeadModel, build_process, build_step_head
from rewardkit.models.steps import aggregate_steps, response_token_steps, split_steps, step_spans
from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm

SAMPLES = [
    Sample.from_text("Start with 3, add 4, then multiply by 2.",
                     "Step 1: 3 + 4 = 7\nStep 2: 7 x 2 = 14\nThe answer is 14."),
    Sample.from_text("Start with 9, subtract 5.", "Step 1: 9 - 5 = 4\nThe answer is 4."),
    Sample.from_text("One step only?", "Just one step."),
    Sample.from_text("Blank lines?", "First line.\n\nSecond line after a blank.\nThird."),
]


def flat(steps: list[list[float]]) -> list[float]:
    return [value for row in steps for value in row]


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("process_lms")
    return {
        "policy": save_tiny_causal_lm(root / "policy", seed=0),
        "reference": save_tiny_causal_lm(root / "reference", seed=1),
        "chat": save_tiny_causal_lm(root / "chat", seed=2, chat_template=SIMPLE_CHAT_TEMPLATE),
        "chat_ref": save_tiny_causal_lm(root / "chat_ref", seed=3, chat_template=SIMPLE_CHAT_TEMPLATE),
    }


def test_separators_cover_the_text():
    text = "Step 1: 2+2=4\nStep 2: 4x3=12\n\nThe answer is 12."
    assert split_steps(text, "newline") == ["Step 1: 2+2=4\n", "Step 2: 4x3=12\n\n", "The answer is 12."]
    assert split_steps(text, "step") == ["Step 1: 2+2=4\n", "Step 2: 4x3=12\n\nThe answer is 12."]
    assert split_steps("Intro. step 1. a STEP 2: b", "step") == ["Intro. ", "step 1. a ", "STEP 2: b"]
    assert split_steps("a ки b ки c", "ки") == ["a ки", " b ки", " c"]
    assert split_steps("\n\nonly", "newline") == ["\n\nonly"]
    assert split_steps("", "newline") == [""]
    for separator in ("newline", "step", "ки"):
        spans = step_spans(text, separator)
        assert spans[0][0] == 0 and spans[-1][1] == len(text)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_aggregations():
    values = [0.5, -1.0, 2.0]
    assert [aggregate_steps(values, how) for how in ("min", "mean", "sum", "last")] == [-1.0, 0.5, 1.5, 2.0]
    with pytest.raises(ValueError, match="unknown step aggregation 'max'"):
        aggregate_steps(values, "max")


@pytest.mark.parametrize("policy, reference", [("policy", "reference"), ("chat", "chat_ref")])
def test_step_rewards_by_hand(lms, policy, reference):
    model = build_process(lms[policy], lms[reference], beta=0.5, aggregation="sum")
    scores = model.score(SAMPLES)
    assert [len(s) for s in scores.steps] == [3, 2, 1, 3]
    for sample, steps in zip(SAMPLES, scores.steps):
        encoded = model.policy.encode([sample])[0]
        index, n_steps = response_token_steps(model.policy.encoder, sample, encoded, "newline")
        ratio = (model.policy.response_logprobs([encoded])[0] - model.reference.response_logprobs([encoded])[0])
        by_hand = [0.5 * float(sum(ratio[j] for j in range(len(index)) if index[j] == k)) for k in range(n_steps)]
        assert steps == pytest.approx(by_hand, abs=1e-5)
    # the steps of a response add up to its DPO implicit reward
    dpo = build_implicit("dpo", lms[policy], lms[reference], beta=0.5).score(SAMPLES).rewards
    assert scores.rewards == pytest.approx(dpo, abs=1e-4)


def test_tokens_map_to_their_steps(lms):
    model = build_process(lms["chat"], lms["chat_ref"])
    encoded = model.policy.encode(SAMPLES[:1])[0]
    index, n_steps = response_token_steps(model.policy.encoder, SAMPLES[0], encoded, "newline")
    tokens = model.policy.tokenizer.convert_ids_to_tokens(encoded.input_ids[encoded.response_start:])
    words = [[t for t, k in zip(tokens, index) if k == step] for step in range(n_steps)]
    assert words[0] == ["step", "1", ":", "3", "+", "4", "=", "7"]
    assert words[1][:3] == ["step", "2", ":"] and words[2] == ["the", "answer", "is", "14", ".", "[SEP]"]


def test_step_rewards_do_not_depend_on_batch_composition(lms):
    model = build_process(lms["policy"], lms["reference"])
    together = model.score(SAMPLES).steps
    model.policy.batch_size = model.reference.batch_size = 1
    for sample, steps in zip(SAMPLES, together):
        assert model.score([sample]).steps[0] == pytest.approx(steps, abs=1e-5)


def test_saved_process_model_loads_through_the_registry(lms, tmp_path):
    model = build_process(lms["policy"], lms["reference"], beta=0.1, aggregation="last")
    model.save(tmp_path / "prm")
    loaded = rewardkit.load(str(tmp_path / "prm"))
    assert isinstance(loaded, ImplicitProcessModel) and loaded.options.aggregation == "last"
    assert flat(loaded.score(SAMPLES).steps) == pytest.approx(flat(model.score(SAMPLES).steps), abs=1e-6)
    assert rewardkit.load(str(tmp_path / "prm"), aggregation="min").options.aggregation == "min"


def test_process_options_are_checked(lms):
    with pytest.raises(ConfigError, match="needs a reference"):
        build_process(lms["policy"], None)
    with pytest.raises(ConfigError, match="unknown step aggregation"):
        build_process(lms["policy"], lms["reference"], aggregation="median")


def test_explicit_step_head_reads_each_step_end(lms, tmp_path):
    model = build_step_head(lms["chat"], separator="newline")
    scores = model.score(SAMPLES)
    assert [len(s) for s in scores.steps] == [3, 2, 1, 3]
    assert all(0.0 < v < 1.0 for steps in scores.steps for v in steps)
    encoded, ends = model.encode(SAMPLES[0])
    tokens = model.tokenizer.convert_ids_to_tokens(encoded.input_ids)
    assert [tokens[e] for e in ends] == ["7", "14", "[SEP]"]
    model.save(tmp_path / "head")
    loaded = rewardkit.load(str(tmp_path / "head"))
    assert isinstance(loaded, StepHeadModel)
    assert flat(loaded.score(SAMPLES).steps) == pytest.approx(flat(scores.steps), abs=1e-6)
    alone = [loaded.score([s]).steps[0] for s in SAMPLES]
    assert flat(alone) == pytest.approx(flat(scores.steps), abs=1e-5)


def test_the_step_head_runs_packed_with_the_plain_logits_and_gradients(lms, monkeypatch):
    """A Llama step head reads its step ends from the packed forward (two candidates after one prompt share
    their prompt); the logits and their gradients are those of transformers' own forward."""
    import torch

    from rewardkit.data.batching import common_prefix
    from rewardkit.models import process

    model = build_step_head(lms["chat"], separator="newline")
    assert process.packable_decoder(model.network)
    model.network.train()
    model.network.dropout.p = 0.0  # a deterministic comparison
    samples = [*SAMPLES, Sample.from_text(SAMPLES[0].prompt[0].content, "Step 1: 3 + 4 = 8\nThe answer is 16.")]
    items = [model.encode(s) for s in samples]
    batch = model.collate([e for e, _ in items])
    ends = [e for _, e in items]
    order = [1, 2, 3, 0, 4]  # the two candidates for one prompt last, adjacent
    shared = torch.tensor([0, 0, 0, 0, common_prefix(items[0][0].input_ids, items[4][0].input_ids)])
    assert shared[4] > 5
    packed = model.step_end_logits(model.network, {k: v[order] for k, v in batch.items()}, [ends[i] for i in order],
                                   shared)
    (packed.sum(dim=1) * torch.linspace(-1, 1, 5)).sum().backward()
    packed_grads = {n: p.grad.clone() for n, p in model.network.named_parameters() if p.grad is not None}
    model.network.zero_grad()
    monkeypatch.setattr(process, "packable_decoder", lambda network: False)
    plain = model.step_end_logits(model.network, {k: v[order] for k, v in batch.items()}, [ends[i] for i in order])
    (plain.sum(dim=1) * torch.linspace(-1, 1, 5)).sum().backward()
    torch.testing.assert_close(packed, plain, atol=1e-5, rtol=1e-5)
    assert packed.shape == (5, 3)
    assert len(packed_grads) == len(list(model.network.parameters()))
    for name, parameter in model.network.named_parameters():
        torch.testing.assert_close(packed_grads[name], parameter.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_a_wrapped_step_head_runs_its_wrappers_forward(lms):
    """A network inside a wrapper (as DistributedDataParallel wraps it) is not packed behind the wrapper's back:
    its forward runs, and gives the packed logits."""
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.calls = inner, 0

        def forward(self, **kwargs):
            self.calls += 1
            return self.inner(**kwargs)

    head = build_step_head(lms["chat"], separator="newline")
    model = head.network.eval()
    items = [head.encode(s) for s in SAMPLES]
    batch, ends = head.collate([e for e, _ in items]), [e for _, e in items]
    wrapped = Wrapper(model)
    with torch.no_grad():
        through_wrapper = head.step_end_logits(wrapped, batch, ends)
        packed = head.step_end_logits(model, batch, ends)
    assert wrapped.calls == 1
    torch.testing.assert_close(through_wrapper, packed, atol=1e-5, rtol=1e-5)
