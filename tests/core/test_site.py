import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.scenario import cluster_from_string
from scalelab.core.site import Site, parse_co2, parse_prices
from scalelab.perf.energy import run_energy


def test_bare_price_applies_to_every_accelerator():
    site = Site(parse_prices("2.75"))
    c = site.cluster(cluster_from_string("h100x16"))
    assert c.accelerator.price_usd_per_hour == 2.75
    assert site.cluster(cluster_from_string("b200x8")).accelerator.price_usd_per_hour == 2.75


def test_prices_per_accelerator_by_id_or_prefix():
    site = Site(parse_prices("h100=2.5, b200=4"))
    assert site.cluster(cluster_from_string("h100x8")).accelerator.price_usd_per_hour == 2.5
    assert site.cluster(cluster_from_string("b200x8")).accelerator.price_usd_per_hour == 4.0
    h800 = cluster_from_string("h800x8")
    assert site.cluster(h800) is h800  # not named: the catalog price stays


@pytest.mark.parametrize("text", ["free", "0", "-1", "h100=", "nvidia-x9=2", "h100=2,3"])
def test_bad_prices_name_the_flag(text):
    with pytest.raises(ConfigError, match="--price-usd-per-hour"):
        parse_prices(text)


def test_co2_override_changes_the_carbon_of_a_run_only():
    base = cluster_from_string("h100x8")
    green = Site(grid_co2_kg_per_kwh=0.045).cluster(base)
    a = run_energy(base, 3600.0, 1e18, 1e15)
    b = run_energy(green, 3600.0, 1e18, 1e15)
    assert base.grid_co2_kg_per_kwh == 0.45  # the IEA world average default
    assert b.energy_kwh == pytest.approx(a.energy_kwh, rel=1e-12)
    assert b.co2_kg == pytest.approx(a.co2_kg / 10, rel=1e-9)
    assert a.co2_kg == pytest.approx(a.energy_kwh * 0.45, rel=1e-9)
    with pytest.raises(ConfigError, match="--co2-kg-per-kwh"):
        parse_co2(-0.1)


def test_describe_names_the_overrides():
    assert Site().describe() == ""
    text = Site(parse_prices("h100=2.5"), 0.1).describe()
    assert "h100 at $2.5 per device-hour" in text and "0.1 kg CO2 per kWh" in text
