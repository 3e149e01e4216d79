"""The one table of reward-model families. A family is one record (`Family`): its name, the kinds a spec such
as `implicit:dpo` builds without a trained folder, its options dataclass (whose defaults are the family's
defaults), how to build and how to load a model, and the objectives it trains with. `rewardkit.load`,
`rewardkit train --kind`, `rewardkit eval --model family:kind` and every "known: …" message read this table.

Built-in families are modules of this package, imported the first time they are asked for (so the CLI loads
torch only for the family it runs); any other module adds one with `register(Family(...))`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from rewardkit.errors import ConfigError, ModelLoadError
from rewardkit.models.hf import read_manifest
from rewardkit.training.config import TrainConfig, build_config, load_config

BUILTIN: dict[str, str] = {
    "scalar": "rewardkit.families.scalar",
    "implicit": "rewardkit.families.implicit",
    "process": "rewardkit.families.process",
    "multi": "rewardkit.families.multi",
    "judge": "rewardkit.families.judge",
}
"""Family name → the module defining its record as `FAMILY`. Adding a built-in family is adding a line here."""

_REGISTERED: dict[str, "Family"] = {}


@dataclass(frozen=True)
class Objective:
    """One way to train a family: the options it reads (a dataclass; its defaults are the defaults) and the
    function building the loop's TrainTask from a TrainConfig and those options."""

    options: type
    build_task: Callable[[TrainConfig, Any], Any]


@dataclass(frozen=True)
class Family:
    """Everything rewardkit knows about one reward-model family."""

    name: str
    options: type
    """Options dataclass of the family's models (stored in rewardkit.json); its field defaults are the family's
    defaults and live nowhere else."""
    load: Callable[..., Any]
    """load(folder, **option overrides) → a RewardModel, for folders whose rewardkit.json names this family."""
    kinds: Sequence[str] = ()
    """Kinds `build` makes from a spec `name:kind` without a trained folder (the first is the default)."""
    build: Callable[..., Any] | None = None
    """build(kind, **options) → a RewardModel of that kind (options: fields of `options`, plus `policy` for
    families reading a causal LM)."""
    objectives: Mapping[str, Objective] = field(default_factory=dict)
    """Training objectives by name (the first is the default of `train --kind NAME`); empty: not trainable."""


def register(family: Family) -> Family:
    """Add (or replace) a family; `load`, `build` and `train` then know it by name."""
    _REGISTERED[family.name] = family
    return family


def names() -> list[str]:
    return sorted(set(_REGISTERED) | set(BUILTIN))


def get(name: str) -> Family:
    """The record of family `name` (importing a built-in family's module the first time)."""
    if name not in _REGISTERED and name in BUILTIN:
        register(importlib.import_module(BUILTIN[name]).FAMILY)
    if name not in _REGISTERED:
        raise ModelLoadError(f"unknown reward-model family '{name}'; known: {', '.join(names())}")
    return _REGISTERED[name]


def load(path: str | Path, **options) -> Any:
    """The saved model in `path`; folders without rewardkit.json (any HF sequence classifier) are `scalar`. A spec
    such as 'implicit:simpo' is built, `options` being the family's build options (policy, reference, beta...)."""
    if is_spec(str(path)):
        return build(str(path), **options)
    return get(read_manifest(path).get("family", "scalar")).load(str(path), **options)


# -- specs: models built from a family and a kind, without a trained folder -------------------------------------

def specs() -> list[str]:
    return [f"{name}:{kind}" for name in names() for kind in get(name).kinds]


def is_spec(text: str) -> bool:
    """True for 'implicit:dpo'-like strings naming a known family (never for an existing path).

    >>> is_spec("implicit:simpo"), is_spec("runs/prm/model")
    (True, False)
    """
    family, sep, _ = text.partition(":")
    return bool(sep) and family in names() and not Path(text).exists()


def parse_spec(spec: str) -> tuple[Family, str]:
    """'implicit:dpo' → (the implicit record, 'dpo'); a bare family name takes its first kind."""
    name, _, kind = spec.strip().partition(":")
    if name not in names() or not get(name).kinds:
        raise ConfigError(f"unknown model spec '{spec}'; use one of {', '.join(specs())} or a model folder")
    family = get(name)
    kind = kind or family.kinds[0]
    if kind not in family.kinds:
        raise ConfigError(f"unknown {name} kind '{kind}' in '{spec}'; use one of {', '.join(specs())}")
    return family, kind


def build(spec: str, **options) -> Any:
    """The model a spec names; options left None take the family's defaults."""
    family, kind = parse_spec(spec)
    return family.build(kind, **{key: value for key, value in options.items() if value is not None})


def from_name(name: str, max_length: int | None = None, load_options: Mapping[str, Any] | None = None,
              **spec_options) -> Any:
    """A spec such as `implicit:dpo` built with `spec_options` (None: the family's default), else the saved
    model folder or hub id `name` loaded with `load_options` (e.g. `dtype`, a multi model's steering `weights`;
    `spec_options` must then be unset). `max_length` (tokens per sample; None: the model's own) applies to both."""
    return load(name, **load_arguments(name, max_length, load_options, **spec_options))


def load_arguments(name: str, max_length: int | None = None, load_options: Mapping[str, Any] | None = None,
                   **spec_options) -> dict:
    """What `load(name, **arguments)` takes for `from_name`'s arguments: a spec's build options (those not None),
    or a folder's load options; the other kind given is an error naming it. (A Ray actor loads with these.)"""
    if is_spec(name):
        if load_options:
            raise ConfigError(f"{', '.join(sorted(load_options))} apply to a saved model folder, not to the spec "
                              f"{name}")
        return {key: value for key, value in {"max_length": max_length, **spec_options}.items() if value is not None}
    given = sorted(key for key, value in spec_options.items() if value is not None)
    if given:
        raise ConfigError(f"{', '.join(given)} apply to a model spec such as implicit:dpo, not to the folder {name}")
    options = dict(load_options or {})
    if max_length is not None:
        options["max_length"] = max_length
    return options


# -- training ------------------------------------------------------------------------------------------------

def objective_table() -> dict[str, dict[str, type]]:
    """family → objective → options dataclass, over every trainable family."""
    return {name: {objective: entry.options for objective, entry in get(name).objectives.items()}
            for name in names() if get(name).objectives}


def train_config(values: dict, source: str = "config") -> TrainConfig:
    """A TrainConfig from flat keys (rewardkit.training.config): loop keys plus the chosen objective's keys."""
    return build_config(values, objective_table(), source)


def load_train_config(path: str | None, overrides: Sequence[str] = (), **explicit) -> TrainConfig:
    """YAML file (optional) < `explicit` CLI options (those not None) < key=value overrides."""
    return load_config(path, objective_table(), overrides, **explicit)


def build_task(config: TrainConfig) -> Any:
    """The TrainTask for `config` (its objective and options default to the family's first objective's)."""
    family = get(config.family)
    if not family.objectives:
        raise ConfigError(f"family '{config.family}' is not trainable; trainable: {', '.join(objective_table())}")
    config.objective = config.objective or next(iter(family.objectives))
    if config.objective not in family.objectives:
        raise ConfigError(f"unknown {config.family} objective '{config.objective}' (key 'objective'); known: "
                          f"{', '.join(family.objectives)}")
    objective = family.objectives[config.objective]
    if config.options is None:
        config.options = objective.options()
    if not isinstance(config.options, objective.options):
        raise ConfigError(f"{config.family} {config.objective} reads {objective.options.__name__}, "
                          f"not {type(config.options).__name__}")
    return objective.build_task(config, config.options)
