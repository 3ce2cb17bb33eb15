"""Why the winner wins: the terms that dominate it and where each runner-up loses; why plans were
rejected; and the one-line answer when nothing fits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalelab.core.specs import ParallelPlan
from scalelab.plan.labels import plan_label, plan_options

if TYPE_CHECKING:
    from scalelab.plan.search import RankedPlan, TrainSearch

GIB = 2**30
# One rule for every row: a plan above this share of the device memory is near the limit (the
# model's runtime reserve is an assumption; fragmentation and spikes use the rest).
NEAR_MEMORY_LIMIT_FRAC = 0.9
LABELS = {
    "compute": "compute",
    "tp_comm": "TP collectives",
    "cp_comm": "CP exchange",
    "ep_comm": "EP all-to-all",
    "pp_comm": "PP sends",
    "pipeline_bubble": "pipeline bubble",
    "dp_comm": "DP sync",
    "optimizer": "optimizer",
}
REASON_TEXT = {
    "memory-after-evaluation": "evaluated, does not fit in memory",
    "degrees": "degrees do not multiply to the device count",
    "ep-experts": "EP does not divide the experts",
    "ep-group": "EP does not divide the ranks of a stage",
    "tp-heads": "TP does not divide the heads",
    "pp-layers": "more stages than layers",
    "cp-seq": "CP does not split the sequence",
    "batch": "global batch not divisible by dp x micro-batch",
    "schedule": "schedule needs other micro-batch counts",
    "memory": "model states alone exceed memory",
}


def describe_plan(plan: ParallelPlan, num_devices: int | None = None) -> str:
    """`TP1·PP16·EP64·DP128 (DualPipe · ZeRO-1 · mb1 · fp8)` (+ ` on 2,048 devices`): plan/labels."""
    text = f"{plan_label(plan)} ({plan_options(plan)})"
    return text + (f" on {num_devices:,} devices" if num_devices else "")


def near_memory_limit(p: RankedPlan) -> bool:
    """The one rule that flags a plan as near the memory limit (NEAR_MEMORY_LIMIT_FRAC of HBM)."""
    q = p.prediction
    return q.memory_per_device_bytes > NEAR_MEMORY_LIMIT_FRAC * q.hbm_bytes


def memory_note(p: RankedPlan) -> str:
    """`; near the memory limit (X GiB of Y)` where the rule flags the plan, else ''."""
    if not near_memory_limit(p):
        return ""
    q = p.prediction
    return (
        f"; near the memory limit ({q.memory_per_device_bytes / GIB:,.1f} of "
        f"{q.hbm_bytes / GIB:,.1f} GiB)"
    )


def _dominant(p: RankedPlan) -> str:
    b = p.prediction.breakdown_s
    top = sorted(b, key=lambda k: -b[k])[:2]
    return ", ".join(f"{LABELS[k]} {100 * b[k] / p.prediction.step_time_s:.0f}%" for k in top)


def loss_line(winner: RankedPlan, other: RankedPlan, objective: str) -> str:
    """Where `other` loses against the winner, per token so different cluster sizes compare."""
    scale_w = 1.0 / winner.prediction.step_time_s * winner.time_s_per_token
    scale_o = 1.0 / other.prediction.step_time_s * other.time_s_per_token
    deltas = {
        k: other.prediction.breakdown_s[k] * scale_o - winner.prediction.breakdown_s[k] * scale_w
        for k in winner.prediction.breakdown_s
    }
    worst = max(deltas, key=lambda k: deltas[k])
    total = other.time_s_per_token / winner.time_s_per_token - 1.0
    mem = memory_note(other)
    head = (
        f"{100 * total:+.1f}% time per token"
        if objective == "time"
        else (
            f"{100 * (getattr(other, objective + '_usd_per_token', other.cost_usd_per_token) / winner.cost_usd_per_token - 1):+.1f}% cost"
            if objective == "cost"
            else f"{100 * (other.energy_j_per_token / winner.energy_j_per_token - 1):+.1f}% energy"
        )
    )
    return f"#{other.rank} ({describe_plan(other.prediction.plan, other.num_devices)}): {head}, mostly {LABELS[worst]}{mem}"


def explain(result: TrainSearch) -> list[str]:
    """Lines: the winner and its dominant terms, each runner-up's main loss, rejection counts."""
    lines = []
    if result.plans:
        w = result.plans[0]
        same = f" (and {w.num_equivalent:,} equivalent plans)" if w.num_equivalent else ""
        lines.append(
            f"winner: {describe_plan(w.prediction.plan, w.num_devices)}{same} — step "
            f"{w.prediction.step_time_s:,.2f} s, MFU {100 * w.prediction.mfu:.1f}%; its time goes to "
            f"{_dominant(w)}{memory_note(w)}"
        )
        lines += [loss_line(w, o, result.objective) for o in result.plans[1:5]]
    lines.append(count_line(result))
    if result.no_fit_message:
        lines.append(result.no_fit_message)
    return lines


def count_line(result: TrainSearch) -> str:
    """`N candidates = E evaluated (F fit, M over memory) + R rejected (reasons)`: adds up."""
    rejected = sum(result.num_rejected_by_reason.values())
    over = result.num_rejected_after_evaluation.get("memory", 0)
    parts = ", ".join(
        f"{REASON_TEXT.get(k, k)}: {v:,}"
        for k, v in sorted(result.num_rejected_by_reason.items(), key=lambda kv: -kv[1])
    )
    return (
        f"{result.num_candidates:,} candidate plans = {result.num_evaluated:,} evaluated "
        f"({result.num_fitting:,} fit, {over:,} evaluated over memory) + {rejected:,} rejected"
        + (f" ({parts})" if parts else "")
    )


def no_fit_message(shortfall: tuple[float, ParallelPlan, int]) -> str:
    """The one-line answer when nothing fits."""
    overflow, plan, n = shortfall
    return (
        f"no plan fits: smallest memory shortfall is {overflow / GIB:,.1f} GiB per device with plan "
        f"{describe_plan(plan, n)}"
    )
