"""The four steps a user runs, each one function with checked inputs: train a teacher, distill a
student, quantize, export. The CLI and the benchmark call these; nothing here prints."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from scalelab.compress import store
from scalelab.compress.models import EncoderClassifier, EncoderConfig
from scalelab.compress.text import TextTask, load_task
from scalelab.compress.train import DistillSettings, TrainResult, TrainSettings, train_classifier
from scalelab.core.errors import ConfigError

METHODS = ("int8-dynamic", "int8-static", "int4-weight")
BACKENDS = ("torch", "onnxruntime")
EXPORT_CHECK_EXAMPLES = 64


def task_for(meta: store.ModelMeta) -> TextTask:
    """The model's data set encoded with its own vocabulary (same split as in training)."""
    return load_task(meta.dataset, len(meta.vocab), int(meta.config["max_len"]), meta.vocabulary)


def train_teacher(
    dataset: str, cfg_fields: dict[str, Any], settings: TrainSettings, out: Path,
    vocab_size: int = 5000, on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[Path, store.ModelMeta, TrainResult]:  # fmt: skip
    """Train an encoder classifier on a shipped data set and write it as a lab checkpoint."""
    store.check_output(out, folder=True)
    max_len = int(cfg_fields.get("max_len", EncoderConfig().max_len))
    task = load_task(dataset, vocab_size, max_len)
    cfg = EncoderConfig(
        **{**cfg_fields, "vocab_size": len(task.vocab), "num_classes": len(task.class_names)}
    )
    result = train_classifier(cfg, task, settings, on_epoch=on_epoch)
    meta = store.ModelMeta(cfg.model_dump(), list(task.vocab.tokens), list(task.class_names), dataset,
                           extra=_recipe("teacher", settings, result))  # fmt: skip
    return (
        store.save_classifier(out, result.model, result.optimizer, meta, result.steps),
        meta,
        result,
    )


def _recipe(role: str, settings: TrainSettings, r: TrainResult, **more: Any) -> dict[str, Any]:
    return {"role": role, "train": settings.model_dump(), "test_accuracy_frac": r.test_accuracy_frac,
            "train_s": r.train_s, **more}  # fmt: skip


@dataclass(frozen=True)
class DistillResult:
    """Per seed: the student trained alone and the same student distilled from the teacher."""

    teacher_accuracy_frac: float
    student_config: dict[str, Any]
    seeds: list[int]
    alone_accuracy_frac: list[float]
    distilled_accuracy_frac: list[float]
    out: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def alone_mean_frac(self) -> float:
        return statistics.fmean(self.alone_accuracy_frac)

    @property
    def distilled_mean_frac(self) -> float:
        return statistics.fmean(self.distilled_accuracy_frac)

    @property
    def distillation_helps(self) -> bool:
        return self.distilled_mean_frac > self.alone_mean_frac

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "alone_mean_frac": self.alone_mean_frac,
                "distilled_mean_frac": self.distilled_mean_frac,
                "distillation_helps": self.distillation_helps}  # fmt: skip


def distill(
    teacher_path: Path, layers: int, dim: int, out: Path, heads: int = 2, seeds: int = 3,
    settings: TrainSettings = TrainSettings(), kd: DistillSettings = DistillSettings(),
    on_run: Callable[[str], None] | None = None,
) -> DistillResult:  # fmt: skip
    """Train the student alone and by distillation for each seed; save the seed-0 distilled one."""
    if dim % heads:
        raise ConfigError(f"--student-dim {dim} must be divisible by --student-heads {heads}")
    store.check_output(out, folder=True)
    teacher, tmeta = store.load_classifier(teacher_path)
    task = task_for(tmeta)
    cfg = EncoderConfig(
        **{**tmeta.config, "n_layers": layers, "d_model": dim, "n_heads": heads, "d_ff": None}
    )
    alone, distilled, kept = [], [], None
    for seed in range(seeds):
        s = settings.model_copy(update={"seed": settings.seed + seed})
        if on_run:
            on_run(f"seed {s.seed}: student alone")
        alone.append(train_classifier(cfg, task, s).test_accuracy_frac)
        if on_run:
            on_run(f"seed {s.seed}: student distilled")
        r = train_classifier(cfg, task, s, teacher=teacher, distill=kd)
        distilled.append(r.test_accuracy_frac)
        kept = kept or r
    assert kept is not None
    tacc = float(tmeta.extra.get("test_accuracy_frac", float("nan")))
    extra = _recipe("student", settings, kept, distill=kd.model_dump(), teacher=str(teacher_path))
    meta = store.ModelMeta(
        cfg.model_dump(), tmeta.vocab, tmeta.class_names, tmeta.dataset, extra=extra
    )
    store.save_classifier(out, kept.model, kept.optimizer, meta, kept.steps)
    seeds_run = [settings.seed + i for i in range(seeds)]
    return DistillResult(tacc, cfg.model_dump(), seeds_run, alone, distilled, str(out),
                         {"train": settings.model_dump(), "distill": kd.model_dump()})  # fmt: skip


