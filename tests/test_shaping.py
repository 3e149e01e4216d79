"""Shaping functions against values worked out by hand, and the spec parser's errors."""

import math

import pytest

from rewardkit.errors import ConfigError
from rewardkit.shaping import (
    ShapingStep, center, clip, clip_steps, delta_steps, parse_shaping, preference_as_reward, sigmoid, z_normalise,
)


def test_preference_as_reward_is_the_mean_win_probability_against_the_references():
    # σ(0) = 0.5; σ(ln 3) = 3/4 and σ(−ln 3) = 1/4.
    assert preference_as_reward(1.0, [1.0]) == 0.5
    assert preference_as_reward(math.log(3), [0.0]) == pytest.approx(0.75)
    assert preference_as_reward(0.0, [math.log(3), -math.log(3)]) == pytest.approx((0.25 + 0.75) / 2)
    assert preference_as_reward(2.0, [0.0, 2.0]) == pytest.approx((1 / (1 + math.exp(-2)) + 0.5) / 2)
    with pytest.raises(ConfigError, match="at least one reference"):
        preference_as_reward(1.0, [])


def test_par_is_bounded_and_sigmoid_does_not_overflow():
    assert preference_as_reward(1e6, [0.0]) == 1.0
    assert preference_as_reward(-1e6, [0.0]) == 0.0
    assert sigmoid(-800.0) == pytest.approx(0.0) and sigmoid(800.0) == 1.0


def test_center_z_and_clip():
    assert center(3.5, 1.5) == 2.0
    assert z_normalise(7.0, 1.0, 3.0) == 2.0
    with pytest.raises(ConfigError, match="standard deviation > 0"):
        z_normalise(1.0, 0.0, 0.0)
    assert [clip(r, -1.0, 2.0) for r in (-3.0, 0.5, 9.0)] == [-1.0, 0.5, 2.0]


def test_clip_mechanism_makes_every_step_non_positive():
    # min(0.9 − 0.5, 0) = 0; min(0.2 − 0.5, 0) = −0.3; min(0.7 − 0.5, 0) = 0.
    assert clip_steps([0.9, 0.2, 0.7], 0.5) == pytest.approx([0.0, -0.3, 0.0])
    # Repeating a good step adds nothing: the return cannot grow with more steps.
    assert sum(clip_steps([0.9] * 10, 0.5)) == 0.0


def test_delta_mechanism_telescopes_to_the_first_step():
    assert delta_steps([0.9, 0.2, 0.7]) == pytest.approx([0.7, -0.5, 0.7])
    assert delta_steps([0.4]) == [0.4] and delta_steps([]) == []
    # The return from step k on is r_k: ten repeats of a 0.9 step are worth one.
    assert sum(delta_steps([0.9] * 10)) == pytest.approx(0.9)
    assert sum(delta_steps([0.9, 0.2, 0.7])[1:]) == pytest.approx(0.2)


def test_parse_shaping_reads_every_kind_and_chains():
    assert parse_shaping("par") == [ShapingStep("par")]
    assert parse_shaping(" z ; clip = -3, 3 ") == [ShapingStep("z"), ShapingStep("clip", (-3.0, 3.0))]
    assert parse_shaping("center") == [ShapingStep("center")]
    assert parse_shaping("center=0.25") == [ShapingStep("center", (0.25,))]
    assert parse_shaping("stepclip=0.5; delta; par") == [ShapingStep("stepclip", (0.5,)), ShapingStep("delta"),
                                                          ShapingStep("par")]


@pytest.mark.parametrize(("spec", "reason"), [
    ("", "empty shaping spec"),
    ("pca", "unknown shaping 'pca'"),
    ("z;;par", "cannot read ''"),
    ("clip=1", r"'clip' in 'clip=1' takes 2 value\(s\), got 1"),
    ("clip=a,1", "'a' is not a number"),
    ("clip=2,1", "LO must not exceed HI"),
    ("clip=-inf,1", "not a finite number"),
    ("par=3", r"takes 0 value\(s\)"),
    ("stepclip", r"'stepclip' in 'stepclip' takes 1 value"),
    ("par; par", "'par' may appear once"),
    ("z; delta", "'delta' acts on step rewards and must come before"),
    ("Z", "cannot read 'Z'"),
])
def test_parse_shaping_errors_name_the_bad_part(spec, reason):
    with pytest.raises(ConfigError, match=reason):
        parse_shaping(spec)
