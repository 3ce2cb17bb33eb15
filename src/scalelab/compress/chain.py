"""The whole chain in one call: teacher fp32 -> distilled student fp32 -> student int8/int4, every
variant benchmarked in the same run. The report (quick settings) and benchmarks/bench_compress.py
(full settings) run it; the seed claim "-90% size, 3x speed" is read off its result (claim.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scalelab.compress.bench import BenchResult, bench_paths
from scalelab.compress.train import DistillSettings, TrainSettings
from scalelab.compress.workflow import DistillResult, distill, export, quantize, train_teacher


class ChainSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = "bbc"
    vocab_size: int = Field(5000, gt=3)
    max_len: int = Field(128, gt=1)
    teacher_layers: int = 4
    teacher_dim: int = 128
    teacher_heads: int = 4
    student_layers: int = 2
    student_dim: int = 64
    student_heads: int = 2
    epochs: int = 6
    batch_size: int = 16
    lr: float = 3e-3
    seeds: int = 3
    threads: int = 1
    repeats: int = 30
    onnx: bool = True  # ONNX Runtime variants (export + int8 dynamic/static + int4)
    teacher_variants: bool = True  # the teacher's own int8 and ONNX forms, to split the two effects


QUICK = ChainSettings(vocab_size=3000, max_len=64, teacher_layers=2, teacher_dim=64, teacher_heads=4,
                      student_layers=1, student_dim=32, student_heads=2, epochs=4, seeds=1, repeats=10,
                      teacher_variants=False)  # fmt: skip
FULL = ChainSettings()


@dataclass(frozen=True)
class ChainResult:
    settings: ChainSettings
    teacher_accuracy_frac: float
    teacher_train_s: float
    distill: DistillResult
    bench: BenchResult
    date: str

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings.model_dump(), "teacher_accuracy_frac": self.teacher_accuracy_frac,
                "teacher_train_s": self.teacher_train_s, "distill": self.distill.to_dict(),
                "bench": self.bench.to_dict(), "date": self.date}  # fmt: skip


def run_chain(
    s: ChainSettings, workdir: Path, on_stage: Callable[[str], None] | None = None
) -> ChainResult:
    """Train, distill, quantize and export under `workdir`, then benchmark every variant."""
    say = on_stage or (lambda _: None)
    train = TrainSettings(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr)
    say("training the teacher")
    shape = {
        "n_layers": s.teacher_layers,
        "d_model": s.teacher_dim,
        "n_heads": s.teacher_heads,
        "max_len": s.max_len,
    }
    teacher, _, tr = train_teacher(s.dataset, shape, train, workdir / "teacher", s.vocab_size)
    say("distilling the student")
    student = workdir / "student"
    dr = distill(teacher, s.student_layers, s.student_dim, student, s.student_heads, s.seeds, train,
                 DistillSettings(), on_run=say)  # fmt: skip
    paths = [teacher]
    if s.teacher_variants:
        paths += _variants(teacher, workdir / "teacher", s, say, ort_methods=())
    paths += [student] + _variants(student, workdir / "student", s, say,
                                   ort_methods=("int8-dynamic", "int8-static", "int4-weight"))  # fmt: skip
    say("benchmarking")
    bench = bench_paths(paths, s.threads, s.repeats, on_stage=say)
    return ChainResult(s, tr.test_accuracy_frac, tr.train_s, dr, bench, dt.date.today().isoformat())


def _variants(ckpt: Path, stem: Path, s: ChainSettings, say: Callable[[str], None],
              ort_methods: tuple[str, ...]) -> list[Path]:  # fmt: skip
    say(f"quantizing {ckpt.name}")
    out = [
        Path(
            quantize(
                ckpt, "int8-dynamic", "torch", stem.with_name(f"{stem.name}-int8-torch.safetensors")
            ).out
        )
    ]
    if not s.onnx:
        return out
    onnx = stem.with_name(f"{stem.name}-fp32.onnx")
    export(ckpt, onnx)
    out.append(onnx)
    for method in ort_methods:
        q = quantize(
            ckpt,
            method,
            "onnxruntime",
            stem.with_name(f"{stem.name}-{method}.onnx"),
            onnx_fp32=onnx,
        )
        out.append(Path(q.out))
    return out
