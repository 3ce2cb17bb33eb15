"""`scalelab place`: the example devices file, JSON, and one-line errors."""

import json
from pathlib import Path

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "devices-gpu-cpu.toml")


def test_place_example_json(cli):
    code, out, err = cli(
        "place", "deepseek-v3", "--devices", EXAMPLE, "--phase", "decode", "--json"
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["assignment"]["L10.routed"] == "cpu0" and data["assignment"]["L10.attn"] == "gpu0"
    assert data["makespan_s"] > 0 and {b["device"] for b in data["baselines"]} == {"gpu0", "cpu0"}


def test_place_table(cli):
    code, out, _ = cli(
        "place", "llama-3.1-8b", "--devices", EXAMPLE, "--phase", "prefill", "--prompt", "256"
    )
    assert code == 0 and "Single-device baselines" in out


def _one_line_error(cli, *args):
    code, out, err = cli(*args)
    assert code == 1, (args, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_place_bad_input(cli, tmp_path):
    assert "file not found" in _one_line_error(
        cli, "place", "deepseek-v3", "--devices", str(tmp_path / "x.toml")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[[devices]\n")
    assert "not valid TOML" in _one_line_error(cli, "place", "deepseek-v3", "--devices", str(bad))
    assert "unknown model" in _one_line_error(cli, "place", "gpt9", "--devices", EXAMPLE)
    assert "--phase" in _one_line_error(
        cli, "place", "deepseek-v3", "--devices", EXAMPLE, "--phase", "train"
    )
    tiny = tmp_path / "tiny.toml"
    tiny.write_text('[[devices]]\nname = "g"\naccelerator = "h200-sxm-141gb"\n')
    assert "fits on no" in _one_line_error(cli, "place", "deepseek-v3", "--devices", str(tiny))
