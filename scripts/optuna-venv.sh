#!/usr/bin/env bash
# Creates (or repairs) the virtualenv holding the pinned Optuna that `sweep.optuna` drives (the
# study child, python/massflow/optuna_study.py, runs on its interpreter). Idempotent, so CI and the
# test set-up can call it every time. `cmaes` is Optuna's CMA-ES backend (sampler: cmaes);
# `psycopg` (3, with its binary libpq) is the driver SQLAlchemy 2.1 uses for a PostgreSQL study
# storage (storage: postgresql://...).
# PyTorch, which the `gp` sampler needs, is not installed (too large): add it with
# `VENV/bin/python -m pip install torch` to use `gp`.
#
#   scripts/optuna-venv.sh [VENV_DIR]      (default: <repo>/.venv-optuna)
#
# Environment: PYTHON (interpreter to build the venv from; default python3).
# The pins live here and in src/sweep/optuna/venv.ts (OPTUNA_VERSION); a test keeps them equal.
set -euo pipefail

OPTUNA_VERSION="5.0.0"
CMAES_VERSION="0.13.1"
PSYCOPG_VERSION="3.3.9"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-optuna}"
bash "$ROOT/scripts/pinned-venv.sh" "$VENV" optuna "$OPTUNA_VERSION"
bash "$ROOT/scripts/pinned-venv.sh" "$VENV" cmaes "$CMAES_VERSION"
exec bash "$ROOT/scripts/pinned-venv.sh" "$VENV" psycopg "$PSYCOPG_VERSION" "psycopg[binary]==$PSYCOPG_VERSION"
