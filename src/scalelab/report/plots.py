"""Matplotlib figures rendered to SVG bytes (Agg backend, no display needed).

SVG keeps figures crisp at any zoom and small enough to embed; text stays text (svg.fonttype none),
ids are salted so two runs write the same file, and log axes get plain tick labels (`0.5`, `2`,
`1,000`, `10k`) instead of matplotlib's `4×10⁰`."""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogFormatter, LogLocator, NullFormatter  # noqa: E402

SVG_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text as <text>, rendered by the browser's sans-serif
    "svg.hashsalt": "scalelab",  # deterministic element ids
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BLUE, RED, GREY, DARK = "#3b6ea5", "#c0392b", "#b0b8c4", "#24476b"


def new_figure(width_in: float = 7.0, height_in: float = 3.6) -> tuple[Any, Any]:
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(width_in, height_in))
    return fig, ax


def plain_number(value: float, _pos: Any = None) -> str:
    """A tick label people read: 0.05, 0.5, 2, 1,000, 10k, 1M; 1e-12 only far from 1."""
    if value == 0 or not math.isfinite(value):
        return "0"
    mag = abs(value)
    if mag >= 1e6:
        for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
            if mag >= scale:
                return f"{value / scale:g}{suffix}"
    if mag >= 1e4:
        return f"{value / 1e3:g}k"
    if mag >= 1:
        return f"{value:,.0f}" if value == round(value) else f"{value:g}"
    if mag >= 1e-3:
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return f"{value:.0e}".replace("e-0", "e-")


def plain_log_axis(ax: Any, axis: str = "y", subs: tuple[float, ...] = (1.0, 2.0, 5.0)) -> None:
    """Log axis with labels at 1-2-5 steps when the range is short, decades when it is long."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    decades = math.log10(max(hi, 1e-300) / max(lo, 1e-300)) if lo > 0 and hi > 0 else 99.0
    major_subs = subs if decades <= 3 else (1.0,)
    numticks = 12 if decades <= 12 else 8
    target.set_major_locator(LogLocator(base=10, subs=major_subs, numticks=numticks))
    target.set_major_formatter(FuncFormatter(plain_number))
    target.set_minor_formatter(NullFormatter())


def plain_linear_axis(ax: Any, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(plain_number))


def label_axes(ax: Any, xlabel: str, ylabel: str, title: str, grid_which: str = "major") -> None:
    """The finishing every line/scatter figure gets: axis labels, title, light grid, small legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which=grid_which)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _finish_axes(fig: Any) -> None:
    """Plain labels on every log axis still carrying matplotlib's default (mathtext) formatter."""
    for ax in fig.get_axes():
        for axis in ("x", "y"):
            target = ax.yaxis if axis == "y" else ax.xaxis
            if target.get_scale() == "log" and isinstance(
                target.get_major_formatter(), LogFormatter
            ):
                plain_log_axis(ax, axis)


def to_image(fig: Any, tight: bool = True) -> bytes:
    """Serialize to SVG (plain log ticks, tight layout unless the caller laid it out, no timestamp)
    and close the figure."""
    _finish_axes(fig)
    buf = io.BytesIO()
    with plt.rc_context(SVG_STYLE):
        if tight:
            fig.tight_layout()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def to_png(fig: Any, dpi: int = 160) -> bytes:
    """PNG for callers that need a raster (kept for sections that embed their own images)."""
    _finish_axes(fig)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _label(value: float) -> str:
    """Bar labels people read: 1,200 not 1.2e+03; three significant digits below 100."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def bar_chart(
    labels: list[str], values: list[float], ylabel: str, title: str, log: bool = False
) -> bytes:
    fig, ax = new_figure()
    bars = ax.bar(labels, values, color=BLUE)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    else:
        plain_linear_axis(ax)
    ax.bar_label(bars, labels=[_label(v) for v in values], fontsize=8)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return to_image(fig)


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
    plain_linear_axis(ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return to_image(fig)
