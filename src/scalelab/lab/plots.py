"""Figures of the lab experiments as PNG or SVG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from scalelab.lab.experiments.overfitting import OverfittingResult  # noqa: E402

TINY = 1e-45  # float32's smallest subnormal: an exact zero still shows on a log axis


def _decade_label(value: float, _pos: Any = None) -> str:
    """Plain log-axis labels (`0.01`, `1`, `100`, `1e-12`) instead of mathtext powers of ten."""
    if 1e-3 <= value < 1e4:
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _save(fig: Any, fmt: str) -> bytes:
    """PNG or SVG (text kept as text, no timestamp); log y axes get decade labels."""
    for ax in fig.get_axes():
        if ax.get_yscale() == "log":
            ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
            ax.yaxis.set_major_formatter(FuncFormatter(_decade_label))
            ax.yaxis.set_minor_formatter(NullFormatter())
    buf = io.BytesIO()
    fig.tight_layout()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "scalelab"}):
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return buf.getvalue()


def grad_norm_vs_depth(
    lines: Sequence[tuple[str, Sequence[float]]], title: str = "", fmt: str = "png"
) -> bytes:
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
    return _save(fig, fmt)


def train_val_curves(result: OverfittingResult, seed: int = 0, fmt: str = "png") -> bytes:
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
    return _save(fig, fmt)
