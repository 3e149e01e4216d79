"""An output file built as OUTPUT.partial, one line per input row, that survives a kill at any moment.

    append_chunks   appends chunks of lines in order; with resume=True it first cuts a torn last line (killed
                    mid-write) and reports how many rows the .partial file already holds, so the caller starts
                    after them
    finish          turns the complete .partial file into OUTPUT (and skipped rows' marker lines into OUTPUT's
                    .skipped_rows.jsonl sibling), then deletes it

Each step leaves either the complete .partial file or the finished OUTPUT, never a half of either: `finish`
writes both targets atomically from the .partial file and deletes it last, so a run killed while finishing
finishes again from the same lines. Every writer of row-per-line output (score, rerank, annotate, critique, the
Ray engine) shares these rules.

Beside the .partial file, OUTPUT.partial.input.json records after each chunk how many input rows the file holds
and the size and SHA-256 of the input up to the end of those rows. A resumed run goes back to that record (it
drops the lines of a chunk cut short, fewer than one chunk, and redoes them, so every chunk is the one an
uninterrupted run makes) and stops with an error if those first rows of its input are not the same bytes
anymore. Rows after them may change: fixing the broken row that stopped a run, then --resume, is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable, Protocol

from rewardkit.data.jsonl import is_blank

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


def input_record_path(partial: Path) -> Path:
    """Where a .partial file's record of its input rows is kept (InputPrefix.record)."""
    return Path(f"{partial}.input.json")


class InputPrefix:
    """The input's first rows read in order (a row: a line that is not `is_blank`, as every JSONL reader counts
    them), with the size and SHA-256 of the bytes up to the end of the last one read."""

    def __init__(self, input_path: str | os.PathLike):
        self.path = os.path.abspath(input_path)
        self._handle = open(input_path, "rb")
        self._digest = hashlib.sha256()
        self.rows = self.bytes = 0

    def advance(self, rows: int) -> bool:
        """Read `rows` more rows; False if the input ends first."""
        while rows > 0:
            line = self._handle.readline()
            if not line:
                return False
            self._digest.update(line)
            self.bytes += len(line)
            if not is_blank(line):
                self.rows += 1
                rows -= 1
        return True

    def record(self) -> dict:
        return {"input": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self._digest.hexdigest()}

    def close(self) -> None:
        self._handle.close()


def _verified_rows(partial: Path, prefix: InputPrefix) -> int | None:
    """The rows of `partial` whose input rows are unchanged (`prefix` is read up to them); None for a .partial
    file from before records were kept per chunk (nothing to compare). A DataError if those rows changed."""
    from rewardkit.errors import DataError

    try:
        recorded = json.loads(input_record_path(partial).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if "rows" not in recorded:
        return None
    if not prefix.advance(recorded["rows"]) or (prefix.bytes, prefix.record()["sha256"]) != (
            recorded["bytes"], recorded["sha256"]):
        raise DataError(f"the input changed since {partial} was started: its first {recorded['rows']} rows, whose "
                        f"output lines that file holds (the first {recorded['bytes']} bytes of "
                        f"{recorded.get('input')}), are not the same; rows after them may change, those may not. "
                        "Restore them, or run without --resume to start over", file=prefix.path)
    return recorded["rows"]


def _cut_to(partial: Path, rows: int) -> None:
    """Keep the first `rows` lines of `partial`."""
    with partial.open("r+b") as handle:
        for _ in range(rows):
            handle.readline()
        handle.truncate(handle.tell())


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
    rows = markers = keep = 0
    marker = MARKER_LINE.encode()
    with partial.open("r+b") as handle:  # line by line: a .partial file of millions of rows is not read whole
        for line in handle:
            if not line.endswith(b"\n"):
                handle.truncate(keep)
                break
            rows, markers, keep = rows + 1, markers + line.startswith(marker), keep + len(line)
    return rows, markers


def append_chunks(chunks_after: Callable[[int], Iterable[Chunk]], partial: Path, *, resume: bool,
                  on_chunk: Callable[[Chunk], None] | None = None,
                  on_rows: Callable[[int], None] | None = None, input_path: str | None = None) -> tuple[int, int]:
    """Append the text of `chunks_after(rows already done)` to `partial`, flushing after each chunk; returns
    `complete_lines` as found before appending ((0, 0) without resume: an old .partial file is discarded).
    `on_rows(k)`: k more input rows are done — first, in a resumed run, the rows found already written (so a
    progress bar starts there), then each chunk's rows. `input_path`: the file the lines follow; with it a
    resumed run restarts at the last chunk recorded, and stops (DataError) if the input's rows before it changed
    (see the module docstring)."""
    from rewardkit.atomic import atomic_file
    from rewardkit.errors import DataError

    partial.parent.mkdir(parents=True, exist_ok=True)
    prefix = InputPrefix(input_path) if input_path is not None else None
    try:
        if resume and partial.exists() and prefix is not None:
            verified = _verified_rows(partial, prefix)
            if verified is not None:
                _cut_to(partial, verified)
        done = complete_lines(partial) if resume else (0, 0)
        if not resume:
            partial.unlink(missing_ok=True)
        if prefix is not None and prefix.rows != done[0]:  # no record to go back to: read up to the rows there
            prefix.close()
            prefix = InputPrefix(input_path)
            prefix.advance(done[0])

        def checkpoint() -> None:
            with atomic_file(input_record_path(partial)) as handle:
                json.dump(prefix.record(), handle)

        if prefix is not None:
            checkpoint()
        if on_rows and done[0]:
            on_rows(done[0])
        with partial.open("a", encoding="utf-8") as sink:
            try:
                for chunk in chunks_after(done[0]):
                    sink.write(chunk.text)
                    sink.flush()
                    if prefix is not None:  # the record never runs ahead of the lines on disk
                        os.fsync(sink.fileno())
                        prefix.advance(chunk.rows)
                        checkpoint()
                    if on_chunk:
                        on_chunk(chunk)
                    if on_rows:
                        on_rows(chunk.rows)
            except DataError as err:  # a broken row stopped the run: say how to go on once it is fixed
                if prefix is None or not prefix.rows:  # prefix.rows: the rows on disk before the failing chunk
                    raise
                raise DataError(f"{err.reason} (the {prefix.rows} rows before its chunk are kept in {partial}: fix it, "
                                "then rerun with --resume to go on from there)", file=err.file, line=err.line,
                                field=err.field) from None
            os.fsync(sink.fileno())
    finally:
        if prefix is not None:
            prefix.close()
    return done


def finish(partial: Path, output: Path, *, skipped: bool, expand: Callable[[str], str] | None = None) -> str:
    """Make OUTPUT from the complete `partial` file; returns the skipped-rows path ("" when none were written).

    `skipped`: the file holds marker lines, which go to OUTPUT's .skipped_rows.jsonl sibling. `expand`: what
    each other line becomes in OUTPUT (default: itself). Without either, `partial` is simply renamed.
    """
    if not skipped and expand is None:
        os.replace(partial, output)
        input_record_path(partial).unlink(missing_ok=True)
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
    input_record_path(partial).unlink(missing_ok=True)
    return str(target) if target else ""
