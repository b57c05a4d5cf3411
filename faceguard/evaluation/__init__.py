"""Benchmarking: LFW pairs, verification (1:1) and open-set identification (1:N) figures, and their plots."""
