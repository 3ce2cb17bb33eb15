"""Query parameters of the web API turned into specs by the CLI's own parsers (core/flags,
core/scenario, core/hf_import). Parameter names are the CLI's flag names (`global-batch`,
`ttft-ms`), so a shared link reads like the command line; every failure is a FieldError carrying
the form field it belongs to and the CLI's one-line message. Only catalog ids and the config.json a
user uploads are read: never a path."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from scalelab.core import catalog
from scalelab.core.bounds import finite_in, float_of, int_in
from scalelab.core.errors import ConfigError, ScalelabError
from scalelab.core.hf_import import is_hf_config, model_from_hf_config
from scalelab.core.io import build
from scalelab.core.scenario import cluster_from_string, resolve_cluster
from scalelab.core.site import Site
from scalelab.core.specs import ClusterSpec, ModelSpec
from scalelab.hw.scaleout import apply_topology

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CLUSTER = re.compile(r"^(?P<acc>[a-z0-9][a-z0-9.\-]{0,63}?)x(?P<n>\d{1,7})$")
MAX_DEVICES = 131_072  # a bound on the work one request can ask for (the planner scales with it)
MAX_TOKENS = 1_048_576  # prompt/output lengths a request may ask for
MAX_SPEC_CHARS = 4096  # an uploaded model travels in the URL as base64url JSON (`mspec`)
UPLOAD_WHERE = "config.json"


class FieldError(ConfigError):
    """A bad value: `field` is the form field (the CLI flag without dashes), None for the page."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@contextmanager
def on_field(name: str | None) -> Iterator[None]:
    """Any ScalelabError raised inside becomes a FieldError for `name` with the same message."""
    try:
        yield
    except FieldError:
        raise
    except ScalelabError as exc:
        raise FieldError(name, str(exc)) from None


def field_of(message: str, names: tuple[str, ...], default: str) -> str:
    """The first of `names` whose flag (`--name`) the message mentions, else `default`."""
    found = [(message.find(f"--{n}"), n) for n in names if f"--{n}" in message]
    return min(found)[1] if found else default


@contextmanager
def on_flags(names: tuple[str, ...], default: str) -> Iterator[None]:
    """As on_field, for a parser that checks several flags: the message names the field."""
    try:
        yield
    except FieldError:
        raise
    except ScalelabError as exc:
        raise FieldError(field_of(str(exc), names, default), str(exc)) from None


