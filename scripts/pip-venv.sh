#!/usr/bin/env bash
# Creates (or repairs) a virtualenv holding one pinned PyPI distribution. Idempotent: a venv that
# already has the pinned version is left alone, so CI can call it on every job.
#
#   scripts/pip-venv.sh VENV_DIR DISTRIBUTION VERSION
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
set -euo pipefail

VENV="$1"; DIST="$2"; VERSION="$3"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$DIST" "$VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PYEOF
then
  echo "$DIST $VERSION already installed in $VENV"
  exit 0
fi

if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python >= 3.10 or set PYTHON=/path/to/python3" >&2
  exit 2
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$DIST==$VERSION"
echo "$DIST $VERSION installed in $VENV"
