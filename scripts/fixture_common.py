"""Pieces the fixture scripts share: where the shared test data lies, atomic compact JSON writing,
the random weights of the tiny Qwen3 checkpoints, and which variants a run makes."""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# ../shared next to the repository root (see the tests' XCTSkip when it is absent).
QWEN3_TOKENIZER_DIR = os.path.join(HERE, "../../shared/testdata/qwen3-tokenizer")


def fixture_path(*parts):
    """A path under Tests/ of this repository."""
    return os.path.join(HERE, "../Tests", *parts)


def write_json(obj, path):
    """Compact UTF-8 JSON (no spaces, non-ASCII as is), written atomically: a temporary file, then rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, path)


def make_variants(variants, make, first_seed):
    """Calls make(name, spec, seed) for the variants named on the command line (all when none is).
    A variant's seed is first_seed plus its place in `variants`, so adding one changes no other."""
    only = set(sys.argv[1:])
    unknown = only - variants.keys()
    if unknown:
        sys.exit(f"unknown variants {sorted(unknown)}; known: {list(variants)}")
    for i, (name, spec) in enumerate(variants.items()):
        if not only or name in only:
            make(name, spec, seed=first_seed + i)


def randomize_qwen3(model, seed):
    """Weights large enough that logits spread over several units: norms 1 + 0.2 N, embeddings N,
    the untied head 0.5 N, biases 0.2 N, other matrices 1.5 N / sqrt(fan-in)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.startswith("lm_head"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
