"""Measured vs predicted step time of a ~1B-parameter lab transformer on one CUDA GPU (bf16),
with the GPU calibrated by `scalelab calibrate` first. Skips with a message without CUDA;
never writes numbers it did not measure.

Run: .venv/bin/python benchmarks/bench_calibrate_gpu.py -> benchmarks/results/calibrate_gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from scalelab.core.io import write_atomic
from scalelab.lab.calibrate.profile import write_profile
from scalelab.lab.calibrate.run import calibrate
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.config import dist_run_from_mapping
from scalelab.lab.parallel.predict import compare_step_time
from scalelab.lab.parallel.train_dist import spawn_training

ROOT = Path(__file__).resolve().parents[1]
TARGET_ERROR_FRAC = 0.25
# d 2048, 20 layers, SwiGLU 5461: 1.0e9 parameters (byte vocabulary, tied embeddings).
MODEL = {"seq_len": 2048, "d_model": 2048, "n_layers": 20, "n_heads": 16}


def bench_run(out_dir: Path, steps: int, batch_size: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "train": {"steps": steps, "batch_size": batch_size, "device": "cuda", "precision": "bf16",
                  "log_every": steps, "eval_every": 0, "deterministic": False},
        "output": {"dir": str(out_dir), "tensorboard": False},
        "parallel": {"dp": 1},
    }  # fmt: skip


def machine() -> dict[str, Any]:
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": props.name,
        "gpu_memory_bytes": props.total_memory,
        "cuda": torch.version.cuda,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/calibrate_gpu.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_calibrate_gpu: skipped, no CUDA device on this machine (nothing written)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "gpu.toml"
        profile_data = write_profile(profile, calibrate("cuda", nproc=1))
        raw = bench_run(Path(tmp) / "run", args.steps, args.batch_size)
        summary = spawn_training(raw, 1)
        run = dist_run_from_mapping(raw, "bench")
        cmp = compare_step_time(run, summary["median_step_time_s"], 1, profile, "cuda")
    num_params = Transformer(TransformerConfig(**MODEL)).num_params()
    result = {
        "machine": machine(),
        "num_params": num_params,
        "run": raw,
        "profile": {k: v for k, v in profile_data.items() if k != "measured"},
        "calibration": profile_data["measured"],
        "measured_step_times_s": summary["step_times_s"],
        **cmp.to_dict(),
        "target_error_frac": TARGET_ERROR_FRAC,
        "within_target": cmp.error_frac <= TARGET_ERROR_FRAC,
        "command": "python benchmarks/bench_calibrate_gpu.py",
        "cpu_count": os.cpu_count(),
    }
    write_atomic(args.out, json.dumps(result, indent=1))
    print(
        f"{machine()['gpu']}: {num_params / 1e9:.2f}B params, measured "
        f"{cmp.measured_step_time_s:.3f} s/step, predicted {cmp.predicted_step_time_s:.3f} "
        f"s/step, error {cmp.error_frac:.0%} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
