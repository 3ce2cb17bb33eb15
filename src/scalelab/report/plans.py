"""One plan per question across the report: planner searches are shared through the context's
cache, and every plan a section quotes is registered with the question it answers and its search
space, so the report can list them in one place ("Plans behind the numbers")."""

from __future__ import annotations

from dataclasses import replace

from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import ParallelPlan, TrainWorkload
from scalelab.plan.labels import plan_label, plan_options
from scalelab.plan.search import TrainSearch, search_train
from scalelab.report.context import PlanRef, ReportContext
from scalelab.report.fmt import days
from scalelab.report.section import Table

FULL_SPACE = "full planner space"


def shared_search(
    ctx: ReportContext,
    cluster_spec: str,
    workload: TrainWorkload,
    scale_down: int = 1,
    top: int = 8,
) -> TrainSearch:
    """The fastest-plan search for (cluster, workload), run once per report whoever asks first."""
    key = f"search|{cluster_spec}|{workload.model_dump_json()}|{scale_down}|{top}"
    if key not in ctx.cache:
        cluster = resolve_cluster(cluster_spec)
        ctx.cache[key] = search_train(
            ctx.model, cluster, workload, "time", top=top, scale_down=scale_down
        )
    result: TrainSearch = ctx.cache[key]
    return result


def register_plan(
    ctx: ReportContext,
    key: str,
    question: str,
    plan: ParallelPlan,
    cluster: str,
    num_devices: int,
    space: str,
    section: str,
    run_time_s: float | None = None,
    cost_usd: float | None = None,
) -> PlanRef:
    """Record that `section` quotes `plan` for `question`; a second section quoting the same plan
    for the same key is added to `used_in` (and must quote the same plan)."""
    ref = ctx.plans.get(key)
    if ref is None:
        ref = PlanRef(
            question, plan_label(plan), plan_options(plan), cluster, num_devices, space,
            run_time_s, cost_usd, (section,),
        )  # fmt: skip
    elif section not in ref.used_in:
        ref = replace(ref, used_in=(*ref.used_in, section))
    ctx.plans[key] = ref
    return ref


def same_plan(ref: PlanRef | None, plan: ParallelPlan, num_devices: int) -> bool:
    return (
        ref is not None
        and ref.label == plan_label(plan)
        and ref.options == plan_options(plan)
        and ref.num_devices == num_devices
    )


def plans_table(plans: dict[str, PlanRef], titles: dict[str, str]) -> Table:
    """Every plan the report quotes, what it answers, how it was found and where it appears."""
    rows = [
        [
            f"{p.question} ({p.space})",
            p.label,
            f"{p.num_devices:,}",
            "-" if p.run_time_s is None else days(p.run_time_s),
            "-" if p.cost_usd is None else f"${p.cost_usd / 1e6:,.2f}M",
            ", ".join(titles.get(s, s) for s in p.used_in),
        ]
        for p in plans.values()
    ]
    options = "\n".join(f"{p.label}: {p.options}" for p in plans.values())
    return Table(
        "Plans behind the numbers (one plan per question)",
        ["question (search space)", "plan", "GPUs", "to train", "cost", "shown in"],
        rows,
        note=f"Every training duration in the report comes from one of these plans.\n{options}",
    )
