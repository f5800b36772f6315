#!/usr/bin/env python3
"""Tiny random Qwen3 checkpoints and transformers' answers on them, for the parity tests.

Writes Tests/Qwen3Tests/Fixtures/<variant>/ with config.json, generation_config.json, the weights
(one file, or shards with model.safetensors.index.json) and golden.safetensors holding:
  input_ids  int32 [T]       a prompt (T = 40; long-gqa-f32: 197, four attention blocks of 64, the last partial)
  logits     float32 [T, V]  Qwen3ForCausalLM logits at every position (float32 math)
  prompt     int32 [P]       a short prompt for generation
  generated  int32 [N]       generate(do_sample=False, max_new_tokens=32) without the prompt
Run once: python3 scripts/make_qwen3_fixtures.py [VARIANT ...]  (default: all; needs scripts/python-requirements.txt).
"""
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM

from fixture_common import fixture_path, make_variants, randomize_qwen3

ROOT = fixture_path("Qwen3Tests", "Fixtures")

VARIANTS = {
    # tied embeddings, kv-head ratio 1, head_dim (16) != hidden / heads (12), float32 file
    "tied-mha-f32": dict(dtype="float32", shard=None, config=dict(
        vocab_size=320, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, head_dim=16, tie_word_embeddings=True,
        rope_theta=1_000_000.0)),
    # untied, kv-head ratio 4, bfloat16 weight file
    "untied-gqa-bf16": dict(dtype="bfloat16", shard=None, config=dict(
        vocab_size=288, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=8, num_key_value_heads=2, head_dim=24, tie_word_embeddings=False,
        rope_theta=10_000.0)),
    # untied, kv-head ratio 2, attention biases, sharded float32 checkpoint
    "sharded-bias-f32": dict(dtype="float32", shard="60KB", config=dict(
        vocab_size=256, hidden_size=32, intermediate_size=80, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=False,
        attention_bias=True, rope_theta=500_000.0)),
    # a prompt over several attention blocks: T = 197, kv-head ratio 2 with two kv groups (the
    # kernel splits groups over workers), tied, small vocabulary so the logits stay small
    "long-gqa-f32": dict(dtype="float32", shard=None, length=197, config=dict(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True,
        rope_theta=10_000.0)),
}


def make(name, spec, seed):
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    cfg = Qwen3Config(**spec["config"], max_position_embeddings=512, eos_token_id=[7, 5],
                      bos_token_id=None, pad_token_id=0)
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(cfg).eval()
    randomize_qwen3(model, seed)
    model.generation_config.eos_token_id = [7, 5]
    model.generation_config.pad_token_id = 0
    saved = model.to(getattr(torch, spec["dtype"]))
    kwargs = {"max_shard_size": spec["shard"]} if spec["shard"] else {}
    saved.save_pretrained(out, **kwargs)

    # The reference answers come from the checkpoint as written, in float32 math.
    ref = Qwen3ForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    V = cfg.vocab_size
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(8, V, (1, spec.get("length", 40)), generator=g)
    prompt = torch.randint(8, V, (1, 6), generator=g)
    with torch.no_grad():
        logits = ref(ids).logits[0]
        gen = ref.generate(prompt, do_sample=False, max_new_tokens=32, min_new_tokens=0)[0, prompt.shape[1]:]
    spread = logits.std().item()
    assert spread > 2, f"{name}: logits spread {spread:.2f} too small"
    save_file({
        "input_ids": ids[0].to(torch.int32).contiguous(),
        "logits": logits.contiguous(),
        "prompt": prompt[0].to(torch.int32).contiguous(),
        "generated": gen.to(torch.int32).contiguous(),
    }, os.path.join(out, "golden.safetensors"))
    files = sorted(os.listdir(out))
    print(f"{name}: logits std {spread:.2f}, generated {gen.tolist()}, files {files}")


if __name__ == "__main__":
    make_variants(VARIANTS, make, first_seed=1234)
