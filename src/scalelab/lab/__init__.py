"""scalelab.lab."""
