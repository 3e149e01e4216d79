"""GroupedGrids: packed rows into length-sorted group grids and back, the layout both packed forwards share."""

from __future__ import annotations

import torch

from rewardkit.models.grouped_grids import GROUP_SIZE, GroupedGrids

LENGTHS = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 2, 9, 1, 5, 3, 7, 4, 6, 8, 2]
"""More sequences than two groups, unsorted, with repeated lengths."""


def _plain_grids(lengths: list[int]):
    """Sequence b owns packed rows start_b … start_b + length_b − 1, shown left-aligned on its grid row."""
    starts = torch.tensor(lengths).cumsum(0) - torch.tensor(lengths)
    lengths_t = torch.tensor(lengths)

    def group_cells(members, longest):
        columns = torch.arange(longest)
        real = columns < lengths_t[members, None]
        rows = torch.where(real, starts[members, None] + columns, 0)
        return rows.flatten(), real.flatten(), real.flatten()

    return GroupedGrids(lengths_t, group_cells, sum(lengths)), starts


def test_groups_are_sorted_by_length_and_sized_to_their_longest_member():
    grids, _ = _plain_grids(LENGTHS)
    assert len(grids.groups) == -(-len(LENGTHS) // GROUP_SIZE)
    ordered = [LENGTHS[m] for members, _, _ in grids.groups for m in members.tolist()]
    assert ordered == sorted(LENGTHS)
    assert all(longest == max(LENGTHS[m] for m in members.tolist()) for members, longest, _ in grids.groups)
    for members, longest, live in grids.groups:  # key/value-live cells: each sequence's own tokens
        assert live.tolist() == [[column < LENGTHS[m] for column in range(longest)] for m in members.tolist()]


def test_lay_out_puts_each_sequence_token_in_its_cell_and_read_back_inverts_it():
    grids, starts = _plain_grids(LENGTHS)
    rows = torch.randn(sum(LENGTHS), 2 * 3)  # 2 heads of 3
    laid = grids.lay_out(rows, rows, rows, (2, 2), one_query_each=False)
    for (members, longest, _), (q, k, v) in zip(grids.groups, laid):
        assert q.shape == k.shape == v.shape == (len(members), 2, longest, 3)
        for slot, sequence in enumerate(members.tolist()):
            length, start = LENGTHS[sequence], int(starts[sequence])
            expected = rows[start:start + length].view(length, 2, 3).transpose(0, 1)
            torch.testing.assert_close(k[slot, :, :length], expected)
    torch.testing.assert_close(grids.read_back([q for q, _, _ in laid], one_query_each=False), rows)


def test_one_query_each_keeps_batch_order_and_gqa_head_counts():
    grids, _ = _plain_grids(LENGTHS)
    firsts = torch.randn(len(LENGTHS), 4 * 2)  # 4 query heads of 2
    keys = torch.randn(sum(LENGTHS), 2 * 2)  # 2 key/value heads of 2
    laid = grids.lay_out(firsts, keys, keys, (4, 2), one_query_each=True)
    for (members, longest, _), (q, k, _) in zip(grids.groups, laid):
        assert q.shape == (len(members), 4, 1, 2) and k.shape == (len(members), 2, longest, 2)
        torch.testing.assert_close(q[:, :, 0].flatten(1), firsts[members])
    torch.testing.assert_close(grids.read_back([q for q, _, _ in laid], one_query_each=True), firsts)


def test_a_row_shown_in_two_sequences_gets_both_key_gradients_and_comes_out_once():
    """Sequence 1 shares sequence 0's first two rows (a prompt): rows 0-1 are keys in both, queries in one."""
    sequence_rows = [torch.tensor([0, 1, 2]), torch.tensor([0, 1, 3, 4])]
    lengths, reused = torch.tensor([3, 4]), torch.tensor([0, 2])

    def group_cells(members, longest):
        columns = torch.arange(longest)
        real = columns < lengths[members, None]
        rows = torch.zeros((len(members), longest), dtype=torch.long)
        rows[real] = torch.cat([sequence_rows[m] for m in members.tolist()])
        return rows.flatten(), real.flatten(), (real & (columns >= reused[members, None])).flatten()

    grids = GroupedGrids(lengths, group_cells, 5)
    keys = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    (_, k, _), = grids.lay_out(keys, keys, keys, (1, 1), one_query_each=False)
    weights = torch.randn_like(k) * torch.tensor([[1.0] * 3 + [0.0], [1.0] * 4])[:, None, :, None]  # padding: 0
    (k * weights).sum().backward()
    by_sequence = weights[:, 0]  # [sequence, column, d]
    expected = torch.stack([by_sequence[0, 0] + by_sequence[1, 0], by_sequence[0, 1] + by_sequence[1, 1],
                            by_sequence[0, 2], by_sequence[1, 2], by_sequence[1, 3]])
    torch.testing.assert_close(keys.grad, expected)
    out = grids.read_back([k.detach()], one_query_each=False)
    torch.testing.assert_close(out, keys.detach())  # rows 0-1 read from sequence 0's cells, once
