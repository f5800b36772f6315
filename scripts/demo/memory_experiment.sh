#!/usr/bin/env bash
# A first measurement of the memory on the demo data (issue 11, before the main job exists): the bank
# from the whole knowledge base, memory SFT on the memory-training entities' questions (lexical
# retrieval, cross-attention fusion, counterfactual swaps), evaluation on the evaluation entities
# (whose facts no training saw), with memory off, on and with the gold row handed over.
# Usage: scripts/demo/memory_experiment.sh [OUT] [key=value ...]  (needs data/demo/backbone).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/demo-experiment}; shift || true
bin=.build/release/explicitlm
model=data/demo/backbone
[ -x "$bin" ] || swift build -c release --product explicitlm
[ -d "$out/bank" ] || "$bin" build-memory --model "$model" --knowledge data/demo/knowledge.jsonl --out "$out/bank" --knowledge-length 24
"$bin" train-memory \
    model.qwen3_model_path="$model" model.cache_path="$out/bank" \
    model.fusion_heads=4 model.fusion_head_dim=32 model.fusion_rank=0 training.num_candidates=16 \
    dataset.sft_dataset_path=data/demo/questions_memory_train.jsonl dataset.sft_val_dataset_path=data/demo/questions_eval.jsonl \
    training.learning_rate=3e-3 training.batch_size=16 training.epochs=3 training.counterfactual_swap=1.0 \
    training.eval_interval=100 training.eval_num_samples=150 logging.out_dir="$out/sft" "$@"
for data in questions_eval questions_eval_unseen; do
    "$bin" eval --model "$model" --memory "$out/bank" --checkpoint "$out/sft/checkpoints/sft_latest.safetensors" \
        --data "data/demo/$data.jsonl" --oracle --limit 300 | tee "$out/eval-$data.txt"
done
"$bin" plot "$out/sft/metrics.jsonl" --out "$out/sft/metrics.svg"
