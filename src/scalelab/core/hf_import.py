"""Read a Hugging Face `config.json` into a ModelSpec: Llama (2, 3, 4), Mistral, Mixtral, Qwen2,
Qwen3 (dense and MoE), gpt-oss and DeepSeek-V2/V3. What the spec cannot express (sliding-window
or chunked attention, interleaved MoE layers, vision towers) is named by `import_notes`."""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import build
from scalelab.core.specs import MAX_LAYERS, MAX_SEQ_TOKENS, ModelSpec

SUPPORTED = (
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen3",
    "qwen3_moe",
    "llama4",
    "llama4_text",
    "gpt_oss",
    "deepseek_v2",
    "deepseek_v3",
)
_ARCH = {
    "deepseek_v2": "deepseek-v2",
    "deepseek_v3": "deepseek-v3",
    "mistral": "llama",
    "llama4_text": "llama4",
    "gpt_oss": "gpt-oss",
    "qwen3_moe": "qwen3-moe",
}
_ACTIVATIONS = {
    "silu": "swiglu",
    "swish": "swiglu",
    "gelu": "gelu",
    "gelu_new": "gelu",
    "relu": "relu",
}
# quantization_config.quant_method -> the dtype the checkpoint's (expert) weights ship in
_CHECKPOINT_DTYPES = {"fp8": "fp8", "mxfp4": "fp4"}


def is_hf_config(data: dict[str, Any]) -> bool:
    """HF configs carry `model_type` or `architectures`; ours never do."""
    return "model_type" in data or "architectures" in data


def _activation(data: dict[str, Any], where: str) -> str:
    """Our activation for HF's `hidden_act`; one we do not model is an error, not swiglu."""
    name = data.get("hidden_act", "silu")
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ConfigError(
            f"{where}: hidden_act {name!r} is not modeled (known: {', '.join(_ACTIVATIONS)})"
        )
    return _ACTIVATIONS[name]


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ConfigError(f"{where}: config.json lacks '{key}'")
    return data[key]


def text_config(data: dict[str, Any], where: str = "config.json") -> dict[str, Any]:
    """The language model's fields: multimodal configs (Llama 4) nest them under `text_config`."""
    inner = data.get("text_config")
    if data.get("model_type") == "llama4":
        if not isinstance(inner, dict):
            raise ConfigError(f"{where}: a llama4 config.json needs its 'text_config' table")
        merged = {k: v for k, v in data.items() if k not in ("text_config", "vision_config")}
        return {**merged, **inner, "model_type": "llama4_text"}
    return data


def model_from_hf_config(data: dict[str, Any], where: str = "config.json") -> ModelSpec:
    """Map HF field names to ours; an architecture we do not model is a ConfigError."""
    name = data.get("_name_or_path")
    data = text_config(data, where)
    model_type = data.get("model_type")
    if model_type not in SUPPORTED:
        raise ConfigError(
            f"{where}: model_type '{model_type}' is not supported (supported: {', '.join(SUPPORTED)})"
        )
    quant = data.get("quantization_config") or {}
    if not isinstance(quant, dict):
        raise ConfigError(f"{where}: quantization_config must be a table")
    fields: dict[str, Any] = {
        "name": name or str(model_type),
        "arch": _ARCH.get(model_type, model_type),
        "num_layers": _need(data, "num_hidden_layers", where),
        "hidden_size": _need(data, "hidden_size", where),
        "num_attention_heads": _need(data, "num_attention_heads", where),
        "num_key_value_heads": data.get("num_key_value_heads"),
        "vocab_size": _need(data, "vocab_size", where),
        "activation": _activation(data, where),
        "tied_embeddings": data.get("tie_word_embeddings", False),  # checked by build
        # Qwen2 has q/k/v biases without saying so; newer configs state `attention_bias`
        "qkv_bias": data.get("attention_bias", model_type == "qwen2"),  # checked by build
        "checkpoint_dtype": _CHECKPOINT_DTYPES.get(str(quant.get("quant_method"))),
    }
    if data.get("head_dim") is not None:  # 0 is an error, not "absent"
        fields["head_dim"] = data["head_dim"]
    if model_type in ("mixtral", "gpt_oss"):
        fields |= _local_experts(data, where)
    elif model_type == "qwen3_moe":
        fields |= _qwen3_moe_fields(data, where)
    elif model_type == "llama4_text":
        fields |= _llama4_fields(data, where)
    elif model_type.startswith("deepseek"):
        fields |= _deepseek_fields(data, where)
    else:
        fields["ffn_hidden_size"] = _need(data, "intermediate_size", where)
    return build(ModelSpec, fields, where)


