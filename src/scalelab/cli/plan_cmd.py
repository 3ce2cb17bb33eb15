"""`scalelab plan`: the best parallel plan (and, with --hardware, the best hardware) for training."""

from __future__ import annotations

from typing import Any

import typer

from scalelab.cli.common import (
    Co2Option,
    JsonOption,
    PriceOption,
    batch_line,
    err,
    examples,
    finite,
    out,
    print_json,
    rich_table,
    site_from_flags,
)
from scalelab.core import flags
from scalelab.core.errors import ConfigError, InfeasiblePlan
from scalelab.core.scenario import resolve_cluster, resolve_model
from scalelab.core.site import Site
from scalelab.core.specs import MAX_DEVICES, MAX_SEQ_TOKENS, TrainWorkload
from scalelab.hw.scaleout import apply_topology
from scalelab.plan.explain import describe_plan, near_memory_limit
from scalelab.plan.hardware import HardwareChoice, choose_hardware
from scalelab.plan.labels import plan_label, plan_options
from scalelab.plan.search import OBJECTIVES, RankedPlan, TrainSearch, search_train
from scalelab.plan.search_dict import ranked_plan_dict
from scalelab.report.fmt import pct
from scalelab.report.section import Table

# The workload parser lives in core/flags.py: the web page (scalelab.web) shares it.
_workload = flags.train_workload


def plan_tables(r: TrainSearch) -> list[Table]:
    """Top plans, the Pareto front and the rejection counts."""

    def row(p: RankedPlan) -> list[str]:
        q = p.prediction
        run = f"{q.run_time_s / 86400:,.1f}" if q.run_time_s else "-"
        cost = f"{q.cost_usd / 1e6:,.2f}" if q.cost_usd else "-"
        same = f" · +{p.num_equivalent:,} equivalent" if p.num_equivalent else ""
        near = " (near limit)" if near_memory_limit(p) else ""
        return [
            str(p.rank),
            f"{plan_label(q.plan)}\n{plan_options(q.plan)} · {p.num_devices:,} GPUs{same}",
            f"{q.step_time_s:,.2f}",
            pct(q.mfu),
            f"{q.memory_per_device_bytes / 2**30:,.1f}" + near,
            run,
            cost,
        ]

    cols = ["#", "plan", "step s", "MFU", "GiB/GPU", "days", "$M"]
    tables = [
        Table(
            f"Best plans by {r.objective} ({r.num_evaluated:,} evaluated in {r.search_s:,.2f} s)",
            cols,
            [row(p) for p in r.plans],
            note="\n".join(r.explanation),
        )
    ]
    if len(r.pareto) > 1:
        tables.append(Table("Pareto front: time vs cost", cols, [row(p) for p in r.pareto]))
    return tables


def hardware_table(h: HardwareChoice) -> Table:
    rows = [
        [
            o.accelerator,
            f"{o.num_devices:,}",
            describe_plan(o.best.prediction.plan),
            f"{o.run_days:,.1f}",
            f"{o.cost_usd / 1e6:,.2f}",
            f"{o.energy_kwh / 1e6:,.2f}",
            "yes" if o.meets_deadline and o.meets_budget else "no",
        ]
        for o in h.options[:20]
    ]
    return Table(
        f"Hardware options by {h.objective} ({h.search_s:,.1f} s)",
        [
            "accelerator",
            "devices",
            "best plan",
            "days",
            "cost ($M)",
            "energy (GWh)",
            "meets limits",
        ],
        rows,
        note=h.message
        + (
            f"\n{len(h.skipped)} cluster sizes cannot be built: " + "; ".join(h.skipped[:3])
            if h.skipped
            else ""
        ),
    )


