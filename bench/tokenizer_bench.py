#!/usr/bin/env python3
"""Tokenizer encode speed: ours against Hugging Face `tokenizers` on one thread, on the same corpus.

Every line of a few-MB mixed corpus (bench/make_tokenizer_corpus.py) is encoded on its own, without
special tokens. `tokenizers` runs with TOKENIZERS_PARALLELISM=false and RAYON_NUM_THREADS=1, once with
`encode` per line and once with `encode_batch` (no Python call per line); the faster counts. Both sides
print a checksum of all ids, so the run also checks that the ids are identical. Alternate rounds in
fresh processes; the best of each is compared.
Usage: python3 bench/tokenizer_bench.py [--rounds 2] [--tokenizer DIR] [--megabytes 4]
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def reference_worker(tokenizer_dir, corpus):
    from tokenizers import Tokenizer
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    load = time.perf_counter() - t0
    with open(corpus, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    t0 = time.perf_counter()
    tokens = sum(len(tok.encode(line, add_special_tokens=False).ids) for line in lines)
    per_line = time.perf_counter() - t0
    t0 = time.perf_counter()
    encodings = tok.encode_batch(lines, add_special_tokens=False)
    batch = time.perf_counter() - t0
    checksum = 0
    for e in encodings:
        for i in e.ids:
            checksum = (checksum * 1000003 + i) & 0xFFFFFFFFFFFFFFFF
    print(json.dumps({"impl": "tokenizers", "load_s": load, "lines": len(lines), "tokens": tokens,
                      "encode_tokens_per_s": tokens / per_line, "batch_tokens_per_s": tokens / batch,
                      "tokens_per_s": tokens / min(per_line, batch), "checksum": str(checksum)}))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--tokenizer", default=os.path.join(here, "../../shared/testdata/qwen3-tokenizer"))
    p.add_argument("--megabytes", type=float, default=4.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--corpus")
    p.add_argument("--reference-worker", action="store_true")
    a = p.parse_args()
    if a.reference_worker:
        return reference_worker(a.tokenizer, a.corpus)
    corpus = a.corpus or f"/tmp/explicitlm-bench/tokenizer-corpus-{a.megabytes:g}mb.txt"
    if not os.path.exists(corpus):
        os.makedirs(os.path.dirname(corpus), exist_ok=True)
        subprocess.run([sys.executable, os.path.join(here, "make_tokenizer_corpus.py"), corpus,
                        "--megabytes", str(a.megabytes)], check=True)
    common.build()
    env = {"TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": "1"}
    runs = common.alternate(
        [common.BENCH_BIN, "tokenizer", "--tokenizer", a.tokenizer, "--corpus", corpus],
        [sys.executable, __file__, "--reference-worker", "--tokenizer", a.tokenizer, "--corpus", corpus],
        a.rounds, env)
    ours, ref = runs["ours"][-1], runs["torch"][-1]
    same = (ours["tokens"], ours["checksum"]) == (ref["tokens"], ref["checksum"])
    print(f"\ncorpus {os.path.getsize(corpus) / 1e6:.1f} MB, {ours['lines']} lines, {ours['tokens']} tokens; "
          f"ids {'identical (checksum ' + ours['checksum'] + ')' if same else 'DIFFER'}")
    o = common.best(runs["ours"], "tokens_per_s")
    e = common.best(runs["torch"], "encode_tokens_per_s")
    b = common.best(runs["torch"], "batch_tokens_per_s")
    print(f"encode tokens/s   ours {o:10.0f}  tokenizers encode {e:10.0f}  encode_batch {b:10.0f}  "
          f"ratio {o / max(e, b):.2f}x")
    lo, lr = common.best(runs["ours"], "load_s", higher=False), common.best(runs["torch"], "load_s", higher=False)
    print(f"load tokenizer.json  ours {lo:.3f} s  tokenizers {lr:.3f} s")
    if not same:
        raise SystemExit("ids differ between ours and tokenizers")


if __name__ == "__main__":
    main()
