"""The implicit family's maths, checked token by token against a log-softmax computed by hand."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from dataclasses import replace

import pytest
import torch

import rewardkit
from rewardkit import families
from rewardkit.data.schemas import Message, Sample
from rewardkit.errors import ConfigError, ModelLoadError
from rewardkit.models.causal_lm import cache_root, resolve_causal_lm
from rewardkit.families.registry import parse_spec
from rewardkit.models.implicit import (
    DEFAULT_BETA, ImplicitOptions, ImplicitRewardModel, build_implicit, encode_answer_after, with_criteria,
)
from rewardkit.models.logprobs import LogprobCache, response_target_mask
from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm

SAMPLES = [
    Sample.from_text("What is 2+2?", "Step 1: 2 + 2 = 4\nThe answer is 4."),
    Sample.from_text("Say hello.", "Hello there, friend!"),
    Sample((Message("system", "Be brief."), Message("user", "Name a colour.")), "Blue."),
    Sample.from_text("Count to five please, slowly and clearly.", "one two three four five"),
]


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    root = tmp_path_factory.mktemp("implicit_lms")
    return {
        "policy": save_tiny_causal_lm(root / "policy", seed=0),
        "reference": save_tiny_causal_lm(root / "reference", seed=1),
        "chat": save_tiny_causal_lm(root / "chat", seed=2, chat_template=SIMPLE_CHAT_TEMPLATE),
        "chat_ref": save_tiny_causal_lm(root / "chat_ref", seed=3, chat_template=SIMPLE_CHAT_TEMPLATE),
    }


def manual_response_logprobs(scorer, sample: Sample) -> list[float]:
    """log p(y_t | y_<t) for every response token: one sequence alone, log-softmax written out in float64."""
    encoded = scorer.encoder.encode(sample)
    ids = encoded.input_ids
    with torch.no_grad():
        logits = scorer.network(input_ids=torch.tensor([ids])).logits[0].double()
    values = []
    for t in range(encoded.response_start, len(ids)):
        row = logits[t - 1]
        values.append(float(row[ids[t]] - math.log(sum(math.exp(v) for v in (row - row.max()).tolist()))
                            - row.max()))
    return values


@pytest.mark.parametrize("policy, reference", [("policy", "reference"), ("chat", "chat_ref")])
def test_dpo_reward_matches_hand_computed_log_ratio(lms, policy, reference):
    model = build_implicit("dpo", lms[policy], lms[reference], beta=0.3)
    assert model.policy.encoder.uses_chat_template == (policy == "chat")
    rewards = model.score(SAMPLES).rewards
    for sample, reward in zip(SAMPLES, rewards):
        by_hand = 0.3 * (sum(manual_response_logprobs(model.policy, sample))
                         - sum(manual_response_logprobs(model.reference, sample)))
        assert reward == pytest.approx(by_hand, abs=1e-4)
        assert abs(by_hand) > 1e-3  # two different random models: a non-trivial ratio


def test_prompt_tokens_are_masked(lms):
    model = build_implicit("simpo", lms["policy"], beta=1.0)
    encoded = model.policy.encode(SAMPLES[:1])[0]
    response_tokens = len(encoded.input_ids) - encoded.response_start
    values = model.policy.response_logprobs([encoded])[0]
    assert len(values) == response_tokens
    every = manual_response_logprobs(model.policy, SAMPLES[0])
    assert model.score(SAMPLES[:1]).rewards[0] == pytest.approx(sum(every) / len(every), abs=1e-5)
    mask = response_target_mask(torch.tensor([[1] * 6 + [0, 0]]), [4])  # targets 4 and 5 only
    assert mask.tolist() == [[0, 0, 0, 1, 1, 0, 0]]


def test_chat_template_puts_the_response_after_the_assistant_marker(lms):
    model = build_implicit("simpo", lms["chat"])
    encoded = model.policy.encode([SAMPLES[1]])[0]
    tokens = model.policy.tokenizer.convert_ids_to_tokens(encoded.input_ids)
    assert tokens[encoded.response_start - 3: encoded.response_start] == ["assistant", "|", ">"]
    assert tokens[-1] == "[SEP]"  # the end of turn belongs to the response


@pytest.mark.parametrize("kind", ["dpo", "simpo", "cdr"])
def test_scores_do_not_depend_on_batch_composition(lms, kind):
    model = build_implicit(kind, lms["policy"], lms["reference"], criteria="Answer correctly.")
    together = model.score(SAMPLES).rewards
    alone = [model.score([s]).rewards[0] for s in SAMPLES]
    model.policy.batch_size = model.reference.batch_size = 3
    reordered = model.score(SAMPLES[::-1]).rewards[::-1]
    # fp32 rounding differs with the batch (other GEMM blocking, prefixes shared with other neighbours): a reward
    # that sums many token log-probs (cdr: 26 here) moved by 1.5e-5 on an emulated AVX2 CPU (qemu EPYC-Milan), 6e-7
    # of its size. A sample leaking into another's computation would move it by far more than this tolerance.
    assert together == pytest.approx(alone, rel=5e-6, abs=1e-5)
    assert together == pytest.approx(reordered, rel=5e-6, abs=1e-5)


def test_density_ratio_with_criteria_prompt(lms):
    criteria = "A good answer is short and correct."
    model = build_implicit("cdr", lms["chat"], None, beta=1.0, criteria=criteria)
    reward = model.score([SAMPLES[0]]).rewards[0]
    strong = sum(manual_response_logprobs(model.policy, with_criteria(SAMPLES[0], criteria)))
    weak = sum(manual_response_logprobs(model.policy, SAMPLES[0]))
    assert reward == pytest.approx(strong - weak, abs=1e-4)
    assert with_criteria(SAMPLES[2], "C").prompt[0] == Message("system", "C\n\nBe brief.")


def test_rlpr_is_the_mean_probability_of_the_reference_answer(lms):
    model = build_implicit("rlpr", lms["policy"], debias=False)
    answered = [replace(SAMPLES[0], reference_answer="4"), replace(SAMPLES[1], reference_answer="hello")]
    rewards = model.score(answered).rewards
    assert all(0.0 < r <= 1.0 for r in rewards)
    encoded = model.policy.encoder.tokenizer(" 4", add_special_tokens=False)["input_ids"]
    answer = encode_answer_after(model.policy.encoder, SAMPLES[0], "4", model.options.answer_prefix)
    values = model.policy.response_logprobs([answer])[0]
    assert len(values) == len(encoded)
    assert rewards[0] == pytest.approx(float(values.exp().mean()), abs=1e-6)
    with pytest.raises(ConfigError, match="reference answer for every sample.*1 of 2 have none, the first at "
                                          "position 1"):
        model.score([answered[0], SAMPLES[1]])


def test_rlpr_debiasing_subtracts_the_answer_probability_without_the_response_and_clips(lms):
    answered = [replace(SAMPLES[0], reference_answer="4"), replace(SAMPLES[1], reference_answer="hello")]
    raw = build_implicit("rlpr", lms["policy"], debias=False)
    debiased = build_implicit("rlpr", lms["policy"], beta=2.0)
    assert debiased.options.debias  # RLPR's recipe is the default
    # p' by hand: the answer placed right after the prompt, with no response in between
    bare = [replace(s, response="") for s in answered]
    expected_base = []
    for sample in bare:
        encoded = encode_answer_after(raw.policy.encoder, sample, sample.reference_answer, raw.options.answer_prefix)
        assert raw.policy.encoder.tokenizer.decode(encoded.input_ids[encoded.response_start:]).strip() == \
            sample.reference_answer
        expected_base.append(float(raw.policy.response_logprobs([encoded])[0].exp().mean()))
    p = raw.score(answered).rewards
    assert raw.score(bare).rewards == pytest.approx(expected_base, abs=1e-6)
    expected = [2.0 * min(max(a - b, 0.0), 1.0) for a, b in zip(p, expected_base)]
    assert debiased.score(answered).rewards == pytest.approx(expected, abs=1e-6)
    # a response that adds nothing to the bare prompt earns nothing
    assert debiased.score(bare).rewards == [0.0, 0.0]


def test_reference_log_probs_are_cached(lms):
    model = build_implicit("dpo", lms["policy"], lms["reference"])
    first = model.score(SAMPLES).rewards
    assert len(model.reference.cache) == len(SAMPLES) and model.reference.cache.hits == 0
    assert model.score(SAMPLES).rewards == pytest.approx(first, abs=1e-6)
    assert model.reference.cache.hits == len(SAMPLES)


def test_bad_specs_and_missing_reference(lms):
    family, kind = parse_spec("implicit:cdr")
    assert (family.name, kind) == ("implicit", "cdr") and parse_spec("implicit")[1] == "dpo"
    assert families.is_spec("process:implicit") and not families.is_spec("/tmp/model")
    with pytest.raises(ConfigError, match="unknown implicit kind 'foo'.*implicit:dpo, implicit:simpo"):
        parse_spec("implicit:foo")
    with pytest.raises(ConfigError, match="unknown model spec 'bogus:dpo'"):
        parse_spec("bogus:dpo")
    with pytest.raises(ConfigError, match="unknown model spec 'scalar:x'"):  # scalar models come from folders
        parse_spec("scalar:x")
    with pytest.raises(ConfigError, match="needs a reference"):
        families.build("implicit:dpo", policy=lms["policy"])


def test_spec_defaults_are_the_options_defaults(lms):
    """β left unset is the kind's documented default; the other options are ImplicitOptions' defaults."""
    for kind, beta in DEFAULT_BETA.items():
        model = families.build(f"implicit:{kind}", policy=lms["policy"], reference=lms["reference"], beta=None)
        assert model.options.beta == beta and model.options.max_length == ImplicitOptions.max_length


def test_saved_implicit_model_loads_through_the_registry(lms, tmp_path):
    model = families.build("implicit:dpo", policy=lms["policy"], reference=lms["reference"], beta=0.2)
    model.save(tmp_path / "dpo")
    loaded = rewardkit.load(str(tmp_path / "dpo"))
    assert isinstance(loaded, ImplicitRewardModel) and loaded.family == "implicit"
    assert loaded.score(SAMPLES).rewards == pytest.approx(model.score(SAMPLES).rewards, abs=1e-6)


def test_cache_evicts_the_least_recently_used_sequence():
    cache = LogprobCache(max_entries=2)
    cache.put([1, 2], torch.tensor([0.1]))
    cache.put([3, 4], torch.tensor([0.2]))
    assert cache.get([1, 2]) is not None  # [1, 2] is now the most recent
    cache.put([5, 6], torch.tensor([0.3]))
    assert cache.get([3, 4]) is None and cache.get([1, 2]) is not None and len(cache) == 2


def test_causal_lm_names_and_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("REWARDKIT_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    assert resolve_causal_lm("some/hub-id") == "some/hub-id"
    with pytest.raises(ModelLoadError, match="does not exist"):
        build_implicit("simpo", str(tmp_path / "missing"))


def test_a_model_that_is_no_causal_lm_is_refused_as_the_policy(tiny_bert):
    """A BERT reward model loads as a BertLMHeadModel whose LM head (cls.predictions.*) starts random: implicit
    rewards from it were noise, without a warning."""
    with pytest.raises(ModelLoadError, match=r"is not a causal language model: its weights lack cls\.predictions"):
        build_implicit("simpo", tiny_bert)


def test_a_lora_policy_adapter_scores_as_its_merged_model(lms, tmp_path):
    """A DPO policy trained with PEFT is saved as an adapter on its base: as the policy it is merged onto that
    base, so its implicit rewards equal those of PEFT's merged model saved whole."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    base = lms["reference"]
    torch.manual_seed(4)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.add_(torch.randn_like(parameter))
    model.save_pretrained(tmp_path / "adapter")  # no tokenizer: the base's is used
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), tmp_path / "adapter")
    merged.merge_and_unload().save_pretrained(tmp_path / "merged")
    shutil.copy(Path(base) / "tokenizer.json", tmp_path / "merged")
    shutil.copy(Path(base) / "tokenizer_config.json", tmp_path / "merged")

    from_adapter = build_implicit("dpo", str(tmp_path / "adapter"), base).score(SAMPLES).rewards
    assert from_adapter == pytest.approx(build_implicit("dpo", str(tmp_path / "merged"), base).score(SAMPLES).rewards,
                                         abs=1e-5)
    assert max(abs(r) for r in from_adapter) > 1e-3  # the adapter moved the policy away from its reference
    # without --reference, a DPO policy adapter is scored against its base, the model it was trained from
    assert build_implicit("dpo", str(tmp_path / "adapter")).score(SAMPLES).rewards == pytest.approx(from_adapter,
                                                                                                  abs=1e-6)
