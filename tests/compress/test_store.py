"""Bad files are one CheckpointError naming the file; outputs are checked before any work."""

import json
from pathlib import Path

import pytest
import torch

from scalelab.compress import store
from scalelab.compress.models import EncoderClassifier, EncoderConfig
from scalelab.compress.variants import open_variant
from scalelab.core.errors import CheckpointError, ConfigError

CFG = EncoderConfig(vocab_size=8, max_len=4, d_model=8, n_layers=1, n_heads=2)
META = store.ModelMeta(
    CFG.model_dump(), ["<pad>", "<cls>", "<unk>", "a", "b", "c", "d", "e"], ["x", "y"], "bbc"
)


def _saved(tmp_path: Path) -> Path:
    m = EncoderClassifier(CFG)
    opt = torch.optim.AdamW(m.parameters())
    store.save_classifier(tmp_path / "ck", m, opt, META, step=3)
    return tmp_path / "ck"


def test_checkpoint_round_trip(tmp_path):
    path = _saved(tmp_path)
    model, meta = store.load_classifier(path)
    assert meta == META and model.num_params() == EncoderClassifier(CFG).num_params()
    assert (
        store.weights_bytes(path) == (path / "step_00000003" / "model.safetensors").stat().st_size
    )


def test_truncated_checkpoint_is_refused(tmp_path):
    path = _saved(tmp_path)
    weights = path / "step_00000003" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="model.safetensors"):
        store.load_classifier(path)


def test_lab_checkpoint_without_compress_description(tmp_path):
    path = _saved(tmp_path)
    trainer = path / "step_00000003" / "trainer.json"
    trainer.write_text(json.dumps({"step": 3}))
    with pytest.raises(CheckpointError):
        store.load_classifier(path)


@pytest.mark.parametrize("name,content", [("x.safetensors", b"garbage"), ("x.onnx", b"\x08\x01garbage"),
                                          ("x.txt", b"hello")])  # fmt: skip
def test_foreign_files_are_refused(tmp_path, name, content):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(CheckpointError, match=name):
        open_variant(f)


def test_missing_and_plain_folders_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        open_variant(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="not a scalelab checkpoint"):
        open_variant(tmp_path)


def test_unwritable_output_is_refused_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="--out"):
        store.check_output(blocker / "sub" / "m.onnx")
    with pytest.raises(ConfigError, match="--out"):
        store.check_output(tmp_path, folder=False)  # a folder where a file should go
