"""Verification metrics for benchmarking: LFW pairs parsing, accuracy/ROC/EER, and plots (no Qt, no torch)."""
