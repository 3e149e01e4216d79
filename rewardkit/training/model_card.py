"""The model card (`README.md`, the Hugging Face model-card format) written into every trained model folder:
how the model was made — family, objective, backbone, the full config and seed, the data (path, SHA-256, row
counts), versions, machine, training time — and the evaluation figures of the run. `rewardkit eval --card`
appends its own figures later.

The card is built with huggingface_hub's card tools; its YAML front matter uses the Hub's keys
(`library_name`, `base_model`, `datasets`, `tags`, `model-index`), so the Hub renders it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CARD_FILE = "README.md"
KNOWN_BASE_MODELS = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct",
}
"""Backbone names rewardkit resolves to shipped copies, and the hub ids those copies are of."""

TEMPLATE = """---
{{ card_data }}
---

# {{ title }}

A `{{ family }}` reward model trained by [rewardkit](https://pypi.org/project/rewardkit/) with the `{{ objective }}`
objective. Load it with `rewardkit.load("{{ folder_hint }}")`.

## How it was made

| | |
|---|---|
| family / objective | {{ family }} / {{ objective }} |
| backbone | {{ backbone }} |
| seed | {{ seed }} |
| steps | {{ steps }}{% if resumed_from %} (resumed from step {{ resumed_from }}){% endif %} |
| training time | {{ train_seconds }} s |

## Data

{{ data_table }}

Rows are never dropped silently: a bad row stops training with an error naming the file, line and field.

## Machine and versions

{{ machine_table }}

The same seed, data, config, machine and thread count give bit-identical weights; another kind of CPU may
not (see rewardkit's README, "Reproducibility").

## Evaluation

{{ evaluation_table }}

## Full training config

```json
{{ config_json }}
```
"""


def file_sha256(path: str) -> str | None:
    """SHA-256 of a local file; None for folders, hub ids and missing paths."""
    file = Path(path)
    if not file.is_file():
        return None
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jsonl_rows(path: str) -> int | None:
    """Non-blank lines of a local .jsonl file (what the loader reads as rows); None for other sources."""
    file = Path(path)
    if not (file.is_file() and file.suffix.lower() == ".jsonl"):
        return None
    with file.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def data_record(config, n_train: int, truncated: int, stats=None) -> dict:
    """What the card says of the training data; `stats` (data.loaders.LoadStats): what loading the rows did."""
    sources = [("training", config.data), ("held-out", config.eval_data)]
    files = [{"role": role, "path": path, "sha256": file_sha256(path), "rows": jsonl_rows(path)}
             for role, path in sources if path]
    return {"files": files, "training_examples": n_train, "truncated_training_samples": truncated,
            "max_length": config.max_length, "rows": stats.summary() if stats is not None else None,
            "skipped_rows": stats.skipped_total if stats is not None else 0,
            "diverged_rows": stats.diverged if stats is not None else 0}


def _table(rows: list[tuple[str, object]]) -> str:
    return "| | |\n|---|---|\n" + "\n".join(f"| {key} | {value} |" for key, value in rows)


def _data_table(data: dict) -> str:
    lines = ["| data | path | SHA-256 | rows |", "|---|---|---|---|"]
    lines += [f"| {f['role']} | `{f['path']}` | `{f['sha256'] or 'not a local file'}` | "
              f"{f['rows'] if f['rows'] is not None else 'n/a'} |" for f in data["files"]]
    if not data["files"]:
        lines.append("| training | given in memory by the caller | | |")
    counts = [("training examples", data["training_examples"]),
              (f"training samples truncated to max_length={data['max_length']}", data["truncated_training_samples"]),
              ("rows skipped", data["skipped_rows"]),
              ("pairs kept whose conversations diverge before the last turn", data["diverged_rows"])]
    return "\n".join(lines) + "\n\n" + _table(counts)


COUNT_WORDS = ("pairs", "items", "examples", "samples", "steps", "seconds", "n_")
"""Figures that count or time something: in the card's tables, not in its model-index metrics."""


def _metric_results(metrics: dict, dataset: str):
    from huggingface_hub import EvalResult

    return [EvalResult(task_type="text-classification", task_name="reward modeling", dataset_type=dataset,
                       dataset_name=dataset, metric_type=name, metric_name=name, metric_value=round(float(value), 6))
            for name, value in metrics.items() if isinstance(value, (int, float)) and not isinstance(value, bool)
            and name != "n" and not any(word in name for word in COUNT_WORDS)]


def base_model_id(backbone: str) -> str | None:
    """A hub id the Hub can link to: the shipped backbones' origins, or a name that is not a local path."""
    if backbone in KNOWN_BASE_MODELS:
        return KNOWN_BASE_MODELS[backbone]
    if Path(backbone).exists() or backbone.startswith((".", "/", "~")) or backbone.count("/") != 1:
        return None
    return backbone


def write_training_card(model_dir: Path, config, result, task) -> Path:
    """README.md in `model_dir` for a run of `config` that ended with `result` (loop.TrainResult)."""
    from huggingface_hub import ModelCard, ModelCardData

    from rewardkit.atomic import atomic_file
    from rewardkit.machine import describe

    data = data_record(config, len(task.lengths()), task.truncated, task.data_stats)
    name = f"{config.family}-{config.objective}"
    dataset = config.eval_data or "held-out examples"
    base = base_model_id(config.backbone)
    card_data = ModelCardData(
        library_name="rewardkit", base_model=base, tags=["reward-model", "rewardkit", config.family, config.objective],
        datasets=[d for d in (config.data, config.eval_data) if d and base_model_id(d)] or None, model_name=name,
        eval_results=_metric_results(result.last_eval, dataset) or None,
        rewardkit={"seed": config.seed, "data": data, "machine": describe(), "train_seconds": result.train_seconds})
    machine = describe()
    card = ModelCard.from_template(
        card_data, template_str=TEMPLATE, title=f"Reward model: {name}", family=config.family,
        objective=config.objective, folder_hint=model_dir.name, backbone=f"`{config.backbone}`" + (
            f" ({base})" if base and base != config.backbone else ""), seed=config.seed, steps=result.steps,
        resumed_from=result.resumed_from, train_seconds=round(result.train_seconds, 2),
        data_table=_data_table(data), machine_table=_table(list(machine.items())),
        evaluation_table=_evaluation_table("end of training", dataset, result.last_eval),
        config_json=json.dumps(config.to_dict(), indent=2))
    with atomic_file(model_dir / CARD_FILE) as handle:
        handle.write(str(card))
    return model_dir / CARD_FILE


def _evaluation_table(when: str, dataset: str, metrics: dict) -> str:
    numbers = [(key, f"{value:.4f}") for key, value in metrics.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if not numbers:
        return f"No evaluation figures ({when})."
    return f"**{when}** on `{dataset}`:\n\n" + _table(numbers)


def append_evaluation(model_dir: Path, suite: str, metrics: dict) -> Path:
    """Add `rewardkit eval` figures (flat numbers of `metrics`) to the card in `model_dir`: to its model-index
    and as a section of its text. A folder without a card gets a minimal one."""
    from huggingface_hub import ModelCard, ModelCardData

    from rewardkit.atomic import atomic_file

    path = model_dir / CARD_FILE
    card = ModelCard.load(path) if path.is_file() else ModelCard(
        f"---\n{ModelCardData(library_name='rewardkit', tags=['reward-model', 'rewardkit']).to_yaml()}\n---\n")
    flat = {key: value for key, value in metrics.items() if isinstance(value, (int, float))}
    results = _metric_results(flat, suite)
    card.data.eval_results = (card.data.eval_results or []) + results
    card.data.model_name = card.data.model_name or model_dir.name
    card.text = card.text.rstrip() + "\n\n" + _evaluation_table(f"rewardkit eval --suite {suite}", suite, flat) + "\n"
    with atomic_file(path) as handle:
        handle.write(str(card))
    return path
