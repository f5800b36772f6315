#!/usr/bin/env bash
# The main job on the bundled default, on a fresh machine: installs what the build needs, builds
# the release binary, describes the bundled tiny Qwen3 checkpoint and generates from it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product explicitlm
model=Tests/Qwen3Tests/Fixtures/untied-gqa-bf16
.build/release/explicitlm inspect-model --model "$model"
echo "greedy continuation of the ids 11,42,77:"
.build/release/explicitlm generate --model "$model" --ids 11,42,77 --max-new-tokens 16 --print-ids
