#!/usr/bin/env python3
"""Goldens of the PyTorch reference of the memory step (method.md §4-§6, §11), for the Swift parity tests.

The frozen backbone is transformers' Qwen3ForCausalLM (a tiny random config); a memory step
(MemoryNorm, fine selection, GatedMemoryFusion, the alpha gate) is hooked after each memory layer
(the reference itself is scripts/memory_reference.py).
Everything runs in float64; inputs (weights, scores, Gumbel noise) are float32 values, so the Swift
side sees exactly the same numbers. Writes Tests/MemoryTests/Fixtures/:
  backbone/                      config.json + model.safetensors (float32)
  <case>/memory.safetensors      the memory weights as a §11 checkpoint (random, o_proj/down non-zero)
  <case>/golden.safetensors      for a batch of B=2 rows of different lengths (row 1 right-padded):
    input_ids, targets int32 [B, T]     (-100 on prompts, on a second user turn and on pads)
    prompt_lengths int32 [B]            positions before the first answer (query state q-bar)
    candidate_tokens int32 [B, C, L_k], candidate_lengths int32 [B, C], candidate_scores [B, C],
    candidate_counts int32 [B]          row 1 has fewer than C candidates (the rest masked)
    gumbel_noise [M, B, T, C]           M = number of memory layers
  and per mode (train: straight-through Gumbel-Softmax; eval: argmax, ties to the first):
    <mode>.logits [B, T, V], <mode>.loss_sum [1] (summed token cross-entropy),
    <mode>.similarity [1] (L_sim = mean over memory layers and answer tokens of -sigma),
    <mode>.diversity [1], <mode>.selected int32 [M, B, T],
    <mode>.query_state.<layer> [B, D],
    <mode>.grad.<name> d(loss_sum + SIMILARITY_WEIGHT * L_sim)/d(memory tensor), every tensor,
    <mode>.grad.hidden  the same w.r.t. the hidden state after the lowest memory layer [B*T, D].
Diversity: per memory layer and answer token, sum_{i!=j} p_i p_j cos(M_i, M_j) / sum_{i!=j} p_i p_j
over the valid candidates, p = softmax(lambda + g) in training and softmax(lambda) in evaluation;
mean over layers and answer tokens. It has no gradient w.r.t. the memory tensors (scores are inputs).
Run once: python3 scripts/make_memory_fixtures.py [CASE ...]  (default: all)
"""
import json
import math
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM

from fixture_common import fixture_path, make_variants, randomize_qwen3
from memory_reference import MemoryShape, make_memory, randomize_memory, run

ROOT = fixture_path("MemoryTests", "Fixtures")
BACKBONE = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=3,
                num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True,
                rope_theta=10_000.0)
MEMORY_LAYERS = [0, 2]
HEADS, HEAD_DIM, KNOWLEDGE_LENGTH, CANDIDATES, TAU = 2, 8, 6, 4, 0.5
SHAPE = MemoryShape(heads=HEADS, head_dim=HEAD_DIM, knowledge_length=KNOWLEDGE_LENGTH, candidates=CANDIDATES, tau=TAU)
SIMILARITY_WEIGHT = 3.0
B, T = 2, 14
LENGTHS = [14, 10]
PROMPT_LENGTHS = [4, 3]
# Loss spans (assistant turns) per row: two turns in row 0, two in row 1 (the rest: prompt, user, pads).
ANSWERS = [[(4, 7), (9, 13)], [(3, 5), (7, 9)]]
CANDIDATE_COUNTS = [4, 3]
CANDIDATE_LENGTHS = [[6, 3, 4, 1], [5, 6, 2, 0]]
# Row 0 ties its two best scores (evaluation must pick the first); scores lie close so that the
# Gumbel noise changes the choice between tokens in training.
SCORES = [[0.5, 1.0, 1.0, 0.25], [0.8, 0.2, 0.6, 0.0]]

CASES = {
    "cross-attention-full": dict(fusion="cross_attention", rank=0),
    "cross-attention-rank4": dict(fusion="cross_attention", rank=4),
    "swiglu-full": dict(fusion="swiglu", rank=0),
    "swiglu-rank4": dict(fusion="swiglu", rank=4),
}


def make_backbone():
    out = os.path.join(ROOT, "backbone")
    shutil.rmtree(out, ignore_errors=True)
    cfg = Qwen3Config(**BACKBONE, max_position_embeddings=128, eos_token_id=5, bos_token_id=None,
                      pad_token_id=0, attn_implementation="eager")
    torch.manual_seed(99)
    model = Qwen3ForCausalLM(cfg)
    randomize_qwen3(model, 99)
    model.save_pretrained(out)
    if os.path.exists(os.path.join(out, "generation_config.json")):
        os.remove(os.path.join(out, "generation_config.json"))
    return Qwen3ForCausalLM.from_pretrained(out, dtype=torch.float64, attn_implementation="eager").train(False)


