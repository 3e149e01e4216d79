"""What the commands that stream a JSONL file row by row (score, rerank, annotate) share: the checks of their
input options and the row progress bar they show on stderr (rich)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator


def check_row_options(input: Path, chunk_rows: int, batch_size: int, on_bad_rows: str) -> None:
    """The input file exists, --chunk-rows / --batch-size are positive and --on-bad-rows is a policy, before any
    model is loaded."""
    from rewardkit.data.loaders import check_bad_row_policy
    from rewardkit.errors import ConfigError, DataError

    if not input.exists():
        raise DataError("file not found", file=str(input))
    if chunk_rows < 1 or batch_size < 1:
        raise ConfigError("--chunk-rows and --batch-size must be at least 1")
    check_bad_row_policy(on_bad_rows, "--on-bad-rows")


@contextlib.contextmanager
def row_progress(console, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield `advance(k)`: k more of `total` rows done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        bar = progress.add_task(label, total=total)
        yield lambda n: progress.update(bar, advance=n)
