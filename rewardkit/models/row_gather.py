"""Moving packed token rows into padded attention grids and back with row gathers only, forward and backward.

Laying rows out with `rows[index]` into a zero grid costs a zero fill, a gather and a scatter forward, and
autograd's backward of `rows[index]` is an accumulating scatter (`index_put_(accumulate=True)`), which runs
serially on CPU: in MiniLM training on real-length conversations these took a quarter of the step. Here both
directions are a single `index_select`, because the gradient of a layout is known to be a gather too:

- every source row that matters lands in exactly one grid cell whose gradient can be non-zero;
- the other cells (padding, a shared prefix's second copy as a query) hold any finite rows; their outputs are
  never read, and masked keys get zero attention weight, so their gradients are exactly zero.

So the gradient of source row r is the output gradient at the one cell that holds it (`inverse[r]`), and zero
for rows no such cell holds (`inverse[r] == len(index)`). Where a row is read by several live cells (a shared
prefix's keys, read by each sequence that shares it), `inverse` has one line per copy, [copies, rows], and the
backward adds one gather per line: still no scatter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, source: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(inverse)
        return source.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (inverse,) = ctx.saved_tensors
        padded = F.pad(grad, (0, 0, 0, 1))
        if inverse.dim() == 1:
            return padded.index_select(0, inverse), None, None
        total = padded.index_select(0, inverse[0])
        for line in inverse[1:]:
            total = total + padded.index_select(0, line)
        return total, None, None


def gather_rows(source: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """`source[index]` ([len(index), ...]) whose backward is a gather: source row r receives the output gradient
    of row `inverse[r]`, or zero when `inverse[r] == len(index)`; with a [copies, rows] `inverse`, the sum over
    its lines.

    Exact when the output rows other than `inverse`'s have zero gradient (the module docstring says why a packed
    attention layout meets that).

    >>> source = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    >>> out = gather_rows(source, torch.tensor([2, 0, 0]), torch.tensor([1, 3, 0]))
    >>> out.detach().flatten().tolist()
    [3.0, 1.0, 1.0]
    >>> (out * torch.tensor([[10.0], [20.0], [0.0]])).sum().backward()
    >>> source.grad.flatten().tolist()
    [20.0, 0.0, 10.0]
    """
    return _GatherRows.apply(source, index, inverse)


def inverse_index(index: torch.Tensor, live: torch.Tensor, n_source: int) -> torch.Tensor:
    """For `gather_rows`: each of `n_source` source rows' position in `index` among the `live` positions (those
    whose gradient may be non-zero), else `len(index)`. [n_source] when each row is live at most once; otherwise
    [copies, n_source], line k holding each row's k-th live position.

    >>> inverse_index(torch.tensor([2, 0, 0]), torch.tensor([True, True, False]), 3).tolist()
    [1, 3, 0]
    >>> inverse_index(torch.tensor([2, 0, 0]), torch.tensor([True, True, True]), 3).tolist()
    [[1, 3, 0], [2, 3, 3]]
    """
    positions = torch.arange(len(index), device=index.device)[live]
    rows = index[live]
    order = torch.argsort(rows, stable=True)
    rows, positions = rows[order], positions[order]
    copy = torch.arange(len(rows), device=index.device) - torch.searchsorted(rows, rows)  # k-th live copy of its row
    copies = int(copy.max()) + 1 if len(rows) else 1
    inverse = torch.full((copies, n_source), len(index), dtype=torch.long, device=index.device)
    inverse.index_put_((copy, rows), positions)
    return inverse[0] if copies == 1 else inverse
