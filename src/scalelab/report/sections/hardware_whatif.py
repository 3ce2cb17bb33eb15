"""Report section: hardware what-if. The model trained and served on other clusters (H100, H200,
GB200 NVL72, TPU v5p), on the baseline with a photonic scale-out network, and served on analog
compute-in-memory: time, cost, energy and decode speed, each row with its assumptions. The same
tables serve `scalelab whatif` (cli/whatif_cmd.py)."""

from __future__ import annotations

from typing import Any

from scalelab.core.specs import TrainWorkload
from scalelab.plan.labels import plan_label as fmt_plan_label
from scalelab.plan.labels import plan_options
from scalelab.plan.whatif import DEFAULT_TRAIN, InferRow, TrainRow, WhatIf, whatif
from scalelab.report.context import ReportContext
from scalelab.report.fmt import days
from scalelab.report.plans import FULL_SPACE, register_plan, same_plan
from scalelab.report.plots_whatif import ratio_panels
from scalelab.report.section import Figure, KeyNumber, Section, Table

BASELINE = "h800x2048"
VS = ("h100x2048", "h200x2048", "gb200x2048", "tpu-v5px2048", "photonic", "cim")
# Serving is planned on 320 devices (whole nodes): DeepSeek-V3's decode deployment, 40 nodes of
# 8 H800 (TR Sec 3.4.2); it keeps plan-serve's search within the report's time budget.
SERVE_DEVICES = 320
GENERIC_TRAIN = TrainWorkload(global_batch_size=1024, seq_len=4096, train_tokens=15e12, dtype="fp8")


def _f(value: float | None, fmt: str, scale: float = 1.0) -> str:
    """`fmt` for values that need no more digits; three significant digits for small ones."""
    if value is None:
        return "-"
    v = value * scale
    small = fmt.endswith("f") and 0 < abs(v) < 10.0 ** (1 - int(fmt[-2]))
    return format(v, ".3g") if small else format(v, fmt)


def _x(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.2f}x"


def plan_label(r: TrainRow) -> str:
    """Compact plan text, e.g. `TP2·PP4·EP256·DP256 DualPipe · ZeRO-1 · mb1 · recompute sel. · fp8`."""
    if r.plan is None:
        return "(see note)"
    return f"{fmt_plan_label(r.plan)} {plan_options(r.plan)}"


def _train_tables(w: WhatIf) -> list[Table]:
    rows = [r for r in w.rows if isinstance(r, TrainRow)]
    speed = [
        [r.label, _f(r.num_devices, ",.0f"), plan_label(r), _f(r.step_time_s, ",.2f")]
        + [_f(r.mfu, ".1%"), _f(r.run_time_s, ",.1f", 1 / 86400), _x(r.time_ratio)]
        for r in rows
    ]
    totals = [
        [r.label, _f(r.device_hours, ",.2f", 1e-6), _f(r.cost_usd, ",.2f", 1e-6)]
        + [_f(r.energy_kwh, ",.2f", 1e-6), _f(r.co2_kg, ",.2f", 1e-6)]
        + [_f(r.joules_per_token, ",.3f"), _x(r.cost_ratio), _x(r.energy_ratio)]
        for r in rows
    ]
    return [
        Table(
            f"What-if: training {w.model}, best plan by time",
            ["cluster", "devices", "plan", "step s", "MFU", "days", "time vs base"],
            speed,
            w.setting,
        ),
        Table(
            f"What-if: training {w.model}, whole-run totals",
            ["cluster", "device-h M", "cost $M", "GWh", "CO2 kt", "J/token", "cost vs", "GWh vs"],
            totals,
            _notes(w),
        ),
    ]


