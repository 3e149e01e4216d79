"""Training of the `multi` family (rewardkit.models.multi), ArmoRM's two stages on a frozen backbone:

1. **Attribute heads** (when the task is built): embeddings of the rated responses (`data`), computed once and
   cached on disk (models/embedding_cache.py), then one linear head per attribute, ridge in closed form
   (`heads=ridge`) or by gradient descent (`heads=gradient`); missing ratings are masked. Then each attribute
   is decorrelated from the verbosity attribute on the training responses (training/attribute_heads.py).
2. **Gate** (the shared loop's steps): the gating MLP on prompt embeddings, trained with Bradley-Terry on
   preference pairs (`pairs`) while the heads stay fixed:  −log σ(β·(Σ g(p)·v'(chosen) − Σ g(p)·v'(rejected))).

`finish` saves the model and OUT/multi_report.json: the decorrelation (λ, correlations before and after),
per-attribute Pearson on the held-out ratings, and held-out pair accuracy of the gate against each attribute
alone and the equal-weight mean.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from rewardkit.data.chat import Encoded
from rewardkit.data.loaders import LoadStats, load_rated, open_rows
from rewardkit.data.schemas import PreferencePair, RatedResponse
from rewardkit.errors import ConfigError, DataError
from rewardkit.models import multi
from rewardkit.models.defaults import resolve_backbone
from rewardkit.models.embedding_cache import EmbeddingCache, backbone_fingerprint, cache_key
from rewardkit.training import losses
from rewardkit.training.attribute_heads import decorrelation, gradient_heads, pearson, ridge_heads
from rewardkit.training.config import max_length_for
from rewardkit.training.pair_data import PairKeys, load_pair_splits, train_and_heldout

ROW_KEYS = {"prompt", "response", "subset", "id"}


@dataclass
class MultiObjectiveOptions(PairKeys):
    """Keys of the multi family's `armo` objective (pair keys read the `pairs` file)."""

    pairs: str = ""
    """Preference pairs for stage 2, the gate (required; `data` holds the attribute ratings)."""
    eval_pairs: str = ""
    """Held-out pairs (default: eval_fraction of `pairs`)."""
    attributes: list = dataclasses.field(default_factory=list)
    """Attribute names (empty: every numeric column of the first ratings row; UltraFeedback: its four)."""
    ratings_format: str = "auto"
    """helpsteer2 (one column per attribute) | ultrafeedback (completions with annotations) | auto."""
    heads: str = "ridge"
    """ridge (closed form, exact) | gradient (Adam on the same objective)."""
    ridge_alpha: float = 1.0
    """L2 penalty α of the heads."""
    head_steps: int = 500
    """Full-batch steps of heads=gradient."""
    pooling: str = "auto"
    """auto | mean | last | cls (rewardkit.models.multi)."""
    gate_hidden: int = 64
    """Width of the gating MLP's hidden layer."""
    temperature: float = 10.0
    """Gate softmax temperature (ArmoRM's 10)."""
    gate_learning_rate: float = 1e-3
    """Learning rate of the gate, used when the loop's head_learning_rate is left 0."""
    verbosity_attribute: str = "verbosity"
    """Attribute the others are decorrelated from ('' or absent: none)."""
    verbosity_target: float = 0.03
    """|corr(attribute, verbosity)| above which an attribute is decorrelated."""
    cache_dir: str = ""
    """Folder of the embedding cache ('' : $REWARDKIT_CACHE/embeddings or ~/.cache/rewardkit/embeddings)."""


def rating_attributes(path: str, given: Sequence[str], ratings_format: str) -> tuple[list[str], str]:
    """(attribute names, format) of a ratings file: `given`, or UltraFeedback's four, or the numeric columns
    of its first row."""
    from rewardkit.data.ultrafeedback import ULTRAFEEDBACK_ATTRIBUTES

    name, rows = open_rows(path)
    first = next(iter(rows()), None)
    if first is None:
        raise DataError("no rows", file=name)
    number, row = first
    if ratings_format == "auto":
        ratings_format = "ultrafeedback" if isinstance(row, dict) and "completions" in row else "helpsteer2"
    if ratings_format not in ("helpsteer2", "ultrafeedback"):
        raise ConfigError(f"ratings_format must be auto, helpsteer2 or ultrafeedback, got {ratings_format!r}")
    if given:
        return list(given), ratings_format
    if ratings_format == "ultrafeedback":
        return list(ULTRAFEEDBACK_ATTRIBUTES), ratings_format
    found = [k for k, v in row.items() if k not in ROW_KEYS and (v is None or isinstance(v, (int, float)))
             and not isinstance(v, bool)] if isinstance(row, dict) else []
    if not found:
        raise DataError("no numeric rating columns to take as attributes; pass attributes=a,b,...", file=name,
                        line=number)
    return found, ratings_format


