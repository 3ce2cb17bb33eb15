"""Benchmark the planner: vectorized plan evaluation vs a naive per-plan loop in the same run
(target >= 100,000 plans/s), and a full DeepSeek-V3 search on 2048 H800 (target < 1 s), with the
search's speed-up over the naive loop in the same run.

Run: .venv/bin/python benchmarks/bench_plan.py  ->  benchmarks/results/plan.json
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from scalelab.core.catalog import load_model
from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import TrainWorkload
from scalelab.perf.train.plan_check import check_codes
from scalelab.perf.train.predict import evaluate_train, predict_train
from scalelab.plan.search import search_train
from scalelab.plan.space import enumerate_plans

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_perf import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAIVE_SAMPLE = 300


def main() -> dict[str, object]:
    model, cluster = load_model("deepseek-v3"), resolve_cluster("h800x2048")
    wl = TrainWorkload(global_batch_size=15360, seq_len=4096, train_tokens=14.8e12, dtype="fp8")
    plans = enumerate_plans(model, cluster, wl)
    ok = plans.take(check_codes(model, wl, cluster.num_devices, plans) == 0)
    evaluate_train(model, cluster, wl, ok.take(np.arange(100)))  # warm-up
    vec = []
    for _ in range(3):
        t0 = time.perf_counter()
        evaluate_train(model, cluster, wl, ok)
        vec.append(time.perf_counter() - t0)
    sample = np.linspace(0, ok.size - 1, NAIVE_SAMPLE).astype(int)
    t0 = time.perf_counter()
    for i in sample:
        predict_train(Scenario(model, cluster, ok.plan(int(i)), wl))
    naive_s = time.perf_counter() - t0
    searches = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = search_train(model, cluster, wl, "time", top=10)
        searches.append(time.perf_counter() - t0)
    vec_rate = ok.size / statistics.median(vec)
    naive_rate = NAIVE_SAMPLE / naive_s
    results = {
        "machine": machine(),
        "vectorized": {
            "plans": ok.size,
            "median_s": statistics.median(vec),
            "plans_per_s": vec_rate,
            "target_plans_per_s": 100_000,
            "pass": vec_rate >= 100_000,
        },
        "naive_loop": {"plans": NAIVE_SAMPLE, "total_s": naive_s, "plans_per_s": naive_rate},
        "speedup_vectorized_over_naive": vec_rate / naive_rate,
        "search_deepseek_v3_h800x2048": {
            "median_s": statistics.median(searches),
            "candidates": result.num_candidates,
            "evaluated": result.num_evaluated,
            "target_s": 1.0,
            "pass": statistics.median(searches) < 1.0,
            # the naive loop would take candidates / naive_rate seconds for the same search
            "speedup_over_naive_loop": result.num_evaluated
            / naive_rate
            / statistics.median(searches),
            "best": result.plans[0].prediction.plan.model_dump() if result.plans else None,
        },
    }
    (ROOT / "benchmarks" / "results" / "plan.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
