"""A realistic-length workload: multi-turn conversations whose token lengths follow real preference data.

The verifiable suite's samples are about 49 MiniLM tokens long. Real data is longer: Anthropic HH-RLHF
(harmless-base) samples have a median of 126 tokens, a p90 of 327, a p99 of 630, and 2.3% exceed 512
(MiniLM tokenizer). Here each sample's target length is drawn from a log-normal with median 130 and p90 330
(μ = ln 130, σ = ln(330/130) / 1.2816 ≈ 0.727), which puts p99 near 700 and about 3% past 512. The target is
spread over 1–4 user/assistant exchanges; the final assistant turn is the response that gets scored.

Text is made of plain English sentences from a fixed vocabulary, so any tokenizer sees ordinary words.
Deterministic for a seed. `describe(samples, tokenizer)` measures what a tokenizer actually sees.

    python benchmarks/workloads.py      # prints the measured length distribution (MiniLM tokenizer)
"""

from __future__ import annotations

import math
import random
import statistics

WORKLOADS = {"short": 128, "long": 512}
"""workload → default max_length: `short`, the verifiable suite's own pairs; `long`, the same pairs after a
conversation drawn from this module."""

MEDIAN_TOKENS, P90_TOKENS = 130, 330
SIGMA = math.log(P90_TOKENS / MEDIAN_TOKENS) / 1.2816
TOKENS_PER_WORD = 1.4
"""MiniLM tokens per word of this text, role labels and separators included: chosen so that describe() measures
median 135, mean 170, p90 304, p99 659 and 2.25% over 512 on 2,000 samples (seed 0; HH-RLHF: 126, 160, 327, 630,
2.3%)."""

_SUBJECTS = ("the team", "my neighbour", "the report", "this approach", "our budget", "the recipe", "a student",
             "the engine", "your plan", "the garden", "the library", "a good teacher", "the market", "the river")
_VERBS = ("depends on", "changes", "improves", "explains", "protects", "slows down", "supports", "replaces",
          "reveals", "connects", "measures", "follows", "simplifies", "complicates")
_OBJECTS = ("the weekly schedule", "several small details", "the cost of repairs", "how people feel about it",
            "the first draft", "a number of old habits", "the quality of the results", "the main question",
            "everything we planned", "the way water moves", "the next few steps", "a long list of options")
_TAILS = ("", " in most cases", " over time", " if you are careful", " according to the notes",
          " for a while", " more than expected", " without much effort", " when the weather is bad")
_ASKS = ("Can you help me understand why", "I was wondering whether", "Could you explain how",
         "What do you think about the idea that", "Is it true that", "Tell me more about why")


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_TAILS)}."


def _text(rng: random.Random, words: int, ask: bool = False) -> str:
    parts = [f"{rng.choice(_ASKS)} {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}?"] if ask else []
    while sum(len(p.split()) for p in parts) < words:
        parts.append(_sentence(rng))
    return " ".join(parts)


def long_conversations(n: int, seed: int = 0) -> list:
    """`n` Samples (rewardkit.data.schemas) of realistic length: 1–4 exchanges, the last response scored."""
    from rewardkit.data.schemas import Message, Sample

    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        words = max(12, round(rng.lognormvariate(math.log(MEDIAN_TOKENS), SIGMA) / TOKENS_PER_WORD))
        exchanges = rng.choice((1, 1, 2, 2, 3, 4))
        shares = [rng.random() + 0.5 for _ in range(2 * exchanges)]
        budget = [max(4, round(words * s / sum(shares))) for s in shares]
        turns = []
        for i, size in enumerate(budget[:-1]):
            role = "user" if i % 2 == 0 else "assistant"
            turns.append(Message(role, _text(rng, size, ask=role == "user")))
        samples.append(Sample(tuple(turns), _text(rng, budget[-1])))
    return samples


def describe(samples, tokenizer) -> dict:
    """Token lengths of (rendered prompt, response) as an encoder reward model reads them, untruncated."""
    from rewardkit.data.chat import render_plain

    lengths = sorted(len(tokenizer(render_plain(s.prompt), s.response)["input_ids"]) for s in samples)

    def quantile(q: float) -> int:
        return lengths[min(len(lengths) - 1, int(q * len(lengths)))]

    return {"samples": len(lengths), "median": statistics.median(lengths), "mean": round(statistics.fmean(lengths)),
            "p90": quantile(0.9), "p99": quantile(0.99),
            "over_512": round(sum(n > 512 for n in lengths) / len(lengths), 4)}


if __name__ == "__main__":
    from transformers import AutoTokenizer

    from rewardkit.models.defaults import minilm_path

    print(describe(long_conversations(2000), AutoTokenizer.from_pretrained(minilm_path())))
