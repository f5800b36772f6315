#!/usr/bin/env python3
"""Checks that a model exported by `explicitlm pretrain --save-model DIR` (Qwen3Export) loads in
transformers and gives the same logits as our loader: transformers' Qwen3ForCausalLM (float32) vs
`explicitlm logits --model DIR` on the same random ids. Prints the largest absolute difference.
Usage: python3 scripts/check_export_transformers.py DIR [--tokens 48]   (after swift build -c release)
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import Qwen3ForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--tokens", type=int, default=48)
a = p.parse_args()
model = Qwen3ForCausalLM.from_pretrained(a.dir, dtype=torch.float32).eval()
ids = torch.randint(0, model.config.vocab_size, (1, a.tokens), generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    ref = model(input_ids=ids).logits[0]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "logits.safetensors")
    subprocess.run([os.path.join(ROOT, ".build", "release", "explicitlm"), "logits", "--model", a.dir,
                    "--ids", ",".join(map(str, ids[0].tolist())), "--out", out], check=True)
    ours = load_file(out)["logits"]
diff = (ours - ref).abs().max().item()
scale = ref.abs().max().item()
print(f"{a.dir}: tie_word_embeddings={model.config.tie_word_embeddings} logits {tuple(ref.shape)} "
      f"max |ours - transformers| = {diff:.3e} (max |logit| {scale:.3f})")
sys.exit(0 if diff <= 1e-4 * max(1.0, scale) else 1)
