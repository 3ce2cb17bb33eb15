"""Calibration timings on a tiny budget, and the profile they become (catalog format, loadable)."""

from __future__ import annotations

import tomllib

import pytest
import torch

from scalelab.core.scenario import resolve_accelerator, resolve_cluster
from scalelab.lab.calibrate.measure import (
    measure_attention,
    measure_elementwise,
    measure_gemm,
    measure_memory,
    measure_op_overhead,
    time_call,
)
from scalelab.lab.calibrate.profile import profile_mapping, write_profile
from scalelab.lab.calibrate.run import Calibration
from scalelab.lab.calibrate.tomlout import dumps_toml

CPU = torch.device("cpu")


def fake_calibration(**overrides) -> Calibration:
    fields = dict(
        device_type="cpu",
        device_name="Test CPU",
        vendor="Test",
        host="my host.example",
        date="2026-01-01",
        torch_version="2.13.0",
        num_processes=2,
        threads_per_process=1,
        memory_per_device_bytes=8e9,
        op_overhead_s=2e-6,
        gemm=[
            {"dtype": "fp32", "m": 64, "n": 64, "k": 64, "time_s": 1e-5, "flops_per_s": 5e10},
            {"dtype": "fp32", "m": 128, "n": 128, "k": 128, "time_s": 5e-5, "flops_per_s": 8e10},
            {"dtype": "bf16", "m": 128, "n": 128, "k": 128, "time_s": 3e-5, "flops_per_s": 1.2e11},
        ],
        memory=[
            {"op": "copy", "size_bytes": 1 << 20, "time_s": 1e-4, "bytes_per_s": 2e10},
            {"op": "add", "dtype": "fp32", "size_bytes": 1 << 20, "time_s": 1e-5, "bytes_per_s": 9e10},
        ],
        all_reduce=[
            {"size_bytes": 4096, "num_ranks": 2, "time_s": 1e-4, "algbw_bytes_per_s": 4e7,
             "busbw_bytes_per_s": 4e7},
            {"size_bytes": 1 << 20, "num_ranks": 2, "time_s": 1e-3, "algbw_bytes_per_s": 1e9,
             "busbw_bytes_per_s": 1e9},
        ],
    )  # fmt: skip
    return Calibration(**{**fields, **overrides})


def test_time_call_returns_the_median_of_real_calls():
    calls = []
    t = time_call(lambda: calls.append(1), CPU, min_time_s=0.0, min_repeats=5)
    assert t >= 0 and len(calls) == 2 + 5


def test_measurements_give_positive_rates():
    (gemm,) = measure_gemm([(32, 48, 16)], "fp32", CPU, 0.0)
    assert gemm["flops_per_s"] == pytest.approx(2 * 32 * 48 * 16 / gemm["time_s"])
    mem = measure_memory(1 << 16, CPU, 0.0)
    assert mem["bytes_per_s"] == pytest.approx(2 * (1 << 16) / mem["time_s"])
    (attn,) = measure_attention([(1, 2, 16, 8)], "fp32", CPU, 0.0)
    assert attn["fwd_bwd_time_s"] > 0 and attn["fwd_time_s"] > 0
    assert 0 < measure_op_overhead(CPU, 0.0) < 1e-2
    ops = measure_elementwise(1 << 14, "bf16", CPU, 0.0)
    assert [r["op"] for r in ops] == ["add", "act", "norm", "softmax"]
    assert all(r["size_bytes"] == 1 << 14 and r["bytes_per_s"] > 0 for r in ops)


def test_profile_is_a_catalog_accelerator_with_measured_tables(tmp_path):
    path = tmp_path / "profile.toml"
    write_profile(path, fake_calibration())
    raw = tomllib.loads(path.read_text())
    assert raw["id"] == "calibrated-cpu-my-host-example"
    assert raw["peak_fp32_tflops"] == pytest.approx(0.08)  # best fp32 rate
    assert "2026-01-01" in raw["sources"]["peak"] and "torch 2.13.0" in raw["sources"]["peak"]
    assert "tdp_w" in raw["assumptions"]
    acc = resolve_accelerator(str(path), "profile")
    assert acc.kind == "cpu"
    assert acc.peak_bf16_flops_per_s == pytest.approx(1.2e11)
    assert acc.hbm_bandwidth_bytes_per_s == pytest.approx(2e10)  # the copy, not other ops
    assert acc.scale_up_bandwidth_bytes_per_s_per_direction == pytest.approx(1e9)
    assert acc.default_devices_per_node == 2
    assert acc.measured["gemm"][0]["m"] == 64
    assert acc.measured["all_reduce_latency_s"] == pytest.approx(1e-4)
    cluster = resolve_cluster({"accelerator": str(path), "num_devices": 2})
    assert cluster.scale_up.kind == "gloo-local"


def test_single_process_profile_has_no_link():
    data = profile_mapping(fake_calibration(num_processes=1, all_reduce=[]))
    assert "scale_up_bandwidth_gb_per_s_per_direction" not in data
    assert data["measured"]["all_reduce_latency_s"] == 0.0


def test_toml_writer_round_trips():
    data = {
        "a": 1,
        "b": 2.5,
        "s": 'q"uote',
        "t": {"x": [1, 2], "rows": [{"k": True}, {"k": False}]},
    }
    assert tomllib.loads(dumps_toml(data)) == data
