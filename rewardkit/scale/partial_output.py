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

A run that starts a .partial file records its input's size and SHA-256 beside it (OUTPUT.partial.input.json); a
resumed run whose input differs stops with an error instead of appending lines that follow other rows.
"""

from __future__ import annotations

import hashlib
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


def input_record_path(partial: Path) -> Path:
    """Where a .partial file's input fingerprint is kept."""
    return Path(f"{partial}.input.json")


def input_fingerprint(input_path: str | os.PathLike) -> dict:
    """The input's size and SHA-256 (read in 1 MiB blocks: about a second per GB)."""
    digest = hashlib.sha256()
    with open(input_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"input": os.path.abspath(input_path), "bytes": os.path.getsize(input_path), "sha256": digest.hexdigest()}


def _check_same_input(partial: Path, fingerprint: dict) -> None:
    from rewardkit.errors import DataError

    record = input_record_path(partial)
    if not record.exists():  # a .partial file from before fingerprints: nothing to compare
        return
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if (recorded.get("bytes"), recorded.get("sha256")) != (fingerprint["bytes"], fingerprint["sha256"]):
        raise DataError(f"the input changed since {partial} was started (it was {recorded.get('input')}, "
                        f"{recorded.get('bytes')} bytes; now {fingerprint['bytes']} bytes, other content), so the "
                        "rows already written may not match it; restore that input, or run without --resume to "
                        "start over", file=fingerprint["input"])


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
                  on_rows: Callable[[int], None] | None = None, input_path: str | None = None) -> tuple[int, int]:
    """Append the text of `chunks_after(rows already done)` to `partial`, flushing after each chunk; returns
    `complete_lines` as found before appending ((0, 0) without resume: an old .partial file is discarded).
    `on_rows(k)`: k more input rows are done — first, in a resumed run, the rows found already written (so a
    progress bar starts there), then each chunk's rows. `input_path`: the file the lines follow, fingerprinted
    so a resumed run stops (DataError) if it changed."""
    from rewardkit.atomic import atomic_file

    partial.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = input_fingerprint(input_path) if input_path is not None else None
    done = complete_lines(partial) if resume else (0, 0)
    if fingerprint is not None and done[0]:
        _check_same_input(partial, fingerprint)
    if not resume:
        partial.unlink(missing_ok=True)
    if fingerprint is not None and not done[0]:
        with atomic_file(input_record_path(partial)) as handle:
            json.dump(fingerprint, handle)
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
