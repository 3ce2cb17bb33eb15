"""ONNX Runtime quantization of an exported model: int8 dynamic, int8 static (QDQ, per-channel,
calibrated on real examples) and int4 weight-only (MatMulNBits, block-wise)."""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from scalelab.compress.onnx_export import INPUT_NAME, _quiet

INT4_BLOCK = 32  # weights per scale in MatMulNBits; 32 is ORT's usual accuracy/size compromise


def cpu_has_vnni(cpuinfo: str | None = None) -> bool | None:
    """x86: whether the CPU has AVX-512 VNNI or AVX-VNNI (None when not x86 or unknown).

    Without VNNI, x86 int8 GEMMs multiply u8 x s8 with VPMADDUBSW, whose int16 sum of two
    products saturates; 7-bit weights (reduce_range) avoid it (ONNX Runtime quantization docs)."""
    if cpuinfo is None:
        if platform.machine().lower() not in ("x86_64", "amd64", "i686"):
            return None
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    flags = next(
        (ln.split(":", 1)[1].split() for ln in cpuinfo.splitlines() if ln.startswith("flags")), None
    )
    if flags is None:
        return None
    return "avx512_vnni" in flags or "avx_vnni" in flags


def _roundtrip(fn: Any, model: Any) -> Any:
    """ORT's quantizers read and write paths: run `fn(src, dst)` in a private temp folder."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="scalelab-quant-") as tmp:
        src, dst = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
        onnx.save_model(model, str(src))
        with _quiet():
            fn(src, dst)
        return onnx.load_model(str(dst))


def int8_dynamic(model: Any, reduce_range: bool) -> Any:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    return _roundtrip(
        lambda s, d: quantize_dynamic(
            s, d, weight_type=QuantType.QInt8, per_channel=True, reduce_range=reduce_range
        ),
        model,
    )


class _Calibration:
    """ORT's CalibrationDataReader protocol over real examples, one at a time."""

    def __init__(self, ids: np.ndarray) -> None:
        self._rows = iter([{INPUT_NAME: ids[i : i + 1]} for i in range(len(ids))])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._rows, None)


def int8_static(model: Any, calib_ids: np.ndarray, reduce_range: bool) -> Any:
    """QDQ, per-channel int8 weights, uint8 activations with MinMax ranges from `calib_ids`."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(_Calibration, CalibrationDataReader):
        pass

    def run(src: Path, dst: Path) -> None:
        pre = src.with_name("pre.onnx")
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre), str(dst), Reader(calib_ids), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=reduce_range,
            op_types_to_quantize=["MatMul", "Gemm", "Gather"],
        )  # fmt: skip

    return _roundtrip(run, model)


def int4_weight(model: Any) -> Any:
    """MatMul and embedding (Gather) weights to 4-bit blocks of INT4_BLOCK values with one fp32
    scale each (symmetric); activations stay fp32, so this saves bytes, not arithmetic."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    def run(src: Path, dst: Path) -> None:
        import onnx

        q = MatMulNBitsQuantizer(
            onnx.load_model(str(src)), block_size=INT4_BLOCK, is_symmetric=True,
            op_types_to_quantize=("MatMul", "Gather"), quant_axes=(("MatMul", 0), ("Gather", 1)),
        )  # fmt: skip
        q.process()
        q.model.save_model_to_file(str(dst), False)

    return _roundtrip(run, model)
