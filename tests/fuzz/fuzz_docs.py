"""Input files for the fuzz: a valid base document of each kind scalelab reads, the domain of each
field (as the specs bound it), and strategies that write mutated copies in the file's format."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import tomli_w
import yaml
from fuzz_values import (
    NAMES,
    Bool,
    Choice,
    Doc,
    Domain,
    Fixed,
    Float,
    Int,
    Path,
    Text,
    mutated,
)
from hypothesis import strategies as st

# Bounds of the specs (src/scalelab/core/specs.py): a value beyond one is impossible.
MAX_DEVICES = 2**24
MAX_LAYERS = 4096
MAX_WIDTH = 2**20
MAX_HEADS = 2**16
MAX_VOCAB = 2**24
MAX_EXPERTS = 2**16
MAX_SEQ = 2**27
MAX_BATCH = 2**30

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4")
MODELS = ("llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "qwen2.5-72b")
ACCELERATORS = ("h100-sxm5-80gb", "h800-sxm5-80gb", "h200-sxm-141gb", "b200", "mi300x", "tpu-v5p")
SCALE_UP = ("nvlink4", "nvlink5", "pcie5", "nvlink4-h800")
SCALE_OUT = ("ib-ndr", "ib-hdr", "roce-400g", "ib-xdr")
TOPOLOGIES = (
    "fat-tree-2",
    "multi-plane-fat-tree",
    "fat-tree-3",
    "slim-fly",
    "dragonfly",
    "torus-2d",
    "torus-3d",
)
OPTIMIZATIONS = ("tp-comm-overlap", "cuda-graphs", "dp-comm-overlap", "flash-attention")

BAD_CATALOG_IDS = (["llama-3.1-8b"], 5, True, "no-such-model", "../../etc/passwd", "", 2.5)

MODEL_FIELDS: dict[str, Domain] = {
    "name": Text(),
    "arch": Text(),
    "source": Text(),
    "catalog_id": Fixed(MODELS[:2], BAD_CATALOG_IDS),
    "num_layers": Int(1, MAX_LAYERS, 128),
    "hidden_size": Int(1, MAX_WIDTH, 16384),
    "num_attention_heads": Int(1, MAX_HEADS, 128),
    "num_key_value_heads": Int(1, MAX_HEADS, 128),
    "head_dim": Int(1, MAX_HEADS, 256),
    "ffn_hidden_size": Int(1, MAX_WIDTH, 65536),
    "vocab_size": Int(1, MAX_VOCAB, 300000),
    "activation": Choice(("swiglu", "geglu", "gelu", "relu")),
    "tied_embeddings": Bool(),
    "qkv_bias": Bool(),
    "num_routed_experts": Int(0, MAX_EXPERTS, 256),
    "num_shared_experts": Int(0, 1024, 4),
    "num_experts_per_token": Int(0, MAX_EXPERTS, 16),
    "moe_ffn_hidden_size": Int(1, MAX_WIDTH, 8192),
    "num_dense_layers": Int(0, MAX_LAYERS, 8),
    "mtp_depth": Int(0, 64, 2),
    "checkpoint_dtype": Choice(DTYPES),
}

HARDWARE_FIELDS: dict[Path, Domain] = {
    ("accelerator",): Fixed(ACCELERATORS, BAD_CATALOG_IDS),
    ("num_devices",): Int(1, MAX_DEVICES, 4096),
    ("devices_per_node",): Int(1, 2**16, 16),
    ("pue",): Float(1.0, 10.0),
    ("scale_up", "kind"): Fixed(SCALE_UP, ("ib-ndr", "nope", 3, ["nvlink4"])),
    ("scale_up", "bandwidth_gb_per_s_per_direction"): Float(0, 1e6, lo_open=True),
    ("scale_up", "latency_us"): Float(0, 1e6),
    ("scale_up", "achievable_frac"): Float(0, 1, lo_open=True),
    ("scale_out", "kind"): Fixed(SCALE_OUT, ("nvlink4", "nope", 3)),
    ("scale_out", "nics_per_node"): Int(1, 2**16, 16),
    ("scale_out", "nic_gbit_per_s"): Float(0, 1e6, lo_open=True),
    ("scale_out", "latency_us"): Float(0, 1e6),
    ("scale_out", "topology"): Choice(TOPOLOGIES),
    ("scale_out", "planes"): Int(1, 1024, 16),
    ("scale_out", "oversubscription_ratio"): Float(1.0, 1000.0),
    ("scale_out", "energy_pj_per_bit"): Float(0, 1e6, lo_open=True),
}

PLAN_FIELDS: dict[Path, Domain] = {
    ("dp",): Int(1, MAX_DEVICES, 64),
    ("tp",): Int(1, MAX_DEVICES, 16),
    ("pp",): Int(1, MAX_DEVICES, 16),
    ("ep",): Int(1, MAX_DEVICES, 64),
    ("cp",): Int(1, MAX_DEVICES, 8),
    ("zero_stage",): Fixed((0, 1, 2, 3), (4, -1, True, "1", 1.5)),
    ("schedule",): Choice(("none", "gpipe", "1f1b", "interleaved-1f1b", "zero-bubble", "dualpipe")),
    ("virtual_stages",): Int(1, 4096, 8),
    ("microbatch_size",): Int(1, MAX_BATCH, 8),
    ("recompute",): Choice(("none", "selective", "full")),
    ("precision",): Choice(DTYPES),
    ("sequence_parallel",): Bool(),
    ("comm_sms",): Int(0, 4096, 32),
    ("dual_microbatch_overlap",): Bool(),
    ("one_expert_per_device",): Bool(),
    ("optimizations",): Fixed(
        ([], list(OPTIMIZATIONS[:2]), ["flash-attention"]),
        (["no-such-optimization"], "cuda-graphs", [3], [["x"]]),
    ),
}

TRAIN_WORKLOAD_FIELDS: dict[Path, Domain] = {
    ("global_batch_size",): Int(1, MAX_BATCH, 65536),
    ("seq_len",): Int(1, MAX_SEQ, 131072),
    ("train_tokens",): Float(0, 1e18, lo_open=True),
    ("causal_attention",): Bool(),
    ("dtype",): Choice(DTYPES),
    ("price_usd_per_device_hour",): Float(0, 1e6, lo_open=True),
}

INFER_WORKLOAD_FIELDS: dict[Path, Domain] = {
    ("phase",): Choice(("prefill", "decode", "both")),
    ("prompt_tokens",): Int(1, MAX_SEQ, 131072),
    ("output_tokens",): Int(1, MAX_SEQ, 32768),
    ("batch_size",): Int(1, MAX_BATCH, 4096),
    ("avg_context_tokens",): Int(1, MAX_SEQ, 131072),
    ("tokens_per_device",): Int(1, MAX_BATCH, 65536),
    ("decode_tokens_per_device",): Int(1, MAX_BATCH, 1024),
    ("dtype",): Choice(DTYPES),
    ("kv_dtype",): Choice(DTYPES),
    ("dispatch_dtype",): Choice(DTYPES),
    ("combine_dtype",): Choice(DTYPES),
    ("kv_cache_hit_frac",): Float(0, 1),
    ("mtp_acceptance",): Float(0, 1),
    ("topk",): Int(1, MAX_EXPERTS, 16),
    ("limited_groups",): Int(1, MAX_EXPERTS, 8),
    ("ignore_latency",): Bool(),
    ("ignore_compute",): Bool(),
    ("ttft_ms",): Float(0, 1e9, lo_open=True),
    ("tpot_ms",): Float(0, 1e9, lo_open=True),
    ("kv_fragmentation_frac",): Float(0, 1, hi_open=True),
    ("ep_kernel",): Choice(("auto", "high-throughput", "low-latency")),
    ("expert_balance_frac",): Float(0, 1, lo_open=True),
}

SERVING_PLAN_FIELDS: dict[Path, Domain] = {
    ("tp",): Int(1, MAX_DEVICES, 8),
    ("dp",): Int(1, MAX_DEVICES, 16),
    ("ep",): Int(1, MAX_DEVICES, 64),
    ("pp",): Int(1, MAX_DEVICES, 4),
    ("replicas",): Int(1, MAX_DEVICES, 8),
    ("tensor_parallel_size",): Int(1, MAX_DEVICES, 8),
    ("enable_expert_parallel",): Bool(),
    ("dual_microbatch_overlap",): Bool(),
    ("one_expert_per_device",): Bool(),
    ("optimizations",): PLAN_FIELDS[("optimizations",)],
}


def _under(prefix: Path, fields: dict[Path, Domain]) -> dict[Path, Domain]:
    return {(*prefix, *path): dom for path, dom in fields.items()}


def _model_fields(prefix: Path) -> dict[Path, Domain]:
    return {(*prefix, k): d for k, d in MODEL_FIELDS.items()}


# Top-level `model` of a scenario: a catalog id, an inline table, or something impossible.
MODEL_VALUE = Fixed(
    (*MODELS, {"catalog_id": "llama-3.1-8b", "name": "[bold]x[/]"}),
    (*BAD_CATALOG_IDS, {"catalog_id": ["llama-3.1-8b"]}, {"catalog_id": "nope"}),
)

TRAIN_SCENARIO = {
    "model": {"catalog_id": "llama-3.1-8b"},
    "hardware": {
        "accelerator": "h100-sxm5-80gb",
        "num_devices": 16,
        "scale_up": {"kind": "nvlink4"},
    },
    "parallel": {"tp": 2, "pp": 2, "dp": 4, "zero_stage": 1, "recompute": "selective"},
    "workload": {"global_batch_size": 64, "seq_len": 4096, "train_tokens": 1e12},
}
INFER_SCENARIO = {
    "model": {"catalog_id": "llama-3.1-8b"},
    "hardware": {"accelerator": "h100-sxm5-80gb", "num_devices": 8},
    "parallel": {"tp": 2, "dp": 2},
    "workload": {"prompt_tokens": 1024, "output_tokens": 256, "batch_size": 16},
}
SCENARIO_TABLES: tuple[Path, ...] = (
    ("model",),
    ("hardware",),
    ("parallel",),
    ("workload",),
    ("hardware", "scale_up"),
    ("hardware", "scale_out"),
)


def scenario_fields(phase: str, prefix: Path = ()) -> dict[Path, Domain]:
    workload = TRAIN_WORKLOAD_FIELDS if phase == "train" else INFER_WORKLOAD_FIELDS
    plan = PLAN_FIELDS if phase == "train" else SERVING_PLAN_FIELDS
    return {
        (*prefix, "model"): MODEL_VALUE,
        (*prefix, "hardware"): Fixed(("h100x8", "h800x16"), ("h100x0", "zzz", f"h100x{10**12}")),
        **_model_fields((*prefix, "model")),
        **_under((*prefix, "hardware"), HARDWARE_FIELDS),
        **_under((*prefix, "parallel"), plan),
        **_under((*prefix, "workload"), workload),
    }


# ---- serialized forms --------------------------------------------------------------------------


def to_toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, allow_nan=True)


@dataclass(frozen=True)
class FileDraw:
    """A file's bytes or text and the impossible value it holds ('' if none)."""

    content: str | bytes
    impossible: str = ""


