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


@pytest.mark.parametrize("name", ["deepseek-v3-serve.toml", "llama3-70b-serve.toml"])
def test_examples_run(cli, name):
    code, out, err = cli("predict", "infer", str(EXAMPLES / name), "--json")
    assert code == 0, err
    assert json.loads(out)["results"]["metrics"]["tpot_s"] > 0


def test_deepseek_example_is_disaggregated(cli):
    code, out, _ = cli("predict", "infer", str(EXAMPLES / "deepseek-v3-serve.toml"), "--json")
    data = json.loads(out)["results"]
    assert data["mode"] == "disaggregated"
    assert data["metrics"]["kv_transfer_s"] > 0 and data["metrics"]["ep_comm_s_per_layer_step"] > 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (SCENARIO.replace("batch_size", "batch_sise"), "batch_sise"),
        (SCENARIO.replace("num_devices = 1", "num_devices = 1\n[parallel]\ntp = 3"), "tp 3"),
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