def _local_experts(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Mixtral and gpt-oss: every layer MoE, `intermediate_size` is one expert's FFN."""
    return {
        "num_routed_experts": _need(data, "num_local_experts", where),
        "num_experts_per_token": data.get("num_experts_per_tok")
        or _need(data, "experts_per_token", where),
        "moe_ffn_hidden_size": _need(data, "intermediate_size", where),
    }


def _int(data: dict[str, Any], key: str, where: str, default: int | None = None,
         lo: int = 0, hi: int = MAX_LAYERS) -> int:  # fmt: skip
    """An integer the import computes with (layer counts, strides), checked before any loop."""
    value = data.get(key)
    if value is None:
        if default is None:
            raise ConfigError(f"{where}: config.json lacks '{key}'")
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{where}: {key} must be a whole number in {lo}..{hi}, got {value!r}")
    return value


def _layer_list(data: dict[str, Any], key: str, where: str, layers: int) -> list[int]:
    """A list of layer indices (`mlp_only_layers`, `moe_layers`), each in 0..layers-1."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < layers for i in value
    ):
        raise ConfigError(f"{where}: {key} must list layer indices in 0..{layers - 1}")
    return value


def _qwen3_moe_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Qwen3-MoE: experts every `decoder_sparse_step` layers except `mlp_only_layers`
    (transformers' Qwen3MoeDecoderLayer); the dense layers use `intermediate_size`."""
    num_moe = len(_qwen3_moe_layers(data, where))
    fields: dict[str, Any] = {
        "num_routed_experts": _need(data, "num_experts", where),
        "num_experts_per_token": _need(data, "num_experts_per_tok", where),
        "moe_ffn_hidden_size": _need(data, "moe_intermediate_size", where),
        "num_dense_layers": _int(data, "num_hidden_layers", where) - num_moe,
    }
    if num_moe < _int(data, "num_hidden_layers", where):
        fields["dense_ffn_hidden_size"] = _need(data, "intermediate_size", where)
    return fields


def _qwen3_moe_layers(data: dict[str, Any], where: str) -> list[int]:
    step = _int(data, "decoder_sparse_step", where, 1, lo=1)
    layers = _int(data, "num_hidden_layers", where)
    dense = set(_layer_list(data, "mlp_only_layers", where, layers))
    return [i for i in range(layers) if i not in dense and (i + 1) % step == 0]


def _llama4_moe_layers(data: dict[str, Any], where: str) -> list[int]:
    """Llama 4: `moe_layers` when given, else every `interleave_moe_layer_step`-th layer
    (transformers' Llama4TextDecoderLayer: layer i is MoE when (i + 1) % step == 0)."""
    layers = _int(data, "num_hidden_layers", where)
    if data.get("moe_layers") is not None:
        return sorted(set(_layer_list(data, "moe_layers", where, layers)))
    step = _int(data, "interleave_moe_layer_step", where, 1, lo=1)
    return [i for i in range(layers) if (i + 1) % step == 0]


def _llama4_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Llama 4 Scout/Maverick: routed experts plus one shared expert of the same width
    (`intermediate_size`); the dense layers' FFN is `intermediate_size_mlp`."""
    num_moe = len(_llama4_moe_layers(data, where))
    fields: dict[str, Any] = {
        "num_routed_experts": _need(data, "num_local_experts", where),
        "num_shared_experts": 1,
        "num_experts_per_token": _need(data, "num_experts_per_tok", where),
        "moe_ffn_hidden_size": _need(data, "intermediate_size", where),
        "num_dense_layers": _int(data, "num_hidden_layers", where) - num_moe,
    }
    if num_moe < _int(data, "num_hidden_layers", where):
        fields["dense_ffn_hidden_size"] = _need(data, "intermediate_size_mlp", where)
    return fields


def _deepseek_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    return {
        "num_key_value_heads": None,
        "q_lora_rank": data.get("q_lora_rank"),
        "kv_lora_rank": _need(data, "kv_lora_rank", where),
        "qk_nope_head_dim": _need(data, "qk_nope_head_dim", where),
        "qk_rope_head_dim": _need(data, "qk_rope_head_dim", where),
        "v_head_dim": _need(data, "v_head_dim", where),
        "num_routed_experts": _need(data, "n_routed_experts", where),
        "num_shared_experts": 0
        if data.get("n_shared_experts") is None
        else data["n_shared_experts"],
        "num_experts_per_token": _need(data, "num_experts_per_tok", where),
        "moe_ffn_hidden_size": _need(data, "moe_intermediate_size", where),
        "num_dense_layers": data.get("first_k_dense_replace", 0),
        "dense_ffn_hidden_size": _need(data, "intermediate_size", where),
        "mtp_depth": data.get("num_nextn_predict_layers", 0),
    }


def import_notes(data: dict[str, Any]) -> list[str]:
    """What the imported ModelSpec leaves out or approximates, one sentence each."""
    notes: list[str] = []
    if data.get("model_type") == "llama4":
        notes.append("the vision encoder is not counted (text model only)")
    data = text_config(data)
    where = "config.json"
    layers = _int(data, "num_hidden_layers", where, 0)
    types = data.get("layer_types") or []
    sliding = [t for t in types if t == "sliding_attention"] if isinstance(types, list) else []
    window = _int(data, "sliding_window", where, 0, hi=MAX_SEQ_TOKENS)
    if data.get("use_sliding_window") and window and not sliding:
        sliding = ["sliding_attention"] * (_int(data, "max_window_layers", where, 0) or layers)
    if sliding and window:
        notes.append(
            f"{len(sliding)} of {layers} layers attend to a sliding window of {window:,} tokens; "
            "modeled as full attention (KV cache and attention FLOPs at long context are high)"
        )
    if data.get("model_type") == "llama4_text":
        notes += _llama4_notes(data, layers)
    if data.get("model_type") == "gpt_oss":
        notes.append("attention sinks and expert/router biases are not counted (< 0.1% of weights)")
    quant_table = data.get("quantization_config") or {}
    quant = str(quant_table.get("quant_method", "")) if isinstance(quant_table, dict) else ""
    if quant in _CHECKPOINT_DTYPES:
        notes.append(
            f"the checkpoint ships {quant} weights: checkpoint_dtype = "
            f"{_CHECKPOINT_DTYPES[quant]} for every weight (attention may stay bf16 in the file)"
        )
    return notes


def _llama4_notes(data: dict[str, Any], layers: int) -> list[str]:
    notes = []
    moe = _llama4_moe_layers(data, "config.json")
    if 0 < len(moe) < layers:
        notes.append(
            f"MoE on {len(moe)} of {layers} layers (interleaved): modeled as {layers - len(moe)} "
            "dense layers then the MoE layers (same parameters and FLOPs; pipeline stages see "
            "them grouped)"
        )
    chunk = _int(data, "attention_chunk_size", "config.json", 0, hi=MAX_SEQ_TOKENS)
    if chunk:
        notes.append(
            f"chunked local attention ({chunk:,}-token chunks, on the RoPE "
            "layers) is modeled as full attention"
        )
    return notes
