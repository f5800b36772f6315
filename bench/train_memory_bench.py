#!/usr/bin/env python3
"""A memory-training step: ours (ExplicitLMBench train-memory) against the PyTorch reference of the
memory step (scripts/memory_reference.py, the code behind the parity goldens) on the same work.

The random Qwen3-0.6B-shaped model of qwen3_bench.py, frozen, with the memory step after every one of
its 28 layers (cross_attention, 8 heads of 64, rank 128, L_k 16, tau 0.1); C = 16 candidates of 16
random tokens with random scores; 1 x 256 random tokens, the first 200 the prompt, the last 56 the
answer. One step: straight-through Gumbel selection, loss = mean answer cross-entropy + 0.1 L_sim,
backward to the memory tensors only, global-norm clipping at 1, AdamW (0.9/0.95, weight decay 0.1 on
matrices, lr 5e-5): MemoryTrainingConfig's defaults. Both run with 2 threads, alternately, in fresh
processes; one warm-up step, then the best of --steps; the best round of each is compared.
Usage: python3 bench/train_memory_bench.py [--rounds 2] [--steps 2] [--compute bf16]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import limits  # noqa: E402
import qwen3_bench  # noqa: E402

sys.path.insert(0, os.path.join(common.ROOT, "scripts"))

BATCH, TOKENS, PROMPT, CANDIDATES = 1, 256, 200, 16
LR, WEIGHT_DECAY, GRAD_CLIP, SIMILARITY_COEF = 5e-5, 0.1, 1.0, 0.1


def torch_worker(steps, model_dir):
    import torch
    from transformers import Qwen3ForCausalLM
    from memory_reference import MemoryShape, make_memory, randomize_memory, run
    torch.set_num_threads(2)
    model = Qwen3ForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.train(False)
    for p in model.parameters():
        p.requires_grad_(False)
    cfg = model.config
    V, D, layers = cfg.vocab_size, cfg.hidden_size, list(range(cfg.num_hidden_layers))
    shape = MemoryShape(heads=8, head_dim=64, knowledge_length=16, candidates=CANDIDATES, tau=0.1)
    memory = make_memory(D, cfg.rms_norm_eps, layers, "cross_attention", 128, shape)
    randomize_memory(memory, 2)  # non-zero everywhere, as ours after some training

    g = torch.Generator().manual_seed(1)
    seq = torch.randint(0, V, (BATCH, TOKENS + 1), generator=g)
    ids, targets = seq[:, :-1], seq[:, 1:].clone()
    targets[:, :PROMPT] = -100
    L = shape.knowledge_length
    cands = [dict(tokens=torch.randint(0, V, (CANDIDATES, L), generator=g), lengths=[L] * CANDIDATES,
                  count=CANDIDATES, scores=torch.rand(CANDIDATES, generator=g)) for _ in range(BATCH)]
    answer_tokens = BATCH * (TOKENS - PROMPT)
    named = list(memory.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
                             {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=1e-8)

    def step():
        opt.zero_grad(set_to_none=False)
        u = torch.rand(len(layers), BATCH, TOKENS, CANDIDATES, generator=g).clamp_min(1e-12)
        noise = -torch.log(-torch.log(u))  # fresh Gumbel noise every step, as training draws it
        _, lm, similarity, _, _ = run(model, memory, layers, ids, targets, [PROMPT] * BATCH, cands, noise, True, shape)
        (lm / answer_tokens + SIMILARITY_COEF * similarity).backward()
        torch.nn.utils.clip_grad_norm_(memory.parameters(), GRAD_CLIP)
        opt.step()
        return lm.item()

    loss, best, best_cpu = common.time_steps(step, steps)
    print(json.dumps({"impl": "torch", "mode": "train-memory", "loss_per_token": loss / answer_tokens, "step_s": best,
                      "step_cpu_s": best_cpu, "tokens_per_s": BATCH * TOKENS / best,
                      "memory_parameters": sum(p.numel() for _, p in named), "peak_rss_bytes": common.peak_rss_bytes()}))


def main():
    def ours(steps, model_dir):
        return ["train-memory", "--model", model_dir, "--batch", str(BATCH), "--tokens", str(TOKENS),
                "--prompt", str(PROMPT), "--candidates", str(CANDIDATES), "--steps", str(steps)]
    measured = common.step_bench_runs(__file__, torch_worker, ours, qwen3_bench.SHAPE)
    if measured is None:
        return
    runs, machine, compute = measured
    print()
    label = f"memory step {BATCH}x{TOKENS}"
    common.report(runs, "tokens_per_s", f"{label} tokens/s", width=32)
    common.report(runs, "step_s", f"{label} s per step", width=32, higher=False, digits=2)
    # CPU seconds per step: less sensitive than wall time when other work shares the cores.
    common.report(runs, "step_cpu_s", "CPU s per step", width=32, higher=False, digits=2)
    common.report_peak_rss(runs, label="peak RSS train-memory")
    flops = limits.frozen_step_flops(qwen3_bench.SHAPE, TOKENS, 0) / TOKENS  # backbone only: the memory steps are not counted
    for impl in ("ours", "torch"):
        limits.report_compute(f"memory step {impl}", common.best(runs[impl], "tokens_per_s"), flops, machine,
                              bf16=compute == "bf16" and impl == "ours")


if __name__ == "__main__":
    main()