GARBAGE = (
    FileDraw(b"\xff\xfe\x00\x00garbage\x00", "binary garbage"),
    FileDraw("", "empty file"),
    FileDraw("[[[", "syntax error"),
    FileDraw("- a\n- b\n", "a list at the top level"),
    FileDraw("x = 1\nx = 2\n", "duplicate key"),
)


@st.composite
def document(
    draw: st.DrawFn,
    bases: tuple[dict[str, Any], ...],
    fields: dict[Path, Domain],
    fmt: str,
    tables: tuple[Path, ...] = (),
    required: tuple[Path, ...] = (),
    unknown_ok: bool = False,
    top_unknown_ok: bool = False,
) -> FileDraw:
    """A mutated copy of one of `bases` written as `fmt` (toml, yaml, json), or garbage, or a
    truncated copy (which may still parse: not counted as impossible)."""
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return draw(st.sampled_from(GARBAGE))
    base = draw(st.sampled_from(bases))
    doc: Doc = draw(mutated(base, fields, tables, required))
    if unknown_ok or top_unknown_ok:
        extra = "unknown key" if unknown_ok else "unknown key in top"
        parts = [p for p in doc.impossible.split("; ") if p and not p.startswith(extra)]
        doc = Doc(doc.data, "; ".join(parts))
    text = {"toml": to_toml, "yaml": to_yaml, "json": to_json}[fmt](doc.data)
    if roll == 1:
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        return FileDraw(text[:cut])
    return FileDraw(text, doc.impossible)


