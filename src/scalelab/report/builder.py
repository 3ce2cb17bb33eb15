"""Assemble `scalelab report MODEL`: every section, in order."""

from __future__ import annotations

from collections.abc import Callable

from scalelab.core.scenario import resolve_model
from scalelab.report.context import ReportContext
from scalelab.report.section import Section
from scalelab.report.sections import builders


def build_report(
    model_id: str, quick: bool = True, on_section: Callable[[str], None] | None = None
) -> list[Section]:
    """Build all sections for `model_id` (catalog id or model file)."""
    ctx = ReportContext(model_id=model_id, model=resolve_model(model_id), quick=quick)
    sections = []
    for build in builders():
        name = build.__module__.rsplit(".", 1)[-1]
        if on_section:
            on_section(name)
        section = build(ctx)
        ctx.results[name] = section.data
        sections.append(section)
    return sections
