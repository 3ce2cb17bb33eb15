"""Report section: how well the model reproduces published and measured figures."""

from __future__ import annotations

from dataclasses import replace

from scalelab.report.context import ReportContext
from scalelab.report.section import Section
from scalelab.report.validation import validation_tables
from scalelab.validate.runner import run_cases, to_json


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
    return Section(
        "Validation against published runs and measurements",
        summary,
        tables=[by_kind, detail],
        data=report,
    )
