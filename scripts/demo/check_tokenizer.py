#!/usr/bin/env python3
"""Compare `explicitlm tokenize`/`detokenize` with the `tokenizers` library on the demo tokenizer.

Usage: python3 scripts/demo/check_tokenizer.py [--bin .build/release/explicitlm] [--n 300]
Strings: a seeded sample of the demo data (sentences, questions, answers, chat-rendered
conversations with special tokens) plus hand-picked edge cases. Exit status 1 on any mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys

from tokenizers import Tokenizer

EDGE = ["Lima", " Lima", "The capital of Peru is Lima.", "<|im_start|>assistant\nLima<|im_end|>",
        "<|im_start|>assistant\n<think>\n\n</think>\n\nLima<|im_end|>\n", "  two  spaces\n\n\nnewlines\r\n",
        "Mysłowice, Qal‘at Bīshah and 's-Hertogenbosch", "Ångström vs A\u030angstro\u0308m (NFD)",
        "12345 678.9 million", "東京 Москва القاهرة 🙂", "don't we'll I'M", "<|endoftext|><|im_end|>x",
        "<think>a</think>", "tab\there", " ", "", "a" * 300]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release/explicitlm")
    ap.add_argument("--tokenizer", default="data/demo/tokenizer")
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    rng = random.Random(args.seed)
    pool = []
    for name in sorted(os.listdir(args.data)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(args.data, name), encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if "sentence" in row:
                    pool.append(row["sentence"])
                if "text" in row:
                    pool.append(row["text"])
                if "conversations" in row:
                    c = row["conversations"]
                    pool.append(c[0]["content"])
                    pool.append(c[1]["content"])
                    pool.append("<|im_start|>user\n" + c[0]["content"] + "<|im_end|>\n<|im_start|>assistant\n"
                                "<think>\n\n</think>\n\n" + c[1]["content"] + "<|im_end|>\n")
    strings = EDGE + rng.sample(sorted(set(pool)), args.n - len(EDGE))
    bad = 0
    for i, s in enumerate(strings):
        want = tok.encode(s).ids
        got = json.loads(subprocess.run([args.bin, "tokenize", "--tokenizer", args.tokenizer, "--text", s],
                                        check=True, capture_output=True, text=True).stdout)["ids"]
        if got != want:
            bad += 1
            print(f"ENCODE MISMATCH {s!r}\n  tokenizers {want}\n  explicitlm {got}")
        if i % 5 == 0 and want:
            text = subprocess.run([args.bin, "detokenize", "--tokenizer", args.tokenizer,
                                   "--ids", ",".join(map(str, want))], check=True, capture_output=True).stdout
            ref = tok.decode(want, skip_special_tokens=False)
            if text.decode("utf-8") != ref:
                bad += 1
                print(f"DECODE MISMATCH {want}\n  tokenizers {ref!r}\n  explicitlm {text!r}")
    print(json.dumps({"strings": len(strings), "mismatches": bad,
                      "Lima_after_assistant": [tok.id_to_token(t) for t in tok.encode("Lima").ids],
                      "Lima_in_sentence": [tok.id_to_token(t) for t in tok.encode(" Lima").ids]},
                     ensure_ascii=False))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
