"""Serving scenario files: the usual model/hardware/parallel/workload tables, plus an optional
[disaggregation] table that carves a prefill pool with its own plan out of the hardware."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import read_mapping
from scalelab.core.scenario import Scenario, load_scenario, resolve_plan
from scalelab.core.specs import InferenceWorkload, ParallelPlan
from scalelab.perf.serve.disagg import DisaggResult, predict_disaggregated, split_cluster
from scalelab.perf.serve.predict import InferenceResult, predict_inference

DISAGG_KEYS = ("prefill_devices", "parallel")


@dataclass(frozen=True)
class ServeScenario:
    """A serving scenario; `prefill_plan` set means disaggregated (the hardware's first
    `prefill_devices` devices form the prefill pool, the rest decode with `scenario.plan`)."""

    scenario: Scenario
    prefill_devices: int = 0
    prefill_plan: ParallelPlan | None = None

    @property
    def workload(self) -> InferenceWorkload:
        w = self.scenario.workload
        assert isinstance(w, InferenceWorkload)
        return w


def serve_scenario(data: dict[str, Any], where: str = "scenario") -> ServeScenario:
    """Build a ServeScenario from parsed tables; unknown [disaggregation] keys are ConfigErrors."""
    data = dict(data)
    disagg = data.pop("disaggregation", None)
    scenario = load_scenario(data, "infer", where)
    if disagg is None:
        return ServeScenario(scenario)
    if not isinstance(disagg, dict):
        raise ConfigError(f"{where}: [disaggregation] must be a table")
    for key in disagg:
        if key not in DISAGG_KEYS:
            raise ConfigError(
                f"{where}: disaggregation.{key}: unknown field (typo?); known: {', '.join(DISAGG_KEYS)}"
            )
    devices = disagg.get("prefill_devices")
    if not isinstance(devices, int) or isinstance(devices, bool):
        raise ConfigError(f"{where}: disaggregation.prefill_devices must be an integer")
    plan = resolve_plan(disagg.get("parallel"), f"{where}: disaggregation.parallel")
    split_cluster(scenario.cluster, devices)  # validates the split now, with a one-line error
    return ServeScenario(scenario, devices, plan)


def load_serve_scenario(path: str | Path) -> ServeScenario:
    return serve_scenario(read_mapping(path), str(path))


def predict_serve(s: ServeScenario) -> InferenceResult | DisaggResult:
    """predict_inference for a collocated scenario, predict_disaggregated for a split one."""
    sc = s.scenario
    if s.prefill_plan is None:
        return predict_inference(sc.model, sc.cluster, sc.plan, s.workload)
    pre, dec = split_cluster(sc.cluster, s.prefill_devices)
    return predict_disaggregated(sc.model, pre, s.prefill_plan, dec, sc.plan, s.workload)
