#!/usr/bin/env python3
"""Gradients of transformers' Qwen3 under PyTorch autograd, for the backward-pass parity tests.

Writes Tests/TrainingTests/Fixtures/<variant>/ with config.json, model.safetensors (float32) and
golden.safetensors holding, for a batch of B=2 rows of T tokens (row 1 right-padded with id 0; T = 12,
the long-* variants 141: three attention blocks of 64, the last partial):
  input_ids  int32 [B, T]     targets int32 [B, T] (next token; -100 on a prompt prefix and on pads)
  loss_sum   float32 [1]      sum of token cross-entropies over the loss tokens
  loss_tokens int32 [1]
  grad.<name>  float32        d(loss_sum)/d(weight) for every weight (full mode; tied: the one
                              embedding tensor holds the embedding and head gradients together)
and, for the variant with a frozen-mode check, a residual linear module h <- h + h A^T hooked after
decoder layer `frozen_layer` with every model weight frozen (frozen.json names the layers):
  frozen.module_weight  [D, D]  A
  frozen.loss_sum       [1]
  frozen.grad.module_weight      d(loss_sum)/dA
  frozen.grad.hidden_after_layer d(loss_sum)/d(hidden after the layer, the module's input) [B*T, D]
  frozen.grad.module_output      d(loss_sum)/d(the module's output) [B*T, D]
and, when the variant names `frozen_multi`, the same under frozen_multi.* with modules after each
layer of it (names suffixed .<layer>; hidden_after_layer is below the lowest module).
The reference runs in float64 (eager attention) and is stored as float32, so it is the exact math.
Run once: python3 scripts/make_grad_fixtures.py [VARIANT ...]  (default: all)
"""
import json
import math
import os
import shutil

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM

from fixture_common import fixture_path, make_variants, randomize_qwen3

ROOT = fixture_path("TrainingTests", "Fixtures")

VARIANTS = {
    # tied embeddings, GQA ratio 2, three layers: the frozen-mode check hooks after the middle one
    "tied-gqa": dict(frozen_layer=1, frozen_multi=[0, 2], config=dict(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True,
        rope_theta=10_000.0)),
    # untied, GQA ratio 4, attention biases, head_dim (16) != hidden / heads (6)
    "untied-bias-gqa": dict(frozen_layer=None, config=dict(
        vocab_size=80, hidden_size=24, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, tie_word_embeddings=False,
        attention_bias=True, rope_theta=1_000_000.0)),
    # Rows over several attention blocks (T = 141: 64 + 64 + 13; row 1 has 100 tokens, then pads).
    # Two kv groups, so the kernel splits them over workers; the frozen check hooks after layer 0,
    # so its hidden gradient comes back through layer 1's attention.
    "long-gqa": dict(frozen_layer=0, length=141, prompt=[20, 70], lengths=[141, 100], config=dict(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True,
        rope_theta=10_000.0)),
    # The same lengths with one kv group: the kernel's single-worker path.
    "long-mqa": dict(frozen_layer=None, length=141, prompt=[20, 70], lengths=[141, 100], config=dict(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=8, tie_word_embeddings=False,
        rope_theta=1_000_000.0)),
}
B = 2
T_SHORT = 12
PROMPT = [4, 3]            # positions without loss at the start of each row (assistant-style mask)
LENGTHS = [T_SHORT, 8]     # row 1 carries T - 8 pads


def batch(vocab, seed, T=T_SHORT, prompt=PROMPT, lengths=LENGTHS):
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros(B, T, dtype=torch.long)
    targets = torch.full((B, T), -100, dtype=torch.long)
    for b in range(B):
        n = lengths[b]
        seq = torch.randint(1, vocab, (n + 1,), generator=g)
        ids[b, :n] = seq[:n]
        targets[b, prompt[b]:n] = seq[prompt[b] + 1:n + 1]
    return ids, targets


