#!/usr/bin/env bash
# Tokenizer encode speed, ours against Hugging Face `tokenizers` on one thread (see tokenizer_bench.py).
# Usage: bench/tokenizer_bench.sh [--rounds N] [--tokenizer DIR] [--megabytes MB]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/tokenizer_bench.py "$@"
