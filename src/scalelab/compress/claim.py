"""The seed article's claim (j): "distillation plus INT8 quantization cuts model size by 90% and
speeds inference up 3x". Evidence is read off one benchmark run of the chain (chain.py): the
teacher fp32 in PyTorch is the baseline, each int8 form of the distilled student is a candidate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLAIM = "distillation + INT8 quantization: -90% model size, 3x faster inference"
SIZE_TARGET_FRAC = 0.90  # "cuts model size by 90%"
SPEEDUP_TARGET_RATIO = 3.0  # "speeds inference up 3x"


@dataclass(frozen=True)
class ClaimEvidence:
    """Measured ratios for the best int8 student (largest batch-32 speed-up) and the verdict."""

    variant: str
    size_reduction_frac: float
    speedup_b1_ratio: float
    speedup_b32_ratio: float
    accuracy_delta_points: float
    baseline: str
    candidates: list[dict[str, Any]]
    source: str

    @property
    def size_holds(self) -> bool:
        return self.size_reduction_frac >= SIZE_TARGET_FRAC

    @property
    def speed_holds_at(self) -> list[int]:
        return [
            b
            for b, r in ((1, self.speedup_b1_ratio), (32, self.speedup_b32_ratio))
            if r >= SPEEDUP_TARGET_RATIO
        ]

    @property
    def verdict(self) -> str:
        size = "size holds" if self.size_holds else "size does not hold"
        at = self.speed_holds_at
        speed = ("speed holds at batch 1 and 32" if len(at) == 2 else
                 f"speed holds at batch {at[0]} only" if at else "speed does not hold")  # fmt: skip
        lead = (
            "holds"
            if self.size_holds and len(at) == 2
            else "partly holds"
            if self.size_holds or at
            else "does not hold"
        )
        return f"{lead} on this CPU ({size}, {speed}; accuracy {self.accuracy_delta_points:+.1f} points)"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "claim": CLAIM, "size_holds": self.size_holds,
                "speed_holds_at_batch": self.speed_holds_at, "verdict": self.verdict}  # fmt: skip


def claim_evidence(bench: dict[str, Any], source: str = "") -> ClaimEvidence | None:
    """From `BenchResult.to_dict()` whose first row is the teacher fp32 baseline; None when the run
    has no teacher baseline or no int8 student."""
    rows = bench.get("rows", [])
    if not rows or rows[0].get("role") != "teacher" or rows[0].get("method") != "fp32":
        return None
    cands = [
        r
        for r in rows
        if r.get("role") == "student" and str(r.get("method", "")).startswith("int8")
    ]
    if not cands:
        return None
    best = max(cands, key=lambda r: r["speedup_b32_ratio"])
    keys = ("label", "size_ratio", "speedup_b1_ratio", "speedup_b32_ratio", "accuracy_delta_points")
    return ClaimEvidence(
        variant=best["label"],
        size_reduction_frac=1 - best["size_ratio"],
        speedup_b1_ratio=best["speedup_b1_ratio"],
        speedup_b32_ratio=best["speedup_b32_ratio"],
        accuracy_delta_points=best["accuracy_delta_points"],
        baseline=rows[0]["label"],
        candidates=[{k: r[k] for k in keys} for r in cands],
        source=source,
    )
