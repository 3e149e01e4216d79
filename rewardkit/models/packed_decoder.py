"""A padding-free forward for Llama-family sequence classifiers (Llama, Qwen2, Mistral; SmolLM2 is a Llama).

`transformers` runs a decoder on the padded [batch, longest] grid, and its classifier scores every position
before keeping one. This forward gives the same logits (and gradients) with fewer FLOPs, using the model's own
modules and weights (so LoRA-wrapped projections work as they are):

- **packed tokens**: embeddings, projections, MLPs and RMS norms run on the real tokens only, [tokens, H];
  rotary positions restart at 0 for every sequence, whichever side it was padded on;
- **attention per sequence**: sequences sorted by length in groups of GROUP_SIZE, each group on its own causal
  grid padded to its longest member, through `scaled_dot_product_attention`. Grouped-query attention keeps its
  fewer key/value heads (`enable_gqa`); a sliding window, where the model has one, masks what it hides;
- **shared prefixes computed once** (`shared`): a sequence that begins with the same tokens as the one before it
  in the batch (a pair's chosen and rejected response after one prompt, Best-of-N's candidates) reuses that
  sequence's packed rows for those tokens, and attends to them as keys; causal attention makes their states the
  same in both, so the logits are unchanged and their gradients add up as in the two copies;
- **last token only in the last layer**: the head reads one token per sequence, so the last layer computes keys
  and values for every token, and query, attention output, MLP, final norm and head for that token alone.

Pooling is rewardkit's (models/scalar.py): the last *attended* token, found from the mask. Plain `transformers`
takes the last token that is not the pad id; the two agree except where a sequence ends with the pad id (pad ==
eos tokenisers and a sample ending in eos), where `transformers` would read the token before that eos.

Left out (they run their own forward): Gemma (scaled embeddings, (1 + w) norms), Qwen3 (query/key norms), GPT-2
(learned positions), and static graphs (ONNX export), which cannot hold the data-dependent shapes.

`PackedSequences` (the packed rows, positions and attention grids of a batch) and `decoder_layer` are also what
the other decoder readers run: LM log-probabilities and hidden states at chosen tokens (models/packed_causal_lm.py).
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from rewardkit.models.grouped_grids import PACKED_ROWS_MULTIPLE, GroupedGrids
from rewardkit.models.precision import full_precision

DECODER_TYPES = ("llama", "qwen2", "mistral")
"""Model types whose decoder layer is exactly: RMSNorm → rotary self-attention (q/k/v/o projections) → residual →
RMSNorm → MLP → residual, with unscaled token embeddings and a final RMSNorm."""


def packable_decoder(network) -> bool:
    """True when `network` is a Llama-family sequence classifier (a `score` head) this forward reproduces."""
    return hasattr(network, "score") and llama_family(network)


def llama_family(network) -> bool:
    """True when `network`'s base model is one of DECODER_TYPES with the modules the packed forward runs."""
    if network.config.model_type not in DECODER_TYPES:
        return False
    base = network.base_model
    if not all(hasattr(base, name) for name in ("embed_tokens", "layers", "norm", "rotary_emb")):
        return False
    parts = ("q_proj", "k_proj", "v_proj", "o_proj")
    return all(all(hasattr(layer.self_attn, p) for p in parts) and hasattr(layer, "mlp") for layer in base.layers)


def packed_decoder_logits(network, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                          shared: torch.Tensor | None = None) -> torch.Tensor:
    """Score-head logits [B, num_labels] of a padded batch (either side; each row's attended tokens contiguous),
    read at each row's last attended token; equal to rewardkit's unpacked decoder forward.

    `shared[b]`: how many leading attended tokens row b has in common with row b − 1 (0 for none; `shared[0]`
    is ignored). Those tokens are computed once, in row b − 1 (data/batching.prefix_sharing_batches finds them)."""
    packed = PackedSequences(network.base_model, input_ids, attention_mask, shared)
    last = torch.stack([rows[-1] for rows in packed.sequence_rows])  # packed row of each sequence's last token
    layers = packed.layers(network.config)
    hidden = packed.hidden
    for layer in layers[:-1]:
        hidden = decoder_layer(layer, hidden, hidden, packed, last=None)
    pooled = decoder_layer(layers[-1], hidden, hidden[last], packed, last=last)
    return full_precision(pooled, network.base_model.norm, network.score)


class PackedSequences:
    """A padded batch's attended tokens as packed rows, ready for decoder layers: `hidden` [rows, H] holds their
    embeddings (a shared prefix once; zero rows after them up to PACKED_ROWS_MULTIPLE), `sequence_rows[b]` the
    packed row of each of sequence b's tokens in order, `rotary` the (cos, sin) of each row's position (restarting
    at 0 for every sequence), `groups` the attention grids (_CausalGroups)."""

    def __init__(self, base, input_ids: torch.Tensor, attention_mask: torch.Tensor, shared: torch.Tensor | None):
        self.base = base
        mask = attention_mask.bool()
        lengths = mask.sum(dim=1)
        real = mask.flatten().nonzero().squeeze(-1)  # grid cell of each real token, row by row
        self.sequence_rows, reused, own = _sequence_rows(lengths, shared)
        positions = torch.cat([torch.arange(len(rows), device=mask.device) for rows in self.sequence_rows])
        kept = real if own is None else real[own]
        spare = -len(kept) % PACKED_ROWS_MULTIPLE  # rows after the packed tokens, read by no attention
        self.hidden = F.pad(base.embed_tokens(input_ids.flatten()[kept]), (0, 0, 0, spare))
        positions = F.pad(positions if own is None else positions[own], (0, spare))
        cos, sin = base.rotary_emb(self.hidden, positions[None])
        self.rotary = (cos[0], sin[0])
        self.groups = _CausalGroups(lengths, self.sequence_rows, reused, len(self.hidden))

    def layers(self, config):
        return self.base.layers[: config.num_hidden_layers]


