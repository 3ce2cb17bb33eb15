"""Hardware what-if: SPECs and presets resolve with their assumptions, topology reaches the
prediction, rows equal `predict train` on the same cluster, ratios are against the baseline."""

from __future__ import annotations

import pytest

from scalelab.core.catalog import load_model
from scalelab.core.errors import ConfigError
from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import InferenceWorkload, TrainWorkload
from scalelab.hw.scaleout import effective_scale_out
from scalelab.perf.train.predict import predict_train
from scalelab.plan.hardware import SWEEP_SPACE
from scalelab.plan.whatif import whatif, whatif_infer, whatif_train
from scalelab.plan.whatif_specs import Target, resolve_target, resolve_targets

MIXTRAL = load_model("mixtral-8x7b")
WL = TrainWorkload(global_batch_size=512, seq_len=4096, train_tokens=1e12, dtype="fp8")
SERVE = InferenceWorkload(prompt_tokens=1024, output_tokens=256, dtype="fp8", tpot_target_s=0.05)


def test_count_specs_round_to_whole_nodes_and_name_it():
    t = resolve_target("gb200x2048")
    assert t.cluster is not None and t.cluster.num_devices == 2016  # 28 NVL72 racks
    assert any("2,016 devices" in n for n in t.notes)
    # one scale-out NIC per GPU, as the NVL72 compute trays
    assert t.cluster.scale_out is not None and t.cluster.scale_out.nics_per_node == 72


def test_tpu_pod_is_an_ici_torus_with_its_oversubscription():
    t = resolve_target("tpu-v5px2048")
    applied = t.applied()
    assert applied.scale_out is not None and applied.scale_out.topology == "torus-3d"
    # 2048 chips: k = 13 per dimension, uniform-traffic ratio 0.75 k (hw/topology.torus)
    assert applied.scale_out.oversubscription_ratio == pytest.approx(0.75 * 13)
    assert any("torus" in n for n in t.notes)


def test_photonic_preset_replaces_only_the_scale_out_network():
    base, photonic = resolve_targets("h800x2048", ["photonic"])
    assert base.cluster is not None and photonic.cluster is not None
    net = photonic.cluster.scale_out
    assert net is not None and net.kind == "photonic-link"
    assert net.nic_bytes_per_s == pytest.approx(6400e9 / 8)  # 6.4 Tbps per port per direction
    assert net.energy_j_per_bit == pytest.approx(3e-12)
    assert photonic.cluster.accelerator == base.cluster.accelerator
    assert photonic.cluster.scale_up == base.cluster.scale_up
    note = photonic.notes[0]
    assert "photonic-link" in note and "6,400 Gbit/s" in note and "3 pJ/bit" in note
    assert "Lightmatter" in note  # the catalog source is quoted


def test_cim_preset_is_a_device_class():
    t = resolve_target("cim", resolve_target("h800x8"))
    assert t.cluster is None and t.emerging_accelerator == "cim-analog"
    with pytest.raises(ConfigError, match="device class"):
        t.applied()


@pytest.mark.parametrize(
    "spec, words",
    [
        ("h999x8", "spec 'h999x8': unknown accelerator"),
        ("quantum", "spec 'quantum': expected ACCELERATORxCOUNT"),
        ("missing-cluster.toml", "spec 'missing-cluster.toml'"),
    ],
)
def test_bad_specs_name_themselves(spec, words):
    with pytest.raises(ConfigError, match=words):
        resolve_targets("h800x2048", [spec])


def test_presets_cannot_be_the_baseline():
    for spec in ("photonic", "cim"):
        with pytest.raises(ConfigError, match="baseline"):
            resolve_targets(spec, ["h100x8"])


def test_applied_cluster_carries_the_topology():
    cluster = resolve_target("h100x64").cluster
    torus_net = cluster.scale_out.model_copy(update={"topology": "torus-3d"})
    torus = Target("torus", cluster.model_copy(update={"scale_out": torus_net}), None, ())
    eff = effective_scale_out(torus.cluster)
    assert eff.oversubscription_ratio > 1
    assert torus.applied().scale_out.oversubscription_ratio == eff.oversubscription_ratio
    assert torus.applied().scale_out.latency_s == eff.latency_s


