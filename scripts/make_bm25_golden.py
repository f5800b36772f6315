#!/usr/bin/env python3
"""The lexical retriever's reference (method §4): BM25, k1 = 1.2, b = 0.75, over words.

A word is a maximal run of characters whose Unicode general category is a letter (L*), a mark (M*)
or a number (N*); each character is lower-cased by itself (str.lower of one character: the full
mapping, no context). Canonically equivalent words are one word (Swift compares Strings so): words
are compared in NFC. Documents are the non-empty rows; idf = ln(1 + (N - df + 0.5) / (df + 0.5));
a distinct query word counts once; rows sharing no word with the query are not candidates; ties go
to the lower row. Writes Tests/MemoryTests/BM25Golden.swift (the texts, queries and expected
scores), which LexicalRetrieverTests compares with to 1e-6 relative.
"""
import json
import math
import pathlib
import unicodedata

K1, B = 1.2, 0.75

# None is an empty row (length 0): never a document, never a candidate.
TEXTS = [
    "Paris is the capital of France.",
    "The capital of Peru is Lima.",
    None,
    "Lima lies on the Pacific coast of Peru; Lima's old town is a World Heritage Site.",
    "Vienna is the capital of Austria.",
    "ÉCOLE Polytechnique is in Palaiseau, France (founded 1794).",
    "Straße and STRASSE are spelled differently; İstanbul is the largest city of Türkiye.",
    "東京は日本の首都です。 Tokyo is the capital of Japan.",
    "The the THE the: a row that repeats one word.",
    None,
    "Mount Everest is 8848 m high, the highest mountain on Earth.",
    "Café au lait — naïve coöperation, Zoë’s résumé.",
    "!!! ??? ...",
    "Ngày 2 tháng 9 là Quốc khánh Việt Nam.",
    "Zoe\u0308 (decomposed) met Zoë (composed) in Mu\u0308nchen.",
]

QUERIES = [
    "What is the capital of Peru?",
    "capital",
    "the",
    "lima LIMA Lima",
    "école polytechnique france",
    "strasse istanbul",
    "i̇stanbul türkiye",
    "東京は日本の首都です",
    "8848",
    "cafe café resume résumé",
    "quốc khánh việt nam",
    "nothing matches here zzz",
    "zoë münchen",
    "",
]


def words(text):
    out, current = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch.lower())
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return [unicodedata.normalize("NFC", w) for w in out]


def bm25(texts, query):
    docs = {row: words(t) for row, t in enumerate(texts) if t is not None}
    n_docs = len(docs)
    avgdl = sum(len(w) for w in docs.values()) / n_docs
    df = {}
    for w in docs.values():
        for term in set(w):
            df[term] = df.get(term, 0) + 1
    terms = []
    for term in words(query):
        if term in df and term not in terms:
            terms.append(term)
    scores = {}
    for term in terms:
        idf = math.log(1 + (n_docs - df[term] + 0.5) / (df[term] + 0.5))
        for row, w in docs.items():
            tf = w.count(term)
            if tf:
                norm = K1 * (1 - B + B * len(w) / avgdl)
                scores[row] = scores.get(row, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def main():
    golden = {
        "texts": TEXTS,
        "words": [None if t is None else words(t) for t in TEXTS],
        "queries": [{"query": q, "results": [{"row": r, "score": s} for r, s in bm25(TEXTS, q)]} for q in QUERIES],
    }
    def line(value):
        return json.dumps(value, ensure_ascii=False)

    text = (
        '{"texts": [\n' + ",\n".join(line(t) for t in golden["texts"]) + '],\n"words": [\n'
        + ",\n".join(line(w) for w in golden["words"]) + '],\n"queries": [\n'
        + ",\n".join(line(q) for q in golden["queries"]) + "]}"
    )
    assert json.loads(text) == golden
    assert '"""' not in text and "\\(" not in text
    out = pathlib.Path(__file__).resolve().parent.parent / "Tests/MemoryTests/BM25Golden.swift"
    out.write_text(
        "// Written by scripts/make_bm25_golden.py: BM25 scores of the Python reference. Do not edit.\n"
        "enum BM25Golden {\n"
        '    static let json = #"""\n' + text + '\n"""#\n'
        "}\n",
        encoding="utf-8",
    )
    print(f"wrote {out}: {len(QUERIES)} queries over {len(TEXTS)} rows")


if __name__ == "__main__":
    main()
