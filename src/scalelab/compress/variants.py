"""One interface over every form a classifier takes on disk: an fp32 lab checkpoint (PyTorch),
a PyTorch int8 `.safetensors` file, or an `.onnx` file run by ONNX Runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from scalelab.compress import store
from scalelab.compress.models import EncoderClassifier
from scalelab.core.errors import CheckpointError, located


@dataclass
class Variant:
    """A loaded model: `run(ids)` returns logits (N, classes) as numpy, on `threads` CPU threads."""

    label: str
    path: Path
    meta: store.ModelMeta
    num_params: int
    size_bytes: int
    run: Callable[[torch.Tensor], np.ndarray]
    threads: int


def _torch_runner(model: torch.nn.Module, threads: int) -> Callable[[torch.Tensor], np.ndarray]:
    model.eval()

    @torch.no_grad()
    def run(ids: torch.Tensor) -> np.ndarray:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return model(ids).numpy()
        finally:
            torch.set_num_threads(previous)

    return run


def describe(meta: store.ModelMeta) -> str:
    c = meta.config
    shape = f"{c['n_layers']}x{c['d_model']}"
    return f"{meta.extra.get('role', 'model')} {shape} {meta.method} ({meta.backend})"


def open_variant(path: Path, threads: int = 1, engine: str | None = None) -> Variant:
    """Load whatever `path` holds; anything else is one CheckpointError naming it."""
    from scalelab.compress.quantize_torch import load_quantized

    path = Path(path)
    if path.is_dir() or not path.exists():
        model, meta = store.load_classifier(path)
        runner = _torch_runner(model, threads)
    elif path.suffix == ".safetensors":
        tensors, meta = store.load_tensors(path)
        with located(str(path)):
            model = load_quantized(EncoderClassifier(meta.encoder_config), tensors, engine)
        runner = _torch_runner(model, threads)
    elif path.suffix == ".onnx":
        from scalelab.compress.onnx_export import require_onnx, run_session, session

        require_onnx()
        proto, meta = store.load_onnx(path)
        sess = session(proto, threads)
        runner = lambda ids: run_session(sess, ids)  # noqa: E731
    else:
        raise CheckpointError(
            f"{path}: not a compress model (expected a checkpoint folder, .safetensors or .onnx)"
        )
    with located(str(path)):
        num_params = EncoderClassifier(meta.encoder_config).num_params()
    size = store.weights_bytes(path)
    return Variant(describe(meta), path, meta, num_params, size, runner, threads)
