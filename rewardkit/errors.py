"""Errors a user can act on. The CLI prints them as one line (no traceback unless --debug)."""

from __future__ import annotations


class RewardkitError(Exception):
    """Base class for every error rewardkit reports to a user."""


class DataError(RewardkitError):
    """Bad input data. Names the file, the line (1-based) and the field where known.

    `line` is a line of a .jsonl file, read line by line; any other source (a .json, .parquet, .csv or .arrow
    file, a saved dataset, a hub id) is read through `datasets`, and there it is the 1-based row, named so:
    "row 3" of a CSV file is its third data row, whatever line that is on.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        unit = "line" if not file or file.lower().endswith(".jsonl") else "row"
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