def plan(
    model: str = typer.Option(
        ..., "--model", help="Catalog id or model file (TOML/JSON, HF config.json)."
    ),
    cluster: str = typer.Option(
        None, "--cluster", help="ACCELERATORxCOUNT (e.g. h800x2048) or a cluster TOML."
    ),
    global_batch: str = typer.Option(
        None, "--global-batch", help="Sequences per step (e.g. 15360)."
    ),
    batch_tokens: str = typer.Option(
        None, "--batch-tokens", help="Tokens per step (e.g. 16M); divided by --seq."
    ),
    seq: int = typer.Option(
        4096, "--seq", min=1, max=MAX_SEQ_TOKENS, help="Sequence length (tokens)."
    ),
    train_tokens: str = typer.Option(
        None, "--train-tokens", help="Tokens to train (e.g. 14.8T): run time and cost."
    ),
    objective: str = typer.Option(
        "time", "--objective", help="Rank by time, cost or energy per token."
    ),
    top: int = typer.Option(5, "--top", min=1, max=10**4, help="How many plans to return."),
    fp8: bool = typer.Option(
        False, "--fp8", help="Allow fp8 training where the device supports it."
    ),
    scale_down: int = typer.Option(
        0,
        "--scale-down",
        min=0,
        max=MAX_DEVICES.bit_length() - 1,
        help="Also try 1/2, 1/4, ... of the cluster (this many halvings).",
    ),
    hardware: str = typer.Option(
        None, "--hardware", help="`any` or ids (a,b): also choose the accelerator and count."
    ),
    deadline_days: float = typer.Option(
        None,
        "--deadline-days",
        callback=finite(gt=0),
        help="With --hardware: finish within this many days.",
    ),
    budget_usd: float = typer.Option(
        None,
        "--budget-usd",
        callback=finite(gt=0),
        help="With --hardware: spend at most this much.",
    ),
    require_fit: bool = typer.Option(
        False, "--require-fit", help="Exit 1 when no plan fits in memory."
    ),
    price: str = PriceOption,
    co2: float = Co2Option,
    as_json: bool = JsonOption,
) -> None:
    """Search dp/tp/pp/ep/cp, ZeRO, micro-batch, schedule, recompute (and precision) for the best training plan."""
    if objective not in OBJECTIVES:
        raise ConfigError(
            f"--objective: expected one of {', '.join(OBJECTIVES)}, got '{objective}'"
        )
    m = resolve_model(model)
    wl = _workload(global_batch, batch_tokens, seq, train_tokens, fp8)
    site = site_from_flags(price, co2)
    if not as_json:
        out.print(batch_line(wl))
        if site.describe():
            out.print(site.describe())
    if hardware:
        limits = (deadline_days, budget_usd)
        _hardware(m, wl, hardware, objective, limits, site, require_fit, as_json)
        return
    if cluster is None:
        raise ConfigError("give --cluster (e.g. h800x2048) or --hardware any")
    hw = apply_topology(site.cluster(resolve_cluster(cluster)))
    result = search_train(m, hw, wl, objective, top=top, scale_down=scale_down)
    if as_json:
        print_json(result.to_dict())
    elif result.plans:
        for table in plan_tables(result):
            out.print(rich_table(table))
    if not result.plans:
        if require_fit:
            raise InfeasiblePlan(result.no_fit_message or "no plan fits")
        if not as_json:
            err.print(result.no_fit_message or "no plan fits", highlight=False)


def _hardware(
    m: Any,
    wl: TrainWorkload,
    hardware: str,
    objective: str,
    limits: tuple[float | None, float | None],
    site: Site,
    require_fit: bool,
    as_json: bool,
) -> None:
    h = choose_hardware(
        m, wl, hardware, objective, deadline_days=limits[0], budget_usd=limits[1], site=site
    )
    if as_json:
        print_json(
            {
                "answer": None
                if h.answer is None
                else {
                    "accelerator": h.answer.accelerator,
                    "num_devices": h.answer.num_devices,
                    "plan": ranked_plan_dict(h.answer.best),
                },
                "message": h.message,
                "search_s": h.search_s,
                "skipped": h.skipped,
                "options": [
                    {
                        "accelerator": o.accelerator,
                        "num_devices": o.num_devices,
                        "run_days": o.run_days,
                        "cost_usd": o.cost_usd,
                        "energy_kwh": o.energy_kwh,
                        "plan": o.best.prediction.plan.model_dump(),
                    }
                    for o in h.options
                ],
            }
        )
    else:
        out.print(rich_table(hardware_table(h)))
    if h.answer is None and require_fit:
        raise InfeasiblePlan(h.message)


def register(app: typer.Typer) -> None:
    app.command(
        "plan",
        epilog=examples(
            "scalelab plan --model deepseek-v3 --cluster h800x2048 --global-batch 15360 "
            "--seq 4096 --train-tokens 14.8T --fp8 --top 3",
            "scalelab plan --model llama-3.1-70b --cluster h100x1024 --batch-tokens 16Mi "
            "--seq 8192 --train-tokens 15T --objective cost --price-usd-per-hour 2.5",
            "scalelab plan --model llama-3.1-8b --hardware h100,b200 --global-batch 512 "
            "--seq 8192 --train-tokens 1T --deadline-days 30 --json",
        ),
    )(plan)
