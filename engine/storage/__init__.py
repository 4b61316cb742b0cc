"""Files the engine keeps for itself: checkpoints."""
