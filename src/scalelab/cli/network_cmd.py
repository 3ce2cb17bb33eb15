"""`scalelab network TOPOLOGY`: size, cost, bisection and hops of a scale-out topology."""

from __future__ import annotations

from dataclasses import asdict

import typer

from scalelab.cli.common import JsonOption, examples, finite, out, print_json, rich_table
from scalelab.core.specs import TOPOLOGIES
from scalelab.hw.topology import (
    MAX_LINK_GBIT_PER_S,
    MAX_PLANES,
    MAX_RADIX,
    SWITCH_HOP_LATENCY_S,
    Topology,
    build_topology,
    compare_topologies,
)
from scalelab.report.section import Table


def _as_dict(t: Topology) -> dict[str, object]:
    return {
        **asdict(t),
        "cost_per_endpoint_usd": t.cost_per_endpoint_usd,
        "oversubscription_ratio": t.oversubscription_ratio,
        "bisection_ratio": t.bisection_ratio,
        "diameter_latency_s": t.diameter_latency_s,
    }


def _row(t: Topology) -> list[str]:
    return [
        t.name,
        str(t.switch_radix),
        str(t.planes),
        f"{t.num_endpoints:,}",
        f"{t.num_switches:,}",
        f"{t.num_links:,}",
        f"{t.cost_usd / 1e6:,.1f}",
        f"{t.cost_per_endpoint_usd:,.0f}",
        f"{t.bisection_bytes_per_s / 1e12:,.1f}",
        f"{t.oversubscription_ratio:.2f}",
        str(t.diameter_switches),
        f"{t.diameter_latency_s * 1e9:,.0f}",
    ]


COLUMNS = [
    "topology",
    "radix",
    "planes",
    "endpoints",
    "switches",
    "switch links",
    "cost M$",
    "$ / endpoint",
    "bisection TB/s",
    "oversub.",
    "max switches",
    "hop latency ns",
]


def network(
    topology: str = typer.Argument(
        ..., help=f"One of {', '.join(TOPOLOGIES)}, or 'all' to compare the switched ones."
    ),
    radix: int = typer.Option(
        64,
        "--radix",
        min=2,
        max=MAX_RADIX,
        help="Switch ports (torus: chips per dimension).",
    ),
    planes: int = typer.Option(
        1,
        "--planes",
        min=1,
        max=MAX_PLANES,
        help="Independent planes (multi-plane fat-tree; default 8 there).",
    ),
    link_gbit: float = typer.Option(
        400.0,
        "--link-gbit",
        callback=finite(gt=0, le=MAX_LINK_GBIT_PER_S),
        help="Line rate per link, Gbit/s.",
    ),
    prime_power_only: bool = typer.Option(
        False, "--prime-power-only", help="Slim fly: only prime-power q (MMS graphs that exist)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Endpoints, switches, links, cost (Slim Fly cost methodology, 400G prices derived from
    Zhao et al. ISCA'25 Table 3), bisection, oversubscription and hops at the largest size."""
    if topology.strip().lower() == "all":
        topos = compare_topologies(radix, link_gbit, planes if planes > 1 else 8)
    else:
        topos = [
            build_topology(topology, radix, planes, link_gbit, prime_power_only=prime_power_only)
        ]
    if as_json:
        print_json([_as_dict(t) for t in topos])
        return
    notes = "; ".join(f"{t.name}: {t.note}" for t in topos if t.note)
    out.print(
        rich_table(
            Table(
                f"Topologies at radix {radix}, {link_gbit:g} Gbit/s links",
                COLUMNS,
                [_row(t) for t in topos],
                note=f"cost = switches + switch-to-switch links (endpoint NICs excluded); "
                f"hop latency at {SWITCH_HOP_LATENCY_S * 1e9:.0f} ns per switch (assumption)"
                + (f". {notes}" if notes else ""),
            )
        )
    )
    for t in topos:
        if t.params:
            out.print(f"{t.name}: " + ", ".join(f"{k}={v}" for k, v in t.params.items()))


def register(app: typer.Typer) -> None:
    app.command(
        "network",
        epilog=examples(
            "scalelab network fat-tree-2 --radix 64",
            "scalelab network multi-plane-fat-tree --radix 64 --planes 8 --json",
            "scalelab network slim-fly --radix 64",
        ),
    )(network)
