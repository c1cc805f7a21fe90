#!/usr/bin/env bash
# Makes the native TensorFlow backend (@tensorflow/tfjs-node) usable without Google's download host.
#
# tfjs-node's own install script downloads libtensorflow 2.9.1 from storage.googleapis.com; where that
# host is unreachable `npm ci` drops the optional package and massflow falls back to wasm (~3.5x
# slower). The PyPI wheel `tensorflow-cpu` ships a TensorFlow C library that exports every TF_/TFE_
# function the tfjs-node 4.22 addon calls, so this script:
#   1. downloads the wheel once per user, keeps only the two shared libraries (stripped) and the C
#      headers under the per-user cache ($MASSFLOW_CACHE_DIR, else $XDG_CACHE_HOME/massflow, else
#      ~/.cache/massflow), shared by every checkout, installation and project;
#   2. (re)installs @tensorflow/tfjs-node without its install script if `npm ci` dropped it;
#   3. lays out the package's deps/ with links into that cache under the names the addon expects;
#   4. compiles the addon from source against it and checks that it loads and computes.
#
#   massflow setup                        drives this script for the running massflow installation
#   scripts/setup-native-tf.sh [ROOT]     acts on the tfjs-node that ROOT resolves (default: this checkout)
#
# Idempotent: a working native backend built from the same wheel version returns at once.
# Resumable: an interrupted run starts again at the step it had not finished (the downloaded wheel
# is kept in the cache until it is unpacked).
# Exit 0 with a message and nothing changed where the native backend cannot be had here for a reason
# of the environment (no pip, PyPI unreachable, unsupported platform): massflow then uses wasm.
# Exit 1 when the build itself fails, which is a defect worth seeing.
#
# Environment: MASSFLOW_TF_WHEEL_VERSION (default below; the only version verified is 2.21.0),
# PYTHON (interpreter whose pip downloads the wheel; default python3), XDG_CACHE_HOME,
# npm_config_nodedir (a Node install prefix holding include/node/node_api.h; found from `node` if unset).
set -euo pipefail

