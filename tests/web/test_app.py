"""The app's fixed surface: the page and its assets from the package, options, limits, Host
check, security headers, progress records, unknown routes."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from scalelab.core.envelope import SCHEMA_VERSION
from scalelab.web.app import ASSETS, MAX_QUERY_BYTES, create_app

SMALL_TRAIN = {  # a case the planner answers in well under a second
    "model": "llama-3.1-8b",
    "cluster": "h100x16",
    "global-batch": "256",
    "seq": "4096",
    "train-tokens": "1T",
    "fp8": "0",
    "top": "3",
}


def test_page_and_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name, kind in ASSETS.items():
        if name.endswith((".js", ".css")):
            assert f"/static/{name}" in page.text
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    assert "https://" not in page.text  # no CDN: every asset is served from here
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_no_path_reaches_the_file_system(client):
    for name in ("../app.py", "..%2Fapp.py", "index.html.bak", "%2e%2e%2f__init__.py"):
        assert client.get(f"/static/{name}").status_code == 404


def test_options_list_the_catalog_and_defaults(client):
    body = client.get("/api/options").json()
    assert body["schema_version"] == SCHEMA_VERSION and body["command"] == "web options"
    r = body["results"]
    assert "deepseek-v3" in [m["id"] for m in r["models"]]
    accs = {a["id"]: a for a in r["accelerators"]}
    assert not accs["h800-sxm5-80gb"]["emerging"] and accs["cim-analog"]["emerging"]
    assert "ib-ndr" in [n["id"] for n in r["networks"]]
    assert "nvlink4" not in [n["id"] for n in r["networks"]]  # scale-up links are not networks
    assert set(r["defaults"]) == {"train", "serve", "whatif", "claims"}
    assert r["defaults"]["train"]["cluster"] == "h800x2048"


def test_oversized_query_is_refused(client):
    r = client.get("/api/train?vs=" + "x" * (MAX_QUERY_BYTES + 10))
    assert r.status_code == 414 and "query string" in r.json()["error"]["message"]


def test_foreign_host_header_is_refused():
    # A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) must not reach the API.
    with TestClient(create_app(), base_url="http://evil.example") as c:
        assert c.get("/api/options").status_code == 400
    with TestClient(create_app(), base_url="http://localhost:8050") as c:
        assert c.get("/api/options").status_code == 200
    with TestClient(create_app(host="0.0.0.0"), base_url="http://lab-box.example") as c:
        assert c.get("/api/options").status_code == 200  # the user chose to listen publicly


def test_progress_record_of_a_request(client):
    r = client.get("/api/train", params={**SMALL_TRAIN, "req": "t-1"})
    assert r.status_code == 200
    p = client.get("/api/progress/t-1").json()
    assert p["finished"] and p["stage"] == "done" and p["done"] == p["total"] == 1
    assert p["elapsed_s"] >= 0
    assert client.get("/api/progress/never-sent").status_code == 404
    assert client.get("/api/progress/..%2Fx").status_code == 404


def test_unknown_view_format_and_table(client, error_of):
    assert client.get("/api/nope").status_code == 404
    assert error_of(client.get("/api/train", params={"format": "xml"}))[0] == "format"
    field, msg = error_of(
        client.get("/api/train", params={**SMALL_TRAIN, "format": "csv", "table": "x"})
    )
    assert field == "table" and "plans" in msg


def test_json_is_strict_json(client):
    # NaN/inf never reach the wire (a browser's JSON.parse rejects them).
    text = client.get("/api/train", params=SMALL_TRAIN).text
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["results"]["plans"]


def test_web_imports_without_torch():
    # The page is part of the analytic install: only the Claims view's lab part needs torch.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import scalelab.web.app, scalelab.cli.serve_cmd\n"
        "assert 'torch' not in sys.modules\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


HF_CONFIG = {
    "model_type": "qwen2",
    "_name_or_path": "my-qwen",
    "num_hidden_layers": 24,
    "hidden_size": 2048,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "intermediate_size": 11008,
    "vocab_size": 151936,
}


def test_upload_config_json(client):
    r = client.post("/api/model", content=json.dumps(HF_CONFIG))
    assert r.status_code == 200
    body = r.json()
    assert body["command"] == "web model" and body["inputs"]["bytes"] > 100
    res = body["results"]
    assert res["model"]["name"] == "my-qwen" and res["model"]["uploaded"]
    assert res["fields"]["num_layers"] == 24 and res["fields"]["qkv_bias"] is True
    train = client.get("/api/train", params={**SMALL_TRAIN, "mspec": res["mspec"]}).json()
    assert train["results"]["model"]["name"] == "my-qwen"
    assert "--model config.json" in train["results"]["cli"]


def test_bad_upload_is_the_cli_message(client, error_of, cli_error, tmp_path):
    bad = {**HF_CONFIG, "model_type": "gpt2"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(bad))
    field, msg = error_of(client.post("/api/model", content=json.dumps(bad)))
    cli_msg = cli_error("plan", "--model", str(path), "--cluster", "h100x8", "--global-batch", "8")
    assert field == "model" and msg == cli_msg.replace(str(path), "config.json")
    field, msg = error_of(client.post("/api/model", content=b"{not json"))
    assert field == "model" and msg.startswith("config.json: not valid JSON")
    field, msg = error_of(client.post("/api/model", content=b"[1, 2]"))
    assert field == "model" and "table/object" in msg


def test_upload_size_is_bounded(client):
    r = client.post("/api/model", content=b" " * (300 * 1024))
    assert r.status_code == 413 and r.json()["error"]["field"] == "model"
    assert client.get("/api/model").status_code == 404  # uploads are POSTed
