"""The physical limits each end-to-end figure is a fraction of: the FMA peak and the memory bandwidth,
measured in the same run as the figures (this machine's neighbours move both by 2x from hour to
hour) and quoted beside the nominal figures of the machine (532 GFLOP/s, 41-50 GB/s on 2 cores).

Work is counted the usual way: a matrix product of m x k by k x n is 2mkn floating-point operations;
decoding a token reads every weight once."""
import json
import os
import subprocess

NOMINAL_GFLOPS, NOMINAL_READ_GB_S = 532.0, 45.0
RUN_SH = os.path.join(os.path.dirname(__file__), "kernels", "run.sh")


def measure():
    """{"fma_gflops", "read_gb_s", ...} on 2 threads now (bench/kernels/run.sh bench limits, ~15 s)."""
    out = subprocess.run(["bash", RUN_SH, "bench", "limits"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_around(body):
    """Measures the limits before and after `body()`; returns (body's result, the mean limits)."""
    before = measure()
    result = body()
    after = measure()
    limits = {key: (before[key] + after[key]) / 2 for key in ("fma_gflops", "bf16_gflops", "read_gb_s")}
    print(f"limits measured before/after: FMA {before['fma_gflops']:.0f}/{after['fma_gflops']:.0f} GFLOP/s, "
          f"bf16 dot {before['bf16_gflops']:.0f}/{after['bf16_gflops']:.0f} GFLOP/s, "
          f"read {before['read_gb_s']:.1f}/{after['read_gb_s']:.1f} GB/s (nominal {NOMINAL_GFLOPS:.0f}, "
          f"{NOMINAL_READ_GB_S:.0f})")
    return result, limits


def layer_weights(shape):
    """Weights of the decoder layers' matrix products (norms are negligible)."""
    d, f, hd = shape["hidden_size"], shape["intermediate_size"], shape["head_dim"]
    q, kv = shape["num_attention_heads"] * hd, shape["num_key_value_heads"] * hd
    return shape["num_hidden_layers"] * (d * (q + 2 * kv) + q * d + 3 * d * f)


def attention_flops(shape, tokens):
    """QK^T and PV over the causal half, every layer."""
    q = shape["num_attention_heads"] * shape["head_dim"]
    return shape["num_hidden_layers"] * 2 * 2 * q * tokens * (tokens + 1) / 2


def forward_flops(shape, tokens, logit_positions):
    """One forward over `tokens` causal positions: the layer products, attention and the lm head at
    `logit_positions` positions."""
    lm_head = 2 * shape["hidden_size"] * shape["vocab_size"] * logit_positions
    return 2 * layer_weights(shape) * tokens + attention_flops(shape, tokens) + lm_head


def frozen_step_flops(shape, tokens, first_layer):
    """A frozen-backbone training step over `tokens` positions whose gradient reaches down to the
    output of layer `first_layer`: the forward with logits everywhere, then only input gradients
    (no weight gradients) through the lm head and the layers above it; attention's backward is
    counted as twice its forward. Modules trained on the way are not counted (a lower bound)."""
    above = (shape["num_hidden_layers"] - 1 - first_layer) / shape["num_hidden_layers"]
    lm_head = 2 * shape["hidden_size"] * shape["vocab_size"] * tokens
    layers = above * (2 * layer_weights(shape) * tokens + 2 * attention_flops(shape, tokens))
    return forward_flops(shape, tokens, tokens) + lm_head + layers


def decode_bytes(shape, bytes_per_weight):
    """Weights read per decoded token: every layer matrix and the lm head (the cache is small)."""
    return bytes_per_weight * (layer_weights(shape) + shape["hidden_size"] * shape["vocab_size"])


def fraction(value, limit, nominal, unit, digits=0):
    """'123 GFLOP/s = 45% of measured, 23% of nominal'."""
    return f"{value:.{digits}f} {unit} = {100 * value / limit:.0f}% of measured, {100 * value / nominal:.0f}% of nominal"


def report_compute(label, tokens_per_s, flops_per_token, limits, bf16=False):
    """bf16: of the bf16 dot-product peak (AVX-512 BF16, twice the FMA rate; nominal 2 x 532)."""
    limit, nominal = (limits["bf16_gflops"], 2 * NOMINAL_GFLOPS) if bf16 else (limits["fma_gflops"], NOMINAL_GFLOPS)
    print(f"{label:28s} {fraction(tokens_per_s * flops_per_token / 1e9, limit, nominal, 'GFLOP/s')}")


def report_bandwidth(label, tokens_per_s, bytes_per_token, limits):
    print(f"{label:28s} {fraction(tokens_per_s * bytes_per_token / 1e9, limits['read_gb_s'], NOMINAL_READ_GB_S, 'GB/s', 1)}")
