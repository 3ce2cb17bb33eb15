"""What-if figures: grouped bars of each metric's ratio to the baseline, one panel per phase."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from scalelab.report.plots import to_png

Series = dict[str, list[float | None]]


def ratio_panels(panels: list[tuple[str, list[str], Series]]) -> bytes:
    """One panel per (title, row labels, {metric: ratio per row}); log y, a line at 1 (baseline).
    Missing ratios (None) leave a gap."""
    fig = Figure(figsize=(6.0 * len(panels), 3.8), dpi=110)  # no pyplot state: safe off-screen
    axes = [fig.add_subplot(1, len(panels), k + 1) for k in range(len(panels))]
    for ax, (title, labels, series) in zip(axes, panels, strict=True):
        width = 0.8 / max(1, len(series))
        for j, (name, values) in enumerate(series.items()):
            xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(labels))]
            ys = [v if v is not None and math.isfinite(v) and v > 0 else math.nan for v in values]
            ax.bar(xs, ys, width=width, label=name)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel("ratio to baseline (log scale)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    return to_png(fig)
