"""The analytic performance model (numpy only, no torch), grouped so the folder shows the design:
`model/` architecture arithmetic, `kernels/` one kernel on one device, `comm`/`energy`/`cost`
shared pieces, and `train/` and `serve/` side by side on top of them (import-linter enforces it)."""
