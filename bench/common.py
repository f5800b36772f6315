"""Shared helpers for the benchmarks: run ours and the PyTorch reference alternately, in fresh
processes, on the same work, and report both and their ratio."""
import json
import os
import subprocess
import sys

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


def best(runs, key, higher=True):
    values = [r[key] for r in runs]
    return max(values) if higher else min(values)
