"""core/io.write_atomic: nothing half-written, no temp file left on any way out, and a path that
cannot be written is one ConfigError line; TOML output goes through a real writer."""

from __future__ import annotations

import json
import os
import signal
import tomllib

import pytest

from scalelab.core import io
from scalelab.core.errors import ConfigError
from scalelab.core.io import write_atomic


def _temps(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_atomic(target, "one")
    write_atomic(target, b"two")
    assert target.read_text() == "two" and _temps(target.parent) == []


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("folder", "is a directory"),  # --out pointing at a folder
        ("file/x.txt", "cannot write"),  # a folder that is really a file
    ],
)
def test_unwritable_targets_are_config_errors(tmp_path, name, needle):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=needle) as info:
        write_atomic(tmp_path / name, "data")
    assert "\n" not in str(info.value)
    assert _temps(tmp_path) == [] and (tmp_path / "file").read_text() == "x"


def test_read_only_location_is_config_error():
    with pytest.raises(ConfigError, match="cannot write"):
        write_atomic("/proc/scalelab-test/out.html", "data")  # /proc refuses even root


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_signal_while_writing_removes_the_temp_file(tmp_path, monkeypatch, sig):
    real = io._write_and_rename

    def slow_disk(fd, tmp, raw, path):
        assert _temps(tmp_path)  # the temp file exists now
        os.kill(os.getpid(), sig)  # the handler runs at the next bytecode
        real(fd, tmp, raw, path)

    monkeypatch.setattr(io, "_write_and_rename", slow_disk)
    before = signal.getsignal(sig)
    with pytest.raises(SystemExit) as info:
        write_atomic(tmp_path / "report.html", "x" * 1000)
    assert info.value.code == 128 + sig
    assert _temps(tmp_path) == [] and not (tmp_path / "report.html").exists()
    assert signal.getsignal(sig) is before  # the caller's handler is back


def test_ctrl_c_while_writing_removes_the_temp_file(tmp_path, monkeypatch):
    def interrupted(fd, tmp, raw, path):
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "_write_and_rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "report.html", "x")
    assert _temps(tmp_path) == []


def test_temp_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    dead = tmp_path / ".report.html.999999999.abc123.tmp"  # pid beyond pid_max: never alive
    alive = tmp_path / f".report.html.{os.getppid()}.def456.tmp"  # a live writer's: kept
    dead.write_text("half")
    alive.write_text("in progress")
    write_atomic(tmp_path / "report.html", "whole")
    assert not dead.exists() and alive.exists()


def test_model_import_toml_cannot_be_injected(cli, tmp_path):
    name = 'evil"\nnum_layers = 999\n[x]\ny = "'
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "_name_or_path": name,
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
    data = tomllib.loads(target.read_text())
    assert data["name"] == name and data["num_layers"] == 2 and "x" not in data


def test_model_import_out_to_a_folder_is_one_line_error(cli, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
                               "num_attention_heads": 4, "num_hidden_layers": 2,
                               "vocab_size": 100}))  # fmt: skip
    code, _, err = cli("model", "import", str(cfg), "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "is a directory" in lines[0], err
