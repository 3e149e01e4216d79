"""The `rewardkit` command. Sub-commands live in their own modules and import heavy libraries inside their
bodies, so `rewardkit --help` answers quickly."""

from __future__ import annotations

import inspect
import sys

import typer

from rewardkit.cli import annotate, critique, explain, export, quickstart, rerank, score, serve, suite, train
from rewardkit.cli import eval as eval_

app = typer.Typer(
    help="Train, evaluate, serve and apply reward models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors.")) -> None:
    _state["debug"] = debug


def command_help(function) -> str:
    """The docstring with its first paragraph on one line: typer's command list (rich mode) keeps the docstring's
    line breaks, which broke summaries mid-sentence in `rewardkit --help`."""
    first, gap, rest = inspect.cleandoc(function.__doc__ or "").partition("\n\n")
    return " ".join(first.split()) + gap + rest


for name, function in [("quickstart", quickstart.quickstart), ("train", train.train), ("score", score.score),
                       ("export", export.export), ("eval", eval_.eval_), ("suite", suite.suite),
                       ("serve", serve.serve), ("rerank", rerank.rerank), ("annotate", annotate.annotate),
                       ("critique", critique.critique), ("explain", explain.explain)]:
    app.command(name, help=command_help(function))(function)


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """The (usage error, exit, abort) classes of the click a typer raises: its own copy since typer 0.2x (a usage
    error is then a typer.TyperException with `show`), click's before."""
    kinds = [(typer.TyperException, typer.Exit, typer.Abort)]
    try:
        import click

        kinds.append((click.ClickException, click.exceptions.Exit, click.exceptions.Abort))
    except ImportError:  # typer >= 0.2x needs no click
        pass
    usage_errors, exits, aborts = zip(*kinds)
    return usage_errors, exits, aborts


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2 (tracebacks with --debug)."""
    from rewardkit.errors import RewardkitError

    try:
        code = app(standalone_mode=False, prog_name="rewardkit")
    except RewardkitError as err:
        if _state["debug"] or "--debug" in sys.argv:
            raise
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as err:  # click's own usage errors and anything unexpected
        usage_errors, exits, aborts = _click_exceptions()
        if isinstance(err, usage_errors):
            err.show()
            sys.exit(err.exit_code)
        if isinstance(err, exits):
            sys.exit(err.exit_code)
        if isinstance(err, aborts):
            if isinstance(err.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
                _interrupted()
            sys.exit(1)
        if _state["debug"] or "--debug" in sys.argv:
            raise
        typer.echo(f"error: {type(err).__name__}: {err} (rerun as `rewardkit --debug COMMAND ...` for the "
                   "traceback)", err=True)
        sys.exit(1)
    if code == 130:  # typer (0.2x, standalone_mode off) returns Ctrl-C as exit code 130 instead of raising it
        _interrupted()
    if isinstance(code, int) and code:  # a typer.Exit(code) returned the same way
        sys.exit(code)


def _interrupted() -> None:
    typer.echo("interrupted; completed checkpoints are kept (rerun with --resume)", err=True)
    sys.exit(130)


if __name__ == "__main__":
    main()
