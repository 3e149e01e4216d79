"""The verifiable suite passes its own shortcut audit: at a seed no generator was tuned on, with the n-gram
classifier fitted on another seed, no section's ceiling is over 0.60 and no subset's over 0.65 outside the
documented definitional subsets, which the safety section balances."""

import pytest

from rewardkit.evaluation.suite_audit import SECTION_CEILING, SUBSET_CEILING, breaches, suite_ceilings
from rewardkit.synth.suite import DEFINITIONAL_SUBSETS, SECTIONS


@pytest.fixture(scope="module")
def ceilings():
    return suite_ceilings(n_per_subset=500, seed=2024, fit_seed=2025)  # ~15 s on 2 shared cores


def test_no_section_or_subset_is_over_its_shortcut_ceiling(ceilings):
    found = breaches(ceilings)
    assert found == [], "\n".join(f"{b.level} {b.name}: {b.accuracy:.3f} by {b.baseline!r} > {b.limit}"
                                   for b in found)


def test_every_definitional_subset_is_documented_and_balanced_in_its_section(ceilings):
    assert set(DEFINITIONAL_SUBSETS) <= {name for names in SECTIONS.values() for name in names}
    assert all(len(reason) > 40 for reason in DEFINITIONAL_SUBSETS.values())
    assert ceilings["sections"]["safety"]["accuracy"] <= SECTION_CEILING
    assert {ceilings["subsets"][name]["n"] for name in DEFINITIONAL_SUBSETS} == {500}


def test_breaches_name_what_is_over_and_skip_only_definitional_subsets():
    definitional = next(iter(DEFINITIONAL_SUBSETS))
    over = {"accuracy": 0.9, "baseline": "words shorter", "n": 10}
    fine = {"accuracy": SUBSET_CEILING, "baseline": "words longer", "n": 10}
    found = breaches({"sections": {"chat": over, "safety": {**fine, "accuracy": SECTION_CEILING}},
                      "subsets": {"word_limit": over, definitional: over, "arithmetic": fine}})
    assert [(b.level, b.name, b.baseline) for b in found] == [
        ("sections", "chat", "words shorter"), ("subsets", "word_limit", "words shorter")]
