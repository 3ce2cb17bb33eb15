"""Where compress models live on disk, never pickled.

- fp32 models (teacher, student) are lab checkpoints (`scalelab.lab.checkpoint`: safetensors +
  JSON + sha256 manifest), written with the optimizer that trained them; trainer.json carries
  the model config, vocabulary and class names under the key "compress".
- Compressed variants are one file each: `.safetensors` (PyTorch int8) or `.onnx`, with the same
  description in the file's own metadata (safetensors header / ONNX metadata_props).
Every reader turns a missing, truncated or foreign file into one CheckpointError naming it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as dump_safetensors

from scalelab.compress.models import EncoderClassifier, EncoderConfig
from scalelab.compress.text import Vocabulary
from scalelab.core.errors import CheckpointError, ConfigError, ScalelabError, located
from scalelab.core.io import build, write_atomic
from scalelab.lab.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from scalelab.lab.seeding import capture_rng_state

META_KEY = "scalelab.compress"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelMeta:
    """What a reader needs besides the weights: shape, vocabulary, classes and provenance."""

    config: dict[str, Any]
    vocab: list[str]
    class_names: list[str]
    dataset: str
    method: str = "fp32"  # fp32 | int8-dynamic | int8-static | int4-weight
    backend: str = "torch"  # torch | onnxruntime
    source: str = ""  # the checkpoint a variant was made from
    extra: dict[str, Any] = field(default_factory=dict)  # training recipe and metrics

    @property
    def encoder_config(self) -> EncoderConfig:
        """The shape, validated: a description read from disk may be damaged or crafted."""
        if not isinstance(self.config, dict):
            raise CheckpointError("its model config is not a table")
        return build(EncoderConfig, self.config, "its model config")

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(tuple(self.vocab))

    def to_json(self) -> str:
        return json.dumps({"format_version": FORMAT_VERSION, **asdict(self)})

    @classmethod
    def from_json(cls, text: str, where: str) -> ModelMeta:
        try:
            raw = json.loads(text)
            raw.pop("format_version")
            return cls(**raw)
        except (ValueError, TypeError, KeyError):
            raise CheckpointError(f"{where}: its {META_KEY} description is unreadable") from None

    def derive(self, method: str, backend: str, source: Path) -> ModelMeta:
        return ModelMeta(self.config, self.vocab, self.class_names, self.dataset, method, backend,
                         str(source), self.extra)  # fmt: skip


def _writable(out: Path, flag: str, folder: bool = False) -> None:
    """Fail before any work when `out` cannot be created (one line naming the flag)."""
    parent = out.parent
    if out.exists() and out.is_dir() != folder:
        raise ConfigError(f"{flag}: {out} exists and is a {'folder' if out.is_dir() else 'file'}")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not _can_write(probe):
        raise ConfigError(f"{flag}: cannot write to {parent}")


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def check_output(out: Path, flag: str = "--out", folder: bool = False) -> None:
    """Public check used by commands before they spend minutes training or exporting."""
    _writable(out, flag, folder)


def save_classifier(
    out_dir: Path, model: EncoderClassifier, optimizer: torch.optim.Optimizer, meta: ModelMeta,
    step: int,
) -> Path:  # fmt: skip
    """A lab checkpoint of an fp32 classifier under `out_dir` (resumable, verified on load)."""
    _writable(out_dir, "--out", folder=True)
    rng = capture_rng_state(torch.Generator())
    try:
        return save_checkpoint(
            out_dir, step, model, optimizer, rng, {"compress": json.loads(meta.to_json())}
        )
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out_dir}: {exc.strerror}") from None


def checkpoint_folder(path: Path) -> Path:
    """A checkpoint root (holding `latest`) or one step folder -> the step folder."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    if path.is_dir() and (path / "latest").exists():
        found = latest_checkpoint(path)
        assert found is not None
        return found
    if path.is_dir() and (path / "manifest.json").exists():
        return path
    raise CheckpointError(f"{path}: not a scalelab checkpoint (no 'latest' or manifest.json)")


def load_classifier(path: Path) -> tuple[EncoderClassifier, ModelMeta]:
    """An fp32 classifier from a lab checkpoint written by `save_classifier` (eval mode)."""
    folder = checkpoint_folder(path)
    try:
        state = json.loads((folder / "trainer.json").read_text())
        meta = ModelMeta.from_json(json.dumps(state["compress"]), str(path))
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(
            f"{path}: a lab checkpoint without a compress model description "
            "(was it written by `scalelab compress train|distill`?)"
        ) from None
    with located(str(path)):
        model = EncoderClassifier(meta.encoder_config)
    optimizer = torch.optim.AdamW(model.parameters())  # its state is loaded and then unused
    load_checkpoint(folder, model, optimizer)
    return model.eval(), meta


def weights_bytes(path: Path) -> int:
    """Bytes of the deployable weights: a checkpoint's model.safetensors, or the variant file."""
    if path.is_dir():
        return (checkpoint_folder(path) / "model.safetensors").stat().st_size
    return path.stat().st_size


def save_tensors(out: Path, tensors: dict[str, torch.Tensor], meta: ModelMeta) -> None:
    """One .safetensors file with `meta` in its header, written atomically."""
    _writable(out, "--out")
    data = dump_safetensors(tensors, metadata={META_KEY: meta.to_json()})
    try:
        write_atomic(out, data)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out}: {exc.strerror}") from None


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], ModelMeta]:
    try:
        raw = path.read_bytes()
        tensors = load_safetensors(raw)
        header_len = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8 : 8 + header_len])
        text = header["__metadata__"][META_KEY]
    except (OSError, SafetensorError, ValueError, KeyError, TypeError):
        raise CheckpointError(
            f"{path}: not a compress .safetensors file (unreadable, truncated or foreign)"
        ) from None
    return tensors, ModelMeta.from_json(text, str(path))


def save_onnx(out: Path, model: Any, meta: ModelMeta) -> None:
    """An onnx.ModelProto with `meta` in metadata_props, written atomically."""
    _writable(out, "--out")
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = META_KEY, meta.to_json()
    try:
        write_atomic(out, model.SerializeToString())
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out}: {exc.strerror}") from None


def load_onnx(path: Path) -> tuple[Any, ModelMeta]:
    import onnx

    try:
        model = onnx.load_model_from_string(path.read_bytes())
        onnx.checker.check_model(model)
        text = next(p.value for p in model.metadata_props if p.key == META_KEY)
    except (OSError, StopIteration) as exc:
        raise CheckpointError(f"{path}: not a compress ONNX model ({type(exc).__name__})") from None
    except Exception as exc:  # protobuf DecodeError / onnx ValidationError: a damaged file
        if isinstance(exc, ScalelabError):
            raise
        raise CheckpointError(f"{path}: not a valid ONNX model (truncated or corrupted)") from None
    return model, ModelMeta.from_json(text, str(path))
