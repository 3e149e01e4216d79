"""Reward-model families: one record per family, in one registry (rewardkit.families.registry).

    >>> from rewardkit import families
    >>> families.names()
    ['implicit', 'multi', 'process', 'scalar']
"""

from rewardkit.families.registry import (
    Family, Objective, build, build_task, from_name, get, is_spec, load, load_arguments, load_train_config, names,
    register, train_config,
)

__all__ = ["Family", "Objective", "build", "build_task", "from_name", "get", "is_spec", "load", "load_arguments",
           "load_train_config", "names", "register", "train_config"]
