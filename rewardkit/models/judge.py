"""`judge` family: generative reward models that write before they score (rewardkit.models.backends generates).

- **rubric** (pointwise): one prompt per rubric criterion → "Score: N" (1–10) parsed from each of k samples;
  per criterion the mean of the parsed samples, then reward = Σ w·s / Σ w over the criteria
  (judge_prompts.weighted_score). `Scores.attributes` holds each criterion's mean, the spread (standard
  deviation over the k samples of the weighted score) and the unparseable fraction.
- **reasoning** (pointwise, RM-R1 style): the judge first writes a rubric or solves the problem inside
  <rubric>…</rubric>, then gives <score>N</score>; the whole text is kept in `Scores.texts`.
- **reasoning-pairwise** (RM-R1 style, pairwise): the judge writes a rubric or solves the problem inside
  <rubric>…</rubric>, then names the better response in <verdict>A|B</verdict>; both orders as pairwise, the
  whole text of each order kept (`PairJudgement.texts`, OUT/judgements.jsonl).
- **pairwise**: "Verdict: A|B" for both orders (chosen as A, then as B) with one seed; the pair counts for
  the side both orders pick, and as a tie when they disagree (or either says tie). `compare_pairs` only: a
  pairwise judge has no score for one response alone.
- **cloud** (Critique-out-Loud): rewardkit.models.cloud.

Parsing is never silent: an output without a score or verdict is counted (`judge_report()["unparseable_rate"]`);
a response none of whose outputs parse gets reward NaN, and a pair with such a side (or, pairwise, an
unparseable order) gets margin 0 and is flagged unparseable, never a tie or a win.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np

from rewardkit.atomic import atomic_dir
from rewardkit.data.schemas import PreferencePair, Sample
from rewardkit.errors import ConfigError
from rewardkit.models.backends import Generator, Usage, make_backend
from rewardkit.models.base import Scores, samples_of
from rewardkit.models.hf import MANIFEST
from rewardkit.models.judge_prompts import (
    Criterion, fill, load_rubric, load_template, parse_score, parse_verdict, prompt_text, weighted_score,
)

KINDS = ("pairwise", "reasoning-pairwise", "rubric", "reasoning", "cloud")
PAIRWISE_KINDS = ("pairwise", "reasoning-pairwise")
"""Kinds that compare two responses natively (both A/B orders) and have no score for one response alone."""
DEFAULT_MAX_TOKENS = {"pairwise": 24, "reasoning-pairwise": 256, "rubric": 24, "reasoning": 256, "cloud": 64}
"""Generated tokens per output when `max_tokens` is unset: a verdict or a score line; reasoning needs room."""


@dataclass
class JudgeOptions:
    """A judge's settings, stored in rewardkit.json of a saved judge."""

    kind: str = "pairwise"
    """pairwise | reasoning-pairwise | rubric | reasoning | cloud."""
    backend: str = "transformers"
    """Who generates: transformers (a causal LM in this process) | openai (an OpenAI-compatible server)."""
    model: str = "smollm2"
    """The generating LM: a folder, hub id or 'smollm2' (transformers); the served model's name (openai; empty:
    the first one the server lists)."""
    base_url: str | None = None
    """openai backend: the server's URL up to /v1, e.g. http://127.0.0.1:8000/v1."""
    api_key_env: str = "OPENAI_API_KEY"
    """openai backend: the environment variable holding the API key (unset: no key, as local servers want)."""
    template: str | None = None
    """A prompt template file replacing the kind's default (rewardkit/models/judge_templates/KIND.txt)."""
    rubric: str | None = None
    """rubric: a YAML/JSON file of criteria with weights, or a list of principles; None: one overall criterion."""
    samples: int = 1
    """k outputs per prompt (rubric, reasoning, cloud): the reward is their mean; k > 1 needs temperature > 0."""
    temperature: float = 0.0
    """0: greedy. Pairwise verdicts are always drawn with the same `seed` in both orders."""
    max_tokens: int | None = None
    """Generated tokens per output; None: DEFAULT_MAX_TOKENS of the kind."""
    seed: int = 0
    concurrency: int = 4
    """openai backend: requests in flight."""
    timeout: float = 60.0
    """openai backend: seconds per request before it is retried."""
    max_retries: int = 3
    """openai backend: retries after a 429, a 5xx, a timeout or a malformed answer."""
    batch_size: int = 8
    """transformers backend: prompts per generate call."""
    critique_weight: float = 1.0
    """cloud: λ of the LM loss on reference critiques (training; stored for the record)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown judge kind '{self.kind}'; known: {', '.join(KINDS)}")
        if self.max_tokens is None:
            self.max_tokens = DEFAULT_MAX_TOKENS[self.kind]
        if self.samples < 1:
            raise ConfigError(f"judge option samples must be at least 1, got {self.samples}")
        if self.samples > 1 and self.temperature == 0:
            raise ConfigError("judge samples > 1 needs temperature > 0 (greedy samples are all the same text)")
        if self.samples > 1 and self.kind in PAIRWISE_KINDS:
            raise ConfigError(f"samples applies to rubric, reasoning and cloud judges, not to {self.kind}")

    @classmethod
    def from_dict(cls, values: dict, source: str = "judge options") -> "JudgeOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown judge option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


@dataclass
class JudgeStats:
    """What a judge has seen since it was made (or since `reset_stats`)."""

    outputs: int = 0
    unparseable_outputs: int = 0
    pairs: int = 0
    unparseable_pairs: int = 0
    """Pairs with an output that holds no score/verdict: margin 0 (wrong in accuracy), never a tie."""
    ties: int = 0
    """Parsed pairs whose orders disagree or whose verdict is a tie (pairwise), or whose scores are equal."""
    consistent_pairs: int = 0
    """Pairwise: both orders parsed and picked the same side (or both said tie)."""
    order_checked_pairs: int = 0
    """Pairwise: pairs with both orders parsed."""


@dataclass
class PairJudgement:
    """A judge's answer for pairs: margins > 0 where it prefers chosen, and what each pair cost and said."""

    margins: list[float]
    chosen_rewards: list[float]
    rejected_rewards: list[float]
    unparseable: list[bool]
    texts: list[str] = field(default_factory=list)


