"""The serving engines' parallel vocabulary (core/serve_parallel.py): every alias maps to the
ParallelPlan a vLLM/SGLang user means, and every inconsistency is a one-line error saying how to
write it."""

import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.scenario import load_scenario
from scalelab.core.serve_parallel import SERVING_KEYS, resolve_serving_plan


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"tp": 8}, {"tp": 8, "dp": None, "ep": 1, "replicas": None}),
        ({"tensor_parallel_size": 8}, {"tp": 8}),
        ({"pipeline_parallel_size": 2, "tp": 4}, {"pp": 2, "tp": 4}),
        ({"data_parallel_size": 8}, {"dp": 8, "ep": 1}),
        ({"tp": 1, "dp": 144, "ep": 144}, {"tp": 1, "dp": 144, "ep": 144}),
        # vLLM --enable-expert-parallel: the EP group is dp x tp
        ({"tp": 2, "dp": 8, "enable_expert_parallel": True}, {"tp": 2, "dp": 8, "ep": 16}),
        ({"tp": 2, "dp": 8, "enable_expert_parallel": False}, {"tp": 2, "dp": 8, "ep": 1}),
        ({"enable_dbo": True, "ep": 8}, {"dual_microbatch_overlap": True}),
        ({"enable_two_batch_overlap": True, "ep": 8}, {"dual_microbatch_overlap": True}),
        ({"replicas": 2, "tp": 1, "dp": 144, "ep": 144}, {"replicas": 2}),
        # SGLang: tp_size is the engine's GPUs; DP attention splits them into dp_size ranks
        (
            {"tp_size": 32, "dp_size": 32, "enable_dp_attention": True, "ep_size": 32},
            {"tp": 1, "dp": 32, "ep": 32, "replicas": None},
        ),
        (
            {"tp_size": 16, "dp_size": 4, "enable_dp_attention": True, "ep_size": 16},
            {"tp": 4, "dp": 4, "ep": 16},
        ),
        # without DP attention SGLang's dp_size counts independent engines (router DP)
        ({"tp_size": 16, "dp_size": 2}, {"tp": 16, "dp": None, "replicas": 2}),
        ({"tp_size": 8, "pp_size": 2}, {"tp": 8, "pp": 2}),
        ({"moe_dense_tp_size": 1, "ep": 8}, {"optimizations": ["dense-ffn-local"]}),
    ],
)
def test_aliases_map_to_the_plan_users_mean(table, expected):
    plan = resolve_serving_plan(table, "parallel")
    for key, value in expected.items():
        assert getattr(plan, key) == value, key


def test_overlap_left_unset_is_not_in_the_fields_set():
    """perf/serve/layout reads an unset dual_microbatch_overlap as 'let the model pick'."""
    assert "dual_microbatch_overlap" not in resolve_serving_plan({"ep": 8}).model_fields_set
    assert "dual_microbatch_overlap" in resolve_serving_plan({"enable_dbo": False}).model_fields_set


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"tp": 1, "dp": 8, "ep": 16}, "ep 16 must equal dp x tp = 8 x 1 = 8"),
        ({"tp": 1, "dp": 8, "ep": 16}, "write ep = 8, or dp = 16"),
        ({"tp": 4, "ep": 6}, "not a multiple of tp 4"),
        ({"tp": 8, "tensor_parallel_size": 8}, "both tp and tensor_parallel_size"),
        ({"ep": 16, "enable_expert_parallel": False}, "drop ep or set enable_expert_parallel"),
        (
            {"tp": 1, "dp": 8, "ep": 4, "enable_expert_parallel": True},
            "enable_expert_parallel makes ep = dp x tp = 8",
        ),
        ({"tp_size": 8, "data_parallel_size": 2}, "vLLM and SGLang argument names mixed"),
        ({"tp_size": 8, "dp": 2}, "mixed with SGLang"),
        (
            {"tp_size": 8, "dp_size": 3, "enable_dp_attention": True},
            "dp_size 3 must divide tp_size 8",
        ),
        ({"tp_size": 8, "ep_size": 4}, "ep_size 4 must be 1 or 8"),
        ({"tp_size": 8, "dp_size": 2, "replicas": 2}, "drop replicas"),
        ({"tp_size": 0}, "tp_size must be a positive integer"),
        ({"enable_dp_attention": "yes", "tp_size": 8}, "must be true or false"),
        ({"moe_dense_tp_size": 2, "ep": 8}, "moe_dense_tp_size 2 is not modeled"),
        ({"replica": 2}, "replica: unknown field"),
    ],
)
def test_each_inconsistency_is_one_line_that_says_how_to_write_it(table, words):
    with pytest.raises(ConfigError) as err:
        resolve_serving_plan(table, "s.toml: parallel")
    message = str(err.value)
    assert words in message and "\n" not in message
    assert message.startswith("s.toml: parallel")


def test_documented_keys_are_the_accepted_ones():
    for key in ("tp", "dp", "ep", "pp", "replicas", "tensor_parallel_size", "tp_size"):
        assert key in SERVING_KEYS


SCENARIO = {
    "model": "deepseek-v3",
    "hardware": {"accelerator": "h800-sxm5-80gb", "num_devices": 144},
    "workload": {"prompt_tokens": 1024, "output_tokens": 256, "tpot_ms": 40, "ttft_ms": 900},
}


def test_serving_scenarios_read_the_serving_vocabulary_and_latency_targets():
    sc = load_scenario({**SCENARIO, "parallel": {"tp": 1, "dp": 144, "ep": 144}}, "infer")
    assert (sc.plan.tp, sc.plan.dp, sc.plan.ep) == (1, 144, 144)
    assert sc.workload.tpot_target_s == pytest.approx(0.040)
    assert sc.workload.ttft_target_s == pytest.approx(0.9)


def test_target_aliases_conflict_is_an_error():
    bad = {**SCENARIO, "workload": {"tpot_ms": 40, "tpot_target_s": 0.05}}
    with pytest.raises(ConfigError, match="both tpot_s and tpot_target_s"):
        load_scenario(bad, "infer")


def test_training_scenarios_refuse_replicas():
    train = {
        "model": "llama-3.1-8b",
        "hardware": {"accelerator": "h100-sxm5-80gb", "num_devices": 8},
        "parallel": {"dp": 8, "replicas": 2},
        "workload": {"global_batch_size": 8, "seq_len": 1024},
    }
    with pytest.raises(ConfigError, match="replicas is a serving field"):
        load_scenario(train, "train")
