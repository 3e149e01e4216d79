"""Stream rows out of a JSON Lines file, one line at a time, with errors that name the line."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator

from rewardkit.errors import ConfigError, DataError


COMPRESSED = (".gz", ".bz2", ".xz", ".zst")
"""Compressed-file suffixes: line-by-line readers refuse them (datasets-based loaders decompress them)."""

BAD_ROW_POLICIES = ("error", "skip")
"""What a reader does with a row it cannot use: stop with an error naming it (default), or skip it, counted
and kept with its reason (`on_bad_rows=skip`)."""


@dataclass(frozen=True)
class BadRow:
    """A line that is not a usable row, with why; readers in skip mode yield it instead of raising."""

    line: int
    reason: str
    text: str
    """The line as read (or the row as JSON), so it can be written out and fixed."""
    file: str = ""

    def record(self) -> dict[str, Any]:
        """The row as skipped_rows.jsonl holds it."""
        return {"file": self.file, "line": self.line, "reason": self.reason, "text": self.text}


def is_blank(raw: bytes) -> bool:
    """A line that holds no row: nothing but whitespace (Unicode's too, and byte-order marks). Every reader of
    JSONL rows (iter_jsonl, the Ray engine's chunk index, progress totals, resume records) skips the same lines."""
    stripped = raw.strip()
    if not stripped:
        return True
    if stripped[0] < 0x80:  # an ASCII character that is not whitespace
        return False
    return not stripped.decode("utf-8", "replace").replace("\ufeff", "").strip()


def check_bad_row_policy(on_bad_rows: str, name: str = "on_bad_rows") -> None:
    """A ConfigError unless `on_bad_rows` is one of BAD_ROW_POLICIES; `name`: the key or flag to name."""
    if on_bad_rows not in BAD_ROW_POLICIES:
        raise ConfigError(f"{name} must be one of {', '.join(BAD_ROW_POLICIES)}, got {on_bad_rows!r}")


def iter_jsonl(path: str | os.PathLike, on_bad_rows: str = "error") -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Yield (1-based line number, object) for every non-blank line; never holds the whole file.

    A missing path fails at once; everything else (bad bytes, bad JSON, a file with no rows)
    fails while iterating, naming the line. With `on_bad_rows="skip"` an unreadable line comes back as a
    `BadRow` in its place instead.

    >>> next(iter_jsonl("prefs.jsonl"))  # doctest: +SKIP
    (1, {'prompt': 'Hi', 'chosen': 'Hello!', 'rejected': 'Go away.'})
    """
    name = os.fspath(path)
    check_bad_row_policy(on_bad_rows)
    if not os.path.exists(name):
        raise DataError("file not found", file=name)
    if os.path.isdir(name):
        raise DataError("is a folder, not a JSONL file", file=name)
    if name.lower().endswith(COMPRESSED):
        raise DataError("is compressed: this command reads JSONL line by line (and resumes by byte offset), so "
                        "decompress it first (e.g. gunzip -k)", file=name)
    return _read_rows(name, on_bad_rows == "skip")


def _read_rows(name: str, skip_bad: bool) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    found_row = False
    try:
        handle = open(name, "rb")
    except OSError as exc:
        raise DataError(f"cannot open: {exc.strerror}", file=name) from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if is_blank(raw):
                continue
            try:
                found_row = True
                yield number, _parse_object(_decode(raw, name, number), name, number)
            except DataError as err:
                if not skip_bad:
                    raise
                found_row = True
                yield number, unreadable_line(raw, name, number, err)
    if not found_row:
        raise DataError("empty file: no JSON rows", file=name)


def parse_line(raw: bytes, name: str, number: int) -> dict[str, Any]:
    """The object on one (non-blank) line; a DataError naming file and line when it is not one."""
    return _parse_object(_decode(raw, name, number), name, number)


def unreadable_line(raw: bytes, name: str, number: int, err: DataError) -> BadRow:
    """The BadRow of a line `parse_line` refused: its reason and the line as it was."""
    return BadRow(number, err.reason, raw.decode("utf-8", errors="replace").rstrip("\r\n"), name)


def _decode(raw: bytes, name: str, number: int) -> str:
    # A line may start with a byte-order mark: editors on Windows add one to line 1, and files joined with `cat`
    # carry theirs into the middle.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line"
        raise DataError(f"not valid UTF-8 ({where})", file=name, line=number) from None


def _parse_object(text: str, name: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=name, line=number) from None
    if not isinstance(value, dict):
        raise DataError(f"expected a JSON object, got {json_type_name(value)}", file=name, line=number)
    return value


def json_type_name(value: object) -> str:
    """The JSON name of a Python value's type, for error messages.

    >>> json_type_name([1]), json_type_name(None), json_type_name(2.5)
    ('array', 'null', 'number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def write_bad_rows(path: str | os.PathLike, bad_rows) -> str:
    """Write BadRows as JSON lines (file, line, reason, text), atomically; returns the path."""
    from rewardkit.atomic import atomic_file

    with atomic_file(path) as handle:
        for row in bad_rows:
            handle.write(json.dumps(row.record(), ensure_ascii=False) + "\n")
    return os.fspath(path)