def _sequence_rows(lengths: torch.Tensor, shared: torch.Tensor | None):
    """Each sequence's packed rows in token order; how many of its first tokens it reuses from the sequence
    before it ([B]); and which real tokens (row by row) get a packed row of their own (None: all). Without
    sharing, sequence b owns rows start_b … start_b + length_b − 1."""
    starts = (lengths.cumsum(0) - lengths).tolist()
    sizes = lengths.tolist()
    if shared is None or not shared[1:].any():
        rows = [torch.arange(start, start + size, device=lengths.device) for start, size in zip(starts, sizes)]
        return rows, torch.zeros_like(lengths), None
    reused = [0] + [min(int(n), size, previous) for n, size, previous in zip(shared[1:].tolist(), sizes[1:], sizes)]
    sequence_rows, own, next_row = [], [], 0
    for size, n in zip(sizes, reused):
        fresh = torch.arange(next_row, next_row + size - n, device=lengths.device)
        sequence_rows.append(torch.cat([sequence_rows[-1][:n], fresh]) if n else fresh)
        own.append(torch.arange(size, device=lengths.device) >= n)
        next_row += size - n
    return sequence_rows, torch.tensor(reused, device=lengths.device), torch.cat(own)


class _CausalGroups:
    """Attention for packed [tokens, heads·d] projections on length-sorted causal group grids
    (models/grouped_grids.py): sequence b's token c at grid column c, read from packed row `sequence_rows[b][c]`.
    Keys and values are live in every real cell (a shared row in each sequence that shares it); queries only in
    the cells of the rows a sequence owns (not those it shares with the sequence before it), so each packed row
    comes out once. Padding cells show row 0, which no real query sees."""

    def __init__(self, lengths: torch.Tensor, sequence_rows: list[torch.Tensor], reused: torch.Tensor,
                 n_rows: int):
        def group_cells(members, longest):
            columns = torch.arange(longest, device=lengths.device)
            real = columns < lengths[members, None]  # [group, longest]
            rows = torch.zeros((len(members), longest), dtype=torch.long, device=lengths.device)
            rows[real] = torch.cat([sequence_rows[m] for m in members.tolist()])
            return rows.flatten(), real.flatten(), (real & (columns >= reused[members, None])).flatten()

        self.grids = GroupedGrids(lengths, group_cells, n_rows)

    def attend(self, query, keys, values, heads: tuple[int, int], scale: float, dropout: float,
               window: int | None, last_only: bool) -> torch.Tensor:
        """Context rows [rows, heads·d]: one per packed token, or per sequence (`last_only`: `query` holds each
        sequence's last token, which attends to its whole sequence)."""
        contexts = []
        for (q, k, v), (_, longest, real) in zip(self.grids.lay_out(query, keys, values, heads, last_only),
                                                 self.grids.groups):
            mask = _mask(real, longest, window, last_only)
            contexts.append(F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=mask is None, scale=scale,
                enable_gqa=heads[1] != heads[0]))
        return self.grids.read_back(contexts, last_only)


def _mask(group_mask: torch.Tensor, longest: int, window: int | None, last_only: bool) -> torch.Tensor | None:
    """Boolean attention mask (True: attend) for one group, or None for the plain causal grid.

    Every real query of a left-aligned causal grid sees real keys only, so full-attention layers need no mask;
    padding queries read zero keys and are dropped. A last-token query needs its sequence's keys (and no more);
    a sliding window keeps key j for query i when i − j < window, as `transformers` does."""
    windowed = window is not None and longest > window
    columns = torch.arange(longest, device=group_mask.device)
    if last_only:
        keep = group_mask[:, None, None, :]
        if windowed:
            ends = group_mask.sum(dim=1) - 1
            keep = keep & (ends[:, None] - columns < window)[:, None, None, :]
        return keep
    if not windowed:
        return None
    offset = columns[:, None] - columns[None, :]
    return (offset >= 0) & (offset < window)


def decoder_layer(layer, hidden: torch.Tensor, query_input: torch.Tensor, packed: PackedSequences,
                  last: torch.Tensor | None) -> torch.Tensor:
    """One decoder layer on packed tokens. With `last` (each sequence's last packed row), `query_input` holds
    those rows only and only they come out."""
    attention = layer.self_attn
    config = attention.config
    heads = (config.num_attention_heads, config.num_key_value_heads)
    normed = layer.input_layernorm(hidden)
    keys = attention.k_proj(normed).view(len(normed), heads[1], -1)
    apply_rotary = sys.modules[type(attention).__module__].apply_rotary_pos_emb
    cos, sin = packed.rotary
    if last is None:
        query = attention.q_proj(normed).view(len(normed), heads[0], -1)
        query, keys = apply_rotary(query, keys, cos, sin)
    else:  # the model's rotation takes a query and a key of the same rows: the last rows' query goes alone
        query = attention.q_proj(normed[last]).view(len(last), heads[0], -1)
        query = apply_rotary(query, query, cos[last], sin[last])[0]
        keys = apply_rotary(keys, keys, cos, sin)[0]
    values = attention.v_proj(normed)
    dropout = attention.attention_dropout if attention.training else 0.0
    window = getattr(attention, "sliding_window", getattr(config, "sliding_window", None))
    context = packed.groups.attend(query.flatten(1), keys.flatten(1), values, heads, attention.scaling, dropout,
                                   window, last_only=last is not None)
    attended = query_input + attention.o_proj(context)
    return attended + layer.mlp(layer.post_attention_layernorm(attended))
