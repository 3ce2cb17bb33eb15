"""`scalelab serve`: a local what-if web page over the same functions as the CLI (no second model)."""
