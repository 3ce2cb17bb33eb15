"""Benchmark the training model: one prediction (< 20 ms) and the full validation run (< 5 s).

Run: .venv/bin/python benchmarks/bench_perf.py  ->  benchmarks/results/perf.json
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from scalelab.core.scenario import load_scenario_file
from scalelab.perf.train.predict import predict_train
from scalelab.validate.runner import run_cases

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> dict[str, object]:
    results: dict[str, object] = {"machine": machine()}
    for name in ("deepseek-v3-train", "llama3-405b-train"):
        path = ROOT / "examples" / f"{name}.toml"
        scenario = load_scenario_file(path, "train")
        predict_train(scenario)  # warm caches and imports
        predict = _timed(lambda s=scenario: predict_train(s), 50)
        with_load = _timed(lambda p=path: predict_train(load_scenario_file(p, "train")), 20)
        results[f"predict_{name}"] = {
            "median_s": statistics.median(predict),
            "max_s": max(predict),
            "median_with_scenario_load_s": statistics.median(with_load),
            "target_s": 0.020,
            "pass": statistics.median(with_load) < 0.020,
        }
    run_cases(kind="train")
    train = _timed(lambda: run_cases(kind="train"), 5)
    full = _timed(lambda: run_cases(), 3)
    results["validate_train_cases"] = {"median_s": statistics.median(train)}
    results["validate_all_cases"] = {
        "median_s": statistics.median(full),
        "target_s": 5.0,
        "pass": statistics.median(full) < 5.0,
    }
    out = ROOT / "benchmarks" / "results" / "perf.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