def _loader(attributes: Sequence[str], ratings_format: str, on_bad_rows: str):
    from rewardkit.data.ultrafeedback import load_ultrafeedback

    if ratings_format == "ultrafeedback":
        return lambda source: load_ultrafeedback(source, attributes, on_bad_rows=on_bad_rows)
    return lambda source: load_rated(source, attributes, on_bad_rows=on_bad_rows)


class GateModule(nn.Module):
    """What stage 2 trains: the gate and the Bradley-Terry scale β = exp(log_scale), shared with the model."""

    def __init__(self, heads: multi.MultiHeads):
        super().__init__()
        self.gate = heads.gate
        self.log_scale = heads.log_scale

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        return self.gate(prompts)


def gated_margins(weights: torch.Tensor, chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Σ_a w_a·(v'_a(chosen) − v'_a(rejected)) per pair, shapes [P, A] → [P]."""
    return (weights * (chosen - rejected)).sum(-1)


def gate_loss(module: GateModule, prompts: torch.Tensor, chosen: torch.Tensor, rejected: torch.Tensor):
    """(−log σ(β · Σ_a g_a(p)·(v'_a(chosen) − v'_a(rejected))) averaged, {"accuracy"}), β = exp(log_scale)."""
    margins = gated_margins(module(prompts), chosen, rejected)
    loss = losses.bradley_terry(module.log_scale.exp() * margins, torch.zeros_like(margins))
    return loss, {"accuracy": (margins > 0).float().mean().detach()}


class MultiObjectiveTask:
    data_stats: LoadStats | None = None

    def __init__(self, model: multi.MultiObjectiveRewardModel, ratings: tuple[list, list],
                 pairs: tuple[list, list], options: MultiObjectiveOptions, backbone: str):
        self.model, self.options = model, options
        self.cache = EmbeddingCache(options.cache_dir or None)
        self.fingerprint = backbone_fingerprint(backbone)
        self.truncated = 0
        self.report: dict = {}
        self.fit_heads(*ratings)
        self.train_pairs = self.pair_tensors(pairs[0], count_truncated=True)
        self.eval_pairs = self.pair_tensors(pairs[1])
        self.module = GateModule(model.heads)

    # -- embeddings, cached ----------------------------------------------------------------------------
    def embeddings(self, encoded) -> torch.Tensor:
        key = cache_key(self.fingerprint, self.model.pooling, self.model.options.max_length,
                        [e.input_ids for e in encoded])
        return self.cache.get_or_compute(key, lambda: self.model.embed(encoded))

    def rated_embeddings(self, rows: Sequence[RatedResponse], count_truncated: bool = False) -> torch.Tensor:
        encoded = self.model.encoder.encode_many([r.sample() for r in rows])
        self.truncated += sum(e.truncated for e in encoded) if count_truncated else 0
        return self.embeddings(encoded)

    def pair_tensors(self, pairs: Sequence[PreferencePair], count_truncated: bool = False) -> dict:
        """Fixed attribute values of both sides [P, A] and prompt embeddings [P, d] of `pairs`."""
        if not pairs:
            return {}
        encoded = self.model.encoder.encode_many([s for p in pairs for s in p.samples()])
        self.truncated += sum(e.truncated for e in encoded) if count_truncated else 0
        prompts = [multi.prompt_part(e) for e in encoded[0::2]]
        distinct = list(dict.fromkeys(tuple(p.input_ids) for p in prompts))
        where = {ids: i for i, ids in enumerate(distinct)}
        prompt_rows = self.embeddings([Encoded(list(ids), len(ids), False) for ids in distinct])
        with torch.no_grad():
            values = self.model.heads.attribute_values(self.embeddings(encoded))
        return {"chosen": values[0::2], "rejected": values[1::2],
                "prompts": prompt_rows[[where[tuple(p.input_ids)] for p in prompts]]}

    # -- stage 1 ------------------------------------------------------------------------------------------
    def fit_heads(self, train: Sequence[RatedResponse], held: Sequence[RatedResponse]) -> None:
        attributes = self.model.attributes
        X = self.rated_embeddings(train, count_truncated=True)
        Y, M = rating_matrix(train, attributes)
        if self.options.heads == "ridge":
            W, b = ridge_heads(X, Y, M, self.options.ridge_alpha)
        elif self.options.heads == "gradient":
            W, b = gradient_heads(X, Y, M, self.options.ridge_alpha, self.options.head_steps)
        else:
            raise ConfigError(f"heads must be ridge or gradient, got {self.options.heads!r}")
        with torch.no_grad():
            self.model.heads.heads.weight.copy_(W)
            self.model.heads.heads.bias.copy_(b)
        self.decorrelate(X)
        if held:
            Xh = self.rated_embeddings(held)
            Yh, Mh = rating_matrix(held, attributes)
            self.report["heldout_ratings"] = attribute_correlations(self.predict(Xh), Yh, Mh, attributes)

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model.heads.attribute_values(X)

    def decorrelate(self, X: torch.Tensor) -> None:
        """λ per attribute on the training responses (the reference set), stored in the model's options."""
        options, attributes = self.model.options, self.model.attributes
        if options.verbosity_attribute not in attributes:
            options.decorrelation = {}
            return
        with torch.no_grad():
            raw = self.model.heads.heads(X)
        verbosity = raw[:, attributes.index(options.verbosity_attribute)]
        options.decorrelation = {a: decorrelation(raw[:, i], verbosity, options.verbosity_target)
                                 for i, a in enumerate(attributes) if a != options.verbosity_attribute}
        self.model.apply_decorrelation()
        self.report["decorrelation"] = options.decorrelation

    # -- stage 2: the loop's task -------------------------------------------------------------------------
    def lengths(self) -> list[int]:
        return [1] * len(self.train_pairs["prompts"])

    def loss(self, module, indices):
        index = torch.as_tensor(list(indices))
        data = self.train_pairs
        return gate_loss(module, data["prompts"][index], data["chosen"][index], data["rejected"][index])

    def evaluate(self) -> dict[str, float]:
        if not self.eval_pairs:
            return {}
        with torch.no_grad():
            margins = gated_margins(self.module(self.eval_pairs["prompts"]), self.eval_pairs["chosen"],
                                    self.eval_pairs["rejected"])
        return {"eval_accuracy": float((margins > 0).float().mean()), "eval_pairs": len(margins)}

    def finish(self, out_dir) -> None:
        from rewardkit.atomic import atomic_file

        if self.eval_pairs:
            self.report["heldout_pairs"] = baseline_accuracies(self.module, self.eval_pairs, self.model.attributes)
        self.report["embedding_cache"] = {"folder": str(self.cache.folder), "hits": self.cache.hits,
                                          "misses": self.cache.misses}
        self.model.save(out_dir / "model")
        with atomic_file(out_dir / "multi_report.json") as handle:
            json.dump(self.report, handle, indent=2)


def rating_matrix(rows: Sequence[RatedResponse], attributes: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ratings [N, A] with 0 where missing, mask [N, A])."""
    values = [[r.ratings.get(a) for a in attributes] for r in rows]
    mask = torch.tensor([[v is not None for v in row] for row in values], dtype=torch.float32)
    return torch.tensor([[v or 0.0 for v in row] for row in values], dtype=torch.float32), mask


def attribute_correlations(predicted: torch.Tensor, Y: torch.Tensor, M: torch.Tensor,
                           attributes: Sequence[str]) -> dict[str, dict]:
    """Per attribute, Pearson of prediction and rating over the rated rows, and how many."""
    out = {}
    for i, name in enumerate(attributes):
        rows = M[:, i] > 0
        out[name] = {"pearson": pearson(predicted[rows, i], Y[rows, i]) if rows.sum() > 1 else None,
                     "n": int(rows.sum())}
    return out


def baseline_accuracies(module: GateModule, pairs: dict, attributes: Sequence[str]) -> dict[str, float]:
    """Held-out pair accuracy of the gate, of the equal-weight mean, and of each attribute alone."""
    difference = pairs["chosen"] - pairs["rejected"]
    with torch.no_grad():
        gated = gated_margins(module(pairs["prompts"]), pairs["chosen"], pairs["rejected"])
    out = {"gated": float((gated > 0).float().mean()), "equal_weight": float((difference.mean(-1) > 0).float().mean())}
    out.update({f"only_{a}": float((difference[:, i] > 0).float().mean()) for i, a in enumerate(attributes)})
    return out


def build_multi_task(config, options: MultiObjectiveOptions) -> MultiObjectiveTask:
    """Stage 1 now (heads fitted on `config.data`'s ratings), stage 2 as the loop's task on `options.pairs`."""
    if not options.pairs:
        raise ConfigError("the multi family trains its gate on preference pairs: pass pairs=FILE (or --pairs)")
    attributes, ratings_format = rating_attributes(config.data, options.attributes, options.ratings_format)
    ratings_train, ratings_held, rating_stats = train_and_heldout(
        config.data, config.eval_data, config.eval_fraction, config.seed,
        _loader(attributes, ratings_format, options.on_bad_rows))
    pair_config = dataclasses.replace(config, data=options.pairs, eval_data=options.eval_pairs)
    pairs_train, pairs_held, pair_stats = load_pair_splits(pair_config, options)
    backbone = resolve_backbone(config.backbone)
    model = multi.build(backbone, attributes=attributes, max_length=max_length_for(config, backbone), seed=config.seed,
                        pooling=options.pooling, gate_hidden=options.gate_hidden, temperature=options.temperature,
                        verbosity_attribute=options.verbosity_attribute, verbosity_target=options.verbosity_target)
    if not config.head_learning_rate:
        config.head_learning_rate = options.gate_learning_rate
    task = MultiObjectiveTask(model, (ratings_train, ratings_held), (pairs_train, pairs_held), options, backbone)
    task.data_stats = rating_stats + pair_stats
    return task
