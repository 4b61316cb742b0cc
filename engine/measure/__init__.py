"""Measuring quality and speed: evaluation against baselines on clips with known truth (metrics,
synthetic mattes, procedural clips, contact sheets) and benchmarking (paths, FLOPs, timing,
memory)."""
