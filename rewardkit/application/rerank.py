"""Best-of-N reranking: keep, for every prompt, the candidate the reward model scores highest.

Input rows are `candidates.py` rows (a prompt and its candidates, under "candidates" or "responses"). Each
output row keeps the input's other fields and adds

    response   the chosen candidate (the first of equal rewards)
    reward     its reward
    index      its position among the row's candidates
    rewards    the rewards of the candidates scored, in candidate order (identical candidates of a row are
               scored once and share one reward, whatever the CPU's rounding of a batch's rows)

so OUTPUT is a {"prompt", "response"} file that `rewardkit score` and SFT tools read as is.

Fixed (`n` given): the first n candidates of each row are scored (all when n is None). Adaptive
(`adaptive="lowest-best"` or `"spread"`): the same total, n per row on average, shared within each block of
`block_rows` rows by that rule of rewardkit.application.adaptive; `rewards` then has a different length per
row. Streaming, resumable and skipped rows as in `rewardkit score` (rewardkit.application.streaming).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rewardkit.application.adaptive import RULES, adaptive_best_of_n, best_index, fixed_best_of_n
from rewardkit.application.candidates import CandidateRow
from rewardkit.application.streaming import StreamReport, stream_rows
from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError
from rewardkit.models.base import RewardModel


@dataclass
class RerankReport(StreamReport):
    scored: int = 0
    """Candidates scored by this run (a candidate identical to another of its row is scored once)."""
    truncated: int = 0
    """Of those, how many were cut to the model's max length."""


def best_row(item: CandidateRow, rewards: list[float]) -> dict:
    """The output row of `item` given the rewards of its first len(rewards) candidates.

    >>> best_row(CandidateRow({"prompt": "Hi", "candidates": ["a", "b"], "id": 7}, key="candidates",
    ...                       responses=["a", "b"]), [0.5, 2.0])
    {'prompt': 'Hi', 'id': 7, 'response': 'b', 'reward': 2.0, 'index': 1, 'rewards': [0.5, 2.0]}
    """
    index = best_index(rewards)
    return {**item.passed_through(), "response": item.responses[index], "reward": rewards[index], "index": index,
            "rewards": list(rewards)}


def rerank_rows(model: RewardModel, rows: list[CandidateRow], report: RerankReport, *, n: int | None = None,
                adaptive: str | None = None, batch_size: int = 32) -> list[dict]:
    """`best_row` of each (usable) row, scoring the candidates fixed or adaptive Best-of-N picks."""

    known: dict[tuple[int, str], float] = {}  # (row, candidate text) -> reward: each distinct text scored once

    def score(requests: list[tuple[int, int]]) -> list[float]:
        keys = [(p, rows[p].responses[c]) for p, c in requests]
        new = list(dict.fromkeys(key for key in keys if key not in known))
        if new:
            scores = model.score([Sample(rows[p].prompt, text) for p, text in new], batch_size=batch_size)
            known.update(zip(new, scores.rewards))
            report.scored += len(new)
            report.truncated += scores.truncated
        return [known[key] for key in keys]

    sizes = [len(item.responses) for item in rows]
    if adaptive:
        rewards = adaptive_best_of_n(sizes, n, score, rule=adaptive)
    else:
        rewards = fixed_best_of_n(sizes, n or max(sizes, default=0), score)
    return [best_row(item, values) for item, values in zip(rows, rewards)]


def check_rerank_options(n: int | None, adaptive: str | None) -> None:
    """--n and --adaptive make sense together (the CLI checks them before it loads the model)."""
    if n is not None and n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    if adaptive and n is None:
        raise ConfigError("--adaptive needs --n: the average number of candidates to score per prompt")
    if adaptive and adaptive not in RULES:
        raise ConfigError(f"unknown adaptive rule {adaptive!r}; choose from {', '.join(RULES)}")


def rerank_jsonl(model: RewardModel, input_path: str, output_path: str, *, n: int | None = None,
                 adaptive: str | None = None, batch_size: int = 32, block_rows: int = 512, resume: bool = False,
                 on_bad_rows: str = "error", on_rows=None) -> RerankReport:
    """Stream `input_path` into `output_path`, one best candidate per row (see the module docstring);
    `adaptive`: None for fixed Best-of-N, else the adaptive rule's name (rewardkit.application.adaptive.RULES)."""
    check_rerank_options(n, adaptive)
    report = RerankReport()

    def lines_of(rows: list[CandidateRow]) -> list[str]:
        best = rerank_rows(model, rows, report, n=n, adaptive=adaptive, batch_size=batch_size)
        return [json.dumps(row, ensure_ascii=False) + "\n" for row in best]

    return stream_rows(input_path, output_path, lines_of, block_rows=block_rows, resume=resume,
                       on_bad_rows=on_bad_rows, on_rows=on_rows, report=report)
