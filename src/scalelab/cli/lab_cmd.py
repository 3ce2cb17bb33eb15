"""`scalelab train RUN.toml` and `scalelab diagnose gradient-flow|overfitting`: the lab commands.

torch is imported inside the commands only, so `scalelab --help` works without the lab extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from scalelab.cli.common import (
    MAX_SEED,
    JsonOption,
    err,
    examples,
    finite,
    out,
    output_path,
    print_json,
    require_lab,
    rich_table,
)
from scalelab.core.errors import ConfigError, ScalelabError
from scalelab.core.io import build, read_mapping, write_atomic
from scalelab.report.section import Table
from scalelab.report.sections.training_dynamics import overfitting_table

diagnose_app = typer.Typer(
    help="Algorithm-side experiments: gradient flow through depth, and overfitting.",
    no_args_is_help=True,
)


class OnOff(StrEnum):
    on = "on"
    off = "off"


class NormChoice(StrEnum):
    pre = "pre"
    post = "post"
    none = "none"


class ActChoice(StrEnum):
    tanh = "tanh"
    relu = "relu"
    gelu = "gelu"
    sigmoid = "sigmoid"
    silu = "silu"


class InitChoice(StrEnum):
    default = "default"
    xavier = "xavier"
    kaiming = "kaiming"
    normal = "normal"


class ModelChoice(StrEnum):
    mlp = "mlp"
    transformer = "transformer"


class DatasetChoice(StrEnum):
    digits = "digits"
    text = "text"


@contextmanager
def _progress(label: str, total: int | None, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr; yields `advance(description)`."""
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=True, disable=not enabled) as bar:
        task = bar.add_task(label, total=total)

        def advance(description: str | None = None, completed: int | None = None) -> None:
            if completed is None:
                bar.advance(task)
            else:
                bar.update(task, completed=completed)
            if description:
                bar.update(task, description=description)

        yield advance


def _save_png(path: Path | None, png: bytes) -> None:
    if path is not None:
        if path.suffix.lower() != ".png":
            raise ConfigError(f"--plot: {path} must end in .png")
        write_atomic(path, png)