def scenario_file(phase: str) -> st.SearchStrategy[FileDraw]:
    base = TRAIN_SCENARIO if phase == "train" else INFER_SCENARIO
    alt = {**base, "model": "llama-3.1-8b"}
    return document(
        (base, alt),
        scenario_fields(phase),
        "toml",
        SCENARIO_TABLES,
        (("model",), ("hardware",), ("workload",)),
    )


# ---- validation cases ---------------------------------------------------------------------------

CASE_KINDS = ("model", "train", "inference", "network", "energy")
EXPECT = Fixed((8e9, 0, 1.5, 1, -3.0), (math.nan, math.inf, "x", [1], {"a": 1}, True, None))
MODEL_CASE = {
    "id": "m1",
    "kind": "model",
    "source": "fuzz",
    "model": {"catalog_id": "llama-3.1-8b"},
    "workload": {"dtype": "bf16", "seq_len": 4096},
    "expect": {"total_params": 8.0e9, "kv_cache_bytes_per_token": 131072},
    "tolerance_frac": 0.1,
}
TRAIN_CASE = {"id": "t1", "kind": "train", **{k: v for k, v in TRAIN_SCENARIO.items()}}
TRAIN_CASE |= {"expect": {"step_time_s": 2.0, "mfu": 0.4}, "tolerance_frac": 0.5}
NETWORK_CASE = {
    "id": "n1",
    "kind": "network",
    "hardware": {"topology": "fat-tree-2", "switch_radix": 64, "link_gbit_per_s": 400, "planes": 1},
    "expect": {"max_endpoints": 2048, "num_switches": 96},
    "tolerance_frac": 0.02,
}
CASE_HEAD: dict[Path, Domain] = {
    ("id",): Text(),
    ("kind",): Choice(CASE_KINDS),
    ("source",): Text(),
    ("note",): Text(),
    ("expect", "total_params"): EXPECT,
    ("expect", "step_time_s"): EXPECT,
    ("expect", "max_endpoints"): EXPECT,
    ("tolerance_frac",): Float(0, 1),
}
NETWORK_HW: dict[Path, Domain] = {
    ("hardware", "topology"): Choice(TOPOLOGIES),
    ("hardware", "switch_radix"): Int(2, 1024, 128),
    ("hardware", "link_gbit_per_s"): Float(0, 1e6, lo_open=True),
    ("hardware", "planes"): Int(1, 1024, 16),
}


