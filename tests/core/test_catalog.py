import pytest

from scalelab.core import catalog
from scalelab.core.errors import CatalogError

REQUIRED_MODELS = {
    "deepseek-v3",
    "deepseek-v2",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "qwen2.5-72b",
    "mixtral-8x7b",
    "gpt3-175b",
}
REQUIRED_ACCELERATORS = {
    "a100-sxm4-80gb",
    "h100-sxm5-80gb",
    "h800-sxm5-80gb",
    "h200-sxm-141gb",
    "b200",
    "gb200",
    "mi300x",
    "tpu-v4",
    "tpu-v5p",
    "tpu-v5e",
}
REQUIRED_LINKS = {
    "pcie4",
    "pcie5",
    "nvlink3",
    "nvlink4",
    "nvlink4-h800",
    "nvlink5",
    "ib-hdr",
    "ib-ndr",
    "roce-400g",
}


def test_required_entries_present():
    assert REQUIRED_MODELS <= set(catalog.list_ids("models"))
    assert REQUIRED_ACCELERATORS <= set(catalog.list_ids("accelerators"))
    assert REQUIRED_LINKS <= set(catalog.list_ids("interconnects"))


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_every_number_has_a_source(kind):
    for cid in catalog.list_ids(kind):
        raw = catalog.load_raw(kind, cid)
        assert catalog.uncovered_numbers(raw) == [], f"{kind}/{cid}"


def test_every_entry_loads():
    for cid in catalog.list_ids("models"):
        assert catalog.load_model(cid).num_layers > 0
    for cid in catalog.list_ids("accelerators"):
        assert catalog.load_accelerator(cid).peak_bf16_flops_per_s > 1e11


def test_units_converted_on_load():
    h800 = catalog.load_accelerator("h800-sxm5-80gb")
    assert h800.peak_bf16_flops_per_s == pytest.approx(989.4e12)
    assert h800.hbm_bytes == 81559 * 2**20  # nvidia-smi's MiB, not the datasheet's '80GB'
    assert h800.scale_up_bandwidth_bytes_per_s_per_direction == pytest.approx(200e9)
    assert catalog.load_network("ib-ndr").nic_bytes_per_s == pytest.approx(50e9)


def test_unknown_id_names_the_known_ones():
    with pytest.raises(CatalogError, match="unknown model 'gpt5'.*deepseek-v3"):
        catalog.load_model("gpt5")


def test_hbm_capacity_in_the_unit_its_source_states():
    """One capacity key per accelerator, and the note it cites names the same unit (GB = 1e9 B,
    GiB = 2^30 B, MiB = 2^20 B), so a datasheet "80GB" is never read as 80 GiB or the reverse."""
    units = {"hbm_gb": "GB", "hbm_gib": "GiB", "hbm_mib": "MiB"}
    for cid in catalog.list_ids("accelerators"):
        raw = catalog.load_raw("accelerators", cid)
        keys = [k for k in units if k in raw]
        assert len(keys) == 1, (cid, keys)
        notes = {**raw.get("sources", {}), **raw.get("assumptions", {})}
        note = notes.get(keys[0]) or notes.get("hbm", "")
        assert units[keys[0]] in note.replace("GBps", ""), (cid, note)
