"""Figures of the lab experiments as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from scalelab.lab.experiments.overfitting import OverfittingResult  # noqa: E402

TINY = 1e-45  # float32's smallest subnormal: an exact zero still shows on a log axis


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def grad_norm_vs_depth(lines: Sequence[tuple[str, Sequence[float]]], title: str = "") -> bytes:
    """Weight-gradient norm of each block (label, norms from block 1 up), log scale, one line each."""
    fig, ax = plt.subplots(figsize=(7.0, 3.8), dpi=110)
    for label, values in lines:
        norms = [max(v, TINY) for v in values]
        ratio = values[0] / values[-1] if values[-1] else float("nan")
        ax.plot(range(1, len(norms) + 1), norms, marker=".", markersize=3,
                label=f"{label} (first/last {ratio:.2g})")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("block (1 = nearest the input)")
    ax.set_ylabel("weight-gradient norm")
    ax.set_title(title or "Gradient norm vs depth at initialization")
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="major", alpha=0.3)
    return _png(fig)


def train_val_curves(result: OverfittingResult, seed: int = 0) -> bytes:
    """Train (dashed) and validation (solid) loss over steps, one color per regime."""
    fig, ax = plt.subplots(figsize=(7.0, 3.8), dpi=110)
    for i, summary in enumerate(result.regimes):
        run = next(s for s in summary.seeds if s["seed"] == seed)
        steps = [c[0] for c in run["curve"]]
        color = f"C{i}"
        # Memorized training sets reach a loss of exactly 0.0 in float32; floor it for the log axis.
        ax.plot(steps, [max(c[1], 1e-9) for c in run["curve"]], ls="--", color=color)
        ax.plot(steps, [c[2] for c in run["curve"]], color=color, label=summary.setting)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats)")
    ax.set_title(f"Train (dashed) vs validation (solid), {result.config['dataset']}, seed {seed}")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    return _png(fig)
