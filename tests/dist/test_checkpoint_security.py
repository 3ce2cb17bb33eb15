"""Distributed checkpoints are safetensors + a JSON manifest: loading never unpickles anything,
a crafted folder cannot run code, and any damage is one CheckpointError line (exit 1 from the
CLI), in process and through `scalelab train --nproc N --resume`."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import torch

from scalelab.core.errors import CheckpointError
from scalelab.lab.manifest import sha256_file, write_manifest
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.dcp import KIND, load_full_model
from scalelab.lab.parallel.train_dist import spawn_training

from dist_cli import assert_one_line_error, run_cli, write_run_file

pytestmark = [pytest.mark.dist, pytest.mark.slow]

STEP = "step_00000002"


class _Payload:
    """Unpickling this creates `marker`: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, make_run) -> tuple[dict, Path]:
    """One 2-process FSDP run of 2 steps: two shard files, one per rank."""
    out = tmp_path_factory.mktemp("saved") / "run"
    raw = make_run(out, train={"steps": 2}, parallel={"zero_stage": 3})
    spawn_training(raw, 2)
    return raw, out


def _copy(saved, tmp_path) -> tuple[dict, Path]:
    raw, out = saved
    shutil.copytree(out, tmp_path / "run")
    copied = {**raw, "output": {**raw["output"], "dir": str(tmp_path / "run")}}
    return copied, tmp_path / "run"


def _model(raw) -> Transformer:
    return Transformer(TransformerConfig(**raw["model"]))


def _shards(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.safetensors"))


def test_layout_is_safetensors_and_json_only(saved):
    _, out = saved
    folder = out / "dcp" / STEP
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "manifest.json",
        "shard-00001-model-00001-of-00001.safetensors",
        "shard-00002-model-00001-of-00001.safetensors",
    ]
    assert (out / "dcp" / "latest").read_text() == STEP


def test_loading_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint load tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    raw, out = saved
    model = _model(raw)
    assert load_full_model(out / "dcp" / STEP, model) == 2
    fresh = _model(raw).state_dict()
    trained = model.state_dict()
    assert all(torch.isfinite(t).all() for t in trained.values())
    assert not torch.equal(trained["blocks.0.attn.q.weight"], fresh["blocks.0.attn.q.weight"])


def _flip(f: Path, frac: float) -> None:
    data = bytearray(f.read_bytes())
    data[int(len(data) * frac)] ^= 0x01
    f.write_bytes(bytes(data))


DAMAGE = {
    "flipped byte in the tensor data of shard 1": (lambda d: _flip(_shards(d)[0], 0.7), "corrupted"),
    "flipped byte in the JSON header of shard 2": (lambda d: _flip(_shards(d)[1], 0.0001), "corrupted"),
    "truncated shard": (
        lambda d: _shards(d)[0].write_bytes(_shards(d)[0].read_bytes()[:-64]),
        "truncated",
    ),
    "deleted shard": (lambda d: _shards(d)[1].unlink(), "is missing"),
    "manifest not JSON": (lambda d: (d / "manifest.json").write_text("{oops"), "manifest.json"),
    "manifest of another kind": (
        lambda d: write_manifest(d, 2, "single-process"),
        "expected 'distributed'",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_any_damage_is_one_checkpoint_error_line(saved, tmp_path, case):
    raw, out = _copy(saved, tmp_path)
    damage, needle = DAMAGE[case]
    damage(out / "dcp" / STEP)
    with pytest.raises(CheckpointError, match=needle) as info:
        load_full_model(out / "dcp" / STEP, _model(raw))
    assert "\n" not in str(info.value)


def _craft_pickle_metadata(folder: Path, marker: Path) -> None:
    """torch DCP's own format: `.metadata` is a pickle. Listed in a matching manifest, so only
    the refusal to unpickle stands between the folder and the payload."""
    (folder / ".metadata").write_bytes(pickle.dumps(_Payload(marker)))
    write_manifest(folder, 2, KIND)


def _craft_pickle_shard(folder: Path, marker: Path) -> None:
    """A shard whose bytes are a pickle, the manifest rewritten to match it."""
    _shards(folder)[0].write_bytes(pickle.dumps(_Payload(marker)))
    write_manifest(folder, 2, KIND)
    assert sha256_file(_shards(folder)[0])


@pytest.mark.parametrize("craft", [_craft_pickle_metadata, _craft_pickle_shard])
def test_crafted_folder_cannot_run_code(saved, tmp_path, craft):
    raw, out = _copy(saved, tmp_path)
    marker = tmp_path / "pwned"
    craft(out / "dcp" / STEP, marker)
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control")))  # the payload does work...
    assert (tmp_path / "control").exists()
    with pytest.raises(CheckpointError) as info:  # ...but not from a checkpoint
        load_full_model(out / "dcp" / STEP, _model(raw))
    assert "\n" not in str(info.value) and not marker.exists()


def test_resume_of_a_crafted_folder_is_one_line_and_runs_nothing(saved, tmp_path):
    """The attack as reported: `scalelab train RUN.toml --nproc 1 --resume` on a folder whose
    `.metadata` is a pickle payload."""
    raw, out = _copy(saved, tmp_path)
    marker = tmp_path / "pwned"
    _craft_pickle_metadata(out / "dcp" / STEP, marker)
    run = write_run_file(tmp_path / "run.toml", {**raw, "train": {**raw["train"], "steps": 4}})
    code, _, err = run_cli("train", str(run), "--nproc", "1", "--resume")
    assert_one_line_error(code, err, "never unpickles", STEP)
    assert not marker.exists()


def test_resume_of_a_flipped_byte_is_one_line_on_two_processes(saved, tmp_path):
    raw, out = _copy(saved, tmp_path)
    _flip(_shards(out / "dcp" / STEP)[1], 0.5)
    run = write_run_file(tmp_path / "run.toml", {**raw, "train": {**raw["train"], "steps": 4}})
    code, _, err = run_cli("train", str(run), "--nproc", "2", "--resume")
    assert_one_line_error(code, err, "corrupted (sha256 mismatch)")
    assert (out / "dcp" / "latest").read_text() == STEP
