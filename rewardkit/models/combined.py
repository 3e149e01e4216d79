"""A weighted sum of a model's reward and rule rewards, itself a RewardModel (so it serves, scores, evaluates
and plugs into RL trainers like any model).

    >>> model = combined(rewardkit.load("runs/rm/model"), "0.8*rm + 0.2*format + 0.1*length")  # doctest: +SKIP

The spec is terms `weight*name` joined by + or −; `rm` is the model, other names are rules (rules.py). Only
numbers, names, *, + and − are read: nothing is evaluated as code.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import RewardModel, Scores, needs_reference_answer, samples_of
from rewardkit.models.rules import RULES

_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?([a-z_]+)\s*")


def parse_combination(spec: str) -> list[tuple[float, str]]:
    """'0.8*rm + 0.2*format - length' → [(0.8, 'rm'), (0.2, 'format'), (-1.0, 'length')].

    >>> parse_combination("0.8*rm + 0.2*format - length")
    [(0.8, 'rm'), (0.2, 'format'), (-1.0, 'length')]
    """
    terms, at = [], 0
    while at < len(spec):
        match = _TERM.match(spec, at)
        if not match or match.end() == at or (terms and not match.group(1)):
            raise ConfigError(f"cannot read the combination {spec!r} at character {at + 1}: use terms such as "
                              f"'0.8*rm + 0.2*format'")
        sign, weight, name = match.groups()
        if name != "rm" and name not in RULES:
            raise ConfigError(f"unknown reward {name!r} in {spec!r}; known: rm, {', '.join(RULES)}")
        terms.append(((-1.0 if sign == "-" else 1.0) * float(weight or 1.0), name))
        at = match.end()
    if not terms:
        raise ConfigError("an empty combination: use terms such as '0.8*rm + 0.2*format'")
    return terms


def combine(terms: list[tuple[float, str]], samples: Sequence[Sample], model_rewards: Sequence[float] | None,
            rule_options: Mapping[str, Mapping] | None = None) -> tuple[list[float], dict[str, list[float]]]:
    """(Σ weight × component per sample, each component's values); `model_rewards` is the `rm` component."""
    parts: dict[str, list[float]] = {}
    for _, name in terms:
        if name == "rm":
            if model_rewards is None:
                raise ConfigError("the combination names 'rm' but no model reward was given")
            parts[name] = [float(r) for r in model_rewards]
        elif name not in parts:
            options = (rule_options or {}).get(name, {})
            parts[name] = [RULES[name](sample, options) for sample in samples]
    rewards = [sum(weight * parts[name][i] for weight, name in terms) for i in range(len(samples))]
    return rewards, parts


class CombinedReward:
    """Σ weight × component per sample; `attributes` holds each component's raw values."""

    def __init__(self, model: RewardModel | None, spec: str, rule_options: Mapping[str, Mapping] | None = None):
        self.terms = parse_combination(spec)
        if model is None and any(name == "rm" for _, name in self.terms):
            raise ConfigError(f"{spec!r} names 'rm' but no model was given")
        self.model, self.spec, self.rule_options = model, spec, dict(rule_options or {})
        self.family = model.family if model is not None else "rules"

    @property
    def needs_reference_answer(self) -> bool:
        """The 'answer' rule, or the model, grades against each sample's reference answer."""
        return any(name == "answer" for _, name in self.terms) or needs_reference_answer(self.model)

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        batch = samples_of(batch)
        needs_model = any(name == "rm" for _, name in self.terms)
        model_scores = self.model.score(batch, batch_size=batch_size) if needs_model else None
        rewards, parts = combine(self.terms, batch, model_scores.rewards if model_scores else None,
                                 self.rule_options)
        return Scores(rewards, attributes=parts, truncated=model_scores.truncated if model_scores else 0,
                      truncated_items=model_scores.truncated_items if model_scores else None)

    def parameter_count(self) -> int | None:
        return self.model.parameter_count() if self.model is not None else 0


def combined(model: RewardModel | None, spec: str, rule_options: Mapping[str, Mapping] | None = None
             ) -> CombinedReward:
    return CombinedReward(model, spec, rule_options)
