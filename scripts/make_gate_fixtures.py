#!/usr/bin/env python3
"""The MemoryGate and the router loss (method.md §4, §6, tensor names §11) in PyTorch, for the parity
tests of Sources/Memory/Gate.

Writes Tests/MemoryTests/Fixtures/gate.safetensors: the k-means-shaped keys [2, n, K/2], and per
variant <v> (full rank, rank 4, and full rank with logit_scale past the clamp at 100):
  <v>.param.<name>   every gate tensor, named as under `memory.gate.` in §11
  <v>.query          q̄ [B, D]
  <v>.S1, <v>.S2     s·cos(z¹, P¹), s·cos(z², P²) [B, n]
  <v>.loss           the router loss, mean over the batch [1]
  <v>.grad.<name>    d loss / d tensor, and <v>.grad.query
and the labels targets.cells int32 [B, k] (r·n + c) and targets.scores [B, k], T_r = 0.5.
The reference runs in float64 and is stored as float32. Run once: python3 scripts/make_gate_fixtures.py
"""
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from fixture_common import fixture_path

D, K, N_SIDE, B, TARGETS, RANK, T_R = 16, 8, 6, 3, 3, 4, 0.5


class Linear(torch.nn.Module):
    """y = x·Wᵀ + bias with W = weight, or W = b·a when rank > 0."""
    def __init__(self, i, o, rank, g):
        super().__init__()
        if rank == 0:
            self.weight = torch.nn.Parameter(torch.randn(o, i, generator=g, dtype=torch.float64) / math.sqrt(i))
        else:
            self.a = torch.nn.Parameter(torch.randn(rank, i, generator=g, dtype=torch.float64) / math.sqrt(i))
            self.b = torch.nn.Parameter(torch.randn(o, rank, generator=g, dtype=torch.float64) / math.sqrt(rank))
        self.bias = torch.nn.Parameter(0.3 * torch.randn(o, generator=g, dtype=torch.float64))

    def forward(self, x):
        w = self.weight if hasattr(self, "weight") else self.b @ self.a
        return x @ w.T + self.bias


class Norm(torch.nn.LayerNorm):
    def __init__(self, dim, g):
        super().__init__(dim, eps=1e-5, dtype=torch.float64)
        with torch.no_grad():
            self.weight.copy_(1 + 0.2 * torch.randn(dim, generator=g, dtype=torch.float64))
            self.bias.copy_(0.2 * torch.randn(dim, generator=g, dtype=torch.float64))


class Block(torch.nn.Module):
    def __init__(self, rank, g):
        super().__init__()
        self.norm, self.fc1, self.fc2 = Norm(D, g), Linear(D, 2 * D, rank, g), Linear(2 * D, D, rank, g)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class MemoryGate(torch.nn.Module):
    def __init__(self, rank, logit_scale, g):
        super().__init__()
        self.in_proj = Linear(D, D, rank, g)
        self.blocks = torch.nn.ModuleList([Block(rank, g), Block(rank, g)])
        self.norm = Norm(D, g)
        self.out_proj = Linear(D, K, rank, g)
        self.logit_scale = torch.nn.Parameter(torch.tensor(logit_scale, dtype=torch.float64))

    def forward(self, q, keys):
        x = self.in_proj(q)
        for block in self.blocks:
            x = block(x)
        z = self.out_proj(self.norm(x))
        s = torch.clamp(self.logit_scale.exp(), max=100.0)
        scores = []
        for h in range(2):
            zh, p = z[:, h * K // 2:(h + 1) * K // 2], keys[h]
            cos = (zh @ p.T) / (zh.norm(dim=1, keepdim=True) * p.norm(dim=1)[None, :])
            scores.append(s * cos)
        return scores


def router_loss(scores, cells, teacher):
    weights = torch.softmax(teacher / T_R, dim=1)
    rows, cols = cells // N_SIDE, cells % N_SIDE
    log_p = torch.log_softmax(scores[0], 1).gather(1, rows) + torch.log_softmax(scores[1], 1).gather(1, cols)
    return -(weights * log_p).sum(1).mean()


def main():
    g = torch.Generator().manual_seed(1234)
    keys = torch.randn(2, N_SIDE, K // 2, generator=g, dtype=torch.float64)
    cells = torch.randint(0, N_SIDE * N_SIDE, (B, TARGETS), generator=g)
    teacher = torch.rand(B, TARGETS, generator=g, dtype=torch.float64)
    out = {"keys": keys, "targets.cells": cells.to(torch.int32), "targets.scores": teacher}
    for variant, rank, logit_scale in [("full", 0, math.log(1 / 0.07)), ("rank4", RANK, math.log(1 / 0.07)), ("clamped", 0, 5.0)]:
        gate = MemoryGate(rank, logit_scale, g)
        query = torch.randn(B, D, generator=g, dtype=torch.float64, requires_grad=True)
        scores = gate(query, keys)
        loss = router_loss(scores, cells, teacher)
        loss.backward()
        out[f"{variant}.query"] = query.detach()
        out[f"{variant}.S1"], out[f"{variant}.S2"] = scores[0].detach(), scores[1].detach()
        out[f"{variant}.loss"] = loss.detach().reshape(1)
        out[f"{variant}.grad.query"] = query.grad
        for name, p in gate.named_parameters():
            out[f"{variant}.param.{name}"] = p.detach()
            out[f"{variant}.grad.{name}"] = p.grad
    out = {k: (v.to(torch.float32) if v.dtype == torch.float64 else v).contiguous() for k, v in out.items()}
    path = fixture_path("MemoryTests", "Fixtures", "gate.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(out, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