def case_file() -> st.SearchStrategy[FileDraw]:
    fields: dict[Path, Domain] = {("schema",): Fixed(("scalelab-validation/1",), ("x/1", 1))}
    for path, dom in {**CASE_HEAD, **scenario_fields("train"), **NETWORK_HW}.items():
        fields[("cases", 0, *path)] = dom
    bases = tuple(
        {"schema": "scalelab-validation/1", "cases": [c]}
        for c in (MODEL_CASE, TRAIN_CASE, NETWORK_CASE)
    )
    tables = (("cases",), ("cases", 0), ("cases", 0, "expect")) + tuple(
        ("cases", 0, *t) for t in SCENARIO_TABLES
    )
    required = (("schema",), ("cases", 0, "id"), ("cases", 0, "kind"), ("cases", 0, "expect"))
    # a case file's other top-level keys document it (public.yaml has title, kinds, conventions)
    return document(bases, fields, "yaml", tables, required, top_unknown_ok=True)


# ---- devices for `scalelab place` ---------------------------------------------------------------

DEVICES = {
    "memory_reserve_frac": 0.1,
    "devices": [
        {"name": "gpu0", "accelerator": "h200-sxm-141gb"},
        {"name": "cpu0", "accelerator": "cpu-epyc-9654", "memory_gb": 1536},
    ],
    "links": [{"between": ["gpu0", "cpu0"], "interconnect": "pcie5"}],
    "pins": {"routed_experts": "cpu0"},
}
DEVICE_FIELDS: dict[Path, Domain] = {
    ("memory_reserve_frac",): Float(0, 1, hi_open=True),
    ("devices", 0, "name"): Fixed(("gpu0", "[bold]g"), (3, ["g"], True)),
    ("devices", 0, "accelerator"): Fixed(
        (*ACCELERATORS, {"base": "h100-sxm5-80gb", "name": "[/]x"}),
        (*BAD_CATALOG_IDS, {"base": "nope"}, {"base": "h100-sxm5-80gb", "hbm_gb": -1}),
    ),
    ("devices", 1, "memory_gb"): Float(0, math.inf, lo_open=True, soft=1e6),
    ("devices", 0, "compute_efficiency_frac"): Float(0, 1, lo_open=True),
    ("devices", 1, "memory_efficiency_frac"): Float(0, 1, lo_open=True),
    ("links", 0, "between"): Fixed(
        (["gpu0", "cpu0"], ["cpu0", "gpu0"]), (["gpu0"], ["gpu0", "nope"], "gpu0", [1, 2])
    ),
    ("links", 0, "bandwidth_gb_per_s"): Float(0, 1e6, lo_open=True),
    ("links", 0, "latency_us"): Float(0, 1e6),
    ("links", 0, "interconnect"): Fixed(SCALE_UP, ("nope", 3, ["pcie5"])),
    ("pins", "routed_experts"): Fixed(("cpu0", "gpu0"), ("nope", 3, ["cpu0"])),
    ("pins", "attention"): Fixed(("gpu0",), ("nope",)),
}


