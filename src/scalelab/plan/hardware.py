"""Which hardware, how many devices, which plan: search accelerators from the catalog and cluster
sizes for training `train_tokens`, under an optional deadline and budget, ranked by the objective."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from scalelab.core import catalog
from scalelab.core.errors import ConfigError, ScalelabError
from scalelab.core.scenario import cluster_from_string
from scalelab.core.site import Site
from scalelab.core.specs import ModelSpec, TrainWorkload
from scalelab.perf.train.plan_arrays import (
    RC_FULL,
    RC_SELECTIVE,
    SCHED_1F1B,
    SCHED_DUALPIPE,
    SCHED_INTERLEAVED,
)
from scalelab.plan.search import RankedPlan, search_train
from scalelab.plan.space import SpaceOptions

DEFAULT_COUNTS = (256, 512, 1024, 2048, 4096, 8192, 16384)
HARDWARE_KINDS = ("gpu", "tpu")
# A narrower space per (hardware, size) keeps a sweep of ~50 clusters interactive.
SWEEP_SPACE = SpaceOptions(
    micro_batches=(1, 2),
    recomputes=(RC_SELECTIVE, RC_FULL),
    schedules=(SCHED_1F1B, SCHED_INTERLEAVED, SCHED_DUALPIPE),
    zero_stages=(1,),
    context_parallel=False,
)


@dataclass(frozen=True)
class HardwareOption:
    """The best plan on one accelerator and cluster size, with its whole-run totals."""

    accelerator: str
    num_devices: int
    best: RankedPlan
    run_days: float
    cost_usd: float
    energy_kwh: float
    meets_deadline: bool
    meets_budget: bool


@dataclass(frozen=True)
class HardwareChoice:
    objective: str
    options: list[HardwareOption]  # every cluster where some plan fits, best first
    answer: HardwareOption | None
    message: str
    search_s: float
    skipped: list[str] = field(
        default_factory=list
    )  # "accelerator x count: why" per cluster left out


def accelerator_ids(spec: str) -> list[str]:
    """`any` = every GPU/TPU product in the catalog (not the emerging-device class models such as
    `systolic-tpu-v4`, which hw/emerging prices); otherwise a comma-separated list of ids or prefixes."""
    ids = catalog.list_ids("accelerators")
    if spec.strip().lower() == "any":
        return [
            i
            for i in ids
            if (acc := catalog.load_accelerator(i)).kind in HARDWARE_KINDS and not acc.emerging
        ]
    out = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        match = [i for i in ids if i == item] or [i for i in ids if i.startswith(item)]
        if len(match) != 1:
            raise ConfigError(
                f"--hardware: unknown or ambiguous accelerator '{item}' (known: {', '.join(ids)})"
            )
        out.append(match[0])
    if not out:
        raise ConfigError(
            f"--hardware: give `any` or accelerator ids (e.g. h100,b200), got '{spec}'"
        )
    return out


def _option(
    acc: str, n: int, best: RankedPlan, deadline_days: float | None, budget_usd: float | None
) -> HardwareOption:
    p = best.prediction
    days = (p.run_time_s or 0.0) / 86400.0
    cost, energy = p.cost_usd or 0.0, p.energy_kwh or 0.0
    return HardwareOption(
        acc,
        n,
        best,
        days,
        cost,
        energy,
        deadline_days is None or days <= deadline_days,
        budget_usd is None or cost <= budget_usd,
    )


def choose_hardware(
    model: ModelSpec,
    workload: TrainWorkload,
    hardware: str = "any",
    objective: str = "cost",
    counts: tuple[int, ...] = DEFAULT_COUNTS,
    deadline_days: float | None = None,
    budget_usd: float | None = None,
    site: Site | None = None,
) -> HardwareChoice:
    """Best (accelerator, count, plan) that trains workload.train_tokens within deadline and budget;
    `site` overrides prices and the carbon intensity."""
    if workload.train_tokens is None:
        raise ConfigError("choosing hardware needs --train-tokens (the run to price)")
    t0 = time.perf_counter()
    options, skipped = [], []
    for acc in accelerator_ids(hardware):
        for n in counts:
            try:
                cluster = (site or Site()).cluster(cluster_from_string(f"{acc}x{n}"))
            except ScalelabError as exc:
                skipped.append(f"{acc} x {n}: {exc}")
                continue
            found = search_train(model, cluster, workload, objective, top=1, opts=SWEEP_SPACE)
            if found.plans:
                options.append(_option(acc, n, found.plans[0], deadline_days, budget_usd))
    key = {
        "time": lambda o: o.run_days,
        "cost": lambda o: o.cost_usd,
        "energy": lambda o: o.energy_kwh,
    }[objective]
    options.sort(key=key)
    ok = [o for o in options if o.meets_deadline and o.meets_budget]
    answer = ok[0] if ok else None
    return HardwareChoice(
        objective,
        options,
        answer,
        _message(answer, options, deadline_days, budget_usd),
        time.perf_counter() - t0,
        skipped,
    )


def _message(
    answer: HardwareOption | None,
    options: list[HardwareOption],
    deadline_days: float | None,
    budget_usd: float | None,
) -> str:
    if answer is not None:
        return (
            f"{answer.num_devices:,} x {answer.accelerator}: {answer.run_days:,.1f} days, "
            f"${answer.cost_usd / 1e6:,.2f}M, {answer.energy_kwh / 1e6:,.2f} GWh"
        )
    if not options:
        return "no plan fits on any of the searched clusters"
    fastest = min(options, key=lambda o: o.run_days)
    cheapest = min(options, key=lambda o: o.cost_usd)
    limits = ", ".join(
        x
        for x in (
            f"deadline {deadline_days:g} days" if deadline_days else "",
            f"budget ${budget_usd:,.0f}" if budget_usd else "",
        )
        if x
    )
    return (
        f"no option meets the constraints ({limits}); fastest is "
        f"{fastest.num_devices:,} x {fastest.accelerator} in {fastest.run_days:,.1f} days, cheapest "
        f"{cheapest.num_devices:,} x {cheapest.accelerator} at ${cheapest.cost_usd / 1e6:,.2f}M"
    )
