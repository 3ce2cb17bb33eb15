"""Print a draft JSON Schema for the `results` of a command's --json output, to start a new
docs/json/<command>.schema.json from. Review it: describe fields, loosen what may vary.

    scalelab model list --json | python docs/json/draft_schema.py "model list" > docs/json/model-list.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

MAX_DEPTH = 3  # deeper objects are documented as plain objects


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if a == b:
        return a
    if a.get("type") == "object" and b.get("type") == "object" and "properties" in a:
        props = dict(a["properties"])
        for k, v in b.get("properties", {}).items():
            props[k] = _merge(props[k], v) if k in props else v
        req = sorted(set(a.get("required", [])) & set(b.get("required", [])))
        return {**a, "properties": props, "required": req}
    if a.get("type") == "array" and b.get("type") == "array":
        if "items" in a and "items" in b:
            return {"type": "array", "items": _merge(a["items"], b["items"])}
        return a if "items" in a else b
    types = sorted({*_types(a), *_types(b)})
    return {"type": types if len(types) > 1 else types[0]}


def _types(s: dict[str, Any]) -> list[str]:
    t = s.get("type", [])
    return t if isinstance(t, list) else [t]


def schema(value: Any, depth: int = 0, top: bool = False) -> dict[str, Any]:
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": ["number", "null"]}  # NaN and inf are written as null
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        if not value or depth >= MAX_DEPTH:
            return {"type": "array"}
        items = schema(value[0], depth + 1)
        for v in value[1:]:
            items = _merge(items, schema(v, depth + 1))
        return {"type": "array", "items": items}
    if depth >= MAX_DEPTH:
        return {"type": "object"}
    out: dict[str, Any] = {
        "type": "object",
        "properties": {k: schema(v, depth + 1) for k, v in value.items()},
        "required": sorted(value),
    }
    if top:
        out["additionalProperties"] = False
    return out


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    data = json.load(sys.stdin)
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"scalelab {command} --json: results",
        **schema(data["results"], top=isinstance(data["results"], dict)),
    }
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
