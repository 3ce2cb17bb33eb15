"""`kind: inference` metrics: the serving model (perf/serve/predict.py) on the case's scenario tables,
written in the serving engines' vocabulary (core/serve_parallel.py). A case with a
`[disaggregation]` table is a prefill/decode-disaggregated deployment (plan/serve_scenario.py):
its input rates are the prefill pool's own, its output rates the decode pool's."""

from __future__ import annotations

from typing import Any

from scalelab.plan.serve_scenario import predict_serve, serve_scenario


def compute(case: dict[str, Any]) -> dict[str, float]:
    """TTFT, TPOT, tokens/s per request, per device and per node, max concurrency, cost, energy,
    EP time per layer step."""
    scenario = serve_scenario(case, where=f"case {case.get('id', '?')}")
    return predict_serve(scenario).metrics()
