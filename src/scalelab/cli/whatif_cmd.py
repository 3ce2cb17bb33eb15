"""`scalelab whatif MODEL --baseline SPEC --vs SPEC,...`: the same model trained or served on other
clusters, networks and device classes, against a baseline, every row with its assumptions."""

from __future__ import annotations

import typer

from scalelab.cli.common import (
    Co2Option,
    JsonOption,
    PriceOption,
    examples,
    finite,
    out,
    print_json,
    rich_table,
    site_from_flags,
)
from scalelab.core import flags
from scalelab.core.errors import ConfigError
from scalelab.core.scenario import resolve_model
from scalelab.core.specs import (
    MAX_BATCH,
    MAX_DEVICES,
    MAX_SEQ_TOKENS,
)
from scalelab.plan.hardware import SWEEP_SPACE
from scalelab.plan.whatif import DEFAULT_SERVE, DEFAULT_TRAIN, PHASES, whatif
from scalelab.plan.whatif_specs import PRESETS
from scalelab.report.sections.hardware_whatif import assumption_table, result_tables

SPEC_HELP = (
    f"ACCELERATORxCOUNT (h800x2048, gb200x2048, tpu-v5px2048), a cluster TOML, or a preset: "
    f"{', '.join(PRESETS)} (photonic = the baseline with its scale-out network replaced by the "
    "photonic-link interconnect; cim/fpga = serving on that device class, hw/emerging.py)."
)


def whatif_cmd(
    model: str = typer.Argument(
        ..., help="Catalog model id or model file (TOML/JSON, HF config.json)."
    ),
    baseline: str = typer.Option(
        "h800x2048", "--baseline", "--cluster", help="The reference cluster. " + SPEC_HELP
    ),
    vs: str = typer.Option(..., "--vs", help="Comma-separated SPECs to compare. " + SPEC_HELP),
    phase: str = typer.Option(
        "train", "--phase", help="train: best plan and whole-run totals; infer: decode serving."
    ),
    train_tokens: str = typer.Option(
        "14.8T", "--train-tokens", help="Tokens to train (DeepSeek-V3: 14.8T)."
    ),
    global_batch: int = typer.Option(
        DEFAULT_TRAIN.global_batch_size,
        "--global-batch",
        min=1,
        max=MAX_BATCH,
        help="Sequences per step.",
    ),
    seq: int = typer.Option(
        DEFAULT_TRAIN.seq_len,
        "--seq",
        min=1,
        max=MAX_SEQ_TOKENS,
        help="Training sequence length (tokens).",
    ),
    precision: str = typer.Option(
        "fp8", "--precision", help="fp8 (where the device has it) or bf16."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Reduced planner space (micro-batch 1-2, ZeRO-1, no CP)."
    ),
    prompt: int = typer.Option(
        DEFAULT_SERVE.prompt_tokens,
        "--prompt",
        min=1,
        max=MAX_SEQ_TOKENS,
        help="infer: prompt tokens per request.",
    ),
    output: int = typer.Option(
        DEFAULT_SERVE.output_tokens,
        "--output",
        min=1,
        max=MAX_SEQ_TOKENS,
        help="infer: output tokens per request.",
    ),
    ttft_ms: float = typer.Option(
        2000.0,
        "--ttft-ms",
        callback=finite(gt=0),
        help="infer: time-to-first-token target (ms).",
    ),
    tpot_ms: float = typer.Option(
        50.0,
        "--tpot-ms",
        callback=finite(gt=0),
        help="infer: time-per-output-token target (ms).",
    ),
    serve_devices: int = typer.Option(
        None,
        "--serve-devices",
        min=1,
        max=MAX_DEVICES,
        help="infer: serve on this many devices of each cluster (whole nodes).",
    ),
    price: str = PriceOption,
    co2: float = Co2Option,
    as_json: bool = JsonOption,
) -> None:
    """Compare training time, cost and energy (or decode TPOT, $ and J per token) across hardware."""
    if phase not in PHASES:
        raise ConfigError(f"--phase: expected one of {', '.join(PHASES)}, got '{phase}'")
    if serve_devices is not None and serve_devices < 1:
        raise ConfigError(f"--serve-devices must be >= 1, got {serve_devices}")
    specs = flags.split_specs(vs)
    m = resolve_model(model)
    result = whatif(
        m,
        baseline,
        specs,
        phase,
        train=flags.whatif_train_workload(global_batch, seq, train_tokens, precision),
        serve=flags.serve_workload(prompt, output, precision, ttft_ms, tpot_ms, "whatif"),
        opts=SWEEP_SPACE if quick else None,
        serve_devices=serve_devices,
        site=site_from_flags(price, co2),
    )
    if as_json:
        print_json(result.to_dict())
        return
    for table in result_tables(result):
        out.print(rich_table(table))
    out.print(rich_table(assumption_table(result)))


def register(app: typer.Typer) -> None:
    app.command(
        "whatif",
        epilog=examples(
            "scalelab whatif deepseek-v3 --baseline h800x2048 --vs h200x2048,gb200x2048,photonic "
            "--quick",
            "scalelab whatif llama-3.1-70b --baseline h100x64 --vs b200x64,cim --phase infer "
            "--price-usd-per-hour h100=2,b200=3.5",
        ),
    )(whatif_cmd)
