"""`scalelab place MODEL --devices FILE`: schedule one inference step over heterogeneous devices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from scalelab.cli.common import JsonOption, choice, examples, out, print_json, rich_table
from scalelab.core.scenario import resolve_model
from scalelab.core.specs import MAX_BATCH, MAX_SEQ_TOKENS
from scalelab.core.units import DTYPE_BYTES
from scalelab.hw.devices import Machine, load_machine
from scalelab.hw.opgraph import OpGraph, build_graph
from scalelab.hw.placement import Placement, schedule
from scalelab.report.section import Table


def _json(p: Placement, graph: OpGraph) -> dict[str, object]:
    return {
        "phase": graph.phase,
        "tokens": p.tokens,
        "makespan_s": p.makespan_s,
        "tokens_per_s": p.tokens_per_s,
        "transfer_s": p.transfer_s,
        "num_transfers": p.num_transfers,
        "busy_s": p.busy_s,
        "utilization_frac": p.utilization_frac,
        "memory_used_bytes": p.memory_used_bytes,
        "assignment": p.assignment,
        "baselines": [
            {"device": b.device, "makespan_s": b.makespan_s, "fits": b.fits} for b in p.baselines
        ],
    }


def _device_table(p: Placement, graph: OpGraph, machine: Machine) -> Table:
    rows = []
    for d in machine.devices:
        kinds = sorted({o.kind for o in graph.ops if p.assignment[o.name] == d.name})
        rows.append(
            [
                d.name,
                d.acc.id,
                str(sum(1 for v in p.assignment.values() if v == d.name)),
                ", ".join(kinds) or "-",
                f"{p.memory_used_bytes[d.name] / 1e9:,.1f} / {d.memory_bytes / 1e9:,.0f}",
                f"{p.busy_s[d.name] * 1e3:,.2f}",
                f"{100 * p.utilization_frac[d.name]:.0f}%",
            ]
        )
    return Table(
        "Placement per device",
        [
            "device",
            "accelerator",
            "ops",
            "op kinds",
            "weights GB / memory GB",
            "busy ms",
            "utilization",
        ],
        rows,
    )


def _baseline_table(p: Placement) -> Table:
    rows = [
        [
            b.device,
            f"{b.makespan_s * 1e3:,.2f}",
            "yes" if b.fits else "NO (weights do not fit)",
            f"{b.makespan_s / p.makespan_s:,.2f}x",
        ]
        for b in p.baselines
    ]
    return Table(
        "Single-device baselines (whole step on one device)",
        ["device", "step ms", "fits", "vs placement"],
        rows,
    )


def place(
    model: str = typer.Argument(..., help="Model catalog id or model file."),
    devices: Path = typer.Option(
        ...,
        "--devices",
        help="Devices TOML: \\[\\[devices]], \\[\\[links]], optional \\[pins] tables.",
    ),
    phase: str = typer.Option(
        "decode",
        "--phase",
        callback=choice("decode", "prefill"),
        help="decode (one token per sequence) or prefill.",
    ),
    batch_size: int = typer.Option(
        1, "--batch-size", min=1, max=MAX_BATCH, help="Sequences in the step."
    ),
    context: int = typer.Option(
        4096,
        "--context",
        min=1,
        max=MAX_SEQ_TOKENS,
        help="Decode: cached tokens each new token attends to.",
    ),
    prompt: int = typer.Option(
        1024, "--prompt", min=1, max=MAX_SEQ_TOKENS, help="Prefill: prompt tokens per sequence."
    ),
    weight_dtype: str = typer.Option(
        "fp8",
        "--weight-dtype",
        callback=choice(*DTYPE_BYTES),
        help="Weight storage dtype (bf16, fp8, int8, int4).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """HEFT schedule of one step's operator graph: makespan, per-device utilization, transfer time,
    against every device alone. Link contention is not modeled."""
    m = resolve_model(model)
    machine = load_machine(devices)
    graph = build_graph(m, phase, batch_size, context, prompt, weight_dtype)  # type: ignore[arg-type]
    p = schedule(graph, machine)
    if as_json:
        print_json(_json(p, graph))
        return
    out.print(
        f"[bold]{escape(m.name)}[/] {phase}, {p.tokens} token(s) per step: makespan {p.makespan_s * 1e3:,.2f} ms "
        f"({p.tokens_per_s:,.1f} tokens/s); {p.num_transfers} transfers, {p.transfer_s * 1e3:,.3f} ms in all"
    )
    out.print(rich_table(_device_table(p, graph, machine)))
    out.print(rich_table(_baseline_table(p)))


def register(app: typer.Typer) -> None:
    app.command(
        "place",
        epilog=examples(
            "scalelab place llama-3.1-8b --devices examples/devices-gpu-cpu.toml",
            "scalelab place llama-3.1-8b --devices examples/devices-gpu-cpu.toml --phase decode --json",
        ),
    )(place)
