#!/usr/bin/env bash
# The PyTorch the training-speed benchmark compares against, in a virtualenv under .bench/ (ignored
# by git). Idempotent. PyPI's Linux torch wheel is the CUDA build: it runs on CPU but needs its
# nvidia-* dependency wheels installed to import (about 5 GB in all).
set -euo pipefail
TORCH_VERSION="2.15.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.bench/venv"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy
