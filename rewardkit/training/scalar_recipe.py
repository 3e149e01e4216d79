"""Build the training task for the `scalar` family from a TrainConfig."""

from __future__ import annotations

import random
from typing import Sequence, TypeVar

from rewardkit.data.formats import HELPSTEER2_ATTRIBUTES
from rewardkit.data.loaders import load_pairs, load_rated
from rewardkit.data.schemas import PreferencePair
from rewardkit.errors import ConfigError
from rewardkit.models import scalar
from rewardkit.models.defaults import resolve_backbone
from rewardkit.training.config import TrainConfig
from rewardkit.training.objectives import RATING_OBJECTIVES, pair_objective
from rewardkit.training.tasks import PairTask, RatingTask

T = TypeVar("T")


def holdout_split(records: Sequence[T], fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Deterministic (train, eval) split holding out `fraction` of the records (at least 1 when fraction > 0)."""
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(records) - 1, max(1, round(fraction * len(records)))) if fraction > 0 else 0
    held = set(order[:n_eval])
    return [r for i, r in enumerate(records) if i not in held], [records[i] for i in sorted(held)]


def _records(config: TrainConfig, loader):
    if not config.data:
        raise ConfigError("no training data: pass --data FILE (or data: in the config)")
    train = list(loader(config.data))
    if config.eval_data:
        return train, list(loader(config.eval_data))
    return holdout_split(train, config.eval_fraction, config.seed)


def load_pair_splits(config: TrainConfig) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(training, held-out) preference pairs from `data` / `eval_data` in `data_format` with the configured keys;
    without eval_data, an `eval_fraction` of `data` is held out."""
    keys = dict(prompt_key=config.prompt_key, chosen_key=config.chosen_key, rejected_key=config.rejected_key,
                margin_key=config.margin_key)
    return _records(config, lambda source: load_pairs(source, config.data_format, **keys))


def build_task(config: TrainConfig):
    backbone = resolve_backbone(config.backbone)
    if config.objective in RATING_OBJECTIVES:
        attributes = list(config.attributes) or list(HELPSTEER2_ATTRIBUTES)
        train, evaluation = _records(config, lambda source: load_rated(source, attributes))
        model = scalar.build(backbone, attributes=attributes, max_length=config.max_length, seed=config.seed)
        if "helpfulness" in attributes:  # HelpSteer2 convention: the reward is the helpfulness output
            model.options.reward_weights = [float(a == "helpfulness") for a in attributes]
        return RatingTask(model, train, evaluation)
    objective = pair_objective(config.objective)
    train, evaluation = load_pair_splits(config)
    model = scalar.build(backbone, max_length=config.max_length, seed=config.seed)
    return PairTask(model, train, evaluation, objective, centering=config.centering)
