"""`rewardkit eval`: run one or more reward models over a suite; write metrics.json and report.html."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer

from rewardkit.cli.spec_options import (
    Backend, BaseUrl, Beta, JudgeOption, Policy, Reference, Template, check_judge_options, judge_options, model_from,
)
from rewardkit.cli.steering import WEIGHTS_HELP, steering_options


def eval_(
    model: List[str] = typer.Option(..., "--model", help="Model folder, hub id, or a spec family:kind such as "
                                    "implicit:dpo (repeat --model to compare several)."),
    suite: str = typer.Option("verifiable", "--suite", help="verifiable | process | rewardbench | rewardbench2 | "
                              "a pairs file (JSONL in TRL, HH or OpenRLHF format)."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json and report.html."),
    seed: Optional[int] = typer.Option(None, help="Suite seed (default: the suite's own, 1234)."),
    n: Optional[int] = typer.Option(None, "--n", help="verifiable: pairs per subset (default 100); "
                                    "process: problems (default 60)."),
    sections: Optional[str] = typer.Option(None, "--sections", help="verifiable: only these sections, comma-"
                                           "separated (chat, chat-hard, safety, reasoning, length-adversarial)."),
    data: Optional[str] = typer.Option(None, "--data", help="Local copy of the RewardBench data (file or folder) "
                                       "instead of the hub."),
    prior_data: Optional[str] = typer.Option(None, "--prior-data", help="rewardbench: local copy of "
                                             "allenai/preference-test-sets (the prior sets; without them the score "
                                             "is reported as excluding them)."),
    policy: Policy = None,
    reference: Reference = None,
    beta: Beta = None,
    backend: Backend = None,
    base_url: BaseUrl = None,
    template: Template = None,
    judge_option: JudgeOption = None,
    batch_size: int = typer.Option(32, help="Samples per scoring call."),
    strict_rows: bool = typer.Option(False, "--strict-rows", help="Pairs file: stop at a pair whose "
                                     "conversations diverge before the final responses (default: keep, count)."),
    on_bad_rows: str = typer.Option("error", help="Pairs file: error (stop at a broken row, naming it) | skip "
                                    "(count it and write it with its reason to OUT/skipped_rows.jsonl)."),
    rules: Optional[str] = typer.Option(None, "--combine", help="Rule rewards added to each model's, e.g. \"0.8*rm + "
                                          "0.2*format\" (rules: format, answer, length, reasoning)."),
    ratings: Optional[str] = typer.Option(None, "--ratings", help="Held-out attribute ratings (HelpSteer2 or "
                                          "UltraFeedback rows): per-attribute Pearson and Spearman with CIs."),
    weights: Optional[str] = typer.Option(None, "--weights", help=WEIGHTS_HELP + " Applies to every --model; the "
                                          "model card is then left as it is."),
    resume: bool = typer.Option(False, help="Continue an interrupted evaluation into the same OUT: the chunks "
                                "scored before (OUT/.partial, kept until the outputs are written) for the same "
                                "models, data and batch size are taken, the rest scored."),
) -> None:
    """Pairwise accuracy with bootstrap CIs per section, length bias, calibration and Best-of-N; the first
    model's figures (and, with several models, accuracy against cost) go into DIR/report.html."""
    import json
    import shutil

    import rewardkit
    from rewardkit.cli.terminal import cli_console
    from rewardkit.data.loaders import check_bad_row_policy
    from rewardkit.evaluation.comparison import card_figures, combine, write_outputs
    from rewardkit.evaluation.report import print_table
    from rewardkit.evaluation.resumable import folder_identity, journaling
    from rewardkit.evaluation.suites import check_suite

    check_bad_row_policy(on_bad_rows)
    section_names = [name.strip() for name in sections.split(",")] if sections is not None else None
    check_suite(suite, data, row_rules=strict_rows or on_bad_rows != "error", prior_data=prior_data,
                sections=section_names)
    if rules is not None:
        from rewardkit.models.combined import parse_combination

        parse_combination(rules)  # a bad spec fails before any model is built
    console = cli_console(stderr=True)
    judge = judge_options(backend, base_url, template, judge_option or [])
    check_judge_options(model, judge)
    steering = {name: steering_options(name, weights) for name in model}  # every spec checked before any loads
    results = {}
    partial = out / ".partial"
    for name in _unique_names(model):
        path = name.split("#")[0]
        reward_model = model_from(path, steering[path], policy=policy, reference=reference, beta=beta, judge=judge)
        if rules is not None:
            from rewardkit.models.combined import combined

            reward_model = combined(reward_model, rules)
        generator = getattr(getattr(reward_model, "backend", None), "model", None)  # a judge's (served) model
        identity = json.dumps({"policy": policy, "reference": reference, "beta": beta, "weights": weights,
                               "judge": {k: v for k, v in (judge or {}).items() if k != "base_url"},
                               "generator": generator, "combine": rules, "files": folder_identity(path)},
                              sort_keys=True, default=str)  # a server restarted at another URL: the same judge
        with journaling(partial, name, resume, identity), _resume_hint(partial, console):
            results[name] = _evaluate_with_progress(reward_model, suite, n=n, seed=seed, data=data,
                                                    batch_size=batch_size, console=console, label=name,
                                                    strict_rows=strict_rows, on_bad_rows=on_bad_rows,
                                                    prior_data=prior_data, sections=section_names)
            if ratings:
                from rewardkit.evaluation.attributes import suite_attribute_metrics

                results[name].metrics["attributes"] = suite_attribute_metrics(
                    reward_model, suite, ratings, n=n, seed=seed, batch_size=batch_size, strict_rows=strict_rows,
                    on_bad_rows=on_bad_rows, known=results[name].metrics.get("attributes"),
                    sections=section_names)
    first = results[next(iter(results))]
    metrics, report = combine(results, rewardkit.__version__)
    write_outputs(out, metrics, report, first.arrays)
    _write_judgements(out, results, console)
    shutil.rmtree(partial, ignore_errors=True)  # the outputs hold everything the journals did
    print_table(report, console=cli_console())
    with_attributes = [name for name, result in results.items() if "attributes" in result.metrics]
    if with_attributes:
        from rewardkit.evaluation.report_attributes import print_attribute_table

        for name in with_attributes:
            print_attribute_table(results[name].metrics["attributes"], cli_console(),
                                  name if len(results) > 1 else None)
    _print_rows(first.metrics["suite"].get("rows"), first.bad_rows, out, console)
    console.print(f"metrics → {out / 'metrics.json'}   report → {out / 'report.html'}")
    for name, result in results.items():
        folder = model_folder_holding(name.split("#")[0], out)
        if folder is not None and weights is not None:
            console.print(f"steered by --weights {weights}: the model card in {folder} is left as it is")
        elif folder is not None:
            from rewardkit.training.model_card import append_evaluation

            card = append_evaluation(folder, suite, card_figures(result.metrics))
            console.print(f"figures added to the model card → {card}")


