"""`export_onnx`: a saved scalar model folder → an ONNX folder, another way to run the same `scalar` model.

The folder holds `model.onnx`, the tokenizer files and `rewardkit.json` (family `scalar`, its options, and an
`onnx` section saying what the export did, which makes `rewardkit.load` run the graph through ONNX Runtime).
Every export is checked against the PyTorch model on a probe batch before the folder appears (probe.py): fp32
graphs must match to 1e-4, int8 graphs within a tolerance scaled by the spread of the rewards; a graph beyond
it is an error. The probe goes into the folder, so that a different CPU can
re-check the graph when it loads it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rewardkit.atomic import atomic_dir
from rewardkit.errors import ModelLoadError
from rewardkit.export.probe import (
    FP32_TOLERANCE,
    allowed_difference,
    graph_difference,
    probe_inputs,
    require_within,
    save_probe,
)
from rewardkit.models.hf import MANIFEST, read_manifest

GRAPH_FILE = "model.onnx"


@dataclass
class ExportReport:
    """What `export_onnx` wrote and how close the graph is to the PyTorch model."""

    folder: str
    int8: bool
    inputs: list[str]
    fusions: dict[str, int] = field(default_factory=dict)
    max_abs_difference: float = 0.0
    """Largest |torch − onnx| head output on the probe batch (probe.py)."""
    source: str = ""
    row_quantised_nodes: list[str] = field(default_factory=list)
    """int8: the projections whose activations are quantised per token (quantize.feed_forward_down)."""
    int8_scheme: str = ""
    """int8: the weight range, u8s8 or u8s7 (int8_scheme.py)."""
    allowed_difference: float = FP32_TOLERANCE
    """The tolerance `max_abs_difference` was checked against."""
    cpu: dict = field(default_factory=dict)
    """The CPU the graph was checked on (int8_scheme.cpu_record)."""


def torch_outputs(model, inputs: dict) -> np.ndarray:
    """The PyTorch model's head outputs [N, labels] on probe inputs."""
    import torch

    with torch.no_grad():
        return model.forward(**{name: torch.from_numpy(value) for name, value in inputs.items()}).float().numpy()


def difference_on_probe(graph: Path, inputs: dict, reference: np.ndarray) -> float:
    from rewardkit.models.onnx_scalar import open_session

    return graph_difference(open_session(graph), inputs, reference)


def uses_token_types(model) -> bool:
    """Encoders whose tokenizer makes token_type_ids take them as a graph input; decoders ignore them."""
    from rewardkit.data.schemas import Sample

    return not model.last_token_pooling and "token_type_ids" in model.collate(
        model.encoder.encode_many([Sample.from_text("a", "b")]))


def write_fp32_graph(model, graph: Path, fuse: bool) -> tuple[list[str], dict[str, int], dict, np.ndarray, float]:
    """Export, fuse, and check; a fused graph that drifts from PyTorch is replaced by the plain export.
    Returns the input names, fusions, probe inputs, the PyTorch outputs on them and the graph's difference."""
    from rewardkit.export.onnx_graph import export_graph, fuse_for_runtime

    token_types = uses_token_types(model)
    names = export_graph(model, graph, token_types)
    inputs = probe_inputs(model, names)
    reference = torch_outputs(model, inputs)
    fusions = fuse_for_runtime(graph) if fuse else {}
    difference = difference_on_probe(graph, inputs, reference)
    if fusions and difference > FP32_TOLERANCE:
        names, fusions = export_graph(model, graph, token_types), {}
        difference = difference_on_probe(graph, inputs, reference)
    require_within(difference, reference, int8=False, what="the exported fp32 graph", remedy="nothing was written")
    return names, fusions, inputs, reference, difference


