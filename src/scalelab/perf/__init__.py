"""scalelab.perf."""
