#!/usr/bin/env bash
# Creates (or repairs) the virtualenv with DVCLive that the tests of DVCLive stages run their
# scripts with (DVCLive is not a dependency of massflow; scripts that use it bring their own).
# Idempotent: a venv that already has the pinned dvclive is left alone, so CI can call it every job.
#
#   scripts/dvclive-venv.sh [VENV_DIR]      (default: <repo>/.venv-dvclive)
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
# The pin lives here and in test/python/python-env.ts (DVCLIVE_VERSION); keep them equal.
set -euo pipefail

DVCLIVE_VERSION="3.49.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-dvclive}"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import sys; from importlib.metadata import version; sys.exit(version('dvclive') != '$DVCLIVE_VERSION')" 2>/dev/null; then
  echo "dvclive $DVCLIVE_VERSION already installed in $VENV"
  exit 0
fi
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python >= 3.9 or set PYTHON=/path/to/python3" >&2
  exit 2
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "dvclive==$DVCLIVE_VERSION"
echo "dvclive $DVCLIVE_VERSION installed in $VENV"
