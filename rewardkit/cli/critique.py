"""`rewardkit critique`: reference critiques for `train --kind judge --objective cloud`, from any backend."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def critique(
    input: Path = typer.Option(..., "--input", help="JSONL of pairs {prompt, chosen, rejected, ...}."),
    output: Path = typer.Option(..., "--output", help="JSONL written with chosen_critique and rejected_critique "
                                "added (kept where a row has them); atomically, on completion."),
    backend: str = typer.Option("transformers", help="transformers (a causal LM in this process) | openai (an "
                                "OpenAI-compatible server at --base-url)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="openai backend: the server URL up to /v1."),
    model: Optional[str] = typer.Option(None, "--model", help="The critic: a causal-LM folder, hub id or smollm2 "
                                        "(transformers, default smollm2); the served model's name (openai, "
                                        "default: the first the server lists)."),
    template: Optional[Path] = typer.Option(None, "--template", help="Critique prompt file with {prompt} and "
                                            "{response} (default rewardkit/models/judge_templates/cloud.txt; train "
                                            "with the same file)."),
    judge_option: Optional[List[str]] = typer.Option(None, "--judge-option", help="KEY=VALUE of "
                                                     "rewardkit.models.judge.JudgeOptions (max_tokens, temperature, "
                                                     "seed, timeout, concurrency, ...); repeatable."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from OUTPUT.partial."),
    chunk_rows: int = typer.Option(64, help="Rows per generate call and per resumable block."),
    on_bad_rows: str = typer.Option("error", help="error: stop at a broken row, naming it | skip: leave it out, "
                                    "count it, write it with its reason to OUTPUT.skipped_rows.jsonl."),
) -> None:
    """Write a critique of each pair's chosen and rejected response with a (stronger) judge."""
    from rewardkit.application.critiques import CritiqueSettings, write_critiques
    from rewardkit.cli.spec_options import judge_options
    from rewardkit.cli.progress import check_row_options, row_progress
    from rewardkit.cli.terminal import cli_console
    from rewardkit.models.judge import JudgeOptions, backend_for
    from rewardkit.scale.batch_scoring import count_rows

    check_row_options(input, chunk_rows, 1, on_bad_rows)
    values = judge_options(backend, base_url, template, judge_option or [])
    if model is not None:
        values["model"] = model
    elif backend == "openai":
        values.setdefault("model", "")  # the first model the server lists
    options = JudgeOptions.from_dict({**values, "kind": "cloud"}, source="critique options")
    critic = backend_for(options)
    settings = CritiqueSettings(options.template, options.max_tokens, options.temperature, options.seed, chunk_rows)
    console = cli_console(stderr=True)
    with row_progress(console, "critiquing", count_rows(str(input))) as advance:
        report = write_critiques(critic, str(input), str(output), settings, resume=resume, on_rows=advance,
                                 on_bad_rows=on_bad_rows)
    usage = critic.usage
    console.print(f"{report.rows + report.resumed_rows - report.skipped} rows critiqued"
                  + (f" (resumed after {report.resumed_rows} rows)" if report.resumed_rows else "")
                  + f": {report.generated} critiques generated ({report.empty} empty), {report.kept} kept from the "
                  f"input; {usage.generated_tokens} tokens in {usage.seconds:.1f} s by {critic.name}:{critic.model}"
                  f" → {output}")
    if report.skipped:
        console.print(f"{report.skipped} broken rows skipped, each with its reason → {report.skipped_path}")
