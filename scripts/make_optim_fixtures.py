#!/usr/bin/env python3
"""Goldens for the optimizer tests, from torch.optim.AdamW, clip_grad_norm_ and transformers'
get_cosine_schedule_with_warmup. Writes Tests/TrainingTests/Fixtures/optim.safetensors:

  adamw.init.<p>, adamw.grad<k>.<p>, adamw.after<k>.<p>   AdamW (betas 0.9/0.95, eps 1e-8, wd 0.1 on
  adamw.exp_avg.<p>, adamw.exp_avg_sq.<p>, adamw.lr        tensors of >= 2 dims) over 3 steps
  clip.grad.<p>, clip.clipped.<p>, clip.norm, clip.max    clip_grad_norm_ (clipping and not)
  schedule.<case>                                          lr of steps 0..total (float64)
  bigram.*                                                 a 20-step pretrain replica on a bigram model
and Tests/TrainingTests/Fixtures/pretrain-qwen3/ (config.json, model.safetensors, golden.safetensors):
a tiny random Qwen3 and twenty optimizer steps of `pretrain` semantics on it in PyTorch (full
mode, batch 2, accumulation 2, pre-tokenised sequences ending in the eos/pad id): the losses,
gradient norms and learning rates of every step and the final weights.

Run once: python3 scripts/make_optim_fixtures.py
"""
import math
import os

import torch
from safetensors.torch import save_file
from transformers import get_cosine_schedule_with_warmup

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrainingTests", "Fixtures")
torch.manual_seed(0)
T = {}


def adamw_groups(named, wd):
    decay = [p for _, p in named if p.dim() >= 2]
    no_decay = [p for _, p in named if p.dim() < 2]
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def pretrain(seqs, forward, named, pad, B, A, EPOCHS, STEPS, LR, WD, CLIP, WARMUP):
    """`pretrain` semantics over token sequences: micro batches of B in file order, right-padded with
    `pad`, A per optimizer step (the loss of a step is its token mean), global-norm clipping, AdamW
    (betas 0.9/0.95, decay on matrices), cosine schedule with warmup over EPOCHS epochs; STEPS steps
    run. Returns the losses, gradient norms (before clipping) and learning rates of every step."""
    N = len(seqs)
    params = [p for _, p in named]
    opt = torch.optim.AdamW(adamw_groups(named, WD), lr=LR, betas=(0.9, 0.95), eps=1e-8)
    micro = [list(range(i, min(i + B, N))) for i in range(0, N, B)]
    steps = [micro[i:i + A] for i in range(0, len(micro), A)]
    total = len(steps) * EPOCHS
    sched = get_cosine_schedule_with_warmup(opt, math.ceil(total * WARMUP), total)
    losses, norms, lrs = [], [], []
    for step in range(STEPS):
        groups = steps[step % len(steps)]
        tokens = sum(len(seqs[i]) - 1 for grp in groups for i in grp)
        opt.zero_grad()
        loss_sum = 0.0
        for grp in groups:
            L = max(len(seqs[i]) for i in grp)
            ids = torch.full((len(grp), L), pad, dtype=torch.long)
            labels = torch.full((len(grp), L), -100)
            for r, i in enumerate(grp):
                ids[r, :len(seqs[i])] = torch.as_tensor(seqs[i])
                labels[r, :len(seqs[i]) - 1] = torch.as_tensor(seqs[i][1:])
            logits = forward(ids)
            ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="sum")
            (ce / tokens).backward()
            loss_sum += ce.item()
        lrs.append(opt.param_groups[0]["lr"])
        norms.append(torch.nn.utils.clip_grad_norm_(params, CLIP).item())
        opt.step()
        sched.step()
        losses.append(loss_sum / tokens)
    return losses, norms, lrs


# AdamW: three steps with changing gradients and learning rates.
shapes = {"w": (7, 5), "norm": (5,), "proj": (3, 4)}
params = {n: torch.nn.Parameter(torch.randn(s)) for n, s in shapes.items()}
for n, p in params.items():
    T[f"adamw.init.{n}"] = p.detach().clone()