def batch_and_candidates(vocab, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros(B, T, dtype=torch.long)
    targets = torch.full((B, T), -100, dtype=torch.long)
    for b in range(B):
        n = LENGTHS[b]
        seq = torch.randint(1, vocab, (n + 1,), generator=g)
        ids[b, :n] = seq[:n]
        for lo, hi in ANSWERS[b]:
            targets[b, lo:hi] = seq[lo + 1:hi + 1]
    tokens = torch.zeros(B, CANDIDATES, KNOWLEDGE_LENGTH, dtype=torch.long)
    for b in range(B):
        for j in range(CANDIDATES):
            n = CANDIDATE_LENGTHS[b][j]
            tokens[b, j, :n] = torch.randint(1, vocab, (n,), generator=g)
    cands = [dict(tokens=tokens[b], lengths=CANDIDATE_LENGTHS[b], count=CANDIDATE_COUNTS[b],
                  scores=torch.tensor(SCORES[b], dtype=torch.float64)) for b in range(B)]
    return ids, targets, tokens, cands


def gumbel_noise(seed, cands):
    """Noise whose best and second-best lambda + g differ by > 1e-3 at every token, so float32
    and float64 select the same candidate."""
    g = torch.Generator().manual_seed(seed)
    while True:
        u = torch.rand(len(MEMORY_LAYERS), B, T, CANDIDATES, generator=g, dtype=torch.float64).clamp_min(1e-12)
        noise = (-torch.log(-torch.log(u))).float().double()
        ok = True
        for b in range(B):
            lam = torch.full((CANDIDATES,), -math.inf, dtype=torch.float64)
            lam[:cands[b]["count"]] = cands[b]["scores"][:cands[b]["count"]] / TAU
            top = (lam + noise[:, b]).topk(2, -1).values
            ok &= bool(((top[..., 0] - top[..., 1]) > 1e-3).all())
        if ok:
            return noise


def make(name, spec, seed):
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    model = make_backbone()
    for p in model.parameters():
        p.requires_grad_(False)
    cfg = model.config
    D = cfg.hidden_size
    memory = make_memory(D, cfg.rms_norm_eps, MEMORY_LAYERS, spec["fusion"], spec["rank"], SHAPE)
    randomize_memory(memory, seed)
    memory = memory.double()
    metadata = {"format": "explicitlm-memory", "version": "1", "memory_layers": ",".join(map(str, MEMORY_LAYERS)),
                "fusion": spec["fusion"], "retriever": "lexical", "knowledge_length": str(KNOWLEDGE_LENGTH),
                "gumbel_temperature": str(TAU), "num_candidates": str(CANDIDATES)}
    save_file({"memory." + k: v.detach().float().contiguous() for k, v in memory.named_parameters()},
              os.path.join(out, "memory.safetensors"), metadata=metadata)

    ids, targets, tokens, cands = batch_and_candidates(cfg.vocab_size, 7)
    noise = gumbel_noise(8, cands)
    golden = {"input_ids": ids.int(), "targets": targets.int(), "prompt_lengths": torch.tensor(PROMPT_LENGTHS).int(),
              "candidate_tokens": tokens.int(), "candidate_lengths": torch.tensor(CANDIDATE_LENGTHS).int(),
              "candidate_scores": torch.tensor(SCORES), "candidate_counts": torch.tensor(CANDIDATE_COUNTS).int(),
              "gumbel_noise": noise}
    for mode in ["train", "eval"]:
        memory.zero_grad()
        logits, lm, similarity, diversity, record = run(model, memory, MEMORY_LAYERS, ids, targets, PROMPT_LENGTHS,
                                                        cands, noise, mode == "train", SHAPE)
        (lm + SIMILARITY_WEIGHT * similarity).backward()
        golden[f"{mode}.logits"] = logits.detach()
        golden[f"{mode}.loss_sum"] = lm.detach().reshape(1)
        golden[f"{mode}.similarity"] = similarity.detach().reshape(1)
        golden[f"{mode}.diversity"] = diversity.detach().reshape(1)
        golden[f"{mode}.selected"] = torch.stack(record["selected"]).int()
        for at, q in record["qbar"].items():
            golden[f"{mode}.query_state.{at}"] = q.detach()
        for k, p in memory.named_parameters():
            assert p.grad is not None and p.grad.abs().max() > 0, f"{name} {mode}: no gradient for {k}"
            golden[f"{mode}.grad.memory.{k}"] = p.grad.detach()
        golden[f"{mode}.grad.hidden"] = record["hidden"].grad.detach().reshape(B * T, D)
        distinct = len(set(torch.stack(record["selected"])[:, 0, :LENGTHS[0]].flatten().tolist()))
        print(f"{name} {mode}: loss_sum {lm.item():.4f} sim {similarity.item():.4f} div {diversity.item():.4f} "
              f"distinct selections in row 0: {distinct}")
    save_file({k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in golden.items()},
              os.path.join(out, "golden.safetensors"))
    with open(os.path.join(out, "case.json"), "w") as f:
        json.dump({"similarity_weight": SIMILARITY_WEIGHT, **spec}, f)


if __name__ == "__main__":
    make_variants(CASES, make, first_seed=5000)
