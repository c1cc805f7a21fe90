#!/usr/bin/env bash
# Builds the MinIO server the remote-cache benchmark can run against (`--server minio`) into
# .bench/minio/bin/minio, from the Go module proxy, at a pinned commit; prints the binary's path.
# Needs Go (1.24 or newer). Only the benchmark uses it: the tests run on moto (scripts/moto-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
dir=.bench/minio
bin="$dir/bin/minio"
if [ -x "$bin" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$VERSION" ]; then echo "$PWD/$bin"; exit 0; fi
command -v go >/dev/null || { echo "Go is not installed: MinIO is built from source (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$dir"
GOBIN="$PWD/$dir/bin" GOFLAGS=-modcacherw go install "github.com/minio/minio@$VERSION" >&2
echo "$VERSION" > "$dir/version"
echo "$PWD/$bin"
