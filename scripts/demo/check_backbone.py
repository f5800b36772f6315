#!/usr/bin/env python3
"""Quick exact-match check of the demo backbone with `explicitlm generate --chat` (greedy, the empty
think block as in training): the first N country questions (capital, continent, currency,
population) and N city questions of questions_known.jsonl (trained) and questions_eval.jsonl
(held out: must be mostly wrong), and N reading-comprehension chats of reading.jsonl.
  python3 scripts/demo/check_backbone.py [--n 40] [--model data/demo/backbone]
"""
import argparse
import json
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=40)
ap.add_argument("--model", default="data/demo/backbone")
ap.add_argument("--bin", default=".build/release/explicitlm")
args = ap.parse_args()


def answer(prompt):
    out = subprocess.run([args.bin, "generate", "--model", args.model, "--chat", "--enable-thinking", "false",
                          "--max-new-tokens", "16", "--json", "--prompt", prompt],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["text"].strip()


def run(name, items, show=4):
    right = 0
    for i, o in enumerate(items):
        q, gold = o["conversations"][0]["content"], o["conversations"][1]["content"]
        got = answer(q)
        right += got == gold
        if i < show:
            print(f"  {q!r} -> {got!r} (gold {gold!r})")
    print(f"{name}: {right}/{len(items)} exact")
    return right, len(items)


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


for split in ("known", "eval"):
    qs = load(f"data/demo/questions_{split}.jsonl")
    run(f"{split} country questions", [o for o in qs if o["predicate"] != "country"][: args.n])
    run(f"{split} city questions", [o for o in qs if o["predicate"] == "country"][: args.n])
reading = load("data/demo/reading.jsonl")
run("reading (factual)", [o for o in reading if not o["counterfactual"]][: args.n // 2])
run("reading (counterfactual)", [o for o in reading if o["counterfactual"]][: args.n // 2])
