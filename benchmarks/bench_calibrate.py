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


def bench_run(out_dir: Path, steps: int) -> dict[str, Any]:
    """The lab transformer (3.3M parameters) under DDP over 2 processes, fp32 on CPU."""
    return {
        "model": {"seq_len": 128, "d_model": 256, "n_layers": 4, "n_heads": 4},
        "train": {"steps": steps, "batch_size": 16, "device": "cpu", "precision": "fp32",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="quick calibration (noisier)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/calibrate_cpu.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile.toml"
        cal = calibrate("cpu", nproc=NPROC, quick=args.quick)
        profile_data = write_profile(profile, cal)
        raw = bench_run(Path(tmp) / "run", args.steps)
        summary = spawn_training(raw, NPROC)
        run = dist_run_from_mapping(raw, "bench")
        cmp = compare_step_time(run, summary["median_step_time_s"], NPROC, profile, "cpu")
    result = {
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "run": raw,
        "profile": {k: v for k, v in profile_data.items() if k != "measured"},
        "calibration": profile_data["measured"],
        "measured_step_times_s": summary["step_times_s"],
        **cmp.to_dict(),
        "target_error_frac": TARGET_ERROR_FRAC,
        "within_target": cmp.error_frac <= TARGET_ERROR_FRAC,
        "command": "python benchmarks/bench_calibrate.py",
    }
    write_atomic(args.out, json.dumps(result, indent=1))
    print(
        f"measured {cmp.measured_step_time_s:.3f} s/step, predicted "
        f"{cmp.predicted_step_time_s:.3f} s/step, error {cmp.error_frac:.0%} "
        f"(target {TARGET_ERROR_FRAC:.0%}): {'PASS' if result['within_target'] else 'FAIL'} -> {args.out}"
    )


if __name__ == "__main__":
    main()
