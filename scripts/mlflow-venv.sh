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
bash "$ROOT/scripts/pinned-venv.sh" mlflow "$MLFLOW_VERSION" "$VENV"
"$VENV/bin/mlflow" --version
