#!/usr/bin/env bash
# Makes VENV hold exactly DIST==VERSION (installed from PIP_SPEC, default DIST==VERSION). Idempotent:
# a venv that already has that version is left alone. The per-tool scripts (dvc-venv.sh,
# dvclive-venv.sh) name their pin and default folder and call this.
#
#   scripts/pinned-venv.sh VENV DIST VERSION [PIP_SPEC]
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
set -euo pipefail
VENV="$1"; DIST="$2"; VERSION="$3"; SPEC="${4:-$DIST==$VERSION}"
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
  echo "error: $PY not found; install Python >= 3.9 or set PYTHON=/path/to/python3" >&2
  exit 2
fi
# An existing venv (possibly reached through a symlink, which `python -m venv` refuses) gets the
# package added; only a missing one is created.
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC"
echo "$DIST $VERSION installed in $VENV"
