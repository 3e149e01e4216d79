"""A PEFT (LoRA) adapter folder, as TRL's RewardTrainer with a peft_config saves a reward model, scores as PEFT's
own merged model; an adapter without a reward head, or saved as a pickle, is refused."""

from __future__ import annotations

import shutil

import pytest
import torch

import rewardkit
from rewardkit import Sample
from rewardkit.data.chat import render_plain
from rewardkit.errors import ModelLoadError

SAMPLES = [Sample.from_text("What is 2+2?", "It is 4."), Sample.from_text("Name a colour.", "Blue, a calm one.")]


def trained_adapter(base: str, folder, task_type: str | None = "SEQ_CLS"):
    """A LoRA adapter on `base` whose matrices and reward head moved away from their initial values (as training
    moves them), saved to `folder`; returns PEFT's merged model for reference."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(1)
    model = get_peft_model(AutoModelForSequenceClassification.from_pretrained(base),
                           LoraConfig(r=2, target_modules=["query", "value"], task_type=task_type))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                parameter.add_(torch.randn_like(parameter) * 0.5)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    reference = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), folder)
    return reference.merge_and_unload().eval()


def reference_rewards(network, tokenizer_folder) -> list[float]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    with torch.no_grad():
        return [network(**tokenizer(render_plain(s.prompt), s.response, return_tensors="pt")).logits[0, 0].item()
                for s in SAMPLES]


def test_an_adapter_folder_scores_as_peft_merges_it(tiny_bert, tmp_path):
    folder = tmp_path / "adapter"
    merged = trained_adapter(tiny_bert, folder)
    rewards = rewardkit.load(str(folder)).score(SAMPLES).rewards
    assert rewards == pytest.approx(reference_rewards(merged, folder), abs=1e-5)
    assert rewards != pytest.approx(rewardkit.load(tiny_bert).score(SAMPLES).rewards, abs=1e-3)  # not the base
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)  # saved without its tokenizer: the base model's is used
    assert rewardkit.load(str(folder)).score(SAMPLES).rewards == pytest.approx(rewards, abs=1e-6)


def test_an_adapter_without_a_reward_head_or_in_a_pickle_is_refused(tiny_bert, tmp_path):
    folder = tmp_path / "headless"
    trained_adapter(tiny_bert, folder, task_type=None)  # no task type: PEFT saves no head
    with pytest.raises(ModelLoadError, match="holds no reward head .* would score at random"):
        rewardkit.load(str(folder))
    pickled = tmp_path / "pickled"
    shutil.copytree(folder, pickled)
    (pickled / "adapter_model.safetensors").rename(pickled / "adapter_model.bin")
    with pytest.raises(ModelLoadError, match="no adapter_model.safetensors .*pickled weights are not loaded"):
        rewardkit.load(str(pickled))
