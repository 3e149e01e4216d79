"""A faster forward for BERT-style sequence classifiers when only the first ([CLS]) token is pooled.

`transformers` runs an encoder on the padded [batch, longest] grid, so every projection and feed-forward also
runs on padding, and the last layer computes all tokens although the head reads one. This forward gives the
same logits (and gradients) with fewer FLOPs, using the model's own modules and weights:

- **packed tokens**: the projections, feed-forwards and layer norms run on the real tokens only, [tokens, H];
  only attention sees the padded grid (where the mask already excludes padding), via `scaled_dot_product_attention`;
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
        grid, hidden = _Grid(real, batch, width, additive), hidden[real]
        first = torch.searchsorted(real, first)  # each [CLS]'s row among the packed tokens
    else:
        grid = _Padded(batch, width, additive)
    layers = base.encoder.layer
    for layer in layers[:-1]:
        hidden = _layer(layer, hidden, hidden, grid, queries=None)
    pooled = _layer(layers[-1], hidden, hidden[first], grid, queries=batch)
    return _head(network, pooled)


class _Grid:
    """Moves packed [tokens, H] tensors onto the padded [B, heads, width, d] grid attention needs, and back."""

    def __init__(self, real: torch.Tensor, batch: int, width: int, additive: torch.Tensor):
        self.real, self.batch, self.width, self.additive = real, batch, width, additive

    def heads(self, packed: torch.Tensor, n_heads: int) -> torch.Tensor:
        grid = packed.new_zeros(self.batch * self.width, packed.shape[-1]).index_copy(0, self.real, packed)
        return grid.view(self.batch, self.width, n_heads, -1).transpose(1, 2)

    def tokens(self, context: torch.Tensor) -> torch.Tensor:
        """[B·width, H] grid rows → the packed rows of the real tokens."""
        return context[self.real]

    def attend(self, query, keys, values, scale: float, dropout: float) -> torch.Tensor:
        return F.scaled_dot_product_attention(query, keys, values, attn_mask=self.additive, dropout_p=dropout,
                                              scale=scale)


class _Padded(_Grid):
    """Every grid cell is a row (padding included); attention as plain MatMul → Softmax → MatMul. PyTorch's
    fused attention traces into extra IsNaN/Where operators over the scores, which a static graph would run."""

    def __init__(self, batch: int, width: int, additive: torch.Tensor):
        super().__init__(None, batch, width, additive)

    def heads(self, packed: torch.Tensor, n_heads: int) -> torch.Tensor:
        return packed.view(self.batch, self.width, n_heads, -1).transpose(1, 2)

    def tokens(self, context: torch.Tensor) -> torch.Tensor:
        return context

    def attend(self, query, keys, values, scale: float, dropout: float) -> torch.Tensor:
        weights = torch.softmax(torch.matmul(query, keys.transpose(-1, -2)) * scale + self.additive, dim=-1)
        return torch.matmul(F.dropout(weights, dropout), values)


def _layer(layer, hidden: torch.Tensor, query_input: torch.Tensor, grid: _Grid, queries: int | None):
    """One encoder layer on packed tokens. `queries=None`: every token; else `query_input` holds one row per
    sequence (its [CLS]) and only those rows come out."""
    attention = layer.attention.self
    n_heads = attention.num_attention_heads
    keys = grid.heads(attention.key(hidden), n_heads)
    values = grid.heads(attention.value(hidden), n_heads)
    if queries is None:
        query = grid.heads(attention.query(hidden), n_heads)
    else:
        query = attention.query(query_input).view(queries, 1, n_heads, -1).transpose(1, 2)
    dropout = attention.dropout.p if attention.training else 0.0
    context = grid.attend(query, keys, values, attention.scaling, dropout)
    context = context.transpose(1, 2).reshape(-1, n_heads * context.shape[-1])
    if queries is None:
        context = grid.tokens(context)
    attended = layer.attention.output(context, query_input)
    return layer.output(layer.intermediate(attended), attended)


def _head(network, first_token: torch.Tensor) -> torch.Tensor:
    if network.config.model_type in POOLER_HEADS:
        return network.classifier(network.dropout(network.base_model.pooler(first_token[:, None])))
    return network.classifier(first_token[:, None])
