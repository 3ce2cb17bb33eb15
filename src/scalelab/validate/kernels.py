"""The kernel model against the H200 GEMM timings it was fitted on (cases/h200_kernels.json).

Each record is predicted the way the benchmark ran it: one eager call timed with CUDA events
(`single_call_overhead_s`) and repeated on the same operands without flushing L2
(`bench_l2_warm_bytes` of them need not come from HBM). Both are fitted nuisance terms of
perf/kernels/calibration.py; a model step never gets them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from scalelab.core import catalog
from scalelab.perf.kernels.calibration import H200_KERNEL_PARAMS
from scalelab.perf.kernels.timing import gemm_rate, gemm_time_at

DECODE_MAX_ROWS = 256  # "decode-shaped": at most this many token rows (issue: m = 1...256)
H200_ID = "h200-sxm-141gb"


@dataclass(frozen=True)
class KernelCheck:
    """One measured GEMM and its prediction (seconds)."""

    dtype: str
    m: int
    n: int
    k: int
    measured_s: float
    predicted_s: float
    run_spread_frac: float  # how far the benchmark's two runs differed

    @property
    def rel_error(self) -> float:
        return self.predicted_s / self.measured_s - 1.0

    @property
    def decode_shaped(self) -> bool:
        return self.m <= DECODE_MAX_ROWS

    @property
    def shape(self) -> str:
        return f"{self.m}x{self.n}x{self.k}"


def gemm_checks() -> list[KernelCheck]:
    """Every `gemm_*` record of h200_kernels.json, measured vs predicted."""
    path = resources.files("scalelab.validate") / "cases" / "h200_kernels.json"
    records = json.loads(path.read_text())["records"]
    acc = catalog.load_accelerator(H200_ID)
    p = H200_KERNEL_PARAMS
    checks = []
    for r in records:
        if not r["kind"].startswith("gemm_"):
            continue
        dtype, (m, n, k) = r["kind"][5:], (r["params"][x] for x in "mnk")
        kernel_s = gemm_time_at(
            m, n, k, gemm_rate(dtype, acc), acc, p, warm_l2_bytes=p.bench_l2_warm_bytes
        )
        checks.append(
            KernelCheck(
                dtype=dtype,
                m=m,
                n=n,
                k=k,
                measured_s=float(r["time_s"]),
                predicted_s=float(kernel_s) + p.single_call_overhead_s,
                run_spread_frac=float(r.get("run_spread_frac", 0.0)),
            )
        )
    return checks


def rms_log_error(checks: list[KernelCheck]) -> float:
    """Root-mean-square of log(predicted / measured)."""
    logs = np.log([c.predicted_s / c.measured_s for c in checks])
    return float(np.sqrt(np.mean(logs**2)))
