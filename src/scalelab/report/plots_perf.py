"""Figures of the training and planning sections: line charts over cluster size and a time-cost
scatter with its Pareto front (PNG bytes, Agg backend)."""

from __future__ import annotations

from scalelab.report.plots import new_figure, to_png


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
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return to_png(fig)


def pareto_scatter(
    times: list[float],
    costs: list[float],
    front: list[int],
    highlight: dict[str, int],
    xlabel: str,
    ylabel: str,
    title: str,
) -> bytes:
    """All evaluated points in grey, the Pareto front as a line, named points annotated."""
    fig, ax = new_figure()
    ax.scatter(times, costs, s=6, color="#b0b8c4", label="evaluated plans")
    pts = sorted((times[i], costs[i]) for i in front)
    if pts:
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            color="#c0392b",
            marker="o",
            ms=3,
            label="Pareto front (time vs cost)",
        )
    for name, i in highlight.items():
        ax.scatter([times[i]], [costs[i]], s=40, color="#24476b", zorder=3)
        ax.annotate(
            name, (times[i], costs[i]), fontsize=7, xytext=(4, 4), textcoords="offset points"
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return to_png(fig)
