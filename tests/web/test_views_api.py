"""Every view endpoint against the CLI it stands for: the same numbers for the same inputs, the
same one-line message for the same bad value (422, attached to its field), exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from scalelab.core.envelope import SCHEMA_VERSION

SMALL_TRAIN = {  # a case the planner answers in well under a second
    "model": "llama-3.1-8b",
    "cluster": "h100x16",
    "global-batch": "256",
    "seq": "4096",
    "train-tokens": "1T",
    "fp8": "0",
    "top": "3",
}
REL = 1e-9  # same code, same inputs, same process or not: equal to rounding


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b))


def test_train_is_scalelab_plan(client, cli):
    code, out, err = cli(
        "plan", "--model", "llama-3.1-8b", "--cluster", "h100x16", "--global-batch", "256",
        "--seq", "4096", "--train-tokens", "1T", "--top", "3", "--json",
    )  # fmt: skip
    assert code == 0, err
    want = json.loads(out)["results"]
    got = client.get("/api/train", params=SMALL_TRAIN).json()
    assert got["schema_version"] == SCHEMA_VERSION and got["command"] == "web train"
    assert got["inputs"]["cluster"] == "h100x16"
    r = got["results"]
    assert r["num_evaluated"] == want["num_evaluated"]
    assert len(r["plans"]) == len(want["plans"]) == 3
    assert r["num_fitting"] == want["num_fitting"]
    for mine, theirs in zip(r["plans"], want["plans"], strict=True):
        # the CLI's own results (plan/search_dict.py); the page adds only each plan's label
        assert set(mine) - set(theirs) == {"label"} and mine["label"].startswith("TP")
        assert mine["plan"] == theirs["plan"]
        for key, value in theirs.items():
            if isinstance(value, float):
                assert _close(mine[key], value), key
            elif key != "plan":
                assert mine[key] == value, key
    assert r["explanation"] == want["explanation"]
    assert r["cli"].startswith("scalelab plan --model llama-3.1-8b --cluster h100x16")


def test_train_defaults_are_the_deepseek_v3_case(client):
    r = client.get("/api/train").json()["results"]
    assert r["model"]["catalog_id"] == "deepseek-v3"
    assert r["cluster"]["num_devices"] == 2048 and r["cluster"]["accelerator"] == "h800-sxm5-80gb"
    assert r["workload"]["global_batch_size"] == 15360 and r["workload"]["dtype"] == "fp8"
    best = r["plans"][0]
    assert best["fits_in_memory"] and 0.2 < best["mfu"] < 0.7  # DeepSeek-V3 TR: ~40% reported
    assert r["num_evaluated"] > 10_000


@pytest.mark.parametrize(
    ("query", "args", "field"),
    [
        ({"global-batch": "abc"}, ["--global-batch", "abc"], "global-batch"),
        ({"cluster": "h900x8"}, ["--cluster", "h900x8", "--global-batch", "8"], "cluster"),
        ({"seq": "0"}, ["--seq", "0", "--global-batch", "8"], "seq"),
        (
            {"train-tokens": "lots"},
            ["--train-tokens", "lots", "--global-batch", "8"],
            "train-tokens",
        ),
        ({"batch-tokens": "4M"}, ["--global-batch", "8", "--batch-tokens", "4M"], "global-batch"),
        ({"objective": "speed"}, ["--objective", "speed", "--global-batch", "8"], "objective"),
        ({"top": "0"}, ["--top", "0", "--global-batch", "8"], "top"),
        ({"cluster": "h100x12"}, ["--cluster", "h100x12", "--global-batch", "8"], "cluster"),
    ],
)
def test_train_bad_value_is_the_cli_message(client, cli_error, error_of, query, args, field):
    params = {**SMALL_TRAIN, **query}
    if "batch-tokens" in query:
        params["global-batch"] = "8"
    cli_args = ["plan", "--model", "llama-3.1-8b"]
    cli_args += [] if "--cluster" in args else ["--cluster", "h100x16"]
    got_field, message = error_of(client.get("/api/train", params=params))
    assert got_field == field
    assert message == cli_error(*cli_args, *args)


def test_train_refuses_paths_and_caps_work(client, error_of):
    field, msg = error_of(client.get("/api/train", params={"model": "../../etc/passwd"}))
    assert field == "model" and "unknown model" in msg and "deepseek-v3" in msg
    field, msg = error_of(client.get("/api/train", params={"cluster": "examples/cluster.toml"}))
    assert field == "cluster" and "ACCELERATOR_IDxCOUNT" in msg
    field, msg = error_of(client.get("/api/train", params={"cluster": "h100x1048576"}))
    assert field == "cluster" and "131,072" in msg
    field, _ = error_of(client.get("/api/train", params={**SMALL_TRAIN, "top": "500"}))
    assert field == "top"
    field, msg = error_of(client.get("/api/train", params={**SMALL_TRAIN, "network": "nvlink4"}))
    assert field == "network" and "scale-up" in msg


def test_train_network_choice_changes_the_answer(client):
    params = {**SMALL_TRAIN, "cluster": "h100x64", "model": "llama-3.1-70b"}
    base = client.get("/api/train", params=params).json()["results"]
    slow = client.get("/api/train", params={**params, "network": "ib-hdr"}).json()["results"]
    assert base["cluster"]["scale_out"] == "ib-ndr" and slow["cluster"]["scale_out"] == "ib-hdr"
    # half the NIC bandwidth: never faster, per the model's monotonicity
    assert slow["plans"][0]["time_s_per_token"] >= base["plans"][0]["time_s_per_token"] * (1 - 1e-9)


def test_train_exports(client):
    j = client.get("/api/train", params={**SMALL_TRAIN, "format": "json"})
    assert 'attachment; filename="scalelab-train.json"' == j.headers["content-disposition"]
    data = j.json()
    assert set(data) == {"schema_version", "command", "inputs", "results"}
    c = client.get("/api/train", params={**SMALL_TRAIN, "format": "csv"})
    assert c.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert len(rows) == len(data["results"]["plans"])
    assert _close(float(rows[0]["step_time_s"]), data["results"]["plans"][0]["step_time_s"])
    b = client.get("/api/train", params={**SMALL_TRAIN, "format": "csv", "table": "breakdown"})
    parts = list(csv.DictReader(io.StringIO(b.text)))
    first = data["results"]["plans"][0]["breakdown_s"]
    assert {r["component"] for r in parts if r["rank"] == "1"} == set(first)


SERVE = {"model": "llama-3.1-70b", "cluster": "h200x16", "ttft-ms": "500", "tpot-ms": "30"}
SERVE_ARGS = ["--model", "llama-3.1-70b", "--cluster", "h200x16", "--ttft-ms", "500"]


def test_serve_is_scalelab_plan_serve(client, cli):
    # The page's default workload differs from the CLI's: pass the CLI's own defaults.
    params = {**SERVE, "prompt": "1024", "output": "256", "dtype": "bf16", "top": "10"}
    code, out, err = cli("plan-serve", *SERVE_ARGS, "--tpot-ms", "30", "--json")
    assert code == 0, err
    want = json.loads(out)["results"]
    r = client.get("/api/serve", params=params).json()["results"]
    assert r["best"]["deployment"] == want["best"]["deployment"]
    assert _close(
        r["best"]["usd_per_million_output_tokens"], want["best"]["usd_per_million_output_tokens"]
    )
    assert [o["deployment"] for o in r["pareto"]] == [o["deployment"] for o in want["pareto"]]
    assert r["best"]["ttft_s"] <= 0.5 and r["best"]["tpot_s"] <= 0.03
    assert _close(
        r["best"]["output_tokens_per_s_per_device"], want["best"]["output_tokens_per_s_per_device"]
    )
    assert r["best"]["idle_devices"] == want["best"]["idle_devices"]
    assert all(o["joules_per_token"] > 0 for o in r["options"])  # collocated and split pools


def test_serve_joules_is_predict_infer(client, cli, tmp_path):
    # J/token of the cheapest deployment = `predict infer` on that deployment at its batch.
    r = client.get("/api/serve", params=SERVE).json()["results"]["best"]
    plan = {k: v for k, v in r["decode_plan"].items() if v is not None and k != "optimizations"}
    lines = ['model = "llama-3.1-70b"', "[hardware]", 'accelerator = "h200-sxm-141gb"']
    lines += ["num_devices = 16", "[parallel]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in plan.items()]
    lines += ["[workload]", "prompt_tokens = 2048", "output_tokens = 512", 'dtype = "fp8"']
    lines += [f"batch_size = {max(1, round(r['sequences_per_replica']))}"]
    lines += ["ttft_target_s = 0.5", "tpot_target_s = 0.03"]
    if r["prefill_plan"] is not None:
        pre = {k: v for k, v in r["prefill_plan"].items() if v is not None and k != "optimizations"}
        lines += [
            "[disaggregation]",
            f"prefill_devices = {r['prefill_devices']}",
            "[disaggregation.parallel]",
        ]
        lines += [f"{k} = {json.dumps(v)}" for k, v in pre.items()]
    scenario = tmp_path / "s.toml"
    scenario.write_text("\n".join(lines) + "\n")
    code, out, err = cli("predict", "infer", str(scenario), "--json")
    assert code == 0, err
    want = json.loads(out)["results"]["metrics"]["joules_per_token"]
    assert _close(r["joules_per_token"], want)


def test_serve_unmet_target_is_the_cli_message_on_its_field(client, cli_error, error_of):
    field, message = error_of(client.get("/api/serve", params={**SERVE, "tpot-ms": "0.1"}))
    assert field == "tpot-ms"
    assert message == cli_error("plan-serve", "--model", "llama-3.1-70b", "--cluster", "h200x16",
                                "--ttft-ms", "500", "--tpot-ms", "0.1", "--prompt", "2048",
                                "--output", "512", "--dtype", "fp8")  # fmt: skip
    field, message = error_of(client.get("/api/serve", params={**SERVE, "ttft-ms": "-5"}))
    assert field == "ttft-ms" and message == cli_error(
        "plan-serve", *SERVE_ARGS[:4], "--ttft-ms", "-5"
    )
    field, _ = error_of(client.get("/api/serve", params={**SERVE, "dtype": "fp3"}))
    assert field == "dtype"


def test_serve_blank_target_means_none(client):
    r = client.get("/api/serve", params={**SERVE, "ttft-ms": "", "tpot-ms": ""}).json()
    assert r["inputs"]["ttft-ms"] is None and r["results"]["workload"]["tpot_target_s"] is None


WHATIF = {
    "model": "llama-3.1-70b",
    "baseline": "h100x64",
    "vs": "h200x64,photonic",
    "global-batch": "512",
    "seq": "4096",
    "train-tokens": "1T",
    "quick": "1",
}


def test_whatif_is_scalelab_whatif(client, cli):
    code, out, err = cli(
        "whatif", "llama-3.1-70b", "--baseline", "h100x64", "--vs", "h200x64,photonic",
        "--global-batch", "512", "--seq", "4096", "--train-tokens", "1T", "--quick", "--json",
    )  # fmt: skip
    assert code == 0, err
    want = json.loads(out)["results"]["rows"]
    got = client.get("/api/whatif", params=WHATIF).json()["results"]["rows"]
    assert [r["label"] for r in got] == [r["label"] for r in want]
    for mine, theirs in zip(got, want, strict=True):
        assert _close(mine["run_time_s"], theirs["run_time_s"])
        assert mine["assumptions"] == theirs["assumptions"]
        assert mine["plan"] == theirs["plan"]
    photonic = next(r for r in got if r["label"] == "photonic")
    keys = {p["key"]: p for p in photonic["editable"]}
    assert keys["nic_gbit_per_s"]["value"] == pytest.approx(6400)
    assert (
        "Lightmatter" in keys["nic_gbit_per_s"]["source"] and not keys["nic_gbit_per_s"]["edited"]
    )
    assert keys["latency_us"]["assumption"]


def test_whatif_edit_changes_the_row_and_is_listed(client):
    slow = {**WHATIF, "set": "photonic.nic_gbit_per_s=100"}
    base = client.get("/api/whatif", params=WHATIF).json()["results"]["rows"]
    edited = client.get("/api/whatif", params=slow).json()["results"]["rows"]
    before = next(r for r in base if r["label"] == "photonic")
    after = next(r for r in edited if r["label"] == "photonic")
    assert after["run_time_s"] > before["run_time_s"]  # 64x less bandwidth: slower
    assert edited[0]["run_time_s"] == base[0]["run_time_s"]  # the baseline is untouched
    assert any("edited on the page: nic_gbit_per_s = 100" in a for a in after["assumptions"])
    assert next(p for p in after["editable"] if p["key"] == "nic_gbit_per_s")["edited"]


def test_whatif_baseline_price_reaches_the_photonic_row(client):
    # photonic = the baseline with another network, so the baseline's device price applies.
    priced = {**WHATIF, "set": "h100x64.price_usd_per_hour=4"}
    base = client.get("/api/whatif", params=WHATIF).json()["results"]["rows"]
    edited = client.get("/api/whatif", params=priced).json()["results"]["rows"]
    for label in ("h100x64", "photonic"):
        b = next(r for r in base if r["label"] == label)
        e = next(r for r in edited if r["label"] == label)
        assert e["cost_usd"] > 1.5 * b["cost_usd"]
    h200 = [next(r for r in rows if r["label"] == "h200x64") for rows in (base, edited)]
    assert h200[0]["cost_usd"] == h200[1]["cost_usd"]


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        ("photonic.warp_drive=1", "set:photonic.warp_drive", "not editable"),
        ("photonic.nic_gbit_per_s=-1", "set:photonic.nic_gbit_per_s", "greater than 0"),
        ("photonic.nic_gbit_per_s=fast", "set:photonic.nic_gbit_per_s", "not a number"),
        ("mars.pue=1.1", "set", "no what-if row 'mars'"),
        ("pue1.1", "set", "TARGET.KEY=VALUE"),
        ("h100x64.pue=0.5", "set:h100x64.pue", "pue"),
    ],
)
def test_whatif_bad_edit(client, error_of, edit, field, words):
    got_field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "set": edit}))
    assert got_field == field and words in msg and "\n" not in msg


def test_whatif_reads_no_cluster_file(client, error_of):
    field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "vs": "h200x64,my.toml"}))
    assert field == "vs" and "reads no cluster files" in msg
    field, _ = error_of(client.get("/api/whatif", params={**WHATIF, "baseline": "/tmp/c.toml"}))
    assert field == "baseline"
    field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "baseline": "photonic"}))
    assert field == "baseline" and "preset" in msg


def test_whatif_bad_values_are_the_cli_messages(client, cli_error, error_of):
    args = ["whatif", "llama-3.1-70b", "--baseline", "h100x64", "--vs", "h200x64"]
    field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "precision": "fp4"}))
    assert field == "precision" and msg == cli_error(*args, "--precision", "fp4")
    field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "vs": "h900x8"}))
    assert field == "vs" and msg == cli_error(*args[:4], "--vs", "h900x8")
    field, msg = error_of(client.get("/api/whatif", params={**WHATIF, "phase": "both"}))
    assert field == "phase" and msg == cli_error(*args, "--phase", "both")


def test_whatif_infer_emerging_edit(client):
    params = {**WHATIF, "phase": "infer", "vs": "cim", "serve-devices": "16"}
    base = client.get("/api/whatif", params=params).json()["results"]["rows"][1]
    cheap = {**params, "set": "cim.energy_pj_per_mac=0.02"}
    edited = client.get("/api/whatif", params=cheap).json()["results"]["rows"][1]
    assert base["label"] == "cim" and base["joules_per_token"] > 0
    assert edited["joules_per_token"] < base["joules_per_token"]  # 10x less energy per MAC
    assert edited["tpot_s"] == pytest.approx(base["tpot_s"], rel=1e-9)  # energy only
    assert edited["joules_ratio"] < base["joules_ratio"]
    keys = {p["key"]: p for p in edited["editable"]}
    assert keys["energy_pj_per_mac"]["edited"] and keys["energy_pj_per_mac"]["value"] == 0.02
    assert keys["energy_pj_per_mac"]["assumption"]  # the catalog marks it derived/assumed


FLOWS = [  # stands in for the lab's gradient-flow measurement (PyTorch, seconds; tests/lab has it)
    {"label": "plain tanh, default init", "first_to_last_ratio": 3e-9,
     "config": {"residual": False, "norm": "none"}},
    {"label": "residual+pre-norm tanh, default init", "first_to_last_ratio": 2.0,
     "config": {"residual": True, "norm": "pre"}},
]  # fmt: skip


@pytest.mark.slow  # the ledger evaluates the model for twelve claims (~2 s, more when busy)
def test_claims_view_is_the_ledger(client, monkeypatch):
    from scalelab.report import claims_evidence
    from scalelab.report.claims_ledger import CLAIMS

    monkeypatch.setattr(claims_evidence, "_gradient_flows", lambda src: FLOWS)
    body = client.get("/api/claims", params={"req": "ledger-1"}).json()
    assert body["command"] == "web claims"
    r = body["results"]
    assert [c["id"] for c in r["claims"]] == [c.id for c in CLAIMS]
    assert sum(r["verdict_counts"].values()) == len(r["claims"]) == len(CLAIMS)
    for c in r["claims"]:
        assert c["verdict"] in r["verdict_counts"] and c["command"] and c["claim"]
    b = next(c for c in r["claims"] if c["id"] == "b")
    assert "3e-09" in b["measured"]  # the measurement reached its claim
    assert r["cli"] == "scalelab claims" and "rule" in r and r["seed"]
    assert client.get("/api/progress/ledger-1").json()["finished"]
    rows = client.get("/api/claims", params={"format": "csv"}).text.splitlines()
    assert rows[0].split(",")[:3] == ["id", "claim", "measured"] and len(rows) == len(CLAIMS) + 1


def test_site_price_and_carbon_as_the_cli(client, cli_error, error_of):
    base = client.get("/api/train", params=SMALL_TRAIN).json()["results"]["plans"][0]
    priced = {**SMALL_TRAIN, "price-usd-per-hour": "h100=10", "co2-kg-per-kwh": "0.02"}
    r = client.get("/api/train", params=priced).json()["results"]
    best = r["plans"][0]
    catalog_price = r["cluster"]["price_usd_per_device_hour"]
    assert catalog_price == 10.0
    assert best["co2_kg"] < base["co2_kg"] / 10  # 0.02 vs the 0.45 world average
    assert "--price-usd-per-hour h100=10" in r["cli"]
    field, msg = error_of(
        client.get("/api/train", params={**SMALL_TRAIN, "price-usd-per-hour": "cheap"})
    )
    args = ("plan", "--model", "llama-3.1-8b", "--cluster", "h100x16", "--global-batch", "8")
    assert field == "price-usd-per-hour" and msg == cli_error(
        *args, "--price-usd-per-hour", "cheap"
    )
    field, msg = error_of(client.get("/api/train", params={**SMALL_TRAIN, "co2-kg-per-kwh": "-1"}))
    assert field == "co2-kg-per-kwh" and msg == cli_error(*args, "--co2-kg-per-kwh", "-1")
