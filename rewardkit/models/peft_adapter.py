"""A PEFT adapter folder as a reward model to score with, or as a causal LM (an implicit reward's policy).

A LoRA reward model trained with PEFT (TRL's RewardTrainer given a `peft_config`, or `PeftModel.save_pretrained`)
is saved as an adapter: adapter_config.json and adapter_model.safetensors (the LoRA matrices and, for a
sequence-classification task, the trained reward head), without config.json or the base weights. Loaded onto its
base model (adapter_config's `base_model_name_or_path`: a folder or hub id) and merged into it, it scores as the
model it was trained as. Adapters saved as pickles (adapter_model.bin) are refused, as pickled weights are.
"""

from __future__ import annotations

import json
from pathlib import Path

from rewardkit.errors import ModelLoadError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
HEADS = ("score", "classifier")
"""The reward-head modules of transformers' sequence classifiers (decoders: score; encoders: classifier)."""


def is_adapter_folder(path: str) -> bool:
    folder = Path(path)
    return folder.is_dir() and (folder / ADAPTER_CONFIG).is_file() and not (folder / "config.json").is_file()


def adapter_base(path: str) -> str:
    """The base model the adapter in `path` was trained on."""
    try:
        config = json.loads((Path(path) / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"cannot read {Path(path) / ADAPTER_CONFIG}: {err}") from None
    base = config.get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise ModelLoadError(f"{Path(path) / ADAPTER_CONFIG} names no base_model_name_or_path to put the adapter on")
    return base


def adapter_weights(path: str) -> Path:
    """The adapter's safetensors file; an error naming a pickled one instead (never loaded)."""
    weights = Path(path) / ADAPTER_WEIGHTS
    if not weights.is_file():
        pickled = [p.name for p in Path(path).glob("adapter_model.bin")]
        hint = f" (found {pickled[0]}: pickled weights are not loaded; save with safetensors)" if pickled else ""
        raise ModelLoadError(f"adapter folder {path} has no {ADAPTER_WEIGHTS}{hint}")
    return weights


def head_width(path: str) -> int:
    """The reward head's outputs, read from the adapter's weights; an error when the adapter holds no head (the
    base model's would be random)."""
    from safetensors import safe_open

    with safe_open(str(adapter_weights(path)), "pt") as handle:
        for key in handle.keys():
            parts = key.split(".")
            if parts[-1] == "weight" and len(parts) >= 2 and parts[-2] in HEADS:
                return int(handle.get_slice(key).get_shape()[0])
    raise ModelLoadError(f"adapter folder {path} holds no reward head ({' or '.join(HEADS)} weights; PEFT saves it "
                         "with task_type SEQ_CLS): its base model's head would score at random")


def load_merged_adapter(path: str, *, trust_remote_code: bool = False):
    """The base sequence classifier with the adapter's LoRA matrices merged in and its reward head."""
    from transformers import AutoModelForSequenceClassification

    width, base = head_width(path), adapter_base(path)
    try:
        network = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=width, ignore_mismatched_sizes=True, use_safetensors=True,
            trust_remote_code=trust_remote_code, dtype="float32")
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load the base model {base} of the adapter {path}: {err}") from None
    return merged_onto(network, path)


def merged_onto(network, path: str):
    """`network` (the adapter's base, loaded) with the adapter in `path` merged in: a LoRA causal LM (a DPO
    policy trained with PEFT) scores as PEFT's merged model."""
    from peft import PeftModel

    adapter_weights(path)
    try:
        return PeftModel.from_pretrained(network, path).merge_and_unload()
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ModelLoadError(f"cannot merge the adapter {path} onto its base model: {err}") from None