def devices_file() -> st.SearchStrategy[FileDraw]:
    tables = (("devices",), ("links",), ("pins",), ("devices", 0), ("links", 0))
    return document((DEVICES,), DEVICE_FIELDS, "toml", tables, (("devices",),))


# ---- RUN.toml for `scalelab train` -------------------------------------------------------------

RUN = {
    "model": {"seq_len": 16, "d_model": 16, "n_layers": 1, "n_heads": 2},
    "data": {"corpus": "shakespeare-sonnets"},
    "train": {"steps": 2, "batch_size": 2, "eval_every": 0, "diagnostics_every": 0},
    "optim": {"lr": 1e-3},
    "output": {"dir": "out", "tensorboard": False, "sample_bytes": 4},
}
RUN_FIELDS: dict[Path, Domain] = {
    ("model", "seq_len"): Int(1, 2**20, 64),
    ("model", "d_model"): Int(1, 2**16, 64),
    ("model", "n_layers"): Int(1, 1024, 4),
    ("model", "n_heads"): Int(1, 1024, 8),
    ("model", "d_ff"): Int(1, 2**18, 128),
    ("model", "vocab_size"): Int(256, 2**20, 512),
    ("model", "dropout"): Float(0, 1, hi_open=True),
    ("model", "mlp"): Choice(("swiglu", "gelu")),
    ("model", "norm"): Choice(("layer", "rms")),
    ("model", "norm_position"): Choice(("pre", "post", "none")),
    ("model", "residual"): Bool(),
    ("model", "init"): Choice(("default", "xavier", "kaiming", "normal")),
    ("model", "tie_embeddings"): Bool(),
    ("data", "corpus"): Fixed(("shakespeare-sonnets",), (3, ["x"], "no-such-corpus")),
    ("data", "val_frac"): Float(0, 1, lo_open=True, hi_open=True),
    ("train", "steps"): Int(1, 10**9, 3),
    ("train", "batch_size"): Int(1, 2**20, 4),
    ("train", "seed"): Fixed((0, 7, 2**32 - 1), (2**64, "x", 1.5, True)),
    ("train", "device"): Choice(("auto", "cpu")),
    ("train", "precision"): Choice(("auto", "fp32", "bf16")),
    ("train", "clip_grad_norm"): Float(0, math.inf, lo_open=True, soft=1e6),
    ("train", "deterministic"): Bool(),
    ("train", "log_every"): Int(1, 10**9, 10),
    ("train", "eval_every"): Int(0, 10**9, 10),
    ("train", "eval_batches"): Int(1, 10**6, 2),
    ("train", "checkpoint_every"): Int(0, 10**9, 10),
    ("train", "early_stopping_patience"): Int(0, 10**9, 3),
    ("optim", "name"): Choice(("adamw", "sgd")),
    ("optim", "lr"): Float(0, math.inf, lo_open=True, soft=1.0),
    ("optim", "min_lr_frac"): Float(0, 1),
    ("optim", "warmup_steps"): Int(0, 10**9, 3),
    ("optim", "schedule"): Choice(("cosine", "constant")),
    ("optim", "weight_decay"): Float(0, math.inf, soft=10),
    ("optim", "betas"): Fixed(([0.9, 0.95],), ([1.5, 0.9], [0.9], "x", [math.nan, 0.9])),
    ("optim", "momentum"): Float(0, 1, hi_open=True),
    ("output", "tensorboard"): Bool(),
    ("output", "sample_bytes"): Int(0, 10**6, 8),
    ("output", "sample_prompt"): Fixed(("\n", "[bold]x"), (3, ["x"])),
    ("output", "temperature"): Float(0, math.inf, lo_open=True, soft=100),
    ("output", "top_k"): Int(1, 2**20, 8),
}


