"""How a parallel plan is written everywhere (terminal, report, web page, planner explanations):
`TP1·PP16·EP64·DP128 (DualPipe · ZeRO-1 · mb1 · recompute sel. · fp8)`."""

from __future__ import annotations

from scalelab.core.specs import ParallelPlan


def plan_label(plan: ParallelPlan) -> str:
    """The degrees as one compact token, `TP1·PP16·EP64·DP128` (CP and EP only when they split)."""
    dp = plan.dp if plan.dp is not None else "?"
    cp = f"·CP{plan.cp}" if plan.cp > 1 else ""
    ep = f"·EP{plan.ep}" if plan.ep > 1 else ""
    return f"TP{plan.tp}{cp}·PP{plan.pp}{ep}·DP{dp}"


SCHEDULE_NAMES = {"dualpipe": "DualPipe", "1f1b": "1F1B", "zero-bubble": "ZB", "none": "no PP"}


def plan_options(plan: ParallelPlan) -> str:
    """The rest of a plan in a few words: `DualPipe · ZeRO-1 · mb1 · recompute sel. · fp8`."""
    sched = SCHEDULE_NAMES.get(plan.schedule, plan.schedule)
    if (plan.virtual_stages or 1) > 1:
        sched += f" v{plan.virtual_stages}"
    parts = [sched, f"ZeRO-{plan.zero_stage}"]
    parts += [f"mb{plan.microbatch_size}"] if plan.microbatch_size is not None else []
    if plan.recompute != "none":
        parts.append(f"recompute {plan.recompute[:3]}.")
    parts.append(plan.precision)
    return " · ".join(parts)
