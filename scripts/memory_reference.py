"""A PyTorch reference of the memory step (method.md §4-§6, §11) on transformers' Qwen3: the memory
modules (MemoryNorm, both fusions, the alpha gate), the step on one row, and a forward with the steps
hooked after the memory layers. Written for clarity, not speed: every candidate's fusion is computed
and mixed with the straight-through weights w, as the method states it.

Shared by scripts/make_memory_fixtures.py (float64 parity goldens at tiny shapes) and
bench/train_memory_bench.py (a float32 training step at the 0.6B shape); the dtype is the caller's.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class MemoryShape:
    """The memory settings the modules and the step need (method §0)."""
    heads: int             # H_f
    head_dim: int          # fusion_head_dim
    knowledge_length: int  # L_k
    candidates: int        # C
    tau: float             # gumbel_temperature


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
    def __init__(self, D, rank, shape):
        super().__init__()
        self.heads, self.head_dim = shape.heads, shape.head_dim
        HD = self.heads * self.head_dim
        self.q_proj, self.k_proj = MemoryLinear(D, HD, rank), MemoryLinear(2 * D, HD, rank)
        self.v_proj, self.o_proj = MemoryLinear(D, HD, rank), MemoryLinear(HD, D, rank)
        self.position = nn.Parameter(torch.zeros(shape.knowledge_length, HD))
        self.null_key = nn.Parameter(torch.zeros(self.heads, self.head_dim))
        self.null_value = nn.Parameter(torch.zeros(self.heads, self.head_dim))

    def forward(self, m, X):
        """m [T, D], X [n, D] (the entry's tokens, pads left out) -> u [T, D]."""
        n, D = X.shape
        Tq = m.shape[0]
        H, dh = self.heads, self.head_dim
        previous = torch.cat([torch.zeros(1, D, dtype=X.dtype), X[:-1]])
        K = (self.k_proj(torch.cat([X, previous], -1)) + self.position[:n]).view(n, H, dh)
        V = self.v_proj(X).view(n, H, dh)
        Q = self.q_proj(m).view(Tq, H, dh)
        scale = 1 / math.sqrt(dh)
        s = torch.einsum("thd,phd->htp", Q, K) * scale
        s_null = torch.einsum("thd,hd->ht", Q, self.null_key) * scale
        a = torch.softmax(torch.cat([s, s_null[..., None]], -1), -1)
        o = torch.einsum("htp,phd->thd", a[..., :n], V) + a[..., n].T[..., None] * self.null_value[None]
        return self.o_proj(o.reshape(Tq, H * dh))


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
    def __init__(self, D, eps, fusion, rank, shape):
        super().__init__()
        self.norm = MemoryNorm(D, eps)
        self.fusion = CrossAttentionFusion(D, rank, shape) if fusion == "cross_attention" else SwiGLUFusion(D, rank)
        self.alpha = AlphaGate(D)


def make_memory(D, eps, memory_layers, fusion, rank, shape):
    """The memory modules of every memory layer, named as method.md §11 names them (less `memory.`)."""
    memory = nn.Module()
    memory.layers = nn.ModuleDict({str(at): MemoryLayer(D, eps, fusion, rank, shape) for at in memory_layers})
    return memory


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
            p.copy_(p.float().double())  # float32 values, whatever the dtype


def cosine(m, M):
    return (m @ M) / (m.norm(dim=-1) * M.norm())


def memory_step(layer, h, embed, cand, noise, train, shape):
    """One row: h [T, D] -> (h + alpha u, sigma [T], selected [T], probabilities [T, C], m [T, D])."""
    m = layer.norm(h)
    count, C = cand["count"], shape.candidates
    lam = torch.full((C,), -math.inf, dtype=h.dtype)
    lam[:count] = cand["scores"][:count] / shape.tau
    if train:
        z = lam[None] + noise  # [T, C]
        y = torch.softmax(z, -1)
        selected = z.argmax(-1)
        w = F.one_hot(selected, C).to(h.dtype) - y.detach() + y
        probabilities = y
    else:
        selected = lam.argmax().expand(h.shape[0])
        w = F.one_hot(selected, C).to(h.dtype)
        probabilities = torch.softmax(lam, -1).expand(h.shape[0], C)
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


def run(model, memory, memory_layers, ids, targets, prompt_lengths, cands, noise, train, shape):
    """Forward of ids [B, T] with the memory steps hooked after `memory_layers`; cands[b] is row b's
    candidates (tokens [C, L_k], lengths, count, scores), noise [M, B, T, C] the Gumbel noise of
    training. Returns logits, lm loss sum (targets -100: no loss), L_sim, L_div, and a record of the
    selections, q-bars and the hidden state after the lowest memory layer (a leaf that receives a
    gradient)."""
    embed = model.model.embed_tokens.weight.detach()
    answer = targets != -100
    record = {"sigma": [], "div": [], "selected": [], "qbar": {}, "hidden": None}
    handles = []
    for k, at in enumerate(memory_layers):
        layer = memory.layers[str(at)]

        def hook(module, args, output, k=k, at=at, layer=layer):
            h = output[0] if isinstance(output, tuple) else output
            if record["hidden"] is None:
                h = h.detach().requires_grad_(True)
                record["hidden"] = h
            rows, sel, qbar = [], [], []
            for b in range(ids.shape[0]):
                y, sigma, selected, p, m = memory_step(layer, h[b], embed, cands[b], noise[k, b], train, shape)
                rows.append(y)
                sel.append(selected)
                qbar.append(m[:prompt_lengths[b]].mean(0))
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
