"""Single-device models with switches for the algorithm-side experiments (residual, norm, init)."""
