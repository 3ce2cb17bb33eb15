"""scalelab.validate."""
