"""The catalog: models, accelerators and interconnects as TOML data files, each number with a source."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from scalelab.core.errors import CatalogError
from scalelab.core.io import build
from scalelab.core.specs import AcceleratorSpec, LinkSpec, ModelSpec, NetworkSpec
from scalelab.core.units import normalize_units

KINDS = ("models", "accelerators", "interconnects")


def _folder(kind: str) -> Path:
    return Path(str(resources.files("scalelab") / "catalog" / kind))


@cache
def list_ids(kind: str) -> tuple[str, ...]:
    """All catalog ids of one kind, sorted."""
    return tuple(sorted(p.stem for p in _folder(kind).glob("*.toml")))


# A catalog id is a file name in the catalog folder: no path separators, no leading dot.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def load_raw(kind: str, catalog_id: str) -> dict[str, Any]:
    """The catalog file as written (source units), or CatalogError naming the known ids."""
    if not isinstance(catalog_id, str) or not _ID.match(catalog_id):
        known = ", ".join(list_ids(kind))
        raise CatalogError(
            f"{kind[:-1]} id must be a catalog name, got {catalog_id!r} (known: {known})"
        )
    return _load_raw(kind, catalog_id)


@cache
def _load_raw(kind: str, catalog_id: str) -> dict[str, Any]:
    path = _folder(kind) / f"{catalog_id}.toml"
    if not path.is_file():
        known = ", ".join(list_ids(kind))
        raise CatalogError(f"unknown {kind[:-1]} '{catalog_id}' (known: {known})")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def uncovered_numbers(raw: dict[str, Any]) -> list[str]:
    """Numeric keys with neither a [sources] nor an [assumptions] entry (key or key prefix).
    Keys of nested tables such as [emerging] are reported as `table.key`; a note keyed by the
    bare key, `table.key` or a prefix of either covers them."""
    notes = {**raw.get("sources", {}), **raw.get("assumptions", {})}
    if "source" in raw:
        return []
    missing = []
    for key, value in raw.items():
        if isinstance(value, dict) and key not in ("sources", "assumptions"):
            missing += [
                f"{key}.{k}"
                for k, v in value.items()
                if _is_number(v) and not _covered(k, notes) and not _covered(f"{key}.{k}", notes)
            ]
        elif _is_number(value) and not _covered(key, notes):
            missing.append(key)
    return missing


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _covered(key: str, notes: dict[str, str]) -> bool:
    return any(key == n or key.startswith(n + "_") for n in notes)


def load_model(catalog_id: str) -> ModelSpec:
    """A ModelSpec from `catalog/models/ID.toml`."""
    raw = dict(load_raw("models", catalog_id))
    raw.setdefault("catalog_id", catalog_id)
    return build(ModelSpec, raw, f"catalog model '{catalog_id}'")


def load_accelerator(catalog_id: str) -> AcceleratorSpec:
    """An AcceleratorSpec (SI units) from `catalog/accelerators/ID.toml`."""
    raw = normalize_units(dict(load_raw("accelerators", catalog_id)))
    return build(AcceleratorSpec, raw, f"catalog accelerator '{catalog_id}'")


def load_link(catalog_id: str, **overrides: Any) -> LinkSpec:
    """A scale-up LinkSpec from `catalog/interconnects/ID.toml`, fields overridable."""
    raw = normalize_units(_interconnect(catalog_id, "scale-up"))
    raw.update(overrides)
    return build(LinkSpec, {"kind": catalog_id, **raw}, f"interconnect '{catalog_id}'")


def load_network(catalog_id: str, **overrides: Any) -> NetworkSpec:
    """A scale-out NetworkSpec from `catalog/interconnects/ID.toml`, fields overridable."""
    raw = normalize_units(_interconnect(catalog_id, "scale-out"))
    raw.update(overrides)
    return build(NetworkSpec, {"kind": catalog_id, **raw}, f"interconnect '{catalog_id}'")


def _interconnect(catalog_id: str, tier: str) -> dict[str, Any]:
    raw = dict(load_raw("interconnects", catalog_id))
    if raw.get("tier") != tier:
        raise CatalogError(f"interconnect '{catalog_id}' is {raw.get('tier')}, not {tier}")
    return {
        k: v for k, v in raw.items() if k not in ("id", "name", "tier", "sources", "assumptions")
    }
