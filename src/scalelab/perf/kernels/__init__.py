"""One kernel on one device: GEMM/attention/memory-bound time, tile geometry, fitted efficiencies."""