class Params:
    """Typed reads of a query string, falling back to the view's defaults (strings, as typed);
    records what was used (the envelope's `inputs`, the cache key, the CLI line)."""

    def __init__(
        self,
        query: Mapping[str, str],
        multi: Mapping[str, list[str]] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        self._query = query
        self._multi = multi or {}
        self._defaults = defaults or {}
        self.used: dict[str, Any] = {}

    def text(self, name: str, use_default: bool = True) -> str | None:
        """The value as typed: absent -> the default, present but blank -> None."""
        raw = self._query.get(name)
        if raw is None and use_default:
            raw = self._defaults.get(name)
        value = raw.strip() if raw is not None and raw.strip() != "" else None
        self.used[name] = value
        return value

    def texts(self, name: str) -> list[str]:
        values = [v.strip() for v in self._multi.get(name, []) if v.strip()]
        self.used[name] = values
        return values

    def integer(
        self,
        name: str,
        web_max: int | None = None,
        optional: bool = False,
        lo: int | None = None,
        hi: int | None = None,
    ) -> Any:
        """An int within the CLI option's bounds [lo, hi], in the CLI's words (core/bounds);
        `web_max` also bounds the work one request may ask of the server."""
        raw = self.text(name)
        if raw is None and optional:
            return None
        value = _bounded(name, int_in, raw or "", lo=lo, hi=hi)
        self.used[name] = value
        if web_max is not None and value > web_max:
            raise FieldError(name, f"--{name}: at most {web_max:,} in the web page, got {value:,}")
        return value

    def number(self, name: str, optional: bool = True, **bounds: float) -> Any:
        """A finite float within the CLI option's bounds (gt, ge, lt, le); blank: None (no
        latency target)."""
        raw = self.text(name)
        if raw is None and optional:
            return None
        value = _bounded(name, finite_in, _bounded(name, float_of, raw or ""), **bounds)
        self.used[name] = value
        return value

    def flag(self, name: str) -> bool:
        raw = self.text(name)
        value = raw is not None and raw.lower() in ("1", "true", "on", "yes")
        self.used[name] = value
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.text(name) or ""
        if value not in options:
            raise FieldError(name, f"--{name}: expected one of {', '.join(options)}, got '{value}'")
        return value


def _bounded(name: str, check: Any, value: Any, **bounds: Any) -> Any:
    """check(value, **bounds), a failure worded as click words a bad option value."""
    try:
        return check(value, **bounds)
    except ValueError as exc:
        raise FieldError(name, f"Invalid value for '--{name}': {exc}") from None


def catalog_id(kind: str, value: str, field: str) -> str:
    """A catalog id as the CLI would look it up; anything that could name a path is refused."""
    if not SAFE_ID.match(value):
        known = ", ".join(catalog.list_ids(kind))
        raise FieldError(field, f"unknown {kind[:-1]} '{value}' (known: {known})")
    with on_field(field):
        catalog.load_raw(kind, value)  # CatalogError naming the known ids, as in the CLI
    return value


def model_from_upload(data: Any) -> ModelSpec:
    """An uploaded config.json: Hugging Face's format (core/hf_import) or scalelab's own fields."""
    if not isinstance(data, dict):
        raise FieldError("model", f"{UPLOAD_WHERE}: expected a table/object at the top level")
    with on_field("model"):
        if is_hf_config(data):
            return model_from_hf_config(data, where=UPLOAD_WHERE)
        return build(ModelSpec, data, UPLOAD_WHERE)


def encode_spec(model: ModelSpec) -> str:
    """The URL form of an uploaded model: base64url of its non-default fields as JSON."""
    text = json.dumps(model.model_dump(exclude_defaults=True), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_spec(text: str) -> ModelSpec:
    if len(text) > MAX_SPEC_CHARS:
        raise FieldError("model", f"uploaded model: over {MAX_SPEC_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise FieldError(
            "model", "uploaded model: not a model spec (upload config.json again)"
        ) from None
    if not isinstance(data, dict):
        raise FieldError("model", "uploaded model: not a model spec (upload config.json again)")
    with on_field("model"):
        return build(ModelSpec, data, "uploaded model")


def read_model(p: Params) -> tuple[ModelSpec, str | None]:
    """(the model, its catalog id or None when uploaded): `mspec` wins over `model`."""
    spec = p.text("mspec")
    if spec:
        return _decode_spec(spec), None
    model_id = p.text("model") or ""
    catalog_id("models", model_id, "model")
    with on_field("model"):
        return catalog.load_model(model_id), model_id


SITE_FLAGS = ("price-usd-per-hour", "co2-kg-per-kwh")


def read_site(p: Params, co2: bool = True) -> Site:
    """--price-usd-per-hour (one price or ID=PRICE,...) and --co2-kg-per-kwh, as the CLI reads
    them (core/site.py); blank: the catalog's prices and the world-average grid."""
    price = p.text("price-usd-per-hour")
    carbon = p.number("co2-kg-per-kwh") if co2 else None
    with on_flags(SITE_FLAGS, "price-usd-per-hour"):
        return Site.from_flags(price, carbon)


def read_cluster(p: Params, name: str = "cluster", site: Site | None = None) -> ClusterSpec:
    """`ACCELERATORxCOUNT` as the CLI's --cluster (never a file), with an optional `network`
    (a scale-out interconnect id) in place of the accelerator's default; topology applied."""
    text = (p.text(name) or "").lower()
    match = CLUSTER.match(text)
    if match is None:
        raise FieldError(
            name,
            f"cluster '{text}': expected ACCELERATOR_IDxCOUNT, e.g. h800-sxm5-80gbx2048",
        )
    if int(match.group("n")) > MAX_DEVICES:
        raise FieldError(name, f"cluster '{text}': at most {MAX_DEVICES:,} devices in the web page")
    network = p.text("network")
    with on_field(name):
        cluster = cluster_from_string(text)
    if network:
        catalog_id("interconnects", network, "network")
        table = {
            "accelerator": cluster.accelerator.id,
            "num_devices": cluster.num_devices,
            "scale_out": {"kind": network},
        }
        with on_field("network"):
            cluster = resolve_cluster(table, f"network '{network}'")
    with on_field(name):
        return apply_topology(site.cluster(cluster) if site is not None else cluster)
