"""Assemble `scalelab report MODEL`: every section, in order, handed over as soon as it is built."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from scalelab.core.scenario import resolve_model
from scalelab.report.context import ReportContext
from scalelab.report.section import Section
from scalelab.report.sections import builders


def new_context(model_id: str, quick: bool = True) -> ReportContext:
    return ReportContext(model_id=model_id, model=resolve_model(model_id), quick=quick)


def section_ids() -> list[str]:
    return [build.__module__.rsplit(".", 1)[-1] for build in builders()]


def iter_report(
    ctx: ReportContext, on_start: Callable[[int, int, str], None] | None = None
) -> Iterator[tuple[Section, float]]:
    """Build the sections in order, yielding (section, seconds it took) as each finishes; later
    sections read earlier ones' `data` from ctx.results and their plans from ctx.plans."""
    todo = builders()
    for i, build in enumerate(todo, start=1):
        name = build.__module__.rsplit(".", 1)[-1]
        if on_start:
            on_start(i, len(todo), name)
        t0 = time.perf_counter()
        section = build(ctx)
        section.id = section.id or name
        ctx.results[name] = section.data
        yield section, time.perf_counter() - t0


def build_report(
    model_id: str, quick: bool = True, on_section: Callable[[str], None] | None = None
) -> list[Section]:
    """All sections for `model_id` (catalog id or model file) at once."""
    ctx = new_context(model_id, quick)
    start = (lambda _i, _n, name: on_section(name)) if on_section else None
    return [section for section, _ in iter_report(ctx, start)]
