"""Specs (model, cluster, workload, plan), units, the catalog, scenario loading, HF config import."""
