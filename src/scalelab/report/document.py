"""What surrounds the sections: the headline box (five key numbers), the claims verdict line, and
the machine-readable document behind results.json (every table cell shown, plus each section's
raw numbers)."""

from __future__ import annotations

from typing import Any

from scalelab.report.context import ReportContext
from scalelab.report.plans import plans_table
from scalelab.report.section import KeyNumber, Section, Table

# The sections whose first key number makes the headline, in this order (five boxes).
HEADLINE_SECTIONS = ("architecture", "training", "planning", "serving", "validation")
HEADLINE_SIZE = 5


def headline(sections: list[Section]) -> list[tuple[KeyNumber, str]]:
    """(key number, section id): the listed sections first, then any others, five at most."""
    by_id = {s.id: s for s in sections}
    chosen = [
        (by_id[i].key_numbers[0], i)
        for i in HEADLINE_SECTIONS
        if by_id.get(i) and by_id[i].key_numbers
    ]
    for s in sections:
        if len(chosen) >= HEADLINE_SIZE:
            break
        if s.id not in HEADLINE_SECTIONS and s.key_numbers:
            chosen.append((s.key_numbers[0], s.id))
    return chosen[:HEADLINE_SIZE]


def lead_sentence(sections: list[Section]) -> str:
    """One line under the headline: the seed claims' verdict counts, when the claims section ran."""
    claims = next((s for s in sections if s.id == "claims"), None)
    counts = (claims.data.get("verdict_counts") if claims else None) or {}
    if not counts:
        return ""
    parts = [f"{n} {verdict}" for verdict, n in counts.items() if n]
    return f"Seed-article claims: {', '.join(parts)} (section {sections.index(claims) + 1})."  # type: ignore[arg-type]


def overview_tables(ctx: ReportContext, sections: list[Section]) -> list[Table]:
    titles = {s.id: f"{i}. {s.title.split(':')[0]}" for i, s in enumerate(sections, start=1)}
    return [plans_table(ctx.plans, titles)] if ctx.plans else []


def _table_json(t: Table) -> dict[str, Any]:
    return {"title": t.title, "columns": t.columns, "rows": t.rows, "note": t.note}


def results_document(
    ctx: ReportContext,
    sections: list[Section],
    provenance: dict[str, str],
    elapsed_s: dict[str, float],
) -> dict[str, Any]:
    """Everything the HTML shows, as data: provenance, headline, plans, and per section its
    summary, key numbers, tables (cells as shown) and raw numbers (`data`, SI units)."""
    return {
        "model": ctx.model_id,
        "provenance": provenance,
        "headline": [
            {"label": k.label, "value": k.value, "detail": k.detail, "section": sid}
            for k, sid in headline(sections)
        ],
        "plans": {key: vars(p) for key, p in ctx.plans.items()},
        "sections": [
            {
                "id": s.id,
                "number": i,
                "title": s.title,
                "summary": s.summary,
                "key_numbers": [vars(k) for k in s.key_numbers],
                "tables": [_table_json(t) for t in s.tables],
                "figures": [f.caption for f in s.figures],
                "data": s.data,
                "elapsed_s": elapsed_s.get(s.id),
            }
            for i, s in enumerate(sections, start=1)
        ],
    }
