#!/usr/bin/env python3
"""Writes the torch.save files that Tests/TorchFormatTests reads, with torch itself, and the values
torch reads back from them as the golden.

    python3 scripts/make_torch_fixtures.py     # (re)write Tests/TorchFormatTests/Fixtures/

Accepted files (their tensors, as torch.load returns them, are in expected.json):
  knowledge_cache.pt  one int64 [8, 5] tensor, as the reference implementation's bank cache
  keys.pt             one float32 [2, 4, 3] tensor, as the reference implementation's grid keys
  dict.pt             a dict of every supported dtype, an empty tensor, a Parameter, a requires_grad tensor
  views.pt            views of shared storages: a transpose, a permutation, a step slice, a slice with an
                      offset, a row, and the base they share
  halves.pt           bfloat16 and float16 tensors with subnormals, infinities, NaN and -0
  scalar.pt           a 0-d float32 tensor
  state_dict.pt       nn.Linear(3, 2).state_dict(): an OrderedDict whose _metadata attribute pickles as BUILD
  protocol4.pt        a dict saved with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE)
  zip64.pt            keys.pt's entries rewritten by Python's zipfile with ZIP64 headers, unaligned
Refused files (the test names the error each must give):
  evil.pt             a pickle whose __reduce__ calls os.system, zipped as torch does (never loaded here)
  list.pt             torch.save([1, 2, 3])
  module.pt           torch.save(nn.Linear(2, 1)): a whole module object
  nested.pt           {"model": state_dict, "step": 3}
  legacy.pt           _use_new_zipfile_serialization=False
  deflate.pt          keys.pt's entries compressed
  expanded.pt         an expanded view, more elements than its storage
  complex.pt          a complex64 tensor
"""
import json
import os
import pickle
import struct
import zipfile

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TorchFormatTests", "Fixtures")
DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
          torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8",
          torch.uint8: "uint8", torch.bool: "bool"}


def path(name):
    return os.path.join(ROOT, name)


def describe(x):
    """dtype, shape and values; floats as the bit patterns of their float32 values (exact, NaN-safe)."""
    d = {"dtype": DTYPES[x.dtype], "shape": list(x.shape)}
    if x.is_floating_point():
        f = x.detach().to(torch.float32).contiguous().flatten()
        d["bits"] = [struct.unpack("<I", struct.pack("<f", v))[0] for v in f.tolist()]
    else:
        d["values"] = [int(v) for v in x.detach().to(torch.int64).flatten().tolist()]
    return d


def rezip(src, dst, compression=zipfile.ZIP_STORED, force_zip64=False):
    """The same entries, written by Python's zipfile instead of torch's writer."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=compression) as zout:
        for info in zin.infolist():
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = compression
            with zout.open(entry, "w", force_zip64=force_zip64) as f:
                f.write(zin.read(info.filename))


def accepted():
    g = torch.Generator().manual_seed(0)
    out = {}

    def save(name, obj, **kw):
        torch.save(obj, path(name), **kw)
        loaded = torch.load(path(name), weights_only=False)  # our own file, just written
        if isinstance(loaded, torch.Tensor):
            out[name] = {"one": True, "tensors": {"": describe(loaded)}}
        else:
            out[name] = {"one": False, "keys": list(loaded.keys()), "tensors": {k: describe(v) for k, v in loaded.items()}}

    cache = torch.randint(-(2**40), 2**40, (8, 5), generator=g, dtype=torch.int64)
    cache[0, 0], cache[0, 1], cache[1, 4] = -(2**63), 2**63 - 1, -1
    save("knowledge_cache.pt", cache)
    keys = torch.randn(2, 4, 3, generator=g)
    keys[1, 2, 0], keys[1, 3, 2] = -0.0, 1e-40
    save("keys.pt", keys)

    grad = torch.randn(3, generator=g).requires_grad_(True)
    save("dict.pt", {
        "f32": torch.randn(2, 3, generator=g),
        "f64": torch.tensor([0.1, -1e300, 1e-300, 2.0 / 3.0], dtype=torch.float64),
        "i32": torch.tensor([[-(2**31), 2**31 - 1], [0, -7]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
        "grad": grad,
    })

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    seq = torch.arange(10, dtype=torch.int64) * 7 - 20
    save("views.pt", {
        "base": base,
        "transposed": base.t(),
        "permuted": torch.randn(2, 3, 4, generator=g).permute(2, 0, 1),
        "every_other": seq[::2],
        "slice": seq[3:7],
        "row": base[2],
        "column_block": base[1:3, 2:5],
    })

    awkward = torch.tensor([1.0, -2.5, 0.1, 3e38, 1e-40, -0.0, float("inf"), float("-inf"), float("nan"),
                            65504.0, 6e-8, 1.0 / 3.0, 1e-5], dtype=torch.float32)
    save("halves.pt", {"bf16": awkward.to(torch.bfloat16), "f16": awkward.to(torch.float16),
                       "bf16_t": torch.randn(3, 2, generator=g).to(torch.bfloat16).t()})
    save("scalar.pt", torch.tensor(3.25))
    torch.manual_seed(0)
    save("state_dict.pt", torch.nn.Linear(3, 2).state_dict())
    save("protocol4.pt", {"a": torch.tensor([1.5, -2.0]), "b": torch.tensor([[1, 2], [3, 4]])}, pickle_protocol=4)

    rezip(path("keys.pt"), path("zip64.pt"), force_zip64=True)
    out["zip64.pt"] = out["keys.pt"]
    with open(path("expected.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


class Evil:
    """Pickles as a call of os.system: loading it with pickle would run a shell command."""
    def __reduce__(self):
        return (os.system, ("echo this file ran a command",))


def refused():
    with zipfile.ZipFile(path("evil.pt"), "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps({"weight": Evil()}, protocol=2))
        z.writestr("evil/byteorder", "little")
        z.writestr("evil/version", "3\n")
    torch.save([1, 2, 3], path("list.pt"))
    torch.manual_seed(0)
    torch.save(torch.nn.Linear(2, 1), path("module.pt"))
    torch.save({"model": torch.nn.Linear(2, 1).state_dict(), "step": 3}, path("nested.pt"))
    torch.save(torch.arange(4), path("legacy.pt"), _use_new_zipfile_serialization=False)
    rezip(path("keys.pt"), path("deflate.pt"), compression=zipfile.ZIP_DEFLATED)
    torch.save(torch.tensor([1.0, 2.0, 3.0]).expand(4, 3), path("expanded.pt"))
    torch.save(torch.tensor([1 + 2j], dtype=torch.complex64), path("complex.pt"))


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    accepted()
    refused()
    print("wrote", os.path.abspath(ROOT))
