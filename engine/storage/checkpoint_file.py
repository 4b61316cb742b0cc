"""Checkpoints as atomic files that load with ``weights_only=True`` (tensors, numbers, strings,
lists, dicts; nothing pickled).

A checkpoint is written to a temporary file in the same folder, flushed to disk, then renamed
over the old one, so a crash at any moment leaves either the previous checkpoint or the new one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from infusion.protocol.files import atomic_path


@dataclass(frozen=True)
class CheckpointFile:
    """The checkpoint store of one run at ``path`` (engine/method/checkpoint.py's interface)."""

    path: Path

    def load(self) -> Optional[Dict[str, Any]]:
        return load_checkpoint(self.path)

    def save(self, state: Dict[str, Any]) -> None:
        with atomic_path(self.path) as temporary:
            torch.save(state, temporary)

    def describe(self) -> str:
        return str(self.path)


def load_checkpoint(path: Path) -> Optional[Dict[str, Any]]:
    """The checkpoint at ``path`` (weights only, on the CPU), or None if there is none."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a corrupt file must name itself, not crash obscurely
        raise ValueError(f"checkpoint {path} cannot be read ({error}); delete it to start over") from error
