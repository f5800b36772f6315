#!/usr/bin/env python3
"""Frozen-mode training step: ours against PyTorch autograd through transformers' Qwen3 on the same
model and batch.

The random Qwen3-0.6B-shaped model of qwen3_bench.py, every weight frozen, a residual linear module
h <- h + h A^T after decoder layer 14, 1 x 256 tokens; forward of all 28 layers and backward of the
summed token cross-entropy down to the module. (The full mode, every weight with AdamW, is
train_full_bench.py.) Both run with 2 threads, alternately, in fresh processes; the best of each is
compared.
Usage: python3 bench/train_step_bench.py [--rounds 2] [--steps 2] [--compute bf16]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import limits  # noqa: E402
import qwen3_bench  # noqa: E402

BATCH, TOKENS, LAYER = 1, 256, 14


def torch_worker(steps, model_dir):
    import torch
    import torch.nn.functional as F
    from transformers import Qwen3ForCausalLM
    torch.set_num_threads(2)
    model = Qwen3ForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.train(False)  # no dropout in Qwen3 anyway; keep the same math as ours
    V, D = model.config.vocab_size, model.config.hidden_size
    g = torch.Generator().manual_seed(1)
    seq = torch.randint(0, V, (BATCH, TOKENS + 1), generator=g)
    ids, targets = seq[:, :-1], seq[:, 1:]
    for p in model.parameters():
        p.requires_grad_(False)
    A = (1e-2 * torch.randn(D, D, generator=g)).requires_grad_(True)
    model.model.layers[LAYER].register_forward_hook(
        lambda m, args, out: (out[0] + out[0] @ A.T,) + tuple(out[1:]) if isinstance(out, tuple) else out + out @ A.T)

    def step():
        A.grad = None
        logits = model(input_ids=ids).logits
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="sum")
        loss.backward()
        return loss.item()

    loss, best, best_cpu = common.time_steps(step, steps)
    print(json.dumps({"impl": "torch", "mode": "frozen", "loss_per_token": loss / (BATCH * TOKENS), "step_s": best,
                      "step_cpu_s": best_cpu, "tokens_per_s": BATCH * TOKENS / best,
                      "peak_rss_bytes": common.peak_rss_bytes()}))


def main():
    def ours(steps, model_dir):
        return ["train-step", "--model", model_dir, "--batch", str(BATCH), "--tokens", str(TOKENS),
                "--layer", str(LAYER), "--steps", str(steps)]
    measured = common.step_bench_runs(__file__, torch_worker, ours, qwen3_bench.SHAPE)
    if measured is None:
        return
    runs, machine, compute = measured
    print()
    common.report(runs, "tokens_per_s", f"frozen step {BATCH}x{TOKENS} tokens/s", width=32)
    # CPU seconds per step: less sensitive than wall time when other work shares the cores.
    common.report(runs, "step_cpu_s", "CPU s per step", width=32, higher=False, digits=2)
    common.report_peak_rss(runs, label="peak RSS frozen")
    flops = limits.frozen_step_flops(qwen3_bench.SHAPE, TOKENS, LAYER) / TOKENS
    for impl in ("ours", "torch"):
        limits.report_compute(f"frozen step {impl}", common.best(runs[impl], "tokens_per_s"), flops, machine,
                              bf16=compute == "bf16" and impl == "ours")


if __name__ == "__main__":
    main()
