"""A reward model whose rewards are shaped (rewardkit.shaping), itself a RewardModel.

    >>> model = shaped(rewardkit.load("runs/rm/model"), "par")               # doctest: +SKIP

For `par`, each sample carries its reference responses (`Sample.reference_responses`: other responses to the
same prompt, e.g. sampled from the reference policy); they are scored in the same `score` call as the samples
and only their rewards are used. Step kinds (stepclip, delta) need a model that gives per-step rewards
(`Scores.steps`); after them a sample's reward is the sum of its shaped step rewards (the return an RL trainer
sums) and `steps` holds the shaped values. `attributes["unshaped"]` keeps the model's own reward.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import RewardModel, Scores, needs_reference_answer, reward_statistics, samples_of
from rewardkit.shaping import (
    ShapingStep, center, clip, clip_steps, delta_steps, needs_references, needs_statistics, parse_shaping,
    preference_as_reward, z_normalise,
)


@dataclass
class Track:
    """One response's reward and (process models) its step rewards, as shaping goes along."""

    reward: float
    steps: list[float] | None = None


def shape_track(step: ShapingStep, track: Track, statistics: tuple[float, float] | None) -> Track:
    """Apply one non-par step to one response."""
    if step.on_steps:
        if track.steps is None:
            raise ConfigError(f"shaping '{step.kind}' needs per-step rewards (a process model); this model gives "
                              "one reward per response")
        steps = clip_steps(track.steps, step.values[0]) if step.kind == "stepclip" else delta_steps(track.steps)
        return Track(sum(steps), steps)
    if step.kind == "clip":
        return replace(track, reward=clip(track.reward, *step.values))
    if step.kind == "center" and step.values:
        return replace(track, reward=center(track.reward, step.values[0]))
    mean, std = statistics  # checked by shape_scores
    if step.kind == "center":
        return replace(track, reward=center(track.reward, mean))
    return replace(track, reward=z_normalise(track.reward, mean, std))


def expand_with_references(batch: Sequence[Sample], plan: Sequence[ShapingStep]) -> list[Sample]:
    """The samples, then (when the plan has par) every sample's reference responses as samples of its prompt."""
    batch = list(batch)
    if not needs_references(plan):
        return batch
    missing = [i for i, s in enumerate(batch) if not s.reference_responses]
    if missing:
        raise ConfigError(f"shaping 'par' needs reference responses for every sample (reference_responses); "
                          f"{len(missing)} of {len(batch)} have none, the first at position {missing[0]}")
    return batch + [Sample(s.prompt, ref, s.reference_answer) for s in batch for ref in s.reference_responses]


def shape_scores(plan: Sequence[ShapingStep], batch: Sequence[Sample], scores: Scores,
                 statistics: tuple[float, float] | None, family: str = "this") -> Scores:
    """Shape `scores` of `expand_with_references(batch, plan)` into the scores of `batch`."""
    if needs_statistics(plan) and statistics is None:
        raise ConfigError(f"shaping z / center needs the reward mean and std a {family} model stores when trained "
                          "by rewardkit; this model has none (give center=VALUE, or leave z out)")
    n = len(batch)
    steps = scores.steps or [None] * len(scores)
    tracks = [Track(float(r), None if s is None else list(s)) for r, s in zip(scores.rewards, steps)]
    items, references, at = tracks[:n], [], n
    for sample in batch if needs_references(plan) else ():
        references.append(tracks[at: at + len(sample.reference_responses)])
        at += len(sample.reference_responses)
    for step in plan:
        if step.kind == "par":
            items = [Track(preference_as_reward(t.reward, [r.reward for r in refs]), t.steps)
                     for t, refs in zip(items, references)]
            references = [[] for _ in items]
            continue
        items = [shape_track(step, t, statistics) for t in items]
        references = [[shape_track(step, r, statistics) for r in refs] for refs in references]
    own = scores.select(0, n)
    shaped_steps = [t.steps for t in items] if own.steps is not None else None
    return Scores([t.reward for t in items], attributes={**(own.attributes or {}), "unshaped": own.rewards},
                  steps=shaped_steps, texts=own.texts, truncated=own.truncated, truncated_items=own.truncated_items)


class ShapedReward:
    """`model`'s rewards shaped by `spec` (rewardkit.shaping)."""

    def __init__(self, model: RewardModel, spec: str):
        self.plan, self.model, self.spec = parse_shaping(spec), model, spec
        self.family = model.family
        self.statistics = reward_statistics(model)
        if needs_statistics(self.plan) and getattr(getattr(model, "options", None), "normalize", False):
            raise ConfigError(f"shaping {spec!r} normalises with the model's statistics, and the model is loaded "
                              "with normalize=True already: keep one of the two")

    @property
    def needs_reference_answer(self) -> bool:
        return needs_reference_answer(self.model)

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        batch = samples_of(batch)
        scores = self.model.score(expand_with_references(batch, self.plan), batch_size=batch_size)
        return shape_scores(self.plan, batch, scores, self.statistics, self.family)

    def parameter_count(self) -> int | None:
        return self.model.parameter_count()


def shaped(model: RewardModel, spec: str) -> ShapedReward:
    return ShapedReward(model, spec)


def shaped_and_combined(model: RewardModel | None, *, shaping: str | None = None, combine: str | None = None,
                        rule_options=None):
    """`model` with its reward shaped (`shaping`), then combined with rule rewards (`combine`): the order every
    consumer (serve, score, eval, the TRL adapter) applies them in. Neither given: `model` itself."""
    if shaping:
        if model is None:
            raise ConfigError(f"shaping {shaping!r} needs a model")
        model = ShapedReward(model, shaping)
    if combine:
        from rewardkit.models.combined import combined

        model = combined(model, combine, rule_options)
    return model
