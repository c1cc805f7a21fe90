#!/usr/bin/env bash
# Creates (or repairs) the virtualenv holding the pinned DVC that the tests use as the oracle for
# `massflow run dvc.yaml`.
#
#   scripts/dvc-venv.sh [VENV_DIR]      (default: <repo>/.venv-dvc)
#
# The pin lives here and in test/dvc/oracle.ts (DVC_VERSION); keep them equal.
set -euo pipefail

DVC_VERSION="3.66.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-dvc}"
bash "$ROOT/scripts/pinned-venv.sh" dvc "$DVC_VERSION" "$VENV"
"$VENV/bin/dvc" --version
