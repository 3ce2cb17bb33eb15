"""Invariants of the fidelity model (hypothesis): ZeRO-3 traffic per step never shrinks as a fixed
global batch spreads over more GPUs; selective recompute never keeps more than no recompute; a
TPU pod plan found by the planner predicts the same through `predict train`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.predict import evaluate_train, predict_train
from scalelab.perf.train.step import evaluate_step
from scalelab.plan.search import search_train
from scalelab.plan.space import SpaceOptions


@st.composite
def dense_models(draw, arch=None):
    heads = draw(st.sampled_from([8, 16, 32]))
    return ModelSpec(
        arch=arch or draw(st.sampled_from(["gpt", "llama"])),
        num_layers=draw(st.integers(2, 40)),
        hidden_size=heads * draw(st.sampled_from([64, 128])),
        num_attention_heads=heads,
        ffn_hidden_size=draw(st.sampled_from([2048, 8192])),
        vocab_size=32000,
        activation=draw(st.sampled_from(["gelu", "swiglu"])),
    )


@settings(max_examples=20, deadline=None)
@given(
    model=dense_models(),
    accelerator=st.sampled_from(["a100-sxm4-80gb", "h100-sxm5-80gb"]),
    nodes=st.sampled_from([2, 4, 16, 64]),
    flags=st.sampled_from([[], ["no-reshard-after-forward"], ["no-reshard-after-backward"]]),
)
def test_zero3_traffic_per_step_never_shrinks_with_more_gpus(model, accelerator, nodes, flags):
    """Fixed global batch, the default micro-batch (each rank's whole batch, one per step): twice
    the GPUs gather the same layers over a bigger ring, so the step's ZeRO-3 traffic and its
    exposed part never go down."""
    wl = TrainWorkload(global_batch_size=1024, seq_len=2048)
    totals, exposed = [], []
    for n in (8 * nodes, 16 * nodes):
        cluster = resolve_cluster({"accelerator": accelerator, "num_devices": n})
        plan = ParallelPlan(dp=n, zero_stage=3, schedule="none", optimizations=flags)
        st_ = evaluate_step(model, cluster, wl, from_plans([plan], model, n, 1024))
        totals.append(float(st_.dp_comm_total_s[0]))
        exposed.append(float(st_.breakdown_s["dp_comm"][0]))
    assert totals[1] >= totals[0] * (1 - 1e-12)
    assert exposed[1] >= exposed[0] * (1 - 1e-12) - 1e-12


@settings(max_examples=30, deadline=None)
@given(
    model=dense_models(),
    tp=st.sampled_from([1, 2, 8]),
    sp=st.booleans(),
    flash=st.booleans(),
    mb=st.sampled_from([1, 4]),
)
def test_selective_recompute_never_keeps_more_than_none(model, tp, sp, flash, mb):
    cluster = resolve_cluster("a100x8")
    wl = TrainWorkload(global_batch_size=8, seq_len=2048)
    opts = ["flash-attention"] if flash else []
    plans = [
        ParallelPlan(
            tp=tp,
            dp=8 // tp,
            microbatch_size=mb if mb <= 8 // tp else 1,
            schedule="none",
            recompute=rc,
            sequence_parallel=sp,
            optimizations=opts,
        )
        for rc in ("none", "selective", "full")
    ]
    mem = evaluate_step(model, cluster, wl, from_plans(plans, model, 8, 8)).memory
    none, selective, _ = (float(x) for x in mem.activations_bytes)
    assert selective <= none * (1 + 1e-12)
    assert float(mem.total_bytes[1]) <= float(mem.total_bytes[0]) * (1 + 1e-12)


@pytest.mark.slow
@settings(max_examples=4, deadline=None)
@given(
    n=st.sampled_from([64, 256, 1024]),
    model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b"]),
    accelerator=st.sampled_from(["tpu-v5p", "tpu-v4"]),
)
def test_a_tpu_pod_plan_round_trips_through_plan_and_predict(n, model, accelerator):
    from scalelab.core.catalog import load_model

    m = load_model(model)
    cluster = resolve_cluster(f"{accelerator}x{n}")
    assert cluster.scale_out is None and cluster.scale_up.torus_dims == 3  # one ICI torus
    wl = TrainWorkload(global_batch_size=512, seq_len=4096)
    opts = SpaceOptions(micro_batches=(1, 2), zero_stages=(1, 3), context_parallel=False)
    found = search_train(m, cluster, wl, "time", top=1, opts=opts)
    assert found.plans, found.no_fit_message
    best = found.plans[0].prediction
    again = predict_train(Scenario(m, cluster, best.plan, wl))
    assert again.step_time_s == pytest.approx(best.step_time_s, rel=1e-9)
    assert again.memory_per_device_bytes == pytest.approx(best.memory_per_device_bytes, rel=1e-9)
    assert again.fits_in_memory
    res = evaluate_train(m, cluster, wl, from_plans([best.plan], m, n, 512))
    assert float(res.step.step_time_s[0]) == pytest.approx(best.step_time_s, rel=1e-9)
    assert np.isfinite(best.mfu) and 0 < best.mfu < 1
