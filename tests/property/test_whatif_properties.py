"""Invariants of the hardware what-if path (hypothesis): a scale-out network with more bisection
bandwidth per device (lower oversubscription, faster links, more planes) never trains slower once
`apply_topology` has folded it into the cluster; and a training step's energy never falls below
idle power x step time nor rises above the board limit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scalelab.core.catalog import load_model
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import ClusterSpec, ParallelPlan, TrainWorkload
from scalelab.hw.scaleout import apply_topology, effective_scale_out
from scalelab.perf.energy import power_model
from scalelab.perf.train.plan_arrays import from_plans
from scalelab.perf.train.plan_check import check_codes
from scalelab.perf.train.predict import evaluate_train
from scalelab.plan.hardware import SWEEP_SPACE
from scalelab.plan.search import search_train

DSV3 = load_model("deepseek-v3")
MIXTRAL = load_model("mixtral-8x7b")
DSV3_PLANS = [
    ParallelPlan(dp=128, pp=16, ep=64, zero_stage=1, schedule="dualpipe", precision="fp8",
                 recompute="selective", comm_sms=20),
    ParallelPlan(dp=256, pp=8, ep=32, zero_stage=1, schedule="1f1b"),
    ParallelPlan(dp=512, pp=4, ep=256, zero_stage=1, schedule="interleaved-1f1b",
                 recompute="full", optimizations=["dp-comm-overlap"]),
]  # fmt: skip
DSV3_WL = TrainWorkload(global_batch_size=15360, seq_len=4096, train_tokens=14.8e12, dtype="fp8")
TOPOLOGIES = (
    "fat-tree-2",
    "fat-tree-3",
    "multi-plane-fat-tree",
    "slim-fly",
    "dragonfly",
    "torus-3d",
)

network = st.fixed_dictionaries(
    {
        "topology": st.sampled_from(TOPOLOGIES),
        "oversubscription_ratio": st.floats(1.0, 4.0),
        "gbit": st.sampled_from([100.0, 200.0, 400.0, 800.0, 1600.0]),
        "planes": st.sampled_from([1, 2, 4, 8]),
    }
)


def _cluster(net: dict[str, object]) -> ClusterSpec:
    base = resolve_cluster("h800x2048")
    assert base.scale_out is not None
    so = base.scale_out.model_copy(
        update={
            "topology": net["topology"],
            "oversubscription_ratio": net["oversubscription_ratio"],
            "nic_bytes_per_s": float(net["gbit"]) * 1e9 / 8,  # type: ignore[arg-type]
            "planes": net["planes"],
        }
    )
    return base.model_copy(update={"scale_out": so})


def _steps(cluster: ClusterSpec) -> np.ndarray:
    plans = from_plans(DSV3_PLANS, DSV3, cluster.num_devices)
    return evaluate_train(DSV3, apply_topology(cluster), DSV3_WL, plans).step.step_time_s


@settings(max_examples=25, deadline=None)
@given(
    worse=network,
    less_taper=st.floats(0.0, 1.0),
    faster=st.sampled_from([1.0, 2.0, 4.0]),
    more_planes=st.sampled_from([1, 2]),
)
def test_a_better_network_of_the_same_topology_never_trains_slower(
    worse, less_taper, faster, more_planes
):
    better = dict(worse)
    better["oversubscription_ratio"] = max(1.0, worse["oversubscription_ratio"] * (1 - less_taper))
    better["gbit"] = worse["gbit"] * faster
    better["planes"] = min(8, worse["planes"] * more_planes)
    slow, fast = _cluster(worse), _cluster(better)
    e_slow, e_fast = effective_scale_out(slow), effective_scale_out(fast)
    assert e_fast.bytes_per_s_per_device >= e_slow.bytes_per_s_per_device
    assert np.all(_steps(fast) <= _steps(slow) * (1 + 1e-12))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(a=network, b=network)
def test_more_bisection_bandwidth_and_no_more_latency_never_trains_slower(a, b):
    ca, cb = _cluster(a), _cluster(b)
    ea, eb = effective_scale_out(ca), effective_scale_out(cb)
    assume(ea.bytes_per_s_per_device >= eb.bytes_per_s_per_device and ea.latency_s <= eb.latency_s)
    assert np.all(_steps(ca) <= _steps(cb) * (1 + 1e-12))


def test_the_planner_never_picks_a_slower_plan_on_a_better_network():
    wl = TrainWorkload(global_batch_size=512, seq_len=4096, dtype="fp8")
    best = []
    for topology in ("torus-3d", "dragonfly", "fat-tree-2"):  # decreasing oversubscription
        cluster = resolve_cluster("h100x64")
        so = cluster.scale_out.model_copy(update={"topology": topology})  # type: ignore[union-attr]
        applied = apply_topology(cluster.model_copy(update={"scale_out": so}))
        found = search_train(MIXTRAL, applied, wl, "time", top=1, opts=SWEEP_SPACE)
        best.append(found.plans[0].prediction.step_time_s)
    assert best[0] > best[2]  # the torus really is worse here, so the check can fail
    assert best == sorted(best, reverse=True)


ACCELERATORS = ("a100-sxm4-80gb", "h100-sxm5-80gb", "h800-sxm5-80gb", "h200-sxm-141gb", "b200",
                "mi300x")  # fmt: skip
MIXTRAL_PLANS = [
    ParallelPlan(dp=64, ep=8, zero_stage=1),
    ParallelPlan(dp=16, pp=4, ep=4, zero_stage=1, schedule="interleaved-1f1b", precision="fp8",
                 recompute="selective"),
    ParallelPlan(dp=8, tp=8, ep=8, zero_stage=3, recompute="full"),
    ParallelPlan(dp=32, tp=2, ep=16, zero_stage=1, precision="fp8", microbatch_size=2),
]  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(
    acc=st.sampled_from(ACCELERATORS),
    seq=st.sampled_from([1024, 4096, 8192]),
    batch=st.sampled_from([256, 512, 2048]),
    idle_frac=st.one_of(st.none(), st.floats(0.02, 0.6)),
    pue=st.floats(1.0, 1.6),
)
def test_training_step_energy_between_idle_and_board_limit(acc, seq, batch, idle_frac, pue):
    cluster = resolve_cluster({"accelerator": acc, "num_devices": 64})
    a = cluster.accelerator
    a = a.model_copy(update={"idle_w": None if idle_frac is None else idle_frac * a.tdp_w})
    cluster = cluster.model_copy(update={"accelerator": a, "pue": pue})
    wl = TrainWorkload(global_batch_size=batch, seq_len=seq, train_tokens=1e12, dtype="fp8")
    plans = from_plans(MIXTRAL_PLANS, MIXTRAL, 64)
    plans = plans.take(check_codes(MIXTRAL, wl, 64, plans) == 0)
    assume(plans.size > 0)
    res = evaluate_train(MIXTRAL, cluster, wl, plans)
    step, n, idle = res.step.step_time_s, cluster.num_devices, power_model(a).idle_w
    power = res.run.avg_device_power_w
    assert np.all(power >= idle * (1 - 1e-12)) and np.all(power <= a.tdp_w * (1 + 1e-12))
    # facility energy of a step: at least the devices idling for the step, PUE applied
    assert np.all(res.run.step_energy_j >= idle * step * n * pue * (1 - 1e-12))
    assert np.allclose(
        res.run.joules_per_token * wl.tokens_per_step, res.run.step_energy_j, rtol=1e-12
    )
