"""Report section "Training dynamics": gradient norm vs depth (plain, residual, normalized; tanh
vs relu) and the overfitting table, measured on CPU in seconds, plus any of the user's runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalelab.report.context import ReportContext
from scalelab.report.section import Figure, Section, Table

TITLE = "Training dynamics"


def gradient_flow_table(results: Sequence[Any]) -> Table:
    """One row per gradient-flow configuration (GradientFlowResult)."""
    rows = [
        [r.label, f"{r.first_to_last_ratio_at_init:.3g}", f"{r.first_to_last_ratio:.3g}", r.verdict,
         f"{r.train_loss_first:.3f} -> {r.train_loss_last:.3f}"]
        for r in results
    ]  # fmt: skip
    cols = ["configuration", "first/last at init", "first/last (median)", "verdict", "train loss"]
    note = ("first/last = weight-gradient norm of block 1 over the last block; "
            "healthy within 10x. Reproduce: scalelab diagnose gradient-flow --compare")  # fmt: skip
    return Table("Gradient flow through a deep MLP", cols, rows, note)


def overfitting_table(result: Any) -> Table:
    """One row per regime of an OverfittingResult, means over seeds."""
    rows = [
        [s.setting, f"{s.loss_gap_mean:.3f} ± {s.loss_gap_std:.3f}", f"{100 * s.train_acc_mean_frac:.1f}",
         f"{100 * s.val_acc_mean_frac:.1f}", f"{s.best_step_mean:.0f}", f"{s.loss_gap_at_best_mean:.3f}"]
        for s in result.regimes
    ]  # fmt: skip
    cfg = result.config
    cols = ["regime", "val - train loss (nats)", "train acc (%)", "val acc (%)",
            "early-stop step", "gap at early stop (nats)"]  # fmt: skip
    note = (f"{cfg['dataset']}, {cfg['num_train']} training examples, {cfg['steps']} steps, "
            f"{cfg['seeds']} seeds. Reproduce: scalelab diagnose overfitting --dataset {cfg['dataset']}")  # fmt: skip
    return Table("Overfitting: train/validation gap", cols, rows, note)


def _user_run(run_dir: Path) -> tuple[str, list[float], list[str]] | None:
    """(label, grad norms by block at the first measured step, table row) from a run's metrics.csv."""
    from scalelab.lab.metrics import read_metrics, series

    path = run_dir / "metrics.csv"
    if not path.is_file():
        return None
    rows = read_metrics(path)
    layer_rows = [(s, n, v) for s, n, v in rows if n.startswith("layer/grad_norm/")]
    first = min((s for s, _, _ in layer_rows), default=None)
    norms = [v for s, n, v in sorted(layer_rows, key=lambda r: r[1]) if s == first]
    train, val = series(rows, "train/loss"), series(rows, "val/loss")
    last = lambda xs: f"{xs[-1][1]:.4f}" if xs else "-"  # noqa: E731
    gap = f"{val[-1][1] - train[-1][1]:.4f}" if train and val else "-"
    return run_dir.name, norms, [run_dir.name, last(train), last(val), gap]


def _user_runs(run_dirs: Sequence[Path]) -> tuple[list[tuple[str, list[float]]], Table | None]:
    found = [r for r in (_user_run(Path(d)) for d in run_dirs) if r is not None]
    lines = [(f"your run {label}", norms) for label, norms, _ in found if len(norms) > 1]
    if not found:
        return lines, None
    cols = ["run", "train loss (nats)", "val loss (nats)", "gap (nats)"]
    return lines, Table("Your runs (last logged values)", cols, [row for _, _, row in found])


def build(
    ctx: ReportContext | None = None, quick: bool | None = None, run_dirs: Sequence[Path] = ()
) -> Section:
    """Run small versions of both experiments (about 10 s on 2 CPU cores when `quick`)."""
    quick = (ctx.quick if ctx is not None else True) if quick is None else quick
    try:
        import torch  # noqa: F401
    except ImportError:
        return Section(TITLE, summary="Install scalelab's 'lab' extra (it brings torch) to measure "
                       "gradient flow and overfitting on this machine.")  # fmt: skip
    from scalelab.lab.experiments.gradient_flow import GradientFlowConfig, compare_gradient_flow
    from scalelab.lab.experiments.overfitting import OverfittingConfig, run_overfitting
    from scalelab.lab.plots import grad_norm_vs_depth, train_val_curves

    flow = compare_gradient_flow(GradientFlowConfig(depth=50, steps=10 if quick else 20, every=5))
    over = run_overfitting(OverfittingConfig(seeds=2 if quick else 3, steps=600 if quick else 1000))
    user_lines, user_table = _user_runs(run_dirs)
    lines = [(r.label, r.grad_norm_by_layer) for r in flow] + user_lines
    figures = [
        Figure("Weight-gradient norm vs depth, 50-block MLP on digits, at initialization (log scale)",
               grad_norm_vs_depth(lines, fmt="svg")),
        Figure("Train vs validation loss per regularizer (digits, seed 0)", train_val_curves(over, fmt="svg")),
    ]  # fmt: skip
    tables = [gradient_flow_table(flow), overfitting_table(over)] + (
        [user_table] if user_table else []
    )
    return Section(TITLE, _summary(flow, over), tables, figures,
                   data={"gradient_flow": [r.to_dict() for r in flow], "overfitting": over.to_dict()})  # fmt: skip


def _summary(flow: Sequence[Any], over: Any) -> str:
    plain, resnorm = (
        flow[0],
        next((r for r in flow if r.config["residual"] and r.config["norm"] != "none"), flow[-1]),
    )
    regimes = over.by_regime()
    none = regimes.get("none")
    best = min(over.regimes, key=lambda s: s.loss_gap_mean)
    parts = [
        f"In a plain 50-block {plain.config['activation']} MLP with PyTorch's default init the first "
        f"block's gradient norm is {_fmt_ratio(plain.first_to_last_ratio_at_init)} the last block's "
        f"({plain.verdict}); with {resnorm.label} it is {resnorm.first_to_last_ratio_at_init:.2g}x.",
    ]
    if none is not None:
        parts.append(
            f"Without regularization the validation loss exceeds the train loss by {none.loss_gap_mean:.2f} nats "
            f"({100 * none.acc_gap_mean_frac:.1f} accuracy points); {best.setting} leaves {best.loss_gap_mean:.2f}."
        )
    return " ".join(parts)


def _fmt_ratio(ratio: float) -> str:
    return "0x (no gradient at all)" if ratio == 0 or math.isnan(ratio) else f"{ratio:.2g}x"
