"""`scalelab compress ...` end to end on a tiny BBC model, and every kind of bad input."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    from scalelab.cli.main import app  # noqa: F401  (registers the commands)
    from scalelab.compress.train import TrainSettings
    from scalelab.compress.workflow import train_teacher

    out = tmp_path_factory.mktemp("cli") / "teacher"
    shape = {"n_layers": 1, "d_model": 16, "n_heads": 2, "max_len": 32}
    train_teacher("bbc", shape, TrainSettings(epochs=1, batch_size=32), out, vocab_size=500)
    return out


def _json(cli, *args):
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["schema_version"] == 1 and "compress " in data["command"]
    return data["results"]


def test_train_command_writes_a_checkpoint(cli, tmp_path):
    r = _json(cli, "compress", "train", "--out", str(tmp_path / "t"), "--layers", "1", "--dim", "16",
              "--heads", "2", "--max-len", "16", "--vocab", "200", "--epochs", "1", "--batch", "64")  # fmt: skip
    assert (tmp_path / "t" / "latest").exists() and 0 <= r["test_accuracy_frac"] <= 1


def test_chain_end_to_end(cli, teacher, tmp_path):
    d = _json(cli, "compress", "distill", "--teacher", str(teacher), "--student-layers", "1", "--student-dim", "8",
              "--seeds", "1", "--epochs", "1", "--out", str(tmp_path / "s"))  # fmt: skip
    assert len(d["alone_accuracy_frac"]) == 1 and "distillation_helps" in d
    q = _json(
        cli, "compress", "quantize", str(tmp_path / "s"), "--out", str(tmp_path / "s8.safetensors")
    )
    assert q["size_ratio"] < 1
    e = _json(cli, "compress", "export", str(tmp_path / "s"), "--out", str(tmp_path / "s.onnx"))
    assert e["ok"] and e["max_abs_diff"] <= e["atol"]
    s = _json(cli, "compress", "quantize", str(tmp_path / "s"), "--method", "int8-static", "--backend",
              "onnxruntime", "--calib", "16", "--out", str(tmp_path / "st.onnx"))  # fmt: skip
    assert s["calib_examples"] == 16 and s["reduce_range"] in (True, False)
    paths = [
        str(teacher),
        str(tmp_path / "s"),
        str(tmp_path / "s8.safetensors"),
        str(tmp_path / "st.onnx"),
    ]
    b = _json(cli, "compress", "bench", *paths, "--repeats", "3")
    assert [r["method"] for r in b["rows"]] == ["fp32", "fp32", "int8-dynamic", "int8-static"]
    assert b["rows"][0]["speedup_b32_ratio"] == 1.0
    code, out, _ = cli("compress", "bench", *paths[:2], "--repeats", "3")
    assert code == 0 and "Measured variants" in out and "VNNI" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["--method", "int3"], "--method"),
        (["--backend", "tensorrt"], "--backend"),
        (["--method", "int8-static"], "int8-static"),
        (["--method", "int8-static", "--backend", "onnxruntime", "--calib", "999999"], "--calib"),
    ],
)
def test_bad_quantize_flags(cli, teacher, tmp_path, args, message):
    target = tmp_path / "q.onnx"
    code, out, err = cli("compress", "quantize", str(teacher), *args, "--out", str(target))
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_files_and_outputs(cli, teacher, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07not an onnx model")
    code, _, err = cli("compress", "bench", str(broken))
    assert code == 1 and "broken.onnx" in err
    code, _, err = cli("compress", "quantize", str(tmp_path / "nothing"))
    assert code == 1 and "nothing" in err
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    code, _, err = cli("compress", "export", str(teacher), "--out", str(blocker / "m.onnx"))
    assert code == 1 and "--out" in err
    code, _, err = cli("compress", "export", str(teacher), "--out", str(tmp_path / "m.txt"))
    assert code == 1 and ".onnx" in err
    truncated = tmp_path / "t.safetensors"
    truncated.write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"a":')
    code, _, err = cli("compress", "bench", str(truncated))
    assert code == 1 and "t.safetensors" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "broken.onnx", "t.safetensors"]
