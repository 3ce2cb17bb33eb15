"""A calibrated profile's own timings drive the kernel model for that device."""

import pytest

from scalelab.core.catalog import load_accelerator
from scalelab.core.scenario import resolve_cluster
from scalelab.perf.comm import comm_tiers
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS
from scalelab.perf.kernels.measured import kernel_params_for
from scalelab.perf.kernels.timing import gemm_time_s, memory_bound_time_s


def _profile(**measured):
    base = load_accelerator("h100-sxm5-80gb").model_dump()
    base.update(
        id="calibrated-test",
        peak_fp32_flops_per_s=100e9,
        peak_bf16_flops_per_s=200e9,
        hbm_bandwidth_bytes_per_s=10e9,
        measured=measured,
    )
    return type(load_accelerator("h100-sxm5-80gb")).model_validate(base)


GEMMS = [  # fp32 rates 20, 40, 50, 60 GFLOP/s at growing sizes: the larger half's median is 55
    {"dtype": "fp32", "m": 128, "n": 128, "k": 128, "flops_per_s": 20e9},
    {"dtype": "fp32", "m": 256, "n": 256, "k": 256, "flops_per_s": 40e9},
    {"dtype": "fp32", "m": 512, "n": 512, "k": 512, "flops_per_s": 50e9},
    {"dtype": "fp32", "m": 1024, "n": 1024, "k": 1024, "flops_per_s": 60e9},
]


def test_datasheet_devices_use_the_h200_fit_rescaled_by_their_published_rates():
    h200 = kernel_params_for(load_accelerator("h200-sxm-141gb"))
    assert h200.gemm_frac == pytest.approx(H200_KERNEL_PARAMS.gemm_frac)
    h800 = kernel_params_for(load_accelerator("h800-sxm5-80gb"))
    assert h800.gemm_frac["bf16"] == pytest.approx(0.76)  # same MAMF as the H200 (80.3%)
    # fp8: H100/H800 MAMF 70.9% of peak vs the H200's 73.4%
    assert h800.gemm_frac["fp8"] == pytest.approx(0.68 * (1402.6 / 1978.9) / (1453.4 / 1978.9))
    a100 = kernel_params_for(load_accelerator("a100-sxm4-80gb"))
    assert a100.gemm_frac["bf16"] == pytest.approx(0.76 * (249.7 / 312) / (794.5 / 989.4))
    tpu = kernel_params_for(load_accelerator("tpu-v5p"))  # no published rate: the H200's
    assert tpu is H200_KERNEL_PARAMS


def test_measured_gemm_rate_sets_the_fraction():
    acc = _profile(gemm=GEMMS, op_overhead_s=10e-6)
    params = kernel_params_for(acc)
    assert params.gemm_frac["fp32"] == pytest.approx(0.55)  # 55 of 100 GFLOP/s
    assert params.gemm_frac["bf16"] == pytest.approx(0.55)  # not measured: mean of measured dtypes
    m = n = k = 2048
    expected = 10e-6 + 2 * m * n * k / 55e9
    assert gemm_time_s(m, n, k, "fp32", acc) == pytest.approx(expected, rel=1e-6)


def test_measured_bandwidth_is_used_whole():
    acc = _profile(gemm=GEMMS, op_overhead_s=0.0)
    assert memory_bound_time_s(1e9, acc, "norm") == pytest.approx(0.1)  # 1 GB at 10 GB/s


def test_measured_link_skips_the_achievable_fraction():
    acc = load_accelerator("h100-sxm5-80gb")
    nominal = resolve_cluster(
        {
            "accelerator": acc.id,
            "num_devices": 8,
            "scale_up": {"kind": "x", "bandwidth_gb_per_s_per_direction": 100},
        }
    )
    measured = resolve_cluster(
        {
            "accelerator": acc.id,
            "num_devices": 8,
            "scale_up": {
                "kind": "x",
                "bandwidth_gb_per_s_per_direction": 100,
                "achievable_frac": 1.0,
            },
        }
    )
    assert comm_tiers(nominal).up_bytes_per_s == pytest.approx(80e9)  # 0.8 of nominal (NCCL)
    assert comm_tiers(measured).up_bytes_per_s == pytest.approx(100e9)
