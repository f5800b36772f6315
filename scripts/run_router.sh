#!/usr/bin/env bash
# The router stage (method.md §8), as the seed's run_router.sh: builds the bank when it is missing,
# labels the conversations (the gold row of each fact_uuid, else the embedder's top-k), and trains
# the dense retriever's MemoryGate. The one edit it needs is MODEL_PATH; any key=value argument is
# passed on to train-router (for example training.epochs=10).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_PATH=${MODEL_PATH:-/path/to/Qwen3-0.6B}   # a Qwen3 checkpoint directory in Hugging Face format
KNOWLEDGE=${KNOWLEDGE:-data/knowledge.jsonl}    # the knowledge base (method §7)
SFT_DATA=${SFT_DATA:-data/sft_train.jsonl}      # conversations, ideally with fact_uuid
OUT=${OUT:-out}

[ -f "$MODEL_PATH/config.json" ] || { echo "run_router.sh: set MODEL_PATH to a Qwen3 model directory (no $MODEL_PATH/config.json)" >&2; exit 1; }
bin=.build/release/explicitlm
[ -x "$bin" ] || swift build -c release --product explicitlm
[ -d "$OUT/bank" ] || "$bin" build-memory --model "$MODEL_PATH" --knowledge "$KNOWLEDGE" --out "$OUT/bank"
"$bin" label --memory "$OUT/bank" --input "$SFT_DATA" --output "$OUT/router_labels.jsonl"
"$bin" train-router \
    model.qwen3_model_path="$MODEL_PATH" model.cache_path="$OUT/bank" model.retriever=dense \
    dataset.router_dataset_path="$OUT/router_labels.jsonl" \
    training.learning_rate=1e-3 training.batch_size=32 training.epochs=5 \
    logging.out_dir="$OUT/router" "$@"
