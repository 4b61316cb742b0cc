"""Render farm: Open Job Description templates and bundles, and OpenCue job specs."""
