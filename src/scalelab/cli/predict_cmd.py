"""`scalelab predict train SCENARIO.toml`: one training plan, full breakdown (`predict infer` joins later)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from scalelab.cli.common import (
    Co2Option,
    JsonOption,
    PriceOption,
    batch_line,
    examples,
    out,
    print_json,
    rich_table,
    site_from_flags,
)
from scalelab.core.errors import located
from scalelab.core.io import read_mapping
from scalelab.core.scenario import Scenario, load_scenario, resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.hw.scaleout import apply_topology
from scalelab.perf.train.predict import TrainPrediction, predict_train
from scalelab.plan.labels import plan_label, plan_options
from scalelab.report.fmt import gib, pct
from scalelab.report.section import Table

predict_app = typer.Typer(
    help="Predict one plan: step time, MFU, memory and cost (train) or serving metrics (infer).",
    no_args_is_help=True,
)


def with_topology(scenario: Scenario) -> Scenario:
    """The scenario with its scale-out topology's oversubscription and latency folded into the
    cluster (hw/scaleout.apply_topology), so the perf model sees the named network."""
    return replace(scenario, cluster=apply_topology(scenario.cluster))


BREAKDOWN_LABELS = {
    "compute": "compute (kernels incl. recompute)",
    "tp_comm": "TP collectives (exposed)",
    "cp_comm": "CP ring exchange (exposed)",
    "ep_comm": "EP all-to-all (exposed)",
    "pp_comm": "PP sends (exposed)",
    "pipeline_bubble": "pipeline bubble",
    "dp_comm": "DP gradient sync / ZeRO gathers (exposed)",
    "optimizer": "optimizer update",
}


def train_tables(p: TrainPrediction) -> list[Table]:
    """Headline metrics, step-time breakdown, memory per device and run totals as report tables."""
    plan = p.plan
    head = [
        [
            "plan",
            f"{plan_label(plan)} · {plan_options(plan)}",
        ],
        ["step time", f"{p.step_time_s:,.3f} s ({p.num_micro_batches} micro-batches)"],
        [
            "MFU (bf16 peak)",
            f"{pct(p.mfu)} (causal {pct(p.mfu_causal)}, non-causal {pct(p.mfu_noncausal)})",
        ],
        ["HFU (incl. recompute)", pct(p.hfu)],
        ["model TFLOP/s per device", f"{p.model_flops_per_s_per_device / 1e12:,.1f}"],
        ["tokens/s", f"{p.tokens_per_s:,.0f}"],
        [
            "memory per device",
            f"{gib(p.memory_per_device_bytes)} of {gib(p.hbm_bytes)} ({p.memory_device})",
        ],
        [
            "fits in memory",
            "yes" if p.fits_in_memory else f"NO: {gib(p.memory_overflow_bytes)} over",
        ],
    ]
    tables = [Table("Training prediction", ["metric", "value"], head)]
    rows = [
        [BREAKDOWN_LABELS.get(k, k), f"{v:,.3f}", pct(v / p.step_time_s)]
        for k, v in p.breakdown_s.items()
    ]
    tables.append(Table("Step time breakdown", ["component", "s", "share"], rows))
    mem = []
    for k, v in p.memory_breakdown_bytes.items():
        mem.append([k.replace("_", " "), gib(v)])
        if k == "activations":
            mem += [
                [f"  {t.replace('_', ' ')}", gib(b)]
                for t, b in p.activation_breakdown_bytes.items()
            ]
    tables.append(Table(f"Memory per device ({p.memory_device})", ["part", "GiB"], mem))
    if p.device_hours is not None:
        run = [
            ["tokens to train", f"{p.train_tokens:,.3g}"],
            ["wall time", f"{(p.run_time_s or 0) / 86400:,.1f} days"],
            ["device-hours", f"{p.device_hours:,.0f}"],
            ["cost", f"${p.cost_usd:,.0f}"],
            ["energy (power model, node overhead, PUE)", f"{p.energy_kwh:,.0f} kWh"],
            ["CO2", f"{(p.co2_kg or 0) / 1e3:,.0f} t"],
            ["energy per token", f"{p.joules_per_token:,.3f} J"],
        ]
        if p.avg_device_power_w is not None:
            run.append(["average power per device (board)", f"{p.avg_device_power_w:,.0f} W"])
        tables.append(Table("Whole run", ["quantity", "value"], run))
    return tables


@predict_app.command(
    "train",
    epilog=examples(
        "scalelab predict train examples/deepseek-v3-train.toml",
        "scalelab predict train examples/llama3-405b-train.toml --co2-kg-per-kwh 0.05 "
        "--price-usd-per-hour 2.5 --json",
    ),
)
def train(
    scenario: Path = typer.Argument(
        ...,
        help="Scenario TOML with \\[model], \\[hardware], \\[parallel], \\[workload] "
        "tables (catalog ids or inline fields), as in a validation case.",
    ),
    hardware: str = typer.Option(
        None,
        "--hardware",
        help="Replace the scenario's accelerator: a catalog id or a profile TOML written by "
        "`scalelab calibrate` (its measured kernel rates are then used).",
    ),
    price: str = PriceOption,
    co2: float = Co2Option,
    as_json: bool = JsonOption,
) -> None:
    """Predict one training step of a plan: time and its breakdown, MFU, memory fit, run cost."""
    data = read_mapping(scenario)
    if hardware:
        table = data.get("hardware")
        if not isinstance(table, dict):
            table = (
                {"num_devices": 1}
                if table is None
                else resolve_cluster(table, f"{scenario}: hardware").model_dump(
                    include={"num_devices", "devices_per_node"}
                )
            )
        data["hardware"] = {**table, "accelerator": hardware}
    site = site_from_flags(price, co2)
    with located(str(scenario)):  # the plan's problems are the scenario's
        loaded = load_scenario(data, "train", str(scenario))
        loaded = replace(loaded, cluster=site.cluster(loaded.cluster))
        pred = predict_train(with_topology(loaded))
    if as_json:
        print_json(pred.to_dict())
        return
    assert isinstance(loaded.workload, TrainWorkload)
    out.print(batch_line(loaded.workload))
    for line in filter(None, [site.describe()]):
        out.print(line)
    for table in train_tables(pred):
        out.print(rich_table(table))


def register(app: typer.Typer) -> None:
    app.add_typer(predict_app, name="predict")
