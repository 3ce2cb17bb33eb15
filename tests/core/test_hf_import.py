import pytest

from scalelab.core.errors import ConfigError
from scalelab.core.hf_import import import_notes, model_from_hf_config
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


# --- Architectures people deploy today. Field values as in each model's config.json on the
# Hugging Face hub; expected counts from the model cards (cited per test). Tolerances: our count
# leaves out norms' and biases' odd bits the cards include, and the cards round.
QWEN3_8B = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "attention_bias": False,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 12288,
    "max_window_layers": 36,
    "num_attention_heads": 32,
    "num_hidden_layers": 36,
    "num_key_value_heads": 8,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "use_sliding_window": False,
    "vocab_size": 151936,
}
QWEN3_06B = {
    **QWEN3_8B,
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_attention_heads": 16,
    "num_hidden_layers": 28,
    "tie_word_embeddings": True,
}
QWEN3_235B = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "attention_bias": False,
    "decoder_sparse_step": 1,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 12288,
    "mlp_only_layers": [],
    "moe_intermediate_size": 1536,
    "num_attention_heads": 64,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 94,
    "num_key_value_heads": 4,
    "tie_word_embeddings": False,
    "vocab_size": 151936,
}
QWEN3_30B = {
    **QWEN3_235B,
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "moe_intermediate_size": 768,
    "num_attention_heads": 32,
    "num_hidden_layers": 48,
}
_LLAMA4_TEXT = {
    "model_type": "llama4_text",
    "attention_bias": False,
    "attention_chunk_size": 8192,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 5120,
    "interleave_moe_layer_step": 1,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "num_attention_heads": 40,
    "num_experts_per_tok": 1,
    "num_hidden_layers": 48,
    "num_key_value_heads": 8,
    "num_local_experts": 16,
    "tie_word_embeddings": False,
    "vocab_size": 202048,
}
LLAMA4_SCOUT = {
    "architectures": ["Llama4ForConditionalGeneration"],
    "model_type": "llama4",
    "text_config": _LLAMA4_TEXT,
    "vision_config": {"model_type": "llama4_vision_model", "hidden_size": 1408},
}
LLAMA4_MAVERICK = {
    **LLAMA4_SCOUT,
    "text_config": {**_LLAMA4_TEXT, "interleave_moe_layer_step": 2, "num_local_experts": 128},
}
GPT_OSS_120B = {
    "architectures": ["GptOssForCausalLM"],
    "model_type": "gpt_oss",
    "attention_bias": True,
    "experts_per_token": 4,
    "head_dim": 64,
    "hidden_act": "silu",
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "layer_types": ["sliding_attention", "full_attention"] * 18,
    "num_attention_heads": 64,
    "num_experts_per_tok": 4,
    "num_hidden_layers": 36,
    "num_key_value_heads": 8,
    "num_local_experts": 128,
    "quantization_config": {"quant_method": "mxfp4"},
    "sliding_window": 128,
    "tie_word_embeddings": False,
    "vocab_size": 201088,
}
GPT_OSS_20B = {
    **GPT_OSS_120B,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "num_hidden_layers": 24,
    "num_local_experts": 32,
}


@pytest.mark.parametrize(
    ("config", "total", "non_embedding"),
    [
        # Qwen3-8B model card: 8.2B parameters, 6.95B non-embedding
        (QWEN3_8B, 8.2e9, 6.95e9),
        # Qwen3-0.6B model card: 0.6B parameters, 0.44B non-embedding (tied embeddings)
        (QWEN3_06B, 0.6e9, 0.44e9),
    ],
)
def test_qwen3_dense_matches_its_model_card(config, total, non_embedding):
    m = model_from_hf_config(config)
    c = count_params(m)
    assert not m.qkv_bias and not m.is_moe and m.head_dim == 128
    assert c.total == pytest.approx(total, rel=0.01)
    assert c.total - c.embedding - c.head == pytest.approx(non_embedding, rel=0.01)


