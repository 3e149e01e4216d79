"""The int8 scheme (rewardkit.export.int8_scheme): chosen from whether this CPU's kernels saturate 8-bit
weights, and exact on the CPU that runs it. test_emulated_cpus.py runs this module on an AVX2-only CPU too."""

import pytest

pytest.importorskip("onnxruntime")

from rewardkit.errors import ConfigError  # noqa: E402
from rewardkit.export.int8_scheme import (  # noqa: E402
    EIGHT_BIT,
    SEVEN_BIT,
    cpu_record,
    exact_schemes,
    pair_sums_saturate,
    scheme_for,
    scheme_named,
    worst_case_product,
)


def test_saturating_kernels_get_seven_bit_weights_and_others_eight():
    assert scheme_for(pair_sums_saturate=True) is SEVEN_BIT and SEVEN_BIT.reduce_range
    assert scheme_for(pair_sums_saturate=False) is EIGHT_BIT and not EIGHT_BIT.reduce_range


def test_seven_bit_weights_are_exact_everywhere_and_eight_bit_only_without_saturation():
    assert exact_schemes(pair_sums_saturate=True) == [SEVEN_BIT]
    assert exact_schemes(pair_sums_saturate=False) == [EIGHT_BIT, SEVEN_BIT]


def test_seven_bit_pair_sums_fit_int16_and_eight_bit_ones_do_not():
    assert 2 * 255 * SEVEN_BIT.weight_max <= 32767 < 2 * 255 * EIGHT_BIT.weight_max


def test_the_scheme_this_cpu_gets_multiplies_the_worst_case_exactly():
    scheme = scheme_named("auto")
    got, exact = worst_case_product(scheme.weight_max)
    assert got == exact
    assert worst_case_product(SEVEN_BIT.weight_max) == (255 * 64 * 64,) * 2  # exact on every CPU


def test_eight_bit_saturation_is_what_the_probe_reports():
    got, exact = worst_case_product(EIGHT_BIT.weight_max)
    assert pair_sums_saturate() == (got != exact)
    if pair_sums_saturate():  # the AVX2 kernel: every pair of products clamps to 32767
        assert got == 32767 * 64 // 2


def test_cpu_record_names_the_cpu_and_what_its_kernels_do():
    record = cpu_record()
    assert record["cpu"] and record["isa"] in ("DEFAULT", "NO AVX", "AVX2", "AVX512", "VSX", "Z VECTOR", "SVE256")
    assert record["u8s8_saturates"] is pair_sums_saturate()


def test_unknown_scheme_names_the_known_ones():
    with pytest.raises(ConfigError, match="known: auto, u8s8, u8s7"):
        scheme_named("u4s4")


def test_eight_bit_weights_are_refused_where_the_kernels_saturate(monkeypatch):
    from rewardkit.export import int8_scheme

    monkeypatch.setattr(int8_scheme, "pair_sums_saturate", lambda: True)
    with pytest.raises(ConfigError, match="u8s8 needs VNNI or AMX"):
        scheme_named("u8s8")
    assert scheme_named("u8s7") is SEVEN_BIT and scheme_named("auto") is SEVEN_BIT
    monkeypatch.setattr(int8_scheme, "pair_sums_saturate", lambda: False)
    assert scheme_named("u8s8") is EIGHT_BIT and scheme_named("auto") is EIGHT_BIT
