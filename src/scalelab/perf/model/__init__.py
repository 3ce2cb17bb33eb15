"""Architecture arithmetic: parameters, FLOPs and memory footprints (no time)."""