class Judge:
    """What every judge shares: its options, its backend, its counters."""

    family = "judge"
    generative = True

    def __init__(self, options: JudgeOptions, backend: Generator | None = None):
        self.options = options
        self.backend = backend if backend is not None else backend_for(options)
        self.stats = JudgeStats()

    def generate(self, prompts: list[str], n: int = 1) -> list[list[str]]:
        o = self.options
        outputs = self.backend.generate(prompts, max_tokens=o.max_tokens, temperature=o.temperature, n=n,
                                        seed=o.seed)
        self.stats.outputs += sum(len(texts) for texts in outputs)
        return outputs

    def parameter_count(self) -> int | None:
        network = getattr(self.backend, "network", None)
        return None if network is None else sum(p.numel() for p in network.parameters())

    def reset_stats(self) -> None:
        self.stats = JudgeStats()
        self.backend.usage = Usage()

    def stats_state(self) -> dict:
        """The counters `judge_report` reads (the judge's and its backend's), as plain values: what an evaluation
        journals with each chunk, so that a resumed evaluation reports what an uninterrupted one would."""
        return {"stats": asdict(self.stats), "usage": self.backend.usage.as_dict()}

    def restore_stats(self, state: dict) -> None:
        """Set the counters to a `stats_state()`."""
        self.stats = JudgeStats(**state["stats"])
        self.backend.usage = Usage(**state["usage"])

    def judge_report(self) -> dict:
        """Rates over what was judged since the last reset, plus the backend's usage."""
        s = self.stats
        report = {"kind": self.options.kind, "backend": self.backend.name, "generator": self.backend.model,
                  "outputs": s.outputs, "unparseable_outputs": s.unparseable_outputs,
                  "unparseable_rate": s.unparseable_outputs / s.outputs if s.outputs else 0.0,
                  "pairs": s.pairs, "unparseable_pairs": s.unparseable_pairs,
                  "tie_rate": s.ties / s.pairs if s.pairs else 0.0,
                  "ties_count_as": "wrong (accuracy counts a pair only when the judge prefers chosen)",
                  "usage": self.backend.usage.as_dict()}
        if s.order_checked_pairs:
            report["position_consistency"] = s.consistent_pairs / s.order_checked_pairs
        return report

    def save(self, path: str | Path) -> Path:
        """A folder holding only rewardkit.json: the judge's options (its backend is named, not copied)."""
        with atomic_dir(path) as tmp:
            (tmp / MANIFEST).write_text(json.dumps({"family": "judge", "options": asdict(self.options)}, indent=2),
                                        encoding="utf-8")
        return Path(path)


