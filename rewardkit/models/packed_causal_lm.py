"""Response-token log-probabilities of a Llama-family causal LM (Llama, Qwen2, Mistral; SmolLM2 is a Llama), and
final hidden states of its decoder at chosen tokens, with the packed forward of models/packed_decoder.py: real
tokens only, attention per sequence, a shared prefix (a pair's prompt before its two responses) computed once.

The plain forward also runs the LM head over every position of the padded grid and keeps the few it needs. The
head is large (SmolLM2-135M: 576 × 49,152, a fifth of the model's multiply-adds per token), so here the final
norm and head run only on the positions that predict a response token, a chunk of rows at a time so the
[rows, vocabulary] logits never grow with the batch. The values equal `logprobs.next_token_logprobs` of the plain
forward on the same columns (tests/models/test_packed_causal_lm.py).
"""

from __future__ import annotations

import torch

from rewardkit.models.packed_decoder import PackedSequences, decoder_layer, llama_family

LOGIT_CHUNK_ROWS = 256
"""Rows per LM-head call: 256 × 49,152 fp32 logits are 50 MB, whatever the batch."""


def packable_causal_lm(network) -> bool:
    """True when `network` is a Llama-family causal LM (an `lm_head`, no logit scaling) this forward reproduces."""
    if getattr(network.config, "final_logit_softcapping", None) or getattr(network.config, "logit_scale", None):
        return False
    return hasattr(network, "lm_head") and llama_family(network)


def unwrapped(network):
    """The transformers model inside a peft wrapper (its LoRA layers sit in that model's modules), or `network`."""
    return network.get_base_model() if hasattr(network, "get_base_model") else network


def packed_response_logprobs(network, input_ids: torch.Tensor, attention_mask: torch.Tensor, firsts: list[int],
                             shared: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Per row b of a padded batch (either side; attended tokens contiguous, length L_b): the log-probability of
    each of its tokens firsts[b] + 1 … L_b − 1 given the tokens before it, i.e. columns firsts[b] … L_b − 2 of
    `next_token_logprobs` (float32); differentiable (DPO training runs it). `shared` as in
    `packed_decoder_logits`."""
    packed, hidden = decoded(network, input_ids, attention_mask, shared)
    return logprobs_from(network, packed, hidden, input_ids, attention_mask, firsts)


def packed_final_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: list[list[int]],
                        shared: torch.Tensor | None = None) -> torch.Tensor:
    """[B, k, H]: the decoder's final hidden state (after its last norm, as `last_hidden_state`) of row b at each
    of its tokens `positions[b]` (k per row, counted among the row's attended tokens). `model`: a Llama-family
    decoder (`AutoModel`) or causal LM; `shared` as in `packed_decoder_logits`."""
    packed, hidden = decoded(model, input_ids, attention_mask, shared)
    return states_from(model, packed, hidden, positions)


def decoded(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, shared: torch.Tensor | None
            ) -> tuple[PackedSequences, torch.Tensor]:
    """The batch packed, and every packed row's hidden state after the last decoder layer (before the final norm)."""
    packed = PackedSequences(model.base_model, input_ids, attention_mask, shared)
    hidden = packed.hidden
    for layer in packed.layers(model.config):
        hidden = decoder_layer(layer, hidden, hidden, packed, last=None)
    return packed, hidden


def logprobs_from(network, packed: PackedSequences, hidden: torch.Tensor, input_ids: torch.Tensor,
                  attention_mask: torch.Tensor, firsts: list[int]) -> list[torch.Tensor]:
    """`packed_response_logprobs` from a `decoded` pass: final norm and LM head on the predicting rows only, in
    chunks of LOGIT_CHUNK_ROWS."""
    tokens = input_ids[attention_mask.bool()].split(attention_mask.sum(dim=1).tolist())
    spans = [range(first, len(rows) - 1) for first, rows in zip(firsts, packed.sequence_rows)]
    rows = torch.cat([rows[span.start: span.stop] for rows, span in zip(packed.sequence_rows, spans)])
    targets = torch.cat([ids[span.start + 1: span.stop + 1] for ids, span in zip(tokens, spans)])
    values = []
    for start in range(0, len(rows), LOGIT_CHUNK_ROWS):
        chunk = slice(start, start + LOGIT_CHUNK_ROWS)
        logits = network.lm_head(network.base_model.norm(hidden[rows[chunk]])).float()
        values.append(logits.gather(-1, targets[chunk, None]).squeeze(-1) - torch.logsumexp(logits, dim=-1))
    values = torch.cat(values) if values else hidden.new_zeros(0, dtype=torch.float32)
    return list(values.split([len(span) for span in spans]))


def states_from(model, packed: PackedSequences, hidden: torch.Tensor, positions: list[list[int]]) -> torch.Tensor:
    """`packed_final_states` from a `decoded` pass: the final norm on the wanted rows only."""
    rows = torch.stack([sequence[torch.tensor(wanted, dtype=torch.long, device=sequence.device)]
                        for sequence, wanted in zip(packed.sequence_rows, positions)])
    return model.base_model.norm(hidden[rows.flatten()]).view(*rows.shape, hidden.shape[-1])
