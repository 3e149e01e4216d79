"""The probe batch an export is checked on, and the same check an exported folder re-runs on another CPU.

At export, the graph's head outputs on the probe batch are compared with the PyTorch model's; the token ids
and the PyTorch outputs are saved beside the graph (`probe.json`), so that a folder loaded on a different
kind of CPU can re-run the graph on them and refuse to score when its kernels compute something else.

Tolerances: fp32 graphs must match to 1e-4. An int8 graph may differ by at most INT8_TOLERANCE times the
standard deviation of the fp32 outputs on the probe batch (a difference measured in units of how much the
rewards of different texts differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rewardkit.data.schemas import Sample
from rewardkit.errors import ModelLoadError

PROBE_FILE = "probe.json"
FP32_TOLERANCE = 1e-4
"""Largest |torch − onnx| head output accepted for an fp32 export."""
INT8_TOLERANCE = 0.5
"""Largest |torch − int8 onnx| head output accepted, in standard deviations of the fp32 outputs on the probe.

Measured on the benchmark MiniLM reward model (probe of 29 texts): a correct int8 graph's largest difference
is 0.32 std (u8s8 and u8s7 on AVX-512 VNNI; u8s7 on an emulated AVX2-only Zen 3, the same integers); the
mean difference over the 651-pair suite is 0.07-0.08 std. This bound catches a wrong graph (a broken export,
a kernel that computes something else), not every inexact one: u8s8 on a CPU whose pair sums saturate
measured only 0.36 std on the probe, so that combination is refused outright (`int8_scheme.scheme_named`,
`onnx_scalar.check_on_this_cpu`) rather than left to this check. See README "Fast CPU scoring"."""

_HAND_WRITTEN = (
    ("Write one word.", "Yes."),
    ("List three fruits as bullets.", "- apple\n- pear\n- plum"),
    ("Explain why the sky looks blue in two sentences, and keep it simple for a child.",
     "Sunlight has every colour in it. The air scatters blue light the most, so blue comes at us from all sides."),
)


def probe_samples() -> list[Sample]:
    """29 fixed samples: three hand-written, both sides of 12 verifiable pairs, and two multi-turn ones that
    run past a 128-token window (so truncation and the longest activations are exercised)."""
    from rewardkit.data.schemas import as_conversation
    from rewardkit.synth import generate_pairs

    samples = [Sample.from_text(prompt, response) for prompt, response in _HAND_WRITTEN]
    for synth in generate_pairs(12, seed=20261202):
        samples += list(synth.pair.samples())
    turns = [{"role": role, "content": f"{prompt} {response}"}
             for (prompt, response), role in zip(_HAND_WRITTEN * 3, ["user", "assistant"] * 5)]
    for last in ("Thanks, that helps a lot.", "No, that is wrong; try again and be precise. " * 6):
        samples.append(Sample(as_conversation(turns[:8]), last))
    return samples


def probe_inputs(model, names: list[str]) -> dict[str, np.ndarray]:
    """The probe samples encoded and padded the way `model` (a scalar model) pads them, for graph inputs `names`."""
    batch = model.collate(model.encoder.encode_many(probe_samples()))
    return {name: batch[name].numpy() for name in names}


def allowed_difference(reference: np.ndarray, int8: bool) -> float:
    """The tolerance for a graph's head outputs against the fp32 `reference` outputs [N, labels]."""
    return INT8_TOLERANCE * max(float(reference.std()), 1e-3) if int8 else FP32_TOLERANCE


def save_probe(folder: Path, inputs: dict[str, np.ndarray], reference: np.ndarray) -> None:
    record = {"inputs": {name: value.tolist() for name, value in inputs.items()},
              "reference_outputs": reference.tolist()}
    (folder / PROBE_FILE).write_text(json.dumps(record), encoding="utf-8")


def load_probe(folder: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    path = folder / PROBE_FILE
    if not path.is_file():
        raise ModelLoadError(f"{folder}: no {PROBE_FILE} to check the graph on this CPU; re-run rewardkit export")
    record = json.loads(path.read_text(encoding="utf-8"))
    inputs = {name: np.asarray(value, dtype=np.int64) for name, value in record["inputs"].items()}
    return inputs, np.asarray(record["reference_outputs"], dtype=np.float32)


def graph_difference(session, inputs: dict[str, np.ndarray], reference: np.ndarray) -> float:
    """Largest |graph − reference| head output on the probe inputs."""
    return float(np.abs(session.run(None, inputs)[0] - reference).max())


def require_within(difference: float, reference: np.ndarray, int8: bool, what: str, remedy: str) -> float:
    """`difference` when it is within `allowed_difference`; beyond it, a ModelLoadError naming `what` (the graph)
    and `remedy`: a graph that computes something else is an error, never a silent wrong model."""
    allowed = allowed_difference(reference, int8)
    if difference > allowed:
        raise ModelLoadError(f"{what} differs from the PyTorch model by {difference:.3g} on the probe batch "
                             f"(allowed {allowed:.3g}); {remedy}")
    return difference
