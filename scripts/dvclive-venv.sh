#!/usr/bin/env bash
# Creates (or repairs) the virtualenv with DVCLive that the tests of DVCLive stages run their
# scripts with (DVCLive is not a dependency of massflow; scripts that use it bring their own).
#
#   scripts/dvclive-venv.sh [VENV_DIR]      (default: <repo>/.venv-dvclive)
#
# The pin lives here and in test/python/python-env.ts (DVCLIVE_VERSION); keep them equal.
set -euo pipefail

DVCLIVE_VERSION="3.49.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/pip-venv.sh" "${1:-$ROOT/.venv-dvclive}" dvclive "$DVCLIVE_VERSION"
