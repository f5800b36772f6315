#!/usr/bin/env python3
"""Writes the seed corpus Fuzz/Corpus/<target>/seed-* from the test fixtures: small valid and
near-valid inputs of each format. Crash reproducers (crash-*) found later sit beside them and are
kept. Run from the repository root; the Qwen3 tokenizer comes from ../shared/testdata."""
import json, os, struct, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "Fuzz", "Corpus")
qwen3_tokenizer = os.path.join(root, "..", "shared", "testdata", "qwen3-tokenizer", "tokenizer.json")


def write(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(corpus, target, "seed-" + name), "wb") as f:
        f.write(data)


def fixture(path):
    with open(os.path.join(root, path), "rb") as f:
        return f.read()


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def safetensors(tensors, metadata=None, pad=0):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = compact(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


# json: documents that reach every branch of the reader.
write("json", "object", '{"a": [1, -2.5e+3, 0, true, false, null], "b": {"c": "d"}, "": {}}')
write("json", "escapes", r'["\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", "é", "\u0000"]')
write("json", "duplicate-keys", '{"k": 1, "k": 2, "x": {"k": [], "k": {}}}')
write("json", "numbers", '[0, -0, 1.5, 1e9, 1E-9, 123456789012345678901234567890, -9223372036854775808]')
write("json", "nested", "[" * 20 + "]" * 20)
write("json", "wide-object", compact({"key%d" % i: i for i in range(40)}))
write("json", "safetensors-reference", fixture("Tests/SafeTensorsTests/Fixtures/reference.json"))

# safetensors: whole small files, every dtype.
write("safetensors", "reference", fixture("Tests/SafeTensorsTests/Fixtures/reference.safetensors"))
write("safetensors", "dtypes", safetensors({
    "f32": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
    "f16": ("F16", [3], struct.pack("<3e", 1, -2, 0.5)),
    "bf16": ("BF16", [2], b"\x80\x3f\x00\x40"),
    "f64": ("F64", [1], struct.pack("<d", 3.25)),
    "i64": ("I64", [2], struct.pack("<2q", 7, -(2 ** 40))),
    "i32": ("I32", [1, 1], struct.pack("<i", -5)),
    "i16": ("I16", [1], struct.pack("<h", 9)),
    "i8": ("I8", [2], b"\x01\xff"),
    "u8": ("U8", [1], b"\x02"),
    "bool": ("BOOL", [1], b"\x01"),
    "empty": ("F32", [0, 3], b""),
    "scalar": ("F32", [], struct.pack("<f", 8)),
}, metadata={"format": "pt"}))
write("safetensors", "padded", safetensors({"w": ("F32", [1], struct.pack("<f", 1))}, pad=7))
write("safetensors", "empty", safetensors({}))

# tokenizer: a byte-level BPE file shaped like Qwen3's (its 256 byte tokens, its first merges, its
# added tokens) and BERT's WordPiece file, whole and cut down.
qwen3 = json.load(open(qwen3_tokenizer, encoding="utf-8"))
vocab = dict(list(qwen3["model"]["vocab"].items())[:256])
merges = []
for left, right in qwen3["model"]["merges"][:400]:
    if left in vocab and right in vocab and len(merges) < 60:
        merges.append([left, right])
        vocab[left + right] = qwen3["model"]["vocab"][left + right]
small = dict(qwen3)
small["model"] = dict(qwen3["model"], vocab=vocab, merges=merges)
small["added_tokens"] = [dict(a, id=300 + i) for i, a in enumerate(qwen3["added_tokens"][:4])]
write("tokenizer", "bpe-qwen3", compact(small))
write("tokenizer", "bpe-sparse-added-ids", compact(dict(small, added_tokens=[
    dict(a, id=100000 + 7 * i) for i, a in enumerate(qwen3["added_tokens"][:3])])))
legacy = dict(small, model=dict(small["model"], merges=[" ".join(m) for m in merges]),
              pre_tokenizer={"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}, normalizer=None)
legacy["fuzz_config"] = {"eos_token": "<|im_end|>", "pad_token": {"content": "<|endoftext|>"}, "chat_template": "x"}
write("tokenizer", "bpe-gpt2-legacy-merges", compact(legacy))
bert = json.loads(fixture("Tests/EncodersTests/Fixtures/tiny-bert/tokenizer.json"))
write("tokenizer", "wordpiece-tiny-bert", compact(bert))
bert_small = dict(bert, model=dict(bert["model"], vocab=dict(list(bert["model"]["vocab"].items())[:120])),
                  padding={"pad_id": 0}, truncation={"max_length": 8})
write("tokenizer", "wordpiece-small", compact(bert_small))

# chat: chat-render message files.
goldens = json.loads(fixture("Tests/TokenizersTests/Fixtures/chat_goldens.json"))
seen = set()
for case in goldens:
    text = compact(case["messages"])
    if text not in seen and len(text) < 1500 and len(seen) < 12:
        seen.add(text)
        write("chat", "golden-%d" % len(seen), text)
write("chat", "tool-calls", compact([
    {"role": "system", "content": "s"}, {"role": "user", "content": "q"},
    {"role": "assistant", "content": "", "reasoning_content": "r",
     "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, "x"]}}}, {"name": "g", "arguments": "{}"}]},
    {"role": "tool", "content": "out"}, {"role": "assistant", "content": "<think>\nx\n</think>\n\ny"}]))

# config: Qwen3 and BERT config.json, generation_config.json.
for name, path in [("qwen3-tied-mha", "Tests/Qwen3Tests/Fixtures/tied-mha-f32/config.json"),
                   ("qwen3-untied-gqa", "Tests/Qwen3Tests/Fixtures/untied-gqa-bf16/config.json"),
                   ("qwen3-pretrain", "Tests/TrainingTests/Fixtures/pretrain-qwen3/config.json"),
                   ("bert-tiny", "Tests/EncodersTests/Fixtures/tiny-bert/config.json"),
                   ("generation", "Tests/Qwen3Tests/Fixtures/tied-mha-f32/generation_config.json")]:
    write("config", name, fixture(path))
write("config", "qwen3-rope-parameters", compact({
    "model_type": "qwen3", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
    "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
    "layer_types": ["full_attention"], "eos_token_id": [1, 2], "sliding_window": None, "rms_norm_eps": 1e-6,
    "max_position_embeddings": 128}))

# jsonl: conversation data and {"text": ...} corpora.
write("jsonl", "conversations", "\n".join(compact(c) for c in [
    {"conversations": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "fact_uuid": "u-1"},
    {"conversations": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                       {"role": "assistant", "content": "a", "reasoning_content": "r"}], "fact_uuid": None},
]) + "\n\n  \r\n")
write("jsonl", "texts", '{"text": "one"}\n{"text": "two é"}\r\n\n{"text": ""}\n')
write("jsonl", "bad-lines", '{"conversations": []}\nnot json\n[1]\n{"conversations": [{"role": "tool", "content": "x"}]}\n')
