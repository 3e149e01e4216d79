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

from rewardkit.models.precision import full_precision
from rewardkit.models.row_gather import gather_rows, inverse_index

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


PACKED_ROWS_MULTIPLE = 32
"""The packed rows are padded with zero rows (which no attention reads and no output uses) up to a multiple of 32.
With the exact real-token count, every batch allocated tensors of a new size and glibc kept the freed memory:
scoring 120k rows with a tiny BERT grew RSS from 481 to 553 MB; padded to 32, it stayed at 417 MB, at the same
speed (≤ 31 extra rows on ~1,500)."""

GROUP_SIZE = 8
"""Sequences per attention grid. Attention costs rows × width² on a grid padded to its longest row; sequences
sorted by length in groups of 8 cut that to 0.43 of one grid for the whole batch (32 random-length pairs'
texts, MiniLM training), for a few more, smaller calls."""


class _LengthGroups:
    """Attention for packed [tokens, H] projections: the batch's sequences sorted by length and cut into groups
    of GROUP_SIZE, each group on its own padded [group, heads, longest, d] grid (its mask excludes the padding).
    The grids lie one after another in one [cells, H] buffer, filled from the packed rows and read back with
    row gathers (models/row_gather.py); padding cells hold a copy of row 0, which the mask hides."""

    def __init__(self, mask: torch.Tensor, real: torch.Tensor, additive: torch.Tensor):
        self.spare = -len(real) % PACKED_ROWS_MULTIPLE  # rows after the packed tokens, which no attention reads
        n_rows = len(real) + self.spare
        batch, width = mask.shape
        positions = torch.arange(1, width + 1, device=mask.device)
        extent = (mask * positions).amax(dim=1)  # one past each sequence's last real token
        self.by_length = torch.argsort(extent, stable=True)
        self.sequence_order = torch.argsort(self.by_length)
        sorted_extent = extent[self.by_length].tolist()  # one read on the host for every group's width
        self.groups, cell_rows, live = [], [], []
        for start, members in zip(range(0, batch, GROUP_SIZE), self.by_length.split(GROUP_SIZE)):
            longest = sorted_extent[start + len(members) - 1]
            group_mask = mask[members, :longest].flatten()
            grid_cells = (members[:, None] * width + positions[:longest] - 1).flatten()
            rows = torch.searchsorted(real, grid_cells).clamp(max=len(real) - 1)  # each real cell's packed row
            cell_rows.append(torch.where(group_mask, rows, 0))
            live.append(group_mask)
            self.groups.append((len(members), longest, additive[members, :, :, :longest]))
        self.cell_rows, live = torch.cat(cell_rows), torch.cat(live)  # packed row shown in each grid cell
        self.row_cells = inverse_index(self.cell_rows, live, n_rows)  # grid cell of each packed row
        self.out_index = torch.where(self.row_cells < len(live), self.row_cells, 0)
        self.out_inverse = torch.where(live, self.cell_rows, n_rows)

    def attend(self, query, keys, values, n_heads: int, scale: float, dropout: float,
               first_only: bool) -> torch.Tensor:
        """Context rows: one per packed token, or per sequence (`first_only`: `query` holds one row each)."""
        sizes = [size for size, _, _ in self.groups]
        cells = [size * longest for size, longest, _ in self.groups]
        if first_only:
            queries = gather_rows(query, self.by_length, self.sequence_order).split(sizes)
        else:
            queries = gather_rows(query, self.cell_rows, self.row_cells).split(cells)
        keys = gather_rows(keys, self.cell_rows, self.row_cells).split(cells)
        values = gather_rows(values, self.cell_rows, self.row_cells).split(cells)
        outputs = []
        for (size, longest, additive), q, k, v in zip(self.groups, queries, keys, values):
            def grid(rows, width):
                return rows.view(size, width, n_heads, -1).transpose(1, 2)

            context = F.scaled_dot_product_attention(grid(q, 1 if first_only else longest), grid(k, longest),
                                                     grid(v, longest), attn_mask=additive, dropout_p=dropout,
                                                     scale=scale)
            outputs.append(context.transpose(1, 2).reshape(-1, query.shape[-1]))
        if first_only:
            return gather_rows(torch.cat(outputs), self.sequence_order, self.by_length)
        return gather_rows(torch.cat(outputs), self.out_index, self.out_inverse)


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
