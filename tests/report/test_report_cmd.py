"""`scalelab report` writes one self-contained HTML file atomically and prints every section."""

import base64
import re


def test_report_writes_html_with_figures(cli, tmp_path):
    target = tmp_path / "r.html"
    code, out, err = cli("report", "deepseek-v3", "--out", str(target))
    assert code == 0, err
    html = target.read_text()
    assert "Model: architecture, parameters, FLOPs and memory" in html
    assert "70.3" in html  # DeepSeek-V3 KV cache KB/token
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert images and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "Validation against published runs" in out
    assert "Decode-shaped GEMMs on H200: kernel model vs measurement" in html
    assert "11 of 11 decode-shaped GEMMs (m <= 256) within 25%" in out
    assert list(tmp_path.iterdir()) == [target]  # no temp files left behind


def test_report_unknown_model_leaves_nothing(cli, tmp_path):
    target = tmp_path / "r.html"
    code, _, err = cli("report", "nonexistent-model", "--out", str(target))
    assert code == 1 and "unknown model" in err
    assert not target.exists()
