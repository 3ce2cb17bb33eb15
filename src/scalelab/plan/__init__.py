"""scalelab.plan."""
