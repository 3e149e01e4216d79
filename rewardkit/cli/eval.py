"""`rewardkit eval`: run one or more reward models over a suite; write metrics.json and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

NAMED_SUITES = ("verifiable", "process", "rewardbench", "rewardbench2")
_REPORT_KEYS = ("accuracy", "sections", "rewardbench", "calibration", "length_bias", "best_of_n")


def eval_(
    model: List[str] = typer.Option(..., "--model", help="Model folder, hub id, or LM spec such as implicit:dpo "
                                    "(repeat --model to compare several)."),
    suite: str = typer.Option("verifiable", "--suite", help="verifiable | process | rewardbench | rewardbench2 | "
                              "a pairs file (JSONL in TRL, HH or OpenRLHF format)."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json and report.html."),
    seed: Optional[int] = typer.Option(None, help="Suite seed (default: the suite's own, 1234)."),
    n: Optional[int] = typer.Option(None, "--n", help="verifiable: pairs per subset (default 100); "
                                    "process: problems (default 60)."),
    data: Optional[str] = typer.Option(None, "--data", help="Local copy of the RewardBench data (file or folder) "
                                       "instead of the hub."),
    policy: Optional[str] = typer.Option(None, help="Policy LM for LM specs (default smollm2)."),
    reference: Optional[str] = typer.Option(None, help="Reference LM for LM specs."),
    beta: Optional[float] = typer.Option(None, help="β for LM specs (default per kind)."),
    batch_size: int = typer.Option(32, help="Samples per scoring call."),
) -> None:
    """Pairwise accuracy with bootstrap CIs per section, length bias, calibration and Best-of-N; the first
    model's figures (and, with several models, accuracy against cost) go into DIR/report.html."""
    from rich.console import Console

    from rewardkit.evaluation.report import print_table

    check_suite(suite, data)
    console = Console(stderr=True)
    results = {}
    for name in _unique_names(model):
        reward_model = build_model(name.split("#")[0], policy, reference, beta)
        results[name] = run_suite(reward_model, suite, n=n, seed=seed, data=data, batch_size=batch_size,
                                  console=console, label=name)
    metrics, report = combine(results)
    write_outputs(out, metrics, report, results[next(iter(results))].arrays)
    print_table(report, console=Console())
    console.print(f"metrics → {out / 'metrics.json'}   report → {out / 'report.html'}")
    for name, result in results.items():
        folder = model_folder_holding(name.split("#")[0], out)
        if folder is not None:
            from rewardkit.training.model_card import append_evaluation

            card = append_evaluation(folder, suite, card_figures(result.metrics))
            console.print(f"figures added to the model card → {card}")


def model_folder_holding(model: str, out: Path) -> Optional[Path]:
    """The saved model folder `model` when `out` lies inside it (its card then records this evaluation)."""
    folder = Path(model)
    if not (folder / "rewardkit.json").is_file():
        return None
    return folder if out.resolve().is_relative_to(folder.resolve()) else None


