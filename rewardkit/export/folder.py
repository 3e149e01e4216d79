"""`export_onnx`: a saved scalar model folder → an ONNX folder that `rewardkit.load` returns as the `onnx` family.

The folder holds `model.onnx`, the tokenizer files and `rewardkit.json` (family `onnx`, the scalar options
and what the export did). Every export is checked against the PyTorch model on a probe batch before the
folder appears: fp32 graphs must match to 1e-4, and the int8 difference is recorded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rewardkit.atomic import atomic_dir
from rewardkit.errors import ModelLoadError
from rewardkit.models.registry import MANIFEST

GRAPH_FILE = "model.onnx"
FP32_TOLERANCE = 1e-4
"""Largest |torch − onnx| head output accepted for an fp32 export."""

PROBE_TEXTS = (
    ("Write one word.", "Yes."),
    ("List three fruits as bullets.", "- apple\n- pear\n- plum"),
    ("Explain why the sky looks blue in two sentences, and keep it simple for a child.",
     "Sunlight has every colour in it. The air scatters blue light the most, so blue comes at us from all sides."),
)


@dataclass
class ExportReport:
    """What `export_onnx` wrote and how close the graph is to the PyTorch model."""

    folder: str
    int8: bool
    inputs: list[str]
    fusions: dict[str, int] = field(default_factory=dict)
    max_abs_difference: float = 0.0
    """Largest |torch − onnx| head output on the probe batch."""
    source: str = ""
    row_quantised_nodes: list[str] = field(default_factory=list)
    """int8: the projections whose activations are quantised per token (quantize.feed_forward_down)."""


def probe_batch(model) -> dict:
    """The probe texts encoded and padded the way `ScalarRewardModel.score` pads them."""
    from rewardkit.data.schemas import Sample

    samples = [Sample.from_text(prompt, response) for prompt, response in PROBE_TEXTS]
    return model.collate(model.encoder.encode_many(samples))


def max_difference(model, graph: Path, names: list[str]) -> float:
    """Largest |torch − onnx| head output on the probe batch."""
    import numpy as np
    import torch

    from rewardkit.models.onnx_scalar import open_session

    batch = probe_batch(model)
    with torch.no_grad():
        expected = model.forward(**batch).float().numpy()
    got = open_session(graph).run(None, {name: batch[name].numpy() for name in names})[0]
    return float(np.abs(got - expected).max())


def uses_token_types(model) -> bool:
    """Encoders whose tokenizer makes token_type_ids take them as a graph input; decoders ignore them."""
    return not model.last_token_pooling and "token_type_ids" in probe_batch(model)


def write_fp32_graph(model, graph: Path, fuse: bool) -> tuple[list[str], dict[str, int], float]:
    """Export, fuse, and check; a fused graph that drifts from PyTorch is replaced by the plain export."""
    from rewardkit.export.onnx_graph import export_graph, fuse_for_runtime

    names = export_graph(model, graph, uses_token_types(model))
    fusions = fuse_for_runtime(graph) if fuse else {}
    difference = max_difference(model, graph, names)
    if difference > FP32_TOLERANCE and fusions:
        names, fusions = export_graph(model, graph, uses_token_types(model)), {}
        difference = max_difference(model, graph, names)
    if difference > FP32_TOLERANCE:
        raise ModelLoadError(f"the exported graph differs from the PyTorch model by {difference:.2e}")
    return names, fusions, difference


def export_onnx(model_dir: str | Path, out_dir: str | Path, *, int8: bool = False, fuse: bool = True) -> ExportReport:
    """Export the scalar model in `model_dir` to an ONNX folder `out_dir` (atomically)."""
    import rewardkit
    from rewardkit.export.quantize import quantize_int8

    model = rewardkit.load(str(model_dir))
    if getattr(model, "family", None) != "scalar":
        raise ModelLoadError(f"{model_dir}: only scalar models export to ONNX, this is '{model.family}'")
    model.network.eval()
    with atomic_dir(out_dir) as tmp:
        graph = tmp / GRAPH_FILE
        names, fusions, difference = write_fp32_graph(model, graph, fuse)
        rows: list[str] = []
        if int8:
            fp32 = tmp / "model.fp32.onnx"
            graph.rename(fp32)
            rows = quantize_int8(fp32, graph)
            fp32.unlink()
            difference = max_difference(model, graph, names)
        report = ExportReport(str(out_dir), int8, names, fusions, difference, str(model_dir), rows)
        model.tokenizer.save_pretrained(tmp)
        manifest = {"family": "onnx", "options": asdict(model.options),
                    "onnx": {**asdict(report), "graph": GRAPH_FILE,
                             "last_token_pooling": model.last_token_pooling}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return report
