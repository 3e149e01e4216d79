"""The row progress bar long commands show on stderr (rich), as `rewardkit score` shows it."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator


@contextlib.contextmanager
def row_progress(console, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield `advance(k)`: k more of `total` rows done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        bar = progress.add_task(label, total=total)
        yield lambda n: progress.update(bar, advance=n)
