"""`scalelab whatif`: tables with assumptions, JSON, one-line errors naming the bad SPEC; and the
named scale-out topology reaching `predict train` and `plan` from the user's files."""

from __future__ import annotations

import json

import pytest

SMALL = ("--global-batch", "512", "--train-tokens", "1T", "--quick")


def test_train_json_rows_and_ratios(cli):
    code, out, err = cli(
        "whatif", "mixtral-8x7b", "--baseline", "h100x64", "--vs", "h200x64,photonic,cim",
        *SMALL, "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["phase"] == "train"
    labels = [r["label"] for r in data["rows"]]
    assert labels == ["h100x64", "h200x64", "photonic", "cim"]
    base = data["rows"][0]
    assert base["time_ratio"] == 1.0 and base["plan"]["dp"] >= 1
    for row in data["rows"][:3]:
        for key in ("step_time_s", "mfu", "run_time_s", "device_hours", "cost_usd", "energy_kwh",
                    "co2_kg", "joules_per_token"):  # fmt: skip
            assert row[key] > 0
        assert row["assumptions"]
    assert data["rows"][3]["run_time_s"] is None and "inference only" in data["rows"][3]["note"]


def test_infer_tables_list_assumptions(cli, monkeypatch):
    from scalelab.cli import common

    monkeypatch.setattr(common.out, "width", 200)  # headers read whole (at 80 columns they wrap)
    code, out, err = cli(
        "whatif", "mixtral-8x7b", "--baseline", "h100x16", "--vs", "photonic,cim",
        "--phase", "infer", "--prompt", "1024", "--output", "256",
    )  # fmt: skip
    assert code == 0, err
    assert "TPOT ms" in out and "J/token" in out and "$/M" in out
    # throughput per GPU first, per node beside it with the node size stated
    assert out.index("tok/s/GPU") < out.index("per node") and "(8)" in out
    assert "Assumptions behind each infer row" in out
    assert "photonic-link" in out and "pJ/bit" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (("--vs", "h999x8"), "h999x8"),
        (("--vs", "h200x64,quantum"), "quantum"),
        (("--baseline", "photonic", "--vs", "h200x64"), "photonic"),
        (("--vs", "h200x64", "--phase", "serve"), "--phase"),
        (("--vs", "h200x64", "--train-tokens", "lots"), "--train-tokens"),
    ],
)
def test_bad_input_is_one_line_naming_it(cli, args, words):
    code, out, err = cli("whatif", "mixtral-8x7b", *args)
    assert code == 1
    assert words in err
    assert len(err.strip().splitlines()) == 1


SCENARIO = """
model = "mixtral-8x7b"
[hardware]
accelerator = "h100-sxm5-80gb"
num_devices = 64
scale_out = {{ kind = "ib-ndr", topology = "{topology}" }}
[parallel]
dp = 64
ep = 8
zero_stage = 1
[workload]
global_batch_size = 512
seq_len = 4096
"""


def test_predict_train_uses_the_named_topology(cli, tmp_path):
    steps = {}
    for topology in ("fat-tree-2", "torus-3d"):
        path = tmp_path / f"{topology}.toml"
        path.write_text(SCENARIO.format(topology=topology))
        code, out, err = cli("predict", "train", str(path), "--json")
        assert code == 0, err
        steps[topology] = json.loads(out)["results"]["step_time_s"]
    # a 64-endpoint 3D torus sustains 8/k of its injection under all-to-all (k = 4): slower
    assert steps["torus-3d"] > steps["fat-tree-2"]


def test_plan_uses_the_named_topology(cli, tmp_path):
    best = {}
    for topology in ("fat-tree-2", "torus-3d"):
        path = tmp_path / f"{topology}.toml"
        path.write_text(
            f'accelerator = "h100-sxm5-80gb"\nnum_devices = 64\n'
            f'[scale_out]\nkind = "ib-ndr"\ntopology = "{topology}"\n'
        )
        code, out, err = cli(
            "plan", "--model", "mixtral-8x7b", "--cluster", str(path),
            "--global-batch", "512", "--top", "1", "--json",
        )  # fmt: skip
        assert code == 0, err
        best[topology] = json.loads(out)["results"]["plans"][0]["step_time_s"]
    assert best["torus-3d"] > best["fat-tree-2"]


SERVE = """
model = "mixtral-8x7b"
[hardware]
accelerator = "h100-sxm5-80gb"
num_devices = 64
scale_out = {{ kind = "ib-ndr", topology = "{topology}" }}
[parallel]
tp = 1
ep = 64
[workload]
prompt_tokens = 1024
output_tokens = 256
batch_size = 256
dtype = "fp8"
"""


def test_predict_infer_uses_the_named_topology(cli, tmp_path):
    tpot = {}
    for topology in ("fat-tree-2", "torus-3d"):
        path = tmp_path / f"{topology}.toml"
        path.write_text(SERVE.format(topology=topology))
        code, out, err = cli("predict", "infer", str(path), "--json")
        assert code == 0, err
        tpot[topology] = json.loads(out)["results"]["metrics"]["tpot_s"]
    assert tpot["torus-3d"] > tpot["fat-tree-2"]  # EP64 dispatch crosses the oversubscribed torus
