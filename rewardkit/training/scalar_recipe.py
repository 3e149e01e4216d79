"""Training tasks of the `scalar` family: pairwise objectives (Bradley-Terry and its margin variants) and
regression on attribute ratings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rewardkit.data.formats import HELPSTEER2_ATTRIBUTES
from rewardkit.data.loaders import load_rated
from rewardkit.errors import ConfigError
from rewardkit.models import scalar
from rewardkit.models.adapters import add_adapters
from rewardkit.models.defaults import resolve_backbone
from rewardkit.training.objectives import pair_objective
from rewardkit.training.pair_data import PairKeys, load_pair_splits, train_and_heldout
from rewardkit.training.tasks import PairTask, RatingTask
from rewardkit.training.config import max_length_for


@dataclass
class PairwiseOptions(PairKeys):
    """Keys of the pairwise objectives bt | bt-margin | scaled-bt."""

    centering: float = 0.0
    """Weight of the reward-centring penalty mean((r_c + r_r)²); 0 disables it."""
    lora_rank: int = 0
    """LoRA rank via peft: adapters on every Linear layer of the backbone, the new head trained fully, all folded
    into the saved model (models/adapters.py); 0: full fine-tuning."""
    lora_alpha: float = 16.0
    """LoRA scaling α (the update is scaled by α / rank)."""
    init: str = ""
    """A trained scalar model folder to start from instead of a new head on `backbone` (HelpSteer2-Preference's
    recipe: a regression model on attribute ratings, whose helpfulness output is its reward)."""


@dataclass
class RegressionOptions:
    """Keys of the regression objective."""

    attributes: list = dataclasses.field(default_factory=list)
    """Attribute names to regress on (empty: the five HelpSteer2 attributes)."""
    on_bad_rows: str = "error"
    """error | skip: a broken row stops the run naming it, or is skipped, counted and written with its reason
    to OUT/skipped_rows.jsonl."""
    lora_rank: int = 0
    """LoRA rank via peft: adapters on every Linear layer of the backbone, the new head trained fully, all folded
    into the saved model (models/adapters.py); 0: full fine-tuning."""
    lora_alpha: float = 16.0
    """LoRA scaling α (the update is scaled by α / rank)."""


def with_lora(model, options, seed: int):
    """`model` with LoRA adapters in its backbone when `options.lora_rank` > 0."""
    if options.lora_rank > 0:
        add_adapters(model.network, options.lora_rank, options.lora_alpha, seed)
    return model


def build_pairwise_task(config, options: PairwiseOptions) -> PairTask:
    """A new head on `config.backbone` trained with the pairwise loss named `config.objective`."""
    objective = pair_objective(config.objective)
    train, evaluation, stats = load_pair_splits(config, options)
    if config.objective == "scaled-bt":
        check_strengths(train, config.data, options.margin_key)
    if options.init:  # max_length unset: the one the model was trained at
        given = {} if config.max_length is None else {"max_length": max_length_for(config, options.init)}
        model = scalar.load(options.init, **given)
        config.max_length = model.options.max_length
    else:
        model = scalar.build(resolve_backbone(config.backbone), max_length=max_length_for(config, config.backbone),
                             seed=config.seed)
    with_lora(model, options, config.seed)
    task = PairTask(model, train, evaluation, objective, centering=options.centering)
    task.data_stats = stats
    return task


def check_strengths(pairs, source: str, margin_key: str) -> None:
    """Scaled BT weighs each pair by its preference strength: pairs without one would weigh 0 and train nothing,
    so they are an error naming the first such pair."""
    missing = [i for i, pair in enumerate(pairs) if pair.margin is None]
    if missing:
        first = pairs[missing[0]]
        where = f"id {first.id}" if first.id else f"training pair {missing[0] + 1}"
        raise ConfigError(f"{source}: scaled-bt weighs each pair by its preference strength, but {len(missing)} of "
                          f"{len(pairs)} training pairs have none (first: {where}); give a strength in '{margin_key}' "
                          "(or HelpSteer2-Preference's preference_strength), or use objective bt")


def build_regression_task(config, options: RegressionOptions) -> RatingTask:
    """A head with one output per attribute, regressed on the ratings (missing ones masked)."""
    attributes = list(options.attributes) or list(HELPSTEER2_ATTRIBUTES)
    train, evaluation, stats = train_and_heldout(
        config.data, config.eval_data, config.eval_fraction, config.seed,
        lambda source: load_rated(source, attributes, on_bad_rows=options.on_bad_rows))
    model = scalar.build(resolve_backbone(config.backbone), attributes=attributes,
                         max_length=max_length_for(config, config.backbone), seed=config.seed)
    if "helpfulness" in attributes:  # HelpSteer2 convention: the reward is the helpfulness output
        model.options.reward_weights = [float(a == "helpfulness") for a in attributes]
    with_lora(model, options, config.seed)
    task = RatingTask(model, train, evaluation)
    task.data_stats = stats
    return task
