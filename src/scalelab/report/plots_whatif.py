"""What-if figures: each metric's ratio to the baseline as a bar diverging from 1.0 on a log axis
centered on 1 (left of the line is better, right is worse), one panel per phase; ratios beyond
`OUTLIER_FACTOR` either way get their own panel so they do not squash the others."""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from scalelab.report.plots import plain_log_axis, to_image

Series = dict[str, list[float | None]]
OUTLIER_FACTOR = 10.0
COLORS = ("#3b6ea5", "#e08e36", "#5a9e6f")


def _x(r: float) -> str:
    return f"{r:,.0f}×" if r >= 100 else f"{r:.2f}×"


def split_outliers(
    panels: list[tuple[str, list[str], Series]], factor: float = OUTLIER_FACTOR
) -> tuple[list[tuple[str, list[str], Series]], list[tuple[str, float]]]:
    """(panels with outliers blanked, [(\"phase · row · metric\", ratio)]); missing ratios dropped."""
    kept, outliers = [], []
    for title, labels, series in panels:
        if labels and all(
            vs and vs[0] is not None and abs(vs[0] - 1.0) < 1e-9 for vs in series.values()
        ):
            labels, series = labels[1:], {k: vs[1:] for k, vs in series.items()}  # the baseline
        phase = title.split(" (")[0]
        clean: Series = {}
        for metric, values in series.items():
            out: list[float | None] = []
            for label, v in zip(labels, values, strict=True):
                if v is None or not math.isfinite(v) or v <= 0:
                    out.append(None)
                elif max(v, 1 / v) > factor:
                    outliers.append((f"{phase} · {label} · {metric}", v))
                    out.append(None)
                else:
                    out.append(v)
            clean[metric] = out
        rows = [i for i in range(len(labels)) if any(vs[i] is not None for vs in clean.values())]
        kept.append(
            (
                title,
                [labels[i] for i in rows],
                {k: [vs[i] for i in rows] for k, vs in clean.items()},
            )
        )
    return kept, outliers


def _diverging(ax, labels: list[str], series: Series, span: float) -> None:  # type: ignore[no-untyped-def]
    """Grouped horizontal bars from 1 to each ratio; rows top to bottom in `labels` order; ratios
    within 0.5% of 1 get no label (the baseline and its twins)."""
    height = 0.8 / max(1, len(series))
    handles = []
    for j, (metric, values) in enumerate(series.items()):
        color = COLORS[j % len(COLORS)]
        ys = [i - 0.4 + (j + 0.5) * height for i in range(len(labels))]
        for y, v in zip(ys, values, strict=True):
            if v is None:
                continue
            ax.barh(y, abs(v - 1.0), left=min(v, 1.0), height=height, color=color)
            if abs(math.log(v)) > 0.005:
                ha, pad = ("left", 1.04) if v >= 1 else ("right", 1 / 1.04)
                ax.text(v * pad, y, _x(v), va="center", ha=ha, fontsize=7)
        handles.append(Patch(color=color, label=metric))
    ax.set_xscale("log")
    ax.set_xlim(1 / span, span)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0),
              ncols=len(handles), frameon=False)  # fmt: skip


def _span(values: list[float]) -> float:
    """Symmetric log half-width that leaves room for the value labels."""
    extreme = max([max(v, 1 / v) for v in values], default=1.0)
    return max(2.0, extreme**1.25 * 1.15)


def ratio_panels(panels: list[tuple[str, list[str], Series]]) -> bytes:
    """One panel per (title, row labels, {metric: ratio per row}), diverging from 1 on a log axis;
    one more panel for ratios beyond OUTLIER_FACTOR. Missing ratios (None) leave a gap."""
    kept, outliers = split_outliers(panels)
    rows = [len(labels) for _, labels, _ in kept] + ([len(outliers)] if outliers else [])
    fig = Figure(figsize=(7.5, 0.9 + 0.42 * sum(rows) + 0.5 * len(rows)))
    grid = fig.add_gridspec(len(rows), 1, height_ratios=[r + 1.2 for r in rows])
    for k, (title, labels, series) in enumerate(kept):
        ax = fig.add_subplot(grid[k])
        values = [v for vs in series.values() for v in vs if v is not None]
        _diverging(ax, labels, series, _span(values))
        ax.set_title(title, fontsize=9, loc="left")
        plain_log_axis(ax, "x")
    if outliers:
        ax = fig.add_subplot(grid[len(kept)])
        labels = [name for name, _ in outliers]
        _diverging(ax, labels, {"ratio": [v for _, v in outliers]}, _span([v for _, v in outliers]))
        ax.get_legend().remove()
        ax.set_title(f"beyond {OUTLIER_FACTOR:g}× either way (own scale)", fontsize=9, loc="left")
        plain_log_axis(ax, "x")
    fig.axes[-1].set_xlabel(
        "ratio to the baseline (log scale): left of 1 is better, right is worse"
    )
    return to_image(fig)
