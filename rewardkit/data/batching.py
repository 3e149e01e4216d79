"""Batching: shuffled training batches, length-sorted inference batches, padding."""

from __future__ import annotations

import random
from typing import Sequence


def length_sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), for inference: at most `batch_size`
    sequences, and at most `max_tokens` padded tokens (rows × the batch's longest) when given. A sequence longer
    than `max_tokens` gets a batch of its own.

    >>> length_sorted_batches([5, 1, 9, 2], 2)
    [[2, 0], [3, 1]]
    >>> length_sorted_batches([5, 1, 9, 2], 4, max_tokens=10)
    [[2], [0, 3], [1]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch is None or len(batch) == batch_size or \
                (max_tokens is not None and lengths[batch[0]] * (len(batch) + 1) > max_tokens):
            batches.append([i])
        else:
            batch.append(i)
    return batches


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading items `a` and `b` have in common.

    >>> common_prefix([1, 2, 3], [1, 2, 4, 5])
    2
    """
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def prefix_sharing_batches(sequences: Sequence[Sequence[int]], batch_size: int) -> list[tuple[list[int], list[int]]]:
    """Inference batches for a causal model that computes a shared prefix once (models/packed_decoder.py):
    sequences sorted by their tokens, so that those beginning alike (a pair's two responses after one prompt,
    Best-of-N's candidates) are neighbours, cut into batches of `batch_size`. Each batch comes with, per member,
    the tokens it shares with the member before it (0 for the first).

    >>> prefix_sharing_batches([[1, 2, 3], [7], [1, 2, 9, 9]], 2)
    [([0, 2], [0, 2]), ([1], [0])]
    """
    order = sorted(range(len(sequences)), key=lambda i: list(sequences[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        members = order[start : start + batch_size]
        batches.append((members, neighbour_prefixes([sequences[i] for i in members])))
    return batches


def neighbour_prefixes(sequences: Sequence[Sequence[int]]) -> list[int]:
    """Per sequence, the leading items it has in common with the one before it (0 for the first): what a packed
    causal forward computes once (models/packed_decoder.py).

    >>> neighbour_prefixes([[1, 2, 3], [1, 2, 9], [5]])
    [0, 2, 0]
    """
    return [0] + [common_prefix(a, b) for a, b in zip(sequences, sequences[1:])]


def inference_batches(sequences: Sequence[Sequence[int]], batch_size: int,
                      share_prefixes: bool) -> list[tuple[list[int], list[int] | None]]:
    """(indices, shared prefixes) per forward: `prefix_sharing_batches` for a packed causal forward, else
    `length_sorted_batches` with None.

    >>> inference_batches([[1, 2, 3], [7], [1, 2, 9, 9]], 2, share_prefixes=False)
    [([2, 0], None), ([1], None)]
    """
    if share_prefixes:
        return prefix_sharing_batches(sequences, batch_size)
    return [(index, None) for index in length_sorted_batches([len(s) for s in sequences], batch_size)]


def shuffled_batches(n: int, batch_size: int, seed: int) -> list[list[int]]:
    """Training batches: a seeded shuffle of range(n) cut into batches (the last may be smaller).

    Not length-bucketed: encoders run packed (models/packed_encoder.py), so padding costs little, and where
    length predicts the kind of example, batches of one length would be batches of one kind.

    >>> shuffled_batches(5, 2, seed=0)
    [[2, 1], [0, 4], [3]]
    """
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def pad_batch(
    sequences: Sequence[Sequence[int]],
    pad_id: int,
    padding_side: str = "right",
    token_types: Sequence[Sequence[int] | None] | None = None,
):
    """Pad to the longest sequence. Returns a dict of LongTensors: input_ids, attention_mask[, token_type_ids]."""
    import torch

    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    types = torch.zeros((len(sequences), width), dtype=torch.long) if token_types and token_types[0] else None
    for row, seq in enumerate(sequences):
        cols = slice(0, len(seq)) if padding_side == "right" else slice(width - len(seq), width)
        ids[row, cols] = torch.tensor(seq, dtype=torch.long)
        mask[row, cols] = 1
        if types is not None:
            types[row, cols] = torch.tensor(token_types[row], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return batch
