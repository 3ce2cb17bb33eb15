"""scalelab.compress."""
