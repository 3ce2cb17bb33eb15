"""scalelab.core."""