def export_onnx(model_dir: str | Path, out_dir: str | Path, *, int8: bool = False, fuse: bool = True,
                int8_scheme: str = "auto") -> ExportReport:
    """Export the scalar model in `model_dir` to an ONNX folder `out_dir` (atomically). `int8_scheme`: `auto`
    (the most precise weight range this CPU's kernels compute exactly), `u8s8` or `u8s7` (int8_scheme.py)."""
    from rewardkit.export.int8_scheme import cpu_record, scheme_named
    from rewardkit.export.quantize import quantize_int8
    from rewardkit.models import scalar

    scheme = scheme_named(int8_scheme) if int8 else None
    manifest = read_manifest(model_dir)
    if manifest.get("family", "scalar") != "scalar":
        raise ModelLoadError(f"{model_dir}: only scalar models export to ONNX, this is '{manifest['family']}'")
    if "onnx" in manifest:
        raise ModelLoadError(f"{model_dir} is already an ONNX export; export the PyTorch model it came from")
    model = scalar.load(str(model_dir))
    model.network.eval()
    with atomic_dir(out_dir) as tmp:
        graph = tmp / GRAPH_FILE
        names, fusions, inputs, reference, difference = write_fp32_graph(model, graph, fuse)
        rows: list[str] = []
        if scheme is not None:
            fp32 = tmp / "model.fp32.onnx"
            graph.rename(fp32)
            rows = quantize_int8(fp32, graph, scheme)
            fp32.unlink()
            difference = require_within(
                difference_on_probe(graph, inputs, reference), reference, int8=True,
                what=f"the int8 graph ({scheme.name} weights)",
                remedy="nothing was written; export without --int8 for an fp32 graph")
        report = ExportReport(str(out_dir), int8, names, fusions, difference, str(model_dir), rows,
                              scheme.name if scheme else "", allowed_difference(reference, int8), cpu_record())
        save_probe(tmp, inputs, reference)
        model.tokenizer.save_pretrained(tmp)
        manifest = {"family": "scalar", "options": asdict(model.options),
                    "onnx": {**asdict(report), "graph": GRAPH_FILE, "parameters": model.parameter_count(),
                             "last_token_pooling": model.last_token_pooling}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        write_export_card(tmp, report)
    return report


EXPORT_CARD = """---
{{ card_data }}
---

# ONNX export of `{{ source }}`

Scored through ONNX Runtime by `rewardkit score --model THIS_FOLDER` (a way to run a `scalar` model). {{ precision }}

| | |
|---|---|
| checked on | {{ cpu }} (torch dispatch {{ isa }}; uint8×int8 pair sums saturate: {{ saturates }}) |
| max \\|PyTorch − ONNX\\| on the probe batch | {{ difference }} (allowed {{ allowed }}) |
| projections quantised per token | {{ rows }} |

On a different kind of CPU the folder re-runs its probe batch (`probe.json`) when it loads, and refuses to
score if the graph computes something else there.
"""


def write_export_card(folder: Path, report: ExportReport) -> None:
    """README.md of an exported folder: which precision and int8 scheme, and which CPU it was checked on."""
    from huggingface_hub import ModelCard, ModelCardData

    if report.int8:
        precision = (f"int8: weights per output channel in the `{report.int8_scheme}` range (int8_scheme.py), "
                     "activations quantised per batch, or per token for the early feed-forward down-projections.")
    else:
        precision = "fp32: the same numbers as the PyTorch model to 1e-4."
    data = ModelCardData(library_name="rewardkit", tags=["reward-model", "rewardkit", "onnx"] + (
        ["int8"] if report.int8 else []))
    card = ModelCard.from_template(
        data, template_str=EXPORT_CARD, source=report.source, precision=precision, cpu=report.cpu["cpu"],
        isa=report.cpu["isa"], saturates=report.cpu["u8s8_saturates"], difference=f"{report.max_abs_difference:.3g}",
        allowed=f"{report.allowed_difference:.3g}", rows=len(report.row_quantised_nodes))
    (folder / "README.md").write_text(str(card), encoding="utf-8")
