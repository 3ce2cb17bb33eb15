"""Validation results as report tables (one row per metric)."""

from __future__ import annotations

from scalelab.report.fmt import si
from scalelab.report.section import Table
from scalelab.validate.runner import CaseResult


def validation_tables(results: list[CaseResult], medians: dict[str, float | None]) -> list[Table]:
    """Predicted vs expected for every metric, then a summary by kind."""
    rows = []
    for r in results:
        tol = f"{100 * r.tolerance_frac:.1f}%"
        if r.message:
            rows.append([r.id, "-", "-", "-", tol, f"ERROR {r.message}"])
        for m in r.metrics:
            err = "-" if m.rel_error is None else f"{100 * m.rel_error:.1f}%"
            pred = "-" if m.predicted is None else si(m.predicted)
            status = r.metric_status(m).upper()
            # the case id on its own line, so a terminal never cuts it (the id is what users grep)
            rows.append([f"{r.id}\n  {m.key}", pred, si(m.expected), err, tol, status])
    detail = Table(
        "Validation: predicted vs expected (case, then metric)",
        ["case / metric", "pred.", "exp.", "err.", "tol.", ""],
        rows,
    )
    summary_rows = []
    for kind in sorted({r.kind for r in results}):
        of_kind = [r for r in results if r.kind == kind]
        counts = {
            s: sum(1 for r in of_kind if r.status == s)
            for s in ("pass", "fail", "unsupported", "error")
        }
        med = medians.get(kind)
        summary_rows.append(
            [
                kind,
                str(len(of_kind)),
                str(counts["pass"]),
                str(counts["fail"]),
                str(counts["unsupported"]),
                str(counts["error"]),
                "-" if med is None else f"{100 * med:.1f}%",
            ]
        )
    summary = Table(
        "Validation summary (cases)",
        ["kind", "cases", "pass", "fail", "unsupported", "error", "median rel. error"],
        summary_rows,
        note="train median over step_time_s / mfu* / tflops metrics",
    )
    return [detail, summary]
