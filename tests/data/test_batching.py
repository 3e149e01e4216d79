"""Inference batches: longest first, at most batch_size rows and, when given, at most max_tokens padded tokens."""

import random

from rewardkit.data.batching import length_sorted_batches


def test_batches_cover_every_index_once_longest_first():
    lengths = [random.Random(3).randint(1, 600) for _ in range(200)]
    batches = length_sorted_batches(lengths, 32)
    assert sorted(i for b in batches for i in b) == list(range(200))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat, reverse=True) and max(len(b) for b in batches) == 32


def test_a_token_budget_caps_rows_times_longest_and_a_long_sequence_rides_alone():
    lengths = [random.Random(4).randint(1, 600) for _ in range(300)] + [5000]
    batches = length_sorted_batches(lengths, 32, max_tokens=1024)
    assert sorted(i for b in batches for i in b) == list(range(301))
    assert batches[0] == [300]  # longer than the budget: a batch of its own
    for batch in batches[1:]:
        assert len(batch) <= 32 and lengths[batch[0]] * len(batch) <= 1024
    short = length_sorted_batches([10] * 100, 32, max_tokens=1024)
    assert [len(b) for b in short] == [32, 32, 32, 4]  # the row cap still holds when the budget is loose