@pytest.fixture(scope="module")
def train():
    return whatif(
        MIXTRAL, "h100x64", ["h200x64", "photonic", "cim"], "train", train=WL, opts=SWEEP_SPACE
    )


def test_train_rows_equal_predict_train_on_the_same_cluster(train):
    for row, spec in zip(train.rows[:2], ("h100x64", "h200x64"), strict=True):
        cluster = resolve_target(spec).applied()
        single = predict_train(Scenario(MIXTRAL, cluster, row.plan, WL))
        assert single.step_time_s == pytest.approx(row.step_time_s, rel=1e-9)
        assert single.energy_kwh == pytest.approx(row.energy_kwh, rel=1e-9)
        assert single.cost_usd == pytest.approx(row.cost_usd, rel=1e-9)


def test_train_totals_and_ratios(train):
    base = train.rows[0]
    assert base.time_ratio == base.cost_ratio == base.energy_ratio == 1.0
    for row in train.rows[:3]:
        assert row.run_time_s == pytest.approx(1e12 / (512 * 4096) * row.step_time_s)
        assert row.energy_kwh == pytest.approx(row.joules_per_token * 1e12 / 3.6e6)
        assert row.co2_kg == pytest.approx(row.energy_kwh * 0.45)
        assert row.time_ratio == pytest.approx(row.run_time_s / base.run_time_s)
        assert row.assumptions  # every row lists what it rests on
    # the same GPUs with a faster scale-out network never train slower
    assert train.rows[2].run_time_s <= base.run_time_s * (1 + 1e-12)
    cim = train.rows[3]
    assert cim.run_time_s is None and "inference only" in cim.note


def test_a_cluster_file_spec_applies_its_topology(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'accelerator = "h100-sxm5-80gb"\nnum_devices = 64\n'
        '[scale_out]\nkind = "ib-ndr"\ntopology = "torus-3d"\n'
    )
    res = whatif_train(MIXTRAL, resolve_targets("h100x64", [str(path)]), WL, SWEEP_SPACE)
    fat, torus = res.rows
    assert torus.run_time_s > fat.run_time_s  # torus-3d: oversubscribed under all-to-all
    assert any("torus-3d" in a and "oversubscription" in a for a in torus.assumptions)


def test_infer_rows():
    targets = resolve_targets("h100x64", ["h200x64", "photonic", "cim"])
    res = whatif_infer(MIXTRAL, targets, SERVE, num_devices=16)
    base, h200, photonic, cim = res.rows
    assert base.num_devices == 16 and base.tpot_ratio == 1.0
    for row in (base, h200, photonic):
        assert row.tpot_s <= 0.05  # the target is met
        assert row.fastest_tpot_s <= row.tpot_s
        assert row.joules_per_token > 0 and row.usd_per_million_output_tokens > 0
        assert row.tokens_per_s_per_request == pytest.approx(1 / row.tpot_s)
    assert photonic.fastest_tpot_s <= base.fastest_tpot_s * (1 + 1e-12)
    # CIM: enough chips to hold every weight (80M per chip), J/token with PUE
    assert cim.num_devices >= 46.7e9 / 80e6  # Mixtral 8x7B: 46.7B parameters
    assert cim.joules_ratio > 1 and cim.assumptions


def test_unknown_phase():
    with pytest.raises(ConfigError, match="--phase"):
        whatif(MIXTRAL, "h100x8", ["h200x8"], "serve")


def test_resized_serving_cluster_keeps_whole_nodes():
    t = resolve_target("gb200x2048")
    assert t.applied(100).num_devices == 72
    one = t.applied(4)  # less than a node: one partial node, no scale-out network
    assert one.num_devices == one.devices_per_node == 4 and one.scale_out is None
    assert resolve_cluster("h100x64").num_devices == resolve_target("h100x64").applied().num_devices
