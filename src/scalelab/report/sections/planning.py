"""Report section: planning. The best parallel plans for the model (DeepSeek-V3: on 2048 H800 and
halves of it), the time-cost trade-off per GPU count, and where the published plan ranks and why."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.plan.explain import loss_line
from scalelab.plan.labels import plan_label, plan_options
from scalelab.plan.search import RankedPlan, TrainSearch, evaluate_plans
from scalelab.report.context import ReportContext
from scalelab.report.fmt import days, device_name, gib, pct
from scalelab.report.plans import FULL_SPACE, register_plan, shared_search
from scalelab.report.plots_perf import PlanCloud, plan_scatter
from scalelab.report.section import Figure, KeyNumber, Section, Table
from scalelab.report.sections.training import (
    GENERIC_CLUSTER,
    GENERIC_WORKLOAD,
    deepseek_v3_scenario,
)

TOP = 8
MAX_POINTS = 1500  # plotted sample of each GPU count's plans (its fastest is always drawn)
ZOOM = 2.0  # plot plans within 2x of their GPU count's fastest time


def _setting(ctx: ReportContext) -> tuple[Scenario | None, TrainWorkload, str]:
    """(published scenario or None, workload, cluster spec) for the model."""
    m = ctx.model
    if m.is_moe and m.num_routed_experts % 64 == 0 and m.num_layers >= 16:
        sc = deepseek_v3_scenario(m)
        wl = sc.workload.model_copy(update={"dtype": "fp8"})
        return (sc if m.arch == "deepseek-v3" else None), wl, "h800x2048"
    return None, GENERIC_WORKLOAD, GENERIC_CLUSTER


COLS = ["#", "GPUs", "plan", "schedule · ZeRO · micro-batch · recompute · dtype"]
COLS += ["step (s)", "MFU", "memory/GPU", "to train", "cost ($M)"]


# plan/explain.py's long form: "tp 1 pp 4 dp 256 ep 256 cp 2, ZeRO-1, dualpipe, mb 1, recompute
# selective, fp8" (optionally "on 2,048 devices")
def _row(p: RankedPlan) -> list[str]:
    q = p.prediction
    return [
        f"{p.rank:,}",
        f"{p.num_devices:,}",
        plan_label(q.plan),
        plan_options(q.plan),
        f"{q.step_time_s:,.2f}",
        pct(q.mfu),
        gib(q.memory_per_device_bytes),
        "-" if q.run_time_s is None else days(q.run_time_s),
        f"{(q.cost_usd or 0) / 1e6:,.2f}",
    ]


def _published_rank(result: TrainSearch, sc: Scenario) -> tuple[Table, RankedPlan]:
    """Evaluate the published plan through the planner's path and place it in the ranking."""
    assert isinstance(sc.workload, TrainWorkload)
    wl = sc.workload.model_copy(update={"dtype": "fp8"})
    pred = evaluate_plans(sc.model, sc.cluster, wl, [sc.plan])[0]
    per_token = pred.step_time_s / sc.workload.tokens_per_step
    n = sc.cluster.num_devices
    cost = per_token * n * 2.0 / 3600.0
    own = RankedPlan(result.rank_of(per_token), n, pred, per_token, cost, 0.0)
    why = loss_line(result.plans[0], own, "time") if result.plans else ""
    table = Table(
        "DeepSeek-V3's own plan in the ranking",
        COLS,
        [_row(own)],
        note=f"rank {own.rank:,} of {len(result.scatter['time']):,} plans that fit; {why}",
    )
    return table, own


def _envelope(
    memory: NDArray[np.float64], time: NDArray[np.float64]
) -> tuple[list[float], list[float]]:
    """The fastest time reachable within each memory budget: running minimum over memory."""
    order = np.argsort(memory, kind="stable")
    best = np.minimum.accumulate(time[order])
    step = np.r_[True, best[1:] < best[:-1]]
    return memory[order][step].tolist(), best[step].tolist()


