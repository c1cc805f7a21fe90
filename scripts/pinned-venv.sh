#!/usr/bin/env bash
# Creates (or repairs) a virtualenv holding one pinned PyPI package. Idempotent: a venv that already
# has the pinned version is left alone, so CI and test set-ups can call it every time.
#
#   scripts/pinned-venv.sh PACKAGE VERSION VENV_DIR
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
set -euo pipefail

PKG="$1"; VERSION="$2"; VENV="$3"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$PKG" "$VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PYEOF
then
  echo "$PKG $VERSION already installed in $VENV"
  exit 0
fi

if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python >= 3.10 or set PYTHON=/path/to/python3" >&2
  exit 2
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PKG==$VERSION"
