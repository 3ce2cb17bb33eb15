"""The three inputs and the plan: ModelSpec, ClusterSpec, workloads, ParallelPlan (all SI, frozen)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Activation = Literal["swiglu", "geglu", "gelu", "relu"]
Dtype = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"]
Schedule = Literal["none", "gpipe", "1f1b", "interleaved-1f1b", "zero-bubble", "dualpipe"]
Recompute = Literal["none", "selective", "full"]
# Named optimizations a plan may list; docs/perf-model.md ("Optimization flags") gives each one's
# effect and source. Any other name is a ConfigError that lists these.
Optimization = Literal[
    "tp-comm-overlap",
    "cuda-graphs",
    "moe-loop",
    "dp-comm-overlap",
    "flash-attention",
    "no-reshard-after-forward",
    "no-reshard-after-backward",
    "no-async-tp-allreduce",
    "no-grad-accumulation-fusion",
    # read by the serving model (perf/serve/layout.py, docs/inference.md)
    "shared-expert-local",
    "dense-ffn-local",
    "eager",
]
OPTIMIZATIONS: tuple[str, ...] = get_args(Optimization)


class Spec(BaseModel):
    """Base for every spec: immutable, unknown fields are errors, numbers finite and within
    SIZE_LIMITS (at the end of this module)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _within_limits(self) -> Any:
        for name, limit in SIZE_LIMITS.get(type(self).__name__, {}).items():
            value = getattr(self, name, None)
            if isinstance(value, int | float) and value > limit:
                raise ValueError(f"{name} = {value:,} is above the largest supported, {limit:,}")
        return self


