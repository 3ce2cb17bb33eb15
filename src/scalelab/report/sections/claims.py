"""Report section: the seed article's twelve claims, each with scalelab's evidence and a verdict
(the ledger of report/claims_ledger.py, the same table `scalelab claims` prints)."""

from __future__ import annotations

from scalelab.report.claims_evidence import Source
from scalelab.report.claims_ledger import SEED, build_ledger, ledger_table, verdict_counts
from scalelab.report.context import ReportContext
from scalelab.report.section import KeyNumber, Section


def build(ctx: ReportContext) -> Section:
    """The ledger, reusing the numbers the sections above computed."""
    rows = build_ledger(Source(ctx.results, ctx.model_id))
    counts = verdict_counts(rows)
    tally = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    untested = [f"({r.claim.id})" for r in rows if r.verdict.label == "untested"]
    summary = (
        f"The article that started scalelab ({SEED}) makes twelve quantitative claims about "
        f"DeepSeek-V3 and AI hardware. Each is set against a measurement on real hardware, a "
        f"validated model prediction or a datasheet, and judged by one rule (below the table): "
        f"{tally}."
    )
    if untested:
        summary += (
            f" Untested: {', '.join(untested)}, until the capability named in the row exists."
        )
    return Section(
        "Seed-article claims: evidence and verdicts",
        summary=summary,
        tables=[ledger_table(rows)],
        data={"claims": [r.to_dict() for r in rows], "verdict_counts": counts},
        key_numbers=[
            KeyNumber("Seed claims that hold", f"{counts['holds']} of {len(rows)}", tally)
        ],
    )
