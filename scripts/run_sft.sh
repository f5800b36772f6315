#!/usr/bin/env bash
# Memory SFT (method.md §8, the recommended stage), as the seed's run_sft.sh: builds the bank when it
# is missing, trains MemoryNorm, the fusion and the α gate on conversations with counterfactual
# swaps (the backbone frozen), evaluates on the validation conversations and plots the metrics. The
# one edit it needs is MODEL_PATH; any key=value argument is passed on to train-memory (for example
# model.retriever=dense dataset.pretrained_router_path=out/router/checkpoints/memory_gate_epoch_5.safetensors).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_PATH=${MODEL_PATH:-/path/to/Qwen3-0.6B}   # a Qwen3 checkpoint directory in Hugging Face format
KNOWLEDGE=${KNOWLEDGE:-data/knowledge.jsonl}    # the knowledge base (method §7)
SFT_DATA=${SFT_DATA:-data/sft_train.jsonl}      # conversations with fact_uuid
VAL_DATA=${VAL_DATA:-data/sft_val.jsonl}        # held-out conversations
OUT=${OUT:-out}

[ -f "$MODEL_PATH/config.json" ] || { echo "run_sft.sh: set MODEL_PATH to a Qwen3 model directory (no $MODEL_PATH/config.json)" >&2; exit 1; }
bin=.build/release/explicitlm
[ -x "$bin" ] || swift build -c release --product explicitlm
[ -d "$OUT/bank" ] || "$bin" build-memory --model "$MODEL_PATH" --knowledge "$KNOWLEDGE" --out "$OUT/bank"
"$bin" train-memory \
    model.qwen3_model_path="$MODEL_PATH" model.cache_path="$OUT/bank" \
    dataset.sft_dataset_path="$SFT_DATA" dataset.sft_val_dataset_path="$VAL_DATA" \
    training.learning_rate=3e-3 training.batch_size=8 training.epochs=3 training.counterfactual_swap=1.0 \
    training.eval_interval=200 training.eval_num_samples=200 \
    logging.out_dir="$OUT/sft" "$@"
"$bin" eval --model "$MODEL_PATH" --memory "$OUT/bank" --checkpoint "$OUT/sft/checkpoints/sft_latest.safetensors" --data "$VAL_DATA" --oracle
"$bin" plot "$OUT/sft/metrics.jsonl" --out "$OUT/sft/metrics.svg"
