"""The consoles the CLI prints through: rich, with markup off.

Messages carry user text (paths, subset names, reasons): with rich's markup on, `runs/[exp1]/model` printed as
`runs//model`, and a path holding `[/x]` raised a MarkupError at the end of a finished run. Styles go through
`rich.text.Text`, never through markup in strings."""

from __future__ import annotations


def cli_console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, markup=False)
