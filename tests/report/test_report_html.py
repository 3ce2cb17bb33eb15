"""The HTML document on a hand-made two-section report: menu, provenance, headline box, alignment
decided per column from content, plan labels in monospace, line breaks kept, figures embedded."""

import base64

from htmlcheck import parse, right_aligned_text_cells

from scalelab.report.html import render_html
from scalelab.report.section import Figure, KeyNumber, Section, Table

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def _sections():
    plans = Table(
        "Plans",
        ["#", "plan", "options", "step (s)", "memory/GPU", "verdict"],
        [
            ["1", "TP1·PP16·EP64·DP128", "DualPipe · ZeRO-1", "17.73", "74.5 GiB", "holds (off by 1.2×)"],
            ["2", "TP2·CP2·PP4·EP256·DP128", "1F1B · ZeRO-1", "16.20", "59.9 GiB", "does not hold"],
        ],
        note="winner: first line\nrunner-up: second line",
    )  # fmt: skip
    a = Section("Alpha: first", "One.\n\nTwo.", [plans], [Figure("a figure", SVG)], id="alpha",
                key_numbers=[KeyNumber("Days", "43.4 days", "fastest plan")])  # fmt: skip
    b = Section(
        "Beta: second", "Three.", [], [], id="beta", key_numbers=[KeyNumber("Cases", "30 of 30")]
    )
    return [a, b]


def _render():
    sections = _sections()
    headline = [(k, s.id) for s in sections for k in s.key_numbers]
    prov = {"scalelab": "0.1.0", "commit": "abc123", "model": "m (catalog)", "generated": "today"}
    return render_html("t", sections, prov, headline, "lead line", [])


def test_menu_links_every_numbered_section():
    text = _render()
    page = parse(text)
    assert page.nav_links == ["top", "alpha", "beta"]
    assert {"alpha", "beta", "headline", "provenance"} <= set(page.ids)
    assert (
        '<span class="n">1</span>Alpha: first' in text
        and '<span class="n">2</span>Beta: second' in text
    )
    assert "position:sticky" in text  # the menu stays in view


def test_headline_and_provenance():
    text = _render()
    assert text.count('class="k"') == 2 and "43.4 days" in text and "30 of 30" in text
    for key in ("scalelab", "commit", "model", "generated"):
        assert f"<dt>{key}</dt>" in text


def test_alignment_follows_content_per_column():
    page = parse(_render())
    rows = page.tables[0]
    right = [c.right for c in rows[1]]  # first body row
    assert right == [
        True,
        False,
        False,
        True,
        True,
        False,
    ]  # #, plan, options, step, memory, verdict
    assert right_aligned_text_cells(page) == []


def test_plan_labels_are_monospace_and_line_breaks_are_kept():
    text = _render()
    assert '<code class="plan">TP1·PP16·EP64·DP128</code>' in text
    assert '<code class="plan">TP2·CP2·PP4·EP256·DP128</code>' in text
    assert "winner: first line\nrunner-up: second line" in text  # shown with white-space: pre-line
    assert "white-space:pre-line" in text
    assert text.count("<p>") >= 3  # "One." and "Two." are two paragraphs


def test_figures_are_embedded_svg_and_nothing_is_fetched():
    page = parse(_render())
    assert len(page.images) == 1 and page.images[0].startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(page.images[0].split(",", 1)[1]) == SVG
    assert page.external == []
