"""Plates: EXR I/O (OpenImageIO), colour (OpenColorIO), the region of interest and the composite,
frame sequences, the matte rule, and the shot pipeline (EXR sequences in, EXR sequences out)."""
