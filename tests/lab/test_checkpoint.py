import json

import pytest
import torch

from scalelab.core.errors import CheckpointError
from scalelab.lab.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.optim import OptimConfig, build_optimizer

CFG = TransformerConfig(d_model=16, n_layers=1, n_heads=2, seq_len=8)


def _trained(seed: int = 0):
    torch.manual_seed(seed)
    model = Transformer(CFG)
    opt = build_optimizer(model, OptimConfig(weight_decay=0.1))
    x = torch.randint(0, 256, (2, 8))
    model(x).sum().backward()
    opt.step()
    return model, opt


def _save(tmp_path, step=7):
    model, opt = _trained()
    rng = {"torch_cpu": torch.get_rng_state(), "data": torch.Generator().manual_seed(3).get_state()}
    path = save_checkpoint(tmp_path, step, model, opt, rng, {"note": "x"})
    return model, opt, rng, path


def test_roundtrip_is_exact(tmp_path):
    model, opt, rng, path = _save(tmp_path)
    assert latest_checkpoint(tmp_path) == path
    fresh, fresh_opt = _trained(seed=1)
    rng2, state = load_checkpoint(path, fresh, fresh_opt)
    assert state == {"note": "x", "step": 7}
    for (n, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert torch.equal(a, b), n
    assert fresh.head.weight is fresh.tok_emb.weight  # tying survives loading
    s1, s2 = opt.state_dict()["state"], fresh_opt.state_dict()["state"]
    assert all(torch.equal(s1[i][k], s2[i][k]) for i in s1 for k in s1[i])
    assert fresh_opt.param_groups[0]["betas"] == opt.param_groups[0]["betas"]
    assert all(torch.equal(rng[k], rng2[k]) for k in rng)


def test_no_temp_folders_left(tmp_path):
    _save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step_00000007"]


def test_truncated_file_is_an_error(tmp_path):
    *_, path = _save(tmp_path)
    f = path / "optimizer.safetensors"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path, *_trained())


def test_flipped_byte_is_an_error(tmp_path):
    *_, path = _save(tmp_path)
    f = path / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted"):
        verify_checkpoint(path)


def test_missing_manifest_and_dangling_latest(tmp_path):
    *_, path = _save(tmp_path)
    (path / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="incomplete"):
        verify_checkpoint(path)
    (tmp_path / "latest").write_text("step_99999999")
    with pytest.raises(CheckpointError, match="does not exist"):
        latest_checkpoint(tmp_path)


def test_other_model_shape_is_an_error(tmp_path):
    *_, path = _save(tmp_path)
    other = Transformer(CFG.model_copy(update={"n_layers": 2}))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(path, other, build_optimizer(other, OptimConfig()))


def test_manifest_lists_every_file(tmp_path):
    *_, path = _save(tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["kind"] == "single-process" and manifest["step"] == 7
    files = manifest["files"]
    expected = {
        "model.safetensors",
        "optimizer.safetensors",
        "optimizer.json",
        "rng.safetensors",
        "trainer.json",
    }
    assert set(files) == expected


FILE_KINDS = [
    "model.safetensors",
    "optimizer.safetensors",
    "rng.safetensors",
    "optimizer.json",
    "trainer.json",
]


@pytest.mark.parametrize("name", FILE_KINDS)
def test_one_flipped_byte_in_any_file_is_one_line_error(tmp_path, name):
    *_, path = _save(tmp_path)
    f = path / name
    data = bytearray(f.read_bytes())
    data[len(data) // 3] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{name} is corrupted") as info:
        load_checkpoint(path, *_trained())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda p: (p / "rng.safetensors").unlink(), "rng.safetensors is missing"),
        (lambda p: (p / "stray.safetensors").write_bytes(b"x"), "not listed"),
        (lambda p: (p / "manifest.json").write_text("{"), "unreadable manifest.json"),
        (lambda p: (p / "manifest.json").write_text('{"files": {}}'), "not a scalelab"),
        (lambda p: _flip_hash(p / "manifest.json"), "is corrupted"),
        (lambda p: _flip(p / "manifest.json", 15), "not a scalelab-checkpoint"),
    ],
)
def test_damaged_folder_or_manifest_is_one_line_error(tmp_path, damage, needle):
    *_, path = _save(tmp_path)
    damage(path)
    with pytest.raises(CheckpointError, match=needle) as info:
        load_checkpoint(path, *_trained())
    assert "\n" not in str(info.value)


def _flip_hash(f):
    text = f.read_text()
    at = text.index('"sha256": "') + len('"sha256": "')
    f.write_text(text[:at] + ("1" if text[at] == "0" else "0") + text[at + 1 :])


def _flip(f, at):
    data = bytearray(f.read_bytes())
    data[at] ^= 0x01
    f.write_bytes(bytes(data))


@pytest.mark.parametrize("pointer", ["../../etc", "step_1", "step_00000007/../x"])
def test_latest_must_name_a_step_folder(tmp_path, pointer):
    _save(tmp_path)
    (tmp_path / "latest").write_text(pointer)
    with pytest.raises(CheckpointError, match="expected a name like"):
        latest_checkpoint(tmp_path)


def test_latest_moves_only_after_a_verified_write(tmp_path, monkeypatch):
    import scalelab.lab.checkpoint as ckpt

    _, _, rng, first = _save(tmp_path, step=2)
    real = ckpt.write_manifest

    def manifest_then_bit_rot(folder, step, kind):
        out = real(folder, step, kind)
        _flip(folder / "model.safetensors", 100)  # damaged between hashing and publishing
        return out

    monkeypatch.setattr(ckpt, "write_manifest", manifest_then_bit_rot)
    model, opt = _trained()
    with pytest.raises(CheckpointError, match="corrupted"):
        save_checkpoint(tmp_path, 4, model, opt, rng, {})
    assert latest_checkpoint(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step_00000002"]
