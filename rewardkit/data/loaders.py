"""Load preference pairs or rated responses from a JSONL file, a local dataset file or folder, or the hub.

A `.jsonl` path is streamed line by line (errors name the line). Anything else goes through
`datasets.load_dataset` (errors name the 1-based row). Either way the result is a re-iterable
`RecordSource` whose `stats` say how many rows were read, kept and skipped, and why.

Two switches decide what happens to rows that are not plain records:
- `strict_rows`: pairs whose conversations diverge before their final responses are kept by default (the
  shared turns are the prompt; `stats.diverged` counts them); True makes them an error.
- `on_bad_rows`: a broken row (not JSON, a missing field, a wrong type) is an error naming it by default;
  "skip" skips it and keeps it, with its reason, in `stats.bad_rows`, so a caller can write them out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Iterator, Mapping, Sequence, TypeVar

from rewardkit.data.formats import Skip, detect_format, helpsteer2_rated, pair_parser
from rewardkit.data.jsonl import COMPRESSED, BadRow, check_bad_row_policy, iter_jsonl
from rewardkit.data.schemas import PreferencePair, RatedResponse
from rewardkit.errors import ConfigError, DataError, RowNumber

T = TypeVar("T")
Rows = Callable[[], Iterable[tuple[int, Mapping[str, Any]]]]
"""Starts a fresh pass over (1-based row number, row)."""
Parser = Callable[..., Any]
"""parser(row, *, file, line) -> record or Skip."""

LOCAL_BUILDERS = {".json": "json", ".parquet": "parquet", ".csv": "csv", ".arrow": "arrow"}
"""`datasets` builder for each local file type (`.jsonl` is read by iter_jsonl instead; a .jsonl or .json file
compressed with one of jsonl.COMPRESSED, data.jsonl.gz, goes to the json builder, which decompresses it)."""
DEFAULT_KEYS = dict(prompt_key="prompt", chosen_key="chosen", rejected_key="rejected", margin_key="margin")


@dataclass
class LoadStats:
    """What one pass over a source did with its rows. No row is dropped without a counted reason."""

    rows: int = 0
    """Rows read so far."""
    kept: int = 0
    """Rows that became records."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Reason -> count, e.g. {"tie (preference_strength 0)": 12}."""
    diverged: int = 0
    """Kept pairs whose two conversations differ before their final responses (PreferencePair.diverged)."""
    bad_rows: list[BadRow] = field(default_factory=list)
    """Broken rows skipped under on_bad_rows="skip" (each also counted in `skipped` as "bad row")."""
    complete: bool = False
    """True once the pass has read every row; until then the counts are partial."""

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def __str__(self) -> str:
        diverged = f"; {self.diverged} kept with conversations diverging before the last turn" if self.diverged else ""
        return f"{self.rows} rows read, {self.kept} kept, {skipped_phrase(self.skipped)}{diverged}"

    def summary(self) -> dict:
        """The counts as JSON (train summaries, metrics.json)."""
        return {"rows": self.rows, "kept": self.kept, "skipped": dict(self.skipped),
                "diverged": self.diverged, "bad_rows": len(self.bad_rows)}

    def __add__(self, other: "LoadStats") -> "LoadStats":
        """The counts of two passes together (a training file and its held-out file)."""
        skipped = {k: self.skipped.get(k, 0) + other.skipped.get(k, 0) for k in {*self.skipped, *other.skipped}}
        return LoadStats(self.rows + other.rows, self.kept + other.kept, skipped, self.diverged + other.diverged,
                         self.bad_rows + other.bad_rows, self.complete and other.complete)


def skipped_phrase(skipped: Mapping[str, int]) -> str:
    """'3 skipped (bad row: 1, tie (preference_strength 0): 2)': the count, then each reason with its count."""
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(skipped.items()))
    return f"{sum(skipped.values())} skipped" + (f" ({reasons})" if reasons else "")


