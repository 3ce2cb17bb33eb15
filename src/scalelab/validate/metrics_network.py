"""`kind: network` metrics, two families:

* EP all-to-all (a case with `parallel.ep`): the per-device dispatch and combine bandwidth an
  MoE all-to-all reaches, as DeepEP-style benchmarks report it (perf/serve/ep.py: NVLink inside
  a node, the node's NICs across nodes, both kernel styles). Predicted from the hardware's
  datasheet rates and the 80% achievable fractions of perf/comm.py; nothing is fitted on EP
  benchmarks.
* Topology (a case with `hardware.topology`): size and cost of a topology at its maximum scale
  for a switch radix (scalelab.hw.topology; cost model in scalelab.hw.netcost). The per-switch
  and per-link prices are derived from the fat-tree-2 and fat-tree-3 rows of the same table, so
  those two cost metrics (and multi-plane, 8 x fat-tree-2) are calibration checks; slim fly and
  dragonfly costs, and every count, are predictions.
"""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError, located
from scalelab.core.io import build
from scalelab.core.scenario import (
    resolve_cluster,
    resolve_inference_workload,
    resolve_model,
    table,
)
from scalelab.core.serve_parallel import resolve_serving_plan
from scalelab.core.specs import Spec
from scalelab.hw.topology import build_topology
from scalelab.perf.serve.ep import Style, ep_all_to_all

# DeepEP's benchmark shape when a case names no model (tests/test_*.py defaults): DeepSeek-V3's
# hidden size and 8 experts per token.
DEFAULT_HIDDEN = 7168
DEFAULT_TOPK = 8


def _style(kernel: str, phase: str, decode_batch: bool) -> Style:
    if kernel != "auto":
        return "low-latency" if kernel == "low-latency" else "high-throughput"
    return "low-latency" if phase == "decode" or decode_batch else "high-throughput"


def ep_metrics(case: dict[str, Any]) -> dict[str, float]:
    """Dispatch/combine bandwidth (bytes/s per device, DeepEP's logical count) and seconds."""
    where = f"case {case.get('id')}"
    if "hardware" not in case:
        raise ConfigError(f"{where}: an EP all-to-all case needs a hardware table")
    with located(f"{where}: hardware"):
        cluster = resolve_cluster(case["hardware"], f"{where}: hardware")
    plan = resolve_serving_plan(case.get("parallel"), f"{where}: parallel")
    w = resolve_inference_workload(case.get("workload", {}), f"{where}: workload")
    tokens = w.tokens_per_device or w.decode_tokens_per_device
    if tokens is None:
        raise ConfigError(f"{where}: workload.tokens_per_device is required")
    if plan.ep > cluster.num_devices:
        raise ConfigError(
            f"{where}: parallel.ep {plan.ep} exceeds hardware.num_devices {cluster.num_devices}"
        )
    with located(f"{where}: model"):
        model = resolve_model(case["model"], f"{where}: model") if "model" in case else None
    hidden = model.hidden_size if model else DEFAULT_HIDDEN
    topk = w.topk or (model.num_experts_per_token if model and model.is_moe else DEFAULT_TOPK)
    style = _style(w.ep_kernel, w.phase, w.decode_tokens_per_device is not None)
    r = ep_all_to_all(
        cluster,
        plan.ep,
        float(tokens),
        topk,
        hidden,
        w.dispatch_dtype,
        w.combine_dtype,
        style,
        w.limited_groups,
    )
    return {
        "dispatch_bytes_per_s": r.dispatch_bytes_per_s,
        "combine_bytes_per_s": r.combine_bytes_per_s,
        "dispatch_s": r.dispatch_s,
        "combine_s": r.combine_s,
        "message_bytes": r.message_bytes,
    }


class TopologyCase(Spec):
    """A topology case's hardware table (hw/topology.py checks the ranges)."""

    topology: str
    switch_radix: int = 64
    planes: int = 1
    link_gbit_per_s: float = 400.0


def topology_metrics(case: dict[str, Any]) -> dict[str, float]:
    """Endpoints, switches, links, cost and bisection of the case's topology."""
    where = f"case {case.get('id')}: hardware"
    hw = table(case.get("hardware", {}), where)
    if "topology" not in hw:
        raise ConfigError(f"case {case.get('id')}: hardware.topology is required")
    t = build(TopologyCase, hw, where)
    with located(where):
        topo = build_topology(t.topology, t.switch_radix, t.planes, t.link_gbit_per_s)
    return {
        "max_endpoints": float(topo.num_endpoints),
        "num_switches": float(topo.num_switches),
        "num_links": float(topo.num_links),
        "cost_usd": topo.cost_usd,
        "cost_per_endpoint_usd": topo.cost_per_endpoint_usd,
        "bisection_bytes_per_s": topo.bisection_bytes_per_s,
        "oversubscription_ratio": topo.oversubscription_ratio,
        "diameter_switches": float(topo.diameter_switches),
    }


def compute(case: dict[str, Any]) -> dict[str, float]:
    """EP all-to-all metrics for a case with parallel.ep, topology metrics otherwise."""
    parallel = case.get("parallel")
    if parallel is not None and table(parallel, f"case {case.get('id')}: parallel"):
        return ep_metrics(case)
    return topology_metrics(case)
