"""scalelab.cli."""
