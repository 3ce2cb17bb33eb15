"""Invariants of the training model (hypothesis): more FLOP/s or bandwidth never slows a step,
ZeRO shards sum to the unsharded state, the 1F1B bubble fraction is (p-1)/(m+p-1)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core.catalog import load_model
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import ParallelPlan, TrainWorkload
from scalelab.perf.train.memory import state_bytes
from scalelab.perf.train.plan_arrays import SCHED_1F1B, from_plans
from scalelab.perf.train.predict import evaluate_train
from scalelab.perf.train.schedules import bubble_fraction

MODELS = {"deepseek-v3": load_model("deepseek-v3"), "llama-3.1-70b": load_model("llama-3.1-70b")}
PLANS = {
    "deepseek-v3": [
        ParallelPlan(
            dp=128,
            pp=16,
            ep=64,
            zero_stage=1,
            schedule="dualpipe",
            precision="fp8",
            recompute="selective",
            comm_sms=20,
        ),
        ParallelPlan(dp=256, pp=8, ep=32, tp=1, zero_stage=2, schedule="1f1b"),
    ],
    "llama-3.1-70b": [
        ParallelPlan(dp=256, tp=8, pp=1, zero_stage=1),
        ParallelPlan(dp=64, tp=4, pp=8, schedule="interleaved-1f1b", recompute="full"),
    ],
}
WL = TrainWorkload(global_batch_size=2048 * 8, seq_len=4096)


def _step_times(model_id, cluster):
    m = MODELS[model_id]
    return evaluate_train(
        m, cluster, WL, from_plans(PLANS[model_id], m, cluster.num_devices)
    ).step.step_time_s


def _scaled(factor_flops, factor_hbm, factor_up, factor_out):
    base = resolve_cluster("h800x2048")
    acc = base.accelerator.model_copy(
        update={
            "peak_bf16_flops_per_s": base.accelerator.peak_bf16_flops_per_s * factor_flops,
            "peak_fp8_flops_per_s": (base.accelerator.peak_fp8_flops_per_s or 0) * factor_flops,
            "hbm_bandwidth_bytes_per_s": base.accelerator.hbm_bandwidth_bytes_per_s * factor_hbm,
        }
    )
    up = base.scale_up.model_copy(
        update={
            "bandwidth_bytes_per_s_per_direction": base.scale_up.bandwidth_bytes_per_s_per_direction
            * factor_up
        }
    )
    assert base.scale_out is not None
    out = base.scale_out.model_copy(
        update={"nic_bytes_per_s": base.scale_out.nic_bytes_per_s * factor_out}
    )
    return base.model_copy(update={"accelerator": acc, "scale_up": up, "scale_out": out})


factor = st.floats(min_value=1.0, max_value=8.0)


@settings(max_examples=25, deadline=None)
@given(model_id=st.sampled_from(sorted(MODELS)), f=factor, h=factor, u=factor, o=factor)
def test_more_flops_or_bandwidth_never_slows_a_step(model_id, f, h, u, o):
    base = _step_times(model_id, _scaled(1, 1, 1, 1))
    faster = _step_times(model_id, _scaled(f, h, u, o))
    assert np.all(faster <= base * (1 + 1e-12))


@settings(max_examples=50, deadline=None)
@given(
    params=st.floats(min_value=1e6, max_value=1e12),
    ranks=st.integers(1, 4096),
    zero=st.integers(0, 3),
)
def test_zero_shards_sum_to_unsharded(params, ranks, zero):
    p, r = np.array([params]), np.array([float(ranks)])
    sharded = state_bytes(p, r, np.array([zero]))
    whole = state_bytes(p, np.array([1.0]), np.array([zero]))  # the same state on one rank
    total = sum(
        float(s[0]) * (ranks if is_sh else 1)
        for s, is_sh in zip(sharded, (zero >= 3, zero >= 2, zero >= 1), strict=True)
    )
    assert abs(total - float(sum(whole)[0])) <= 1e-9 * total


@settings(max_examples=100, deadline=None)
@given(p=st.integers(1, 128), m=st.integers(1, 4096))
def test_1f1b_bubble_fraction(p, m):
    frac = float(bubble_fraction(SCHED_1F1B, p, m))
    assert abs(frac - (p - 1) / (m + p - 1)) < 1e-12
