"""Figures of the training and planning sections: line charts over cluster size, the plan scatter
(memory per GPU vs time, one panel per GPU count) and the kernel parity plot (SVG bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from scalelab.report.plots import (
    BLUE,
    DARK,
    GREY,
    RED,
    SVG_STYLE,
    label_axes,
    new_figure,
    plain_linear_axis,
    plain_number,
    to_image,
)


def line_chart(
    x: list[float],
    series: dict[str, list[float]],
    xlabel: str,
    ylabel: str,
    title: str,
    logx: bool = True,
) -> bytes:
    """One marked line per series over the same x values."""
    fig, ax = new_figure()
    for name, values in series.items():
        ax.plot(x, values, marker="o", label=name)
    if logx:
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [plain_number(v) for v in x])
        ax.xaxis.set_minor_formatter(NullFormatter())
    plain_linear_axis(ax, "y")
    label_axes(ax, xlabel, ylabel, title)
    return to_image(fig)


@dataclass(frozen=True)
class PlanCloud:
    """One GPU count's fitting plans: memory per GPU (GiB) and time (days or hours) per plan, and
    the run cost of its fastest plan."""

    num_devices: int
    memory_gib: list[float]
    time: list[float]
    fastest_cost: float
    envelope: tuple[list[float], list[float]]  # (memory, best time within it), over every plan


def plan_scatter(
    clouds: list[PlanCloud],
    marks: dict[str, tuple[int, float, float]],
    hbm_gib: float,
    time_label: str,
    cost_unit: str,
) -> bytes:
    """One panel per GPU count: every plan that fits as (memory per GPU, time), the lower envelope
    (the fastest plan within each memory budget) as a line, the HBM size as a dashed wall, the
    fastest plan circled; `marks` {name: (GPU count, memory, time)} drawn as stars."""
    with plt.rc_context(SVG_STYLE):
        fig, axes = plt.subplots(
            1, len(clouds), figsize=(3.6 * len(clouds) + 0.6, 3.6), sharey=False, squeeze=False
        )
    for ax, c in zip(axes[0], clouds, strict=True):
        ax.scatter(c.memory_gib, c.time, s=5, color=BLUE, alpha=0.3, rasterized=True,
                   label="plans that fit")  # fmt: skip
        env_x, env_y = c.envelope
        ax.step(
            env_x, env_y, where="post", color=DARK, lw=1.2, label="fastest within a memory budget"
        )
        i = min(range(len(c.time)), key=lambda j: (c.time[j], c.memory_gib[j]))
        ax.scatter([c.memory_gib[i]], [c.time[i]], s=45, facecolor="none", edgecolor=RED, lw=1.5,
                   zorder=3, label="fastest plan")  # fmt: skip
        ax.axvline(hbm_gib, color=GREY, ls="--", lw=1)
        for name, (n, mem, t) in marks.items():
            if n == c.num_devices:
                ax.scatter([mem], [t], s=90, marker="*", color=RED, edgecolor="black", zorder=4,
                           label=name)  # fmt: skip
        title = (
            f"{c.num_devices:,} GPUs: fastest {c.time[i]:,.1f}, {cost_unit}{c.fastest_cost:,.2f}M"
        )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("memory per GPU (GiB)")
        ax.set_ylabel(time_label)
        ax.grid(alpha=0.3)
        plain_linear_axis(ax, "y")
    handles: dict[str, Any] = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncols=len(handles),
        fontsize=7,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return to_image(fig, tight=False)


def parity_plot(
    measured: list[float],
    predicted: list[float],
    highlight: list[bool],
    band_frac: float,
    labels: tuple[str, str],
    title: str,
) -> bytes:
    """Predicted against measured on log axes, with the y = x line and a +-band_frac band;
    highlighted points (e.g. decode-shaped GEMMs) drawn in a second colour."""
    fig, ax = new_figure(5.6, 4.2)
    lo, hi = min(measured + predicted) / 1.5, max(measured + predicted) * 1.5
    ax.plot([lo, hi], [lo, hi], color="#555555", lw=1, label="predicted = measured")
    ax.fill_between(
        [lo, hi],
        [lo * (1 - band_frac), hi * (1 - band_frac)],
        [lo * (1 + band_frac), hi * (1 + band_frac)],
        color="#d5dbe3",
        alpha=0.6,
        label=f"within {band_frac:.0%}",
    )
    for flag, colour, name in ((False, "#24476b", labels[0]), (True, "#c0392b", labels[1])):
        xs = [m for m, h in zip(measured, highlight, strict=True) if h == flag]
        ys = [p for p, h in zip(predicted, highlight, strict=True) if h == flag]
        ax.scatter(xs, ys, s=18, color=colour, zorder=3, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    label_axes(ax, "measured (s)", "predicted (s)", title, grid_which="both")
    return to_image(fig)