def card_figures(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of one model's metrics, flat, for its model card."""
    figures = {key: value for key, value in metrics.get("accuracy", {}).items() if isinstance(value, (int, float))}
    headline = _headline(metrics)
    if headline is not None and "accuracy" not in figures:
        figures["score"] = headline
    return figures


def check_suite(suite: str, data: Optional[str]) -> None:
    """Fail early, with one clear line, on an unknown suite name or a missing file."""
    from rewardkit.errors import ConfigError, DataError

    if data is not None and suite not in ("rewardbench", "rewardbench2"):
        raise ConfigError("--data applies to --suite rewardbench or rewardbench2")
    if data is not None and not Path(data).exists():
        raise DataError("file not found", file=data)
    if suite in NAMED_SUITES:
        return
    path = Path(suite)
    if path.exists():
        return
    if path.suffix or "/" in suite or "\\" in suite:
        raise DataError("file not found", file=suite)
    raise ConfigError(f"unknown suite {suite!r}; use one of {', '.join(NAMED_SUITES)} or a pairs file")


def _unique_names(models: List[str]) -> list[str]:
    """Model arguments as names, with '#2', '#3'... added to repeats."""
    names: list[str] = []
    for m in models:
        names.append(m if m not in names else f"{m}#{sum(x.split('#')[0] == m for x in names) + 1}")
    return names


def build_model(name: str, policy: Optional[str], reference: Optional[str], beta: Optional[float]) -> Any:
    """An LM spec (implicit:dpo, process:implicit...) built over policy/reference, else `rewardkit.load`."""
    from rewardkit.models.lm_rewards import build_from_spec, is_lm_spec

    if is_lm_spec(name):
        return build_from_spec(name, policy=policy or "smollm2", reference=reference, beta=beta)
    import rewardkit

    return rewardkit.load(name)


def run_suite(model: Any, suite: str, *, n: Optional[int], seed: Optional[int], data: Optional[str],
              batch_size: int, console: Any, label: str) -> Any:
    """The EvalResult of `model` on `suite`, with a progress bar while scoring."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from rewardkit.evaluation import rewardbench_eval, suite_eval

    with Progress(TextColumn(f"scoring {label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("score", total=None)
        on_progress = lambda done, total: progress.update(task, completed=done, total=total)  # noqa: E731
        options = {"batch_size": batch_size, "on_progress": on_progress}
        if suite == "verifiable":
            return suite_eval.evaluate_verifiable(model, n or 100, seed, **options)
        if suite == "process":
            from rewardkit.evaluation.process_run import evaluate_process_suite

            return evaluate_process_suite(model, n or 60, 1234 if seed is None else seed)
        if suite == "rewardbench":
            return rewardbench_eval.evaluate_rewardbench_v1(model, data, seed=seed or 0, **options)
        if suite == "rewardbench2":
            return rewardbench_eval.evaluate_rewardbench_v2(model, data, seed=seed or 0, **options)
        return suite_eval.evaluate_pair_file(model, suite, seed=seed or 0, **options)


def combine(results: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics.json content, report metrics): the first model's metrics at the top level, plus a "models"
    cost/accuracy table and, with several models, every model's metrics under "by_model"."""
    import rewardkit

    first_name, first = next(iter(results.items()))
    models = [{"name": name, "accuracy": _headline(r.metrics), "parameters": r.metrics.get("parameters"),
               "ms_per_pair": r.metrics.get("ms_per_pair")} for name, r in results.items()]
    metrics = {"rewardkit_version": getattr(rewardkit, "__version__", None), "model": first_name,
               **first.metrics, "models": models}
    if len(results) > 1:
        metrics["by_model"] = {name: r.metrics for name, r in results.items()}
    report = {key: first.metrics[key] for key in _REPORT_KEYS if key in first.metrics}
    report.update(title=f"rewardkit eval: {first.metrics['suite']['name']} suite", model=first_name)
    if len(results) > 1:
        report["models"] = models
    return metrics, report


def _headline(metrics: dict[str, Any]) -> float | None:
    """The number to rank models by: the official score when there is one, else pairwise accuracy."""
    if "Score" in metrics.get("rewardbench", {}):
        return metrics["rewardbench"]["Score"]
    if "accuracy" in metrics:
        return metrics["accuracy"]["accuracy"]
    return metrics.get("first_error", {}).get("f1")


def write_outputs(out: Path, metrics: dict[str, Any], report: dict[str, Any], arrays: dict[str, Any]) -> None:
    """metrics.json and report.html, each written atomically (the report is rendered before either is written)."""
    import json

    from rewardkit.atomic import atomic_file
    from rewardkit.evaluation.report import write_report

    text = json.dumps(metrics, indent=2, default=_json_default, allow_nan=True) + "\n"
    write_report(report, out, extra_arrays=arrays or None)
    with atomic_file(out / "metrics.json") as handle:
        handle.write(text)


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
