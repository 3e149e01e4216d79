"""The one way to evaluate a reward model: `evaluate(model, suite)` → EvalResult (metrics + report arrays).

    verifiable     rewardkit's own synthetic pairs with checkable answers (suite_eval.evaluate_verifiable)
    process        first-error F1 and Best-of-N on synthetic step traces (process_run; needs step scores)
    rewardbench    RewardBench v1 from the hub or a local copy (`data`)      (rewardbench_eval)
    rewardbench2   RewardBench 2, best-of-4 accuracy                          (rewardbench_eval)
    a pairs file   any JSONL / dataset file the data layer reads as pairs     (suite_eval.evaluate_pair_file)

The CLI (`rewardkit eval`) and quickstart call this; the CLI only parses arguments and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rewardkit.errors import ConfigError, DataError
from rewardkit.evaluation.suite_eval import EvalResult, OnProgress
from rewardkit.models.base import RewardModel


def _verifiable(model, *, n, seed, data, batch_size, on_progress, sections=None) -> EvalResult:
    from rewardkit.evaluation.suite_eval import evaluate_verifiable

    return evaluate_verifiable(model, n or 100, seed, batch_size=batch_size, on_progress=on_progress,
                               sections=sections)


def _process(model, *, n, seed, data, batch_size, on_progress) -> EvalResult:
    from rewardkit.evaluation.process_run import evaluate_process_suite

    return evaluate_process_suite(model, n or 60, 1234 if seed is None else seed)


def _rewardbench(model, *, n, seed, data, batch_size, on_progress, prior_data=None) -> EvalResult:
    from rewardkit.evaluation.rewardbench_eval import evaluate_rewardbench_v1

    return evaluate_rewardbench_v1(model, data, prior_source=prior_data, seed=seed or 0, batch_size=batch_size,
                                   on_progress=on_progress)


def _rewardbench2(model, *, n, seed, data, batch_size, on_progress) -> EvalResult:
    from rewardkit.evaluation.rewardbench_eval import evaluate_rewardbench_v2

    return evaluate_rewardbench_v2(model, data, seed=seed or 0, batch_size=batch_size, on_progress=on_progress)


SUITES: dict[str, Callable[..., EvalResult]] = {
    "verifiable": _verifiable, "process": _process, "rewardbench": _rewardbench, "rewardbench2": _rewardbench2,
}
TAKES_DATA = ("rewardbench", "rewardbench2")
"""Suites whose `data` may point to a local copy instead of the hub."""


def check_suite(suite: str, data: str | None = None, row_rules: bool = False, prior_data: str | None = None,
                sections: list[str] | None = None) -> None:
    """Fail early, with one clear line, on an unknown suite name, a missing file, row rules (`row_rules`:
    strict_rows / on_bad_rows given) for a suite that is not a pairs file, or `sections` of a suite other than
    verifiable (or unknown to it)."""
    if sections is not None:
        from rewardkit.synth.suite import SECTIONS

        if suite != "verifiable":
            raise ConfigError("--sections applies to --suite verifiable")
        unknown = [name for name in sections if name not in SECTIONS]
        if unknown or not sections:
            raise ConfigError(f"unknown verifiable sections {unknown}; known: {', '.join(SECTIONS)}")
    if prior_data is not None and suite != "rewardbench":
        raise ConfigError("--prior-data applies to --suite rewardbench (RewardBench v1's prior sets)")
    if prior_data is not None and not Path(prior_data).exists():
        raise DataError("file not found", file=prior_data)
    if row_rules and suite in SUITES:
        raise ConfigError(f"strict_rows / on_bad_rows apply to a pairs file, not to the {suite} suite")
    if data is not None and suite not in TAKES_DATA:
        raise ConfigError(f"--data applies to --suite {' or '.join(TAKES_DATA)}")
    if data is not None and not Path(data).exists():
        raise DataError("file not found", file=data)
    if suite in SUITES or Path(suite).exists():
        return
    if Path(suite).suffix or "/" in suite or "\\" in suite:
        raise DataError("file not found", file=suite)
    raise ConfigError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)} or a pairs file")


def evaluate(model: RewardModel, suite: str, *, n: int | None = None, seed: int | None = None,
             data: str | None = None, batch_size: int = 64, on_progress: OnProgress | None = None,
             strict_rows: bool = False, on_bad_rows: str = "error", prior_data: str | None = None,
             sections: list[str] | None = None) -> EvalResult:
    """`model` on `suite` (a name above or a pairs file). `n`: pairs per subset (verifiable, default 100) or
    problems (process, default 60); `seed`: the suite's seed (default: the suite's own); `strict_rows` and
    `on_bad_rows`: how a pairs file's odd rows are handled (rewardkit.data.loaders); `prior_data`: a local copy
    of RewardBench v1's prior sets (rewardbench_prior); `sections`: the verifiable suite's sections to run (None:
    all)."""
    check_suite(suite, data, row_rules=strict_rows or on_bad_rows != "error", prior_data=prior_data,
                sections=sections)
    if suite in SUITES:
        extra = {"prior_data": prior_data} if prior_data is not None else {}
        extra.update({"sections": sections} if sections is not None else {})
        return SUITES[suite](model, n=n, seed=seed, data=data, batch_size=batch_size, on_progress=on_progress,
                             **extra)
    from rewardkit.evaluation.suite_eval import evaluate_pair_file

    return evaluate_pair_file(model, suite, seed=seed or 0, batch_size=batch_size, on_progress=on_progress,
                              strict_rows=strict_rows, on_bad_rows=on_bad_rows)
