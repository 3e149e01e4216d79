"""Export a scalar reward model to ONNX (optionally int8) for fast CPU scoring through ONNX Runtime.

    >>> from rewardkit.export import export_onnx
    >>> export_onnx("runs/quickstart/model", "runs/quickstart/onnx-int8", int8=True)   # doctest: +SKIP

The exported folder loads with `rewardkit.load(folder)` (a `scalar` model run by ONNX Runtime) and scores the same JSONL
through `rewardkit score --model folder`.
"""

from rewardkit.export.folder import export_onnx

__all__ = ["export_onnx"]
