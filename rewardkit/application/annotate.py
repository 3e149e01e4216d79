"""Annotate: several responses per prompt → chosen/rejected pairs in TRL's preference format, by reward.

Input rows are `candidates.py` rows with at least two responses. Modes:

    best-worst   one pair per prompt: the highest-reward response over the lowest (first of equal rewards)
    margin       every pair (i, j) with r_i − r_j > margin, i chosen; in order of i, then j

Identical responses of one prompt are scored once, so they get one reward: they are never paired with each
other, and a prompt whose responses are all one text is a tie on every CPU (scored apart, the copies' rewards can
differ in their last bits: on AVX2 CPUs a batch's rows round differently by position). A prompt whose responses
all score the same is a tie: no pair, counted. Each output row keeps the input's other fields and adds

    chosen, rejected                 strings, or [{"role": "assistant", "content": …}] when the prompt is a
                                     message list (TRL's conversational format)
    score_chosen, score_rejected     the two rewards
    margin                           score_chosen − score_rejected (TRL's RewardTrainer and rewardkit's
                                     bt-margin objective read it as the pair's loss margin)
    chosen_index, rejected_index     positions among the row's responses

While running, OUTPUT.partial holds one line per input row (its pairs, maybe none), so resuming after a kill
at any moment writes every input row's pairs exactly once; OUTPUT is made from it at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rewardkit.application.candidates import CandidateRow
from rewardkit.application.streaming import StreamReport, stream_rows
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import RewardModel

MODES = ("best-worst", "margin")
_PAIRS = "__rewardkit_pairs__"
"""Key of a row's line in OUTPUT.partial: its pairs, and whether it was a tie."""


@dataclass
class AnnotateReport(StreamReport):
    pairs: int = 0
    """Pairs in OUTPUT (resumed rows included)."""
    ties: int = 0
    """Prompts whose responses all scored the same (no pair)."""
    below_margin: int = 0
    """Prompts of margin mode with different rewards but no gap above the margin (no pair)."""
    truncated: int = 0
    """Distinct responses (per prompt) cut to the model's max length (this run)."""


def pair_indices(rewards: list[float], mode: str = "best-worst", margin: float = 0.0) -> list[tuple[int, int]]:
    """(chosen, rejected) index pairs for one prompt's rewards; [] for a tie.

    >>> pair_indices([0.2, 0.9, 0.2]), pair_indices([0.2, 0.9, 0.5], "margin", 0.25)
    ([(1, 0)], [(1, 0), (1, 2), (2, 0)])
    """
    if max(rewards) == min(rewards):
        return []
    if mode == "best-worst":
        best = max(range(len(rewards)), key=lambda i: (rewards[i], -i))
        worst = min(range(len(rewards)), key=lambda i: (rewards[i], i))
        return [(best, worst)]
    return [(i, j) for i in range(len(rewards)) for j in range(len(rewards)) if rewards[i] - rewards[j] > margin]


def pair_row(item: CandidateRow, rewards: list[float], chosen: int, rejected: int) -> dict:
    """One output row (see the module docstring)."""
    conversational = not isinstance(item.row["prompt"], str)

    def side(index: int):
        text = item.responses[index]
        return [{"role": "assistant", "content": text}] if conversational else text

    return {**item.passed_through(), "chosen": side(chosen), "rejected": side(rejected),
            "score_chosen": rewards[chosen], "score_rejected": rewards[rejected],
            "margin": rewards[chosen] - rewards[rejected], "chosen_index": chosen, "rejected_index": rejected}


def row_line(item: CandidateRow, rewards: list[float], mode: str, margin: float) -> str:
    """The row's OUTPUT.partial line: its pair rows and whether it was a tie."""
    pairs = [pair_row(item, rewards, i, j) for i, j in pair_indices(rewards, mode, margin)]
    return json.dumps({_PAIRS: pairs, "tie": max(rewards) == min(rewards)}, ensure_ascii=False) + "\n"


def check_annotate_options(mode: str, margin: float | None) -> None:
    """--mode and --margin make sense together (the CLI checks them before it loads the model)."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if (mode == "margin") != (margin is not None):
        raise ConfigError("--margin X goes with --mode margin (and only with it)")
    if margin is not None and not margin >= 0:
        raise ConfigError(f"--margin must be a number ≥ 0, got {margin}")


def annotate_jsonl(model: RewardModel, input_path: str, output_path: str, *, mode: str = "best-worst",
                   margin: float | None = None, batch_size: int = 32, block_rows: int = 512, resume: bool = False,
                   on_bad_rows: str = "error", on_rows=None) -> AnnotateReport:
    """Stream `input_path` into pairs in `output_path` (see the module docstring)."""
    check_annotate_options(mode, margin)
    report = AnnotateReport()

    def lines_of(rows: list[CandidateRow]) -> list[str]:
        distinct = [list(dict.fromkeys(item.responses)) for item in rows]
        samples = [Sample(item.prompt, text) for item, texts in zip(rows, distinct) for text in texts]
        scores = model.score(samples, batch_size=batch_size) if samples else None
        report.truncated += scores.truncated if scores else 0
        lines, start = [], 0
        for item, texts in zip(rows, distinct):
            reward_of = dict(zip(texts, scores.rewards[start : start + len(texts)]))
            start += len(texts)
            lines.append(row_line(item, [reward_of[text] for text in item.responses], mode, margin or 0.0))
        return lines

    def expand(line: str) -> str:
        held = json.loads(line)
        report.pairs += len(held[_PAIRS])
        report.ties += held["tie"]
        report.below_margin += not held[_PAIRS] and not held["tie"]
        return "".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in held[_PAIRS])

    return stream_rows(input_path, output_path, lines_of, block_rows=block_rows, resume=resume, minimum=2,
                       on_bad_rows=on_bad_rows, on_rows=on_rows, expand=expand, report=report)