class RecordSource(Generic[T]):
    """A re-iterable stream of records from one source; `stats` describes the current or last pass.

    >>> pairs = load_pairs("prefs.jsonl")          # doctest: +SKIP
    >>> batch = list(pairs); print(pairs.stats)    # doctest: +SKIP
    3 rows read, 2 kept, 1 skipped (tie (preference_strength 0): 1)
    """

    def __init__(self, name: str, format: str, rows: Rows, parse: Parser, on_bad_rows: str = "error"):
        self.name, self.format = name, format  # where the rows come from; the format they are parsed as
        self._rows, self._parse, self.on_bad_rows = rows, parse, on_bad_rows
        self.stats = LoadStats()

    def __iter__(self) -> Iterator[T]:
        stats = self.stats = LoadStats()
        for number, row in self._rows():
            stats.rows += 1
            record = row if isinstance(row, BadRow) else self._parsed(row, number)
            if isinstance(record, BadRow):
                stats.bad_rows.append(record)
                record = Skip("bad row")
            if isinstance(record, Skip):
                stats.skipped[record.reason] = stats.skipped.get(record.reason, 0) + 1
                continue
            stats.kept += 1
            stats.diverged += bool(getattr(record, "diverged", False))
            yield record
        stats.complete = True

    def _parsed(self, row: Mapping[str, Any], number: int) -> Any:
        """The parsed record; under on_bad_rows="skip" a DataError becomes a BadRow holding the row."""
        try:
            return self._parse(row, file=self.name, line=number)
        except DataError as err:
            if self.on_bad_rows != "skip":
                raise
            return bad_row(number, err, row)

    def __repr__(self) -> str:
        return f"RecordSource({self.name!r}, format={self.format!r}, stats=({self.stats}))"


def load_pairs(
    source: str | os.PathLike,
    format: str = "auto",
    *,
    split: str = "train",
    prompt_key: str = "prompt",
    chosen_key: str = "chosen",
    rejected_key: str = "rejected",
    margin_key: str = "margin",
    strict_rows: bool = False,
    on_bad_rows: str = "error",
) -> RecordSource[PreferencePair]:
    """Preference pairs from `source` in `format` ("auto" reads it off the first usable row's keys).

    Custom key names select the `keys` format (OpenRLHF's --prompt_key etc.). The first usable row is
    read and parsed at once, so a missing file, an empty file or an unknown format fails here.
    `strict_rows` and `on_bad_rows`: see the module docstring.

    >>> pairs = load_pairs("hh.jsonl", "hh")  # doctest: +SKIP
    """
    check_bad_row_policy(on_bad_rows)
    keys = dict(prompt_key=prompt_key, chosen_key=chosen_key, rejected_key=rejected_key, margin_key=margin_key)
    if keys != DEFAULT_KEYS:
        if format not in ("auto", "keys", "trl"):
            raise ConfigError(f"prompt_key, chosen_key, ... apply to format 'keys', not '{format}'")
        format = "keys"
    elif format != "auto":
        pair_parser(format)  # an unknown name fails before any data is read
    name, rows = open_rows(source, split, on_bad_rows)

    def checked_first(row, number):
        found = detect_format(row, file=name, line=number) if format == "auto" else format
        if found == "helpsteer2":
            raise DataError("rows are HelpSteer2 attribute ratings, not pairs: use load_rated", file=name,
                            line=number)
        pair_parser(found, strict=strict_rows, **(keys if found == "keys" else {}))(row, file=name, line=number)
        return found

    format = first_usable_row(name, rows, checked_first, on_bad_rows)
    parse = pair_parser(format, strict=strict_rows, **(keys if format == "keys" else {}))
    return RecordSource(name, format, rows, parse, on_bad_rows)


