import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalelab.core.units import dtype_bytes, normalize_units, to_si_key


@pytest.mark.parametrize(
    ("key", "si_key", "factor"),
    [
        ("nic_gbit_per_s", "nic_bytes_per_s", 1.25e8),
        ("bandwidth_gb_per_s_per_direction", "bandwidth_bytes_per_s_per_direction", 1e9),
        ("peak_bf16_tflops", "peak_bf16_flops_per_s", 1e12),
        ("hbm_gib", "hbm_bytes", 2**30),
        ("hbm_gb", "hbm_bytes", 1e9),
        ("hbm_bandwidth_tb_per_s", "hbm_bandwidth_bytes_per_s", 1e12),
        ("latency_us", "latency_s", 1e-6),
        ("num_layers", "num_layers", 1.0),
        ("comm_sms", "comm_sms", 1.0),
    ],
)
def test_to_si_key(key, si_key, factor):
    assert to_si_key(key) == (si_key, pytest.approx(factor))


def test_normalize_nested_tables_and_keeps_bools():
    out = normalize_units({"scale_out": {"nic_gbit_per_s": 400, "kind": "ib"}, "flag_gb": True})
    assert out["scale_out"]["nic_bytes_per_s"] == pytest.approx(50e9)
    assert out["flag_bytes"] is True


@given(st.floats(min_value=1e-6, max_value=1e6))
def test_gb_and_gbit_round_trip(x):
    gb = normalize_units({"a_gb_per_s": x})["a_bytes_per_s"]
    gbit = normalize_units({"a_gbit_per_s": 8 * x})["a_bytes_per_s"]
    assert gb == pytest.approx(gbit)
    assert gb / 1e9 == pytest.approx(x)


def test_dtype_bytes():
    assert dtype_bytes("bf16") == 2 and dtype_bytes("fp8") == 1 and dtype_bytes("int4") == 0.5
