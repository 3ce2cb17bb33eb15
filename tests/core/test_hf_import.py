import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.hf_import import model_from_hf_config
from scalelab.perf.model.params import count_params

# Field values as published in each model's config.json on the Hugging Face hub.
LLAMA_8B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
}
MIXTRAL = {
    "model_type": "mixtral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 32000,
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
    "hidden_act": "silu",
}
DEEPSEEK_V3 = {
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "num_attention_heads": 128,
    "num_hidden_layers": 61,
    "num_key_value_heads": 128,
    "vocab_size": 129280,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "num_nextn_predict_layers": 1,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
}
QWEN = {
    "model_type": "qwen2",
    "hidden_size": 8192,
    "intermediate_size": 29568,
    "num_attention_heads": 64,
    "num_hidden_layers": 80,
    "num_key_value_heads": 8,
    "vocab_size": 152064,
    "tie_word_embeddings": False,
}


def test_llama_8b_has_8b_params():
    m = model_from_hf_config(LLAMA_8B)
    assert m.kv_heads == 8 and m.ffn_hidden_size == 14336
    assert count_params(m).total == pytest.approx(8.03e9, rel=0.005)  # Llama 3 paper: 8B


def test_mixtral_is_moe_with_46b_total_13b_active():
    c = count_params(model_from_hf_config(MIXTRAL))
    assert c.total == pytest.approx(46.7e9, rel=0.01)  # Mixtral paper: 47B total, 13B active
    assert c.active_per_token == pytest.approx(12.9e9, rel=0.02)


def test_deepseek_v3_config_matches_catalog():
    from scalelab.core.catalog import load_model

    imported = model_from_hf_config(DEEPSEEK_V3)
    assert count_params(imported).total == count_params(load_model("deepseek-v3")).total
    assert imported.mtp_depth == 1 and imported.num_dense_layers == 3


def test_qwen_has_qkv_bias():
    assert model_from_hf_config(QWEN).qkv_bias


def test_unknown_architecture():
    with pytest.raises(ConfigError, match="model_type 'gpt_neox' is not supported"):
        model_from_hf_config({"model_type": "gpt_neox", "hidden_size": 8})


def test_missing_field_named():
    bad = {k: v for k, v in LLAMA_8B.items() if k != "num_hidden_layers"}
    with pytest.raises(ConfigError, match="lacks 'num_hidden_layers'"):
        model_from_hf_config(bad)
