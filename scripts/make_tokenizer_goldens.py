#!/usr/bin/env python3
"""Golden ids for the Qwen3 tokenizer, made with Hugging Face `tokenizers`.

Writes Tests/TokenizersTests/Fixtures/tokenizer_goldens.json: {"texts": [...], "ids": [[...]],
"decoded": [...]} where ids = encode(text, add_special_tokens=False) and decoded = decode(ids).
The texts mix scripts, code, numbers, emoji sequences, whitespace runs and added tokens, fixed by a seed.

Usage: python3 scripts/make_tokenizer_goldens.py [--tokenizer ../shared/testdata/qwen3-tokenizer/tokenizer.json]
"""
import argparse
import os
import random
import unicodedata

from tokenizers import Tokenizer

from fixture_common import QWEN3_TOKENIZER_DIR, fixture_path, write_json

FRAGMENTS = {
    "english": [
        "The quick brown fox jumps over the lazy dog.", "Hello, world!", "I'm sure they'll say it's fine; we've DONE it.",
        "Don't you think she'd LOVE that?", "  Leading spaces", "trailing spaces   ", "e-mail: someone@example.com",
        "Mr. O'Neil's café costs $4.50 (tax incl.)", "https://example.org/path?q=1&r=two#frag", "ALL CAPS SENTENCE HERE",
        "naïve coöperation", "state-of-the-art", "A\tB\tC", "line one\nline two\n\nline four", "1st 2nd 3rd 4th",
    ],
    "chinese": [
        "我们今天去公园散步。", "人工智能正在改变世界，尤其是在自然语言处理领域。", "你好，世界！", "这是一个测试：１２３。",
        "机器学习模型需要大量的数据来训练", "北京是中国的首都",
    ],
    "japanese": [
        "こんにちは、世界！", "東京は日本の首都です。", "カタカナとひらがなを混ぜて書きます", "ｶﾀｶﾅ半角",
        "が ぱ ゔ", "今日はいい天気ですね。",
    ],
    "korean": ["안녕하세요 세계", "한국어 문장입니다.", "ㄱㄴㄷ"],
    "arabic": ["مرحبا بالعالم", "اللغة العربية جميلة جداً.", "السَّلَامُ عَلَيْكُمْ", "١٢٣ ٤٥٦"],
    "cyrillic": ["Привет, мир!", "Съешь же ещё этих мягких французских булок.", "Ёлка и ёжик", "ПРОПИСНЫЕ буквы"],
    "other_scripts": [
        "Γειά σου Κόσμε", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Xin chào thế giới", "Tiếng Việt có dấu",
        "ქართული ენა", "Հայերեն", "ᚠᚢᚦᚨᚱᚲ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙",
    ],
    "code": [
        "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "let xs = [1, 2, 3].map { $0 * 2 } // Swift", "SELECT * FROM users WHERE id = 42;",
        "<div class=\"a\">&nbsp;</div>", "if __name__ == '__main__':\n    main()", "x+=1;y-=2;z*=3",
        "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); }", "    indented\n        more\n", "a=>b || c&&d",
        "{\"key\": [1, 2.5, null, true]}", "rm -rf /tmp/x && echo ok", "`code` **bold** _it_",
    ],
    "numbers": [
        "3.14159265358979", "1,000,000", "2024-01-31", "12:30:45", "-42", "1e-10", "0x1F", "100%", "½ ¼ ¾",
        "Ⅻ ⅷ", "²³¹", "٣", "123456789012345678901234567890", "v1.2.3-beta",
    ],
    "emoji": [
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇯🇵🇺🇸", "👩🏾‍💻", "🤷‍♂️", "1️⃣", "✋🏿 ok", "🫠🫡", "I ❤ NY",
    ],
    "whitespace": [
        " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "\u2009thin",
        "\u200bzero-width", "a \t b", "  \n\n  x", "end \n", "\u0085next", "\ufeffbom",
    ],
    "added": [
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
        "<|im_start|>user\nhi<|im_end|>", "<think>\nreason\n</think>\n\nanswer", "<|fim_prefix|>x<|fim_suffix|>",
        "<|im_start |>", "<|im_start|<|im_end|>", "text<|endoftext|>more",
    ],
    "combining": ["e\u0301", "A\u030a", "n\u0303o", "\u1100\u1161\u11a8", "ﬁ ligature", "Ω Å K", "\u0627\u064e\u0651"],
}