def load_rated(
    source: str | os.PathLike, attributes: Sequence[str] | None = None, *, split: str = "train",
    on_bad_rows: str = "error",
) -> RecordSource[RatedResponse]:
    """HelpSteer2-style rated responses; `attributes` replaces the five default rating columns.

    >>> rated = load_rated("helpsteer2.parquet", ["helpfulness", "correctness"])  # doctest: +SKIP
    """
    check_bad_row_policy(on_bad_rows)
    if isinstance(attributes, str) or (attributes is not None and not attributes):
        raise ConfigError(f"attributes must be a non-empty list of column names, got {attributes!r}")
    name, rows = open_rows(source, split, on_bad_rows)
    parse = partial(helpsteer2_rated, attributes=None if attributes is None else tuple(attributes))
    first_usable_row(name, rows, lambda row, number: parse(row, file=name, line=number), on_bad_rows)
    return RecordSource(name, "helpsteer2", rows, parse, on_bad_rows)


def bad_row(number: int, err: DataError, row: Any) -> BadRow:
    """A BadRow for a row that failed to parse: its reason (with the field) and the row as JSON."""
    import json

    reason = f"field '{err.field}': {err.reason}" if err.field else err.reason
    return BadRow(number, reason, json.dumps(row, ensure_ascii=False, default=str), err.file or "")


def open_rows(source: str | os.PathLike, split: str = "train", on_bad_rows: str = "error") -> tuple[str, Rows]:
    """The name to use in errors, and a function that starts a fresh pass over (row number, row).

    A `.jsonl` path is streamed; a local .json/.parquet/.csv/.arrow file (or a compressed .jsonl.gz / .json.gz),
    a folder or a hub id is loaded with `datasets` (once, here), its rows numbered as `RowNumber`s. `split`
    applies to folders and hub ids; a file is one split.
    """
    name = os.path.expanduser(os.fspath(source))
    if name.lower().endswith(".jsonl"):
        iter_jsonl(name)  # fails now if the file is missing
        return name, partial(iter_jsonl, name, on_bad_rows)
    dataset = _load_dataset(name, split)
    return name, lambda: ((RowNumber(number), row) for number, row in enumerate(dataset, 1))


def first_usable_row(name: str, rows: Rows, check: Callable[[Mapping[str, Any], int], T], on_bad_rows: str) -> T:
    """`check(row, number)` of the first row (raising its error), or under on_bad_rows="skip" of the first row
    it accepts; so a wrong file or format fails before any work starts."""
    iterator = iter(rows())
    try:
        for number, row in iterator:
            if isinstance(row, BadRow):
                continue
            try:
                return check(row, number)
            except DataError:
                if on_bad_rows != "skip":
                    raise
        raise DataError("no usable rows" if on_bad_rows == "skip" else "no rows", file=name)
    finally:
        getattr(iterator, "close", lambda: None)()


def _load_dataset(name: str, split: str) -> Any:
    import datasets

    path = Path(name)
    try:
        if path.is_file():
            return datasets.load_dataset(_builder(path), data_files=str(path), split="train")
        if path.is_dir() and ((path / "state.json").exists() or (path / "dataset_dict.json").exists()):
            return _saved_split(datasets.load_from_disk(str(path)), split, name)
        if path.is_dir():
            return datasets.load_dataset(str(path), split=split)
        if path.suffix.lower() in LOCAL_BUILDERS or name.startswith(".") or path.is_absolute():
            raise DataError("file not found", file=name)
        return datasets.load_dataset(name, split=split)
    except DataError:
        raise
    except Exception as exc:  # datasets raises many types: missing split, parse, hub and network errors
        raise DataError(f"could not load dataset: {exc}", file=name) from exc


def _builder(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in COMPRESSED and Path(path.stem).suffix.lower() in (".jsonl", ".json"):
        return "json"  # datasets decompresses it
    builder = LOCAL_BUILDERS.get(suffix)
    if builder is None:
        known = ", ".join([".jsonl", *LOCAL_BUILDERS])
        raise DataError(f"unsupported file type '{path.suffix}' (use {known})", file=str(path))
    return builder


def _saved_split(saved: Any, split: str, name: str) -> Any:
    """A folder written by `save_to_disk`: a Dataset, or a DatasetDict to pick `split` from."""
    if not hasattr(saved, "keys"):
        return saved
    if split not in saved:
        raise DataError(f"no split '{split}' (has: {', '.join(saved.keys())})", file=name)
    return saved[split]
