"""Serving figures: the latency-throughput Pareto frontier (TPOT vs output tokens/s per GPU)."""

from __future__ import annotations

from scalelab.report.plots import label_axes, new_figure, to_image


def pareto_plot(
    curves: dict[str, tuple[list[float], list[float]]],
    title: str,
    ylabel: str = "output tokens/s per GPU",
) -> bytes:
    """One step line per deployment family: x = TPOT (ms), y = output tokens/s per GPU (log)."""
    fig, ax = new_figure()
    for label, (tpot_ms, rate) in curves.items():
        if tpot_ms:
            ax.step(tpot_ms, rate, where="post", marker="o", markersize=3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    label_axes(ax, "TPOT (ms per output token)", ylabel, title, "both")
    return to_image(fig)
