"""Report sections, in the order they appear. Each is `build(ctx: ReportContext) -> Section`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from scalelab.report.context import ReportContext
from scalelab.report.section import Section

SECTION_MODULES = [
    "scalelab.report.sections.architecture",
    "scalelab.report.sections.training",
    "scalelab.report.sections.planning",
    "scalelab.report.sections.serving",
    "scalelab.report.sections.hardware_basics",
    "scalelab.report.sections.hardware_whatif",
    "scalelab.report.sections.data",
    "scalelab.report.sections.training_dynamics",
    "scalelab.report.sections.compress",
    # summaries of the sections above stay last
    "scalelab.report.sections.claims",
    "scalelab.report.sections.validation",
]


def builders() -> list[Callable[[ReportContext], Section]]:
    return [importlib.import_module(name).build for name in SECTION_MODULES]
