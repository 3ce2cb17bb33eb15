"""scalelab.data."""
