"""Matching: galleries, distances, verification and identification, threshold calibration (numpy only)."""
