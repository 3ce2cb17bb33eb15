"""What every view's answer carries about its inputs: the model and the cluster, in SI units."""

from __future__ import annotations

from typing import Any

from scalelab.core.specs import ClusterSpec, ModelSpec
from scalelab.perf.model.footprint import kv_cache_bytes_per_token
from scalelab.perf.model.params import count_params

Csv = tuple[list[str], list[list[Any]]]  # (header, rows) of one exported table


def model_json(model: ModelSpec, model_id: str | None) -> dict[str, Any]:
    """Name, catalog id (None when uploaded) and the `scalelab model show` headline numbers."""
    counts = count_params(model)
    return {
        "name": model.name,
        "catalog_id": model_id,
        "uploaded": model_id is None,
        "total_params": counts.total,
        "active_params_per_token": counts.active_per_token,
        "kv_cache_bytes_per_token_bf16": kv_cache_bytes_per_token(model),
    }


def cluster_json(cluster: ClusterSpec) -> dict[str, Any]:
    """The cluster as the model sees it (topology already applied)."""
    acc, net = cluster.accelerator, cluster.scale_out
    return {
        "name": cluster.name,
        "accelerator": acc.id,
        "accelerator_name": acc.name,
        "num_devices": cluster.num_devices,
        "devices_per_node": cluster.devices_per_node,
        "hbm_bytes": acc.hbm_bytes,
        "price_usd_per_device_hour": acc.price_usd_per_hour,
        "scale_up": cluster.scale_up.kind,
        "scale_out": None if net is None else net.kind,
        "scale_out_topology": None if net is None else net.topology,
    }