WHEEL_VERSION="${MASSFLOW_TF_WHEEL_VERSION:-2.21.0}"
ROOT="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
# Where ROOT's require() finds tfjs-node: a global install nests it, a project install hoists it.
find_pkg() { (cd "$ROOT" && node -p 'require("path").dirname(require.resolve("@tensorflow/tfjs-node/package.json", { paths: [process.cwd()] }))' 2>/dev/null) || echo "$ROOT/node_modules/@tensorflow/tfjs-node"; }
PKG="$(find_pkg)"
XDG="${XDG_CACHE_HOME:-}"; case "$XDG" in /*) ;; *) XDG="$HOME/.cache" ;; esac
CACHE_BASE="${MASSFLOW_CACHE_DIR:-$XDG/massflow}"
CACHE="$CACHE_BASE/libtensorflow-cpu-$WHEEL_VERSION"
# Read by src/ml/backend.ts to report which TensorFlow actually runs (the addon says 2.9.1 otherwise).
MARKER_NAME="massflow-libtensorflow.json"
PY="${PYTHON:-python3}"
START=$SECONDS

say() { echo "setup-native-tf: $*"; }
unavailable() {
  say "$*"
  say "native backend not installed; massflow will use the wasm backend (slower, same results up to float rounding)."
  exit 0
}
fail() { say "error: $*" >&2; exit 1; }

# Loads the addon in a fresh process and runs a small op on the 'tensorflow' backend.
verify() {
  (cd "$ROOT" && node -e '
    const tf = require("@tensorflow/tfjs-node");
    if (tf.getBackend() !== "tensorflow") throw new Error("backend is " + tf.getBackend());
    const s = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
    if (s[0] !== 3) throw new Error("matMul gave " + s[0]);
  ' >/dev/null 2>&1)
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) unavailable "only Linux x86_64 is supported by this recipe (found $(uname -s)-$(uname -m))." ;;
esac

if [ -f "$PKG/deps/$MARKER_NAME" ] && grep -q "\"version\": \"$WHEEL_VERSION\"" "$PKG/deps/$MARKER_NAME" \
   && [ -f "$CACHE/.complete" ] && verify; then
  say "already set up (TensorFlow C library $WHEEL_VERSION from the tensorflow-cpu wheel); nothing to do."
  exit 0
fi

# glibc: the wheel's libraries need >= 2.27 (manylinux_2_27).
GLIBC="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
if [ -z "$GLIBC" ] || [ "$(printf '%s\n2.27\n' "$GLIBC" | sort -V | head -1)" != "2.27" ]; then
  unavailable "glibc ${GLIBC:-unknown} found; the TensorFlow wheel needs glibc >= 2.27."
fi
for tool in unzip strip make g++; do
  command -v "$tool" >/dev/null 2>&1 || unavailable "'$tool' is not installed (needed to unpack the wheel and compile the addon)."
done

# node-gyp cannot fetch Node's headers offline: use the prefix of the running node when it has them.
if [ -z "${npm_config_nodedir:-}" ]; then
  NODE_PREFIX="$(dirname "$(dirname "$(command -v node)")")"
  if [ -f "$NODE_PREFIX/include/node/node_api.h" ]; then
    export npm_config_nodedir="$NODE_PREFIX"
  elif [ -f /usr/include/node/node_api.h ]; then
    export npm_config_nodedir=/usr
  else
    unavailable "no Node headers (include/node/node_api.h) next to $(command -v node); set npm_config_nodedir to a Node install prefix that has them."
  fi
fi

# 1. The cache: one stripped copy of the libraries per machine, shared by every checkout.
mkdir -p "$CACHE_BASE"
exec 9>"$CACHE_BASE/.lock"
flock 9   # two checkouts setting up at once must not both unpack 274 MB into the same place
if [ ! -f "$CACHE/.complete" ]; then
  command -v "$PY" >/dev/null 2>&1 || unavailable "$PY not found, so the tensorflow-cpu wheel cannot be downloaded."
  "$PY" -m pip --version >/dev/null 2>&1 || unavailable "$PY has no pip, so the tensorflow-cpu wheel cannot be downloaded."
  TMP="$(mktemp -d "$CACHE_BASE/.tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  # Kept until unpacked, so that an interrupted set-up does not download it again (pip skips a
  # file already in its -d folder; a download cut short leaves nothing there).
  DL="$CACHE_BASE/downloads/tensorflow-cpu-$WHEEL_VERSION"
  mkdir -p "$DL"
  if ls "$DL"/*.whl >/dev/null 2>&1; then
    say "using the tensorflow-cpu==$WHEEL_VERSION wheel downloaded before ($DL)"
  else
    say "downloading tensorflow-cpu==$WHEEL_VERSION from PyPI (about 275 MB, once per user) ..."
    # The C library is the same for every Python tag: try this interpreter's tag, then a common one.
    if ! "$PY" -m pip download --progress-bar on --no-deps --only-binary=:all: --no-cache-dir --retries 1 --timeout 30 \
           -d "$DL" "tensorflow-cpu==$WHEEL_VERSION" 2>"$TMP/pip.err" \
       && ! "$PY" -m pip download --progress-bar on --no-deps --only-binary=:all: --no-cache-dir --retries 1 --timeout 30 \
           --python-version 3.11 --platform manylinux_2_27_x86_64 \
           -d "$DL" "tensorflow-cpu==$WHEEL_VERSION" 2>>"$TMP/pip.err"; then
      tail -3 "$TMP/pip.err" | sed 's/^/  pip: /'
      unavailable "pip could not download tensorflow-cpu==$WHEEL_VERSION (PyPI unreachable or no matching wheel)."
    fi
  fi
  WHEEL="$(ls "$DL"/*.whl | head -1)"
  say "unpacking the C library and headers ..."
  unzip -q "$WHEEL" -d "$TMP/x" \
    'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' \
    'tensorflow/include/tensorflow/core/platform/ctstring*' \
    'tensorflow/include/tsl/platform/ctstring*' \
    'tensorflow/include/xla/tsl/c/*'
  mkdir -p "$TMP/out/lib"
  mv "$TMP/x/tensorflow/include" "$TMP/out/include"
  for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
    # Debug symbols are ~220 MB of the 853 MB; the libraries work without them.
    strip --strip-unneeded -o "$TMP/out/lib/$lib" "$TMP/x/tensorflow/$lib"
  done
  echo "tensorflow-cpu==$WHEEL_VERSION" > "$TMP/out/.complete"
  rm -rf "$CACHE"
  mv "$TMP/out" "$CACHE"
  rm -rf "$TMP" "$DL"
  trap - EXIT
  say "cached in $CACHE ($(du -sh "$CACHE" | cut -f1))"
fi
flock -u 9

# 2. The package: `npm ci` removes an optional package whose install script failed.
TFJS_NODE_VERSION="$(node -p 'const p=require(process.argv[1]); (p.optionalDependencies||{})["@tensorflow/tfjs-node"]||""' "$ROOT/package.json")"
[ -n "$TFJS_NODE_VERSION" ] || fail "@tensorflow/tfjs-node is not an optionalDependency in package.json"
if [ ! -f "$PKG/package.json" ]; then
  say "installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION without its download script ..."
  (cd "$ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null) \
    || unavailable "npm could not install @tensorflow/tfjs-node@$TFJS_NODE_VERSION."
  PKG="$(find_pkg)"
fi
# The folder whose node_modules holds the package: where `npm rebuild` must run.
NM_ROOT="$(cd "$PKG/../../.." && pwd)"

# 3. deps/: the names the addon and its install script look for, linked into the cache.
rm -rf "$PKG/deps"
mkdir -p "$PKG/deps/lib"
ln -s "$CACHE/include" "$PKG/deps/include"
ln -s "$CACHE/lib/libtensorflow_cc.so.2" "$PKG/deps/lib/libtensorflow_cc.so.2"
ln -s "$CACHE/lib/libtensorflow_framework.so.2" "$PKG/deps/lib/libtensorflow_framework.so.2"
for name in libtensorflow.so.2.9.1 libtensorflow.so.2 libtensorflow.so; do
  ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/$name"
done
for name in libtensorflow_framework.so.2.9.1 libtensorflow_framework.so; do
  ln -s libtensorflow_framework.so.2 "$PKG/deps/lib/$name"
done

# 4. Compile the addon from source (otherwise node-pre-gyp first tries to download a prebuilt one).
say "compiling the tfjs-node addon against it ..."
if ! (cd "$NM_ROOT" && npm_config_build_from_source=true npm rebuild @tensorflow/tfjs-node --foreground-scripts >"$CACHE_BASE/last-build.log" 2>&1); then
  tail -20 "$CACHE_BASE/last-build.log" | sed 's/^/  build: /' >&2
  fail "compiling the addon failed (full log: $CACHE_BASE/last-build.log)"
fi
INSTALLED="$(node -p 'require(process.argv[1]).version' "$PKG/package.json")"
printf '{ "source": "pypi tensorflow-cpu", "version": "%s" }\n' "$WHEEL_VERSION" > "$PKG/deps/$MARKER_NAME"
verify || fail "the addon built but does not load or compute; see: cd $ROOT && node -e \"require('@tensorflow/tfjs-node')\""
say "native backend ready: @tensorflow/tfjs-node $INSTALLED on TensorFlow $WHEEL_VERSION ($((SECONDS - START)) s)."
