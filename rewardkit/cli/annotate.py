"""`rewardkit annotate`: several responses per prompt → chosen/rejected pairs (TRL format) by reward."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rewardkit.cli.spec_options import (
    MODEL_HELP, Backend, BaseUrl, Beta, JudgeOption, Policy, Reference, Template, check_judge_options, judge_options,
    model_from,
)


def annotate(
    model: str = typer.Option(..., "--model", help=MODEL_HELP),
    input: Path = typer.Option(..., "--input", help='JSONL rows {"prompt": str | messages, "responses": list of str} '
                               "(two or more); other fields are kept."),
    output: Path = typer.Option(..., "--output", help="JSONL of prompt/chosen/rejected pairs with score_chosen, "
                                "score_rejected and margin (written atomically, on completion)."),
    mode: str = typer.Option("best-worst", help="best-worst: one pair per prompt, best over worst | margin: every "
                             "pair whose reward gap exceeds --margin."),
    margin: Optional[float] = typer.Option(None, help="Smallest reward gap kept (--mode margin)."),
    batch_size: int = typer.Option(32, help="Samples per forward pass (batched by length)."),
    chunk_rows: int = typer.Option(512, help="Rows per chunk: scored together."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from OUTPUT.partial."),
    on_bad_rows: str = typer.Option("error", help="error: stop at a broken row, naming it | skip: leave it out, "
                                    "count it, write it with its reason to OUTPUT.skipped_rows.jsonl."),
    policy: Policy = None,
    reference: Reference = None,
    beta: Beta = None,
    backend: Backend = None,
    base_url: BaseUrl = None,
    template: Template = None,
    judge_option: JudgeOption = None,
) -> None:
    """Turn each prompt's responses into preference pairs ranked by the reward model."""
    from rewardkit.application.annotate import annotate_jsonl, check_annotate_options
    from rewardkit.cli.progress import check_row_options, row_progress
    from rewardkit.cli.terminal import cli_console
    from rewardkit.scale.batch_scoring import count_rows

    check_row_options(input, chunk_rows, batch_size, on_bad_rows)
    check_annotate_options(mode, margin)
    console = cli_console(stderr=True)
    judge = judge_options(backend, base_url, template, judge_option or [])
    check_judge_options([model], judge)
    reward_model = model_from(model, policy=policy, reference=reference, beta=beta, judge=judge)
    with row_progress(console, "annotating", count_rows(str(input))) as advance:
        report = annotate_jsonl(reward_model, str(input), str(output), mode=mode, margin=margin,
                                batch_size=batch_size, block_rows=chunk_rows, resume=resume, on_bad_rows=on_bad_rows,
                                on_rows=advance)
    console.print(f"{report.pairs} pairs from {report.rows + report.resumed_rows - report.skipped} prompts"
                  + (f" (resumed after {report.resumed_rows} rows)" if report.resumed_rows else "")
                  + f"; {report.ties} ties (all responses scored the same) gave no pair"
                  + (f", {report.below_margin} prompts had no gap above {margin}" if mode == "margin" else "")
                  + f"; {report.truncated} responses truncated to the model's max length → {output}")
    if report.skipped:
        console.print(f"{report.skipped} broken rows skipped, each with its reason → {report.skipped_path}")
