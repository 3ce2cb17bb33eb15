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
    data = json.loads(stdout)["results"]
    assert data["profile"] == str(path) and data["measured"]["gemm"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_calibrate_cuda_without_cuda_is_one_line_error(cli, tmp_path):
    code, _, stderr = cli("calibrate", "--device", "cuda", "--out", str(tmp_path / "x.toml"))
    assert code == 1
    assert "CUDA is not available" in stderr and len(stderr.strip().splitlines()) == 1


@pytest.mark.dist
@pytest.mark.slow
def test_distributed_train_prints_measured_next_to_predicted(tmp_path, capsys):
    from scalelab.cli.calibrate_cmd import train_distributed
    from scalelab.lab.calibrate.profile import write_profile
    from scalelab.lab.calibrate.run import calibrate
    from scalelab.lab.calibrate.tomlout import dumps_toml

    profile = tmp_path / "cpu.toml"
    write_profile(profile, calibrate("cpu", nproc=1, quick=True))
    run = {
        "model": {"seq_len": 16, "d_model": 32, "n_layers": 2, "n_heads": 2},
        "train": {"steps": 4, "batch_size": 4, "device": "cpu", "log_every": 1},
        "output": {"dir": "out", "tensorboard": False},
        "parallel": {"dp": 2},
    }
    run_file = tmp_path / "run.toml"
    run_file.write_text(dumps_toml(run))
    train_distributed(run_file, 2, {}, hardware=profile, as_json=True)
    data = json.loads(capsys.readouterr().out)["results"]
    assert data["world_size"] == 2 and data["end_step"] == 4
    assert data["comparison"]["predicted_step_time_s"] > 0
    assert data["comparison"]["measured_step_time_s"] == pytest.approx(data["median_step_time_s"])
    assert (tmp_path / "out" / "dcp" / "latest").read_text() == "step_00000004"


def test_parallel_run_file_without_nproc_is_one_line_error(cli, tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text("[parallel]\ndp = 2\n")
    code, _, stderr = cli("train", str(run_file))
    assert code == 1 and "--nproc" in stderr and len(stderr.strip().splitlines()) == 1


def test_impossible_plan_fails_before_launching(cli, tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text("[parallel]\ntp = 3\n")
    code, _, stderr = cli("train", str(run_file), "--nproc", "2")
    assert code == 1 and "does not divide 2 processes" in stderr
