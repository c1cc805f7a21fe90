#!/usr/bin/env bash
# Creates (or repairs) the project-local virtualenv that runs the MLflow tracking server.
# Idempotent: a venv that already has the pinned mlflow is left alone, so CI can call it on every job.
#
#   scripts/mlflow-venv.sh [VENV_DIR]      (default: <repo>/.venv-mlflow)
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
# The pin lives here and in src/track/server/venv.ts (MLFLOW_VERSION); keep them equal.
set -euo pipefail

MLFLOW_VERSION="3.17.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-mlflow}"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MLFLOW_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("mlflow") == sys.argv[1] else 1)
PYEOF
then
  echo "mlflow $MLFLOW_VERSION already installed in $VENV"
  exit 0
fi

if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python >= 3.10 or set PYTHON=/path/to/python3" >&2
  exit 2
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
"$VENV/bin/mlflow" --version
