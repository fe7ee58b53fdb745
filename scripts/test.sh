#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit and
# integration, the latter against the real binary, the AWS CLI and boto3) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh ${COLDLAB_CMAKE_ARGS:-}
cd "${COLDLAB_BUILD_DIR:-build}"
ctest -j"$(nproc)" --output-on-failure --timeout 300
