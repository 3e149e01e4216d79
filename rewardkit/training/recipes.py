"""Which task trains which family: family name → "module:function" building a TrainTask from a TrainConfig.

Imported lazily so the CLI loads only the family it trains. Adding a trainable family is adding a line here.
"""

from __future__ import annotations

import importlib

from rewardkit.errors import ConfigError
from rewardkit.training.config import TrainConfig

RECIPES: dict[str, str] = {
    "scalar": "rewardkit.training.scalar_recipe:build_task",
    "process": "rewardkit.training.process_tasks:build_process_task",
    "implicit": "rewardkit.training.implicit_tasks:build_implicit_task",
}


def build_task(config: TrainConfig):
    if config.family not in RECIPES:
        raise ConfigError(f"family '{config.family}' is not trainable; trainable: {', '.join(RECIPES)}")
    module, _, function = RECIPES[config.family].partition(":")
    return getattr(importlib.import_module(module), function)(config)
