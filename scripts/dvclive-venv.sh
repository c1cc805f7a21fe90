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
exec bash "$ROOT/scripts/pinned-venv.sh" "$VENV" dvclive "$DVCLIVE_VERSION"
