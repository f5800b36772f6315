#!/usr/bin/env python3
"""A tiny knowledge_cache.pt and keys.pt in the public reference implementation's format, for the
import test of `explicitlm build-memory --cache FILE [--keys FILE]` (Tests/CLITests).

knowledge_cache.pt: torch.save of an int64 [16, 8] tensor of byte-level token ids (the tests' byte
tokenizer: id = byte), rows right-padded with 256 (<|endoftext|>), the last 4 rows all padding.
keys.pt: torch.save of a float32 [2, 4, 24] tensor (K = 48, the tiny backbone's width).
gap.pt: an int64 [4, 4] cache whose row 1 is all padding between filled rows (refused).
Run once: python3 scripts/make_reference_bank_fixtures.py
"""
import os

import torch

from fixture_common import fixture_path

OUT = fixture_path("CLITests", "Fixtures")
FACTS = ["Lima, Peru", "Vienna, AT", "Tokyo", "Nairobi", "Rome", "Oslo", "Quito", "Cairo", "Lisbon", "Seoul", "Dakar", "Accra"]


def main():
    os.makedirs(OUT, exist_ok=True)
    cache = torch.full((16, 8), 256, dtype=torch.int64)
    for i, text in enumerate(FACTS):
        ids = list(text.encode("utf-8"))[:8]
        cache[i, :len(ids)] = torch.tensor(ids)
    torch.save(cache, os.path.join(OUT, "knowledge_cache.pt"))
    gap = torch.full((4, 4), 256, dtype=torch.int64)
    gap[0, 0], gap[2, 0] = 65, 66
    torch.save(gap, os.path.join(OUT, "gap.pt"))
    g = torch.Generator().manual_seed(5)
    torch.save(torch.randn(2, 4, 24, generator=g), os.path.join(OUT, "keys.pt"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
