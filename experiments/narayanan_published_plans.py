"""Narayanan et al. SC'21 Table 1 as the authors ran it, against the cases as public.yaml states them.

The authors' reproduction script (NVIDIA/Megatron-LM examples/sc21/run_table_1.sh and CONFIG.sh,
commit 6985e58938, 2021-08-18; container nvcr.io/nvidia/pytorch:20.12-py3) sets per model the
micro-batch size, the interleaving (--num-layers-per-virtual-pipeline-stage, absent = plain 1F1B),
the data-parallel implementation (--DDP-impl torch for pp = 1: PyTorch DDP, gradient all-reduce
overlapped with the backward; local otherwise: after the pipeline flush) and --fp16. Sequence
parallelism did not exist before Korthikanti et al. 2022. The Megatron-LM code of April 2021
(commit aed2f75e20) had no asynchronous TP all-reduce and no gradient-accumulation fusion.

Run: .venv/bin/python experiments/narayanan_published_plans.py   (prints a markdown table)
"""

from __future__ import annotations

import copy
import statistics
from typing import Any

from scalelab.validate.metrics_train import compute
from scalelab.validate.runner import default_cases_path, load_cases, median_errors, run_case

# model size -> (micro-batch size, layers per virtual stage or None for plain 1F1B)
RUN_TABLE_1 = {
    "1.7b": (16, None),
    "3.6b": (16, None),
    "7.5b": (16, None),
    "18.4b": (8, None),
    "39.1b": (4, None),
    "76.1b": (2, 5),
    "145.6b": (2, 5),
    "310.1b": (1, 3),
    "529.6b": (1, 1),
    "1008.0b": (1, None),
}
CODE_2021 = ["no-async-tp-allreduce", "no-grad-accumulation-fusion"]


def published(case: dict[str, Any], code_2021: bool) -> dict[str, Any]:
    """The case with the plan of run_table_1.sh (and, if asked, the 2021 code's behaviour)."""
    out = copy.deepcopy(case)
    par, model = out["parallel"], out["model"]
    mbs, layers_per_chunk = RUN_TABLE_1[case["id"].rsplit("-", 1)[1]]
    par.update(microbatch_size=mbs, sequence_parallel=False, precision="fp16")
    opts = ["dp-comm-overlap"] if par["pp"] == 1 else []  # --DDP-impl torch
    if par["pp"] > 1:
        par["schedule"] = "interleaved-1f1b" if layers_per_chunk else "1f1b"
        par.pop("virtual_stages", None)
        if layers_per_chunk:
            par["virtual_stages"] = model["num_layers"] // (par["pp"] * layers_per_chunk)
    par["optimizations"] = opts + (CODE_2021 if code_2021 else [])
    return out


def error(case: dict[str, Any]) -> float:
    return compute(case)["step_time_s"] / case["expect"]["step_time_s"] - 1.0


def main() -> None:
    cases = [c for c in load_cases(default_cases_path("public.yaml")) if c["id"] in _IDS]
    print("| case | mbs | schedule (v) | as written | published plan | + 2021 code |")
    print("|---|---|---|---|---|---|")
    cols: list[list[float]] = [[], [], []]
    for c in cases:
        pub = published(c, False)
        errs = (error(c), error(pub), error(published(c, True)))
        for col, e in zip(cols, errs, strict=True):
            col.append(abs(e))
        par = pub["parallel"]
        sched = f"{par['schedule']} ({par.get('virtual_stages', 1)})" if par["pp"] > 1 else "-"
        cells = " | ".join(f"{100 * e:+.1f}%" for e in errs)
        print(f"| {c['id']} | {par['microbatch_size']} | {sched} | {cells} |")
    med = " | ".join(f"{100 * statistics.median(col):.1f}%" for col in cols)
    print(f"| median abs. error | | | {med} |")
    every = [c for c in load_cases(default_cases_path("public.yaml")) if c["kind"] == "train"]
    medians = []
    for variant in (None, False, True):
        runs = [
            run_case(c if variant is None or c["id"] not in _IDS else published(c, variant))
            for c in every
        ]
        medians.append(median_errors(runs)["train"] or 0.0)
    cells = " | ".join(f"{100 * m:.1f}%" for m in medians)
    print(f"| all public train metrics, median abs. error | | | {cells} |")


_IDS = {f"megatron21-t1-{size}" for size in RUN_TABLE_1}

if __name__ == "__main__":
    main()