@contextmanager
def _resume_hint(partial: Path, console):
    """An error while scoring (a judge server gone, a broken row) says that what was scored is kept, and how to go
    on from it (Ctrl-C says so in `main`)."""
    from rewardkit.errors import RewardkitError

    try:
        yield
    except RewardkitError:
        if any(partial.glob("*.jsonl")):
            console.print(f"the chunks scored so far are kept in {partial}: rerun with --resume to go on from them")
        raise


def model_folder_holding(model: str, out: Path) -> Optional[Path]:
    """The saved model folder `model` when `out` lies inside it (its card then records this evaluation)."""
    folder = Path(model)
    if not (folder / "rewardkit.json").is_file():
        return None
    return folder if out.resolve().is_relative_to(folder.resolve()) else None


def _unique_names(models: List[str]) -> list[str]:
    """Model arguments as names, with '#2', '#3'... added to repeats."""
    names: list[str] = []
    for m in models:
        names.append(m if m not in names else f"{m}#{sum(x.split('#')[0] == m for x in names) + 1}")
    return names


def _write_judgements(out: Path, results: dict, console) -> None:
    """OUT/judgements.jsonl (or judgements-N.jsonl for the N-th model): each judge's text per pair."""
    import json

    from rewardkit.atomic import atomic_file

    for index, (name, result) in enumerate(results.items()):
        if not result.judgements:
            continue
        path = out / ("judgements.jsonl" if index == 0 else f"judgements-{index + 1}.jsonl")
        with atomic_file(path) as handle:
            for row in result.judgements:
                handle.write(json.dumps({"model": name, **row}, ensure_ascii=False) + "\n")
        console.print(f"{name}: judge texts per pair → {path}")


def _evaluate_with_progress(model, suite: str, *, console, label: str, **options):
    """`evaluation.suites.evaluate` with a progress bar while scoring."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from rewardkit.evaluation.suites import evaluate

    with Progress(TextColumn(f"scoring {label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("score", total=None)
        return evaluate(model, suite, on_progress=lambda done, total: progress.update(task, completed=done,
                                                                                       total=total), **options)


def _print_rows(rows: Optional[dict], bad_rows: list, out: Path, console) -> None:
    """A pairs file's row counts, and OUT/skipped_rows.jsonl for rows skipped under --on-bad-rows skip."""
    if rows is None:
        return
    from rewardkit.cli.summary import write_skipped_rows
    from rewardkit.data.loaders import skipped_phrase

    console.print(f"data: {rows['rows']} rows read, {rows['kept']} pairs evaluated, {skipped_phrase(rows['skipped'])};"
                  f" {rows['diverged']} with conversations diverging before the last turn (shared turns as prompt)")
    write_skipped_rows(out, bad_rows, console)
