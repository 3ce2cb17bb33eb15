"""The algorithm-side experiments behind `scalelab diagnose`: small, seeded, CPU-sized."""
