"""Validation: run cases of the scalelab-validation/1 schema and score predicted vs expected."""
