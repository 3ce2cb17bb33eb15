"""The compression chain at full settings: teacher fp32 -> distilled student -> int8/int4, each
variant timed in the same run (ratios against the teacher fp32 in PyTorch), plus the seed claim
"-90% size, 3x speed". With CUDA, the same checkpoints are also timed on the GPU (fp32, bf16,
torchao int8, int4 weight-only, fp8 where the device has it) into compress_cuda.json.

Run: .venv/bin/python benchmarks/bench_compress.py [--quick] [--keep DIR]
  -> benchmarks/results/compress_cpu.json (and compress_cuda.json when CUDA is present)
About 10-20 minutes on 2 shared CPU cores (training is most of it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from scalelab.compress.chain import FULL, QUICK, run_chain
from scalelab.compress.claim import claim_evidence
from scalelab.core.io import write_atomic

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    import onnx
    import onnxruntime

    from scalelab.compress.quantize_ort import cpu_has_vnni

    return {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
            "python": sys.version.split()[0], "torch": torch.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "vnni": cpu_has_vnni(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip


def cuda_variants(model: torch.nn.Module) -> dict[str, Any]:
    """fp32, bf16 and torchao forms of `model` on CUDA; a failing form records its error."""
    import copy

    from torchao.quantization import (
        Float8DynamicActivationFloat8WeightConfig,
        Int4WeightOnlyConfig,
        Int8DynamicActivationInt8WeightConfig,  # fmt: skip
        quantize_,
    )

    forms: dict[str, Any] = {
        "fp32": model.cuda().eval(),
        "bf16": copy.deepcopy(model).cuda().bfloat16().eval(),
    }
    configs = {"int8 (torchao W8A8)": Int8DynamicActivationInt8WeightConfig(),
               "int4 weight-only (torchao)": Int4WeightOnlyConfig(group_size=32, int4_packing_format="tile_packed_to_4d")}  # fmt: skip
    if torch.cuda.get_device_capability() >= (8, 9):
        configs["fp8 (torchao)"] = Float8DynamicActivationFloat8WeightConfig()
    for name, cfg in configs.items():
        try:
            m = copy.deepcopy(forms["bf16"])
            quantize_(m, cfg)
            forms[name] = m
        except Exception as exc:  # a form this device or torchao build lacks: recorded, not fatal
            forms[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return forms


@torch.no_grad()
def time_cuda(model: torch.nn.Module, ids: torch.Tensor, repeats: int = 50) -> dict[str, float]:
    ids = ids.cuda()
    for _ in range(5):
        model(ids)
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        model(ids)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    times.sort()
    return {"p50_s": times[len(times) // 2], "p95_s": times[int(0.95 * (len(times) - 1))]}


def run_cuda(workdir: Path) -> dict[str, Any]:
    from scalelab.compress.store import load_classifier
    from scalelab.compress.workflow import task_for

    out: dict[str, Any] = {"device": torch.cuda.get_device_name(), "capability": list(torch.cuda.get_device_capability()),
                           "cuda": torch.version.cuda, "rows": []}  # fmt: skip
    for role in ("teacher", "student"):
        model, meta = load_classifier(workdir / role)
        task = task_for(meta)
        for name, form in cuda_variants(model).items():
            row: dict[str, Any] = {"role": role, "form": name}
            if isinstance(form, str):
                row["error"] = form
            else:
                for b in (1, 32):
                    row[f"b{b}"] = time_cuda(form, task.test.ids[:b])
                with torch.no_grad():
                    logits = torch.cat(
                        [
                            form(task.test.ids[i : i + 64].cuda()).float().cpu()
                            for i in range(0, len(task.test), 64)
                        ]
                    )
                row["accuracy_frac"] = float((logits.argmax(-1) == task.test.labels).float().mean())
            out["rows"].append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the report's small settings")
    parser.add_argument("--keep", type=Path, help="keep checkpoints and variants in this folder")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        workdir = args.keep or Path(tmp)
        start = time.perf_counter()
        chain = run_chain(
            settings,
            workdir,
            on_stage=lambda s: print(f"[{time.perf_counter() - start:6.0f} s] {s}", flush=True),
        )
        result = {**chain.to_dict(), "machine": machine(), "wall_s": time.perf_counter() - start}
        evidence = claim_evidence(result["bench"], "benchmarks/bench_compress.py")
        result["claim_j"] = evidence.to_dict() if evidence else None
        name = "compress_cpu_quick.json" if args.quick else "compress_cpu.json"
        write_atomic(ROOT / "benchmarks" / "results" / name, json.dumps(result, indent=1))
        print(json.dumps(result["claim_j"], indent=1))
        if torch.cuda.is_available():
            cuda = {**run_cuda(workdir), "machine": machine()}
            write_atomic(
                ROOT / "benchmarks" / "results" / "compress_cuda.json", json.dumps(cuda, indent=1)
            )
            print(json.dumps(cuda, indent=1))
        else:
            print("no CUDA device: compress_cuda.json not written")


if __name__ == "__main__":
    main()
