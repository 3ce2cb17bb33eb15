"""scalelab.hw."""
