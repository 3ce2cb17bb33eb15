import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalelab.core.errors import ConfigError
from scalelab.core.units import (
    dtype_bytes,
    normalize_units,
    parse_count,
    sequences_in_batch,
    to_si_key,
)


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


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2048", 2048.0),
        ("16M", 16e6),
        ("16m", 16e6),
        ("14.8T", 14.8e12),
        ("70B", 70e9),
        ("2k", 2000.0),
        ("1.5e3", 1500.0),
        ("16Mi", 2.0**24),
        ("4Ki", 4096.0),
        ("1Gi", 2.0**30),
        ("2Ti", 2.0**41),
    ],
)
def test_count_suffixes_are_decimal_unless_binary_is_written(text, value):
    assert parse_count(text, "--x") == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text", ["", "M", "16 MB", "16Mib", "-3", "1,000", "16X"])
def test_bad_counts_name_the_flag(text):
    with pytest.raises(ConfigError, match="--batch-tokens"):
        parse_count(text, "--batch-tokens")


def test_batch_tokens_must_divide_into_whole_sequences():
    # DeepSeek-V3: 15,360 sequences of 4,096 = 62,914,560 tokens = 60Mi
    assert sequences_in_batch("60Mi", 4096) == 15360
    assert sequences_in_batch("4Mi", 8192) == 512
    assert sequences_in_batch("8192000", 8192) == 1000
    with pytest.raises(ConfigError) as info:
        sequences_in_batch("63M", 4096)
    msg = str(info.value)
    # 63e6 / 4096 = 15,380.86: the neighbours are 15,380 and 15,381 sequences
    assert "62,996,480" in msg and "63,000,576" in msg and "--global-batch 15380" in msg
    assert "Mi" in msg and "\n" not in msg


def test_batch_smaller_than_one_sequence_names_one_sequence():
    with pytest.raises(ConfigError, match="4,096"):
        sequences_in_batch("1k", 4096)
