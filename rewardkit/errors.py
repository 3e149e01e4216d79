"""Errors a user can act on. The CLI prints them as one line (no traceback unless --debug)."""

from __future__ import annotations


class RewardkitError(Exception):
    """Base class for every error rewardkit reports to a user."""


class RowNumber(int):
    """The 1-based row of a source read through `datasets` (a .json, .parquet, .csv or .arrow file, a saved
    dataset, a hub id), where a line of the file means nothing: errors name it "row N" ("row 3" of a CSV file is
    its third data row, whatever line that is on)."""


class DataError(RewardkitError):
    """Bad input data. Names the file, the line (1-based; a `RowNumber`: the row) and the field where known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        unit = "row" if isinstance(line, RowNumber) else "line"
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"{unit} {line}" if line is not None else "",
                f"field '{field}'" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(RewardkitError):
    """A bad configuration key or value."""


class ModelLoadError(RewardkitError):
    """A model folder that cannot be loaded (missing weights, unknown family...)."""
