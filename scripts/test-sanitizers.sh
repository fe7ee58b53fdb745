#!/usr/bin/env bash
# The whole test suite again, with coldlab and the tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (into build-asan/). Slower to build; CI runs it after test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export COLDLAB_BUILD_DIR=build-asan CMAKE_BUILD_TYPE=Debug
bash scripts/build.sh \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined"
cd build-asan
ctest -j"$(nproc)" --output-on-failure --timeout 300