def loss_sum(model, ids, targets):
    logits = model(input_ids=ids).logits
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100, reduction="sum")


def make(name, spec, seed):
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    cfg = Qwen3Config(**spec["config"], max_position_embeddings=512, eos_token_id=5, bos_token_id=None,
                      pad_token_id=0, attn_implementation="eager")
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(cfg)
    randomize_qwen3(model, seed)
    model.save_pretrained(out)
    if os.path.exists(os.path.join(out, "generation_config.json")):
        os.remove(os.path.join(out, "generation_config.json"))

    ref = Qwen3ForCausalLM.from_pretrained(out, dtype=torch.float64, attn_implementation="eager").train(False)
    T = spec.get("length", T_SHORT)
    ids, targets = batch(cfg.vocab_size, seed + 1, T, spec.get("prompt", PROMPT), spec.get("lengths", LENGTHS))
    golden = {"input_ids": ids.to(torch.int32), "targets": targets.to(torch.int32),
              "loss_tokens": torch.tensor([int((targets != -100).sum())], dtype=torch.int32)}

    # Full mode: gradients of every weight.
    loss = loss_sum(ref, ids, targets)
    loss.backward()
    golden["loss_sum"] = loss.detach().reshape(1)
    for pname, p in ref.named_parameters():
        golden["grad." + pname] = p.grad.detach()
    ref.zero_grad()

    # Frozen mode: a residual linear module after the middle layer; only it and the activations
    # get gradients. Then modules after several layers at once (the memory step after each layer).
    layer = spec["frozen_layer"]
    if layer is not None:
        for p in ref.parameters():
            p.requires_grad_(False)
        D = cfg.hidden_size
        g = torch.Generator().manual_seed(seed + 2)
        checks = [("frozen", [layer])] + ([("frozen_multi", spec["frozen_multi"])] if spec.get("frozen_multi") else [])
        for prefix, layers in checks:
            weights, seen, handles = {}, {}, []
            for at in layers:
                A = (0.3 * torch.randn(D, D, generator=g, dtype=torch.float64) / math.sqrt(D)).requires_grad_(True)
                weights[at] = A

                def hook(module, args, output, at=at, A=A):
                    h = output[0] if isinstance(output, tuple) else output
                    if h.requires_grad:
                        h.retain_grad()
                    else:  # the lowest module: nothing below it needs a gradient
                        h = h.detach().requires_grad_(True)
                    y = h + h @ A.T
                    y.retain_grad()
                    seen[at] = (h, y)
                    return (y,) + tuple(output[1:]) if isinstance(output, tuple) else y

                handles.append(ref.model.layers[at].register_forward_hook(hook))
            floss = loss_sum(ref, ids, targets)
            floss.backward()
            for h in handles:
                h.remove()
            golden[prefix + ".loss_sum"] = floss.detach().reshape(1)
            lowest = min(layers)
            golden[prefix + ".grad.hidden_after_layer"] = seen[lowest][0].grad.detach().reshape(B * T, D)
            for at, A in weights.items():
                suffix = "" if prefix == "frozen" else f".{at}"
                golden[prefix + ".module_weight" + suffix] = A.detach()
                golden[prefix + ".grad.module_weight" + suffix] = A.grad.detach()
                golden[prefix + ".grad.module_output" + suffix] = seen[at][1].grad.detach().reshape(B * T, D)
        with open(os.path.join(out, "frozen.json"), "w") as f:
            json.dump({"after_layer": layer, "multi": spec.get("frozen_multi")}, f)

    save_file({k: v.to(torch.float32 if v.is_floating_point() else v.dtype).contiguous() for k, v in golden.items()},
              os.path.join(out, "golden.safetensors"))
    print(f"{name}: loss_sum {loss.item():.4f} over {golden['loss_tokens'].item()} tokens, "
          f"files {sorted(os.listdir(out))}")


if __name__ == "__main__":
    make_variants(VARIANTS, make, first_seed=4321)
