"""gather_rows: the forward of `source[index]` with a gather for its backward, exact under its contract."""

from __future__ import annotations

import torch

from rewardkit.models.row_gather import gather_rows, inverse_index


def _layout():
    """Five source rows laid into seven cells: rows 0-3 live once each, row 4 in no live cell, and three dead
    cells holding copies (of rows 0, 2 and 4)."""
    index = torch.tensor([3, 0, 0, 1, 2, 2, 4])
    live = torch.tensor([True, True, False, True, True, False, False])
    return index, live


def test_the_forward_is_plain_indexing():
    index, live = _layout()
    source = torch.randn(5, 3)
    torch.testing.assert_close(gather_rows(source, index, inverse_index(index, live, 5)), source[index])


def test_gradients_equal_plain_indexing_when_dead_cells_have_zero_gradient():
    index, live = _layout()
    source = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(7, 3, dtype=torch.float64) * live[:, None]
    gather_rows(source, index, inverse_index(index, live, 5)).backward(upstream)
    ours = source.grad.clone()
    source.grad = None
    source[index].backward(upstream)
    torch.testing.assert_close(ours, source.grad)
    assert not ours[4].any()  # in no live cell
    assert ours[:4].abs().sum(dim=1).gt(0).all()


def test_gradcheck_on_live_cells():
    index, live = _layout()
    inverse = inverse_index(index, live, 5)
    source = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: gather_rows(s, index, inverse)[live], (source,))


def test_inverse_index_marks_rows_in_no_live_cell():
    index, live = _layout()
    assert inverse_index(index, live, 5).tolist() == [1, 3, 4, 0, 7]


def _autograd_nodes(output: torch.Tensor) -> list[str]:
    seen, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions)
    return [type(node).__name__ for node in seen]


def test_packed_encoder_attention_layout_has_no_indexing_backward_per_layer():
    """Autograd's backward of `rows[index]` is an accumulating scatter, serial on CPU; the packed encoder's
    attention layout must not add one per layer."""
    from transformers import BertConfig, BertForSequenceClassification

    from rewardkit.models.packed_encoder import packed_logits

    lengths = [7, 3, 12, 1, 9, 14, 2, 2, 11, 5, 13, 6, 8, 10, 4, 12, 3, 9, 1]
    ids = torch.randint(5, 100, (len(lengths), max(lengths)))
    mask = (torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]).long()
    counts = {}
    for layers in (1, 3):
        torch.manual_seed(0)
        network = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=layers,
                                                           num_attention_heads=4, intermediate_size=64)).train()
        nodes = _autograd_nodes(packed_logits(network, ids, mask, None))
        counts[layers] = (nodes.count("IndexBackward0"), nodes.count("_GatherRowsBackward"))
    assert counts[1][0] == counts[3][0]
    assert counts[3][1] > counts[1][1] > 0


def test_rows_read_by_several_live_cells_get_the_sum_of_their_gradients():
    """A shared prefix's keys are read by every sequence sharing it: `inverse` gets one line per copy."""
    index = torch.tensor([0, 1, 0, 1, 0, 2, 3])
    live = torch.tensor([True, True, True, True, True, True, False])
    inverse = inverse_index(index, live, 4)
    assert inverse.tolist() == [[0, 1, 5, 7], [2, 3, 7, 7], [4, 7, 7, 7]]
    source = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(7, 3, dtype=torch.float64) * live[:, None]
    gather_rows(source, index, inverse).backward(upstream)
    ours = source.grad.clone()
    source.grad = None
    source[index].backward(upstream)
    torch.testing.assert_close(ours, source.grad)
    assert not ours[3].any()
