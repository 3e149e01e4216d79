"""Cut a JSONL file into chunks that workers read themselves, by byte offset.

The driver only scans for line ends (no parsing), so it holds one small `ChunkRef` per chunk, never rows.
Chunks are the local engine's chunks: `rows_per_chunk` non-blank rows each, counted from the first row
not yet scored, so both engines call `model.score` on the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from rewardkit.data.jsonl import is_blank, parse_line, unreadable_line
from rewardkit.errors import DataError


@dataclass(frozen=True)
class ChunkRef:
    offset: int
    """Byte offset of the chunk's first line."""
    line: int
    """1-based line number at `offset`, for error messages."""
    rows: int
    """Non-blank rows in the chunk."""


def index_chunks(path: str, rows_per_chunk: int, skip: int = 0) -> list[ChunkRef]:
    """ChunkRefs covering every non-blank row after the first `skip`.

    >>> import tempfile, os; f = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    >>> _ = f.write('{"a": 1}\\n\\n{"a": 2}\\n{"a": 3}\\n'); f.close()
    >>> [(r.line, r.rows) for r in index_chunks(f.name, 2)]
    [(1, 2), (4, 1)]
    >>> os.unlink(f.name)
    """
    refs: list[ChunkRef] = []
    start: tuple[int, int] | None = None
    seen = in_chunk = offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not is_blank(raw):
                seen += 1
                if seen > skip:
                    start = start if start is not None else (offset, number)
                    in_chunk += 1
                    if in_chunk == rows_per_chunk:
                        refs.append(ChunkRef(*start, in_chunk))
                        start, in_chunk = None, 0
            offset += len(raw)
    if start is not None:
        refs.append(ChunkRef(*start, in_chunk))
    return refs


def read_chunk(path: str, ref: ChunkRef, rules=None) -> list:
    """The chunk's rows as `batch_scoring.InputRow`s, read and checked as the local engine reads them."""
    from rewardkit.scale.batch_scoring import RowRules, input_row

    rules = rules or RowRules()
    chunk: list = []
    with open(path, "rb") as handle:
        handle.seek(ref.offset)
        for number, raw in enumerate(handle, start=ref.line):
            if len(chunk) == ref.rows:
                break
            if not is_blank(raw):
                try:
                    row = parse_line(raw, path, number)
                except DataError as err:
                    if rules.on_bad_rows != "skip":
                        raise
                    row = unreadable_line(raw, path, number, err)
                chunk.append(input_row(row, file=path, line=number, rules=rules))
    return chunk
