"""The verifiable suite's own shortcut audit: `shortcut_battery` on the suite at one seed, with the n-gram
classifier fitted on the suite at another seed, checked against the ceilings the suite promises.

A section's ceiling must stay at or under `SECTION_CEILING`; a subset's at or under `SUBSET_CEILING`, except
the subsets `suite.DEFINITIONAL_SUBSETS` names, whose definition makes a surface feature decisive (they are
balanced at the section level instead). Rerun the published figures with

    python -m rewardkit.evaluation.suite_audit --n 500 --seed 99 --fit-seed 98
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

SECTION_CEILING = 0.60
"""No baseline may reach more than this accuracy on any section."""
SUBSET_CEILING = 0.65
"""No baseline may reach more than this accuracy on any subset outside `suite.DEFINITIONAL_SUBSETS`."""


@dataclass(frozen=True)
class Breach:
    """A section or subset whose shortcut ceiling is over its limit."""

    level: str
    """"sections" or "subsets"."""
    name: str
    accuracy: float
    baseline: str
    limit: float


def suite_ceilings(n_per_subset: int, seed: int, fit_seed: int) -> dict:
    """`shortcut_battery(...)["ceiling"]` of the suite at `seed`, the classifier fitted at `fit_seed`."""
    from rewardkit.evaluation.shortcuts import shortcut_battery
    from rewardkit.synth import suite

    pairs = [sp.pair for sp in suite.build_suite(n_per_subset, seed)]
    fit = [sp.pair for sp in suite.build_suite(n_per_subset, fit_seed)]
    return shortcut_battery(pairs, section_of=suite.section_of, fit_pairs=fit, seed=seed)["ceiling"]


def breaches(ceilings: dict) -> list[Breach]:
    """Every section over `SECTION_CEILING` and every non-definitional subset over `SUBSET_CEILING`."""
    from rewardkit.synth.suite import DEFINITIONAL_SUBSETS

    found = []
    for level, limit in (("sections", SECTION_CEILING), ("subsets", SUBSET_CEILING)):
        for name, best in ceilings[level].items():
            if level == "subsets" and name in DEFINITIONAL_SUBSETS:
                continue
            if best["accuracy"] > limit:
                found.append(Breach(level, name, best["accuracy"], best["baseline"], limit))
    return found


def _table(ceilings: dict) -> str:
    from rewardkit.synth.suite import DEFINITIONAL_SUBSETS

    lines = []
    for level in ("sections", "subsets"):
        for name, best in ceilings[level].items():
            mark = "  (definitional)" if name in DEFINITIONAL_SUBSETS else ""
            lines.append(f"{level[:-1]:8} {name:22} {best['accuracy']:.3f}  {best['baseline']}{mark}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print every ceiling and the breaches; exit status 1 when there is a breach."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="pairs per subset")
    parser.add_argument("--seed", type=int, default=99, help="seed of the audited suite")
    parser.add_argument("--fit-seed", type=int, default=98, help="seed of the pairs the n-gram classifier fits")
    parser.add_argument("--json", action="store_true", help="print the ceilings as JSON instead of a table")
    args = parser.parse_args(argv)
    ceilings = suite_ceilings(args.n, args.seed, args.fit_seed)
    print(json.dumps(ceilings, indent=2) if args.json else _table(ceilings))
    found = breaches(ceilings)
    for b in found:
        print(f"BREACH {b.level[:-1]} {b.name}: {b.accuracy:.3f} by {b.baseline!r} > {b.limit}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