class PointwiseJudge(Judge):
    """rubric and reasoning: a score per response, from one prompt per criterion and k samples per prompt."""

    def __init__(self, options: JudgeOptions, backend: Generator | None = None):
        self.template = load_template(options.kind, options.template)
        self.criteria: tuple[Criterion, ...] = (load_rubric(options.rubric) if options.kind == "rubric" else
                                                (Criterion("score", ""),))
        super().__init__(options, backend)

    def prompts_for(self, sample: Sample) -> list[str]:
        """One prompt per criterion (the reasoning kind has one)."""
        return [fill(self.template, criterion=c.description, prompt=prompt_text(sample), response=sample.response)
                for c in self.criteria]

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        batch = samples_of(batch)
        per = len(self.criteria)
        outputs = self.generate([p for s in batch for p in self.prompts_for(s)], n=self.options.samples)
        weights = [c.weight for c in self.criteria]
        rewards, spread, failed, texts = [], [], [], []
        by_criterion: dict[str, list[float]] = {c.name: [] for c in self.criteria} if per > 1 else {}
        for i in range(len(batch)):
            draws = outputs[i * per: (i + 1) * per]  # [criterion][sample] texts
            values = [[parse_score(t) for t in texts] for texts in draws]
            unparsed = sum(v is None for row in values for v in row)
            self.stats.unparseable_outputs += unparsed
            means = [_mean(row) for row in values]
            reward = weighted_score(means, weights)
            rewards.append(math.nan if reward is None else reward)
            per_draw = [weighted_score([row[k] for row in values], weights) for k in range(self.options.samples)]
            parsed = [v for v in per_draw if v is not None]
            spread.append(float(np.std(parsed)) if parsed else math.nan)
            failed.append(unparsed / (per * self.options.samples))
            for criterion, mean in zip(self.criteria if per > 1 else (), means):
                by_criterion[criterion.name].append(math.nan if mean is None else mean)
            texts.append("\n\n".join(t for row in draws for t in row))
        return Scores(rewards, {**by_criterion, "spread": spread, "unparseable": failed}, texts=texts)

    def compare_pairs(self, pairs: Sequence[PreferencePair]) -> PairJudgement:
        """Both responses scored; a pair with an unscored side gets margin 0 and is flagged unparseable."""
        scores = self.score([s for p in pairs for s in p.samples()])
        return pair_judgement_from_rewards(scores.rewards, scores.texts, self.stats)


def pair_judgement_from_rewards(rewards: Sequence[float], texts: Sequence[str] | None,
                                stats: JudgeStats) -> PairJudgement:
    """Pairs (chosen at 2i, rejected at 2i+1) from per-response rewards; NaN marks an unscored response."""
    chosen, rejected = list(rewards[0::2]), list(rewards[1::2])
    bad = [math.isnan(c) or math.isnan(r) for c, r in zip(chosen, rejected)]
    margins = [0.0 if b else c - r for b, c, r in zip(bad, chosen, rejected)]
    stats.pairs += len(margins)
    stats.unparseable_pairs += sum(bad)
    stats.ties += sum(m == 0 and not b for m, b in zip(margins, bad))
    joined = [f"[chosen]\n{texts[2 * i]}\n\n[rejected]\n{texts[2 * i + 1]}" for i in range(len(margins))] if texts \
        else []
    # an unscored pair is 0 vs 0 (so its margin is 0: wrong in accuracy), flagged, and not counted as a tie
    return PairJudgement(margins, [0.0 if b else c for b, c in zip(bad, chosen)],
                         [0.0 if b else r for b, r in zip(bad, rejected)], bad, joined)


