"""The `scalelab` command line: one thin module per command group (see cli/main.py)."""
