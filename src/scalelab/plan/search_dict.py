"""The planner's answer as a JSON-ready dict: `scalelab plan --json` results and the Python API's
`TrainSearch.to_dict()` (docs/json.md documents the shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalelab.plan.search import RankedPlan, TrainSearch


def ranked_plan_dict(p: RankedPlan) -> dict[str, Any]:
    """One ranked plan: its full prediction plus rank, cluster size and per-token objectives."""
    from scalelab.plan.explain import near_memory_limit

    data = p.prediction.to_dict()
    data.update(
        rank=p.rank,
        num_devices=p.num_devices,
        time_s_per_token=p.time_s_per_token,
        cost_usd_per_token=p.cost_usd_per_token,
        energy_j_per_token=p.energy_j_per_token,
        num_equivalent=p.num_equivalent,
        near_memory_limit=near_memory_limit(p),
    )
    return data


def search_dict(r: TrainSearch) -> dict[str, Any]:
    return {
        "objective": r.objective,
        "plans": [ranked_plan_dict(p) for p in r.plans],
        "pareto": [ranked_plan_dict(p) for p in r.pareto],
        "num_candidates": r.num_candidates,
        "num_evaluated": r.num_evaluated,
        "num_fitting": r.num_fitting,
        "num_rejected_by_reason": r.num_rejected_by_reason,
        "num_rejected_after_evaluation": r.num_rejected_after_evaluation,
        "search_s": r.search_s,
        "explanation": r.explanation,
        "no_fit": r.no_fit_message,
    }