def _infer_tables(w: WhatIf) -> list[Table]:
    rows = [r for r in w.rows if isinstance(r, InferRow)]
    speed = [
        [r.label, _f(r.num_devices, ",.0f"), r.deployment, _f(r.sequences_per_replica, ",.0f")]
        + [_f(r.tpot_s, ",.2f", 1e3), _f(r.fastest_tpot_s, ",.2f", 1e3)]
        + [_f(r.tokens_per_s_per_request, ",.1f"), _x(r.tpot_ratio)]
        for r in rows
    ]
    money = [
        [r.label, _f(r.output_tokens_per_s_per_device, ",.0f"), _per_node(r)]
        + [_f(r.usd_per_million_output_tokens, ",.3f"), _f(r.joules_per_token, ",.3f")]
        + [_x(r.usd_ratio), _x(r.joules_ratio)]
        for r in rows
    ]
    return [
        Table(
            f"What-if: serving {w.model}, decode speed",
            ["target", "devices", "deployment", "seqs/replica", "TPOT ms", "fastest ms"]
            + ["tok/s/request", "TPOT vs base"],
            speed,
            w.setting,
        ),
        Table(
            f"What-if: serving {w.model}, throughput, money, energy",
            ["target", "tok/s/GPU", "per node", "$/M out tok", "J/token", "$ vs base"]
            + ["J vs base"],
            money,
            "\n".join(
                x
                for x in (
                    "output tokens/s per GPU (or chip) first; per node with the node size in "
                    "parentheses (8 GPUs on HGX, 72 on GB200 NVL72)",
                    _notes(w),
                )
                if x
            ),
        ),
    ]


def _per_node(r: InferRow) -> str:
    """Per-node rate with the node size beside it: nodes differ (8 GPUs, 72 in an NVL72 rack)."""
    if r.output_tokens_per_s_per_node is None or r.devices_per_node is None:
        return "-"
    return f"{r.output_tokens_per_s_per_node:,.0f} ({r.devices_per_node})"


def _notes(w: WhatIf) -> str:
    return "\n".join(f"{r.label}: {r.note}" for r in w.rows if r.note)


def result_tables(w: WhatIf) -> list[Table]:
    """The comparison tables of a what-if (train or infer), two per phase to fit a terminal."""
    return _train_tables(w) if w.phase == "train" else _infer_tables(w)


def assumption_table(w: WhatIf, terminal: bool = True) -> Table:
    """Every row's assumptions, one per line, with their sources."""
    rows = [[f"{r.label}: {a}"] for r in w.rows for a in r.assumptions]
    title = f"Assumptions behind each {w.phase} row "
    return Table(title, ["row: assumption"], rows, "", terminal)


def _figure(train: WhatIf, infer: WhatIf) -> Figure:
    t_rows = [r for r in train.rows if isinstance(r, TrainRow) and r.run_time_s is not None]
    i_rows = [r for r in infer.rows if isinstance(r, InferRow)]
    png = ratio_panels(
        [
            (
                f"training ({train.rows[0].label} = 1)",
                [r.label for r in t_rows],
                {
                    "time to train": [r.time_ratio for r in t_rows],
                    "cost": [r.cost_ratio for r in t_rows],
                    "energy": [r.energy_ratio for r in t_rows],
                },
            ),
            (
                f"decode ({infer.rows[0].label} = 1)",
                [r.label for r in i_rows],
                {
                    "TPOT": [r.tpot_ratio for r in i_rows],
                    "$ per token": [r.usd_ratio for r in i_rows],
                    "J per token": [r.joules_ratio for r in i_rows],
                },
            ),
        ]
    )
    caption = (
        "Each target's ratio to the baseline on a log scale centred on 1: bars to the left are "
        "better, to the right worse; ratios beyond 10x either way have their own panel"
    )
    return Figure(caption, png)


def _train_workload(ctx: ReportContext) -> TrainWorkload:
    m = ctx.model
    deepseek_like = m.is_moe and m.num_routed_experts % 64 == 0 and m.num_layers >= 16
    return DEFAULT_TRAIN if deepseek_like else GENERIC_TRAIN


