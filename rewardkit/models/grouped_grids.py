"""Attention grids for packed tokens: a batch's sequences sorted by length, cut into groups, each group on its own
padded [group, heads, longest, d] grid, all grids one after another in one buffer.

The packed encoder and decoder forwards (models/packed_encoder.py, models/packed_decoder.py) run projections on
packed rows [tokens, H] and attention on these grids. Which packed row each grid cell shows is theirs to say (an
encoder's cells follow its padded input, a decoder's may repeat a shared prompt's rows); `GroupedGrids` moves the
rows in and out with row gathers (models/row_gather.py), so neither direction zero-fills or scatters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from rewardkit.models.row_gather import gather_rows, inverse_index

GROUP_SIZE = 8
"""Sequences per attention grid. Attention costs rows × width² on a grid padded to its longest row; sequences
sorted by length in groups of 8 cut that to 0.43 of one grid for the whole batch (32 random-length pairs'
texts, MiniLM training), for a few more, smaller calls."""

PACKED_ROWS_MULTIPLE = 32
"""The packed rows are padded with zero rows (which no attention reads and no output uses) up to a multiple of 32.
With the exact real-token count, every batch allocated tensors of a new size and glibc kept the freed memory:
scoring 120k rows with a tiny BERT grew RSS from 481 to 553 MB; padded to 32, it stayed at 417 MB, at the same
speed (≤ 31 extra rows on ~1,500)."""

GroupCells = Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
"""(members, longest) → three [len(members) × longest] vectors for one group's grid, row-major: the packed row each
cell shows (any row where nothing is live, e.g. 0), whether the cell is live as a key/value, and whether it is
live as a query (its output is read back)."""


class GroupedGrids:
    """The grids of one batch. `lengths[b]` is sequence b's grid width; `group_cells` fills each group's cells.
    `groups`: (members, longest, key/value-live cells [members, longest]) per group, in grid order.

    Every packed row must be live as a query in at most one cell (it comes out once); as a key it may be live in
    several (a shared prompt, read by each sequence that shares it). Cells that are not live hold any finite row:
    the caller's mask keeps real queries from reading them, and their outputs are never read."""

    def __init__(self, lengths: torch.Tensor, group_cells: GroupCells, n_rows: int):
        self.by_length = torch.argsort(lengths, stable=True)
        self.sequence_order = torch.argsort(self.by_length)
        sorted_lengths = lengths[self.by_length].tolist()  # one read on the host for every group's width
        self.groups, cell_rows, kv_live, query_live = [], [], [], []
        for start, members in zip(range(0, len(lengths), GROUP_SIZE), self.by_length.split(GROUP_SIZE)):
            longest = sorted_lengths[start + len(members) - 1]
            rows, kv, query = group_cells(members, longest)
            cell_rows.append(rows)
            kv_live.append(kv)
            query_live.append(query)
            self.groups.append((members, longest, kv.view(len(members), longest)))  # its key/value-live cells
        self.cell_rows = torch.cat(cell_rows)  # packed row shown in each grid cell
        kv_live, query_live = torch.cat(kv_live), torch.cat(query_live)
        self.kv_inverse = inverse_index(self.cell_rows, kv_live, n_rows)  # the cells that read each packed row
        same = kv_live.equal(query_live)
        self.query_inverse = self.kv_inverse if same else inverse_index(self.cell_rows, query_live, n_rows)
        self.out_index = torch.where(self.query_inverse < len(query_live), self.query_inverse, 0)
        self.out_inverse = torch.where(query_live, self.cell_rows, n_rows)

    def lay_out(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, heads: tuple[int, int],
                one_query_each: bool) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Each group's query, key and value grids [group, heads, width, d] from packed [rows, heads·d] tensors;
        `heads` = (query heads, key/value heads). `one_query_each`: `query` holds one row per sequence, in batch
        order, and each group's query grid is [group, heads, 1, d]."""
        widths = [longest for _, longest, _ in self.groups]
        cells = [len(members) * longest for members, longest, _ in self.groups]
        if one_query_each:
            sizes = [len(members) for members, _, _ in self.groups]
            queries = gather_rows(query, self.by_length, self.sequence_order).split(sizes)
        else:
            queries = gather_rows(query, self.cell_rows, self.query_inverse).split(cells)
        keys = gather_rows(keys, self.cell_rows, self.kv_inverse).split(cells)
        values = gather_rows(values, self.cell_rows, self.kv_inverse).split(cells)

        def grid(rows, width, n_heads):
            return rows.view(-1, width, n_heads, rows.shape[-1] // n_heads).transpose(1, 2)

        n_heads, n_kv_heads = heads
        return [(grid(q, 1 if one_query_each else width, n_heads), grid(k, width, n_kv_heads),
                 grid(v, width, n_kv_heads)) for width, q, k, v in zip(widths, queries, keys, values)]

    def read_back(self, contexts: list[torch.Tensor], one_query_each: bool) -> torch.Tensor:
        """Packed context rows [rows, heads·d] from each group's [group, heads, width, d] output grid: one per
        packed row (each from the cell where it is live as a query), or one per sequence in batch order."""
        rows = torch.cat([grid.transpose(1, 2).flatten(2).flatten(0, 1) for grid in contexts])
        if one_query_each:
            return gather_rows(rows, self.sequence_order, self.by_length)
        return gather_rows(rows, self.out_index, self.out_inverse)
