#!/usr/bin/env python3
"""Writes the reference files that Tests/SafeTensorsTests compares against, with the Python
`safetensors` package (the reference implementation) and torch's dtype conversions.

    python3 scripts/make_safetensors_fixtures.py            # (re)write the fixtures
    python3 scripts/make_safetensors_fixtures.py --check F  # load a file we wrote, print its tensors

Fixtures (Tests/SafeTensorsTests/Fixtures/):
  reference.safetensors  one tensor of every dtype, a scalar and an empty tensor, metadata {"format": "pt"}
  reference.json         each tensor's dtype, shape and values (floats widened to float32, exact)
  rounding.safetensors   "input" F32 awkward floats; "bf16"/"f16": torch's `.to(dtype)` of them
  sharded/               model.safetensors.index.json and two shards; values of tensor i are
                         arange(n) * 0.5 - i, stored as the dtype the name says
"""
import json
import os
import struct
import sys

import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SafeTensorsTests", "Fixtures")


def reference():
    t = {
        "f32": torch.tensor([[-1.5, 0.0, 2.25], [1e-30, 3.4e38, -7.125]], dtype=torch.float32),
        "bf16": torch.tensor([1.0, -2.5, 0.1, 3e38, 1e-40, -0.0], dtype=torch.float32).to(torch.bfloat16),
        "f16": torch.tensor([[0.1, -65504.0], [6e-8, 1.0 / 3.0]], dtype=torch.float32).to(torch.float16),
        "f64": torch.tensor([0.5, -1e10, 1.0 / 1024.0], dtype=torch.float64),
        "i64": torch.tensor([-(2**40), 0, 2**40 + 7], dtype=torch.int64),
        "i64small": torch.tensor([[-5, 2**31 - 1], [-(2**31), 9]], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31), 1], [2**31 - 1, -7]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 3], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0, -1], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(42.0, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    save_file(t, os.path.join(ROOT, "reference.safetensors"), metadata={"format": "pt"})
    desc = {}
    for name, x in t.items():
        dtype = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.float64: "F64",
                 torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                 torch.uint8: "U8", torch.bool: "BOOL"}[x.dtype]
        if x.is_floating_point():
            # float32 values, written with repr: exact, so the test compares bit for bit.
            values = [float(v) for v in x.to(torch.float32).flatten().tolist()]
        else:
            values = [int(v) for v in x.to(torch.int64).flatten().tolist()]
        desc[name] = {"dtype": dtype, "shape": list(x.shape), "values": values}
    with open(os.path.join(ROOT, "reference.json"), "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)


def rounding():
    f = lambda bits: struct.unpack("<f", struct.pack("<I", bits))[0]
    awkward = [
        1.0, -1.0, 0.0, -0.0, float("inf"), float("-inf"), float("nan"), -float("nan"),
        f(0x7F800001), f(0xFFC12345),                      # NaNs with payloads
        f(0x3F808000), f(0x3F818000), f(0xBF808000),       # bf16 halfway: ties to even (down, up, negative)
        f(0x3F808001), f(0x3F807FFF),                      # just above / below halfway
        f(0x7F7FFFFF), f(0x7F7F7FFF), f(0x7F7F8000),       # max float → inf in bf16; near the top
        f(0x00000001), f(0x00008000), f(0x00018000), f(0x007FFFFF), f(0x80000001),  # float32 subnormals
        65504.0, 65519.0, 65520.0, 65536.0, 1e9,           # f16 max and overflow boundary
        2.0**-14, 2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-26, 1.5 * 2.0**-24, 2.5 * 2.0**-24,  # f16 subnormal ties
        1 + 2.0**-11, 1 + 3 * 2.0**-11, 0.1, 1.0 / 3.0,
    ]
    g = torch.Generator().manual_seed(0)
    scaled = torch.randn(512, generator=g) * torch.pow(10.0, torch.randint(-12, 12, (512,), generator=g).float())
    bits = torch.randint(0, 2**32, (512,), generator=g, dtype=torch.int64)
    random_bits = torch.tensor([f(int(b)) for b in bits.tolist()], dtype=torch.float32)
    x = torch.cat([torch.tensor(awkward, dtype=torch.float32), scaled.float(), random_bits])
    save_file({"input": x, "bf16": x.to(torch.bfloat16), "f16": x.to(torch.float16)},
              os.path.join(ROOT, "rounding.safetensors"))


def sharded():
    d = os.path.join(ROOT, "sharded")
    os.makedirs(d, exist_ok=True)
    shapes = [("model.embed_tokens.weight", [4, 3], torch.bfloat16),
              ("model.layers.0.mlp.up_proj.weight", [3, 2], torch.float32),
              ("model.layers.0.input_layernorm.weight", [3], torch.float16),
              ("model.norm.weight", [3], torch.float32)]
    tensors = {name: (torch.arange(torch.Size(shape).numel(), dtype=torch.float32) * 0.5 - i).reshape(shape).to(dt)
               for i, (name, shape, dt) in enumerate(shapes)}
    names = [s[0] for s in shapes]
    shards = {"model-00001-of-00002.safetensors": names[:2], "model-00002-of-00002.safetensors": names[2:]}
    weight_map = {}
    for file, ns in shards.items():
        save_file({n: tensors[n] for n in ns}, os.path.join(d, file), metadata={"format": "pt"})
        weight_map.update({n: file for n in ns})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


def check(path):
    for name, t in load_file(path).items():
        print(name, t.dtype, list(t.shape), t.flatten()[:8].tolist())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        os.makedirs(ROOT, exist_ok=True)
        reference()
        rounding()
        sharded()
        print("wrote", os.path.abspath(ROOT))
