"""Number formatting for humans: the only place units like GiB, ms or TFLOP/s appear."""

from __future__ import annotations

from scalelab.core.specs import ParallelPlan

GIB = 2**30


def si(value: float, digits: int = 4) -> str:
    """Compact engineering notation: 6.71e+11 -> '671.0G', 0.0147 -> '14.70m'."""
    if value == 0:
        return "0"
    prefixes = [
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1, ""),
        (1e-3, "m"),
        (1e-6, "u"),
        (1e-9, "n"),
    ]
    mag = abs(value)
    for scale, p in prefixes:
        if mag >= scale:
            return f"{value / scale:.{digits}g}{p}"
    return f"{value:.3g}"


def gib(nbytes: float) -> str:
    return f"{nbytes / GIB:,.1f} GiB"


def billions(n: float) -> str:
    return f"{n / 1e9:,.1f} B"


def pct(frac: float, digits: int = 1) -> str:
    return f"{100 * frac:.{digits}f}%"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def seconds(s: float) -> str:
    return f"{s:,.2f} s"


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
    if plan.microbatch_size is not None:
        parts.append(f"mb{plan.microbatch_size}")
    if plan.recompute != "none":
        parts.append(f"recompute {plan.recompute[:3]}.")
    parts.append(plan.precision)
    return " · ".join(parts)
