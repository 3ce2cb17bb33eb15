"""`kind: inference` metrics: the serving model (perf/inference.py) on the case's scenario tables."""

from __future__ import annotations

from typing import Any

from scalelab.core.scenario import load_scenario
from scalelab.core.specs import InferenceWorkload
from scalelab.perf.inference import predict_inference

# A case also carries expect/tolerance_frac/status; load_scenario accepts only the scenario tables.
SCENARIO_KEYS = ("model", "hardware", "parallel", "workload", "id", "kind", "note", "source")


def compute(case: dict[str, Any]) -> dict[str, float]:
    """TTFT, TPOT, tokens/s per request and per node, max concurrency, cost, EP time per layer step."""
    tables = {k: v for k, v in case.items() if k in SCENARIO_KEYS}
    scenario = load_scenario(tables, "infer", where=f"case {case.get('id', '?')}")
    assert isinstance(scenario.workload, InferenceWorkload)
    result = predict_inference(scenario.model, scenario.cluster, scenario.plan, scenario.workload)
    return result.metrics()
