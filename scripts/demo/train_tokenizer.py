#!/usr/bin/env python3
"""Train the demo's byte-level BPE tokenizer (Qwen3's pre-tokenizer and specials) on data/demo texts.

Tooling only (never run by the Swift package at run time). Deterministic for a given `tokenizers`
version: the inputs are read in sorted file order and the trainer is single-threaded.
Usage: python3 scripts/demo/train_tokenizer.py [--data data/demo] [--qwen3 DIR] [--vocab 4096]
Needs: pip install tokenizers (installed with transformers); run make_knowledge.py first.
The Qwen3 files (tokenizer.json, tokenizer_config.json) give the pre-tokenizer, specials and chat
template; default DIR is /work/shared/testdata/qwen3-tokenizer.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # light on shared cores, and deterministic
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from importlib.metadata import version as pkg_version  # noqa: E402

from tokenizers import Tokenizer, pre_tokenizers, trainers  # noqa: E402

TEXT_FILES = ["knowledge.jsonl", "names.jsonl", "pretrain_known.jsonl", "questions_eval.jsonl",
              "questions_eval_unseen.jsonl", "questions_known.jsonl", "questions_memory_train.jsonl",
              "reading.jsonl"]


def texts(data_dir):
    """Every string of the demo data, each message content on its own (as the chat renders it)."""
    for name in sorted(TEXT_FILES):
        with open(os.path.join(data_dir, name), encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if "sentence" in row:
                    yield row["sentence"]
                    yield row["object"]
                if "text" in row:
                    yield row["text"]
                for m in row.get("conversations", []):
                    yield m["role"] + "\n"  # the chat renders "<|im_start|>user\n..."
                    yield m["content"]
                    yield "\n\n"  # Qwen3's template puts "<think>\n\n</think>\n\n" before answers
    with open(os.path.join(data_dir, "omcq_eval.json"), encoding="utf-8") as fh:
        for item in json.load(fh):
            yield item["question"] + "\n" + item["options"]
            yield item["correct_answer"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--out", default=None, help="default: <data>/tokenizer")
    ap.add_argument("--qwen3", default="/work/shared/testdata/qwen3-tokenizer")
    ap.add_argument("--vocab", type=int, default=4096, help="total size, added special tokens included")
    args = ap.parse_args()
    out = args.out or os.path.join(args.data, "tokenizer")
    os.makedirs(out, exist_ok=True)

    with open(os.path.join(args.qwen3, "tokenizer.json"), encoding="utf-8") as fh:
        qwen = json.load(fh)
    with open(os.path.join(args.qwen3, "tokenizer_config.json"), encoding="utf-8") as fh:
        qwen_cfg = json.load(fh)
    added = sorted(qwen["added_tokens"], key=lambda a: a["id"])  # Qwen3's order: <|endoftext|> first

    # Qwen3's exact normalizer (NFC), pre-tokenizer (Split regex, Isolated + ByteLevel with
    # add_prefix_space false, use_regex false) and ByteLevel decoder, copied from its tokenizer.json
    tok = Tokenizer.from_str(json.dumps({
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": qwen["normalizer"], "pre_tokenizer": qwen["pre_tokenizer"],
        "post_processor": None, "decoder": qwen["decoder"],
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": {}, "merges": []}}))
    n_bpe = args.vocab - len(added)
    trainer = trainers.BpeTrainer(vocab_size=n_bpe, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(texts(args.data), trainer=trainer)
    assert tok.get_vocab_size() == n_bpe, (tok.get_vocab_size(), n_bpe)

    # Qwen3's added tokens after the BPE vocabulary, same order and flags
    spec = json.loads(tok.to_str())
    spec["added_tokens"] = [dict(a, id=n_bpe + i) for i, a in enumerate(added)]
    spec["post_processor"] = None  # no BOS / template: Qwen3's ByteLevel post-processor adds nothing
    spec["decoder"] = qwen["decoder"]
    tok = Tokenizer.from_str(json.dumps(spec))
    assert tok.get_vocab_size() == args.vocab, tok.get_vocab_size()
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(json.loads(tok.to_str()), fh, ensure_ascii=False, indent=1)
        fh.write("\n")

    cfg = {k: v for k, v in qwen_cfg.items() if k != "added_tokens_decoder"}
    cfg["added_tokens_decoder"] = {str(a["id"]): {k: a[k] for k in (
        "content", "lstrip", "normalized", "rstrip", "single_word", "special")} for a in spec["added_tokens"]}
    cfg["eos_token"] = "<|im_end|>"
    cfg["pad_token"] = "<|endoftext|>"
    cfg["bos_token"] = None
    cfg["chat_template"] = qwen_cfg["chat_template"]  # verbatim
    cfg["model_max_length"] = 2048
    order = ["add_bos_token", "add_prefix_space", "added_tokens_decoder", "additional_special_tokens",
             "bos_token", "chat_template", "clean_up_tokenization_spaces", "eos_token", "errors",
             "model_max_length", "pad_token", "split_special_tokens", "tokenizer_class", "unk_token"]
    cfg = {k: cfg[k] for k in order if k in cfg} | {k: v for k, v in cfg.items() if k not in order}
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump(cfg, fh, ensure_ascii=False, indent=2)
        fh.write("\n")

    meta = {"library": "tokenizers", "tokenizers_version": pkg_version("tokenizers"),
            "generator": "scripts/demo/train_tokenizer.py", "vocab_size": args.vocab, "bpe_vocab": n_bpe,
            "added_tokens": [a["content"] for a in spec["added_tokens"]],
            "pre_tokenizer": "Qwen3 (copied from tokenizer.json)", "chat_template": "Qwen3 (verbatim)",
            "trained_on": sorted(TEXT_FILES) + ["omcq_eval.json"], "min_frequency": 2}
    with open(os.path.join(out, "metadata.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(json.dumps({"vocab": tok.get_vocab_size(), "out": out}))


if __name__ == "__main__":
    sys.exit(main())
