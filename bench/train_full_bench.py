#!/usr/bin/env python3
"""A full-mode training step: ours against PyTorch on the same small random Qwen3 and batch shape.

One step = forward, backward of every weight (loss = mean token cross-entropy), global-norm clipping
at 1.0 and AdamW (betas 0.9/0.95, weight decay 0.1 on matrices). Model: hidden 256, 4 layers,
vocab 4096, 4 heads of 64 (2 kv heads), intermediate 768, untied; batch 4 x 128 tokens. Both run
with 2 threads (--threads), alternately, in fresh processes; one warm-up step, then --steps timed steps; the
best round of each is compared.
Usage: python3 bench/train_full_bench.py [--rounds 2] [--steps 5] [--threads 2]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

SHAPE = dict(vocab_size=4096, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=512,
             rope_theta=10_000.0, tie_word_embeddings=False)


def torch_worker(path, batch, tokens, steps, threads):
    import torch
    from transformers import Qwen3ForCausalLM
    torch.set_num_threads(threads)
    model = Qwen3ForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.train()
    named = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": 0.1},
                             {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(1)
    rows = torch.randint(0, SHAPE["vocab_size"], (batch, tokens + 1), generator=g)
    inputs, targets = rows[:, :-1], rows[:, 1:]

    def step():
        opt.zero_grad(set_to_none=False)
        logits = model(input_ids=inputs).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, SHAPE["vocab_size"]), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    step()
    t = time.perf_counter()
    for _ in range(steps):
        loss = step()
    elapsed = time.perf_counter() - t
    print(json.dumps({"impl": "torch", "tokens_per_s": batch * tokens * steps / elapsed, "step_s": elapsed / steps,
                      "last_loss": loss, "peak_rss_bytes": common.peak_rss_bytes()}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", default="/tmp/explicitlm-bench/qwen3-train-small")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    sizes = ["--batch", str(a.batch), "--tokens", str(a.tokens), "--steps", str(a.steps)]
    if a.torch_worker:
        return torch_worker(a.model_dir, a.batch, a.tokens, a.steps, a.threads)
    common.make_random_qwen3(a.model_dir, SHAPE)
    common.build()
    n = str(a.threads)
    env = common.thread_env(a.threads)
    runs = common.alternate([common.BENCH_BIN, "train-full", "--model", a.model_dir] + sizes,
                            [sys.executable, __file__, "--torch-worker", "--model-dir", a.model_dir, "--threads", n] + sizes,
                            a.rounds, env)
    print(f"\nfull-mode training step, hidden 256 x 4 layers, vocab 4096, batch {a.batch}x{a.tokens}, float32, {a.threads} threads")
    common.report(runs, "tokens_per_s", "tokens/s")
    common.report_peak_rss(runs, unit="MiB")


if __name__ == "__main__":
    main()
