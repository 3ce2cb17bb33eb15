"""Measured vs predicted step time on this CPU: calibrate 2 local processes, train the lab
transformer with DDP on 2 gloo processes, and compare with the analytic model's prediction for
the same model, plan and calibrated profile. Target: within 25%.

Run: .venv/bin/python benchmarks/bench_calibrate.py -> benchmarks/results/calibrate_cpu.json
The machine may be shared: the load average before and after is recorded with the result.
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
from scalelab.lab.parallel.config import dist_run_from_mapping
from scalelab.lab.parallel.predict import compare_step_time
from scalelab.lab.parallel.train_dist import spawn_training

ROOT = Path(__file__).resolve().parents[1]
TARGET_ERROR_FRAC = 0.25
NPROC = 2
# Both precisions the lab runs on CPU; each is predicted with the profile's rates in that dtype.
PRECISIONS = ("bf16", "fp32")


def bench_run(out_dir: Path, steps: int, precision: str) -> dict[str, Any]:
    """The lab transformer (3.3M parameters) under DDP over 2 processes, fp32 on CPU."""
    return {
        "model": {"seq_len": 128, "d_model": 256, "n_layers": 4, "n_heads": 4},
        "train": {"steps": steps, "batch_size": 16, "device": "cpu", "precision": precision,
                  "log_every": steps, "eval_every": 0},
        "output": {"dir": str(out_dir), "tensorboard": False},
        "parallel": {"dp": NPROC, "zero_stage": 0},
    }  # fmt: skip


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def measure_and_predict(tmp: Path, profile: Path, steps: int, precision: str) -> dict[str, Any]:
    raw = bench_run(tmp / f"run-{precision}", steps, precision)
    summary = spawn_training(raw, NPROC)
    run = dist_run_from_mapping(raw, "bench")
    cmp = compare_step_time(run, summary["median_step_time_s"], NPROC, profile, "cpu")
    return {
        "run": raw,
        "measured_step_times_s": summary["step_times_s"],
        **cmp.to_dict(),
        "within_target": cmp.error_frac <= TARGET_ERROR_FRAC,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="quick calibration (noisier)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/calibrate_cpu.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile.toml"
        profile_data = write_profile(profile, calibrate("cpu", nproc=NPROC, quick=args.quick))
        runs = {p: measure_and_predict(Path(tmp), profile, args.steps, p) for p in PRECISIONS}
    result = {
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "profile": {k: v for k, v in profile_data.items() if k != "measured"},
        "calibration": profile_data["measured"],
        "target_error_frac": TARGET_ERROR_FRAC,
        "primary": PRECISIONS[0],
        "within_target": runs[PRECISIONS[0]]["within_target"],
        "runs": runs,
        "command": "python benchmarks/bench_calibrate.py",
    }
    write_atomic(args.out, json.dumps(result, indent=1))
    for precision, r in runs.items():
        print(
            f"{precision}: measured {r['measured_step_time_s']:.3f} s/step, predicted "
            f"{r['predicted_step_time_s']:.3f} s/step, error {r['error_frac']:.0%} "
            f"(target {TARGET_ERROR_FRAC:.0%}): {'PASS' if r['within_target'] else 'FAIL'}"
        )
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
