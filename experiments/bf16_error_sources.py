"""Where bf16 scoring's error comes from in a decoder reward model: attention or the matrix products, and which
layers?

    python experiments/bf16_error_sources.py [--pairs 120] [--max-length 512] [--fp32-layers 5]   # ≈ 4 min, 2 cores

Scores the same long-workload pairs (benchmarks/workloads.py contexts before verifiable pairs) with the SmolLM2
benchmark BT model (benchmarks/bench_data.trained_model, trained once) five ways: fp32; bf16 (autocast: matrix
products and attention in bf16); bf16 with attention alone put back in fp32; and bf16 with the first, or the
last, `--fp32-layers` decoder layers run wholly in fp32. Printed for each bf16 variant: the root-mean-square
change of the pair margins over the standard deviation of the fp32 margins, the verdicts that changed, and the
seconds taken. A part whose fp32 run removed most of the error would be worth its cost.
Needs a CPU with native bf16. Results: experiments/results/bf16_error_sources.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def fp32_attention(real):
    """`scaled_dot_product_attention` run in fp32 with autocast off, whatever it is called in."""
    import torch

    def attention(query, key, value, *args, **kwargs):
        with torch.autocast("cpu", enabled=False):
            return real(query.float(), key.float(), value.float(), *args, **kwargs).to(value.dtype)

    return attention


def fp32_layers(real, chosen: set[int]):
    """`decoder_layer` (models/packed_decoder.py) that runs the layers whose id is in `chosen` in fp32 with
    autocast off, the others as they are."""
    import torch

    def layer_forward(layer, hidden, query_input, packed, last):
        if id(layer) not in chosen:
            return real(layer, hidden, query_input, packed, last)
        with torch.autocast("cpu", enabled=False):
            return real(layer, hidden.float(), query_input.float(), packed, last)

    return layer_forward


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=120)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--fp32-layers", type=int, default=5, help="layers put back in fp32 at either end")
    args = parser.parse_args(argv)

    import torch
    import torch.nn.functional as F

    import rewardkit
    from bench_data import long_context_pairs, trained_model
    from common import machine, quiet
    from rewardkit.models import packed_decoder
    from rewardkit.models.base import compare
    from score_onnx import verifiable_suite

    quiet()
    pairs = [sp.pair for sp in long_context_pairs(verifiable_suite(2 * args.pairs), seed=5)[: args.pairs]]
    model_dir = str(trained_model("smollm2"))

    def margins(model) -> tuple[torch.Tensor, float]:
        start = time.perf_counter()
        values = torch.tensor(list(compare(model, pairs)), dtype=torch.float64)
        return values, time.perf_counter() - start

    exact, exact_seconds = margins(rewardkit.load(model_dir, max_length=args.max_length))
    bf16 = rewardkit.load(model_dir, max_length=args.max_length, dtype="bf16")
    variants = {"bf16": margins(bf16)}
    with mock.patch.object(F, "scaled_dot_product_attention", fp32_attention(F.scaled_dot_product_attention)):
        variants["bf16, fp32 attention"] = margins(bf16)
    layers = list(bf16.network.base_model.layers)
    for name, chosen in ((f"bf16, first {args.fp32_layers} layers fp32", layers[: args.fp32_layers]),
                         (f"bf16, last {args.fp32_layers} layers fp32", layers[-args.fp32_layers:])):
        with mock.patch.object(packed_decoder, "decoder_layer",
                               fp32_layers(packed_decoder.decoder_layer, {id(layer) for layer in chosen})):
            variants[name] = margins(bf16)
    figures = {"pairs": len(pairs), "max_length": args.max_length, "fp32_seconds": exact_seconds,
               "machine": machine(), "variants": {}}
    print(f"{len(pairs)} long pairs, fp32 in {exact_seconds:.1f} s")
    for name, (values, seconds) in variants.items():
        error = float((values - exact).pow(2).mean().sqrt() / exact.std())
        flips = int(((values > 0) != (exact > 0)).sum())
        figures["variants"][name] = {"rms_margin_change_over_std": error, "verdicts_changed": flips,
                                     "seconds": seconds}
        print(f"{name}: rms margin change {error:.3f} of the fp32 margins' std, {flips} verdicts changed, "
              f"{seconds:.1f} s")
    out = ROOT / "experiments" / "results" / "bf16_error_sources.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
