"""What every report section receives."""

from __future__ import annotations

from dataclasses import dataclass

from scalelab.core.specs import ModelSpec


@dataclass(frozen=True)
class ReportContext:
    """The model under study, its catalog id, and whether to keep CPU-heavy parts short."""

    model_id: str
    model: ModelSpec
    quick: bool = True
