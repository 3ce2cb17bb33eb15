"""Report section: how well the model reproduces published and measured figures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scalelab.report.context import ReportContext
from scalelab.report.plots_perf import parity_plot
from scalelab.report.section import Figure, KeyNumber, Section, Table
from scalelab.report.validation import validation_tables
from scalelab.validate.kernels import DECODE_MAX_ROWS, KernelCheck, gemm_checks, rms_log_error
from scalelab.validate.runner import run_cases, to_json

DECODE_TOLERANCE_FRAC = 0.25  # acceptance bound for decode-shaped GEMMs (inference issue)


def build(ctx: ReportContext) -> Section:
    """Every shipped validation case, scored."""
    results = run_cases()
    report = to_json(results)
    s = report["summary"]
    summary = (
        f"{len(results)} validation cases: {s['pass']} pass, {s['fail']} fail, "
        f"{s['unsupported']} not modeled yet, {s['error']} errors. Reproduce with `scalelab validate`."
    )
    detail, by_kind = validation_tables(results, report["median_rel_error"])
    detail = replace(detail, terminal=False)
    checks = gemm_checks()
    decode = [c for c in checks if c.decode_shaped]
    worst = max(abs(c.rel_error) for c in decode)
    inside = sum(abs(c.rel_error) <= DECODE_TOLERANCE_FRAC for c in decode)
    summary += (
        f" Kernel model vs {len(checks)} H200 GEMM timings: rms log error {rms_log_error(checks):.3f};"
        f" {inside} of {len(decode)} decode-shaped GEMMs (m <= {DECODE_MAX_ROWS}) within"
        f" {DECODE_TOLERANCE_FRAC:.0%} (worst {worst:.0%})."
    )
    figure = parity_plot(
        [c.measured_s for c in checks],
        [c.predicted_s for c in checks],
        [c.decode_shaped for c in checks],
        DECODE_TOLERANCE_FRAC,
        ("GEMM records", f"decode-shaped (m <= {DECODE_MAX_ROWS})"),
        "Kernel model vs H200 GEMM timings",
    )
    report["kernels"] = [
        {"dtype": c.dtype, "m": c.m, "n": c.n, "k": c.k, "measured_s": c.measured_s,
         "predicted_s": c.predicted_s, "rel_error": c.rel_error} for c in checks
    ]  # fmt: skip
    return Section(
        "Validation against published runs and measurements",
        summary,
        tables=[by_kind, _decode_table(decode), detail],
        figures=[
            Figure(
                "Every GEMM of h200_kernels.json, predicted as the benchmark ran it (eager call"
                " overhead, 50 MiB of L2-warm operands; docs/perf-model.md). Reproduce with"
                " `pytest tests/perf/serve/test_inference_kernels.py -s`.",
                figure,
            )
        ],
        data=report,
        key_numbers=[_key_number(report, len(results))],
    )


def _key_number(report: dict[str, Any], num_cases: int) -> KeyNumber:
    s, medians = report["summary"], report["median_rel_error"]
    errors = ", ".join(f"{kind} {100 * m:.1f}%" for kind, m in medians.items() if m is not None)
    return KeyNumber(
        "Validation cases passing", f"{s['pass']} of {num_cases}", f"median error: {errors}"
    )


def _decode_table(decode: list[KernelCheck]) -> Table:
    rows = [
        [
            c.dtype,
            c.shape,
            f"{c.measured_s * 1e6:.1f}",
            f"{c.predicted_s * 1e6:.1f}",
            f"{c.rel_error:+.0%}",
            f"{c.run_spread_frac:.0%}",
        ]
        for c in decode
    ]
    return Table(
        "Decode-shaped GEMMs on H200: kernel model vs measurement",
        ["dtype", "m x n x k", "measured (us)", "predicted (us)", "error", "run spread"],
        rows,
        note="run spread: how far the benchmark's two runs differed",
    )
