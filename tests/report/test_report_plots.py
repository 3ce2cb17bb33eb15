"""Figures are SVG with plain tick labels; what-if outliers get their own panel."""

import re

from scalelab.report.plots import bar_chart
from scalelab.report.plots_perf import line_chart
from scalelab.report.plots_whatif import ratio_panels, split_outliers


def _texts(svg: bytes) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())


def test_log_axes_have_plain_tick_labels():
    svg = bar_chart(["a", "b", "c"], [0.5, 4.0, 1200.0], "y", "t", log=True)
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    texts = _texts(svg)
    assert "1,000" in texts and "1" in texts
    assert not any("10^" in t or "\\times" in t or "mathdefault" in t for t in texts)


def test_log2_line_chart_ticks_are_the_data_points():
    svg = line_chart([512, 1024, 2048], {"s": [1.0, 2.0, 3.0]}, "GPUs", "y", "t")
    assert {"512", "1,024", "2,048"} <= set(_texts(svg))


def test_outliers_leave_the_main_panels():
    panels = [
        (
            "decode (base = 1)",
            ["base", "gpu", "cim"],
            {"$": [1.0, 0.55, 16556.0], "J": [1.0, 0.3, 932.0]},
        ),
    ]
    kept, outliers = split_outliers(panels)
    assert outliers == [("decode · cim · $", 16556.0), ("decode · cim · J", 932.0)]
    title, labels, series = kept[0]
    assert labels == ["gpu"]  # the baseline row (all 1.0) and the all-outlier row are dropped
    assert series == {"$": [0.55], "J": [0.3]}


def test_ratio_panels_draw_an_outlier_panel():
    svg = ratio_panels([("decode (base = 1)", ["base", "gpu", "cim"], {"$": [1.0, 0.55, 16556.0]})])
    texts = _texts(svg)
    assert "0.55×" in texts and "16,556×" in texts
    assert any("beyond 10×" in t for t in texts)