def _figure(result: TrainSearch, own: RankedPlan | None, tokens: float | None, hbm: float) -> bytes:
    """Per GPU count, the plans within ZOOM of that count's fastest: memory per GPU against days
    to train (hours per trillion tokens when the workload has no token count)."""
    sc = result.scatter
    t_all, c_all, m_all = sc["time"], sc["cost"], sc.get("memory_bytes")
    counts = sc.get("num_devices")
    if counts is None or m_all is None or not len(t_all):
        return b""
    scale_t, scale_c = (tokens / 86400, tokens / 1e6) if tokens else (1e12 / 3600, 1e12 / 1e6)
    clouds = []
    for n in sorted({int(v) for v in counts}, reverse=True):
        idx = np.flatnonzero(counts.astype(int) == n)
        fastest = int(idx[np.argmin(t_all[idx])])
        near = idx[t_all[idx] <= ZOOM * t_all[fastest]]
        keep = [*near[:: max(1, len(near) // MAX_POINTS)].tolist(), fastest]
        clouds.append(
            PlanCloud(
                n, [float(m_all[i]) / 2**30 for i in keep], [float(t_all[i]) * scale_t for i in keep],
                float(c_all[fastest]) * scale_c, _envelope(m_all[near] / 2**30, t_all[near] * scale_t),
            )
        )  # fmt: skip
    marks = {}
    if own is not None:
        q = own.prediction
        marks["DeepSeek's plan"] = (
            own.num_devices,
            q.memory_per_device_bytes / 2**30,
            own.time_s_per_token * scale_t,
        )
    label = "days to train" if tokens else "wall hours per trillion tokens"
    return plan_scatter(clouds, marks, hbm / 2**30, label, "$")  # fmt: skip


def build(ctx: ReportContext) -> Section:
    """Top plans, the trade-off per GPU count and the published plan's rank."""
    published, wl, spec = _setting(ctx)
    result = shared_search(ctx, spec, wl, scale_down=1, top=TOP)
    tables = [
        Table(
            f"Best plans for {ctx.model.name} on {spec} and halves of it (by time per token)",
            COLS,
            [_row(p) for p in result.plans],
            note="\n".join(result.explanation),
        ),
        Table("Pareto front: time vs cost per token", COLS, [_row(p) for p in result.pareto]),
    ]
    summary = (
        f"{result.num_evaluated:,} plans evaluated in {result.search_s:,.2f} s "
        f"({result.num_candidates:,} candidates); "
    )
    data: dict[str, object] = {"num_evaluated": result.num_evaluated, "search_s": result.search_s}
    keys: list[KeyNumber] = []
    own = None
    if result.plans:
        best = result.plans[0]
        q = best.prediction
        summary += f"the fastest is {plan_label(q.plan)} ({plan_options(q.plan)}) on {best.num_devices:,} GPUs."
        acc = device_name(resolve_cluster(spec).accelerator.name)
        register_plan(ctx, "fastest", f"Fastest plan on {spec} and halves", q.plan, acc,
                      best.num_devices, FULL_SPACE, "planning", q.run_time_s, q.cost_usd)  # fmt: skip
        data.update(fastest_plan=plan_label(q.plan), fastest_run_time_s=q.run_time_s)
        detail = f"{plan_label(q.plan)} on {best.num_devices:,} GPUs"
    else:
        summary += result.no_fit_message or "no plan fits."
    if published is not None and result.plans:
        table, own = _published_rank(result, published)
        tables.append(table)
        summary += f" DeepSeek's own plan ({plan_label(published.plan)}, ZeRO-1, DualPipe) ranks {own.rank:,}."
        data["published_plan_rank"] = own.rank
        detail += f"; DeepSeek's plan ranks {own.rank:,}"
    if result.plans and q.run_time_s is not None:
        keys.append(KeyNumber("Fastest plan found", days(q.run_time_s), detail))
    hbm = resolve_cluster(spec).accelerator.hbm_bytes
    fig = _figure(result, own, wl.train_tokens, hbm)
    caption = (
        f"Every plan that fits (within {ZOOM:g}x of the fastest), one panel per GPU count: time to "
        "train against memory per GPU. The line is the fastest plan within each memory budget; the "
        "dashed wall is the HBM size. Within a GPU count cost follows time; the panel titles give "
        "each count's cheapest-fastest run."
    )
    return Section(
        title="Planning: the best parallel plan",
        summary=summary,
        tables=tables,
        figures=[Figure(caption, fig)] if fig else [],
        data=data,
        key_numbers=keys,
    )
