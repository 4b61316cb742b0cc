"""The method on tensors: the network, the diffusion schedule, training masks, training, sampling,
the interval loop (``inpaint``), settings and presets. No files, sockets, colour or wire here:
callers hand in tensors in the network encoding and a checkpoint store (method/checkpoint.py)."""
