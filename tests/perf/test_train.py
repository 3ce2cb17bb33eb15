"""End-to-end training predictions: FLOP conventions, vectorized == scalar, memory fit, run totals."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.catalog import load_model
from scalelab.core.scenario import Scenario, load_scenario_file, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.plan_arrays import from_plans
from scalelab.perf.train import (
    evaluate_train,
    hardware_flops_per_token,
    model_flops_per_token,
    predict_train,
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
