"""Infusion engine: everything heavy. Sub-packages name the parts (docs/architecture.md):
method (the method on tensors), plates (EXR, colour, ROI, the shot pipeline), service (ZeroMQ
server, workers, job store), cli (one module per command), measure (eval and bench), farm
(OpenJD, OpenCue), storage (files the engine keeps for itself: checkpoints)."""
