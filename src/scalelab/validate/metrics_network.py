"""`kind: network` metrics: size and cost of a topology at its maximum scale for a switch radix
(scalelab.hw.topology; cost model in scalelab.hw.netcost). Note: the per-switch and per-link
prices are derived from the fat-tree-2 and fat-tree-3 rows of the same table, so those two cost
metrics (and multi-plane, 8 x fat-tree-2) are calibration checks; slim fly and dragonfly costs,
and every count, are predictions."""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.hw.topology import build_topology


def compute(case: dict[str, Any]) -> dict[str, float]:
    """Endpoints, switches, links, cost and bisection of the case's topology."""
    hw = case.get("hardware", {})
    if "topology" not in hw:
        raise ConfigError(f"case {case.get('id')}: hardware.topology is required")
    topo = build_topology(
        str(hw["topology"]),
        int(hw.get("switch_radix", 64)),
        int(hw.get("planes", 1)),
        float(hw.get("link_gbit_per_s", 400)),
    )
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
