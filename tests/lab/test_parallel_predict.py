"""The analytic model's prediction of a lab run from a calibrated profile (no processes)."""

from __future__ import annotations

import pytest

from scalelab.lab.calibrate.profile import write_profile
from scalelab.lab.calibrate.run import Calibration
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.config import dist_run_from_mapping
from scalelab.lab.parallel.predict import (
    cluster_spec,
    compare_step_time,
    executed_plan,
    model_spec,
    predict_run,
)
from scalelab.perf.model.params import count_params


def fake_calibration(gemm_flops_per_s: float = 8e10) -> Calibration:
    gemm = [{"dtype": d, "m": 128, "n": 128, "k": 128, "time_s": 1.0, "flops_per_s": gemm_flops_per_s}
            for d in ("fp32", "bf16")]  # fmt: skip
    ar = {"size_bytes": 4096, "num_ranks": 2, "time_s": 1e-4, "algbw_bytes_per_s": 4e7,
          "busbw_bytes_per_s": 1e9}  # fmt: skip
    memory = {"op": "copy", "size_bytes": 1 << 20, "time_s": 1e-4, "bytes_per_s": 2e10}
    return Calibration(
        device_type="cpu", device_name="Test CPU", vendor="Test", host="h", date="2026-01-01",
        torch_version="2.13.0", num_processes=2, threads_per_process=1,
        memory_per_device_bytes=8e9, op_overhead_s=2e-6, gemm=gemm, memory=[memory],
        all_reduce=[ar],
    )  # fmt: skip


RUN = {
    "model": {"seq_len": 64, "d_model": 128, "n_layers": 2, "n_heads": 4, "d_ff": 384},
    "train": {"batch_size": 8, "device": "cpu"},
    "parallel": {"dp": 2},
}


def test_model_spec_counts_the_lab_transformer_parameters():
    cfg = TransformerConfig(**RUN["model"], tie_embeddings=False)
    lab = Transformer(cfg).num_params() - cfg.seq_len * cfg.d_model  # learned positions
    assert count_params(model_spec(cfg)).total == lab


def test_executed_plan_is_what_the_lab_runs():
    run = dist_run_from_mapping(RUN, "run")
    plan = executed_plan(run, 2, "cpu")
    assert (plan.dp, plan.precision, plan.microbatch_size) == (2, "fp32", 4)


def test_prediction_uses_the_profile_and_faster_hardware_predicts_faster(tmp_path):
    run = dist_run_from_mapping(RUN, "run")
    slow, fast = tmp_path / "slow.toml", tmp_path / "fast.toml"
    write_profile(slow, fake_calibration())
    write_profile(fast, fake_calibration(gemm_flops_per_s=8e11))
    link = cluster_spec(slow, 2).scale_up
    assert link.latency_s == pytest.approx(1e-4) and link.achievable_frac == 1.0
    t_slow = predict_run(run, 2, slow).step_time_s
    t_fast = predict_run(run, 2, fast).step_time_s
    assert 0 < t_fast < t_slow
    cmp = compare_step_time(run, 2 * t_slow, 2, slow, "cpu")
    assert cmp.ratio == pytest.approx(2.0) and cmp.error_frac == pytest.approx(0.5)
    assert cmp.predicted_breakdown_s["compute"] > 0
