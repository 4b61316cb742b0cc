#!/usr/bin/env bash
# Sets up a virtual environment in .venv with the engine and its test tools.
# torch is installed first and pinned (2.13.0, the CPU build this studio mirrors locally), so that
# no other requirement pulls a multi-GB CUDA build. On a GPU server, install the torch build that
# matches its CUDA driver into .venv before running this script; an installed torch is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet "torch==${INFUSION_TORCH_VERSION:-2.13.0}"
fi
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "infusion is set up in $(pwd)/.venv"
