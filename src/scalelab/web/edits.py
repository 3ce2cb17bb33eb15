"""What-if assumptions a user may edit on the page, each shown with its catalog source (or marked
an assumption): a cluster's device price, TDP, idle power and PUE, its scale-out link (the photonic preset's
line rate, latency and pJ/bit), and every `[emerging]` parameter of a device class. Values are in
the catalog's units (`nic_gbit_per_s`, `energy_pj_per_mac`); edited specs are re-validated by
their pydantic models, so a bad value is the same one-line message a catalog file would get."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from scalelab.core import catalog
from scalelab.core.errors import ScalelabError
from scalelab.core.io import build
from scalelab.core.site import Site
from scalelab.core.specs import AcceleratorSpec, ClusterSpec, NetworkSpec
from scalelab.core.units import to_si_key
from scalelab.hw.emerging import emerging_params
from scalelab.plan.whatif_specs import Target
from scalelab.web.inputs import FieldError

ACCELERATOR_KEYS = ("price_usd_per_hour", "tdp_w", "idle_w")
CLUSTER_KEYS = ("pue",)
NETWORK_KEYS = ("nic_gbit_per_s", "latency_us", "energy_pj_per_bit")
MAX_EDITS = 64


@dataclass(frozen=True)
class Edit:
    """`set=LABEL.KEY=VALUE` from the URL."""

    label: str
    key: str
    value: float

    @property
    def field(self) -> str:
        return f"set:{self.label}.{self.key}"


def parse_edits(texts: list[str]) -> tuple[Edit, ...]:
    """`photonic.nic_gbit_per_s=12800` -> Edit; the field of a bad one is `set`."""
    if len(texts) > MAX_EDITS:
        raise FieldError("set", f"set: at most {MAX_EDITS} edited assumptions")
    edits = []
    for text in texts:
        target, _, raw = text.partition("=")
        label, _, key = target.rpartition(".")
        if not label or not key or not raw:
            raise FieldError("set", f"set: expected TARGET.KEY=VALUE, got '{text}'")
        try:
            value = float(raw)
        except ValueError:
            raise FieldError(
                f"set:{label}.{key}", f"{label}.{key}: '{raw}' is not a number"
            ) from None
        edits.append(Edit(label, key, value))
    return tuple(edits)


def _note(kind: str, cid: str, key: str, table: str = "") -> tuple[str, bool]:
    """(the catalog's source or assumption for `key`, whether it is an assumption)."""
    raw = catalog.load_raw(kind, cid)
    names = [key, f"{table}.{key}"] if table else [key]
    for section, is_assumption in (("sources", False), ("assumptions", True)):
        for note_key, text in raw.get(section, {}).items():
            if any(n == note_key or n.startswith(note_key + "_") for n in names):
                return str(text), is_assumption
    return ("derived by scalelab from the catalog entry", True) if table else ("catalog", False)


def _param(label: str, key: str, value: Any, note: tuple[str, bool], edited: set[str]) -> dict:
    return {
        "target": label,
        "key": key,
        "value": value,
        "source": note[0],
        "assumption": note[1],
        "edited": key in edited,
    }


def _source_value(si_value: float | None, key: str) -> float | None:
    """A spec's SI value in the catalog unit the key names (`latency_us` from `latency_s`)."""
    return None if si_value is None else si_value / to_si_key(key)[1]


def editable(t: Target, edits: dict[str, float], site: Site | None = None) -> list[dict[str, Any]]:
    """The parameters of one what-if row that the page lets a user change, with their sources
    and current values (`t` already carries its cluster edits; a device class gets `edits`)."""
    edited = set(edits)
    if t.cluster is None:
        acc = emerging_accelerator(t, edits, site)
        raw = catalog.load_raw("accelerators", acc.id).get("emerging", {})
        rows = [
            _param(
                t.label,
                k,
                _source_value(float(acc.emerging[to_si_key(k)[0]]), k),
                _note("accelerators", acc.id, k, "emerging"),
                edited,
            )
            for k, v in raw.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        cluster_keys: tuple[str, ...] = ()
    else:
        acc, rows, cluster_keys = t.cluster.accelerator, [], CLUSTER_KEYS
    for key in ACCELERATOR_KEYS:
        if getattr(acc, key) is None:  # idle_w unset: the power model's measured fraction of TDP
            continue
        note = _note("accelerators", acc.id, key)
        rows.append(_param(t.label, key, getattr(acc, key), note, edited))
    if t.cluster is not None:
        rows += [
            _param(t.label, k, getattr(t.cluster, k), ("PUE assumed", True), edited)
            for k in cluster_keys
        ]
        net = t.cluster.scale_out
        if net is not None and t.cluster.num_nodes > 1:
            kind = net.kind if net.kind in catalog.list_ids("interconnects") else ""
            for key in NETWORK_KEYS:
                value = _source_value(getattr(net, to_si_key(key)[0]), key)
                if value is None:
                    continue
                note = _note("interconnects", kind, key) if kind else ("scalelab's model", True)
                rows.append(_param(t.label, key, value, note, edited))
    return rows


def _accelerator(acc: AcceleratorSpec, edits: dict[str, float], where: str) -> AcceleratorSpec:
    update = {k: v for k, v in edits.items() if k in ACCELERATOR_KEYS}
    return build(AcceleratorSpec, {**acc.model_dump(), **update}, where) if update else acc


def _cluster(c: ClusterSpec, edits: dict[str, float], where: str) -> ClusterSpec:
    acc = _accelerator(c.accelerator, edits, where)
    net = c.scale_out
    net_update = {
        to_si_key(k)[0]: v * to_si_key(k)[1] for k, v in edits.items() if k in NETWORK_KEYS
    }
    if net_update:
        if net is None:
            raise FieldError(f"set:{where}", f"{where}: this cluster has no scale-out network")
        net = build(NetworkSpec, {**net.model_dump(), **net_update}, where)
    data = {**c.model_dump(), "accelerator": acc, "scale_out": net}
    data.update({k: v for k, v in edits.items() if k in CLUSTER_KEYS})
    return build(ClusterSpec, data, where)


def emerging_accelerator(
    t: Target, edits: dict[str, float], site: Site | None = None
) -> AcceleratorSpec:
    """The device class of an emerging row: the site's price (as plan/whatif applies it), then
    the row's edited parameters (validated by its class)."""
    acc = (site or Site()).accelerator(catalog.load_accelerator(t.emerging_accelerator or ""))
    table = {
        to_si_key(k)[0]: v * to_si_key(k)[1]
        for k, v in edits.items()
        if to_si_key(k)[0] in acc.emerging and k not in ACCELERATOR_KEYS
    }
    acc = _accelerator(acc, edits, t.label)
    if table:
        acc = acc.model_copy(update={"emerging": {**acc.emerging, **table}})
    emerging_params(acc)  # a value the class rejects is a one-line error naming the field
    return acc


def apply(targets: list[Target], edits: tuple[Edit, ...]) -> tuple[list[Target], dict[str, dict]]:
    """Targets with their edits applied (clusters rebuilt and re-validated; a note per edit) and
    the edits of each emerging row, which plan/whatif reads from the catalog (web/views/whatif.py
    recomputes those rows). The photonic row is the baseline with another network, so it takes
    the baseline's device and PUE edits unless it sets them itself."""
    by_label: dict[str, dict[str, float]] = {t.label: {} for t in targets}
    allowed = {t.label: {p["key"] for p in editable(t, {})} for t in targets}
    for e in edits:
        if e.label not in by_label:
            raise FieldError(
                "set", f"set: no what-if row '{e.label}' (rows: {', '.join(by_label)})"
            )
        if e.key not in allowed[e.label]:
            keys = ", ".join(sorted(allowed[e.label]))
            raise FieldError(
                e.field, f"{e.label}: '{e.key}' is not editable here (editable: {keys})"
            )
        by_label[e.label][e.key] = e.value
    base = targets[0].label
    if "photonic" in by_label:
        inherited = {k: v for k, v in by_label[base].items() if k not in NETWORK_KEYS}
        by_label["photonic"] = {**inherited, **by_label["photonic"]}
    out, emerging = [], {}
    for t in targets:
        mine = by_label[t.label]
        if not mine:
            out.append(t)
            continue
        notes = tuple(f"edited on the page: {k} = {v:g}" for k, v in mine.items())
        try:
            if t.cluster is None:
                emerging_accelerator(t, mine)
                emerging[t.label] = mine
                out.append(replace(t, notes=t.notes + notes))
            else:
                cluster = _cluster(t.cluster, mine, t.label)
                out.append(replace(t, cluster=cluster, notes=t.notes + notes))
        except ScalelabError as exc:
            raise FieldError(_blamed(t.label, mine, str(exc)), str(exc)) from None
    return out, emerging


def _blamed(label: str, edits: dict[str, float], message: str) -> str:
    """The field of the edit a validation message names (its catalog or SI key), else the first."""
    for key in edits:
        if key in message or to_si_key(key)[0] in message:
            return f"set:{label}.{key}"
    return f"set:{label}.{next(iter(edits))}"
