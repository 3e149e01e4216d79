from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from rewardkit.errors import DataError


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl("name.jsonl", rows) -> path; a str row is written verbatim (for broken lines)."""

    def write(name: str, rows: list) -> Path:
        path = tmp_path / name
        lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def assert_located() -> Callable[..., None]:
    """assert_located(error, file, line, field): the error and its message name all three."""

    def check(error: DataError, file: Path | str, line: int | None, field: str | None = None) -> None:
        message = str(error)
        assert (error.file, error.line, error.field) == (str(file), line, field)
        assert f"file {file}" in message
        if line is not None:  # a .jsonl file's line; any other source's row (read through datasets)
            assert f"{'line' if str(file).endswith('.jsonl') else 'row'} {line}" in message
        if field is not None:
            assert f"field '{field}'" in message

    return check
