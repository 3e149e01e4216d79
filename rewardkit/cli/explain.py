"""`rewardkit explain`: take rewards apart, per row, into attribute values, gate weights and contributions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rewardkit.cli.steering import WEIGHTS_HELP, steering_options


def explain(
    model: str = typer.Option(..., "--model", help="A model whose scores carry attributes (multi, or a scalar "
                              "regression model with several outputs)."),
    input: Path = typer.Option(..., "--input", help="JSONL of pairs or {prompt, response} rows."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write JSONL (each row plus its explanations) "
                                          "instead of printing tables."),
    weights: Optional[str] = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    limit: int = typer.Option(20, help="Rows printed as tables (all rows go to --output)."),
    batch_size: int = typer.Option(32, help="Samples per forward pass."),
) -> None:
    """Per row: the reward, and for each attribute its value, its gate weight and its contribution (weight ×
    value; the contributions sum to the reward)."""
    import json

    import rewardkit
    from rewardkit.atomic import atomic_file
    from rewardkit.cli.terminal import cli_console
    from rewardkit.data.jsonl import iter_jsonl
    from rewardkit.errors import ConfigError, DataError
    from rewardkit.scale.batch_scoring import row_samples

    if not input.exists():
        raise DataError("file not found", file=str(input))
    reward_model = rewardkit.load(model, **steering_options(model, weights))
    rows = [(line, row) for line, row in iter_jsonl(str(input))]
    samples = [row_samples(row, file=str(input), line=line) for line, row in rows]
    flat = [s for found, _ in samples for s in found]
    scores = reward_model.score(flat, batch_size=batch_size)
    if scores.attributes is None:
        raise ConfigError(f"{model} gives one number per sample and no attributes to explain")
    fixed = fixed_weights(reward_model)
    explained = [explanation(scores, i, fixed) for i in range(len(flat))]
    console, at = cli_console(), 0
    records = []
    for (line, row), (found, _) in zip(rows, samples):
        parts = explained[at: at + len(found)]
        at += len(found)
        records.append({**row, "explanations": parts})
        if output is None and len(records) <= limit:
            print_explanation(console, line, parts)
    if output is not None:
        with atomic_file(output) as handle:
            handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        cli_console(stderr=True).print(f"explained {len(records)} rows → {output}")


def fixed_weights(reward_model) -> list[float] | None:
    """The weights a model without a gate gives its outputs (reward = weights · outputs): a scalar model's
    reward_weights, or the first output alone; None when the reward is not that sum (normalised, or no options)."""
    options = getattr(reward_model, "options", None)
    if options is None or getattr(options, "normalize", True) or not hasattr(options, "reward_weights"):
        return None
    return [float(w) for w in options.reward_weights or [1.0] + [0.0] * (len(options.attributes) - 1)]


def explanation(scores, index: int, fixed: list[float] | None = None) -> dict:
    """{"reward", "attributes": {name: {"value", "weight", "contribution"}}} of sample `index`: weights from the
    gate, else `fixed` (one per attribute); weight and contribution None when there are neither."""
    attributes = {}
    for position, (name, values) in enumerate(scores.attributes.items()):
        weight = scores.weights[name][index] if scores.weights else fixed[position] if fixed else None
        value = values[index]
        contribution = None if weight is None else weight * value
        attributes[name] = {"value": value, "weight": weight, "contribution": contribution}
    return {"reward": scores.rewards[index], "attributes": attributes}


def print_explanation(console, line: int, parts: list[dict]) -> None:
    from rich.table import Table

    labels = ["response"] if len(parts) == 1 else ["chosen", "rejected"]
    for label, part in zip(labels, parts):
        table = Table("attribute", "value", "weight", "contribution",
                      title=f"line {line} {label}: reward {part['reward']:.3f}")
        for name, entry in part["attributes"].items():
            table.add_row(name, f"{entry['value']:.3f}", *("" if entry[k] is None else f"{entry[k]:.3f}"
                                                           for k in ("weight", "contribution")))
        console.print(table)