def _mean(values: Sequence[float | None]) -> float | None:
    parsed = [v for v in values if v is not None]
    return sum(parsed) / len(parsed) if parsed else None


SIDES = {"A": ("chosen", "rejected"), "B": ("rejected", "chosen"), "tie": ("tie", "tie")}


def combine_orders(first: str | None, swapped: str | None) -> tuple[float | None, bool | None]:
    """(verdict, consistent) from the verdict with chosen as A (`first`) and with chosen as B (`swapped`):
    +1 both orders pick chosen, −1 both pick rejected, 0 otherwise (a tie); (None, None) when either order is
    unparseable.

    >>> combine_orders("A", "B"), combine_orders("A", "A"), combine_orders("B", None)
    ((1.0, True), (0.0, False), (None, None))
    """
    if first is None or swapped is None:
        return None, None
    picked, picked_swapped = SIDES[first][0], SIDES[swapped][1]
    consistent = picked == picked_swapped
    value = {"chosen": 1.0, "rejected": -1.0}.get(picked, 0.0) if consistent else 0.0
    return value, consistent


class PairwiseJudge(Judge):
    """Verdicts on (A, B) in both orders; a pair counts only when the orders agree. The kind picks the default
    template: pairwise asks for the verdict alone, reasoning-pairwise for a rubric (or a solution) first."""

    def __init__(self, options: JudgeOptions, backend: Generator | None = None):
        self.template = load_template(options.kind, options.template)
        super().__init__(options, backend)

    def prompts_for(self, pair: PreferencePair) -> tuple[str, str]:
        """(chosen as A, chosen as B)."""
        prompt = prompt_text(pair.samples()[0])
        return (fill(self.template, prompt=prompt, response_a=pair.chosen, response_b=pair.rejected),
                fill(self.template, prompt=prompt, response_a=pair.rejected, response_b=pair.chosen))

    def compare_pairs(self, pairs: Sequence[PreferencePair]) -> PairJudgement:
        both = [self.prompts_for(p) for p in pairs]
        outputs = self.generate([a for a, _ in both] + [b for _, b in both])
        n = len(pairs)
        margins, bad, texts = [], [], []
        for i in range(n):
            first, swapped = parse_verdict(outputs[i][0]), parse_verdict(outputs[n + i][0])
            self.stats.unparseable_outputs += (first is None) + (swapped is None)
            value, consistent = combine_orders(first, swapped)
            bad.append(value is None)
            margins.append(0.0 if value is None else value)
            if consistent is not None:
                self.stats.order_checked_pairs += 1
                self.stats.consistent_pairs += consistent
                self.stats.ties += value == 0
            texts.append(f"[chosen as A]\n{outputs[i][0]}\n\n[chosen as B]\n{outputs[n + i][0]}")
        self.stats.pairs += n
        self.stats.unparseable_pairs += sum(bad)
        return PairJudgement(margins, [(1 + m) / 2 for m in margins], [(1 - m) / 2 for m in margins], bad, texts)

    def compare(self, pairs: Sequence[PreferencePair]) -> list[float]:
        return self.compare_pairs(pairs).margins

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        raise ConfigError(f"judge:{self.options.kind} compares two responses and has no score for one alone; use "
                          "it with `rewardkit eval`, or a pointwise judge (judge:rubric, judge:reasoning) to score")


def backend_for(options: JudgeOptions) -> Generator:
    if options.backend == "openai":
        return make_backend("openai", options.model or None, base_url=options.base_url,
                            api_key_env=options.api_key_env, concurrency=options.concurrency,
                            timeout=options.timeout, max_retries=options.max_retries)
    return make_backend(options.backend, options.model, base_url=options.base_url, batch_size=options.batch_size)


def build_judge(options: JudgeOptions, backend: Generator | None = None) -> Judge:
    """The pairwise, reasoning-pairwise, rubric or reasoning judge `options` describe (cloud:
    rewardkit.models.cloud.build_cloud)."""
    if options.kind in PAIRWISE_KINDS:
        return PairwiseJudge(options, backend)
    if options.kind in ("rubric", "reasoning"):
        return PointwiseJudge(options, backend)
    raise ConfigError("a cloud judge is a trained LM with a head: rewardkit.models.cloud builds and loads it")
