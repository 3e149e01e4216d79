"""Several models on one suite: the metrics.json content, the report's cost/accuracy table, and what goes
into each model's card. Written atomically (`write_outputs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rewardkit.evaluation.suite_eval import EvalResult

REPORT_KEYS = ("accuracy", "sections", "rewardbench", "calibration", "length_bias", "best_of_n", "shortcuts", "judge",
               "null_model", "attributes")
"""The first model's metrics that report.html draws (of the other models: the cost/accuracy table, and their
attribute tables as "attributes_by_model")."""


_CARD_KEYS = {"Score": "score", "Score (excl. prior sets)": "score_excl_prior_sets",
              "Score (incomplete prior sets)": "score_incomplete_prior_sets"}


def _overall_key(metrics: dict[str, Any]) -> str | None:
    """The RewardBench overall's key in metrics["rewardbench"]: "Score", or a v1 label saying what it leaves out."""
    return next((key for key in metrics.get("rewardbench", {}) if key.startswith("Score")), None)


def headline(metrics: dict[str, Any]) -> float | None:
    """The number to rank models by: the RewardBench overall when there is one, else pairwise accuracy, else
    the first-error F1 (process suite)."""
    key = _overall_key(metrics)
    if key is not None:
        return metrics["rewardbench"][key]
    if "accuracy" in metrics:
        return metrics["accuracy"]["accuracy"]
    return metrics.get("first_error", {}).get("f1")


def card_figures(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of one model's metrics, flat, for its model card; a RewardBench v1 overall without
    (all) the prior sets is filed as "score_excl_prior_sets" / "score_incomplete_prior_sets", never as "score"."""
    figures = {key: value for key, value in metrics.get("accuracy", {}).items() if isinstance(value, (int, float))}
    score = headline(metrics)
    if score is not None and "accuracy" not in figures:
        figures[_CARD_KEYS.get(_overall_key(metrics) or "Score", "score")] = score
    return figures


def model_row(name: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """One model's line of the cost/accuracy table: accuracy (with its bootstrap CI when it is pairwise accuracy)
    and costs, plus (when measured) the null-model win rate and a judge's unparseable rate and position
    consistency."""
    judge = metrics.get("judge", {})
    accuracy = metrics.get("accuracy", {}) if _overall_key(metrics) is None else {}
    return {"name": name, "accuracy": headline(metrics), "ci_low": accuracy.get("ci_low"),
            "ci_high": accuracy.get("ci_high"), "parameters": metrics.get("parameters"),
            "ms_per_pair": metrics.get("ms_per_pair"),
            "generated_tokens_per_pair": metrics.get("generated_tokens_per_pair"),
            "null_model_win_rate": metrics.get("null_model", {}).get("win_rate"),
            "unparseable_rate": judge.get("unparseable_rate"),
            "position_consistency": judge.get("position_consistency")}


def combine(results: dict[str, EvalResult], version: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics.json content, report metrics): the first model's metrics at the top level, plus a "models"
    cost/accuracy table and, with several models, every model's metrics under "by_model"."""
    first_name, first = next(iter(results.items()))
    models = [model_row(name, r.metrics) for name, r in results.items()]
    metrics = {"rewardkit_version": version, "model": first_name, **first.metrics, "models": models}
    if len(results) > 1:
        metrics["by_model"] = {name: r.metrics for name, r in results.items()}
    report = {key: first.metrics[key] for key in REPORT_KEYS if key in first.metrics}
    report.update(title=f"rewardkit eval: {first.metrics['suite']['name']} suite", model=first_name)
    if len(results) > 1:
        report["models"] = models
        others = {name: r.metrics["attributes"] for name, r in list(results.items())[1:] if "attributes" in r.metrics}
        if others:
            report["attributes_by_model"] = others
    return metrics, report


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
