"""What every report section receives, and what sections share with each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalelab.core.specs import ModelSpec


@dataclass(frozen=True)
class PlanRef:
    """A plan the report quotes, with the question it answers and the search that produced it, so
    one question gets one plan and every figure built on it names the same one."""

    question: str  # "DeepSeek-V3's published plan", "fastest plan on h800x2048"
    label: str  # TP1·PP16·EP64·DP128
    options: str  # DualPipe · ZeRO-1 · mb1 · recompute sel. · fp8
    cluster: str
    num_devices: int
    space: str  # "as published", "full planner space", ...
    run_time_s: float | None = None
    cost_usd: float | None = None
    used_in: tuple[str, ...] = ()  # section ids that show it


@dataclass(frozen=True)
class ReportContext:
    """The model under study, its catalog id, and whether to keep CPU-heavy parts short."""

    model_id: str
    model: ModelSpec
    quick: bool = True
    # Each built section's `data`, keyed by its module name, for sections that summarize others.
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Plans quoted by the sections, keyed by question (see report/plans.py).
    plans: dict[str, PlanRef] = field(default_factory=dict)
    # Expensive intermediate results shared between sections (planner searches), keyed by inputs.
    cache: dict[str, Any] = field(default_factory=dict)
