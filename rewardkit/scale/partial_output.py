"""An output file built as OUTPUT.partial, one line per input row, that survives a kill at any moment.

    append_chunks   appends chunks of lines in order; with resume=True it first cuts a torn last line (killed
                    mid-write) and reports how many rows the .partial file already holds, so the caller starts
                    after them
    finish          turns the complete .partial file into OUTPUT (and skipped rows' marker lines into OUTPUT's
                    .skipped_rows.jsonl sibling), then deletes it

Each step leaves either the complete .partial file or the finished OUTPUT, never a half of either: `finish`
writes both targets atomically from the .partial file and deletes it last, so a run killed while finishing
finishes again from the same lines. Every writer of row-per-line output (score, rerank, annotate, the Ray
engine) shares these rules.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterable, Protocol

SKIPPED_MARKER = "__rewardkit_skipped_row__"
"""Key of the line that holds a skipped row's place in OUTPUT.partial (never in OUTPUT)."""

MARKER_LINE = f'{{"{SKIPPED_MARKER}"'
"""How a skipped row's marker line starts in OUTPUT.partial."""


class Chunk(Protocol):
    text: str
    """Lines for a run of consecutive input rows, one per row, each ending in a newline."""
    rows: int
    """How many input rows those are."""


def partial_path(output: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(output)}.partial")


def skipped_rows_path(output: Path) -> Path:
    """scored.jsonl → scored.skipped_rows.jsonl."""
    return output.with_name(f"{output.stem}.skipped_rows.jsonl")


def marker_line(record: dict) -> str:
    """The .partial line that holds a skipped row's place (its BadRow record)."""
    return json.dumps({SKIPPED_MARKER: record}, ensure_ascii=False) + "\n"


def complete_lines(partial: Path) -> tuple[int, int]:
    """(rows already in a .partial file, how many of them are skipped rows' markers); a torn last line (killed
    mid-write) is cut off."""
    if not partial.exists():
        return 0, 0
    data = partial.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep != len(data):
        with partial.open("r+b") as handle:
            handle.truncate(keep)
    done = data[:keep]
    return done.count(b"\n"), done.startswith(MARKER_LINE.encode()) + done.count(b"\n" + MARKER_LINE.encode())


def append_chunks(chunks_after: Callable[[int], Iterable[Chunk]], partial: Path, *, resume: bool,
                  on_chunk: Callable[[Chunk], None] | None = None,
                  on_rows: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Append the text of `chunks_after(rows already done)` to `partial`, flushing after each chunk; returns
    `complete_lines` as found before appending ((0, 0) without resume: an old .partial file is discarded).
    `on_rows(k)`: k more input rows are done — first, in a resumed run, the rows found already written (so a
    progress bar starts there), then each chunk's rows."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = complete_lines(partial) if resume else (0, 0)
    if not resume:
        partial.unlink(missing_ok=True)
    if on_rows and done[0]:
        on_rows(done[0])
    with partial.open("a", encoding="utf-8") as sink:
        for chunk in chunks_after(done[0]):
            sink.write(chunk.text)
            sink.flush()
            if on_chunk:
                on_chunk(chunk)
            if on_rows:
                on_rows(chunk.rows)
        os.fsync(sink.fileno())
    return done


def finish(partial: Path, output: Path, *, skipped: bool, expand: Callable[[str], str] | None = None) -> str:
    """Make OUTPUT from the complete `partial` file; returns the skipped-rows path ("" when none were written).

    `skipped`: the file holds marker lines, which go to OUTPUT's .skipped_rows.jsonl sibling. `expand`: what
    each other line becomes in OUTPUT (default: itself). Without either, `partial` is simply renamed.
    """
    if not skipped and expand is None:
        os.replace(partial, output)
        return ""
    from rewardkit.atomic import atomic_file

    target = skipped_rows_path(output) if skipped else None
    if target is not None:
        with partial.open("r", encoding="utf-8") as source, atomic_file(target) as sink:
            for line in source:
                if line.startswith(MARKER_LINE):
                    sink.write(json.dumps(json.loads(line)[SKIPPED_MARKER], ensure_ascii=False) + "\n")
    with partial.open("r", encoding="utf-8") as source, atomic_file(output) as sink:
        for line in source:
            if not line.startswith(MARKER_LINE):
                sink.write(expand(line) if expand else line)
    partial.unlink()
    return str(target) if target else ""
