"""CLI of the foundation: validate, model, hardware; bad input is one line and exit code 1."""

import json

import pytest


def test_validate_model_kind_json_all_pass(cli):
    code, out, _ = cli("validate", "--kind", "model", "--json")
    assert code == 0
    data = json.loads(out)["results"]
    assert data["summary"]["pass"] == len(data["cases"]) == 10
    case = next(c for c in data["cases"] if c["id"] == "kv-cache-per-token-deepseek-v3")
    assert case["metrics"]["kv_cache_bytes_per_token"]["predicted"] == 70272
    assert set(case) >= {"id", "kind", "status", "metrics"}


def test_model_list_and_show(cli):
    code, out, _ = cli("model", "list", "--json")
    assert code == 0 and "deepseek-v3" in {m["id"] for m in json.loads(out)["results"]}
    code, out, _ = cli("model", "show", "deepseek-v3", "--json")
    assert json.loads(out)["results"]["spec"]["kv_lora_rank"] == 512


def test_hardware_show_prints_sources(cli):
    code, out, _ = cli("hardware", "show", "h800-sxm5-80gb")
    assert code == 0 and "source" in out and "989.4" in out


def test_model_import_writes_toml(cli, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "model_type": "llama",
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_attention_heads": 4,
                "num_hidden_layers": 2,
                "vocab_size": 100,
            }
        )
    )
    target = tmp_path / "m.toml"
    code, _, err = cli("model", "import", str(cfg), "--out", str(target))
    assert code == 0, err
    code, out, _ = cli("model", "show", str(target), "--json")
    assert code == 0 and json.loads(out)["results"]["spec"]["num_layers"] == 2


def one_line_error(code, err, *needles):
    assert code == 1
    text = err.strip()
    assert len(text.splitlines()) == 1, text
    assert "Traceback" not in text
    for n in needles:
        assert n in text


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (
            "num_layers = 2\nhidden_size = 64\nnum_attention_heads = 4\nffn_hidden_size = 128\nvocab_size = 100\nnum_layer = 3\n",
            ["num_layer", "unknown field"],
        ),
        (
            "num_layers = -2\nhidden_size = 64\nnum_attention_heads = 4\nffn_hidden_size = 128\nvocab_size = 100\n",
            ["num_layers", "greater than 0"],
        ),
        ("num_layers = [\n", ["not valid TOML"]),
    ],
)
def test_bad_model_files(cli, tmp_path, content, needles):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    code, _, err = cli("model", "show", str(path))
    one_line_error(code, err, "bad.toml", *needles)


def test_malformed_config_json(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "llama", ')
    code, _, err = cli("model", "import", str(path))
    one_line_error(code, err, "config.json", "not valid JSON")


def test_unknown_catalog_id(cli):
    code, _, err = cli("model", "show", "gpt-17")
    one_line_error(code, err, "unknown model 'gpt-17'")
    code, _, err = cli("hardware", "show", "h900")
    one_line_error(code, err, "unknown hardware 'h900'")


def test_missing_file_and_bad_flag(cli):
    code, _, err = cli("validate", "--cases", "/nonexistent/cases.yaml")
    one_line_error(code, err, "cases.yaml", "not found")
    code, _, err = cli("validate", "--kind", "weather")
    one_line_error(code, err, "--kind")


def test_validate_strict_exits_1_on_a_failing_case(cli, tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text(
        "schema: scalelab-validation/1\ncases:\n- id: wrong\n  kind: model\n"
        "  model: {catalog_id: llama-3.1-8b}\n  expect: {total_params: 1.0e9}\n  tolerance_frac: 0.01\n"
    )
    code, out, _ = cli("validate", "--cases", str(path), "--strict")
    assert code == 1 and "FAIL" in out
    code, _, _ = cli("validate", "--cases", str(path))
    assert code == 0


@pytest.mark.parametrize(
    "args", [("validate", "--bogus"), ("model", "show"), ("nosuchcmd",), ("validate", "--kind")]
)
def test_usage_errors_are_one_line(cli, args):
    code, _, err = cli(*args)
    one_line_error(code, err, "error:")
