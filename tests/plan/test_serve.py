"""Serving planner (plan/serve.py): options meet targets, fit in memory, are cheapest first; the Pareto
frontier is monotone; unreachable targets are named with the best achievable value."""

import pytest

from scalelab.core.errors import InfeasiblePlan
from scalelab.core.scenario import resolve_cluster, resolve_model
from scalelab.core.specs import InferenceWorkload
from scalelab.perf.serve.predict import make_deployment, predict_inference
from scalelab.plan.serve import pareto_front, plan_serve
from scalelab.plan.serve_space import batch_grid, candidate_plans

LLAMA70 = resolve_model("llama-3.1-70b")
V3 = resolve_model("deepseek-v3")


@pytest.fixture(scope="module")
def llama_plan():
    w = InferenceWorkload(
        prompt_tokens=1024, output_tokens=256, ttft_target_s=0.5, tpot_target_s=0.03
    )
    return w, plan_serve(LLAMA70, resolve_cluster("h200x16"), w)


def test_options_meet_targets_cheapest_first(llama_plan):
    w, plan = llama_plan
    assert plan.options
    assert all(o.ttft_s <= 0.5 and o.tpot_s <= 0.03 for o in plan.options)
    costs = [o.usd_per_million_output_tokens for o in plan.options]
    assert costs == sorted(costs)


def test_every_option_fits_in_memory(llama_plan):
    w, plan = llama_plan
    cluster = resolve_cluster("h200x16")
    for o in plan.options:
        d = make_deployment(LLAMA70, cluster, o.decode_plan, w)
        assert o.sequences_per_replica <= d.kv.max_concurrency_per_instance
        assert d.kv.fits_weights


def test_best_collocated_option_matches_predict_inference(llama_plan):
    w, plan = llama_plan
    best = next(o for o in plan.options if o.mode == "collocated")
    r = predict_inference(
        LLAMA70,
        resolve_cluster("h200x16"),
        best.decode_plan,
        w.model_copy(update={"batch_size": int(best.sequences_per_replica)}),
    )
    assert r.tpot_s == pytest.approx(best.tpot_s)


def test_pareto_front_is_monotone(llama_plan):
    _, plan = llama_plan
    tpots = [o.tpot_s for o in plan.pareto]
    rates = [o.output_tokens_per_s_per_node for o in plan.pareto]
    assert tpots == sorted(tpots) and rates == sorted(rates) and len(plan.pareto) >= 3


def test_pareto_front_drops_dominated_points(llama_plan):
    _, plan = llama_plan
    a = plan.pareto[0]
    worse = a.__class__(
        **{**a.__dict__, "tpot_s": a.tpot_s * 2, "output_tokens_per_s_per_device": 1.0}
    )
    assert worse not in pareto_front([a, worse])


def test_moe_search_includes_expert_parallel_and_disaggregation():
    w = InferenceWorkload(
        prompt_tokens=2048, output_tokens=512, dtype="fp8", ttft_target_s=3.0, tpot_target_s=0.06
    )
    plan = plan_serve(V3, resolve_cluster("h800x128"), w)
    assert all(
        o.decode_plan.ep > 1 for o in plan.options
    )  # 671B params never fit without EP on 80 GB
    modes = {o.mode for o in plan.options} | {o.mode for o in plan.pareto}
    assert modes == {"collocated", "disaggregated"}
    disagg = [o for o in plan.options if o.mode == "disaggregated"]
    for o in disagg:
        assert o.prefill_devices + o.decode_devices == 128 and o.prefill_devices % 8 == 0


def test_unreachable_tpot_names_target_and_best_value():
    w = InferenceWorkload(tpot_target_s=1e-4)
    with pytest.raises(
        InfeasiblePlan,
        match=r"TPOT target 0.1 ms cannot be met .* best achievable TPOT is [\d.]+ ms",
    ):
        plan_serve(LLAMA70, resolve_cluster("h200x8"), w)


def test_unreachable_ttft_names_target_and_best_value():
    w = InferenceWorkload(prompt_tokens=32768, ttft_target_s=1e-3)
    with pytest.raises(
        InfeasiblePlan, match=r"TTFT target 1 ms cannot be met .* best achievable TTFT is"
    ):
        plan_serve(LLAMA70, resolve_cluster("h200x8"), w)


def test_model_that_does_not_fit_is_infeasible():
    with pytest.raises(InfeasiblePlan, match="does not fit"):
        plan_serve(V3, resolve_cluster("h800x1"), InferenceWorkload())


def test_candidate_plans_keep_tp_inside_a_node():
    plans = candidate_plans(V3, resolve_cluster("h800x64"))
    assert plans and all(p.tp <= 8 for p in plans)
    assert any(p.ep == 64 for p in plans)


def test_batch_grid():
    assert list(batch_grid(2, 20)) == [2, 4, 8, 16, 20]
    assert batch_grid(4, 2).size == 0


def test_disaggregated_pools_hold_whole_replicas_or_report_idle_devices():
    """DeepSeek-V3 on h800x320 once chose a 176-device decode pool of EP32 replicas (160 used)."""
    w = InferenceWorkload(prompt_tokens=2048, output_tokens=512, dtype="fp8", tpot_target_s=0.1)
    cluster = resolve_cluster("h800x320")
    plan = plan_serve(V3, cluster, w, top=200)
    disagg = [o for o in plan.options if o.mode == "disaggregated"]
    assert disagg
    for o in disagg:
        assert o.prefill_plan is not None
        size_pre = make_deployment(V3, cluster, o.prefill_plan, w).layout.instance_devices
        size_dec = make_deployment(V3, cluster, o.decode_plan, w).layout.instance_devices
        left = o.prefill_devices % size_pre + o.decode_devices % size_dec
        assert o.idle_devices == left
        assert ("idle" in o.label) == (left > 0)
    best = plan.best
    assert best.output_tokens_per_s_per_node == pytest.approx(
        best.output_tokens_per_s_per_device * 8
    )


def test_plan_serve_table_shows_per_gpu_first(cli):
    code, out, err = cli(
        "plan-serve", "--model", "llama-3.1-8b", "--cluster", "h100x8", "--tpot-ms", "50",
        "--top", "3",
    )  # fmt: skip
    assert code == 0, err
    header = next(line for line in out.splitlines() if "tok/s/GPU" in line)
    assert header.index("tok/s/GPU") < header.index("(8)")  # per node, node size, to its right
