"""Loading and saving Hugging Face tokenizers and models with rewardkit's rules.

- weights only from safetensors (`use_safetensors=True`): no pickled checkpoints are ever unpickled;
- `trust_remote_code` stays off unless the caller asks for it;
- a local folder without a config or weights gets one clear error naming the folder;
- a saved model is a folder written atomically: weights (safetensors), tokenizer, rewardkit.json;
- a tokenizer without a pad token pads with its eos token (or unk), which is safe because rewardkit pools
  by attention mask, never by searching for the pad id.
"""

from __future__ import annotations

from pathlib import Path

from rewardkit.atomic import atomic_dir
from rewardkit.errors import ModelLoadError

MANIFEST = "rewardkit.json"
"""File in a saved model folder naming its family (rewardkit.families) and the family's options."""


def read_manifest(path: str | Path) -> dict:
    """The folder's rewardkit.json, or {} for a plain HF model folder / hub id."""
    import json

    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{manifest}: not valid JSON ({err})") from None


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def check_local_folder(path: str) -> None:
    """Fail early, with the folder's name, when a local model folder is incomplete."""
    folder = Path(path)
    if not folder.exists():
        if path.startswith((".", "/", "~")) or path.count("/") > 1:
            raise ModelLoadError(f"model folder {path} does not exist")
        return  # a hub id: let from_pretrained try
    if not folder.is_dir():
        raise ModelLoadError(f"{path} is a file, expected a model folder")
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"model folder {path} has no config.json")
    if not any(folder.glob("*.safetensors")):
        pickled = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt")]
        hint = (f" (found {', '.join(pickled)}: pickled weights are not loaded; convert to safetensors)"
                if pickled else "")
        raise ModelLoadError(f"model folder {path} has no *.safetensors weights{hint}")


def looked_up_on_the_hub(path: str) -> str:
    """For a load error: why `path` was fetched from the hub (it is not a folder here), or "" for a folder."""
    if Path(path).exists():
        return ""
    return f" ({path} is not a folder in {Path.cwd()}, so it was looked up as a Hugging Face hub id)"


def backbone_max_length(path: str, cap: int) -> int:
    """The most tokens the model in `path` reads: its tokenizer's limit and its position embeddings', at most
    `cap` (an adapter folder: its base's)."""
    from transformers import AutoConfig

    from rewardkit.models.peft_adapter import adapter_base, is_adapter_folder

    tokenizer = load_tokenizer(path)
    source = adapter_base(path) if is_adapter_folder(path) else path
    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"cannot read the configuration of {source}{looked_up_on_the_hub(source)}: "
                             f"{err}") from None
    return model_limit(tokenizer, config, cap)


def model_limit(tokenizer, config, cap: int) -> int:
    """The most tokens a model reads: its tokenizer's limit and its position embeddings', at most `cap` (a
    tokenizer without a limit says 1e30; a config may have no position embeddings)."""
    limits = (tokenizer.model_max_length, getattr(config, "max_position_embeddings", None), cap)
    return int(min(limit for limit in limits if isinstance(limit, int) and limit > 0))


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "tokenizer.model",
                   "spiece.model", "sentencepiece.bpe.model")
"""A local folder holds its tokenizer in at least one of these."""

SMALLEST_VOCABULARY = 100
"""Fewer tokens than this is a tokenizer built without its vocabulary, not a real one."""


def load_tokenizer(path: str, *, trust_remote_code: bool = False, **settings):
    """The tokenizer of a folder or hub id (with a pad token); `settings` are tokenizer init arguments, saved
    with it (e.g. model_input_names). A folder without tokenizer files is an error: transformers builds a
    tokenizer of five special tokens for it from config.json, which turns every text into unknown tokens."""
    from transformers import AutoTokenizer

    from rewardkit.models.peft_adapter import adapter_base, is_adapter_folder

    folder = Path(path)
    if is_adapter_folder(path) and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        path = adapter_base(path)  # an adapter saved without its tokenizer
        folder = Path(path)
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(f"model folder {path} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): save "
                             "its backbone's tokenizer there (tokenizer.save_pretrained(folder))")
    _quiet_transformers()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, **settings)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"cannot load a tokenizer from {path}{looked_up_on_the_hub(path)}: {err}") from None
    if len(tokenizer) < SMALLEST_VOCABULARY:
        raise ModelLoadError(f"the tokenizer of {path} has {len(tokenizer)} tokens: its vocabulary files are missing "
                             "or empty")
    if tokenizer.pad_token is None:
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise ModelLoadError(f"tokenizer in {path} has no pad, eos or unk token to pad with")
        tokenizer.pad_token = fallback
    return tokenizer


def load_sequence_classifier(path: str, *, num_labels: int | None = None, trust_remote_code: bool = False):
    """The sequence classifier in `path` (a folder or hub id; a PEFT adapter folder is merged onto its base); with
    `num_labels`, a new head of that width on the backbone in `path`."""
    from transformers import AutoModelForSequenceClassification

    from rewardkit.models.peft_adapter import is_adapter_folder, load_merged_adapter

    if num_labels is None and is_adapter_folder(path):
        return load_merged_adapter(path, trust_remote_code=trust_remote_code)
    check_local_folder(path)
    _quiet_transformers()
    # a head of another width than the folder's (a 1-output RM as the backbone of a 5-attribute one) starts new
    extra = {"num_labels": num_labels, "ignore_mismatched_sizes": True} if num_labels is not None else {}
    try:
        network, info = AutoModelForSequenceClassification.from_pretrained(
            path, use_safetensors=True, trust_remote_code=trust_remote_code, dtype="float32", output_loading_info=True,
            **extra
        )
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load a sequence-classification model from {path}{looked_up_on_the_hub(path)}: "
                             f"{err}") from None
    missing = missing_weights(info)
    if num_labels is None and missing:  # a reward model to score with: every weight must come from the folder
        raise ModelLoadError(f"{path} is not a trained reward model: its weights lack {missing}, which would start "
                             "random (a base model has no trained reward head). Score a trained reward model, or "
                             f"train one on this backbone: rewardkit train --backbone {path}")
    return network


def missing_weights(info: dict) -> str:
    """The parameters `from_pretrained(..., output_loading_info=True)` found no weights for (and so started at
    random), named for an error: the first four, then how many more; "" when none."""
    missing = sorted(info.get("missing_keys") or ())
    return ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")


def save_model_folder(network, tokenizer, family: str, options: dict, path: str | Path) -> Path:
    """Write `network` (safetensors) and `tokenizer` plus rewardkit.json {"family", "options"} to `path`,
    atomically: the folder appears complete or not at all."""
    import json

    with atomic_dir(path) as tmp:
        network.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / MANIFEST).write_text(json.dumps({"family": family, "options": options}, indent=2), encoding="utf-8")
    return Path(path)
