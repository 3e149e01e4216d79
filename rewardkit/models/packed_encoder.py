"""A faster forward for BERT-style sequence classifiers when only the first ([CLS]) token is pooled.

`transformers` runs an encoder on the padded [batch, longest] grid, so every projection and feed-forward also
runs on padding, and the last layer computes all tokens although the head reads one. This forward gives the
same logits (and gradients) with fewer FLOPs, using the model's own modules and weights:

- **packed tokens**: the projections, feed-forwards and layer norms run on the real tokens only, [tokens, H];
  only attention sees padded grids (where the mask excludes the padding), one per group of sequences of similar
  length, via `scaled_dot_product_attention`;
- **[CLS]-only last layer**: keys and values for every token, the query, attention output and feed-forward for
  the [CLS] token alone (the head reads nothing else).

For a batch of random lengths the padded grid is often twice the real tokens, and the last layer is 1/L of an
L-layer model; both savings add up in training and scoring. `pack=False` keeps only the second (for static
graphs: ONNX export). Supported: BERT and RoBERTa-family classifiers with absolute positions (`packable`);
other networks run their own forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rewardkit.models.grouped_grids import PACKED_ROWS_MULTIPLE, GroupedGrids
from rewardkit.models.precision import full_precision

POOLER_HEADS = ("bert",)
"""Model types whose classifier reads the pooler output (dense + tanh of [CLS])."""
FIRST_TOKEN_HEADS = ("roberta", "xlm-roberta", "camembert")
"""Model types whose classification head takes the first token of the sequence output itself."""


def packable(network) -> bool:
    """True when `network` is a BERT/RoBERTa-style sequence classifier this forward reproduces exactly."""
    config = network.config
    if config.model_type not in POOLER_HEADS + FIRST_TOKEN_HEADS or config.is_decoder:
        return False
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return False
    if config.model_type in POOLER_HEADS and getattr(network.base_model, "pooler", None) is None:
        return False
    return hasattr(network, "classifier") and getattr(config, "chunk_size_feed_forward", 0) == 0


def packed_logits(network, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  token_type_ids: torch.Tensor | None = None, *, pack: bool = True) -> torch.Tensor:
    """Classifier logits [B, num_labels] of a right-padded batch; equal to `network(...).logits`.

    `pack=False` keeps every grid cell (padding included) and only skips the last layer's unread tokens: no
    data-dependent shapes and plain MatMul/Softmax attention, which a static graph (ONNX export) can hold.
    """
    base = network.base_model
    mask = attention_mask.bool()
    embedded = base.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
    batch, width = mask.shape
    first = torch.arange(batch, device=mask.device) * width  # grid cell of each [CLS]
    additive = torch.zeros(mask.shape, dtype=embedded.dtype, device=mask.device)
    additive = additive.masked_fill(~mask, torch.finfo(embedded.dtype).min)[:, None, None, :]
    hidden = embedded.reshape(batch * width, -1)
    if pack:
        real = mask.flatten().nonzero().squeeze(-1)  # grid cell of each real token
        attention = _LengthGroups(mask, real, additive)
        hidden = F.pad(hidden[real], (0, 0, 0, attention.spare))
        first = torch.searchsorted(real, first)  # each [CLS]'s row among the packed tokens
    else:
        attention = _Padded(batch, width, additive)
    layers = base.encoder.layer
    for layer in layers[:-1]:
        hidden = _layer(layer, hidden, hidden, attention, first_only=False)
    pooled = _layer(layers[-1], hidden, hidden[first], attention, first_only=True)
    return _head(network, pooled)


class _LengthGroups:
    """Attention for packed [tokens, H] projections on length-sorted group grids (models/grouped_grids.py), each
    grid's padding excluded by the model's additive mask; padding cells show row 0."""

    def __init__(self, mask: torch.Tensor, real: torch.Tensor, additive: torch.Tensor):
        self.spare = -len(real) % PACKED_ROWS_MULTIPLE  # rows after the packed tokens, which no attention reads
        batch, width = mask.shape
        positions = torch.arange(1, width + 1, device=mask.device)
        extent = (mask * positions).amax(dim=1)  # one past each sequence's last real token

        def group_cells(members, longest):
            live = mask[members, :longest].flatten()
            grid_cells = (members[:, None] * width + positions[:longest] - 1).flatten()
            rows = torch.searchsorted(real, grid_cells).clamp(max=len(real) - 1)  # each real cell's packed row
            return torch.where(live, rows, 0), live, live

        self.grids = GroupedGrids(extent, group_cells, len(real) + self.spare)
        self.masks = [additive[members, :, :, :longest] for members, longest, _ in self.grids.groups]

    def attend(self, query, keys, values, n_heads: int, scale: float, dropout: float,
               first_only: bool) -> torch.Tensor:
        """Context rows: one per packed token, or per sequence (`first_only`: `query` holds one row each)."""
        grids = self.grids.lay_out(query, keys, values, (n_heads, n_heads), first_only)
        contexts = [F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, scale=scale)
                    for (q, k, v), mask in zip(grids, self.masks)]
        return self.grids.read_back(contexts, first_only)


class _Padded:
    """One grid for the whole batch, every cell a row (padding included); attention as plain MatMul → Softmax →
    MatMul. PyTorch's fused attention traces into extra IsNaN/Where operators over the scores, which a static
    graph would run."""

    def __init__(self, batch: int, width: int, additive: torch.Tensor):
        self.batch, self.width, self.additive = batch, width, additive

    def attend(self, query, keys, values, n_heads: int, scale: float, dropout: float,
               first_only: bool) -> torch.Tensor:
        def grid(rows, width):
            return rows.view(self.batch, width, n_heads, -1).transpose(1, 2)

        q = grid(query, 1 if first_only else self.width)
        weights = torch.softmax(torch.matmul(q, grid(keys, self.width).transpose(-1, -2)) * scale + self.additive,
                                dim=-1)
        context = torch.matmul(F.dropout(weights, dropout), grid(values, self.width))
        return context.transpose(1, 2).reshape(-1, query.shape[-1])


def _layer(layer, hidden: torch.Tensor, query_input: torch.Tensor, attention, first_only: bool):
    """One encoder layer on packed tokens. `first_only`: `query_input` holds one row per sequence (its [CLS]) and
    only those rows come out."""
    module = layer.attention.self
    dropout = module.dropout.p if module.training else 0.0
    context = attention.attend(module.query(query_input), module.key(hidden), module.value(hidden),
                               module.num_attention_heads, module.scaling, dropout, first_only)
    attended = layer.attention.output(context, query_input)
    return layer.output(layer.intermediate(attended), attended)


def _head(network, first_token: torch.Tensor) -> torch.Tensor:
    """Pooler (BERT) and classifier, in fp32 under a bf16 autocast (models/precision.py)."""
    if network.config.model_type in POOLER_HEADS:
        return full_precision(first_token[:, None], network.base_model.pooler, network.dropout, network.classifier)
    return full_precision(first_token[:, None], network.classifier)