@pytest.mark.parametrize(
    ("config", "total", "active"),
    [
        # Qwen3-235B-A22B model card: 235B in total, 22B activated
        (QWEN3_235B, 235e9, 22e9),
        # Qwen3-30B-A3B model card: 30.5B in total, 3.3B activated
        (QWEN3_30B, 30.5e9, 3.3e9),
    ],
)
def test_qwen3_moe_matches_its_model_card(config, total, active):
    m = model_from_hf_config(config)
    c = count_params(m)
    assert m.num_routed_experts == 128 and m.num_experts_per_token == 8
    assert m.num_dense_layers == 0 and m.arch == "qwen3-moe"
    assert c.total == pytest.approx(total, rel=0.01)
    assert c.active_per_token == pytest.approx(active, rel=0.03)  # the card rounds to 2 digits


def test_qwen3_moe_dense_layers_follow_mlp_only_layers_and_sparse_step():
    m = model_from_hf_config({**QWEN3_30B, "mlp_only_layers": [0, 1]})
    assert m.num_dense_layers == 2 and m.dense_ffn_hidden_size == 6144
    m = model_from_hf_config({**QWEN3_30B, "decoder_sparse_step": 2})
    assert m.num_dense_layers == 24


@pytest.mark.parametrize(
    ("config", "total", "dense_layers"),
    [
        # Llama 4 model card (meta-llama/Llama-4-Scout-17B-16E): 17B active, 109B total incl.
        # the vision encoder (~0.8B for its 34 layers of width 1,408, which we do not count)
        (LLAMA4_SCOUT, 109e9, 0),
        # Llama-4-Maverick-17B-128E: 17B active, 400B total; MoE on every second layer
        (LLAMA4_MAVERICK, 400e9, 24),
    ],
)
def test_llama4_matches_its_model_card(config, total, dense_layers):
    m = model_from_hf_config(config)
    c = count_params(m)
    assert m.num_shared_experts == 1 and m.num_experts_per_token == 1
    assert m.num_dense_layers == dense_layers
    assert c.total == pytest.approx(total, rel=0.015)
    assert c.active_per_token == pytest.approx(17e9, rel=0.02)


@pytest.mark.parametrize(
    ("config", "total", "active"),
    [
        # gpt-oss model card (arXiv 2508.10925) Table 1: 116.83B total, 5.13B active
        (GPT_OSS_120B, 116.83e9, 5.13e9),
        # gpt-oss-20b: 20.91B total, 3.61B active
        (GPT_OSS_20B, 20.91e9, 3.61e9),
    ],
)
def test_gpt_oss_matches_its_model_card(config, total, active):
    m = model_from_hf_config(config)
    c = count_params(m)
    assert m.qkv_bias and m.head_dim == 64 and m.checkpoint_dtype == "fp4"
    assert c.total == pytest.approx(total, rel=0.002)
    # the card's active count leaves out the embedding lookup (its unembedding is counted)
    assert c.active_per_token - c.embedding == pytest.approx(active, rel=0.005)


def test_import_notes_name_what_is_not_modeled():
    notes = " ".join(import_notes(GPT_OSS_120B))
    assert "18 of 36 layers" in notes and "sliding window of 128 tokens" in notes
    assert "mxfp4" in notes
    notes = " ".join(import_notes(LLAMA4_MAVERICK))
    assert "MoE on 24 of 48 layers" in notes and "vision encoder" in notes
    assert "8,192-token chunks" in notes
    assert import_notes(QWEN3_8B) == []
    assert "40 of 40 layers" in " ".join(
        import_notes(
            {
                **QWEN3_8B,
                "num_hidden_layers": 40,
                "max_window_layers": 40,
                "use_sliding_window": True,
                "sliding_window": 4096,
            }
        )
    )


def test_llama4_without_text_config_is_one_line_error():
    with pytest.raises(ConfigError, match="text_config"):
        model_from_hf_config({"model_type": "llama4"})


@pytest.mark.parametrize(
    ("catalog_id", "config"),
    [
        ("qwen3-235b-a22b", QWEN3_235B),
        ("llama-4-maverick", LLAMA4_MAVERICK),
        ("gpt-oss-120b", GPT_OSS_120B),
    ],
)
def test_new_catalog_entries_match_their_config(catalog_id, config):
    from scalelab.core.catalog import load_model

    entry, imported = load_model(catalog_id), model_from_hf_config(config)
    assert count_params(entry) == count_params(imported)
    assert entry.checkpoint_dtype == imported.checkpoint_dtype
