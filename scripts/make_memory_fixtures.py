#!/usr/bin/env python3
"""A PyTorch reference of the memory step (method.md §4-§6, §11), for the Swift parity tests.

The frozen backbone is transformers' Qwen3ForCausalLM (a tiny random config); a memory step
(MemoryNorm, fine selection, GatedMemoryFusion, the alpha gate) is hooked after each memory layer.
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
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM

from fixture_common import fixture_path, make_variants, randomize_qwen3

ROOT = fixture_path("MemoryTests", "Fixtures")
BACKBONE = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=3,
                num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=True,
                rope_theta=10_000.0)
MEMORY_LAYERS = [0, 2]
HEADS, HEAD_DIM, KNOWLEDGE_LENGTH, CANDIDATES, TAU = 2, 8, 6, 4, 0.5
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


class MemoryLinear(nn.Module):
    """No bias; rank 0: weight [out, in]; rank r: a [r, in], b [out, r], W = b a."""
    def __init__(self, i, o, rank):
        super().__init__()
        self.rank = rank
        if rank:
            self.a = nn.Parameter(torch.zeros(rank, i))
            self.b = nn.Parameter(torch.zeros(o, rank))
        else:
            self.weight = nn.Parameter(torch.zeros(o, i))

    def forward(self, x):
        return (x @ self.a.T) @ self.b.T if self.rank else x @ self.weight.T


class MemoryNorm(nn.Module):
    def __init__(self, D, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class CrossAttentionFusion(nn.Module):
    def __init__(self, D, rank):
        super().__init__()
        HD = HEADS * HEAD_DIM
        self.q_proj, self.k_proj = MemoryLinear(D, HD, rank), MemoryLinear(2 * D, HD, rank)
        self.v_proj, self.o_proj = MemoryLinear(D, HD, rank), MemoryLinear(HD, D, rank)
        self.position = nn.Parameter(torch.zeros(KNOWLEDGE_LENGTH, HD))
        self.null_key = nn.Parameter(torch.zeros(HEADS, HEAD_DIM))
        self.null_value = nn.Parameter(torch.zeros(HEADS, HEAD_DIM))

    def forward(self, m, X):
        """m [T, D], X [n, D] (the entry's tokens, pads left out) -> u [T, D]."""
        n, D = X.shape
        Tq = m.shape[0]
        previous = torch.cat([torch.zeros(1, D, dtype=X.dtype), X[:-1]])
        K = (self.k_proj(torch.cat([X, previous], -1)) + self.position[:n]).view(n, HEADS, HEAD_DIM)
        V = self.v_proj(X).view(n, HEADS, HEAD_DIM)
        Q = self.q_proj(m).view(Tq, HEADS, HEAD_DIM)
        scale = 1 / math.sqrt(HEAD_DIM)
        s = torch.einsum("thd,phd->htp", Q, K) * scale
        s_null = torch.einsum("thd,hd->ht", Q, self.null_key) * scale
        a = torch.softmax(torch.cat([s, s_null[..., None]], -1), -1)
        o = torch.einsum("htp,phd->thd", a[..., :n], V) + a[..., n].T[..., None] * self.null_value[None]
        return self.o_proj(o.reshape(Tq, HEADS * HEAD_DIM))


class SwiGLUFusion(nn.Module):
    def __init__(self, D, rank):
        super().__init__()
        Fi = D
        self.gate_proj, self.up_proj = MemoryLinear(2 * D, Fi, rank), MemoryLinear(2 * D, Fi, rank)
        self.down_proj = MemoryLinear(Fi, D, rank)

    def forward(self, m, X):
        x = torch.cat([m, X.mean(0).expand_as(m)], -1)
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class AlphaGate(nn.Module):
    def __init__(self, D):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(1, D // 4), nn.Linear(D // 4, 1)
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, sigma):
        return torch.clamp(torch.sigmoid(self.fc2(F.silu(self.fc1(sigma[:, None])))) + self.beta, 0, 1)


class MemoryLayer(nn.Module):
    def __init__(self, D, eps, fusion, rank):
        super().__init__()
        self.norm = MemoryNorm(D, eps)
        self.fusion = CrossAttentionFusion(D, rank) if fusion == "cross_attention" else SwiGLUFusion(D, rank)
        self.alpha = AlphaGate(D)


def cosine(m, M):
    return (m @ M) / (m.norm(dim=-1) * M.norm())


def memory_step(layer, h, embed, cand, noise, train):
    """One row: h [T, D] -> (h + alpha u, sigma [T], selected [T], probabilities [T, C], m [T, D])."""
    m = layer.norm(h)
    count = cand["count"]
    lam = torch.full((CANDIDATES,), -math.inf, dtype=h.dtype)
    lam[:count] = cand["scores"][:count] / TAU
    if train:
        z = lam[None] + noise  # [T, C]
        y = torch.softmax(z, -1)
        selected = z.argmax(-1)
        w = F.one_hot(selected, CANDIDATES).to(h.dtype) - y.detach() + y
        probabilities = y
    else:
        selected = lam.argmax().expand(h.shape[0])
        w = F.one_hot(selected, CANDIDATES).to(h.dtype)
        probabilities = torch.softmax(lam, -1).expand(h.shape[0], CANDIDATES)
    u = torch.zeros_like(h)
    sigma = torch.zeros(h.shape[0], dtype=h.dtype)
    for j in range(count):
        X = embed[cand["tokens"][j, :cand["lengths"][j]]]
        u = u + w[:, j:j + 1] * layer.fusion(m, X)
        sigma = sigma + w[:, j] * cosine(m, X.mean(0))
    return h + layer.alpha(sigma) * u, sigma, selected, probabilities, m


def diversity_of(probabilities, embed, cand):
    count = cand["count"]
    if count < 2:
        return None
    means = torch.stack([embed[cand["tokens"][j, :cand["lengths"][j]]].mean(0) for j in range(count)])
    unit = means / means.norm(dim=-1, keepdim=True)
    c = unit @ unit.T
    p = probabilities[:, :count]
    pair = p[:, :, None] * p[:, None, :] * (1 - torch.eye(count, dtype=p.dtype))
    return (pair * c).sum((1, 2)) / pair.sum((1, 2))  # [T]


def run(model, memory, ids, targets, cands, noise, train):
    """Forward with the memory hooks; returns logits, lm loss sum, L_sim, L_div, selections, q-bars,
    and the hidden state after the lowest memory layer (a leaf that receives a gradient)."""
    embed = model.model.embed_tokens.weight.detach()
    answer = targets != -100
    record = {"sigma": [], "div": [], "selected": [], "qbar": {}, "hidden": None}
    handles = []
    for k, at in enumerate(MEMORY_LAYERS):
        layer = memory.layers[str(at)]

        def hook(module, args, output, k=k, at=at, layer=layer):
            h = output[0] if isinstance(output, tuple) else output
            if record["hidden"] is None:
                h = h.detach().requires_grad_(True)
                record["hidden"] = h
            rows, sel, qbar = [], [], []
            for b in range(B):
                y, sigma, selected, p, m = memory_step(layer, h[b], embed, cands[b], noise[k, b], train)
                rows.append(y)
                sel.append(selected)
                qbar.append(m[:PROMPT_LENGTHS[b]].mean(0))
                record["sigma"].append(sigma[answer[b]])
                d = diversity_of(p, embed, cands[b])
                if d is not None:
                    record["div"].append(d[answer[b]])
            record["selected"].append(torch.stack(sel))
            record["qbar"][at] = torch.stack(qbar)
            y = torch.stack(rows)
            return (y,) + tuple(output[1:]) if isinstance(output, tuple) else y

        handles.append(model.model.layers[at].register_forward_hook(hook))
    logits = model(input_ids=ids).logits
    for h in handles:
        h.remove()
    V = logits.shape[-1]
    lm = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100, reduction="sum")
    similarity = -torch.cat(record["sigma"]).mean()
    diversity = torch.cat(record["div"]).mean()
    return logits, lm, similarity, diversity, record


def randomize_memory(memory, seed):
    """Non-zero everywhere (o_proj and down too) so that every gradient is non-trivial."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in memory.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("beta"):
                p.fill_(0.1)
            elif name.endswith("position") or name.endswith("null_key") or name.endswith("null_value"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(1.2 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
            p.copy_(p.float().double())


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
    memory = nn.Module()
    memory.layers = nn.ModuleDict({str(at): MemoryLayer(D, cfg.rms_norm_eps, spec["fusion"], spec["rank"])
                                   for at in MEMORY_LAYERS})
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
        logits, lm, similarity, diversity, record = run(model, memory, ids, targets, cands, noise, mode == "train")
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
