#!/usr/bin/env bash
# Encodes the same few-MB corpus line by line with our tokenizer (release `explicitlm tokenize --bench`)
# and with Hugging Face `tokenizers` on one thread, and prints both rates and their ratio (ours / theirs).
# Usage: bench/tokenizer_bench.sh [TOKENIZER_DIR] [MEGABYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
TOK=${1:-../shared/testdata/qwen3-tokenizer}
MB=${2:-4}
CORPUS=${TMPDIR:-/tmp}/explicitlm-tokenizer-corpus-${MB}mb.txt
[ -f "$CORPUS" ] || python3 bench/make_tokenizer_corpus.py "$CORPUS" --megabytes "$MB"
swift build -c release --product explicitlm >/dev/null
ours=$(.build/release/explicitlm tokenize --tokenizer "$TOK" --file "$CORPUS" --bench)
theirs=$(TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 python3 bench/tokenizer_bench.py "$TOK/tokenizer.json" "$CORPUS")
echo "ours:   $ours"
echo "theirs: $theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if (a["tokens"], a["checksum"]) != (b["tokens"], b["checksum"]):
    print(f"WARNING: ids differ: ours {a['tokens']} tokens (checksum {a['checksum']}) vs tokenizers {b['tokens']} ({b['checksum']})")
else:
    print(f"ids identical: {a['tokens']} tokens, checksum {a['checksum']}")
r, e, bb = a["tokens_per_second"], b["tokens_per_second"], b["batch_tokens_per_second"]
print(f"encode: ours {r/1e6:.2f} M tok/s; tokenizers (1 thread) encode per line {e/1e6:.2f} M tok/s, "
      f"encode_batch {bb/1e6:.2f} M tok/s")
print(f"ratio ours/tokenizers: {r/max(e, bb):.2f}x against the faster of the two ({r/e:.2f}x vs encode, {r/bb:.2f}x vs encode_batch)")
print(f"load:   ours {a['load_seconds']:.3f} s, tokenizers {b['load_seconds']:.3f} s")
PY
