"""Infusion engine: the method (model, diffusion, training, sampling) and everything heavy."""
