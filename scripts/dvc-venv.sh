#!/usr/bin/env bash
# Creates (or repairs) the virtualenv holding the pinned DVC that the tests use as the oracle for
# `massflow run dvc.yaml`. Idempotent: a venv that already has the pinned DVC is left alone, so CI
# and the test set-up can call it every time.
#
#   scripts/dvc-venv.sh [VENV_DIR]      (default: <repo>/.venv-dvc)
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
# The pin lives here and in test/dvc/oracle.ts (DVC_VERSION); a test keeps them equal.
set -euo pipefail

DVC_VERSION="3.66.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-dvc}"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/dvc" ] && "$VENV/bin/python" - "$DVC_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("dvc") == sys.argv[1] else 1)
PYEOF
then
  echo "dvc $DVC_VERSION already installed in $VENV"
  exit 0
fi

if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python >= 3.9 or set PYTHON=/path/to/python3" >&2
  exit 2
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "dvc==$DVC_VERSION"
"$VENV/bin/dvc" --version
