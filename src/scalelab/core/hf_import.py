"""Read a Hugging Face `config.json` (Llama, Qwen2, Mixtral, DeepSeek-V2/V3 families) into a ModelSpec."""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import build
from scalelab.core.specs import ModelSpec

SUPPORTED = ("llama", "mistral", "qwen2", "mixtral", "deepseek_v2", "deepseek_v3")
_ACTIVATIONS = {
    "silu": "swiglu",
    "swish": "swiglu",
    "gelu": "gelu",
    "gelu_new": "gelu",
    "relu": "relu",
}


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


def model_from_hf_config(data: dict[str, Any], where: str = "config.json") -> ModelSpec:
    """Map HF field names to ours; an architecture we do not model is a ConfigError."""
    model_type = data.get("model_type")
    if model_type not in SUPPORTED:
        raise ConfigError(
            f"{where}: model_type '{model_type}' is not supported (supported: {', '.join(SUPPORTED)})"
        )
    act = _activation(data, where)
    fields: dict[str, Any] = {
        "name": data.get("_name_or_path") or str(model_type),
        "arch": {
            "deepseek_v2": "deepseek-v2",
            "deepseek_v3": "deepseek-v3",
            "mistral": "llama",
        }.get(model_type, model_type),
        "num_layers": _need(data, "num_hidden_layers", where),
        "hidden_size": _need(data, "hidden_size", where),
        "num_attention_heads": _need(data, "num_attention_heads", where),
        "num_key_value_heads": data.get("num_key_value_heads"),
        "vocab_size": _need(data, "vocab_size", where),
        "activation": act,
        "tied_embeddings": data.get("tie_word_embeddings", False),  # checked by build
        "qkv_bias": model_type == "qwen2",
    }
    if data.get("head_dim") is not None:  # 0 is an error, not "absent"
        fields["head_dim"] = data["head_dim"]
    if model_type == "mixtral":
        fields |= {
            "num_routed_experts": _need(data, "num_local_experts", where),
            "num_experts_per_token": _need(data, "num_experts_per_tok", where),
            "moe_ffn_hidden_size": _need(data, "intermediate_size", where),
        }
    elif model_type.startswith("deepseek"):
        fields |= _deepseek_fields(data, where)
    else:
        fields["ffn_hidden_size"] = _need(data, "intermediate_size", where)
    return build(ModelSpec, fields, where)


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