opt = torch.optim.AdamW(adamw_groups(list(params.items()), 0.1), lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
lrs = [1e-2, 3e-2, 5e-3]
for k, lr in enumerate(lrs):
    for g in opt.param_groups:
        g["lr"] = lr
    for n, p in params.items():
        p.grad = torch.randn(p.shape) * (10.0 ** (k - 1))
        T[f"adamw.grad{k}.{n}"] = p.grad.clone()
    opt.step()
    for n, p in params.items():
        T[f"adamw.after{k}.{n}"] = p.detach().clone()
for n, p in params.items():
    T[f"adamw.exp_avg.{n}"] = opt.state[p]["exp_avg"].clone()
    T[f"adamw.exp_avg_sq.{n}"] = opt.state[p]["exp_avg_sq"].clone()
T["adamw.lr"] = torch.tensor(lrs, dtype=torch.float64)

# Global-norm clipping: case 0 clips (max 1.0), case 1 does not (max 100).
for case, max_norm in enumerate([1.0, 100.0]):
    grads = {n: torch.randn(s) for n, s in shapes.items()}
    ps = []
    for n, g in grads.items():
        p = torch.nn.Parameter(torch.zeros(g.shape))
        p.grad = g.clone()
        ps.append(p)
        T[f"clip{case}.grad.{n}"] = g
    norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    for (n, _), p in zip(grads.items(), ps):
        T[f"clip{case}.clipped.{n}"] = p.grad.clone()
    T[f"clip{case}.norm"] = norm.reshape(1).clone()
    T[f"clip{case}.max"] = torch.tensor([max_norm])

# Schedules: (base lr, warmup ratio, total steps); warmup = ceil(total * ratio) as the Trainer does.
for case, (base, ratio, total) in enumerate([(3e-4, 0.1, 30), (1e-3, 0.25, 7), (5e-2, 0.0, 12), (2e-4, 0.1, 1), (1e-3, 0.07, 100)]):
    p = torch.nn.Parameter(torch.zeros(1))
    o = torch.optim.SGD([p], lr=base)
    s = get_cosine_schedule_with_warmup(o, math.ceil(total * ratio), total)
    values = []
    for _ in range(total + 1):
        values.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    T[f"schedule{case}"] = torch.tensor(values, dtype=torch.float64)
    T[f"schedule{case}.spec"] = torch.tensor([base, ratio, total], dtype=torch.float64)

# A pretrain replica on a bigram model (logits = W[x] + b): 22 sequences of 3..12 tokens, batch 2,
# accumulation 2 (6 steps per epoch, the last with one micro batch), 4 epochs scheduled, 20 run.
V, N, B, A, EPOCHS, STEPS = 11, 22, 2, 2, 4, 20
LR, WD, CLIP, WARMUP = 0.05, 0.1, 0.3, 0.1
g = torch.Generator().manual_seed(3)
seqs = [torch.randint(0, V, (int(torch.randint(3, 13, (1,), generator=g)),), generator=g) for _ in range(N)]
W = torch.nn.Parameter(0.5 * torch.randn(V, V, generator=g))
b = torch.nn.Parameter(0.1 * torch.randn(V, generator=g))
T["bigram.init.W"] = W.detach().clone()
T["bigram.init.b"] = b.detach().clone()
flat, lengths = [], []
for s in seqs:
    flat += s.tolist()
    lengths.append(len(s))
T["bigram.tokens"] = torch.tensor(flat, dtype=torch.int32)
T["bigram.lengths"] = torch.tensor(lengths, dtype=torch.int32)
T["bigram.spec"] = torch.tensor([V, B, A, EPOCHS, STEPS, LR, WD, CLIP, WARMUP], dtype=torch.float64)
# Padding with 0 (the bigram has no pad id); pads carry no loss.
losses, norms, lrs = pretrain(seqs, lambda ids: W[ids] + b, [("W", W), ("b", b)], 0, B, A, EPOCHS, STEPS, LR, WD, CLIP, WARMUP)
T["bigram.losses"] = torch.tensor(losses, dtype=torch.float64)
T["bigram.grad_norms"] = torch.tensor(norms, dtype=torch.float64)
T["bigram.lrs"] = torch.tensor(lrs, dtype=torch.float64)
T["bigram.final.W"] = W.detach().clone()
T["bigram.final.b"] = b.detach().clone()

os.makedirs(OUT, exist_ok=True)
save_file({k: v.contiguous() for k, v in T.items()}, os.path.join(OUT, "optim.safetensors"))
print("wrote", os.path.join(OUT, "optim.safetensors"), len(T), "tensors")


# ---- Twenty pretrain steps of a tiny random Qwen3 (transformers), pretrain semantics exactly. ----
import shutil
from transformers import Qwen3Config, Qwen3ForCausalLM

QDIR = os.path.join(OUT, "pretrain-qwen3")
shutil.rmtree(QDIR, ignore_errors=True)
EOS = 63
cfg = Qwen3Config(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=8, tie_word_embeddings=False,
                  rope_theta=10_000.0, max_position_embeddings=128, eos_token_id=EOS, pad_token_id=EOS,
                  bos_token_id=None, attention_dropout=0.0)
torch.manual_seed(5)
model = Qwen3ForCausalLM(cfg)  # transformers' own initialisation (normal(0, 0.02), norms one)
with torch.no_grad():  # larger weights so the loss moves visibly in twenty steps
    for name, p in model.named_parameters():
        if not name.endswith("norm.weight"):
            p.mul_(5.0)
model.save_pretrained(QDIR)
model = Qwen3ForCausalLM.from_pretrained(QDIR, dtype=torch.float64, attn_implementation="eager")
model.train()
g = torch.Generator().manual_seed(11)
N, B, A, EPOCHS, STEPS = 12, 2, 2, 7, 20
LR, WD, CLIP, WARMUP = 1e-2, 0.1, 2.5, 0.1
seqs = [torch.randint(0, EOS, (int(torch.randint(3, 15, (1,), generator=g)),), generator=g).tolist() + [EOS]
        for _ in range(N)]
losses, norms, lrs = pretrain(seqs, lambda ids: model(input_ids=ids).logits, list(model.named_parameters()), EOS,
                              B, A, EPOCHS, STEPS, LR, WD, CLIP, WARMUP)
print("qwen3 losses", [round(x, 4) for x in losses])
print("qwen3 grad norms", [round(x, 3) for x in norms])
G = {"tokens": torch.tensor([t for s in seqs for t in s], dtype=torch.int32),
     "lengths": torch.tensor([len(s) for s in seqs], dtype=torch.int32),
     "spec": torch.tensor([B, A, EPOCHS, STEPS, LR, WD, CLIP, WARMUP], dtype=torch.float64),
     "losses": torch.tensor(losses, dtype=torch.float64),
     "grad_norms": torch.tensor(norms, dtype=torch.float64),
     "lrs": torch.tensor(lrs, dtype=torch.float64)}
for name, p in model.named_parameters():
    G["final." + name] = p.detach().float().clone()
save_file({k: v.contiguous() for k, v in G.items()}, os.path.join(QDIR, "golden.safetensors"))
print("wrote", QDIR)
