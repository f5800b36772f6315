#!/usr/bin/env python3
"""Qwen3 inference: ours against transformers (PyTorch CPU) on the same random Qwen3-0.6B-shaped model.

Prefill: logits at every position of 1 x 256 tokens. Decode: 64 greedy tokens with the KV cache.
Both run with 2 threads, alternately, in fresh processes; the best of each is compared.
Usage: python3 bench/qwen3_bench.py [--rounds 2] [--model-dir DIR] [--compute bf16 [--torch-dtype float32]]

--compute bf16: the same model saved in BF16; ours keeps the weights BF16 and multiplies in bf16
(EXPLICITLM_COMPUTE=bf16, AVX-512 BF16), PyTorch runs the BF16 model in its own bf16 (oneDNN), or in
float32 with --torch-dtype float32 (the weights widened: PyTorch's float32 on the same values).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import limits  # noqa: E402

SHAPE = dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
             num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
             rope_theta=1_000_000.0, tie_word_embeddings=True)


def torch_worker(path, prompt_tokens, new_tokens, dtype):
    import torch
    from transformers import Qwen3ForCausalLM
    torch.set_num_threads(2)
    model = Qwen3ForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval()
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, SHAPE["vocab_size"], (1, prompt_tokens), generator=g)
    with torch.inference_mode():
        model(prompt[:, :16])
        t = time.perf_counter()
        model(prompt)
        prefill = time.perf_counter() - t
        short = prompt[:, :8]
        kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None)
        t = time.perf_counter()
        model.generate(short, max_new_tokens=1, min_new_tokens=1, **kw)
        one = time.perf_counter() - t
        t = time.perf_counter()
        model.generate(short, max_new_tokens=new_tokens + 1, min_new_tokens=new_tokens + 1, **kw)
        everything = time.perf_counter() - t
    print(json.dumps({"impl": "torch", "prefill_tokens_per_s": prompt_tokens / prefill,
                      "decode_tokens_per_s": new_tokens / (everything - one),
                      "peak_rss_bytes": common.peak_rss_bytes()}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--compute", choices=["f32", "bf16"], default="f32")
    p.add_argument("--torch-dtype", choices=["float32", "bfloat16"])
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    bf16 = a.compute == "bf16"
    a.model_dir = a.model_dir or common.MODEL_DIRS[a.compute]
    a.torch_dtype = a.torch_dtype or ("bfloat16" if bf16 else "float32")
    sizes = ["--prompt-tokens", str(a.prompt_tokens), "--new-tokens", str(a.new_tokens)]
    if a.torch_worker:
        return torch_worker(a.model_dir, a.prompt_tokens, a.new_tokens, a.torch_dtype)
    common.make_random_qwen3(a.model_dir, SHAPE, "bfloat16" if bf16 else "float32")
    common.build()
    env = dict(common.thread_env(2), EXPLICITLM_COMPUTE=a.compute)
    runs, measured = limits.measure_around(lambda: common.alternate(
        [common.BENCH_BIN, "qwen3", "--model", a.model_dir] + sizes,
        [sys.executable, __file__, "--torch-worker", "--model-dir", a.model_dir, "--torch-dtype", a.torch_dtype,
         "--compute", a.compute] + sizes, a.rounds, env))
    weights = os.path.getsize(os.path.join(a.model_dir, "model.safetensors"))
    print(f"\nQwen3-0.6B shape, {'BF16 weights' if bf16 else 'float32'}, 2 threads, {common.coretype()}; "
          f"ours compute {a.compute}, torch {a.torch_dtype}")
    common.report(runs, "prefill_tokens_per_s", f"prefill 1x{a.prompt_tokens} tokens/s")
    common.report(runs, "decode_tokens_per_s", f"decode {a.new_tokens} tokens/s")
    common.report_peak_rss(runs, suffix=lambda rss: f" = {rss / weights:.2f}x the weights file")
    flops = limits.forward_flops(SHAPE, a.prompt_tokens, a.prompt_tokens) / a.prompt_tokens
    for impl, dtype in (("ours", "bfloat16" if bf16 else "float32"), ("torch", a.torch_dtype)):
        limits.report_compute(f"prefill {impl}", common.best(runs[impl], "prefill_tokens_per_s"), flops, measured,
                              bf16=bf16 and (impl == "ours" or dtype == "bfloat16"))
        limits.report_bandwidth(f"decode {impl}", common.best(runs[impl], "decode_tokens_per_s"),
                                limits.decode_bytes(SHAPE, 2 if dtype == "bfloat16" else 4), measured)


if __name__ == "__main__":
    main()
