"""Diagnostics that watch a training run: gradient flow through depth, and overfitting."""
