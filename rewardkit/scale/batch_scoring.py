"""Score a JSONL file with any RewardModel, streaming: bounded memory, order kept, resumable.

Input rows are either single responses `{"prompt": ..., "response": ...}` or pairs in any format the data
layer reads (trl, trl-implicit, hh, keys, helpsteer2-preference). Each output row is the input row plus
`reward` (single) or `reward_chosen`, `reward_rejected` and `margin` (pair).

Output goes to `OUTPUT.partial` and is renamed to OUTPUT only when every row is scored, so an interrupted or
failed run never leaves a file that looks complete; `resume=True` continues a `.partial` file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from rewardkit.data.formats import detect_format, pair_parser
from rewardkit.data.jsonl import iter_jsonl
from rewardkit.data.schemas import Sample, as_conversation
from rewardkit.errors import DataError
from rewardkit.models.base import RewardModel


@dataclass
class ScoreReport:
    rows: int = 0
    pairs: int = 0
    singles: int = 0
    truncated: int = 0
    resumed_rows: int = 0


def row_samples(row: dict, *, file: str, line: int) -> list[Sample]:
    """One Sample for a single-response row, (chosen, rejected) for a pair row."""
    if "response" in row and "chosen" not in row and "response_1" not in row:
        if not isinstance(row["response"], str):
            raise DataError("must be a string", file=file, line=line, field="response")
        if "prompt" not in row:
            raise DataError("missing", file=file, line=line, field="prompt")
        return [Sample(as_conversation(row["prompt"]), row["response"])]
    pair = pair_parser(detect_format(row, file=file, line=line))(row, file=file, line=line)
    if not hasattr(pair, "samples"):  # a HelpSteer2-Preference tie has no preferred side: score both
        return [Sample(as_conversation(row["prompt"]), row["response_1"]),
                Sample(as_conversation(row["prompt"]), row["response_2"])]
    return list(pair.samples())


def _chunks(path: str, rows_per_chunk: int, skip: int) -> Iterator[list[tuple[dict, list[Sample]]]]:
    chunk: list[tuple[dict, list[Sample]]] = []
    for index, (line, row) in enumerate(iter_jsonl(path)):
        if index < skip:
            continue
        chunk.append((row, row_samples(row, file=path, line=line)))
        if len(chunk) == rows_per_chunk:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _annotated(row: dict, rewards: Sequence[float]) -> dict:
    if len(rewards) == 1:
        return {**row, "reward": rewards[0]}
    return {**row, "reward_chosen": rewards[0], "reward_rejected": rewards[1], "margin": rewards[0] - rewards[1]}


def _complete_lines(partial: Path) -> int:
    """Rows already in a .partial file; a torn last line (killed mid-write) is cut off."""
    if not partial.exists():
        return 0
    data = partial.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep != len(data):
        with partial.open("r+b") as handle:
            handle.truncate(keep)
    return data[:keep].count(b"\n")


def count_rows(path: str) -> int:
    with open(path, "rb") as handle:
        return sum(1 for raw in handle if raw.strip())


@dataclass
class ScoredChunk:
    """Output lines for a run of consecutive input rows, and what they held."""

    text: str
    """The annotated rows as JSON lines, each ending in a newline."""
    rows: int
    pairs: int
    singles: int
    truncated: int


def score_chunk(model: RewardModel, chunk: Sequence[tuple[dict, list[Sample]]], batch_size: int) -> ScoredChunk:
    """Score the samples of `chunk` in one `model.score` call and annotate its rows, in order."""
    samples = [s for _, row_samples_ in chunk for s in row_samples_]
    scores = model.score(samples, batch_size=batch_size)
    lines, position = [], 0
    for row, row_samples_ in chunk:
        rewards = scores.rewards[position : position + len(row_samples_)]
        position += len(row_samples_)
        lines.append(json.dumps(_annotated(row, rewards), ensure_ascii=False) + "\n")
    sizes = [len(row_samples_) for _, row_samples_ in chunk]
    return ScoredChunk("".join(lines), len(chunk), sizes.count(2), sizes.count(1), scores.truncated)


def write_scored(scored_chunks: Callable[[int], Iterable[ScoredChunk]], output_path: str, *, resume: bool = False,
                 on_rows=None) -> ScoreReport:
    """Append `scored_chunks(rows already done)` to OUTPUT.partial in order; rename it to OUTPUT at the end.

    Any engine (local, Ray) plugs in here, so all share the output, resume and progress rules.
    """
    output, partial = Path(output_path), Path(f"{output_path}.partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    report = ScoreReport(resumed_rows=_complete_lines(partial) if resume else 0)
    if not resume:
        partial.unlink(missing_ok=True)
    with partial.open("a", encoding="utf-8") as sink:
        for scored in scored_chunks(report.resumed_rows):
            sink.write(scored.text)
            sink.flush()
            report.rows += scored.rows
            report.pairs += scored.pairs
            report.singles += scored.singles
            report.truncated += scored.truncated
            if on_rows:
                on_rows(scored.rows)
        os.fsync(sink.fileno())
    os.replace(partial, output)
    return report


def score_jsonl(model: RewardModel, input_path: str, output_path: str, *, batch_size: int = 32, rows_per_chunk: int = 512,
                resume: bool = False, on_rows=None) -> ScoreReport:
    """Stream `input_path` through `model.score` into `output_path` (see module docstring)."""

    def scored_chunks(skip: int) -> Iterator[ScoredChunk]:
        for chunk in _chunks(input_path, rows_per_chunk, skip):
            yield score_chunk(model, chunk, batch_size)

    return write_scored(scored_chunks, output_path, resume=resume, on_rows=on_rows)

