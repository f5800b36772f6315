"""Shared helpers for the benchmarks: run ours and the PyTorch reference alternately, in fresh
processes, on the same work, and report both and their ratio."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import limits

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BENCH_BIN = os.path.join(ROOT, ".build", "release", "ExplicitLMBench")


def build():
    subprocess.run(["swift", "build", "-c", "release", "--product", "ExplicitLMBench"], cwd=ROOT, check=True)


def run_json(cmd, env=None):
    """Runs a command that prints one JSON line last; returns it parsed."""
    full_env = dict(os.environ, **(env or {}))
    out = subprocess.run(cmd, capture_output=True, text=True, env=full_env)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(ours_cmd, torch_cmd, rounds, env=None):
    """Runs ours and torch alternately `rounds` times; returns the per-key best of each."""
    results = {"ours": [], "torch": []}
    for r in range(rounds):
        results["ours"].append(run_json(ours_cmd, env))
        results["torch"].append(run_json(torch_cmd, env))
        print(f"round {r + 1}: ours {results['ours'][-1]}\n         torch {results['torch'][-1]}", flush=True)
    return results


# The random Qwen3-0.6B-shaped model of the benchmarks, saved in float32 and in BF16.
MODEL_DIRS = {"f32": "/tmp/explicitlm-bench/qwen3-0.6b-random", "bf16": "/tmp/explicitlm-bench/qwen3-0.6b-random-bf16"}


def step_bench_runs(script, torch_worker, ours_args, shape):
    """The main of a training-step benchmark (--rounds, --steps, --compute, --torch-worker): in the
    worker process runs torch_worker(steps, model_dir) and returns None; otherwise makes the model
    (random, of `shape`), builds the bench binary and alternates our command (BENCH_BIN +
    ours_args(steps, model_dir)) with the PyTorch worker on 2 threads; returns the runs, the machine's
    limits measured around them, and the compute mode. --compute bf16: the model saved in BF16, ours
    with EXPLICITLM_COMPUTE=bf16, PyTorch in float32 on the same (widened) weights."""
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--compute", choices=["f32", "bf16"], default="f32")
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    model_dir = MODEL_DIRS[a.compute]
    if a.torch_worker:
        torch_worker(a.steps, model_dir)
        return None
    make_random_qwen3(model_dir, shape, "bfloat16" if a.compute == "bf16" else "float32")
    build()
    print(f"ours {'BF16 weights, bf16 compute' if a.compute == 'bf16' else 'float32'}, PyTorch float32, 2 threads, {coretype()}")
    runs, machine = limits.measure_around(lambda: alternate(
        [BENCH_BIN] + ours_args(a.steps, model_dir),
        [sys.executable, script, "--torch-worker", "--steps", str(a.steps), "--compute", a.compute],
        a.rounds, dict(thread_env(2), EXPLICITLM_COMPUTE=a.compute)))
    return runs, machine, a.compute


def time_steps(step, steps):
    """Runs step() steps + 1 times (the first warms up); returns the last loss and the best wall and
    CPU seconds of one step."""
    best_wall = best_cpu = float("inf")
    for s in range(steps + 1):
        t, cpu = time.perf_counter(), time.process_time()
        loss = step()
        if s > 0:
            best_wall = min(best_wall, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - cpu)
    return loss, best_wall, best_cpu


def best(runs, key, higher=True):
    values = [r[key] for r in runs]
    return max(values) if higher else min(values)


def thread_env(threads):
    """The environment that gives OpenBLAS, OpenMP (PyTorch) and ours the same number of threads."""
    n = str(threads)
    return {"OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n, "EXPLICITLM_THREADS": n}


def coretype():
    """OpenBLAS picks its kernels by CPU; an override changes the numbers, so every report names it."""
    return f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"


def make_random_qwen3(path, shape, dtype="float32"):
    """A random Qwen3 of `shape` (Qwen3Config keywords) in `dtype` (float32 or bfloat16), torch seed 0,
    saved once into `path` as one model.safetensors; an existing one is kept."""
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM
    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch_dtype)  # a 4B model is built in its own dtype, not widened first
    try:
        model = Qwen3ForCausalLM(Qwen3Config(**shape, torch_dtype=dtype)).to(torch_dtype)
    finally:
        torch.set_default_dtype(previous)
    model.save_pretrained(path, max_shard_size="20GB")


def peak_rss_bytes():
    """This process's peak resident memory; ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def paired_ratio(ours_runs, reference_runs, key, higher=True):
    """The median over rounds of ours against the reference run beside it (> 1 when ours is better):
    on a machine whose bandwidth moves with its neighbours, neighbouring runs share the conditions
    that the best of each may not."""
    return statistics.median(o[key] / r[key] if higher else r[key] / o[key] for o, r in zip(ours_runs, reference_runs))


def report(runs, key, label, width=28, higher=True, digits=1):
    """Prints the best of ours and of torch for `key`, the ratio of the bests and the median of the
    per-round ratios, > 1 when ours is better."""
    o, t = best(runs["ours"], key, higher), best(runs["torch"], key, higher)
    ratio = o / t if higher else t / o
    paired = paired_ratio(runs["ours"], runs["torch"], key, higher)
    print(f"{label:{width}s} ours {o:8.{digits}f}  torch {t:8.{digits}f}  ratio {ratio:.2f}x  per round {paired:.2f}x")


def report_peak_rss(runs, label="peak RSS", unit="GiB", suffix=lambda rss: ""):
    """Prints each side's lowest peak resident memory over the rounds."""
    scale, digits = (2**30, 2) if unit == "GiB" else (2**20, 0)
    for impl in ("ours", "torch"):
        rss = best(runs[impl], "peak_rss_bytes", higher=False)
        print(f"{label} {impl:5s} {rss / scale:.{digits}f} {unit}{suffix(rss)}")
