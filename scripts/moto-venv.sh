#!/usr/bin/env bash
# Creates (or repairs) the virtualenv holding moto's S3 server, which the remote-cache tests start on
# 127.0.0.1 as their S3-compatible store. Idempotent: a venv with the pinned moto is left alone.
#   scripts/moto-venv.sh [VENV_DIR]      (default: <repo>/.venv-moto; PYTHON picks the interpreter)
# The pin lives here and in test/remote/moto.ts (MOTO_VERSION); keep them equal.
set -euo pipefail
MOTO_VERSION="5.2.6"
VENV="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-moto}"
if "$VENV/bin/python" -c "import sys, flask, moto; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "moto $MOTO_VERSION already in $VENV"
else
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
