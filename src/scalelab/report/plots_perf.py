"""Figures of the training and planning sections: line charts over cluster size and a time-cost
scatter with its Pareto front (PNG bytes, Agg backend)."""

from __future__ import annotations

from scalelab.report.plots import label_axes, new_figure, to_png


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
    label_axes(ax, xlabel, ylabel, title)
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
    label_axes(ax, xlabel, ylabel, title)
    return to_png(fig)


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
    return to_png(fig)
