"""`rewardkit export`: write a scalar model as an ONNX folder (fp32, or dynamically quantised int8)."""

from __future__ import annotations

from pathlib import Path

import typer


def export(
    model: str = typer.Option(..., "--model", help="Saved rewardkit scalar model folder (or HF seq-cls folder)."),
    out: Path = typer.Option(..., "--out", help="Folder to write (model.onnx, tokenizer, rewardkit.json)."),
    fmt: str = typer.Option("onnx", "--format", help="Export format: onnx."),
    int8: bool = typer.Option(False, "--int8", help="Dynamic int8 quantisation of the weights (CPU speed)."),
    fuse: bool = typer.Option(True, help="Fuse attention/layer-norm/GELU for ONNX Runtime."),
    int8_scheme: str = typer.Option("auto", "--int8-scheme", help=(
        "int8 weight range: auto (8-bit where this CPU has VNNI/AMX, else 7-bit), u8s8, or u8s7 (exact on every "
        "x86-64 CPU: use it to export for machines without VNNI).")),
) -> None:
    """Export a reward model for fast CPU scoring; `rewardkit score --model OUT` then scores through ONNX Runtime."""
    from rewardkit.cli.terminal import cli_console
    from rewardkit.errors import ConfigError
    from rewardkit.export import export_onnx

    if fmt != "onnx":
        raise ConfigError(f"--format must be onnx, got {fmt!r}")
    console = cli_console(stderr=True)
    with console.status(f"exporting {model} → {out}"):
        report = export_onnx(model, out, int8=int8, fuse=fuse, int8_scheme=int8_scheme)
    kind = (f"int8 ({report.int8_scheme} weights, checked on {report.cpu['cpu']} [{report.cpu['isa']}]; "
            f"{len(report.row_quantised_nodes)} projections quantised per token)" if report.int8 else "fp32")
    fused = ", ".join(f"{k}×{v}" for k, v in report.fusions.items()) or "none"
    console.print(f"exported {kind} ONNX graph → {out}; fusions: {fused}; "
                  f"max |torch − onnx| on the probe batch: {report.max_abs_difference:.2e} "
                  f"(allowed {report.allowed_difference:.2e})")
