"""`scalelab hardware list|show`: accelerators and interconnects, each number with its source."""

from __future__ import annotations

import typer

from scalelab.cli.common import JsonOption, examples, out, print_json, rich_table
from scalelab.core import catalog
from scalelab.core.errors import CatalogError
from scalelab.report.section import Table

hardware_app = typer.Typer(
    help="Hardware: accelerators and interconnects in the catalog.", no_args_is_help=True
)


@hardware_app.command(
    "list", epilog=examples("scalelab hardware list", "scalelab hardware list --json")
)
def list_hardware(as_json: bool = JsonOption) -> None:
    """Every accelerator (peak dense FLOP/s, HBM, bandwidth, power) and interconnect."""
    accs = [catalog.load_accelerator(i) for i in catalog.list_ids("accelerators")]
    links = [catalog.load_raw("interconnects", i) for i in catalog.list_ids("interconnects")]
    if as_json:
        print_json({"accelerators": [a.model_dump() for a in accs], "interconnects": links})
        return
    rows = [
        [
            a.id,
            a.kind,
            f"{a.peak_bf16_flops_per_s / 1e12:,.0f}",
            f"{a.peak_fp8_flops_per_s / 1e12:,.0f}" if a.peak_fp8_flops_per_s else "-",
            f"{a.hbm_bytes / 2**30:,.0f}",
            f"{a.hbm_bandwidth_bytes_per_s / 1e12:,.2f}",
            f"{(a.scale_up_bandwidth_bytes_per_s_per_direction or 0) / 1e9:,.0f}",
            f"{a.tdp_w:,.0f}",
        ]
        for a in accs
    ]
    out.print(
        rich_table(
            Table(
                "Accelerators (dense peaks)",
                [
                    "id",
                    "kind",
                    "bf16 TFLOP/s",
                    "fp8 TFLOP/s",
                    "HBM GiB",
                    "HBM TB/s",
                    "scale-up GB/s/dir",
                    "TDP W",
                ],
                rows,
            )
        )
    )
    out.print(
        rich_table(
            Table(
                "Interconnects",
                ["id", "name", "tier", "bandwidth"],
                [[str(r["id"]), str(r["name"]), str(r["tier"]), _bw(r)] for r in links],
            )
        )
    )


def _bw(raw: dict[str, object]) -> str:
    if "nic_gbit_per_s" in raw:
        return f"{raw['nic_gbit_per_s']} Gbit/s per NIC"
    return f"{raw.get('bandwidth_gb_per_s_per_direction')} GB/s per direction"


@hardware_app.command(
    "show",
    epilog=examples("scalelab hardware show h800-sxm5-80gb", "scalelab hardware show ib-ndr"),
)
def show(
    hw_id: str = typer.Argument(..., help="Accelerator or interconnect id."),
    as_json: bool = JsonOption,
) -> None:
    """One catalog entry as written (source units), with the source or assumption of every number."""
    for kind in ("accelerators", "interconnects"):
        if hw_id in catalog.list_ids(kind):
            raw = catalog.load_raw(kind, hw_id)
            break
    else:
        known = ", ".join(catalog.list_ids("accelerators") + catalog.list_ids("interconnects"))
        raise CatalogError(f"unknown hardware '{hw_id}' (known: {known})")
    if as_json:
        print_json(raw)
        return
    notes = {
        **{k: f"source: {v}" for k, v in raw.get("sources", {}).items()},
        **{k: f"ASSUMPTION: {v}" for k, v in raw.get("assumptions", {}).items()},
    }
    flat: list[tuple[str, str, object]] = []  # (shown key, key the notes may use, value)
    for key, value in raw.items():
        if isinstance(value, dict) and key not in ("sources", "assumptions"):
            flat += [
                (f"{key}.{k}", k, v) for k, v in value.items()
            ]  # nested tables, e.g. [emerging]
        elif key not in ("sources", "assumptions"):
            flat.append((key, key, value))
    rows = []
    for shown, key, value in flat:
        note = next(
            (n for p, n in notes.items() if shown == p or key == p or key.startswith(p + "_")), ""
        )
        rows.append([shown, str(value), note])
    out.print(
        rich_table(
            Table(str(raw.get("name", hw_id)), ["field", "value", "source / assumption"], rows)
        )
    )


def register(app: typer.Typer) -> None:
    app.add_typer(hardware_app, name="hardware")
