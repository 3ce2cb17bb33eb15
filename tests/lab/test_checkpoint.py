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
    files = json.loads((path / "manifest.json").read_text())["files"]
    expected = {
        "model.safetensors",
        "optimizer.safetensors",
        "optimizer.json",
        "rng.safetensors",
        "trainer.json",
    }
    assert set(files) == expected
