"""Host adapters (Nuke, Resolve/Fusion) and their shared host-agnostic session code."""
