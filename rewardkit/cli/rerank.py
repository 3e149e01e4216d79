"""`rewardkit rerank`: keep the best of each prompt's candidates (Best-of-N, fixed or adaptive budget)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rewardkit.cli.spec_options import (
    MODEL_HELP, Backend, BaseUrl, Beta, JudgeOption, Policy, Reference, Template, check_judge_options, judge_options,
    model_from,
)


def rerank(
    model: str = typer.Option(..., "--model", help=MODEL_HELP),
    input: Path = typer.Option(..., "--input", help='JSONL rows {"prompt": str | messages, "candidates": list of str}; '
                               "other fields are kept."),
    output: Path = typer.Option(..., "--output", help="JSONL of the input rows with response, reward, index and "
                                "rewards (written atomically, on completion)."),
    n: Optional[int] = typer.Option(None, "--n", help="Score the first N candidates of each row (default: all)."),
    adaptive: bool = typer.Option(False, help="Adaptive Best-of-N: score N per row on average, the total shared "
                                  "within each chunk by --rule (needs --n)."),
    rule: str = typer.Option("lowest-best", help="Adaptive rule. lowest-best: more candidates for the prompts whose "
                             "best scores lowest | spread: for those whose rewards spread widest while their best "
                             "does not stand out (rewardkit/application/adaptive.py)."),
    batch_size: int = typer.Option(32, help="Samples per forward pass (batched by length)."),
    chunk_rows: int = typer.Option(512, help="Rows per chunk: scored together (and the adaptive budget's pool)."),
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
    """Best-of-N: for every prompt, the candidate the reward model scores highest."""
    from rewardkit.application.rerank import check_rerank_options, rerank_jsonl
    from rewardkit.cli.progress import check_row_options, row_progress
    from rewardkit.cli.terminal import cli_console
    from rewardkit.scale.batch_scoring import count_rows

    check_row_options(input, chunk_rows, batch_size, on_bad_rows)
    check_rerank_options(n, rule if adaptive else None)
    console = cli_console(stderr=True)
    judge = judge_options(backend, base_url, template, judge_option or [])
    check_judge_options([model], judge)
    reward_model = model_from(model, policy=policy, reference=reference, beta=beta, judge=judge)
    with row_progress(console, "reranking", count_rows(str(input))) as advance:
        report = rerank_jsonl(reward_model, str(input), str(output), n=n, adaptive=rule if adaptive else None,
                              batch_size=batch_size, block_rows=chunk_rows, resume=resume, on_bad_rows=on_bad_rows,
                              on_rows=advance)
    console.print(f"kept the best candidate of {report.rows + report.resumed_rows - report.skipped} prompts"
                  + (f" (resumed after {report.resumed_rows} rows)" if report.resumed_rows else "")
                  + f"; {report.scored} candidates scored ({f'adaptive, {rule}' if adaptive else 'fixed'} budget), "
                  f"{report.truncated} truncated to the model's max length → {output}")
    if report.skipped:
        console.print(f"{report.skipped} broken rows skipped, each with its reason → {report.skipped_path}")
