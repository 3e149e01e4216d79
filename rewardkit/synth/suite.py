"""The verifiable evaluation suite: subsets (template families) grouped into RewardBench-like sections.

    chat                instruction following with visible violations, plus factual and on-topic answers
    chat-hard           the violation is subtle and both answers have similar length
    safety              should refuse (chosen declines) and should respond (chosen helps, rejected over-refuses)
    reasoning           arithmetic with worked solutions, Python functions checked by their unit tests
    length-adversarial  a long confident answer against a short plain one; either may be the wrong one

No surface shortcut passes it: every subset breaks its rule in both directions (the shorter answer is right as
often as the longer, a refusal as often as a compliance across the safety section, the long confident answer as
often as the short one) and draws both answers from the same phrase pools. `rewardkit.evaluation.suite_audit`
checks it with `shortcut_battery` (length both ways, JSON validity, refusal markers, duplicated sentences, stock
phrases, prompt overlap, a response-only n-gram classifier fitted on another seed): every section's ceiling is
at most 0.60 and every subset's at most 0.65, except `DEFINITIONAL_SUBSETS`, where the subset's definition makes
a surface feature decisive:

    should_refuse   "has a refusal marker" decides every pair: refusing is what the subset asks for
    over_refusal    "no refusal marker" decides every pair: not refusing is what the subset asks for

The two share one pool of refusals and one of compliance (synth/replies.py) and have as many pairs, so over the
safety section "refusal wins" is right half the time.

Deterministic from the seed: the k-th pair of a subset depends only on (seed, subset, k), as in
`preference.generate_pairs`. The default seed differs from training's default (0), so a model trained on
`generate_pairs(..., seed=0)` is not evaluated on its own training pairs. Subsets outside the default training
families (and the default held-out families) are flagged `heldout`, to measure generalisation to templates a
model has not seen.

    >>> pairs = build_suite(n_per_subset=2)
    >>> sorted({section_of(p.family) for p in pairs}) == sorted(SECTIONS)
    True
"""

from __future__ import annotations

from random import Random
from typing import Sequence

from rewardkit.errors import ConfigError
from rewardkit.synth import chat_hard, code, length_adversarial, reasoning, safety
from rewardkit.synth.pair import SynthPair
from rewardkit.synth.preference import DEFAULT_FAMILIES, DEFAULT_HELDOUT_FAMILIES, FAMILIES, Family

SUITE_VERSION = "2.0"
"""Bumped whenever a family, its templates or the section layout change, so saved metrics stay comparable."""

DEFAULT_SEED = 1234
"""Seed of the suite when none is given (training data default to seed 0)."""

SUITE_FAMILIES: dict[str, Family] = {
    "tight_word_limit": chat_hard.tight_word_limit,
    "keyword_variant": chat_hard.keyword_variant,
    "bullet_off_by_one": chat_hard.bullet_off_by_one,
    "closing_variant": chat_hard.closing_variant,
    "json_near_miss": chat_hard.json_near_miss,
    "should_refuse": safety.should_refuse,
    "multi_step_math": reasoning.multi_step_math,
    "python_function": code.python_function,
    "confident_wrong_math": length_adversarial.confident_wrong_math,
    "confident_wrong_fact": length_adversarial.confident_wrong_fact,
}
"""Families written for the suite, beside `preference.FAMILIES` (kept apart so training defaults do not change)."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "chat": ("word_limit", "word_minimum", "include_keyword", "exclude_keyword", "bullet_count", "starts_with",
             "ends_with", "json_keys", "letter_case", "on_topic", "repetition", "fact_recall", "fact_lookup"),
    "chat-hard": ("tight_word_limit", "keyword_variant", "bullet_off_by_one", "closing_variant", "json_near_miss"),
    "safety": ("should_refuse", "over_refusal"),
    "reasoning": ("arithmetic", "multi_step_math", "python_function"),
    "length-adversarial": ("confident_wrong_math", "confident_wrong_fact"),
}
"""Section → its subsets; a subset's name is the family that generates it."""

HELDOUT_SUBSETS: tuple[str, ...] = tuple(
    name for subsets in SECTIONS.values() for name in subsets
    if name not in DEFAULT_FAMILIES or name in DEFAULT_HELDOUT_FAMILIES
)
"""Subsets no default training run sees: out-of-distribution for a model trained on the defaults."""

DEFINITIONAL_SUBSETS: dict[str, str] = {
    "should_refuse": "the right answer is the refusal by definition, so 'has a refusal marker' decides every pair "
                     "(as in RewardBench's refusal subsets); balanced by over_refusal in the safety section",
    "over_refusal": "the right answer is the one that does not refuse by definition, so 'no refusal marker' decides "
                    "every pair (as in XSTest); balanced by should_refuse in the safety section",
}
"""Subsets whose definition makes a surface feature decisive → why; exempt from the per-subset shortcut
ceiling (rewardkit.evaluation.suite_audit) and balanced at the section level instead."""

_SECTION_OF = {name: section for section, subsets in SECTIONS.items() for name in subsets}


def family(name: str) -> Family:
    """The generator of subset `name`, from the suite's families or `preference.FAMILIES`."""
    found = SUITE_FAMILIES.get(name) or FAMILIES.get(name)
    if found is None:
        raise ConfigError(f"unknown suite subset {name!r}; known: {', '.join(_SECTION_OF)}")
    return found


def section_of(subset: str) -> str:
    """The section a subset belongs to ("chat", "chat-hard", ...)."""
    if subset not in _SECTION_OF:
        raise ConfigError(f"unknown suite subset {subset!r}; known: {', '.join(_SECTION_OF)}")
    return _SECTION_OF[subset]


def generate_subset(name: str, n: int, seed: int = DEFAULT_SEED) -> list[SynthPair]:
    """The first `n` pairs of subset `name`; pair k is `family(name)(Random(f"{seed}/{name}/{k}"))`."""
    make = family(name)
    return [make(Random(f"{seed}/{name}/{k}")) for k in range(n)]


def build_suite(n_per_subset: int = 100, seed: int = DEFAULT_SEED,
                sections: Sequence[str] | None = None) -> list[SynthPair]:
    """`n_per_subset` pairs of every subset of `sections` (default all), grouped by section then subset."""
    if n_per_subset < 1:
        raise ConfigError(f"n_per_subset must be >= 1, got {n_per_subset}")
    chosen = list(SECTIONS) if sections is None else list(sections)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise ConfigError(f"unknown suite sections {unknown}; known: {', '.join(SECTIONS)}")
    names = [name for section in chosen for name in SECTIONS[section]]
    return [pair for name in names for pair in generate_subset(name, n_per_subset, seed)]


def describe() -> dict[str, object]:
    """The suite's layout as JSON-ready data (stored in metrics.json beside the results)."""
    return {"version": SUITE_VERSION, "sections": {s: list(v) for s, v in SECTIONS.items()},
            "heldout_subsets": list(HELDOUT_SUBSETS), "definitional_subsets": dict(DEFINITIONAL_SUBSETS)}
