"""Run a JSONL file of candidate rows through a per-block function into a resumable output.

One line per input row goes to OUTPUT.partial (rewardkit.scale.partial_output, the rules `rewardkit score`
follows): the block function's line for a usable row, a marker for a skipped one. Blocks are those of
`candidates.blocks`, so a resumed run recomputes the block it stopped in and appends only its missing rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from rewardkit.application.candidates import CandidateRow, blocks
from rewardkit.data.loaders import check_bad_row_policy
from rewardkit.scale.partial_output import append_chunks, finish, marker_line, partial_path

BlockLines = Callable[[list[CandidateRow]], list[str]]
"""The .partial line (ending in a newline) of each usable row of a block, in order."""


@dataclass
class BlockText:
    text: str
    rows: int
    skipped: int


@dataclass
class StreamReport:
    rows: int = 0
    """Rows written by this run (skipped ones included)."""
    resumed_rows: int = 0
    """Rows a resumed run found already written."""
    skipped: int = 0
    """Broken rows skipped (on_bad_rows=skip), resumed ones included."""
    skipped_path: str = ""


def _block_text(done: int, block: list[CandidateRow], lines_of: BlockLines) -> BlockText:
    lines = iter(lines_of([item for item in block if item.bad is None]))
    text = [marker_line(item.bad.record()) if item.bad is not None else next(lines) for item in block]
    return BlockText("".join(text[done:]), len(block) - done, sum(item.bad is not None for item in block[done:]))


def stream_rows(input_path: str, output_path: str, lines_of: BlockLines, *, block_rows: int = 512,
                resume: bool = False, minimum: int = 1, on_bad_rows: str = "error",
                on_rows: Callable[[int], None] | None = None, expand: Callable[[str], str] | None = None,
                report: StreamReport | None = None) -> StreamReport:
    """Write `lines_of` each block into OUTPUT.partial, then OUTPUT (each line through `expand`, if given).

    `minimum`: responses a row needs; `on_rows(k)` after every block, k = rows written (and once at the start
    of a resumed run, k = rows found written); `report`: the report to
    fill (a subclass carrying the caller's own counts), else a new one.
    """
    check_bad_row_policy(on_bad_rows)
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}")
    report = StreamReport() if report is None else report

    def texts(skip: int) -> Iterator[BlockText]:
        for done, block in blocks(input_path, block_rows, skip, minimum=minimum, on_bad_rows=on_bad_rows):
            yield _block_text(done, block, lines_of)

    def count(chunk: BlockText) -> None:
        report.rows += chunk.rows
        report.skipped += chunk.skipped

    partial = partial_path(output_path)
    report.resumed_rows, resumed_skipped = append_chunks(texts, partial, resume=resume, on_chunk=count,
                                                         on_rows=on_rows, input_path=input_path)
    report.skipped += resumed_skipped
    report.skipped_path = finish(partial, Path(output_path), skipped=report.skipped > 0, expand=expand)
    return report
