"""Claims view: the seed article's claims with scalelab's evidence and verdicts, as the report's
claims section builds them (report/sections/claims.py) from the sections it summarizes. Those run
first, one at a time, each a progress step; the lab measurements (torch, ~13 s on 2 cores) only
when asked for, otherwise their claim reads "not measured". The section's `data["claims"]` is
read in either shape: records of the claims ledger (one dict per claim: evidence parts, verdict,
reproducing command) or the rows of the earlier claims table."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from scalelab.core.specs import ModelSpec
from scalelab.report.context import ReportContext
from scalelab.report.section import Section
from scalelab.web.inputs import FieldError, Params, read_model
from scalelab.web.jobs import Progress
from scalelab.web.views.common import Csv, model_json

COMMAND = "web claims"
SOURCE = "report/sections/claims.py (the report's claims section)"
LEDGER_SOURCE = "report/claims_ledger.py (the claims ledger, as `scalelab claims` prints it)"
# The ledger record's scalar fields, in the order the page and the CSV show them.
LEDGER_COLUMNS = ["id", "claim", "measured", "basis", "verdict", "verdict_text", "command"]
# The report sections whose `data` the claims section reads (ReportContext.results).
EVIDENCE = ("training", "hardware_basics")
LAB_EVIDENCE = ("training_dynamics",)
DEFAULTS = {"model": "deepseek-v3", "lab": "0"}


@dataclass(frozen=True)
class ClaimsRequest:
    model: ModelSpec
    model_id: str
    lab: bool
    cli: str


def parse(p: Params) -> ClaimsRequest:
    """A catalog model (the claims are about DeepSeek-V3) and whether to run the lab part."""
    model, model_id = read_model(p)
    if model_id is None:
        raise FieldError("model", "claims: choose a catalog model (the report needs its id)")
    lab = p.flag("lab")
    return ClaimsRequest(model, model_id, lab, f"scalelab report {model_id}")


def _build(name: str, ctx: ReportContext) -> Section:
    section: Section = importlib.import_module(f"scalelab.report.sections.{name}").build(ctx)
    ctx.results[name] = section.data
    return section


def compute(req: ClaimsRequest, progress: Progress) -> dict[str, Any]:
    """Build the evidence sections, then the claims section; its table is the answer."""
    names = EVIDENCE + (LAB_EVIDENCE if req.lab else ())
    ctx = ReportContext(model_id=req.model_id, model=req.model, quick=True)
    for i, name in enumerate(names):
        progress.step(f"evidence: report section '{name}'", i, len(names) + 1)
        _build(name, ctx)
    progress.step("claims", len(names), len(names) + 1)
    section = _build("claims", ctx)
    progress.step("done", len(names) + 1, len(names) + 1)
    records = section.data.get("claims") or []
    ledger = bool(records) and isinstance(records[0], dict)
    if ledger:
        claims, columns = list(records), LEDGER_COLUMNS
    else:
        table = section.tables[0]
        columns = list(table.columns)
        claims = [dict(zip(columns, row, strict=True)) for row in table.rows]
    return {
        "model": model_json(req.model, req.model_id),
        "title": section.title,
        "summary": section.summary,
        "columns": columns,
        "claims": claims,
        "verdict_counts": section.data.get("verdict_counts"),
        "lab_measured": req.lab,
        "source": LEDGER_SOURCE if ledger else SOURCE,
        "ledger": ledger,
        "cli": "scalelab claims" if ledger else req.cli,
    }


def tables(results: dict[str, Any]) -> dict[str, Csv]:
    """The CSV export: one row per claim (the ledger's evidence parts are in the JSON export)."""
    cols = list(results["columns"])
    return {"claims": (cols, [[c.get(k) for k in cols] for c in results["claims"]])}
