#!/usr/bin/env python3
"""Hugging Face `tokenizers`, one thread, on the same work as `explicitlm tokenize --bench`: every
line of the corpus encoded on its own (no special tokens added), once with `encode` per line and once
with `encode_batch` (no Python call per line). Prints JSON like the Swift side.

Usage: TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 python3 bench/tokenizer_bench.py TOKENIZER_JSON CORPUS
"""
import json
import sys
import time

from tokenizers import Tokenizer


def main():
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(sys.argv[1])
    load = time.perf_counter() - t0
    with open(sys.argv[2], encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    start = time.perf_counter()
    tokens = 0
    for line in lines:
        tokens += len(tok.encode(line, add_special_tokens=False).ids)
    seconds = time.perf_counter() - start
    # encode_batch on one thread does the same work without a Python call per line.
    start = time.perf_counter()
    encodings = tok.encode_batch(lines, add_special_tokens=False)
    batch_seconds = time.perf_counter() - start
    batch_tokens = sum(len(e.ids) for e in encodings)
    assert batch_tokens == tokens
    checksum = 0
    for e in encodings:
        for i in e.ids:
            checksum = (checksum * 1000003 + i) & 0xFFFFFFFFFFFFFFFF
    print(json.dumps({"lines": len(lines), "bytes": len(text.encode()), "tokens": tokens, "seconds": seconds,
                      "tokens_per_second": tokens / seconds, "batch_seconds": batch_seconds,
                      "batch_tokens_per_second": tokens / batch_seconds, "load_seconds": load,
                      "checksum": checksum}))


if __name__ == "__main__":
    main()
