"""What every report section receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalelab.core.specs import ModelSpec


@dataclass(frozen=True)
class ReportContext:
    """The model under study, its catalog id, and whether to keep CPU-heavy parts short."""

    model_id: str
    model: ModelSpec
    quick: bool = True
    # Each built section's `data`, keyed by its module name, for sections that summarize others.
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