def check_method(method: str, backend: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"--method: unknown {method!r} (choose from {', '.join(METHODS)})")
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: unknown {backend!r} (choose from {', '.join(BACKENDS)})")
    if method == "int8-static" and backend == "torch":
        raise ConfigError("--method int8-static runs on --backend onnxruntime (QDQ); PyTorch's eager "
                          "static quantization needs hand-placed observers and is deprecated")  # fmt: skip
    if method == "int4-weight" and backend == "torch" and not torch.cuda.is_available():
        raise ConfigError("--method int4-weight --backend torch: torchao 0.18 has no CPU int4 kernel for "
                          "torch 2.13 (its int4 layouts need CUDA); use --backend onnxruntime (MatMulNBits)")  # fmt: skip


def default_output(ckpt: Path, method: str, backend: str) -> Path:
    ext = "safetensors" if backend == "torch" else "onnx"
    return ckpt.parent / f"{ckpt.name}-{method}-{backend}.{ext}"


@dataclass(frozen=True)
class QuantizeResult:
    source: str
    out: str
    method: str
    backend: str
    source_bytes: int
    out_bytes: int
    reduce_range: bool | None = None
    calib_examples: int | None = None

    @property
    def size_ratio(self) -> float:
        return self.out_bytes / self.source_bytes

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "size_ratio": self.size_ratio}


def quantize(
    ckpt: Path, method: str, backend: str, out: Path | None = None, calib: int = 128,
    engine: str | None = None, onnx_fp32: Path | None = None,
) -> QuantizeResult:  # fmt: skip
    """Quantize an fp32 checkpoint into one file (safetensors for torch, ONNX for onnxruntime).

    `onnx_fp32`: an export of the same checkpoint to start from instead of exporting again."""
    check_method(method, backend)
    out = out or default_output(ckpt, method, backend)
    store.check_output(out)
    model, meta = store.load_classifier(ckpt)
    new_meta = meta.derive(method, backend, ckpt)
    if backend == "torch":
        from scalelab.compress.quantize_torch import quantize_dynamic_int8, quantized_state

        store.save_tensors(out, quantized_state(quantize_dynamic_int8(model, engine)), new_meta)
        return QuantizeResult(
            str(ckpt), str(out), method, backend, store.weights_bytes(ckpt), out.stat().st_size
        )
    proto = store.load_onnx(onnx_fp32)[0] if onnx_fp32 is not None else None
    return _quantize_ort(ckpt, model, meta, new_meta, method, out, calib, proto)


def _quantize_ort(
    ckpt: Path, model: EncoderClassifier, meta: store.ModelMeta, new_meta: store.ModelMeta,
    method: str, out: Path, calib: int, proto: Any = None,
) -> QuantizeResult:  # fmt: skip
    from scalelab.compress import quantize_ort as qo
    from scalelab.compress.onnx_export import export_onnx, require_onnx

    require_onnx()
    task = task_for(meta)
    if method == "int8-static" and calib > len(task.train):
        raise ConfigError(
            f"--calib: {calib} exceeds the {len(task.train)} training examples of {meta.dataset}"
        )
    proto = proto if proto is not None else export_onnx(model, task.train.ids[:2])
    reduce_range = qo.cpu_has_vnni() is False  # only x86 without VNNI saturates (see cpu_has_vnni)
    if method == "int8-dynamic":
        q = qo.int8_dynamic(proto, reduce_range)
    elif method == "int8-static":
        q = qo.int8_static(proto, calib_examples(task, calib), reduce_range)
    else:
        q, reduce_range = qo.int4_weight(proto), None
    store.save_onnx(out, q, new_meta)
    used = calib if method == "int8-static" else None
    return QuantizeResult(str(ckpt), str(out), method, "onnxruntime", store.weights_bytes(ckpt),
                          out.stat().st_size, reduce_range, used)  # fmt: skip


def calib_examples(task: TextTask, n: int) -> Any:
    """n training examples (never test ones), spread over the split by a fixed stride."""
    idx = torch.linspace(0, len(task.train) - 1, n).round().long()
    return task.train.ids[idx].numpy()


@dataclass(frozen=True)
class ExportResult:
    source: str
    out: str
    out_bytes: int
    num_examples: int
    max_abs_diff: float
    argmax_agreement_frac: float
    atol: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.max_abs_diff <= self.atol}


def export(ckpt: Path, out: Path, check: int = EXPORT_CHECK_EXAMPLES) -> ExportResult:
    """fp32 ONNX with a dynamic batch axis, checked against torch on `check` real test examples."""
    from scalelab.compress.onnx_export import check_parity, export_onnx

    if out.suffix != ".onnx":
        raise ConfigError(f"--out: {out} must end in .onnx")
    store.check_output(out)
    model, meta = store.load_classifier(ckpt)
    task = task_for(meta)
    proto = export_onnx(model, task.train.ids[:2])
    parity = check_parity(model, proto, task.test.ids[:check])
    if not parity.ok:
        raise ConfigError(f"{ckpt}: the exported model differs from torch by {parity.max_abs_diff:.3g} "
                          f"(> {parity.atol}); nothing written")  # fmt: skip
    store.save_onnx(out, proto, meta.derive("fp32", "onnxruntime", ckpt))
    return ExportResult(str(ckpt), str(out), out.stat().st_size, parity.num_examples,
                        parity.max_abs_diff, parity.argmax_agreement_frac, parity.atol)  # fmt: skip
