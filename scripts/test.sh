#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the build needs, then builds and runs
# every test in release mode (the numeric tests run real models and want optimised code).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-models.sh
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
swift build -c release --build-tests
swift test -c release --skip-build --disable-swift-testing
