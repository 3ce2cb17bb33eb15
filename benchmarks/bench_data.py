"""Speeds of scalelab.data, measured in one run: synonym replacement (target >= 1,000 sentences/s
on one core), Apertium back-translation of 500 sentences both ways (target: a few seconds), the
near-duplicate audit of the 38k tweets (target < 30 s on 2 cores; local and on a 2-worker Dask
cluster), and the experiments the report runs (target < 1 min).

CPU seconds (this process, plus Apertium's child processes) are recorded beside wall seconds: the
machine is shared, and CPU time is what another job cannot inflate much.
Run: .venv/bin/python benchmarks/bench_data.py -> benchmarks/results/data.json
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from scalelab.core.io import write_atomic
from scalelab.data.audit import audit
from scalelab.data.datasets import load_dataset
from scalelab.data.eda import WordNetSynonyms, replace_synonyms
from scalelab.data.experiment import ExperimentConfig, run_experiment
from scalelab.data.mapreduce import dask_executor
from scalelab.data.translate import apertium_back_translator

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "versions": {p: version(p) for p in ("nltk", "datasketch", "dask", "scikit-learn")},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn):
    c0, k0, t0 = time.process_time(), _children_cpu_s(), time.perf_counter()
    value = fn()
    cpu = time.process_time() - c0 + _children_cpu_s() - k0
    return value, cpu, time.perf_counter() - t0


def bench_synonyms() -> dict[str, float]:
    texts = load_dataset("rt").texts[:3000]
    synonyms, load_cpu, load_wall = timed(WordNetSynonyms)
    rng = random.Random(0)
    run = lambda: [replace_synonyms(t, rng, synonyms, 2) for t in texts]  # noqa: E731
    _, cold_cpu, cold_wall = timed(run)  # every word looked up in WordNet for the first time
    _, warm_cpu, warm_wall = timed(run)  # cached lookups
    return {"sentences": len(texts), "wordnet_load_s": load_wall,
            "cold_sentences_per_cpu_s": len(texts) / cold_cpu, "cold_sentences_per_s": len(texts) / cold_wall,
            "warm_sentences_per_cpu_s": len(texts) / warm_cpu, "warm_sentences_per_s": len(texts) / warm_wall}  # fmt: skip


def bench_apertium() -> dict[str, float]:
    texts = list(load_dataset("rt").texts[:500])
    out, cpu, wall = timed(lambda: apertium_back_translator().translate(texts))
    changed = sum(a != b for a, b in zip(out, texts, strict=True)) / len(texts)
    return {"sentences": len(texts), "wall_s": wall, "cpu_s": cpu, "sentences_per_s": len(texts) / wall,
            "changed_frac": changed}  # fmt: skip


def bench_audit() -> dict[str, object]:
    data = load_dataset("tweets")
    local, cpu, wall = timed(lambda: audit(data.rows, "tweets"))
    t0 = time.perf_counter()
    with dask_executor(n_workers=2) as executor:
        start_s = time.perf_counter() - t0
        remote, _, dask_wall = timed(lambda: audit(data.rows, "tweets", executor))
    same = all(
        getattr(local, k) == getattr(remote, k) for k in ("duplicates", "leakage", "coverage")
    )
    return {"rows": local.num_rows, "local_wall_s": wall, "local_cpu_s": cpu,
            "dask_2_workers_wall_s": dask_wall, "dask_cluster_start_s": start_s,
            "dask_over_local_ratio": dask_wall / wall, "identical_results": same,
            "duplicates": local.duplicates, "retweets": local.retweets, "leakage": local.leakage}  # fmt: skip


def bench_report_experiments() -> dict[str, float]:
    """The configuration report/sections/data.py runs in quick mode."""
    data = load_dataset("tweets")
    aug_cfg = ExperimentConfig("augmentation", (10, 50), seeds=5, test_size=500, per_example=1)
    st_cfg = ExperimentConfig("self-training", (10, 50), seeds=5, test_size=500)
    aug, aug_cpu, aug_wall = timed(lambda: run_experiment(data, aug_cfg))
    st, st_cpu, st_wall = timed(lambda: run_experiment(data, st_cfg))
    verdicts = {t: {"gain_f1": g, "p": p, "verdict": v}
                for r in (aug, st) for t, (g, p, v) in r.overall.items()}  # fmt: skip
    return {"augmentation_wall_s": aug_wall, "augmentation_cpu_s": aug_cpu,
            "self_training_wall_s": st_wall, "self_training_cpu_s": st_cpu, "verdicts": verdicts}  # fmt: skip


def main() -> None:
    results = {
        "machine": machine(),
        "synonym_replacement": bench_synonyms(),
        "apertium_back_translation": bench_apertium(),
        "near_duplicate_audit_tweets": bench_audit(),
        "report_experiments": bench_report_experiments(),
    }
    results["machine"]["load_average_1min_end"] = os.getloadavg()[0]
    path = ROOT / "benchmarks" / "results" / "data.json"
    write_atomic(path, json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
