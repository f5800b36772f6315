#!/usr/bin/env python3
"""Training step: ours against PyTorch autograd through transformers' Qwen3 on the same model and batch.

frozen: the random Qwen3-0.6B-shaped model of qwen3_bench.py, every weight frozen, a residual linear
        module h <- h + h A^T after decoder layer 14, 1 x 256 tokens; forward of all 28 layers and
        backward of the summed token cross-entropy down to the module.
full:   a small random Qwen3 (hidden 256, 4 layers, vocab 4096), 4 x 128 tokens, gradients of every
        weight.
Both run with 2 threads, alternately, in fresh processes; the best of each is compared.
Usage: python3 bench/train_step_bench.py [--rounds 2] [--only frozen|full]
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import qwen3_bench  # noqa: E402

SMALL = dict(vocab_size=4096, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=1024,
             rope_theta=1_000_000.0, tie_word_embeddings=True)
CASES = {
    "frozen": dict(dir="/tmp/explicitlm-bench/qwen3-0.6b-random", batch=1, tokens=256, layer=14),
    "full": dict(dir="/tmp/explicitlm-bench/qwen3-small-random", batch=4, tokens=128, layer=None),
}


def make_small(path):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM
    torch.manual_seed(0)
    Qwen3ForCausalLM(Qwen3Config(**SMALL)).to(torch.float32).save_pretrained(path)


def torch_worker(mode, path, batch, tokens, layer, steps):
    import torch
    import torch.nn.functional as F
    from transformers import Qwen3ForCausalLM
    torch.set_num_threads(2)
    model = Qwen3ForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.train(False)  # no dropout in Qwen3 anyway; keep the same math as ours
    V, D = model.config.vocab_size, model.config.hidden_size
    g = torch.Generator().manual_seed(1)
    seq = torch.randint(0, V, (batch, tokens + 1), generator=g)
    ids, targets = seq[:, :-1], seq[:, 1:]
    params = list(model.parameters())
    if mode == "frozen":
        for p in params:
            p.requires_grad_(False)
        A = (1e-2 * torch.randn(D, D, generator=g)).requires_grad_(True)
        params = [A]
        model.model.layers[layer].register_forward_hook(
            lambda m, args, out: (out[0] + out[0] @ A.T,) + tuple(out[1:]) if isinstance(out, tuple) else out + out @ A.T)

    def step():
        for p in params:
            p.grad = None
        logits = model(input_ids=ids).logits
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="sum")
        loss.backward()
        return loss.item()

    best = float("inf")
    for s in range(steps + 1):  # step 0 warms up
        t = time.perf_counter()
        loss = step()
        if s > 0:
            best = min(best, time.perf_counter() - t)
    print(json.dumps({"impl": "torch", "mode": mode, "loss_per_token": loss / (batch * tokens), "step_s": best,
                      "tokens_per_s": batch * tokens / best,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--only", choices=sorted(CASES))
    p.add_argument("--torch-worker", choices=sorted(CASES))
    a = p.parse_args()
    if a.torch_worker:
        c = CASES[a.torch_worker]
        return torch_worker(a.torch_worker, c["dir"], c["batch"], c["tokens"], c["layer"], a.steps)
    qwen3_bench.make_model(CASES["frozen"]["dir"])
    make_small(CASES["full"]["dir"])
    common.build()
    env = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "EXPLICITLM_THREADS": "2"}
    print(f"float32, 2 threads, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    for mode, c in CASES.items():
        if a.only and mode != a.only:
            continue
        ours = [common.BENCH_BIN, "train-step", "--mode", mode, "--model", c["dir"], "--batch", str(c["batch"]),
                "--tokens", str(c["tokens"]), "--steps", str(a.steps)]
        if c["layer"] is not None:
            ours += ["--layer", str(c["layer"])]
        runs = common.alternate(ours, [sys.executable, __file__, "--torch-worker", mode, "--steps", str(a.steps)],
                                a.rounds, env)
        o, t = common.best(runs["ours"], "tokens_per_s"), common.best(runs["torch"], "tokens_per_s")
        label = f"{mode} step {c['batch']}x{c['tokens']} tokens/s"
        print(f"\n{label:32s} ours {o:8.1f}  torch {t:8.1f}  ratio {o / t:.2f}x")
        for impl in ("ours", "torch"):
            rss = common.best(runs[impl], "peak_rss_bytes", higher=False)
            print(f"peak RSS {mode} {impl:5s} {rss / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
