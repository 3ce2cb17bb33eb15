"""`scalelab plan-serve`: the cheapest serving deployment that meets TTFT/TPOT targets, and the
latency-throughput Pareto frontier."""

from __future__ import annotations

import typer

from scalelab.cli.common import (
    JsonOption,
    PriceOption,
    choice,
    examples,
    finite,
    out,
    print_json,
    rich_table,
    site_from_flags,
)
from scalelab.core import flags
from scalelab.core.scenario import resolve_cluster, resolve_model
from scalelab.core.specs import MAX_SEQ_TOKENS
from scalelab.core.units import DTYPE_BYTES
from scalelab.hw.scaleout import apply_topology
from scalelab.plan.serve import ServeOption, ServePlan, plan_serve
from scalelab.report.section import Table


def option_row(o: ServeOption) -> list[str]:
    return [
        o.label,
        f"{o.sequences_per_replica:,.0f}",
        f"{o.ttft_s * 1e3:,.1f}",
        f"{o.tpot_s * 1e3:,.2f}",
        f"{o.output_tokens_per_s_per_device:,.0f}",
        f"{o.output_tokens_per_s_per_node:,.0f}",
        f"{o.usd_per_million_output_tokens:,.3f}",
    ]


def option_columns(devices_per_node: int) -> list[str]:
    """Throughput per GPU first, per node beside it with the node size."""
    return [
        "deployment",
        "seqs/replica",
        "TTFT ms",
        "TPOT ms",
        "tok/s/GPU",
        f"per node ({devices_per_node})",
        "$/M tok",
    ]


def serve_plan_tables(p: ServePlan) -> list[Table]:
    columns = option_columns(p.best.devices_per_node)
    note = (
        "output tokens/s per GPU count every device paid for (both pools, idle ones included), "
        "per node beside it (node size in the header); 'prefill ... / decode ...' deployments "
        "are disaggregated; '(N idle)' marks devices no whole replica can use"
    )
    return [
        Table(
            "Deployments meeting the targets, cheapest first",
            columns,
            [option_row(o) for o in p.options],
            note,
        ),
        Table(
            "Latency-throughput Pareto frontier (within the TTFT target)",
            columns,
            [option_row(o) for o in p.pareto],
        ),
    ]


def plan_serve_cmd(
    model: str = typer.Option(
        ..., "--model", help="Catalog id or model file (TOML/JSON, HF config.json)."
    ),
    cluster: str = typer.Option(
        ..., "--cluster", help="ACCELERATORxCOUNT (e.g. h800x320) or a cluster TOML."
    ),
    ttft_ms: float = typer.Option(
        None, "--ttft-ms", callback=finite(gt=0), help="Time-to-first-token target (ms)."
    ),
    tpot_ms: float = typer.Option(
        None, "--tpot-ms", callback=finite(gt=0), help="Time-per-output-token target (ms)."
    ),
    prompt: int = typer.Option(
        1024, "--prompt", min=1, max=MAX_SEQ_TOKENS, help="Prompt tokens per request."
    ),
    output: int = typer.Option(
        256, "--output", min=1, max=MAX_SEQ_TOKENS, help="Output tokens per request."
    ),
    dtype: str = typer.Option(
        "bf16",
        "--dtype",
        callback=choice(*DTYPE_BYTES),
        help="Weight dtype: bf16, fp8, int8, int4.",
    ),
    top: int = typer.Option(10, "--top", min=1, max=10**4, help="How many deployments to list."),
    price: str = PriceOption,
    as_json: bool = JsonOption,
) -> None:
    """Search TP/EP/DP/PP, batch and prefill/decode disaggregation for the lowest $ per output token."""
    workload = flags.serve_workload(prompt, output, dtype, ttft_ms, tpot_ms)
    hardware = site_from_flags(price, None).cluster(resolve_cluster(cluster))
    result = plan_serve(resolve_model(model), apply_topology(hardware), workload, top=top)
    if as_json:
        print_json(result.to_dict())
        return
    for table in serve_plan_tables(result):
        out.print(rich_table(table))


def register(app: typer.Typer) -> None:
    app.command(
        "plan-serve",
        epilog=examples(
            "scalelab plan-serve --model llama-3.1-70b --cluster h100x8 --ttft-ms 2000 --tpot-ms 50",
            "scalelab plan-serve --model deepseek-v3 --cluster h800x64 --dtype fp8 --prompt 2048 "
            "--output 512 --tpot-ms 100 --top 5 --json",
        ),
    )(plan_serve_cmd)
