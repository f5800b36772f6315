#!/usr/bin/env python3
"""Qwen3 inference: ours against llama.cpp on the same random Qwen3-0.6B-shaped model, F32 and BF16.

Prefill: 1 x 256 tokens, logits at the last position only (as llama-bench's pp test). Decode: 64
greedy tokens with the KV cache (llama-bench's tg test). Both run with 2 threads; each round runs ours
and llama.cpp for F32, then for BF16, in fresh processes; the best of each is compared (and the
median of each round's ratio, for a machine whose bandwidth moves between runs), and set
against the machine's limits (bench/limits.py): prefill GFLOP/s over the float32 FMA peak, decode
weight bytes read per second over the memory bandwidth.
On a CPU with AVX-512 BF16, ours also runs the BF16 model in bf16 compute (EXPLICITLM_COMPUTE=bf16,
"ours bf16c"), set against llama.cpp's BF16, which uses the same instructions when built for the CPU;
its prefill is then a fraction of the bf16 dot-product peak.
Needs bench/llamacpp/setup.sh first (llama.cpp and the GGUF files live under /tmp/explicitlm-bench).
Usage: python3 bench/llamacpp_bench.py [--rounds 2]
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import limits  # noqa: E402
import qwen3_bench  # noqa: E402

BENCH_DIR = "/tmp/explicitlm-bench"
LLAMA = os.path.join(BENCH_DIR, "llama.cpp")
LLAMA_BENCH = os.path.join(LLAMA, "build", "bin", "llama-bench")
# dtype: (our checkpoint, llama.cpp's conversion of it, bytes per weight)
MODELS = {"F32": (os.path.join(BENCH_DIR, "qwen3-0.6b-random"), os.path.join(LLAMA, "qwen3-0.6b-random-f32.gguf"), 4),
          "BF16": (os.path.join(BENCH_DIR, "qwen3-0.6b-random-bf16"), os.path.join(LLAMA, "qwen3-0.6b-random-bf16.gguf"), 2)}
THREADS = 2


def check_setup():
    missing = [p for p in [LLAMA_BENCH] + [p for m in MODELS.values() for p in m[:2]] if not os.path.exists(p)]
    if missing:
        raise SystemExit("missing " + ", ".join(missing) + "\nrun bench/llamacpp/setup.sh first")


def run_llama_bench(cmd, env):
    """llama-bench -o jsonl prints one JSON object per test; returns our keys from its pp and tg tests."""
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **env))
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    tests = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    pp = next(t for t in tests if t["n_gen"] == 0)
    tg = next(t for t in tests if t["n_prompt"] == 0)
    return {"prefill_tokens_per_s": pp["avg_ts"], "decode_tokens_per_s": tg["avg_ts"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=64)
    a = p.parse_args()
    check_setup()
    common.build()
    env = common.thread_env(THREADS)
    sizes = ["--prompt-tokens", str(a.prompt_tokens), "--new-tokens", str(a.new_tokens)]
    bf16_compute = "avx512_bf16" in open("/proc/cpuinfo").read()
    cmds = {dtype: {"ours": [common.BENCH_BIN, "qwen3", "--model", hf] + sizes + ["--prefill-logits", "last"],
                    "llama.cpp": [LLAMA_BENCH, "-m", gguf, "-p", str(a.prompt_tokens), "-n", str(a.new_tokens),
                                  "-t", str(THREADS), "-r", "1", "-o", "jsonl"]}
            for dtype, (hf, gguf, _) in MODELS.items()}
    if bf16_compute:
        cmds["BF16"]["ours bf16c"] = cmds["BF16"]["ours"]
    envs = {"ours bf16c": dict(env, EXPLICITLM_COMPUTE="bf16")}
    print("python3 " + " ".join(sys.argv))
    for dtype in MODELS:
        for impl, cmd in cmds[dtype].items():
            print(f"{dtype:4s} {impl:10s} {' '.join(cmd)}")

    def rounds():
        runs = {dtype: {impl: [] for impl in cmds[dtype]} for dtype in MODELS}
        for r in range(a.rounds):
            for dtype in MODELS:
                for impl, cmd in cmds[dtype].items():
                    run = run_llama_bench if impl == "llama.cpp" else common.run_json
                    runs[dtype][impl].append(run(cmd, envs.get(impl, env)))
                print(f"round {r + 1} {dtype:4s} " + "  ".join(
                    f"{impl} prefill {rs[-1]['prefill_tokens_per_s']:.1f} decode {rs[-1]['decode_tokens_per_s']:.2f}"
                    for impl, rs in runs[dtype].items()), flush=True)
        return runs
    runs, measured = limits.measure_around(rounds)

    print(f"\nQwen3-0.6B shape, {THREADS} threads, prefill 1x{a.prompt_tokens} (last logits), decode {a.new_tokens}; "
          f"{common.coretype()}")
    for dtype in MODELS:
        for phase, key in (("prefill", "prefill_tokens_per_s"), ("decode", "decode_tokens_per_s")):
            ll = common.best(runs[dtype]["llama.cpp"], key)
            for impl in (i for i in cmds[dtype] if i != "llama.cpp"):
                o = common.best(runs[dtype][impl], key)
                paired = common.paired_ratio(runs[dtype][impl], runs[dtype]["llama.cpp"], key)
                print(f"{dtype:4s} {phase:8s} {impl:10s} {o:7.2f}  llama.cpp {ll:7.2f}  ratio {o / ll:.2f}x  "
                      f"per round {paired:.2f}x")
    flops = limits.forward_flops(qwen3_bench.SHAPE, a.prompt_tokens, 1) / a.prompt_tokens
    for dtype, (_, _, bytes_per_weight) in MODELS.items():
        for impl in cmds[dtype]:
            best = lambda key: common.best(runs[dtype][impl], key)  # noqa: E731
            # bf16 compute's prefill, and llama.cpp's BF16 where the CPU has the instructions, against the bf16 peak.
            bf16 = impl == "ours bf16c" or (impl == "llama.cpp" and dtype == "BF16" and bf16_compute)
            limits.report_compute(f"{dtype} prefill {impl}", best("prefill_tokens_per_s"), flops, measured, bf16=bf16)
            limits.report_bandwidth(f"{dtype} decode {impl}", best("decode_tokens_per_s"),
                                    limits.decode_bytes(qwen3_bench.SHAPE, bytes_per_weight), measured)


if __name__ == "__main__":
    main()
