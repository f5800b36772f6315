#!/usr/bin/env python3
"""A few-MB mixed corpus for bench/tokenizer_bench.sh, fixed by a seed: the tokenizer golden texts
(many scripts, emoji, whitespace runs) shuffled and repeated, English prose and code taken from Python's
own standard library sources (docstrings, comments, code), one document per line group.

Usage: python3 bench/make_tokenizer_corpus.py OUT [--megabytes 4]
"""
import argparse
import json
import os
import random
import sysconfig


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--megabytes", type=float, default=4.0)
    args = ap.parse_args()
    rng = random.Random(7)
    with open(os.path.join(here, "../Tests/TokenizersTests/Fixtures/tokenizer_goldens.json"), encoding="utf-8") as f:
        texts = json.load(f)["texts"]
    stdlib = sysconfig.get_paths()["stdlib"]
    sources = sorted(os.path.join(stdlib, n) for n in os.listdir(stdlib) if n.endswith(".py"))
    rng.shuffle(sources)
    target = int(args.megabytes * 1e6)
    parts, size = [], 0
    multilingual = target // 4  # about a quarter from the golden texts
    while size < multilingual:
        t = rng.choice(texts)
        parts.append(t)
        size += len(t.encode())
    for path in sources:
        if size >= target:
            break
        with open(path, encoding="utf-8", errors="replace") as f:
            code = f.read()
        parts.append(code)
        size += len(code.encode())
    rng.shuffle(parts)
    tmp = f"{args.out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    os.replace(tmp, args.out)
    print(f"{size / 1e6:.1f} MB -> {args.out}")


if __name__ == "__main__":
    main()
