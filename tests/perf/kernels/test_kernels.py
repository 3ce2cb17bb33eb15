"""Kernel time model: roofline limits, wave quantization, dtype fallbacks, attention FLOPs."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from scalelab.core.catalog import load_accelerator
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS as P
from scalelab.perf.kernels.tiles import wave_efficiency
from scalelab.perf.kernels.timing import (
    attention_flops,
    attention_time_s,
    compute_dtype,
    gemm_time_s,
    grouped_gemm_time_s,
    launch_time_s,
    memory_bound_time_s,
)

H200 = load_accelerator("h200-sxm-141gb")
A100 = load_accelerator("a100-sxm4-80gb")


def test_large_gemm_runs_at_the_fitted_fraction_of_peak():
    # 8192^3: 64 x 32 tiles of 128 x 256 = 2048 tiles -> 16 waves of 132 SMs, 2048 / 2112 busy
    t = float(gemm_time_s(8192, 8192, 8192, "bf16", H200))
    expected = 2 * 8192**3 / (P.gemm_frac["bf16"] * 989.4e12 * 2048 / 2112) + P.kernel_floor_s
    assert t == pytest.approx(expected, rel=1e-9)


def test_skinny_gemm_is_bandwidth_bound():
    # one token against a 7168 x 7168 bf16 weight: ~102.8 MB at the weight-streaming fraction
    t = float(gemm_time_s(1, 7168, 7168, "bf16", H200))
    nbytes = (7168 + 7168 * 7168 + 7168) * 2
    assert t == pytest.approx(P.kernel_floor_s + nbytes / (P.gemm_memory_frac * 4.8e12), rel=1e-9)


def test_measured_moe_bmm_is_reproduced_within_20_percent():
    # h200_micro.json moe_bmm, 64 experts x 256 tokens, d 7168, ffn 2048: 2.23 ms measured
    t = grouped_gemm_time_s(64, 256, 4096, 7168, "bf16", H200) + grouped_gemm_time_s(
        64, 256, 7168, 2048, "bf16", H200
    )
    assert float(t) == pytest.approx(2.2327e-3, rel=0.2)


def _moe_records():
    path = resources.files("scalelab.validate") / "cases" / "h200_micro.json"
    return [r for r in json.loads(path.read_text())["records"] if r["kind"] == "moe_bmm"]


@pytest.mark.parametrize(
    "record",
    _moe_records(),
    ids=lambda r: f"{r['params']['experts']}x{r['params']['tokens_per_expert']}",
)
def test_every_measured_moe_bmm_within_20_percent(record):
    """All four torch.bmm expert FFNs of h200_micro.json (two stream 22 GB of weights, two are
    compute-bound): both expert GEMMs through grouped_gemm_time_s, the SwiGLU between them (reads 2 ffn,
    writes ffn bf16 values per token) and the wall-clock overhead."""
    p = record["params"]
    e, t, d, f = p["experts"], p["tokens_per_expert"], p["d"], p["ffn"]
    predicted = (
        grouped_gemm_time_s(e, t, 2 * f, d, "bf16", H200)
        + grouped_gemm_time_s(e, t, d, f, "bf16", H200)
        + memory_bound_time_s(3 * e * t * f * 2, H200, "act")
        + P.micro_wall_overhead_s
    )
    assert float(predicted) == pytest.approx(record["time_s"], rel=0.2)


def test_grouped_and_single_gemms_stream_at_their_own_fractions():
    one = float(gemm_time_s(1, 7168, 7168, "bf16", H200)) - P.kernel_floor_s
    many = float(grouped_gemm_time_s(8, 1, 7168, 7168, "bf16", H200)) - P.kernel_floor_s
    assert many / one == pytest.approx(
        8 * P.gemm_memory_frac / P.grouped_gemm_memory_frac, rel=1e-6
    )


def test_a_grouped_launch_keeps_its_fraction_down_to_one_group():
    """The kernel kind decides the streaming fraction, not the group count: one local expert costs
    half of two (no jump when expert parallelism leaves one expert per device)."""
    one, two = (
        float(grouped_gemm_time_s(g, 16, 4096, 7168, "bf16", H200)) - P.kernel_floor_s
        for g in (1, 2)
    )
    assert two == pytest.approx(2 * one, rel=1e-9)


def test_wave_quantization():
    assert float(wave_efficiency(144, 108)) == pytest.approx(144 / 216)
    assert float(wave_efficiency(100, 108)) == 1.0  # less than one wave: split to fill
    assert float(wave_efficiency(432, 108)) == 1.0


def test_fp8_falls_back_to_bf16_without_fp8_units():
    assert compute_dtype("fp8", A100) == "bf16"
    assert compute_dtype("fp8", H200) == "fp8"
    assert float(gemm_time_s(8192, 8192, 8192, "fp8", A100)) == float(
        gemm_time_s(8192, 8192, 8192, "bf16", A100)
    )


def test_fewer_sms_slow_compute_bound_gemms():
    full = float(gemm_time_s(8192, 8192, 8192, "bf16", H200))
    reserved = float(gemm_time_s(8192, 8192, 8192, "bf16", H200, sm_frac=112 / 132))
    assert reserved > full * 1.15


def test_memory_bound_op_classes():
    nbytes = 1e9
    assert float(memory_bound_time_s(nbytes, H200, "copy")) == pytest.approx(
        P.kernel_floor_s + nbytes / (P.copy_frac * 4.8e12)
    )
    assert float(memory_bound_time_s(nbytes, H200, "act")) > float(
        memory_bound_time_s(nbytes, H200, "norm")
    )
    assert float(memory_bound_time_s(0.0, H200)) == 0.0


def test_attention_flops_causal_halves():
    full = float(attention_flops(1, 32, 4096, 4096, 128, 128, causal=False))
    assert full == 2 * 32 * 4096 * 4096 * 256
    assert float(attention_flops(1, 32, 4096, 4096, 128, 128, causal=True)) == full / 2


def test_measured_attention_within_10_percent():
    # h200_kernels.json sdpa_fwd b=2 h=32 s=4096 d=128 causal: 0.519 ms; fwd+bwd 2.11 ms
    fwd = float(attention_time_s(2, 32, 4096, 4096, 128, 128, True, H200))
    bwd = float(attention_time_s(2, 32, 4096, 4096, 128, 128, True, H200, backward=True))
    assert fwd == pytest.approx(0.519e-3, rel=0.1)
    assert fwd + bwd == pytest.approx(2.11e-3, rel=0.1)


def test_launch_time():
    assert float(launch_time_s(100)) == pytest.approx(100 * P.eager_launch_s)
    assert float(launch_time_s(np.array([100]), cuda_graphs=True)[0]) == pytest.approx(
        100 * P.graph_launch_s
    )