def run_file(must_be_bad: bool = True) -> st.SearchStrategy[FileDraw]:
    """RUN.toml; with `must_be_bad`, only documents holding an impossible value (a valid one
    would train: the valid tiny runs are tested apart)."""
    tables = (("model",), ("data",), ("train",), ("optim",), ("output",))
    strategy = document((RUN,), RUN_FIELDS, "toml", tables)
    if must_be_bad:
        strategy = strategy.filter(lambda f: bool(f.impossible))
    return strategy


# ---- Hugging Face config.json and our model files -------------------------------------------------

HF_LLAMA = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "_name_or_path": "tiny",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 100,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-5,
}
HF_DEEPSEEK = {
    "model_type": "deepseek_v3",
    "hidden_size": 64,
    "intermediate_size": 128,
    "moe_intermediate_size": 32,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "first_k_dense_replace": 1,
    "n_routed_experts": 8,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "kv_lora_rank": 16,
    "q_lora_rank": 32,
    "qk_nope_head_dim": 16,
    "qk_rope_head_dim": 8,
    "v_head_dim": 16,
    "vocab_size": 100,
    "num_nextn_predict_layers": 1,
}
HF_COMMON: dict[Path, Domain] = {
    ("_name_or_path",): Fixed(
        ('a"b\nc = 1\n[x]', "[bold]x[/]", "org/model", "'''"), (3, ["x"], {"a": 1})
    ),
    ("hidden_act",): Fixed(("silu", "swish", "gelu", "gelu_new", "relu"), ("tanh", "bogus", 3)),
    ("num_hidden_layers",): Int(1, MAX_LAYERS, 64),
    ("hidden_size",): Int(1, MAX_WIDTH, 8192),
    ("intermediate_size",): Int(1, MAX_WIDTH, 32768),
    ("num_attention_heads",): Int(1, MAX_HEADS, 64),
    ("vocab_size",): Int(1, MAX_VOCAB, 300000),
    ("tie_word_embeddings",): Bool(),
}
# the fields each family's import reads (others are ignored, as HF configs carry many)
HF_LLAMA_FIELDS: dict[Path, Domain] = {
    **HF_COMMON,
    ("model_type",): Fixed(("llama", "mistral", "qwen2"), ("gpt2", 1, ["llama"], None)),
    ("num_key_value_heads",): Int(1, MAX_HEADS, 64),
    ("head_dim",): Int(1, MAX_HEADS, 256),
}
HF_DEEPSEEK_FIELDS: dict[Path, Domain] = {
    **HF_COMMON,
    ("model_type",): Fixed(("deepseek_v2", "deepseek_v3"), ("gpt2", 1, None)),
    ("moe_intermediate_size",): Int(1, MAX_WIDTH, 4096),
    ("n_routed_experts",): Int(0, MAX_EXPERTS, 256),  # 0: a dense model
    ("n_shared_experts",): Int(0, 1024, 2),
    ("num_experts_per_tok",): Int(1, MAX_EXPERTS, 8),
    ("first_k_dense_replace",): Int(0, MAX_LAYERS, 4),
    ("num_nextn_predict_layers",): Int(0, 64, 2),
    ("kv_lora_rank",): Int(1, MAX_WIDTH, 512),
    ("qk_rope_head_dim",): Int(1, MAX_HEADS, 64),
}
HF_REQUIRED = (("hidden_size",), ("num_hidden_layers",), ("vocab_size",))


