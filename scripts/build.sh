#!/usr/bin/env bash
# Configures and builds coldlab into build/ (or $COLDLAB_BUILD_DIR); extra arguments go to
# cmake's configure step. Incremental when run again.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${COLDLAB_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
