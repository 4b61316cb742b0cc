"""Helpers of the host installer tests: a stand-in for the host's Python, and folder snapshots."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict


def fake_python(folder: Path, exit_code: int = 0) -> Path:
    """An 'interpreter' that records its arguments (the last run's in argv.json, one line a run in
    runs.txt) and leaves a mark in pip's --target."""
    script = folder / "host_python"
    script.write_text(f"#!{sys.executable}\nimport json, pathlib, sys\n"
                      f"pathlib.Path({str(folder / 'argv.json')!r}).write_text(json.dumps(sys.argv[1:]))\n"
                      f"open({str(folder / 'runs.txt')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
                      "pathlib.Path(sys.argv[sys.argv.index('--target') + 1], 'fake-pip').write_text('')\n"
                      f"print('pip says no') if {exit_code} else None\nsys.exit({exit_code})\n")
    script.chmod(0o755)
    return script


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
