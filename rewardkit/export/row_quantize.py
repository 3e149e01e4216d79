"""Int8 projections whose activations are quantised per row (per token) instead of per batch.

ONNX Runtime's dynamic quantisation gives a whole activation tensor one uint8 scale, so one token with a large
activation coarsens every other token in the batch. Here a fp32 `MatMul` with a constant weight becomes

    s_i = (max(x_i, 0) − min(x_i, 0)) / 255,   z_i = round(−min(x_i, 0) / s_i)        (per row i of x)
    q_i = quantize(x_i, s_i, z_i) ∈ uint8,      W_q = round(W / w_j) ∈ int8,  w_j = max|W[:, j]| / Q
    y_ij = s_i · w_j · (Σ_k q_ik · W_q,kj − z_i · Σ_k W_q,kj)

with standard ONNX operators (ReduceMax/ReduceMin, QuantizeLinear on axis 0, MatMulInteger). The zero points
are folded into the column sums of W_q, because ONNX Runtime's MatMulInteger takes only a scalar zero point
for its first input. Each row's result depends on that row alone, not on the rest of the batch. Q is the
scheme's largest weight (127, or 64 where the CPU's kernels would saturate 8-bit weights: int8_scheme).
"""

from __future__ import annotations

import numpy as np

UINT8_LEVELS = 255.0
SMALLEST_SCALE = 1e-12
"""Scale floor, so that an all-zero row quantises to zeros instead of dividing by zero."""


def weight_int8(weight: np.ndarray, weight_max: int) -> tuple[np.ndarray, np.ndarray]:
    """[K, N] fp32 → (int8 [K, N] in [−weight_max, weight_max], fp32 scale [N]): symmetric, one scale per
    output column."""
    scale = np.maximum(np.abs(weight).max(axis=0), SMALLEST_SCALE) / weight_max
    return np.clip(np.round(weight / scale), -weight_max, weight_max).astype(np.int8), scale.astype(np.float32)


class _Builder:
    """Appends the nodes and constants of one rewritten projection, all named under one prefix."""

    def __init__(self, graph, prefix: str):
        self.graph, self.prefix, self.nodes = graph, prefix, []

    def name(self, part: str) -> str:
        return f"{self.prefix}_{part}"

    def const(self, part: str, value) -> str:
        from onnx import numpy_helper

        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value), self.name(part)))
        return self.name(part)

    def op(self, op_type: str, inputs: list[str], part: str, output: str | None = None, **attributes) -> str:
        from onnx import helper

        output = output or self.name(part)
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=self.name(f"{part}_op"), **attributes))
        return output


def row_quantised_nodes(graph, node, weight: np.ndarray, weight_max: int) -> list:
    """The nodes that replace `node` (y = x @ weight, x of any rank ≥ 2), computing y per the module formula."""
    from onnx import TensorProto

    b = _Builder(graph, f"{node.name}_rowq")
    x, y = node.input[0], node.output[0]
    k, n = weight.shape
    w_q, w_scale = weight_int8(weight, weight_max)
    axis1 = b.const("axis1", np.array([1], dtype=np.int64))
    zero = b.const("zero", np.array(0.0, dtype=np.float32))
    levels = b.const("levels", np.array(UINT8_LEVELS, dtype=np.float32))

    rows = b.op("Reshape", [x, b.const("rows_shape", np.array([-1, k], dtype=np.int64))], "rows")
    high = b.op("Max", [b.op("ReduceMax", [rows, axis1], "row_max", keepdims=0), zero], "high")
    low = b.op("Min", [b.op("ReduceMin", [rows, axis1], "row_min", keepdims=0), zero], "low")
    span = b.op("Div", [b.op("Sub", [high, low], "span"), levels], "scale_raw")
    scale = b.op("Max", [span, b.const("smallest", np.array(SMALLEST_SCALE, dtype=np.float32))], "scale")
    zero_point = b.op("Clip", [b.op("Round", [b.op("Neg", [b.op("Div", [low, scale], "low_steps")], "neg")],
                                    "rounded"), zero, levels], "zero_point")
    quantised = b.op("QuantizeLinear", [rows, scale, b.op("Cast", [zero_point], "zero_point_u8",
                                                          to=TensorProto.UINT8)], "quantised", axis=0)
    products = b.op("Cast", [b.op("MatMulInteger", [quantised, b.const("weight", w_q)], "products_i32")],
                    "products", to=TensorProto.FLOAT)
    column_sums = b.const("column_sums", w_q.astype(np.float32).sum(axis=0))
    offset = b.op("Mul", [b.op("Unsqueeze", [zero_point, axis1], "zero_point_col"), column_sums], "offset")
    scales = b.op("Mul", [b.op("Unsqueeze", [scale, axis1], "scale_col"), b.const("weight_scale", w_scale)],
                  "scales")
    flat = b.op("Mul", [b.op("Sub", [products, offset], "centred"), scales], "flat")
    shape = b.op("Concat", [b.op("Shape", [x], "leading", end=-1), b.const("width", np.array([n], np.int64))],
                 "out_shape", axis=0)
    b.op("Reshape", [flat, shape], "out", output=y)
    return b.nodes


def quantize_rows(model, names: list[str], weight_max: int) -> list[str]:
    """Rewrite, in place, the named fp32 MatMul nodes of `model` (an onnx ModelProto) whose weight is a constant
    2-D initializer, with int8 weights in [−weight_max, weight_max]. Returns the names rewritten; others are
    left as they are (fp32, still correct)."""
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    wanted = set(names)
    old = []
    for node in graph.node:  # copies: the repeated field is cleared below
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        old.append(copy)
    new, rewritten, replaced_weights = [], [], set()
    for node in old:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        if node.name in wanted and weight is not None and len(weight.dims) == 2:
            new.extend(row_quantised_nodes(graph, node, numpy_helper.to_array(weight).astype(np.float32), weight_max))
            rewritten.append(node.name)
            replaced_weights.add(node.input[1])
        else:
            new.append(node)
    del graph.node[:]
    graph.node.extend(new)
    drop_unread(graph, replaced_weights)
    return rewritten


def drop_unread(graph, names: set[str]) -> None:
    """Remove the initializers in `names` (the replaced fp32 weights) that no node reads any more."""
    unread = names - {name for node in graph.node for name in node.input}
    for index in reversed(range(len(graph.initializer))):
        if graph.initializer[index].name in unread:
            del graph.initializer[index]