class ModelSpec(Spec):
    """A decoder-only transformer, dense or MoE, with MHA/GQA or MLA attention."""

    name: str = "custom"
    catalog_id: str | None = None
    arch: str = "llama"
    source: str | None = None
    num_layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int | None = Field(default=None, gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    ffn_hidden_size: int | None = Field(default=None, gt=0)
    vocab_size: int = Field(gt=0)
    activation: Activation = "swiglu"
    tied_embeddings: bool = False
    qkv_bias: bool = False
    # Multi-head latent attention (DeepSeek-V2/V3); kv_lora_rank set means MLA.
    q_lora_rank: int | None = Field(default=None, ge=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_nope_head_dim: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    # Mixture of experts; the first num_dense_layers layers use a dense FFN.
    num_routed_experts: int = Field(default=0, ge=0)
    num_shared_experts: int = Field(default=0, ge=0)
    num_experts_per_token: int = Field(default=0, ge=0)
    moe_ffn_hidden_size: int | None = Field(default=None, gt=0)
    num_dense_layers: int = Field(default=0, ge=0)
    dense_ffn_hidden_size: int | None = Field(default=None, gt=0)
    # Multi-token prediction modules (DeepSeek-V3), counted separately from the main model.
    mtp_depth: int = Field(default=0, ge=0)
    # dtype of the published weights (DeepSeek-V3 ships FP8); serving uses it unless the workload
    # names a dtype, as vLLM/SGLang load a checkpoint in its own format.
    checkpoint_dtype: Dtype | None = None

    @model_validator(mode="after")
    def _check_shapes(self) -> ModelSpec:
        if self.uses_mla:
            for name in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
                if getattr(self, name) is None:
                    raise ValueError(f"MLA (kv_lora_rank set) needs {name}")
        elif self.head_dim is None and self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"num_attention_heads={self.num_attention_heads} does not divide "
                f"hidden_size={self.hidden_size}"
            )
        if self.num_attention_heads % self.kv_heads:
            raise ValueError(
                f"num_key_value_heads={self.kv_heads} does not divide "
                f"num_attention_heads={self.num_attention_heads}"
            )
        if self.is_moe:
            if self.num_experts_per_token > self.num_routed_experts:
                raise ValueError(
                    f"num_experts_per_token={self.num_experts_per_token} exceeds "
                    f"num_routed_experts={self.num_routed_experts}"
                )
            if self.num_experts_per_token == 0:
                raise ValueError("an MoE model needs num_experts_per_token >= 1")
            if self.moe_ffn_hidden_size is None:
                raise ValueError("an MoE model needs moe_ffn_hidden_size")
        if self.num_dense_layers > self.num_layers:
            raise ValueError("num_dense_layers exceeds num_layers")
        if self.num_dense_ffn_layers > 0 and self.dense_ffn is None:
            raise ValueError("dense layers need ffn_hidden_size or dense_ffn_hidden_size")
        return self

    @property
    def uses_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def is_moe(self) -> bool:
        return self.num_routed_experts > 0

    @property
    def kv_heads(self) -> int:
        return self.num_key_value_heads or self.num_attention_heads

    @property
    def attn_head_dim(self) -> int:
        """Per-head dimension of Q/K/V in MHA/GQA."""
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def qk_head_dim(self) -> int:
        if self.uses_mla:
            return (self.qk_nope_head_dim or 0) + (self.qk_rope_head_dim or 0)
        return self.attn_head_dim

    @property
    def v_dim(self) -> int:
        return (self.v_head_dim or 0) if self.uses_mla else self.attn_head_dim

    @property
    def dense_ffn(self) -> int | None:
        return self.dense_ffn_hidden_size or self.ffn_hidden_size

    @property
    def num_moe_layers(self) -> int:
        return self.num_layers - self.num_dense_layers if self.is_moe else 0

    @property
    def num_dense_ffn_layers(self) -> int:
        return self.num_layers - self.num_moe_layers


class AcceleratorSpec(Spec):
    """One device: dense peak FLOP/s per dtype, HBM, power, price. None = not supported."""

    id: str
    name: str
    kind: Literal["gpu", "tpu", "cpu", "fpga", "cim", "photonic", "asic"] = "gpu"
    vendor: str = ""
    peak_fp32_flops_per_s: float = Field(gt=0)
    peak_tf32_flops_per_s: float | None = Field(default=None, gt=0)
    peak_bf16_flops_per_s: float = Field(gt=0)
    peak_fp16_flops_per_s: float | None = Field(default=None, gt=0)
    peak_fp8_flops_per_s: float | None = Field(default=None, gt=0)
    peak_int8_flops_per_s: float | None = Field(default=None, gt=0)
    peak_fp4_flops_per_s: float | None = Field(default=None, gt=0)
    hbm_bytes: float = Field(gt=0)
    hbm_bandwidth_bytes_per_s: float = Field(gt=0)
    # Published kernel rates that set this device's efficiency curves (perf/kernels/devices.py):
    # achievable large-matmul FLOP/s per dtype (the H200's from the same benchmark is the
    # reference), and fused flash-attention forward FLOP/s at batch 1, 32 heads, seq 4096, head
    # dim 128, causal. None: the H200's fractions of peak.
    matmul_bf16_flops_per_s: float | None = Field(default=None, gt=0)
    matmul_fp8_flops_per_s: float | None = Field(default=None, gt=0)
    flash_fwd_flops_per_s: float | None = Field(default=None, gt=0)
    scale_up_bandwidth_bytes_per_s_per_direction: float | None = Field(default=None, gt=0)
    scale_up_kind: str | None = None
    num_compute_units: int | None = Field(default=None, gt=0)
    tdp_w: float = Field(gt=0)
    idle_w: float | None = Field(default=None, gt=0)
    price_usd_per_hour: float = Field(default=2.0, gt=0)
    default_devices_per_node: int = Field(default=8, gt=0)
    default_scale_out: str | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    assumptions: dict[str, str] = Field(default_factory=dict)
    # Class-specific parameters of emerging devices (CIM, photonic, FPGA, systolic), read by scalelab.hw.emerging.
    emerging: dict[str, float | str] = Field(default_factory=dict)
    # Timings measured by `scalelab calibrate` (lists of {shape/size, time_s, rate} records under
    # gemm, attention, memory, all_reduce, all_gather), for models that use measured efficiency.
    measured: dict[str, Any] = Field(default_factory=dict)

    def peak_flops_per_s(self, dtype: str) -> float:
        """Dense peak for `dtype`; fp8/int8/fp4 fall back to the next wider supported dtype."""
        fallbacks = {
            "fp4": ["fp4", "fp8", "bf16"],
            "fp8": ["fp8", "bf16"],
            "int8": ["int8", "fp8", "bf16"],
            "int4": ["int8", "fp8", "bf16"],
            "fp16": ["fp16", "bf16"],
            "bf16": ["bf16"],
            "tf32": ["tf32", "fp32"],
            "fp32": ["fp32"],
        }
        for name in fallbacks.get(dtype, [dtype]):
            value = getattr(self, f"peak_{name}_flops_per_s", None)
            if value:
                return float(value)
        raise KeyError(dtype)


class LinkSpec(Spec):
    """A scale-up link (NVLink, PCIe, ICI): bandwidth per device per direction. A torus link (TPU
    ICI) joins up to `max_devices` chips directly, `torus_dims` links each way per chip."""

    kind: str
    bandwidth_bytes_per_s_per_direction: float = Field(gt=0)
    latency_s: float = Field(default=1e-6, ge=0)
    torus_dims: int = Field(default=0, ge=0, le=3)  # 0: switched (NVLink, PCIe)
    max_devices: int | None = Field(default=None, gt=0)  # largest domain the link can join
    # Fraction of the nominal bandwidth collectives reach; None = perf.comm's default for
    # datasheet links; 1.0 for a bandwidth that was itself measured (scalelab calibrate).
    achievable_frac: float | None = Field(default=None, gt=0, le=1)


# Scale-out topologies hw/topology.py builds, and the short names it accepts for them.
TOPOLOGIES = ("fat-tree-2", "multi-plane-fat-tree", "fat-tree-3", "slim-fly", "dragonfly",
              "torus-2d", "torus-3d")  # fmt: skip
TOPOLOGY_ALIASES = {"ft2": "fat-tree-2", "fat-tree": "fat-tree-2", "ft3": "fat-tree-3",
                    "mpft": "multi-plane-fat-tree", "sf": "slim-fly", "df": "dragonfly",
                    "torus": "torus-3d", "2d-torus": "torus-2d", "3d-torus": "torus-3d"}  # fmt: skip


def canonical_topology(name: str) -> str:
    """The canonical topology name for `name` or a short name; ValueError naming the known ones."""
    key = name.strip().lower()
    key = TOPOLOGY_ALIASES.get(key, key)
    if key not in TOPOLOGIES:
        raise ValueError(f"unknown topology '{name}' (known: {', '.join(TOPOLOGIES)})")
    return key


class NetworkSpec(Spec):
    """Scale-out network (InfiniBand, RoCE, photonic): NICs per node and their line rate."""

    kind: str
    nics_per_node: int = Field(default=8, gt=0)
    nic_bytes_per_s: float = Field(gt=0)
    latency_s: float = Field(default=5e-6, ge=0)
    topology: str = "fat-tree-2"
    planes: int = Field(default=1, gt=0)
    oversubscription_ratio: float = Field(default=1.0, ge=1.0)
    energy_j_per_bit: float | None = Field(default=None, gt=0)
    achievable_frac: float | None = Field(default=None, gt=0, le=1)  # as LinkSpec's

    @field_validator("topology")
    @classmethod
    def _known_topology(cls, name: str) -> str:
        return canonical_topology(name)


class ClusterSpec(Spec):
    """num_devices accelerators, devices_per_node per node joined by scale_up, nodes by scale_out."""

    name: str = "custom"
    accelerator: AcceleratorSpec
    num_devices: int = Field(gt=0)
    devices_per_node: int = Field(default=8, gt=0)
    scale_up: LinkSpec
    scale_out: NetworkSpec | None = None
    pue: float = Field(default=1.2, ge=1.0)
    # Carbon intensity of the site's electricity: world average 0.45 kg CO2/kWh (IEA, Electricity
    # 2024, 2023 generation mix); a site on hydro or nuclear power runs near 0.02-0.05.
    grid_co2_kg_per_kwh: float = Field(default=0.45, ge=0)

    @model_validator(mode="after")
    def _check_nodes(self) -> ClusterSpec:
        if self.num_devices > self.devices_per_node and self.scale_out is None:
            raise ValueError(
                f"{self.num_devices} devices over nodes of {self.devices_per_node} need a scale_out network"
            )
        if self.num_devices >= self.devices_per_node and self.num_devices % self.devices_per_node:
            raise ValueError(
                f"num_devices={self.num_devices} is not a multiple of devices_per_node={self.devices_per_node}"
            )
        return self

    @property
    def num_nodes(self) -> int:
        return max(1, self.num_devices // self.devices_per_node)


class ParallelPlan(Spec):
    """How one step is split: degrees, ZeRO stage, pipeline schedule, recompute and precision.
    Training reads dp as Megatron does (data-parallel replicas). Serving reads it as vLLM/SGLang
    do: attention data-parallel ranks inside one replica (with ep, ep = dp x tp devices form
    one EP group); `replicas` counts independent copies (docs/inference.md)."""

    dp: int | None = Field(default=None, gt=0)
    replicas: int | None = Field(default=None, gt=0)  # serving only; None = as many as fit
    tp: int = Field(default=1, gt=0)
    pp: int = Field(default=1, gt=0)
    ep: int = Field(default=1, gt=0)
    cp: int = Field(default=1, gt=0)
    zero_stage: Literal[0, 1, 2, 3] = 0
    schedule: Schedule = "1f1b"
    virtual_stages: int | None = Field(default=None, gt=0)
    # None: the whole per-rank batch without pipelining (no gradient accumulation, as DeepSpeed's
    # default gradient_accumulation_steps = 1 and plain DDP/FSDP loops), 1 with pipelining.
    microbatch_size: int | None = Field(default=None, gt=0)
    recompute: Recompute = "none"
    precision: Dtype = "bf16"
    sequence_parallel: bool = True
    comm_sms: int = Field(default=0, ge=0)
    dual_microbatch_overlap: bool = False
    one_expert_per_device: bool = False
    optimizations: list[Optimization] = Field(default_factory=list)

    @field_validator("optimizations", mode="before")
    @classmethod
    def _known_optimizations(cls, value: Any) -> Any:
        for name in value if isinstance(value, list) else []:
            if name not in OPTIMIZATIONS:
                raise ValueError(
                    f"unknown optimization {name!r} (valid: {', '.join(OPTIMIZATIONS)})"
                )
        return value

    def data_parallel_degree(self, num_devices: int) -> int:
        """dp, derived from the device count when not given."""
        if self.dp is not None:
            return self.dp
        return max(1, num_devices // (self.tp * self.pp * self.cp))

    def micro_batch(self, global_batch_size: int, num_devices: int) -> int:
        """microbatch_size, or its default: the per-rank batch when pp = 1, else 1."""
        if self.microbatch_size is not None:
            return self.microbatch_size
        if self.pp > 1:
            return 1
        return max(1, global_batch_size // self.data_parallel_degree(num_devices))


class TrainWorkload(Spec):
    """A training run: tokens per step (global batch x sequence length) and tokens to train."""

    global_batch_size: int = Field(gt=0)
    seq_len: int = Field(gt=0)
    train_tokens: float | None = Field(default=None, gt=0)
    causal_attention: bool = True
    dtype: Dtype = "bf16"
    price_usd_per_device_hour: float | None = Field(default=None, gt=0)

    @property
    def tokens_per_step(self) -> int:
        return self.global_batch_size * self.seq_len


class InferenceWorkload(Spec):
    """A serving workload: prompt/output lengths, concurrency, targets, and modeling switches."""

    phase: Literal["prefill", "decode", "both"] = "both"
    prompt_tokens: int = Field(default=1024, gt=0)
    output_tokens: int = Field(default=256, gt=0)
    batch_size: int | None = Field(default=None, gt=0)
    avg_context_tokens: int | None = Field(default=None, gt=0)
    tokens_per_device: int | None = Field(default=None, gt=0)
    decode_tokens_per_device: int | None = Field(default=None, gt=0)
    dtype: Dtype = "bf16"
    kv_dtype: Dtype | None = None
    dispatch_dtype: Dtype = "fp8"
    combine_dtype: Dtype = "bf16"
    kv_cache_hit_frac: float = Field(default=0.0, ge=0, le=1)
    mtp_acceptance: float | None = Field(default=None, ge=0, le=1)
    topk: int | None = Field(default=None, gt=0)
    limited_groups: int | None = Field(default=None, gt=0)
    scale_out_bandwidth_bytes_per_s: float | None = Field(default=None, gt=0)
    ignore_latency: bool = False
    ignore_compute: bool = False
    causal_attention: bool = True
    ttft_target_s: float | None = Field(default=None, gt=0)
    tpot_target_s: float | None = Field(default=None, gt=0)
    kv_fragmentation_frac: float = Field(default=0.0, ge=0, lt=1)
    # EP all-to-all kernel style (perf/serve/ep.py): DeepEP's high-throughput kernels in prefill
    # and training, its low-latency kernels in decode; "auto" picks by phase.
    ep_kernel: Literal["auto", "high-throughput", "low-latency"] = "auto"
    # Mean / max expert load over the devices of an EP group (1 = perfectly balanced, as DeepSeek's
    # profiles assume); the busiest device sets the pace of experts and all-to-all.
    expert_balance_frac: float = Field(default=1.0, gt=0, le=1)


# Largest value of each count and size the models accept: well beyond every real system (the
# largest clusters have ~10^5 devices, models ~10^2 layers and ~10^4 hidden units), small enough
# that the planner's integer arrays cannot overflow and its loops stay bounded.
MAX_DEVICES = 2**24
MAX_LAYERS = 4096
MAX_WIDTH = 2**20
MAX_HEADS = 2**16
MAX_VOCAB = 2**24
MAX_EXPERTS = 2**16
MAX_SEQ_TOKENS = 2**27
MAX_BATCH = 2**30
_WIDTHS = ("hidden_size", "ffn_hidden_size", "moe_ffn_hidden_size", "dense_ffn_hidden_size",
           "q_lora_rank", "kv_lora_rank")  # fmt: skip
_HEAD_DIMS = ("head_dim", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
SIZE_LIMITS: dict[str, dict[str, float]] = {
    "ModelSpec": {
        "num_layers": MAX_LAYERS,
        "num_dense_layers": MAX_LAYERS,
        "num_attention_heads": MAX_HEADS,
        "num_key_value_heads": MAX_HEADS,
        "vocab_size": MAX_VOCAB,
        "num_routed_experts": MAX_EXPERTS,
        "num_experts_per_token": MAX_EXPERTS,
        "num_shared_experts": 1024,
        "mtp_depth": 64,
        **dict.fromkeys(_WIDTHS, MAX_WIDTH),
        **dict.fromkeys(_HEAD_DIMS, MAX_HEADS),
    },
    "AcceleratorSpec": {"num_compute_units": 2**20, "default_devices_per_node": 2**16},
    "LinkSpec": {"latency_s": 1e6},
    "NetworkSpec": {
        "nics_per_node": 2**16,  # a TPU slice counts one DCN NIC per chip
        "planes": 1024,
        "oversubscription_ratio": 1000.0,
        "latency_s": 1e6,
    },  # fmt: skip
    "ClusterSpec": {"num_devices": MAX_DEVICES, "devices_per_node": 2**16, "pue": 10.0},
    "ParallelPlan": {
        **dict.fromkeys(("dp", "replicas", "tp", "pp", "ep", "cp"), MAX_DEVICES),
        "virtual_stages": MAX_LAYERS,
        "microbatch_size": MAX_BATCH,
        "comm_sms": 4096,
    },
    "TrainWorkload": {
        "global_batch_size": MAX_BATCH,
        "seq_len": MAX_SEQ_TOKENS,
        "train_tokens": 1e18,
        "price_usd_per_device_hour": 1e6,
    },
    "InferenceWorkload": {
        **dict.fromkeys(("prompt_tokens", "output_tokens", "avg_context_tokens"), MAX_SEQ_TOKENS),
        **dict.fromkeys(("batch_size", "tokens_per_device", "decode_tokens_per_device"), MAX_BATCH),
        **dict.fromkeys(("topk", "limited_groups"), MAX_EXPERTS),
    },
}
