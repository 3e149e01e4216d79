"""Score a JSONL file with any RewardModel, streaming: bounded memory, order kept, resumable.

Input rows are either single responses `{"prompt": ..., "response": ...}` or pairs in any format the data
layer reads (trl, trl-implicit, hh, keys, helpsteer2-preference). Each output row is the input row plus
`reward` (single) or `reward_chosen`, `reward_rejected` and `margin` (pair).

Output goes to `OUTPUT.partial` and is renamed to OUTPUT only when every row is scored, so an interrupted or
failed run never leaves a file that looks complete; `resume=True` continues a `.partial` file.

Odd rows follow the data layer's rules (`RowRules`): pairs whose conversations diverge before their final
responses are scored and counted (`strict_rows` makes them an error); a broken row stops the run naming it,
or under `on_bad_rows="skip"` is left out of OUTPUT and written with its reason to OUTPUT's
`.skipped_rows.jsonl` sibling (in the .partial file it holds its place as a marker line, so resuming counts
it as done).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from rewardkit.data.formats import conversation_field, detect_format, pair_parser, row_references
from rewardkit.data.jsonl import BadRow, is_blank, iter_jsonl
from rewardkit.data.loaders import bad_row, check_bad_row_policy
from rewardkit.data.schemas import Sample
from rewardkit.errors import DataError
from rewardkit.models.base import RewardModel
from rewardkit.scale.partial_output import append_chunks, finish, marker_line, partial_path


@dataclass
class ScoreReport:
    rows: int = 0
    pairs: int = 0
    singles: int = 0
    truncated: int = 0
    resumed_rows: int = 0
    diverged: int = 0
    """Pairs scored whose conversations diverge before their final responses (this run's rows)."""
    skipped: int = 0
    """Broken rows skipped (on_bad_rows=skip), resumed ones included."""
    skipped_path: str = ""
    """Where the skipped rows were written, with their reasons."""


@dataclass(frozen=True)
class RowRules:
    """What happens to rows that are not plain records (rewardkit.data.loaders)."""

    strict_rows: bool = False
    """Pairs diverging before their final responses are an error instead of scored and counted."""
    on_bad_rows: str = "error"
    """error | skip."""

    def __post_init__(self) -> None:
        check_bad_row_policy(self.on_bad_rows)


@dataclass
class InputRow:
    """One input row and what scoring it needs: its samples, or why it is skipped."""

    row: dict | None
    samples: list[Sample]
    diverged: bool = False
    bad: BadRow | None = None


def row_samples(row: dict, *, file: str, line: int, strict: bool = False) -> tuple[list[Sample], bool]:
    """(one Sample for a single-response row or (chosen, rejected) for a pair row, whether the pair diverged).
    A row's `reference_answer` (or `answer`) and `reference_responses` go into its samples."""
    answer, references = row_references(row, file=file, line=line)
    samples, diverged = _row_samples(row, file=file, line=line, strict=strict)
    return [replace(s, reference_answer=answer, reference_responses=references) for s in samples], diverged


def _row_samples(row: dict, *, file: str, line: int, strict: bool) -> tuple[list[Sample], bool]:
    if "response" in row and "chosen" not in row and "response_1" not in row:
        if not isinstance(row["response"], str):
            raise DataError("must be a string", file=file, line=line, field="response")
        return [Sample(conversation_field(row, "prompt", file=file, line=line), row["response"])], False
    pair = pair_parser(detect_format(row, file=file, line=line), strict=strict)(row, file=file, line=line)
    if not hasattr(pair, "samples"):  # a HelpSteer2-Preference tie has no preferred side: score both
        prompt = conversation_field(row, "prompt", file=file, line=line)
        return [Sample(prompt, row["response_1"]), Sample(prompt, row["response_2"])], False
    return list(pair.samples()), pair.diverged


def input_row(row: dict | BadRow, *, file: str, line: int, rules: RowRules) -> InputRow:
    """The row's samples; a broken row raises its DataError, or under on_bad_rows=skip becomes a skipped row."""
    if isinstance(row, BadRow):
        return InputRow(None, [], bad=row)
    try:
        samples, diverged = row_samples(row, file=file, line=line, strict=rules.strict_rows)
    except DataError as err:
        if rules.on_bad_rows != "skip":
            raise
        return InputRow(row, [], bad=bad_row(line, err, row))
    return InputRow(row, samples, diverged)


def _chunks(path: str, rows_per_chunk: int, skip: int, rules: RowRules = RowRules()) -> Iterator[list[InputRow]]:
    chunk: list[InputRow] = []
    for index, (line, row) in enumerate(iter_jsonl(path, rules.on_bad_rows)):
        if index < skip:
            continue
        chunk.append(input_row(row, file=path, line=line, rules=rules))
        if len(chunk) == rows_per_chunk:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _annotated(row: dict, rewards: Sequence[float], texts: Sequence[str] | None = None) -> dict:
    """The row plus its rewards, and a judge's critique / reasoning text (`judge_text`, `judge_text_chosen`,
    `judge_text_rejected`) when the model writes one."""
    if len(rewards) == 1:
        return {**row, "reward": rewards[0], **({"judge_text": texts[0]} if texts else {})}
    extra = {"judge_text_chosen": texts[0], "judge_text_rejected": texts[1]} if texts else {}
    return {**row, "reward_chosen": rewards[0], "reward_rejected": rewards[1], "margin": rewards[0] - rewards[1],
            **extra}


def count_rows(path: str) -> int:
    with open(path, "rb") as handle:
        return sum(1 for raw in handle if not is_blank(raw))


@dataclass
class ScoredChunk:
    """Output lines for a run of consecutive input rows, and what they held."""

    text: str
    """The annotated rows as JSON lines, each ending in a newline (a skipped row: its marker line)."""
    rows: int
    pairs: int
    singles: int
    truncated: int
    diverged: int = 0
    skipped: int = 0


def score_chunk(model: RewardModel, chunk: Sequence[InputRow], batch_size: int) -> ScoredChunk:
    """Score the samples of `chunk` in one `model.score` call and annotate its rows, in order."""
    samples = [s for item in chunk for s in item.samples]
    scores = model.score(samples, batch_size=batch_size) if samples else None
    lines, position = [], 0
    for item in chunk:
        if item.bad is not None:
            lines.append(marker_line(item.bad.record()))
            continue
        rewards = scores.rewards[position : position + len(item.samples)]
        texts = scores.texts[position : position + len(item.samples)] if scores.texts else None
        position += len(item.samples)
        lines.append(json.dumps(_annotated(item.row, rewards, texts), ensure_ascii=False) + "\n")
    sizes = [len(item.samples) for item in chunk if item.bad is None]
    return ScoredChunk("".join(lines), len(chunk), sizes.count(2), sizes.count(1),
                       scores.truncated if scores else 0, sum(item.diverged for item in chunk),
                       sum(item.bad is not None for item in chunk))


def write_scored(scored_chunks: Callable[[int], Iterable[ScoredChunk]], output_path: str, *, resume: bool = False,
                 on_rows=None, input_path: str | None = None) -> ScoreReport:
    """Append `scored_chunks(rows already done)` to OUTPUT.partial in order; make OUTPUT of it at the end
    (skipped rows' marker lines go to OUTPUT's .skipped_rows.jsonl sibling): rewardkit.scale.partial_output.
    `on_rows(k)`: k more input rows are done (first, in a resumed run, the rows found already written).

    Any engine (local, Ray) plugs in here, so all share the output, resume and progress rules.
    """
    output, partial = Path(output_path), partial_path(output_path)
    report = ScoreReport()

    def count(scored: ScoredChunk) -> None:
        report.rows += scored.rows
        report.pairs += scored.pairs
        report.singles += scored.singles
        report.truncated += scored.truncated
        report.diverged += scored.diverged
        report.skipped += scored.skipped

    report.resumed_rows, resumed_skipped = append_chunks(scored_chunks, partial, resume=resume, on_chunk=count,
                                                         on_rows=on_rows, input_path=input_path)
    report.skipped += resumed_skipped
    report.skipped_path = finish(partial, output, skipped=report.skipped > 0)
    return report


def score_jsonl(model: RewardModel, input_path: str, output_path: str, *, batch_size: int = 32,
                rows_per_chunk: int = 512, resume: bool = False, on_rows=None,
                rules: RowRules = RowRules()) -> ScoreReport:
    """Stream `input_path` through `model.score` into `output_path` (see module docstring)."""

    def scored_chunks(skip: int) -> Iterator[ScoredChunk]:
        for chunk in _chunks(input_path, rows_per_chunk, skip, rules):
            yield score_chunk(model, chunk, batch_size)

    return write_scored(scored_chunks, output_path, resume=resume, on_rows=on_rows, input_path=input_path)

