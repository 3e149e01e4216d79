"""`rewardkit train`: train a reward model from a YAML config, options and key=value overrides."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def train(
    overrides: Optional[List[str]] = typer.Argument(None, help="key=value overrides of any config key."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file of config keys."),
    family: Optional[str] = typer.Option(None, "--family", "--kind", help="scalar | implicit | process | "
                                         "multi | judge (rewardkit.families)."),
    objective: Optional[str] = typer.Option(
        None, help="scalar: bt | bt-margin | scaled-bt | regression; implicit: dpo; process: implicit-ce | "
                   "implicit-dpo | step-bce; multi: armo; judge: cloud. Default: the family's first."),
    data: Optional[str] = typer.Option(None, help="Training data: .jsonl, local dataset file/folder or hub id."),
    eval_data: Optional[str] = typer.Option(None, help="Held-out data in the same format."),
    backbone: Optional[str] = typer.Option(None, help="Backbone folder or hub id ('minilm' = shipped default; "
                                                       "'smollm2' = shipped causal LM)."),
    reference: Optional[str] = typer.Option(
        None, help="process / implicit: the frozen reference causal LM (default: the untrained backbone)."),
    out: Path = typer.Option(Path("runs/train"), "--out", help="Output folder (model/, checkpoint/, logs)."),
    resume: bool = typer.Option(False, help="Continue from OUT/checkpoint."),
    chosen_key: Optional[str] = typer.Option(None, help="Custom key of the chosen response (OpenRLHF style)."),
    rejected_key: Optional[str] = typer.Option(None, help="Custom key of the rejected response."),
    prompt_key: Optional[str] = typer.Option(None, help="Custom key of the prompt."),
    pairs: Optional[str] = typer.Option(None, "--pairs", help="multi: preference pairs for the gate (--data holds "
                                        "the attribute ratings)."),
    init: Optional[str] = typer.Option(None, "--init", help="scalar pairwise objectives: start from this trained "
                                       "scalar model (e.g. a regression model) instead of a new head."),
    on_bad_rows: Optional[str] = typer.Option(None, "--on-bad-rows", help="error (default): stop at a broken row, "
                                              "naming it | skip: leave it out, count it, write it with its reason "
                                              "to OUT/skipped_rows.jsonl (the config key on_bad_rows)."),
    strict_rows: bool = typer.Option(False, "--strict-rows", help="Stop at a pair whose conversations diverge "
                                     "before the last turn, naming it (the config key strict_rows)."),
) -> None:
    """Train a reward model. Precedence: --config YAML < options < key=value overrides."""
    import json

    from rewardkit.atomic import atomic_file
    from rewardkit.cli.summary import write_skipped_rows
    from rewardkit.cli.terminal import cli_console
    from rewardkit.families import build_task, load_train_config
    from rewardkit.training.loop import train as run_training

    console = cli_console(stderr=True)
    cfg = load_train_config(
        str(config) if config else None, overrides or [], family=family, objective=objective, data=data,
        eval_data=eval_data, backbone=backbone, reference=reference, chosen_key=chosen_key, rejected_key=rejected_key,
        prompt_key=prompt_key, pairs=pairs, init=init, on_bad_rows=on_bad_rows, strict_rows=strict_rows or None,
    )
    console.print(f"training {cfg.family}/{cfg.objective} on {cfg.data} → {out}")
    task = build_task(cfg)
    if task.truncated:
        console.print(f"{task.truncated} training samples longer than max_length={cfg.max_length} were truncated")
    out.mkdir(parents=True, exist_ok=True)
    if task.data_stats is not None:
        console.print(f"data: {task.data_stats}")
        write_skipped_rows(out, task.data_stats.bad_rows, console)
    with atomic_file(out / "train_config.json") as handle:
        json.dump(cfg.to_dict(), handle, indent=2)
    result = run_training(task, cfg, out, resume=resume)
    console.print(f"done: {result.steps} steps in {result.train_seconds:.1f}s; {eval_phrase(result.last_eval)}; "
                  f"model → {out / 'model'}")


def eval_phrase(figures: dict) -> str:
    """The last evaluation as words: {"eval_accuracy": 0.75, "eval_pairs": 12} → "eval: accuracy 0.750, pairs 12"."""
    if not figures:
        return "no evaluation"
    parts = [f"{name.removeprefix('eval_').replace('_', ' ')} "
             f"{format(value, '.3f') if isinstance(value, float) else value}" for name, value in figures.items()]
    return "eval: " + ", ".join(parts)
