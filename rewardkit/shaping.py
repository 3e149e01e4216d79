"""Reward shaping: pure functions that turn a reward model's output into the reward an RL trainer should see.

Outcome rewards (one float per response):

    par            mean_i σ(r − r_ref_i)       Preference-As-Reward (Fu et al. 2025, "Reward Shaping to Mitigate
                                               Reward Hacking in RLHF"): the probability, under the reward
                                               model's own Bradley-Terry reading, that the response beats the
                                               reference responses to the same prompt; bounded in (0, 1)
    center         r − μ                       μ: the model's training mean, or `center=VALUE`
    z              (r − μ) / σ                 μ, σ: the model's training statistics
    clip=LO,HI     min(max(r, LO), HI)

Process rewards (one float per step r_1 … r_K; from "On Designing Effective RL Reward at Training Time for LLM
Reasoning", Gao et al. 2024), which stop a policy from collecting reward by repeating correct but unneeded steps:

    stepclip=η     r_t ← min(r_t − η, 0)       every step reward is ≤ 0, so adding steps can only lower the return
    delta          r_t ← r_t − r_{t+1} (t < K), r_K kept
                                               the return from step k on telescopes to r_k: bounded by one step's
                                               reward however many steps follow

A spec is steps joined by ';' applied left to right, e.g. "z; clip=-3,3" or "stepclip=0.5; par".
`parse_shaping` reads it; every error names the part it could not read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from rewardkit.errors import ConfigError

KINDS = ("par", "center", "z", "clip", "stepclip", "delta")
STEP_KINDS = ("stepclip", "delta")
"""Kinds that act on per-step rewards (a process model's Scores.steps)."""


def sigmoid(x: float) -> float:
    """σ(x) = 1 / (1 + e^(−x)), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def preference_as_reward(reward: float, reference_rewards: Sequence[float]) -> float:
    """(1/M) Σ_i σ(r − r_ref_i) over the M reference rewards of the same prompt.

    >>> preference_as_reward(1.0, [1.0]), round(preference_as_reward(2.0, [0.0, 2.0]), 4)
    (0.5, 0.6904)
    """
    if not reference_rewards:
        raise ConfigError("par needs at least one reference reward")
    return sum(sigmoid(reward - ref) for ref in reference_rewards) / len(reference_rewards)


def center(reward: float, mean: float) -> float:
    """r − μ."""
    return reward - mean


def z_normalise(reward: float, mean: float, std: float) -> float:
    """(r − μ) / σ; σ must be > 0.

    >>> z_normalise(3.0, 1.0, 2.0)
    1.0
    """
    if not std > 0:
        raise ConfigError(f"z needs a standard deviation > 0, got {std}")
    return (reward - mean) / std


def clip(reward: float, low: float, high: float) -> float:
    """min(max(r, low), high).

    >>> clip(5.0, -1.0, 1.0), clip(-0.5, -1.0, 1.0)
    (1.0, -0.5)
    """
    return min(max(reward, low), high)


def clip_steps(steps: Sequence[float], eta: float) -> list[float]:
    """r_t ← min(r_t − η, 0) per step (Gao et al. 2024, the Clip mechanism).

    >>> clip_steps([0.9, 0.2, 0.7], 0.5)
    [0.0, -0.3, 0.0]
    """
    return [min(r - eta, 0.0) for r in steps]


def delta_steps(steps: Sequence[float]) -> list[float]:
    """r_t ← r_t − r_{t+1} for t < K; r_K kept (Gao et al. 2024, the Delta mechanism).

    >>> delta_steps([0.9, 0.2, 0.7])
    [0.7, -0.5, 0.7]
    """
    values = list(steps)
    return [values[t] - values[t + 1] for t in range(len(values) - 1)] + values[-1:]


@dataclass(frozen=True)
class ShapingStep:
    kind: str
    """One of KINDS."""
    values: tuple[float, ...] = ()
    """center: (μ,) or () for the model's mean; clip: (LO, HI); stepclip: (η,); else ()."""

    @property
    def on_steps(self) -> bool:
        return self.kind in STEP_KINDS


_PART = re.compile(r"^\s*([a-z]+)\s*(?:=\s*(.*?))?\s*$")
_ARITY = {"par": (0,), "z": (0,), "delta": (0,), "center": (0, 1), "clip": (2,), "stepclip": (1,)}
_USAGE = "par | center[=MEAN] | z | clip=LO,HI | stepclip=ETA | delta, joined by ';'"


def parse_shaping(spec: str) -> list[ShapingStep]:
    """'z; clip=-3,3' → [ShapingStep('z'), ShapingStep('clip', (-3.0, 3.0))].

    >>> parse_shaping("stepclip=0.5; par")
    [ShapingStep(kind='stepclip', values=(0.5,)), ShapingStep(kind='par', values=())]
    """
    parts = spec.split(";")
    if not spec.strip():
        raise ConfigError(f"an empty shaping spec; use {_USAGE}")
    steps = [_parse_part(part, spec) for part in parts]
    if sum(step.kind == "par" for step in steps) > 1:
        raise ConfigError(f"shaping {spec!r}: 'par' may appear once (it uses up the reference rewards)")
    late = [s.kind for i, s in enumerate(steps) if s.on_steps and any(not t.on_steps for t in steps[:i])]
    if late:
        raise ConfigError(f"shaping {spec!r}: '{late[0]}' acts on step rewards and must come before the outcome "
                          "steps (par, center, z, clip)")
    return steps


def _parse_part(part: str, spec: str) -> ShapingStep:
    match = _PART.match(part)
    if not match or not part.strip():
        raise ConfigError(f"cannot read {part.strip()!r} in the shaping {spec!r}; use {_USAGE}")
    kind, raw = match.group(1), match.group(2)
    if kind not in KINDS:
        raise ConfigError(f"unknown shaping {kind!r} in {spec!r}; known: {', '.join(KINDS)}")
    values = tuple(_number(text, kind, spec) for text in raw.split(",")) if raw else ()
    if len(values) not in _ARITY[kind]:
        wanted = " or ".join(str(n) for n in _ARITY[kind])
        raise ConfigError(f"shaping {kind!r} in {spec!r} takes {wanted} value(s), got {len(values)}; use {_USAGE}")
    if kind == "clip" and not values[0] <= values[1]:
        raise ConfigError(f"clip={raw} in {spec!r}: LO must not exceed HI")
    return ShapingStep(kind, values)


def _number(text: str, kind: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"shaping {kind!r} in {spec!r}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"shaping {kind!r} in {spec!r}: {text.strip()!r} is not a finite number")
    return value


def needs_references(steps: Sequence[ShapingStep]) -> bool:
    return any(step.kind == "par" for step in steps)


def needs_statistics(steps: Sequence[ShapingStep]) -> bool:
    """z, and center without its own mean, read the model's training statistics."""
    return any(step.kind == "z" or (step.kind == "center" and not step.values) for step in steps)
