"""Benchmarks: speed and retrieval quality, always side by side with a baseline in the same run."""
