"""Claims view: the claims ledger (report/claims_ledger.py) — the seed article's twelve claims,
each with scalelab's evidence, the parts the verdict rule compares, the verdict and the command
that reproduces it — built by the same call as `scalelab claims`. It measures gradient flow with
PyTorch when the lab extra is installed, so it takes seconds: the page shows its progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalelab.report.claims_evidence import SUBJECT
from scalelab.report.claims_ledger import CLAIMS, SEED, build_ledger, verdict_counts
from scalelab.report.claims_rule import RULE_TEXT
from scalelab.web.inputs import Params
from scalelab.web.jobs import Progress
from scalelab.web.views.common import Csv

COMMAND = "web claims"
DEFAULTS: dict[str, str] = {}  # the ledger is about the seed article: nothing to choose
# A ledger record's scalar fields, in the order the page and the CSV show them.
COLUMNS = ["id", "claim", "measured", "basis", "verdict", "verdict_text", "command"]


@dataclass(frozen=True)
class ClaimsRequest:
    cli: str = "scalelab claims"


def parse(p: Params) -> ClaimsRequest:
    return ClaimsRequest()


def compute(req: ClaimsRequest, progress: Progress) -> dict[str, Any]:
    """`scalelab claims --json`'s results, plus the columns the page shows."""
    progress.step(
        f"checking the seed article's {len(CLAIMS)} claims (gradient flow is measured with "
        "PyTorch: seconds)"
    )
    rows = build_ledger()
    progress.step("done", 1, 1)
    return {
        "subject": SUBJECT,
        "seed": SEED,
        "rule": RULE_TEXT,
        "verdict_counts": verdict_counts(rows),
        "columns": COLUMNS,
        "claims": [r.to_dict() for r in rows],
        "cli": req.cli,
    }


def tables(results: dict[str, Any]) -> dict[str, Csv]:
    """The CSV export: one row per claim (each claim's evidence parts are in the JSON export)."""
    cols = list(results["columns"])
    return {"claims": (cols, [[c.get(k) for k in cols] for c in results["claims"]])}
