"""End-to-end training predictions: FLOP conventions, vectorized == scalar, memory fit, run totals."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.catalog import load_model
from scalelab.core.scenario import Scenario, load_scenario_file, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.energy import power_model
from scalelab.perf.model.flops import matmul_fwd_flops_per_token
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.predict import (
    evaluate_train,
    hardware_flops_per_token,
    model_flops_per_token,
    predict_train,
    step_work_per_device,
)

GPT_1_7B = ModelSpec(
    arch="gpt",
    num_layers=24,
    hidden_size=2304,
    num_attention_heads=24,
    ffn_hidden_size=9216,
    vocab_size=51200,
    activation="gelu",
    tied_embeddings=True,
)


def test_hardware_flops_follow_narayanan_eq3():
    # 96 B s l h^2 (1 + s / 6h + V / 16 l h) per batch of B sequences of s tokens
    s, layers, h, v = 2048, 24, 2304, 51200
    per_token = 96 * layers * h**2 * (1 + s / (6 * h) + v / (16 * layers * h))
    assert hardware_flops_per_token(GPT_1_7B, s, "full") == pytest.approx(per_token, rel=1e-3)


def test_model_flops_deepseek_v3():
    # Zhao et al. ISCA'25 Table 2: 250 GFLOP per token at 4K, causal
    assert model_flops_per_token(load_model("deepseek-v3"), 4096, True) == pytest.approx(
        250e9, rel=0.02
    )


@pytest.fixture(scope="module")
def deepseek():
    return load_scenario_file("examples/deepseek-v3-train.toml", "train")


def test_example_prediction(deepseek):
    pred = predict_train(deepseek)
    assert pred.fits_in_memory
    assert sum(pred.breakdown_s.values()) == pytest.approx(pred.step_time_s, rel=1e-9)
    # identities: tokens per step / step time; GPU hours = devices x run time
    assert pred.tokens_per_s == pytest.approx(15360 * 4096 / pred.step_time_s)
    assert pred.device_hours == pytest.approx(2048 * 14.8e12 / pred.tokens_per_s / 3600)
    assert pred.cost_usd == pytest.approx(2.0 * pred.device_hours)
    assert 0 < pred.mfu_causal < pred.mfu_noncausal < 1


def test_vectorized_equals_single_plan(deepseek):
    m, cl, wl = deepseek.model, deepseek.cluster, deepseek.workload
    plans = [
        deepseek.plan,
        ParallelPlan(
            dp=128, pp=16, ep=32, zero_stage=1, schedule="1f1b", precision="bf16", recompute="full"
        ),
        ParallelPlan(dp=256, pp=8, ep=64, zero_stage=2, schedule="zero-bubble"),
        ParallelPlan(dp=128, pp=16, ep=16, zero_stage=3, schedule="gpipe"),
    ]
    res = evaluate_train(m, cl, wl, from_plans(plans, m, cl.num_devices))
    for i, plan in enumerate(plans):
        one = predict_train(Scenario(m, cl, plan, wl))
        assert res.step.step_time_s[i] == pytest.approx(one.step_time_s, rel=1e-12)
        assert res.step.memory.total_bytes[i] == pytest.approx(
            one.memory_per_device_bytes, rel=1e-12
        )


def test_plan_that_does_not_fit_is_reported_not_raised():
    sc = Scenario(
        load_model("deepseek-v3"),
        resolve_cluster("h800x64"),
        ParallelPlan(dp=64, ep=64, zero_stage=0),
        TrainWorkload(global_batch_size=64, seq_len=4096),
    )
    pred = predict_train(sc)
    assert not pred.fits_in_memory
    assert pred.memory_overflow_bytes == pytest.approx(
        pred.memory_per_device_bytes - pred.hbm_bytes
    )
    assert (
        pred.memory_overflow_bytes > 100e9
    )  # 671B params x 2 B of weights alone over 64 GPUs exceed 80 GB


def test_recompute_costs_time_and_saves_memory(deepseek):
    base = deepseek.plan
    m, cl, wl = deepseek.model, deepseek.cluster, deepseek.workload
    plans = [base.model_copy(update={"recompute": r}) for r in ("none", "selective", "full")]
    res = evaluate_train(m, cl, wl, from_plans(plans, m, cl.num_devices))
    assert np.all(np.diff(res.step.step_time_s) > 0)
    assert np.all(np.diff(res.step.memory.activations_bytes) < 0)


# Run energy comes from perf/energy.py's calibrated power model (idle + e_flop x FLOP/s +
# e_byte x B/s, capped; 150 W per device of node overhead; PUE) since the what-if work; it used to
# be a first estimate in perf/cost.py (idle + (TDP - idle) x compute share, no node overhead).
def test_run_energy_comes_from_the_power_model(deepseek):
    pred = predict_train(deepseek)
    acc, n = deepseek.cluster.accelerator, deepseek.cluster.num_devices
    assert power_model(acc).idle_w <= pred.avg_device_power_w <= acc.tdp_w
    expected_j = (pred.avg_device_power_w + 150.0) * n * pred.run_time_s * deepseek.cluster.pue
    assert pred.energy_kwh == pytest.approx(expected_j / 3.6e6, rel=1e-9)
    assert pred.joules_per_token == pytest.approx(expected_j / 14.8e12, rel=1e-9)
    assert pred.co2_kg == pytest.approx(pred.energy_kwh * 0.45)
    assert "joules_per_token" in pred.to_dict() and "energy_kwh" in pred.to_dict()


def test_step_work_counts_fp8_linear_flops_at_fp8_energy():
    m, cluster = load_model("llama-3.1-8b"), resolve_cluster("h100x8")
    wl = TrainWorkload(global_batch_size=64, seq_len=4096)
    plans = from_plans([ParallelPlan(dp=8), ParallelPlan(dp=8, precision="fp8")], m, 8)
    res = evaluate_train(m, cluster, wl, plans)
    flops, hbm = step_work_per_device(m, cluster, wl, plans, res.step)
    tokens = 64 * 4096 / 8
    assert flops[0] == pytest.approx(model_flops_per_token(m, 4096, True) * tokens, rel=1e-12)
    # linear layers (all matmuls but the LM head) in fp8 cost peak_bf16 / peak_fp8 per FLOP
    acc = cluster.accelerator
    linear = 3 * (matmul_fwd_flops_per_token(m) - 2 * m.vocab_size * m.hidden_size) * tokens
    saved = linear * (1 - acc.peak_bf16_flops_per_s / acc.peak_fp8_flops_per_s)
    assert flops[1] == pytest.approx(flops[0] - saved, rel=1e-12)
    assert np.all(hbm > 0)
