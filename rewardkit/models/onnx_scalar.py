"""A scalar reward model exported by `rewardkit export`, scored through ONNX Runtime.

An exported folder is a way to *run* a `scalar` model, not a family of its own: its rewardkit.json says
`"family": "scalar"` plus an `onnx` section, and the scalar family's loader (rewardkit.families.scalar)
returns this runner for it.

It encodes, batches and pools exactly like the `scalar` family it came from (same ChatEncoder, same
length-sorted batches, same padding side), so an fp32 export gives the same scores to ~1e-6 and an int8
export gives close ones, faster. It scores; it does not train.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from rewardkit.data.batching import length_sorted_batches, pad_batch
from rewardkit.data.chat import ChatEncoder, Encoded
from rewardkit.data.schemas import Sample
from rewardkit.errors import ModelLoadError
from rewardkit.models.base import Scores, samples_of
from rewardkit.models.hf import read_manifest
from rewardkit.models.scalar import DEFAULT_BATCH_SIZE, ScalarOptions, head_scores

BATCH_TOKENS = 1024
"""At most this many padded tokens (rows × the batch's longest) per graph run, whatever the batch size. The
graph runs on the padded grid and its attention kernel with a padding mask materialises every score, so
wide batches of long texts spill the cache: int8 MiniLM on 512 texts of the long workload (mean 216 tokens,
Xeon) took 7.06 s in batches of 32, 4.95-5.2 s with a budget of 512-2048 tokens (1.1 s either way on the
short workload). The PyTorch path packs its tokens and gained nothing from a budget (slightly slower)."""


def session_threads() -> int:
    """Intra-op threads: OMP_NUM_THREADS when set (Ray sets it per actor), else 0 = ONNX Runtime's choice."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else 0


def open_session(graph: str | Path):
    """An ONNX Runtime CPU session with every graph optimisation on. Its threads spin between operators (ONNX
    Runtime's default): +14% pairs/s for a fused fp32 MiniLM on a quiet machine, none for int8; on a machine
    crowded with other jobs, sleeping threads did better (~15%)."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelLoadError("ONNX models need the onnx extra: pip install 'rewardkit[onnx]'") from None
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = session_threads()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


class OnnxScalarRewardModel:
    family = "scalar"

    def __init__(self, session, tokenizer, options: ScalarOptions, last_token_pooling: bool,
                 parameters: int | None = None):
        self.session, self.tokenizer, self.options, self.parameters = session, tokenizer, options, parameters
        self.encoder = ChatEncoder(tokenizer, options.max_length)
        self.last_token_pooling = last_token_pooling
        self.input_names = [i.name for i in session.get_inputs()]

    def collate(self, encoded: Sequence[Encoded]) -> dict[str, np.ndarray]:
        side = self.options.padding_side if self.last_token_pooling else "right"
        batch = pad_batch([e.input_ids for e in encoded], self.tokenizer.pad_token_id, side,
                          [e.token_type_ids for e in encoded])
        return {name: batch[name].numpy() for name in self.input_names}

    def outputs_for(self, encoded: Sequence[Encoded], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Head outputs [N, num_labels] for encoded samples, in their order, batched by length."""
        out = np.empty((len(encoded), len(self.options.attributes)), dtype=np.float32)
        for index in length_sorted_batches([len(e.input_ids) for e in encoded], batch_size, BATCH_TOKENS):
            out[index] = self.session.run(None, self.collate([encoded[i] for i in index]))[0]
        return out

    def reward_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """[N, num_labels] → [N] raw reward (the first output, or weights · outputs)."""
        if self.options.reward_weights is None:
            return outputs[:, 0]
        return outputs @ np.asarray(self.options.reward_weights, dtype=outputs.dtype)

    def score(self, batch: Sequence[Sample], batch_size: int | None = None) -> Scores:
        encoded = self.encoder.encode_many(samples_of(batch))
        outputs = self.outputs_for(encoded, batch_size or DEFAULT_BATCH_SIZE)
        return head_scores(self.options, outputs, self.reward_from_outputs(outputs), encoded)

    def parameter_count(self) -> int | None:
        """Parameters of the PyTorch model it was exported from (recorded at export)."""
        return self.parameters


def check_on_this_cpu(path: str, session, details: dict) -> None:
    """An int8 folder checked on another kind of CPU is re-checked here, once, on its saved probe batch: its
    integer kernels may compute something else (int8_scheme.py). Beyond the export's tolerance → an error."""
    from rewardkit.export.int8_scheme import SCHEMES, cpu_record
    from rewardkit.export.probe import graph_difference, load_probe, require_within

    if not details.get("int8"):
        return
    here, there = cpu_record(), details.get("cpu", {})
    if here == there:
        return
    scheme = SCHEMES.get(details.get("int8_scheme", "u8s8"))
    if scheme is not None and not scheme.exact_on(here["u8s8_saturates"]):
        raise ModelLoadError(
            f"{path}: int8 with 8-bit weights (u8s8, checked on {there.get('cpu', 'an unrecorded CPU')}) is wrong on "
            f"this CPU ({here['cpu']}, {here['isa']}, no VNNI: its int8 kernels saturate); re-export here, or "
            "anywhere with `rewardkit export --int8 --int8-scheme u8s7`")
    inputs, reference = load_probe(Path(path))
    require_within(graph_difference(session, inputs, reference), reference, int8=True,
                   what=f"{path}: on this CPU ({here['cpu']}, {here['isa']}) the int8 graph",
                   remedy="re-export it on this machine")


def load(path: str, **overrides) -> OnnxScalarRewardModel:
    """A folder written by `rewardkit export --format onnx`."""
    from rewardkit.models.hf import load_tokenizer

    manifest = read_manifest(path)
    values = {**manifest.get("options", {}), **overrides}
    details = manifest.get("onnx", {})
    graph = Path(path) / details.get("graph", "model.onnx")
    if not graph.is_file():
        raise ModelLoadError(f"{path}: no ONNX graph {graph.name}; re-run rewardkit export")
    session = open_session(graph)
    check_on_this_cpu(path, session, details)
    return OnnxScalarRewardModel(session, load_tokenizer(path), ScalarOptions.from_dict(values),
                                 bool(details.get("last_token_pooling", False)), details.get("parameters"))
