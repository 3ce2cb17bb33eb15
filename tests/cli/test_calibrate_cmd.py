"""`scalelab calibrate`: writes a loadable profile; bad input is one line and exit code 1."""

from __future__ import annotations

import json

import pytest
import torch

from scalelab.core.scenario import resolve_accelerator


def test_calibrate_quick_single_process_writes_a_profile(cli, tmp_path):
    path = tmp_path / "cpu.toml"
    code, stdout, stderr = cli(
        "calibrate", "--device", "cpu", "--nproc", "1", "--quick", "--out", str(path)
    )
    assert code == 0, stderr
    assert "GEMM" in stdout and "TFLOP/s" in stdout and path.is_file()
    acc = resolve_accelerator(str(path), "profile")
    assert acc.kind == "cpu" and acc.peak_fp32_flops_per_s > 1e8
    assert acc.measured["num_processes"] == 1 and acc.measured["gemm"]


def test_calibrate_json(cli, tmp_path):
    path = tmp_path / "p.toml"
    code, stdout, _ = cli(
        "calibrate", "--device", "cpu", "--nproc", "1", "--quick", "--out", str(path), "--json"
    )
    assert code == 0
    data = json.loads(stdout)
    assert data["profile"] == str(path) and data["measured"]["gemm"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_calibrate_cuda_without_cuda_is_one_line_error(cli, tmp_path):
    code, _, stderr = cli("calibrate", "--device", "cuda", "--out", str(tmp_path / "x.toml"))
    assert code == 1
    assert "CUDA is not available" in stderr and len(stderr.strip().splitlines()) == 1
