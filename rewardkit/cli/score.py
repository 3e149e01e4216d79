"""`rewardkit score`: stream a JSONL file through a reward model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rewardkit.cli.spec_options import (
    MODEL_HELP, Backend, BaseUrl, Beta, JudgeOption, Policy, Reference, Template, check_judge_options, judge_options,
    load_arguments, model_from,
)
from rewardkit.cli.steering import WEIGHTS_HELP, steering_options


def score(
    model: str = typer.Option(..., "--model", help=MODEL_HELP),
    input: Path = typer.Option(..., "--input", help="JSONL of pairs or {prompt, response} rows."),
    output: Path = typer.Option(..., "--output", help="JSONL written with rewards added (atomically, on completion)."),
    batch_size: int = typer.Option(32, help="Samples per forward pass (batched by length)."),
    normalize: bool = typer.Option(False, help="Return (reward − train mean) / train std."),
    dtype: str = typer.Option("fp32", help="fp32 | bf16: bf16 autocast (head in fp32) where the CPU or GPU has "
                              "native bf16 (AVX-512 BF16 or AMX); an error elsewhere."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from OUTPUT.partial."),
    chunk_rows: int = typer.Option(512, help="Rows per chunk: one model.score call (the unit a Ray actor takes)."),
    engine: str = typer.Option("local", help="local: this process | ray: Ray Data actor pool, one model per actor."),
    address: Optional[str] = typer.Option(None, help="Ray cluster address (engine ray); none starts a local instance."),
    actors: Optional[int] = typer.Option(None, help="Ray actors (model copies); default: one per CPU."),
    strict_rows: bool = typer.Option(False, "--strict-rows", help="Stop at a pair whose conversations diverge "
                                     "before the final responses (default: score it and count it)."),
    on_bad_rows: str = typer.Option("error", help="error: stop at a broken row, naming it | skip: leave it out "
                                    "of OUTPUT, count it, write it with its reason to OUTPUT.skipped_rows.jsonl."),
    combine: Optional[str] = typer.Option(None, help="Rule rewards added to the model's, e.g. \"0.8*rm + "
                                          "0.2*format\" (rules: format, answer, length, reasoning)."),
    shaping: Optional[str] = typer.Option(None, help="Shaping of the model's reward before --combine: par (rows "
                                          "carry reference_responses) | z | center | clip=LO,HI | stepclip=ETA | "
                                          "delta, joined by ';'."),
    weights: Optional[str] = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    policy: Policy = None,
    reference: Reference = None,
    beta: Beta = None,
    backend: Backend = None,
    base_url: BaseUrl = None,
    template: Template = None,
    judge_option: JudgeOption = None,
) -> None:
    """Score every row of a JSONL file; memory stays flat however large the file is."""
    from rewardkit.cli.progress import check_row_options, row_progress
    from rewardkit.cli.terminal import cli_console
    from rewardkit.errors import ConfigError
    from rewardkit.scale.batch_scoring import RowRules, count_rows, score_jsonl

    check_row_options(input, chunk_rows, batch_size, on_bad_rows)
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be local or ray, got {engine!r}")
    judge = judge_options(backend, base_url, template, judge_option or [])
    check_judge_options([model], judge)
    rules = RowRules(strict_rows, on_bad_rows)
    console = cli_console(stderr=True)
    options = {"normalize": True} if normalize else {}
    options.update(steering_options(model, weights))
    if dtype != "fp32":
        options["dtype"] = dtype
    from rewardkit.models.combined import parse_combination
    from rewardkit.models.shaped import shaped_and_combined
    from rewardkit.shaping import parse_shaping

    for spec, parse in ((combine, parse_combination), (shaping, parse_shaping)):
        if spec is not None:
            parse(spec)  # a bad spec fails before any model is loaded or Ray started
    reward_model = actor_options = None
    if engine == "ray":  # each actor loads the model with these (a spec's build options, or a folder's)
        actor_options = load_arguments(model, options, policy=policy, reference=reference, beta=beta, judge=judge)
    else:
        reward_model = shaped_and_combined(model_from(model, options, policy=policy, reference=reference, beta=beta,
                                                      judge=judge), shaping=shaping, combine=combine)
    total = count_rows(str(input))
    with row_progress(console, "scoring", total) as advance:
        if engine == "ray":
            report = _score_on_ray(model, input, output, actor_options, batch_size, chunk_rows, resume, advance,
                                   address, actors, rules, shaping, combine)
        else:
            report = score_jsonl(reward_model, str(input), str(output), batch_size=batch_size,
                                 rows_per_chunk=chunk_rows, resume=resume, on_rows=advance, rules=rules)
    console.print(
        f"scored {report.rows} rows ({report.pairs} pairs, {report.singles} single responses)"
        + (f", resumed after {report.resumed_rows}" if report.resumed_rows else "")
        + f"; {report.truncated} samples truncated to the model's max length → {output}"
    )
    if report.diverged:
        console.print(f"{report.diverged} pairs scored whose conversations diverge before the last turn (shared "
                      "turns as prompt; --strict-rows refuses them)")
    if report.skipped:
        console.print(f"{report.skipped} broken rows skipped, each with its reason → {report.skipped_path}")


def _score_on_ray(model, input, output, options, batch_size, chunk_rows, resume, on_rows, address, actors, rules,
                  shaping, combine):
    import os

    from rewardkit.scale import score_jsonl_ray

    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray's C++ log lines would break the progress bar
    return score_jsonl_ray(model, str(input), str(output), batch_size=batch_size, rows_per_chunk=chunk_rows,
                           resume=resume, on_rows=on_rows, address=address, actors=actors, load_options=options,
                           rules=rules, shaping=shaping, combine=combine)
