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
exec bash "$ROOT/scripts/pinned-venv.sh" "$VENV" dvc "$DVC_VERSION"
