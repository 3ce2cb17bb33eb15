"""Matplotlib figures rendered to PNG bytes (Agg backend, no display needed)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def new_figure(width_in: float = 7.0, height_in: float = 3.6) -> tuple[Any, Any]:
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=110)
    return fig, ax


def label_axes(ax: Any, xlabel: str, ylabel: str, title: str, grid_which: str = "major") -> None:
    """The finishing every line/scatter figure gets: axis labels, title, light grid, small legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which=grid_which)
    ax.legend(fontsize=7)


def to_png(fig: Any) -> bytes:
    """Serialize and close the figure."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _label(value: float) -> str:
    """Bar labels people read: 1,200 not 1.2e+03; three significant digits below 100."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def bar_chart(
    labels: list[str], values: list[float], ylabel: str, title: str, log: bool = False
) -> bytes:
    fig, ax = new_figure()
    bars = ax.bar(labels, values, color="#3b6ea5")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.bar_label(bars, labels=[_label(v) for v in values], fontsize=8)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return to_png(fig)


def stacked_bars(
    labels: list[str], stacks: dict[str, list[float]], ylabel: str, title: str
) -> bytes:
    """One bar per label, one colored segment per stack key."""
    fig, ax = new_figure()
    bottom = [0.0] * len(labels)
    for name, values in stacks.items():
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return to_png(fig)
