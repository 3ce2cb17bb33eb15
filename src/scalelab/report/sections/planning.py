"""Report section: planning. The best parallel plans for the model (DeepSeek-V3: on 2048 H800 and
halves of it), the time-cost Pareto front, and where the published plan ranks and why."""

from __future__ import annotations

from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.plan.explain import describe_plan, loss_line
from scalelab.plan.search import RankedPlan, TrainSearch, evaluate_plans, search_train
from scalelab.report.context import ReportContext
from scalelab.report.fmt import gib, pct
from scalelab.report.plots_perf import pareto_scatter
from scalelab.report.section import Figure, Section, Table
from scalelab.report.sections.training import deepseek_v3_scenario

TOP = 8
MAX_POINTS = 3000  # plotted sample of the evaluated plans (the front is always drawn in full)
ZOOM = 2.0  # plot plans within 2x the best time and the best cost


def _setting(ctx: ReportContext) -> tuple[Scenario | None, TrainWorkload, str]:
    """(published scenario or None, workload, cluster spec) for the model."""
    m = ctx.model
    if m.is_moe and m.num_routed_experts % 64 == 0 and m.num_layers >= 16:
        sc = deepseek_v3_scenario(m)
        wl = sc.workload.model_copy(update={"dtype": "fp8"})
        return (sc if m.arch == "deepseek-v3" else None), wl, "h800x2048"
    return (
        None,
        TrainWorkload(global_batch_size=1024, seq_len=4096, train_tokens=15e12),
        "h100x1024",
    )


def _row(p: RankedPlan) -> list[str]:
    q = p.prediction
    return [
        str(p.rank),
        f"{p.num_devices:,}",
        describe_plan(q.plan),
        f"{q.step_time_s:,.2f}",
        pct(q.mfu),
        gib(q.memory_per_device_bytes),
        f"{(q.run_time_s or 0) / 86400:,.1f}",
        f"{(q.cost_usd or 0) / 1e6:,.2f}",
    ]


COLS = ["#", "GPUs", "plan", "step (s)", "MFU", "memory/GPU", "days", "cost ($M)"]


def _published_rank(result: TrainSearch, sc: Scenario) -> tuple[Table, RankedPlan]:
    """Evaluate the published plan through the planner's path and place it in the ranking."""
    pred = evaluate_plans(sc.model, sc.cluster, result_workload(sc), [sc.plan])[0]
    per_token = pred.step_time_s / sc.workload.tokens_per_step
    n = sc.cluster.num_devices
    cost = per_token * n * 2.0 / 3600.0
    own = RankedPlan(result.rank_of(per_token), n, pred, per_token, cost, 0.0)
    why = loss_line(result.plans[0], own, "time") if result.plans else ""
    rows = [_row(own)]
    table = Table(
        "DeepSeek-V3's own plan in the ranking",
        COLS,
        rows,
        note=f"rank {own.rank:,} of {len(result.scatter['time']):,} plans that fit; {why}",
    )
    return table, own


def _front_positions(result: TrainSearch) -> list[int]:
    from scalelab.plan.search import pareto_front

    return pareto_front(result.scatter["time"], result.scatter["cost"])


def result_workload(sc: Scenario) -> TrainWorkload:
    assert isinstance(sc.workload, TrainWorkload)
    return sc.workload.model_copy(update={"dtype": "fp8"})


def build(ctx: ReportContext) -> Section:
    """Top plans, Pareto front (time vs cost per token) and the published plan's rank."""
    published, wl, spec = _setting(ctx)
    cluster = resolve_cluster(spec)
    result = search_train(ctx.model, cluster, wl, "time", top=TOP, scale_down=1)
    tables = [
        Table(
            f"Best plans for {ctx.model.name} on {spec} and halves of it (by time per token)",
            COLS,
            [_row(p) for p in result.plans],
            note="\n".join(result.explanation),
        ),
        Table("Pareto front: time vs cost per token", COLS, [_row(p) for p in result.pareto]),
    ]
    highlight = {}
    front_pos = [int(i) for i in _front_positions(result)]
    t_all, c_all = result.scatter["time"], result.scatter["cost"]
    near = [
        i
        for i in range(len(t_all))
        if len(t_all) and t_all[i] <= ZOOM * t_all.min() and c_all[i] <= ZOOM * c_all.min()
    ]
    step = max(1, len(near) // MAX_POINTS)
    keep = sorted(set(near[::step]) | set(front_pos))
    where = {pos: j for j, pos in enumerate(keep)}
    times = [float(t_all[i]) * 1e12 / 3600.0 for i in keep]  # wall hours per trillion tokens
    costs = [float(c_all[i]) * 1e12 / 1e6 for i in keep]  # $M per trillion tokens
    summary = (
        f"{result.num_evaluated:,} plans evaluated in {result.search_s:,.2f} s "
        f"({result.num_candidates:,} candidates); "
    )
    if result.plans:
        best = result.plans[0]
        summary += f"the fastest is {describe_plan(best.prediction.plan, best.num_devices)}."
        highlight["fastest"] = int(min(range(len(times)), key=lambda i: times[i])) if times else 0
    else:
        summary += result.no_fit_message or "no plan fits."
    data: dict[str, object] = {"num_evaluated": result.num_evaluated, "search_s": result.search_s}
    if published is not None and result.plans:
        table, own = _published_rank(result, published)
        tables.append(table)
        summary += f" DeepSeek's own plan (PP16, EP64, ZeRO-1, DualPipe, no TP) ranks {own.rank:,}."
        times.append(own.time_s_per_token * 1e12 / 3600.0)
        costs.append(own.cost_usd_per_token * 1e12 / 1e6)
        highlight["DeepSeek's plan"] = len(times) - 1
        data["published_plan_rank"] = own.rank
    fig = pareto_scatter(
        times,
        costs,
        [where[i] for i in front_pos],
        highlight,
        f"wall hours per trillion tokens (plans within {ZOOM:g}x of the best time and cost)",
        "$M per trillion tokens",
        f"{ctx.model.name}: plans on {spec} and halves",
    )
    return Section(
        title="Planning: the best parallel plan",
        summary=summary,
        tables=tables,
        figures=[
            Figure(
                "Time vs cost per trillion tokens of every plan that fits; Pareto front in red", fig
            )
        ],
        data=data,
    )
