"""`scalelab predict infer SCENARIO.toml`: serving metrics, collocated or disaggregated; bad input is
one line and exit code 1."""

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCENARIO = """
model = "llama-3.1-8b"
[hardware]
accelerator = "h200-sxm-141gb"
num_devices = 1
[workload]
prompt_tokens = 512
output_tokens = 128
batch_size = 16
"""


def test_predict_infer_json(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    code, out, err = cli("predict", "infer", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)["results"]
    metrics = data["metrics"]
    for key in (
        "ttft_s",
        "tpot_s",
        "tokens_per_s_per_request",
        "output_tokens_per_s_per_device",
        "output_tokens_per_s_per_node",
        "input_tokens_per_s_per_node",
        "max_concurrency",
        "usd_per_million_output_tokens",
    ):
        assert metrics[key] > 0, key
    assert metrics["tokens_per_s_per_request"] == pytest.approx(1 / metrics["tpot_s"])
    assert data["decode_bound"] == "memory" and data["fits_in_memory"] is True


def test_predict_infer_table(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    code, out, _ = cli("predict", "infer", str(path))
    assert code == 0 and "TPOT (ms)" in out and "Decode step" in out
    # tokens/s per GPU first, per node beside it with the node size
    assert out.index("output tokens/s per GPU") < out.index("output tokens/s per node (1 GPUs)")
    assert "layout: replica = 1 device(s)" in out


def test_no_batch_runs_at_the_latency_target_and_shows_the_curve(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.replace("batch_size = 16", "tpot_ms = 20"))
    code, out, err = cli("predict", "infer", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)["results"]
    point = data["decode_point"]
    assert point["source"] == "slo" and point["target_s"] == pytest.approx(0.02)
    assert data["metrics"]["tpot_s"] <= 0.02
    assert len(point["curve"]) > 3 and "largest batch" in point["reason"]
    code, table, _ = cli("predict", "infer", str(path), "--tpot-ms", "30")
    assert code == 0 and "target 30 ms" in table and "<- chosen" in table


def test_flag_overrides_the_file_target(cli, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.replace("batch_size = 16", "tpot_ms = 20"))
    code, out, _ = cli("predict", "infer", str(path), "--tpot-ms", "40", "--json")
    assert json.loads(out)["results"]["decode_point"]["target_s"] == pytest.approx(0.04)
    code, _, err = cli("predict", "infer", str(path), "--tpot-ms", "-1")
    assert code == 1 and "'--tpot-ms': must be > 0" in err


@pytest.mark.parametrize(
    "name",
    [
        "deepseek-v3-serve.toml",
        "llama3-70b-serve.toml",
        "llama3-70b-tp8.toml",
        "deepseek-v3-prefill-ep32.toml",
        "deepseek-v3-decode-ep144.toml",
    ],
)
def test_examples_run(cli, name):
    code, out, err = cli("predict", "infer", str(EXAMPLES / name), "--json")
    assert code == 0, err
    metrics = json.loads(out)["results"]["metrics"]
    assert metrics.get("tpot_s", 0) > 0 or metrics["ttft_s"] > 0


def test_deepseek_example_is_disaggregated(cli):
    code, out, _ = cli("predict", "infer", str(EXAMPLES / "deepseek-v3-serve.toml"), "--json")
    data = json.loads(out)["results"]
    assert data["mode"] == "disaggregated"
    assert data["metrics"]["kv_transfer_s"] > 0 and data["metrics"]["ep_comm_s_per_layer_step"] > 0
    assert data["prefill"]["devices"] == 160 and data["decode"]["devices"] == 320
    assert "EP32" in data["prefill"]["layout"] and "EP320" in data["decode"]["layout"]
    assert data["metrics"]["joules_per_token"] > 0


def test_disaggregated_terminal_shows_each_pool(cli):
    code, out, _ = cli("predict", "infer", str(EXAMPLES / "deepseek-v3-serve.toml"))
    assert code == 0
    assert "Pools" in out and "prefill layout: replica = 32" in out
    assert "decode layout: replica = 320" in out
    for words in ("J/tok", "$/M tok", "tok/s/GPU", "output tokens/s per node (8 GPUs)"):
        assert words in out, words


def test_deepseek_decode_unit_in_engine_vocabulary(cli):
    code, out, err = cli(
        "predict", "infer", str(EXAMPLES / "deepseek-v3-decode-ep144.toml"), "--json"
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["replicas"] == 1 and data["devices_per_replica"] == 144
    assert data["idle_devices"] == 0 and data["metrics"]["tpot_s"] <= 0.05


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (SCENARIO.replace("batch_size", "batch_sise"), "batch_sise"),
        (SCENARIO.replace("num_devices = 1", "num_devices = 1\n[parallel]\ntp = 3"), "tp 3"),
        (SCENARIO.replace("num_devices = 1", "num_devices = 1\n[parallel]\nep = 2"), "dense"),
        (
            SCENARIO.replace("num_devices = 1", "num_devices = 1\n[parallel]\nreplicas = 2"),
            "replicas 2",
        ),
        (SCENARIO + "[disaggregation]\nprefill_devices = 4\n", "prefill_devices"),
        (SCENARIO + "[disaggregation]\nprefil_devices = 1\n", "prefil_devices"),
        ("model = [", "not valid TOML"),
    ],
)
def test_bad_scenarios_are_one_line(cli, tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = cli("predict", "infer", str(path))
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_missing_file(cli, tmp_path):
    code, _, err = cli("predict", "infer", str(tmp_path / "nope.toml"))
    assert code == 1 and "file not found" in err
