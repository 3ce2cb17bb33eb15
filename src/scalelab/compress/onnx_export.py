"""ONNX export with torch.onnx's dynamo exporter (dynamic batch axis), checked against torch, and
ONNX Runtime sessions with pinned thread counts."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from scalelab.core.errors import ConfigError

INPUT_NAME = "ids"
OPSET = 18  # the dynamo exporter's default; ORT >= 1.14 runs it


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter prints progress and FutureWarnings; library code stays silent."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "onnxscript", "torch.export", "")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise ConfigError(
            "this needs onnx, onnxscript and onnxruntime: install scalelab[compress]"
        ) from None


def export_onnx(model: nn.Module, example_ids: torch.Tensor) -> Any:
    """An onnx.ModelProto of `model` (eval), input `ids` (batch, T) with a dynamic batch axis."""
    require_onnx()
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    model = model.eval()
    with _quiet(), torch.no_grad():
        program = torch.onnx.export(
            model, (example_ids,), dynamo=True, input_names=[INPUT_NAME], output_names=["logits"],
            dynamic_shapes=({0: batch},), opset_version=OPSET, verbose=False,
        )  # fmt: skip
    if program is None:
        raise ConfigError("torch.onnx.export returned no program")
    return program.model_proto


def session(model: Any, threads: int) -> Any:
    """An ONNX Runtime CPU session on a ModelProto or path, `threads` intra-op threads, one inter-op."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    data = model.SerializeToString() if hasattr(model, "SerializeToString") else str(model)
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def run_session(sess: Any, ids: np.ndarray | torch.Tensor) -> np.ndarray:
    array = ids.numpy() if isinstance(ids, torch.Tensor) else ids
    return np.asarray(sess.run(None, {INPUT_NAME: array})[0])


@dataclass(frozen=True)
class Parity:
    """How far the ONNX model's logits are from torch's on the same inputs."""

    num_examples: int
    max_abs_diff: float
    argmax_agreement_frac: float
    atol: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.atol


def check_parity(
    model: nn.Module, onnx_model: Any, ids: torch.Tensor, atol: float = 1e-4
) -> Parity:
    """Logits of torch and ONNX Runtime on `ids`. Both run fp32; they differ only by kernel order of
    summation, ~1e-6 relative, so 1e-4 absolute on O(1-10) logits is a bound with a wide margin."""
    with torch.no_grad():
        ref = model.eval()(ids).numpy()
    got = run_session(session(onnx_model, threads=1), ids)
    return Parity(
        num_examples=len(ids),
        max_abs_diff=float(np.abs(got - ref).max()),
        argmax_agreement_frac=float((got.argmax(-1) == ref.argmax(-1)).mean()),
        atol=atol,
    )
