"""`kind: inference` metrics: the serving model (perf/serve/predict.py) on the case's scenario tables."""

from __future__ import annotations

from typing import Any

from scalelab.core.scenario import load_scenario
from scalelab.core.specs import InferenceWorkload
from scalelab.perf.serve.predict import predict_inference


def compute(case: dict[str, Any]) -> dict[str, float]:
    """TTFT, TPOT, tokens/s per request and per node, max concurrency, cost, EP time per layer step."""
    scenario = load_scenario(case, "infer", where=f"case {case.get('id', '?')}")
    assert isinstance(scenario.workload, InferenceWorkload)
    result = predict_inference(scenario.model, scenario.cluster, scenario.plan, scenario.workload)
    return result.metrics()