def make_texts(rng: random.Random) -> list[str]:
    texts = []
    # Every fragment alone.
    for frags in FRAGMENTS.values():
        texts.extend(frags)
    names = list(FRAGMENTS)
    # Random mixes of fragments and separators.
    seps = ["", " ", "  ", "\n", "\t", " \n", "\n\n", ", ", "'s ", "'LL ", "   \n\t "]
    while len(texts) < 600:
        k = rng.randint(2, 6)
        parts = []
        for _ in range(k):
            parts.append(rng.choice(FRAGMENTS[rng.choice(names)]))
            parts.append(rng.choice(seps))
        texts.append("".join(parts))
    # Dense mixes of the characters the split pattern treats differently.
    tricky = [" ", "  ", "\n", "\r", "\r\n", "\t", "'", "s", "S", "ll", "LL", "re", "ve", "d", "m", "t", "a", "Z",
              "1", "42", ".", "!", "(", "\u00a0", "é", "e\u0301", "中", "日本", "<|im_end|>", "<think>", "😀", "👍🏽",
              "\u3000", "ſ", "\u0085", "\u200b", "-", "\u0663", "Ⅻ", "²", "ß", "İ", "Σ", "\u0627\u064e", "\u2028",
              "\x0b", "\x0c", "\x1c", "<|im_start", "|>", "<", "\u0301", "\ufeff"]
    for _ in range(200):
        texts.append("".join(rng.choice(tricky) for _ in range(rng.randint(1, 15))))
    # Random code points from every plane (surrogates excluded), including unassigned ones and ones
    # newer than Hugging Face's Unicode tables (U+323B0, CJK Extension J, is Unicode 17).
    for _ in range(200):
        cps = []
        for _ in range(rng.randint(1, 10)):
            r = rng.random()
            c = rng.randint(0x20, 0x7E) if r < 0.3 else rng.randint(0x80, 0x2FFFF) if r < 0.9 else rng.randint(0x30000, 0x10FFFF)
            cps.append(0x20 if 0xD800 <= c < 0xE000 else c)
        texts.append("".join(map(chr, cps)))
    texts.append("a\U000323B0b \U00032992x '\U00032992<yO")
    # A few long ones (long words, long runs).
    texts.append("人工智能" * 60)
    texts.append("=" * 300 + "\n" + "-" * 77)
    texts.append(" " * 50 + "x" + "\n" * 20)
    texts.append("".join(rng.choice(FRAGMENTS["english"]) for _ in range(40)))
    texts.append("a" * 500)
    # Long single pieces take the heap-based merge path (over 256 bytes).
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    texts.append("".join(rng.choice(letters) for _ in range(2000)))
    texts.append("".join(rng.choice(letters + "+/") for _ in range(600)) + "==")
    texts.append("السلامعليكمورحمةاللهوبركاته" * 12)
    texts.append("😀👍🏽🇯🇵❤️🫠" * 30)
    texts.append("".join(rng.choice("人工智能机器学习自然语言处理中文日本語") for _ in range(400)))
    texts.append("ab" * 150 + "ba" * 150)
    return texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", default=os.path.join(QWEN3_TOKENIZER_DIR, "tokenizer.json"))
    ap.add_argument("--out", default=fixture_path("TokenizersTests/Fixtures/tokenizer_goldens.json"))
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    texts = make_texts(random.Random(1234))
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    decoded = [tok.decode(i, skip_special_tokens=False) for i in ids]
    # decode(encode(x)) == NFC(x) holds for these texts; checked here so the fixture cannot hide a mismatch.
    for t, d in zip(texts, decoded):
        assert d == unicodedata.normalize("NFC", t), (t, d)
    write_json({"texts": texts, "ids": ids, "decoded": decoded}, args.out)
    print(f"{len(texts)} texts, {sum(map(len, ids))} ids -> {args.out}")


if __name__ == "__main__":
    main()
