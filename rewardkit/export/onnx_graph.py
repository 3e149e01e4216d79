"""Trace a scalar model's scoring module (backbone + pooling + head) into an ONNX graph with dynamic batch and
sequence axes, then fuse it for ONNX Runtime (attention, skip-layer-norm, bias-GELU).

The graph takes the padded tensors `ScalarRewardModel.collate` makes (`input_ids`, `attention_mask` and, for
encoders that use them, `token_type_ids`, all int64) and returns `outputs`: the head outputs [B, num_labels],
exactly what `ScalarRewardModel.forward` returns.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path
from typing import Iterator

import torch

from rewardkit.errors import ModelLoadError

OPSET = 20
"""ONNX opset of the exported graph (the torch.export-based exporter's default)."""


@contextlib.contextmanager
def quiet_exporters() -> Iterator[None]:
    """Silence the exporter's and quantiser's progress prints and advisory warnings (errors still raise)."""
    loggers = [logging.getLogger(name) for name in ("", "torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def example_batch(with_token_types: bool) -> dict[str, torch.Tensor]:
    """Two padded rows of different length, so nothing in the trace specialises on a full mask or on B == 1."""
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 11:] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    if with_token_types:
        types = torch.zeros((2, 16), dtype=torch.long)
        types[:, 6:] = 1
        batch["token_type_ids"] = types * mask
    return batch


class GraphScorer(torch.nn.Module):
    """The model's scoring module with the exporter's calling convention (plain tensor arguments)."""

    def __init__(self, scorer: torch.nn.Module):
        super().__init__()
        self.scorer = scorer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.scorer(input_ids, attention_mask, token_type_ids)


def eager_attention(network) -> None:
    """Trace attention as plain MatMul/Softmax with an additive mask. PyTorch's SDPA traces into extra
    IsNaN/Where operators over every score matrix, which an unfused graph then runs (`--no-fuse --int8`
    MiniLM: 98 vs 83.5 pairs/s). Fused graphs become the same Attention operator either way."""
    try:
        network.set_attn_implementation("eager")
    except (AttributeError, ValueError):  # a model without the switch keeps its own attention
        pass


def export_graph(model, path: Path, with_token_types: bool) -> list[str]:
    """Write the scoring graph of `model` (a ScalarRewardModel) to `path`. Returns the input names. BERT-style
    encoders are traced through `packed_logits(pack=False)`: the padded grid (a static graph cannot hold the
    packed one's data-dependent shapes), with the last layer for [CLS] alone."""
    from rewardkit.models.scalar import PooledScorer

    batch = example_batch(with_token_types)
    names = list(batch)
    eager_attention(model.network)
    batch_dim = torch.export.Dim("batch")
    seq_dim = torch.export.Dim("sequence", max=max(model.options.max_length, 17))
    shapes = {name: {0: batch_dim, 1: seq_dim} for name in names}
    scorer = GraphScorer(PooledScorer(model.network, static_graph=True)).eval()
    try:
        with torch.no_grad(), quiet_exporters():
            program = torch.onnx.export(
                scorer, tuple(batch.values()), dynamo=True, input_names=names,
                output_names=["outputs"], dynamic_shapes=shapes, opset_version=OPSET, external_data=False,
                verbose=False,
            )
    except ImportError as err:
        raise ModelLoadError(f"ONNX export needs the onnx extra: pip install 'rewardkit[onnx]' ({err})") from None
    program.save(str(path))
    return names


def fuse_for_runtime(path: Path) -> dict[str, int]:
    """Rewrite the graph at `path` in place with ONNX Runtime's fused transformer operators.

    Returns the count of each fusion applied; on any failure the graph is left as exported (still correct,
    only slower) and {} is returned.
    """
    import onnx_ir
    from onnxscript.rewriter.ort_fusions import optimize_for_ort

    try:
        graph = onnx_ir.load(str(path))
        graph, counts = optimize_for_ort(graph)
        onnx_ir.save(graph, str(path))
    except Exception:  # noqa: BLE001 - a fusion the rewriter cannot do must not stop the export
        return {}
    return {name: count for name, count in counts.items() if count}
