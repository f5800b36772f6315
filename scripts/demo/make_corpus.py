#!/usr/bin/env python3
"""Builds the pretraining corpus of the demo backbone: {"text": ...} JSONL for `explicitlm pretrain`.

* the plain texts as they are: pretrain_known.jsonl (facts of the known entities only; the
  country lines repeated --country-repeats times, a --city-fraction sample of the "Cities in ..."
  lines) and a --names-fraction sample of names.jsonl (lists of entity names, no facts);
* conversations rendered with the tokenizer's chat template (Qwen3's, verbatim):
  questions_known.jsonl (country questions repeated --question-repeats times, city questions
  once), a --reading-fraction sample of reading.jsonl (fact in the prompt, counterfactual half),
  and name chats made here that teach, without any fact, every possible answer's name in answer
  form (right after `assistant\n`, no leading space): "Repeat this name: X" -> "X", several turns
  per chat, over every country of splits.json and every capital, continent and currency object of
  knowledge.jsonl (all splits), repeated --name-chat-repeats times.

The sampling keeps the corpus at ~330k tokens so that 3 epochs fit in ~12 minutes on 2 CPU cores
(~1,500 tokens/s for the 1.3M-parameter backbone).

No line mentions a fact of a memory_train or eval entity except reading.jsonl's, whose fact is in
the prompt (counterfactual half). Deterministic (seed 0). Usage:
  pip install transformers
  python3 scripts/demo/make_corpus.py [--out out/demo-corpus/train.jsonl]
"""
import argparse
import json
import os
import random

from transformers import AutoTokenizer

DATA = "data/demo"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/demo-corpus/train.jsonl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--question-repeats", type=int, default=3)
    ap.add_argument("--country-repeats", type=int, default=3)
    ap.add_argument("--city-fraction", type=float, default=0.5)
    ap.add_argument("--names-fraction", type=float, default=0.25)
    ap.add_argument("--reading-fraction", type=float, default=0.5)
    ap.add_argument("--name-chat-repeats", type=int, default=2)
    ap.add_argument("--names-per-chat", type=int, default=6)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tok = AutoTokenizer.from_pretrained(f"{DATA}/tokenizer")

    def chat(messages):
        return tok.apply_chat_template(messages, tokenize=False)

    texts, counts = [], {}

    def add(kind, items):
        texts.extend(items)
        counts[kind] = counts.get(kind, 0) + len(items)

    def sample(items, fraction):
        return rng.sample(items, round(len(items) * fraction))

    plain = [o["text"] for o in read_jsonl(f"{DATA}/pretrain_known.jsonl")]
    add("pretrain_known_countries", [t for t in plain if not t.startswith("Cities in")] * args.country_repeats)
    add("pretrain_known_cities", sample([t for t in plain if t.startswith("Cities in")], args.city_fraction))
    add("names_text", sample([o["text"] for o in read_jsonl(f"{DATA}/names.jsonl")], args.names_fraction))
    known_q = read_jsonl(f"{DATA}/questions_known.jsonl")
    add("questions_known_countries", [chat(o["conversations"]) for o in known_q if o["predicate"] != "country"] * args.question_repeats)
    add("questions_known_cities", [chat(o["conversations"]) for o in known_q if o["predicate"] == "country"])
    add("reading", [chat(o["conversations"]) for o in sample(read_jsonl(f"{DATA}/reading.jsonl"), args.reading_fraction)])

    names = set()
    for o in read_jsonl(f"{DATA}/knowledge.jsonl"):
        if o["predicate"] in ("capital", "continent", "currency", "country"):
            names.add(o["subject"] if o["predicate"] != "country" else o["object"])
        if o["predicate"] in ("capital", "continent", "currency"):
            names.add(o["object"])
    names = sorted(names)
    rng.shuffle(names)
    prompts = ["Repeat this name: {}", "Say the name {}.", "Write the name: {}"]
    name_chats = []
    for i in range(0, len(names), args.names_per_chat):
        messages = []
        for n in names[i:i + args.names_per_chat]:
            messages.append({"role": "user", "content": rng.choice(prompts).format(n)})
            messages.append({"role": "assistant", "content": n})
        name_chats.append(chat(messages))
    add("name_chats", name_chats * args.name_chat_repeats)

    rng.shuffle(texts)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(json.dumps({"out": args.out, "lines": len(texts), "counts": counts, "names": len(names)}))


if __name__ == "__main__":
    main()
