#!/usr/bin/env bash
# Creates (or repairs) the virtualenv holding the pinned Optuna that `sweep.optuna` drives (the
# study child, python/massflow/optuna_study.py, runs on its interpreter). Idempotent, so CI and the
# test set-up can call it every time. `cmaes` is Optuna's CMA-ES backend (sampler: cmaes).
#
#   scripts/optuna-venv.sh [VENV_DIR]      (default: <repo>/.venv-optuna)
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
# The pins live here and in src/sweep/optuna/venv.ts (OPTUNA_VERSION); a test keeps them equal.
set -euo pipefail

OPTUNA_VERSION="5.0.0"
CMAES_VERSION="0.13.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-optuna}"
bash "$ROOT/scripts/pinned-venv.sh" "$VENV" optuna "$OPTUNA_VERSION"
exec bash "$ROOT/scripts/pinned-venv.sh" "$VENV" cmaes "$CMAES_VERSION"
