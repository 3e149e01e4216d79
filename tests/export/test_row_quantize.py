"""Per-token int8 projections (rewardkit.export.row_quantize): the rewritten graph computes the module's
formula, each row's result depends on that row alone, and nodes it cannot rewrite are left alone.

Every numerical test uses the int8 scheme the running CPU gets (8-bit weights with VNNI/AMX, 7-bit without),
so the integer arithmetic is exact on both kinds and the formula holds to float rounding; the closeness to
fp32 is bounded by the scheme's rounding error. test_emulated_cpus.py runs this module on an AVX2-only CPU."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from rewardkit.export.int8_scheme import pair_sums_saturate, scheme_for  # noqa: E402
from rewardkit.export.row_quantize import quantize_rows, weight_int8  # noqa: E402

K, N = 48, 8
SCHEME = scheme_for(pair_sums_saturate())


def matmul_model(weight: np.ndarray, rank: int = 2, constant_weight: bool = True):
    """y = x @ weight, x of shape [M, K] (rank 2) or [B, S, K] (rank 3), as one MatMul node named `proj`."""
    x_shape = ["m", K] if rank == 2 else ["b", "s", K]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)]
    initializers = [numpy_helper.from_array(weight, "w")] if constant_weight else []
    if not constant_weight:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [K, N]))
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")], "g", inputs,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*x_shape[:-1], N])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)


def run(model, **feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def reference(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The module docstring's formula in numpy (round half to even, as QuantizeLinear rounds)."""
    w_q, w_scale = weight_int8(weight, SCHEME.weight_max)
    low, high = np.minimum(x.min(axis=1), 0), np.maximum(x.max(axis=1), 0)
    scale = np.maximum((high - low) / 255, 1e-12).astype(np.float32)
    zero_point = np.clip(np.round(-low / scale), 0, 255)
    q = np.clip(np.round(x / scale[:, None]) + zero_point[:, None], 0, 255)
    return scale[:, None] * w_scale[None, :] * ((q - zero_point[:, None]) @ w_q.astype(np.float64))


@pytest.fixture
def weight():
    return np.random.default_rng(0).normal(size=(K, N)).astype(np.float32)


def rewritten(weight, rank=2):
    model = matmul_model(weight, rank)
    assert quantize_rows(model, ["proj"], SCHEME.weight_max) == ["proj"]
    onnx.checker.check_model(model)
    ops = [node.op_type for node in model.graph.node]
    assert "MatMul" not in ops and ops.count("MatMulInteger") == 1
    assert "w" not in {t.name for t in model.graph.initializer}  # the fp32 weight is gone
    return model


def test_rewritten_projection_computes_the_formula_and_stays_close_to_fp32(weight):
    x = np.random.default_rng(1).gamma(1.0, size=(6, K)).astype(np.float32) - 0.1
    y = run(rewritten(weight), x=x)
    np.testing.assert_allclose(y, reference(x, weight), rtol=1e-5, atol=1e-5)
    exact = x @ weight
    # each product is off by at most half a weight step and half an activation step (relative to their ranges)
    assert np.abs(y - exact).max() < 2 * SCHEME.relative_error * np.abs(exact).max()


def test_each_row_depends_on_that_row_alone(weight):
    x = np.random.default_rng(2).normal(size=(4, K)).astype(np.float32)
    with_outlier = x.copy()
    with_outlier[3, 5] = 500.0  # one token with a huge activation
    model = rewritten(weight)
    np.testing.assert_array_equal(run(model, x=x)[:3], run(model, x=with_outlier)[:3])


def test_rank3_input_keeps_its_leading_shape(weight):
    x = np.random.default_rng(3).normal(size=(2, 5, K)).astype(np.float32)
    y = run(rewritten(weight, rank=3), x=x)
    assert y.shape == (2, 5, N)
    np.testing.assert_allclose(y.reshape(10, N), reference(x.reshape(10, K), weight), rtol=1e-5, atol=1e-5)


def test_all_zero_row_gives_zeros(weight):
    x = np.zeros((2, K), dtype=np.float32)
    x[1] = 1.0
    y = run(rewritten(weight), x=x)
    assert np.isfinite(y).all() and not y[0].any()


def test_node_without_constant_weight_is_left_fp32(weight):
    model = matmul_model(weight, constant_weight=False)
    assert quantize_rows(model, ["proj"], SCHEME.weight_max) == []
    assert [node.op_type for node in model.graph.node] == ["MatMul"]


def test_weights_stay_within_the_scheme_range(weight):
    for weight_max in (127, 64):
        w_q, scale = weight_int8(weight, weight_max)
        assert np.abs(w_q).max() == weight_max and (np.abs(w_q) <= weight_max).all()
        np.testing.assert_allclose(w_q * scale, weight, atol=scale.max() / 2 + 1e-7)
