"""`kind: energy` scenario cases (training and decode: joules_per_token, board_w, tpot_s) and
`kind: network` EP all-to-all cases (dispatch/combine bandwidth) are scored, not unsupported."""

import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.scenario import load_scenario
from scalelab.perf.serve.predict import predict_inference
from scalelab.perf.train.predict import predict_train
from scalelab.validate.metrics_energy import compute as energy_metrics
from scalelab.validate.metrics_network import compute as network_metrics
from scalelab.validate.runner import DEFAULT_CASE_FILES, load_cases, run_case

TRAIN = {
    "id": "t",
    "kind": "energy",
    "model": "llama-3.1-8b",
    "hardware": {"accelerator": "h100-sxm5-80gb", "num_devices": 8},
    "parallel": {"dp": 8, "tp": 1, "pp": 1, "zero_stage": 1, "schedule": "none"},
    "workload": {"global_batch_size": 64, "seq_len": 4096},
    "expect": {"joules_per_token": 0.1, "board_w": 500},
    "tolerance_frac": 0.9,
}
DECODE = {
    "id": "d",
    "kind": "energy",
    "model": "llama-3.1-8b",
    "hardware": {"accelerator": "h100-sxm5-80gb", "num_devices": 1},
    "workload": {"prompt_tokens": 512, "output_tokens": 256, "batch_size": 32},
    "expect": {"joules_per_token": 0.1, "board_w": 400, "tpot_s": 0.01},
    "tolerance_frac": 0.9,
}


def test_training_energy_is_board_power_times_devices_over_tokens_per_second():
    out = energy_metrics(TRAIN)
    tables = {k: TRAIN[k] for k in ("model", "hardware", "parallel", "workload")}
    pred = predict_train(load_scenario(tables, "train"))
    assert out["board_w"] == pytest.approx(pred.avg_device_power_w)
    assert out["joules_per_token"] == pytest.approx(pred.avg_device_power_w * 8 / pred.tokens_per_s)
    assert out["facility_joules_per_token"] > out["joules_per_token"]  # node overhead and PUE


def test_decode_energy_is_board_power_over_output_rate():
    out = energy_metrics(DECODE)
    sc = load_scenario({**DECODE, "workload": {**DECODE["workload"], "phase": "decode"}}, "infer")
    r = predict_inference(sc.model, sc.cluster, sc.plan, sc.workload)
    assert out["tpot_s"] == pytest.approx(r.tpot_s)
    assert out["board_w"] == pytest.approx(r.board_w)
    assert out["joules_per_token"] == pytest.approx(r.board_w / r.output_tokens_per_s_per_device)
    assert 0 < out["joules_per_token"] < out["facility_joules_per_token"]


def test_energy_cases_are_scored_not_unsupported():
    for case in (TRAIN, DECODE):
        result = run_case(case)
        assert result.message == ""
        assert all(m.predicted is not None for m in result.metrics), result


def test_prefill_only_energy_case_is_refused():
    bad = {**DECODE, "workload": {**DECODE["workload"], "phase": "prefill"}}
    with pytest.raises(ConfigError, match="phase must be decode"):
        energy_metrics(bad)


EP = {
    "id": "e",
    "kind": "network",
    "hardware": {"accelerator": "h800-sxm5-80gb", "num_devices": 32},
    "parallel": {"ep": 32},
    "workload": {"tokens_per_device": 4096, "topk": 8, "limited_groups": 4},
    "expect": {"dispatch_bytes_per_s": 58e9, "combine_bytes_per_s": 57e9},
    "tolerance_frac": 0.2,
}


def test_ep_cases_pick_the_kernel_style_from_the_workload():
    ht = network_metrics(EP)
    ll = network_metrics({**EP, "workload": {"decode_tokens_per_device": 128, "topk": 8}})
    forced = network_metrics({**EP, "workload": {**EP["workload"], "ep_kernel": "low-latency"}})
    assert ht["dispatch_s"] > ll["dispatch_s"]  # 4096 tokens vs 128
    assert forced["dispatch_bytes_per_s"] != pytest.approx(ht["dispatch_bytes_per_s"])
    assert ht["message_bytes"] == pytest.approx(7168 * (1 + 4 / 128))


def test_ep_case_hidden_comes_from_the_model():
    small = network_metrics({**EP, "model": "llama-3.1-8b"})  # hidden 4096 instead of 7168
    assert small["message_bytes"] == pytest.approx(4096 * (1 + 4 / 128))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"workload": {"topk": 8}}, "tokens_per_device is required"),
        ({"parallel": {"ep": 64}}, "parallel.ep 64 exceeds hardware.num_devices 32"),
        ({"workload": {"tokens_per_device": 64, "top_k": 8}}, "top_k: unknown field"),
    ],
)
def test_bad_ep_cases_are_one_line(change, words):
    with pytest.raises(ConfigError, match=words):
        network_metrics({**EP, **change})


def test_topology_cases_still_go_to_the_topology_model():
    case = {"id": "x", "kind": "network", "hardware": {"topology": "fat-tree-2"}, "expect": {}}
    assert network_metrics(case)["max_endpoints"] > 0


def test_default_case_files_include_the_serving_cases():
    assert DEFAULT_CASE_FILES[0] == "public.yaml" and "serving-public.yaml" in DEFAULT_CASE_FILES
    kinds = {(c["kind"], "dispatch_bytes_per_s" in c["expect"]) for c in load_cases()}
    assert ("network", True) in kinds
    assert any("joules_per_token" in c["expect"] for c in load_cases() if c["kind"] == "energy")
