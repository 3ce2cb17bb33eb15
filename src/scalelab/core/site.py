"""Where a cluster runs: the price of a device-hour and the carbon intensity of its electricity.
Both default to catalog values (AcceleratorSpec.price_usd_per_hour with its source; ClusterSpec.
grid_co2_kg_per_kwh, the IEA world average) and are overridden here, from a flag or the API."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from scalelab.core import catalog
from scalelab.core.errors import ConfigError
from scalelab.core.specs import AcceleratorSpec, ClusterSpec

PRICE_FLAG = "--price-usd-per-hour"
CO2_FLAG = "--co2-kg-per-kwh"
ANY = "*"
# Coal-fired electricity is ~0.82 kg CO2-eq per kWh (IPCC AR5 WG3 Annex III, Table A.III.2,
# life-cycle median); 10 leaves room for any grid while a typo in the exponent is an error.
MAX_CO2_KG_PER_KWH = 10.0  # a bare price applies to every accelerator
_PAIR_RE = re.compile(r"^\s*(?P<acc>[A-Za-z0-9.\-]+)\s*=\s*(?P<price>[^=,\s]+)\s*$")


def _positive(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{flag}: expected a number, got '{text}'") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{flag} must be a finite number > 0, got {text}")
    return value


def parse_prices(text: str, flag: str = PRICE_FLAG) -> dict[str, float]:
    """`2.5` -> every accelerator at $2.5 per device-hour; `h100=2.5,b200=4` -> per accelerator
    (catalog ids or their unambiguous prefixes, as in `h100x1024`)."""
    if _PAIR_RE.match(text.split(",")[0]) is None:
        return {ANY: _positive(text.strip(), flag)}
    prices: dict[str, float] = {}
    ids = catalog.list_ids("accelerators")
    for part in text.split(","):
        match = _PAIR_RE.match(part)
        if match is None:
            raise ConfigError(f"{flag}: expected PRICE or ID=PRICE,ID=PRICE, got '{part.strip()}'")
        acc = match.group("acc").lower()
        if not any(i == acc or i.startswith(acc) for i in ids):
            raise ConfigError(f"{flag}: unknown accelerator '{acc}' (known: {', '.join(ids)})")
        prices[acc] = _positive(match.group("price"), flag)
    return prices


def parse_co2(value: float | None, flag: str = CO2_FLAG) -> float | None:
    """A carbon intensity from a flag (kg CO2 per kWh, >= 0), None when not given."""
    if value is not None and not 0 <= value <= MAX_CO2_KG_PER_KWH:  # NaN fails this too
        raise ConfigError(f"{flag} must be in 0..{MAX_CO2_KG_PER_KWH:g}, got {value}")
    return value


@dataclass(frozen=True)
class Site:
    """Price and carbon overrides; empty means the catalog's values everywhere."""

    prices_usd_per_hour: Mapping[str, float] = field(default_factory=dict)
    grid_co2_kg_per_kwh: float | None = None

    @classmethod
    def from_flags(cls, price: str | None, co2: float | None) -> Site:
        """The overrides `--price-usd-per-hour` and `--co2-kg-per-kwh` ask for."""
        return cls(parse_prices(price) if price else {}, parse_co2(co2))

    def price_for(self, acc: AcceleratorSpec) -> float | None:
        """The override for `acc`: its exact id, else the longest prefix given, else a bare price."""
        if acc.id in self.prices_usd_per_hour:
            return self.prices_usd_per_hour[acc.id]
        prefixes = [k for k in self.prices_usd_per_hour if k != ANY and acc.id.startswith(k)]
        if prefixes:
            return self.prices_usd_per_hour[max(prefixes, key=len)]
        return self.prices_usd_per_hour.get(ANY)

    def accelerator(self, acc: AcceleratorSpec) -> AcceleratorSpec:
        price = self.price_for(acc)
        if price is None:
            return acc
        return acc.model_copy(update={"price_usd_per_hour": price})

    def cluster(self, cluster: ClusterSpec) -> ClusterSpec:
        """`cluster` with the overridden price of its accelerator and carbon intensity."""
        update: dict[str, object] = {}
        acc = self.accelerator(cluster.accelerator)
        if acc is not cluster.accelerator:
            update["accelerator"] = acc
        if self.grid_co2_kg_per_kwh is not None:
            update["grid_co2_kg_per_kwh"] = self.grid_co2_kg_per_kwh
        return cluster.model_copy(update=update) if update else cluster

    def describe(self) -> str:
        """One line for a table note, empty when nothing is overridden."""
        parts = [
            f"${p:g} per device-hour" if k == ANY else f"{k} at ${p:g} per device-hour"
            for k, p in self.prices_usd_per_hour.items()
        ]
        if self.grid_co2_kg_per_kwh is not None:
            parts.append(f"{self.grid_co2_kg_per_kwh:g} kg CO2 per kWh")
        return ("site: " + ", ".join(parts)) if parts else ""
