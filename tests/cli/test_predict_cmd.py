"""`scalelab predict train`: JSON fields, tables, one-line errors, impossible vs non-fitting plans."""

from __future__ import annotations

import json

import pytest

SCENARIO = """
model = "deepseek-v3"
[hardware]
accelerator = "h800-sxm5-80gb"
num_devices = {n}
[parallel]
{parallel}
[workload]
global_batch_size = {gbs}
seq_len = 4096
train_tokens = 1e12
"""


def _write(
    tmp_path,
    n=2048,
    parallel="dp = 128\npp = 16\nep = 64\nschedule = 'dualpipe'\nzero_stage = 1",
    gbs=15360,
):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(n=n, parallel=parallel, gbs=gbs))
    return str(path)


def test_json_carries_the_documented_fields(cli, tmp_path):
    code, out, err = cli("predict", "train", _write(tmp_path), "--json")
    assert code == 0, err
    data = json.loads(out)["results"]
    for key in (
        "step_time_s",
        "mfu",
        "tokens_per_s",
        "memory_per_device_bytes",
        "fits_in_memory",
        "breakdown_s",
        "device_hours",
        "cost_usd",
        "energy_kwh",
    ):
        assert key in data
    assert abs(sum(data["breakdown_s"].values()) - data["step_time_s"]) < 1e-9 * data["step_time_s"]
    assert data["device_hours"] == pytest.approx(2048 * 1e12 / data["tokens_per_s"] / 3600)


def test_examples_print_tables(cli):
    for path in ("examples/deepseek-v3-train.toml", "examples/llama3-405b-train.toml"):
        code, out, err = cli("predict", "train", path)
        assert code == 0, err
        assert "Step time breakdown" in out and "Memory per device" in out


@pytest.mark.parametrize(
    "parallel, n, words",
    [
        ("dp = 100\npp = 16", 2048, "degrees do not match"),
        ("dp = 4\nep = 512", 4, "does not divide the 256 routed experts"),
        ("dp = 2\ntp = 3", 6, "tp 3 does not divide"),
    ],
)
def test_impossible_plans_are_one_line_errors(cli, tmp_path, parallel, n, words):
    code, out, err = cli("predict", "train", _write(tmp_path, n=n, parallel=parallel, gbs=96))
    assert code == 1
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_plan_that_does_not_fit_is_a_result(cli, tmp_path):
    code, out, err = cli(
        "predict", "train", _write(tmp_path, n=64, parallel="dp = 64\nep = 64", gbs=64), "--json"
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["fits_in_memory"] is False
    assert data["memory_overflow_bytes"] > 0


def test_bad_file_is_one_line(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("model = [")
    code, _, err = cli("predict", "train", str(bad))
    assert code == 1 and len(err.strip().splitlines()) == 1
    code, _, err = cli("predict", "train", str(tmp_path / "missing.toml"))
    assert code == 1 and "not found" in err


PROFILE = """id = "calibrated-test"
name = "test CPU"
kind = "cpu"
peak_fp32_tflops = 0.1
peak_bf16_tflops = 0.2
hbm_gb = 16
hbm_bandwidth_tb_per_s = 0.02
scale_up_kind = "gloo-local"
scale_up_bandwidth_gb_per_s_per_direction = 1.0
tdp_w = 15.0
default_devices_per_node = 2

[sources]
peak = "test"
hbm = "test"
scale_up = "test"
tdp_w = "test"
default_devices_per_node = "test"

[measured]
op_overhead_s = 0.0

[[measured.gemm]]
dtype = "fp32"
m = 1024
n = 1024
k = 1024
flops_per_s = {rate}
"""

LAB_SCENARIO = """[model]
num_layers = 4
hidden_size = 256
num_attention_heads = 4
ffn_hidden_size = 1024
vocab_size = 256

[hardware]
accelerator = "h100-sxm5-80gb"
num_devices = 2
devices_per_node = 2

[parallel]
dp = 2
precision = "fp32"
schedule = "none"

[workload]
global_batch_size = 16
seq_len = 128
"""


def test_hardware_profile_rates_drive_the_prediction(tmp_path):
    import json

    from typer.testing import CliRunner

    from scalelab.cli.main import app

    scenario = tmp_path / "lab.toml"
    scenario.write_text(LAB_SCENARIO)
    steps = {}
    for rate in (25e9, 50e9):
        profile = tmp_path / f"cpu-{int(rate)}.toml"
        profile.write_text(PROFILE.replace("{rate}", str(rate)))
        result = CliRunner().invoke(
            app, ["predict", "train", str(scenario), "--hardware", str(profile), "--json"]
        )
        assert result.exit_code == 0, result.output
        steps[rate] = json.loads(result.output)["results"]["breakdown_s"]["compute"]
    # matmuls dominate this model's compute: half the measured GEMM rate, about twice the time
    assert 1.6 < steps[25e9] / steps[50e9] <= 2.0


def test_unknown_optimization_exits_1_with_the_valid_names(cli, tmp_path):
    parallel = (
        "dp = 128\npp = 16\nep = 64\nschedule = 'dualpipe'\noptimizations = ['tp-comm-overlapp']"
    )
    code, out, err = cli("predict", "train", _write(tmp_path, parallel=parallel))
    assert code == 1
    assert "unknown optimization 'tp-comm-overlapp'" in err and "tp-comm-overlap," in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