def _summary(train: WhatIf, infer: WhatIf) -> str:
    t = {r.label: r for r in train.rows if isinstance(r, TrainRow)}
    i = {r.label: r for r in infer.rows if isinstance(r, InferRow)}
    done = [r for r in t.values() if r.run_time_s is not None]
    fastest = min(done, key=lambda r: r.run_time_s or 0.0) if done else None
    parts = []
    if fastest is not None and t[BASELINE].run_time_s is not None:
        parts.append(
            f"{train.model} trains in {t[BASELINE].run_time_s / 86400:,.1f} days on {BASELINE}; "
            f"fastest is {fastest.label} ({(fastest.run_time_s or 0) / 86400:,.1f} days, "
            f"{_x(fastest.cost_ratio)} the cost, {_x(fastest.energy_ratio)} the energy)."
        )
    if t.get("photonic") and t["photonic"].time_ratio is not None:
        parts.append(
            f"A photonic scale-out network on the baseline changes training time "
            f"{_x(t['photonic'].time_ratio)} and decode cost {_x(i['photonic'].usd_ratio)}."
        )
    if i.get("cim") and i["cim"].joules_ratio is not None:
        parts.append(
            f"Analog CIM serving needs {i['cim'].num_devices:,} chips and spends "
            f"{_x(i['cim'].joules_ratio)} the baseline's energy per token."
        )
    parts.append(
        f"Every training row is the fastest plan of the full planner space on its cluster; serving "
        f"planned on {SERVE_DEVICES} devices per target."
    )
    return " ".join(parts)


def _data(train: WhatIf, infer: WhatIf) -> dict[str, Any]:
    return {
        "train": {
            r.label: {
                "run_time_s": r.run_time_s,
                "cost_usd": r.cost_usd,
                "energy_kwh": r.energy_kwh,
            }
            for r in train.rows
            if isinstance(r, TrainRow)
        },
        "infer": {
            r.label: {
                "tpot_s": r.tpot_s,
                "output_tokens_per_s_per_device": r.output_tokens_per_s_per_device,
                "joules_per_token": r.joules_per_token,
            }
            for r in infer.rows
            if isinstance(r, InferRow)
        },
        "elapsed_s": train.elapsed_s + infer.elapsed_s,
    }


def build(ctx: ReportContext) -> Section:
    """Training and serving what-ifs for the report's model on the clusters and presets above."""
    # The full planner space (as `scalelab whatif` without --quick), so the baseline row is the
    # same plan the planning section calls fastest: one plan per question across the report.
    train = whatif(ctx.model, BASELINE, list(VS), "train", train=_train_workload(ctx))
    base = _register_baseline(ctx, train)
    infer = whatif(ctx.model, BASELINE, list(VS), "infer", serve_devices=SERVE_DEVICES)
    return Section(
        title="Hardware what-if: other clusters, a photonic network, compute-in-memory",
        summary=_summary(train, infer),
        tables=[
            *result_tables(train),
            *result_tables(infer),
            assumption_table(train, terminal=False),
            assumption_table(infer, terminal=False),
        ],
        figures=[_figure(train, infer)],
        data=_data(train, infer),
        key_numbers=_key_numbers(train, base),
    )


def _register_baseline(ctx: ReportContext, train: WhatIf) -> TrainRow | None:
    """The baseline row's plan: the planning section's fastest when they agree, else its own."""
    row = next((r for r in train.rows if isinstance(r, TrainRow) and r.label == BASELINE), None)
    if row is None or row.plan is None or row.num_devices is None:
        return row
    key = "fastest" if same_plan(ctx.plans.get("fastest"), row.plan, row.num_devices) else BASELINE
    question = f"Fastest plan on {BASELINE} (what-if baseline)"
    register_plan(ctx, key, question, row.plan, "H800", row.num_devices, FULL_SPACE,
                  "hardware_whatif", row.run_time_s, row.cost_usd)  # fmt: skip
    return row


def _key_numbers(train: WhatIf, base: TrainRow | None) -> list[KeyNumber]:
    done = [r for r in train.rows if isinstance(r, TrainRow) and r.run_time_s is not None]
    if not done or base is None or base.run_time_s is None:
        return []
    fastest = min(done, key=lambda r: r.run_time_s or 0.0)
    return [
        KeyNumber(
            "Fastest hardware to train on",
            f"{fastest.label}: {days(fastest.run_time_s or 0.0)}",
            f"{_x(fastest.time_ratio)} the time and {_x(fastest.cost_ratio)} the cost of {BASELINE}",
        )
    ]
