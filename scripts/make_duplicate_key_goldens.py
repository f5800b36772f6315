#!/usr/bin/env python3
"""Golden ids for a tokenizer.json that repeats keys, made with Hugging Face `tokenizers`.

RFC 8259 leaves repeated object keys open; the `tokenizers` library (serde) keeps the last value, as
Python's `json` does. The file below is a tiny byte-level BPE whose first "pre_tokenizer" and first
vocab entry for "ab" are overridden later in the same object; our loader must read it the same way.

Writes Tests/TokenizersTests/Fixtures/duplicate_keys.json: {"tokenizer_json": <the file's text>,
"texts": [...], "ids": [[...]]} where ids = encode(text, add_special_tokens=False).

Usage: python3 scripts/make_duplicate_key_goldens.py
"""
import json
import os

from tokenizers import Tokenizer


def byte_to_unicode():
    """GPT-2's byte-level alphabet: printable bytes stand for themselves, the rest map above U+0100."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def main():
    chars = byte_to_unicode()
    q = json.dumps
    vocab = [f"{q(chars[b])}: {b}" for b in range(256)]
    # "ab" first with a wrong id, then its real one: the last must win.
    vocab += [f'{q("aa")}: 256', f'{q("ab")}: 999', f'{q("aab")}: 258', f'{q("ab")}: 257']
    model = (
        '{"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, '
        '"end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, '
        '"vocab": {' + ", ".join(vocab) + '}, "merges": [["a", "a"], ["a", "b"], ["aa", "b"]]}'
    )
    pre = (
        '{"type": "Sequence", "pretokenizers": ['
        '{"type": "Split", "pattern": {"Regex": "\\\\s+|\\\\S+"}, "behavior": "Isolated", "invert": false}, '
        '{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]}'
    )
    text = (
        '{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,\n'
        ' "pre_tokenizer": {"type": "Whitespace"},\n'  # overridden below
        ' "post_processor": null, "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},\n'
        f' "model": {model},\n'
        f' "pre_tokenizer": {pre}\n}}\n'
    )
    tok = Tokenizer.from_str(text)
    assert tok.get_vocab()["ab"] == 257, "tokenizers no longer keeps the last duplicate"
    texts = ["aaab", "aab", "ab ab", "b  a", "abab aab"]
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "TokenizersTests", "Fixtures", "duplicate_keys.json")
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"tokenizer_json": text, "texts": texts, "ids": ids}, f, ensure_ascii=False)
    os.replace(tmp, out)
    print(f"wrote {out}: {ids}")


if __name__ == "__main__":
    main()
