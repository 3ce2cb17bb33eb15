"""`scalelab report`, end to end (built once for this module): the HTML document's structure,
results.json, sections streamed in order, one plan per question, and a real headless-Chromium
screenshot (saved to build/report/ for people to look at)."""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from htmlcheck import parse, right_aligned_text_cells

from scalelab.report.builder import section_ids

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "build" / "report"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _invoke(*args: str) -> tuple[int, str, str]:
    """The console entry point in-process, as the `cli` fixture does (that one is per test)."""
    import io
    import sys
    from contextlib import redirect_stderr, redirect_stdout

    from scalelab.cli.main import run

    out, err, argv, code = io.StringIO(), io.StringIO(), sys.argv, 0
    sys.argv = ["scalelab", *args]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            run()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(exit code, stdout, stderr, html text, results.json, folder) of one real report run."""
    folder = tmp_path_factory.mktemp("report")
    code, out, err = _invoke("report", "deepseek-v3", "--out", str(folder / "r.html"))
    html = (folder / "r.html").read_text() if code == 0 else ""
    results = json.loads((folder / "results.json").read_text()) if code == 0 else {}
    return code, out, err, html, results, folder


pytestmark = pytest.mark.slow


def test_report_writes_html_and_results_only(built):
    code, out, err, html, results, folder = built
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["r.html", "results.json"]  # no temp files
    assert "Model: architecture, parameters, FLOPs and memory" in html
    assert "70.3" in html  # DeepSeek-V3 KV cache KB/token
    assert "11 of 11 decode-shaped GEMMs (m <= 256) within 25%" in out


def test_structure_menu_headline_provenance_sections(built):
    _, _, _, html, _, _ = built
    page = parse(html)
    ids = section_ids()
    assert page.nav_links == ["top", *ids]  # a numbered entry per section, in order
    assert set(ids) <= set(page.ids)
    assert "position:sticky" in html
    assert {"headline", "provenance"} <= set(page.ids)
    assert html.count('class="k"') == 5  # the five headline numbers
    for key in ("scalelab", "commit", "model", "generated", "machine"):
        assert f"<dt>{key}</dt>" in html
    assert right_aligned_text_cells(page) == []
    assert '<code class="plan">TP1·PP16·EP64·DP128</code>' in html


def test_figures_are_embedded_svg_and_the_file_is_offline(built):
    _, _, _, html, _, _ = built
    page = parse(html)
    assert page.external == []
    assert len(page.images) >= 10
    for src in page.images:
        assert src.startswith("data:image/svg+xml;base64,"), src[:40]
        svg = base64.b64decode(src.split(",", 1)[1])
        assert b"<svg" in svg and b"mathdefault" not in svg  # no "4x10^0" mathtext ticks


def test_results_json_holds_every_table_cell(built):
    _, _, _, html, results, _ = built
    assert results["schema_version"] >= 1 and results["command"] == "report"
    doc = results["results"]
    assert [s["id"] for s in doc["sections"]] == section_ids()
    assert len(doc["headline"]) == 5 and doc["provenance"]["scalelab"]
    cells = {c for s in doc["sections"] for t in s["tables"] for row in t["rows"] for c in row}
    assert "TP1·PP16·EP64·DP128" in cells and "70.3" in cells
    claims = next(s for s in doc["sections"] if s["id"] == "claims")
    assert len(claims["data"]["claims"]) == 12


def test_one_plan_per_question(built):
    _, _, _, _, results, _ = built
    doc = results["results"]
    plans = doc["plans"]
    fastest = plans["fastest"]
    # the what-if baseline row is the planning section's fastest plan, not a third search's
    assert "hardware_whatif" in fastest["used_in"] and "planning" in fastest["used_in"]
    whatif = next(s for s in doc["sections"] if s["id"] == "hardware_whatif")
    base_days = whatif["data"]["train"]["h800x2048"]["run_time_s"] / 86400
    assert base_days == pytest.approx(fastest["run_time_s"] / 86400, rel=1e-6)
    assert plans["published"]["label"] == "TP1·PP16·EP64·DP128"


def test_sections_stream_in_order(built):
    _, out, err, _, _, _ = built
    titles = ["1. Model:", "2. Training:", "3. Planning:", "4. Serving:"]
    positions = [out.index(t) for t in titles]
    assert positions == sorted(positions)
    assert err.index("[1/") < err.index("[2/") and "building claims" in err


def test_unknown_model_leaves_nothing(cli, tmp_path):
    target = tmp_path / "r.html"
    code, _, err = cli("report", "nonexistent-model", "--out", str(target))
    assert code == 1 and "unknown model" in err
    assert not target.exists() and not (tmp_path / "results.json").exists()


def _browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def test_headless_chromium_screenshot(built, tmp_path):
    """A real browser renders the file (`./dev test` installs Debian's Chromium; never skipped)."""
    browser = _browser()
    assert browser, "Chromium is not installed: `./dev test` installs it (apt-get install chromium)"
    _, _, _, html, _, folder = built
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "report.html"
    page.write_text(html)
    shot = ARTIFACTS / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1400,2000", page.as_uri()],
        capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert shot.is_file(), "Chromium wrote no screenshot"
    img = matplotlib.image.imread(shot)[:, :, :3]
    assert img.shape[:2] == (2000, 1400)
    # The sticky menu's band (#f3f6f9) fills the left column; the headline box's border (#24476b)
    # is drawn near the top: the page was laid out with its stylesheet, not as raw text.
    band = np.array([0xF3, 0xF6, 0xF9]) / 255
    assert np.abs(img[1500:1900, 5:200] - band).max(axis=2).mean() < 0.02
    accent = np.array([0x24, 0x47, 0x6B]) / 255
    near_accent = np.abs(img[:700, 260:] - accent).max(axis=2) < 0.05
    assert near_accent.sum() > 2000
