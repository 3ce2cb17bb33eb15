"""Searches over the model: training plans and hardware (search), serving deployments (serve), and
hardware what-ifs (whatif)."""