def train(
    run_file: Path = typer.Argument(
        ..., help="RUN.toml with \\[model] \\[data] \\[train] \\[optim] \\[output] tables."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue from the latest checkpoint in output.dir (error if none/damaged).",
    ),
    steps: int = typer.Option(None, "--steps", min=1, max=10**9, help="Override train.steps."),
    out_dir: Path = typer.Option(
        None, "--out", callback=output_path(folder=True), help="Override output.dir."
    ),
    stop_after: int = typer.Option(
        None,
        "--stop-after",
        min=1,
        max=10**9,
        help="Stop after this step as if interrupted (writes a checkpoint).",
    ),
    nproc: int = typer.Option(
        None,
        "--nproc",
        min=1,
        max=256,
        help="Train on N local processes (at most 256) under RUN.toml's \\[parallel] plan; "
        "see docs/distributed.md.",
    ),
    max_restarts: int = typer.Option(
        0,
        "--max-restarts",
        min=0,
        max=100,
        help="With --nproc: restart from the last checkpoint on failure.",
    ),
    hardware: Path = typer.Option(
        None,
        "--hardware",
        exists=True,
        dir_okay=False,
        help="With --nproc: a `scalelab calibrate` profile; prints the predicted step time too.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train a byte-level transformer LM; prints validation loss, perplexity and a text sample."""
    require_lab()
    from scalelab.lab.config import load_run_config
    from scalelab.lab.lm import train_language_model

    overrides: dict[str, dict[str, object]] = {}
    if steps is not None:
        overrides["train"] = {"steps": steps}
    if out_dir is not None:
        overrides["output"] = {"dir": str(out_dir.resolve())}
    if nproc is not None or "parallel" in read_mapping(run_file):
        if nproc is None or stop_after is not None:
            raise ConfigError(f"{run_file}: [parallel] needs --nproc N (and no --stop-after)")
        from scalelab.cli.calibrate_cmd import train_distributed

        train_distributed(run_file, nproc, overrides, resume, max_restarts, hardware, as_json)
        return
    cfg = load_run_config(run_file, overrides)
    with _progress("training", cfg.train.steps) as advance:
        try:
            result = train_language_model(
                cfg,
                resume=resume,
                stop_after=stop_after,
                on_progress=lambda p: advance(f"step {p.step} loss {p.train_loss:.3f}", p.step),
            )
        except ConfigError as exc:  # data and shape problems surface here: name the run file
            raise ConfigError(f"{run_file}: {exc}") from None
        except KeyboardInterrupt:
            raise ScalelabError(
                f"{run_file}: interrupted; --resume continues from the last checkpoint"
            ) from None
    if as_json:
        print_json(result.to_dict())
        return
    _print_train(run_file, result)


def _print_train(run_file: Path, result: Any) -> None:
    flow = result.gradient_flow or {}
    rows = [
        [
            "steps",
            f"{result.steps}"
            + (f" (resumed at {result.resumed_from})" if result.resumed_from else ""),
        ],
        ["validation loss (nats/byte)", f"{result.val_loss:.4f}"],
        ["validation perplexity", f"{result.val_perplexity:.2f}"],
        ["train loss (nats/byte)", f"{result.train_loss:.4f}"],
        ["parameters", f"{result.num_params:,}"],
        ["throughput (tokens/s)", f"{result.tokens_per_s:,.0f} on {result.device}"],
        [
            "gradient flow",
            f"{flow.get('verdict', 'not measured')}"
            + (f" (first/last {flow['first_to_last_ratio']:.3g})" if flow else ""),
        ],
        ["early stopped", "yes" if result.stopped_early else "no"],
        ["output", str(result.out_dir)],
    ]
    out.print(rich_table(Table(f"scalelab train {run_file}", ["metric", "value"], rows)))
    out.print(Panel(Text(result.sample), title="sample", expand=False))  # Text: no markup


def gradient_flow(
    depth: int = typer.Option(50, "--depth", min=2, max=1024, help="Number of hidden blocks."),
    residual: OnOff = typer.Option(
        OnOff.off, "--residual", help="Skip connections around each block."
    ),
    norm: NormChoice = typer.Option(
        NormChoice.none, "--norm", help="LayerNorm before/after each block."
    ),
    activation: ActChoice = typer.Option(ActChoice.tanh, "--activation"),
    init: InitChoice = typer.Option(
        InitChoice.default, "--init", help="default = PyTorch's U(+-1/sqrt(fan_in)); kaiming = He."
    ),
    model: ModelChoice = typer.Option(
        ModelChoice.mlp, "--model", help="mlp on digits, transformer on text."
    ),
    width: int = typer.Option(64, "--width", min=1, max=4096),
    steps: int = typer.Option(
        20, "--steps", min=1, max=10**6, help="Training steps (measured every --every)."
    ),
    every: int = typer.Option(5, "--every", min=1, max=10**6),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED),
    compare: bool = typer.Option(
        False, "--compare", help="Run the standard set of configurations too."
    ),
    plot: Path = typer.Option(
        None,
        "--plot",
        callback=output_path(".png"),
        help="Write the gradient-norm-vs-depth figure (PNG).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Per-layer gradient norms through a deep stack, and a vanishing/exploding verdict."""
    require_lab()
    from scalelab.lab.experiments.gradient_flow import (
        STANDARD_COMPARISON,
        GradientFlowConfig,
        compare_gradient_flow,
        run_gradient_flow,
    )
    from scalelab.lab.plots import grad_norm_vs_depth

    fields = {"model": model.value, "depth": depth, "width": width, "activation": activation.value,
              "init": init.value, "residual": residual == OnOff.on, "norm": norm.value,
              "steps": steps, "every": every, "seed": seed}  # fmt: skip
    cfg = build(GradientFlowConfig, fields, "diagnose gradient-flow")
    with _progress(cfg.label(), steps) as advance:
        result = run_gradient_flow(cfg, on_progress=lambda p: advance(completed=p.step))
    others = []
    if compare:
        with _progress("comparison", None) as advance:
            variants = tuple(v for v in STANDARD_COMPARISON if cfg.model_copy(update=v) != cfg)
            others = compare_gradient_flow(cfg, variants, on_run=lambda label: advance(label))
    _save_png(
        plot, grad_norm_vs_depth([(r.label, r.grad_norm_by_layer) for r in [result, *others]])
    )
    if as_json:
        print_json({**result.to_dict(), "comparison": [r.to_dict() for r in others]})
        return
    _print_gradient_flow(result, others)


def _flow_row(r: Any) -> list[str]:
    return [r.label, f"{r.first_to_last_ratio_at_init:.3g}", f"{r.first_to_last_ratio:.3g}",
            r.verdict, f"{r.train_loss_first:.3f} -> {r.train_loss_last:.3f}"]  # fmt: skip


def _print_gradient_flow(result: Any, others: list[Any]) -> None:
    cols = ["configuration", "first/last at init", "first/last (median)", "verdict", "train loss"]
    note = "first/last = weight-gradient norm of block 1 over block N; healthy within 10x."
    out.print(
        rich_table(Table("Gradient flow", cols, [_flow_row(r) for r in [result, *others]], note))
    )
    norms = result.grad_norm_by_layer
    stride = max(1, len(norms) // 10)
    picks = sorted({*range(0, len(norms), stride), len(norms) - 1})
    acts = result.activation_std_by_layer
    rows = [[str(i + 1), f"{norms[i]:.3e}", f"{acts[i]:.3e}"] for i in picks]
    out.print(
        rich_table(
            Table(
                f"{result.label}: by block at init", ["block", "grad norm", "activation std"], rows
            )
        )
    )


def overfitting(
    dataset: DatasetChoice = typer.Option(
        DatasetChoice.digits, "--dataset", help="digits (~20 s) or text (minutes)."
    ),
    seeds: int = typer.Option(3, "--seeds", min=1, max=100),
    num_train: int = typer.Option(
        100, "--num-train", min=1, max=10**6, help="Training images (text: x40 bytes)."
    ),
    steps: int = typer.Option(1000, "--steps", min=1, max=10**6),
    dropout: float = typer.Option(0.5, "--dropout", callback=finite(ge=0.0, le=0.99)),
    weight_decay: float = typer.Option(1.0, "--weight-decay", callback=finite(ge=0.0)),
    l2: float = typer.Option(2e-3, "--l2", callback=finite(ge=0.0)),
    plot: Path = typer.Option(
        None, "--plot", callback=output_path(".png"), help="Write train/validation curves (PNG)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train/validation gap with no regularization, dropout, weight decay and L2, over seeds."""
    require_lab()
    from scalelab.lab.experiments.overfitting import OverfittingConfig, run_overfitting
    from scalelab.lab.plots import train_val_curves

    fields = {"dataset": dataset.value, "seeds": seeds, "num_train": num_train, "steps": steps,
              "dropout": dropout, "weight_decay": weight_decay, "l2": l2}  # fmt: skip
    cfg = build(OverfittingConfig, fields, "diagnose overfitting")
    with _progress("overfitting", seeds * len(cfg.regimes)) as advance:
        result = run_overfitting(cfg, on_run=lambda label: advance(label))
    _save_png(plot, train_val_curves(result))
    if as_json:
        print_json(result.to_dict())
        return
    out.print(rich_table(overfitting_table(result)))


def register(app: typer.Typer) -> None:
    app.command(
        "train",
        epilog=examples(
            "scalelab train examples/run-tiny.toml --stop-after 10",
            "scalelab train examples/run-tiny.toml --resume",
        ),
    )(train)
    diagnose_app.command(
        "gradient-flow",
        epilog=examples(
            "scalelab diagnose gradient-flow --depth 50 --residual off",
            "scalelab diagnose gradient-flow --depth 50 --residual on --norm pre --plot flow.png",
        ),
    )(gradient_flow)
    diagnose_app.command(
        "overfitting",
        epilog=examples(
            "scalelab diagnose overfitting --dataset digits --seeds 1 --steps 300",
        ),
    )(overfitting)
    app.add_typer(diagnose_app, name="diagnose")
