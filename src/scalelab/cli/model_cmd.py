"""`scalelab model list|show|import`: the model catalog and Hugging Face config import."""

from __future__ import annotations

from pathlib import Path

import tomli_w
import typer

from scalelab.cli.common import JsonOption, examples, out, output_path, print_json, rich_table
from scalelab.core import catalog
from scalelab.core.errors import ConfigError
from scalelab.core.hf_import import import_notes
from scalelab.core.io import read_mapping, write_atomic
from scalelab.core.scenario import model_from_file, resolve_model
from scalelab.perf.model.flops import train_flops_per_token
from scalelab.perf.model.footprint import kv_cache_bytes_per_token
from scalelab.perf.model.params import count_params
from scalelab.report.section import Table

model_app = typer.Typer(
    help="Models: list the catalog, show one, import a Hugging Face config.json.",
    no_args_is_help=True,
)


def _summary(model_id: str) -> dict[str, object]:
    m = resolve_model(model_id)
    c = count_params(m)
    return {
        "id": model_id,
        "name": m.name,
        "arch": m.arch,
        "total_params": c.total,
        "active_params_per_token": c.active_per_token,
        "mtp_params": c.mtp,
        "train_flops_per_token_seq4096": train_flops_per_token(m, 4096),
        "kv_cache_bytes_per_token_bf16": kv_cache_bytes_per_token(m),
        "source": m.source,
    }


@model_app.command("list", epilog=examples("scalelab model list", "scalelab model list --json"))
def list_models(as_json: bool = JsonOption) -> None:
    """Every model in the catalog with its size."""
    rows = [_summary(i) for i in catalog.list_ids("models")]
    if as_json:
        print_json(rows)
        return
    out.print(
        rich_table(
            Table(
                "Model catalog",
                ["id", "arch", "total params (B)", "active (B)", "KV KB/token"],
                [
                    [
                        str(r["id"]),
                        str(r["arch"]),
                        f"{r['total_params'] / 1e9:,.1f}",  # type: ignore[operator]
                        f"{r['active_params_per_token'] / 1e9:,.1f}",  # type: ignore[operator]
                        f"{r['kv_cache_bytes_per_token_bf16'] / 1e3:,.1f}",
                    ]
                    for r in rows
                ],
            )
        )
    )  # type: ignore[operator]


@model_app.command(
    "show",
    epilog=examples("scalelab model show gpt-oss-120b", "scalelab model show deepseek-v3 --json"),
)
def show(
    model: str = typer.Argument(..., help="Catalog id or model file."), as_json: bool = JsonOption
) -> None:
    """All fields of one model plus its parameter/FLOP/KV-cache accounting."""
    m = resolve_model(model)
    data = {"spec": m.model_dump(), "accounting": _summary(model)}
    if as_json:
        print_json(data)
        return
    rows = [[k, str(v)] for k, v in m.model_dump().items() if v not in (None, 0, False)]
    rows += [
        [k, f"{v:,.0f}" if isinstance(v, int | float) else str(v)]
        for k, v in data["accounting"].items()
    ]
    out.print(rich_table(Table(m.name, ["field", "value"], rows)))


@model_app.command(
    "import",
    epilog=examples(
        "scalelab model import examples/qwen3-30b-a3b-config.json --out qwen3-30b-a3b.toml",
        "scalelab plan --model qwen3-30b-a3b.toml --cluster h100x64 --global-batch 1024 --seq 4096",
    ),
)
def import_config(
    config: Path = typer.Argument(
        ...,
        help="A Hugging Face config.json: Llama 2/3/4, Mistral, Mixtral, Qwen2, Qwen3 (dense, "
        "MoE), gpt-oss, DeepSeek-V2/V3.",
    ),
    out_path: Path = typer.Option(
        None, "--out", callback=output_path(), help="Write the ModelSpec as TOML here."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Read a Hugging Face config.json into a ModelSpec (prints it; --out saves TOML)."""
    if config.suffix != ".json":
        raise ConfigError(f"{config}: expected a config.json file")
    m = model_from_file(config)
    fields = {k: v for k, v in m.model_dump().items() if v is not None}
    notes = import_notes(read_mapping(config))
    if out_path:
        write_atomic(out_path, _to_toml(fields))
    if as_json:
        print_json({"spec": fields, "notes": notes})
    else:
        out.print(
            rich_table(
                Table(
                    f"Imported from {config}",
                    ["field", "value"],
                    [[k, str(v)] for k, v in fields.items()],
                    note="\n".join(f"not modeled: {n}" for n in notes),
                )
            )
        )


def _to_toml(fields: dict[str, object]) -> str:
    """TOML through a real writer: a quote or newline in a name stays inside its string."""
    return tomli_w.dumps(fields)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