def hf_config_file() -> st.SearchStrategy[FileDraw]:
    return st.one_of(
        document((HF_LLAMA,), HF_LLAMA_FIELDS, "json", required=HF_REQUIRED, unknown_ok=True),
        document((HF_DEEPSEEK,), HF_DEEPSEEK_FIELDS, "json", required=HF_REQUIRED, unknown_ok=True),
    )


MODEL_FILE = {
    "name": "tiny",
    "num_layers": 2,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "ffn_hidden_size": 128,
    "vocab_size": 1000,
}


def model_file(fmt: str = "toml") -> st.SearchStrategy[FileDraw]:
    fields = {(k,): d for k, d in MODEL_FIELDS.items() if k != "catalog_id"}
    return document(
        (MODEL_FILE,),
        fields,
        fmt,
        required=(("num_layers",), ("hidden_size",), ("vocab_size",)),
    )


# ---- labelled text for `scalelab data` ------------------------------------------------------------

ROW_TEXT = st.one_of(NAMES, st.text(max_size=40), st.sampled_from(('a,"b', "x\ny", "\t", " ")))


@st.composite
def data_file(draw: st.DrawFn, fmt: str) -> FileDraw:
    """Rows of text and label (some labels empty), as CSV or JSONL; some files lack the text
    column or are broken (impossible)."""
    n = draw(st.integers(0, 12))
    rows = [
        {"text": draw(ROW_TEXT), "label": draw(st.sampled_from(["a", "b", "c", ""]))}
        for _ in range(n)
    ]
    broken = draw(st.sampled_from(["", "", "", "no-text-column", "garbage", "bad-json"]))
    if broken == "garbage":
        return FileDraw(b"\xff\xfe\x00garbage\x00\n", "binary garbage")
    columns = ["text", "label"] if broken != "no-text-column" else ["body", "label"]
    if fmt == "jsonl":
        lines = [json.dumps(dict(zip(columns, r.values(), strict=True))) for r in rows]
        if broken == "bad-json":
            lines.insert(draw(st.integers(0, len(lines))), '{"text": "x", ')
        return FileDraw("\n".join(lines) + "\n", broken if broken else "")
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    writer.writerows([list(r.values()) for r in rows])
    impossible = "no text column" if broken == "no-text-column" else ""
    return FileDraw(buf.getvalue(), impossible)
