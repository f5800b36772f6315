#!/usr/bin/env python3
"""The error of bf16 compute, measured on the random Qwen3-0.6B-shaped model saved in BF16.

One prompt of 256 random tokens; logits at every position from `explicitlm logits` with --compute f32
and --compute bf16, and from PyTorch in float32 (the BF16 weights widened: the reference) and in its own
bfloat16. Each is compared with PyTorch float32: max |Δ|, RMS of Δ relative to the RMS of the logits,
and how often the top-1 token is the same.
Usage: python3 bench/bf16_error.py [--model-dir DIR] [--tokens 256]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
from qwen3_bench import SHAPE  # noqa: E402

CLI = os.path.join(common.ROOT, ".build", "release", "explicitlm")


def ours(model_dir, ids, compute, out_dir):
    from safetensors.torch import load_file
    path = os.path.join(out_dir, f"logits-{compute}.safetensors")
    subprocess.run([CLI, "logits", "--model", model_dir, "--compute", compute, "--ids", ",".join(map(str, ids)),
                    "--out", path], check=True, env=dict(os.environ, **common.thread_env(2)))
    return load_file(path)["logits"].double()


def torch_logits(model_dir, ids, dtype):
    import torch
    from transformers import Qwen3ForCausalLM
    model = Qwen3ForCausalLM.from_pretrained(model_dir, dtype=dtype).eval()
    with torch.inference_mode():
        return model(torch.tensor([ids])).logits[0].double()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", default="/tmp/explicitlm-bench/qwen3-0.6b-random-bf16")
    p.add_argument("--tokens", type=int, default=256)
    a = p.parse_args()
    import torch
    torch.set_num_threads(2)
    common.make_random_qwen3(a.model_dir, SHAPE, "bfloat16")
    subprocess.run(["swift", "build", "-c", "release", "--product", "explicitlm"], cwd=common.ROOT, check=True)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, SHAPE["vocab_size"], (a.tokens,), generator=g).tolist()
    reference = torch_logits(a.model_dir, ids, torch.float32)
    scale = reference.pow(2).mean().sqrt().item()
    with tempfile.TemporaryDirectory() as out_dir:
        results = {"ours f32": ours(a.model_dir, ids, "f32", out_dir), "ours bf16": ours(a.model_dir, ids, "bf16", out_dir)}
    results["torch bfloat16"] = torch_logits(a.model_dir, ids, torch.bfloat16)
    print(f"\nQwen3-0.6B shape, BF16 weights, {a.tokens} tokens; against PyTorch float32 (logits RMS {scale:.3f})")
    for name, logits in results.items():
        d = logits - reference
        top1 = (logits.argmax(-1) == reference.argmax(-1)).double().mean().item()
        print(f"{name:16s} max |Δ| {d.abs().max().item():.3g}  RMS Δ / RMS {d.pow(2).mean().sqrt().item() / scale:.3g}  "
              f"same top-1 {100 * top1:.1f}%")


if __name__ == "__main__":
    main()
