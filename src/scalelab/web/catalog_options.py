"""What the page's selects offer: catalog models, accelerators (cluster-capable and emerging device
classes apart), scale-out networks, what-if presets, and each view's defaults."""

from __future__ import annotations

from typing import Any, get_args

from scalelab.core import catalog
from scalelab.core.specs import Dtype
from scalelab.plan.search import OBJECTIVES
from scalelab.plan.whatif import PHASES
from scalelab.plan.whatif_specs import PRESETS
from scalelab.web.inputs import MAX_DEVICES
from scalelab.web.views.serve import DTYPES


def _accelerators() -> list[dict[str, Any]]:
    out = []
    for cid in catalog.list_ids("accelerators"):
        acc = catalog.load_accelerator(cid)
        out.append(
            {
                "id": cid,
                "name": acc.name,
                "kind": acc.kind,
                "devices_per_node": acc.default_devices_per_node,
                "emerging": bool(acc.emerging),
                "hbm_bytes": acc.hbm_bytes,
            }
        )
    return out


def _networks() -> list[dict[str, str]]:
    raws = [catalog.load_raw("interconnects", i) for i in catalog.list_ids("interconnects")]
    return [{"id": r["id"], "name": r["name"]} for r in raws if r.get("tier") == "scale-out"]


def options(defaults: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Everything the page needs to build its forms (cached by the browser per page load)."""
    models = [
        {"id": i, "name": catalog.load_raw("models", i).get("name", i)}
        for i in catalog.list_ids("models")
    ]
    return {
        "models": models,
        "accelerators": _accelerators(),
        "networks": _networks(),
        "presets": list(PRESETS),
        "objectives": list(OBJECTIVES),
        "phases": list(PHASES),
        "serve_dtypes": list(DTYPES),
        "dtypes": list(get_args(Dtype)),
        "max_devices": MAX_DEVICES,
        "defaults": defaults,
    }
