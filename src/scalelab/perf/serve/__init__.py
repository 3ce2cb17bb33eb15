"""Inference and serving: prefill/decode steps, KV cache, expert-parallel traffic, disaggregation."""
