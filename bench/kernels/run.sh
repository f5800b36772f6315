#!/usr/bin/env bash
# Builds the CKernels correctness check and benchmark exactly as SwiftPM compiles the target (plain
# -O3, no -march/-mavx512f: the kernels choose their ISA at run time), runs the check, then the bench.
#   bench/kernels/run.sh            check + bench
#   bench/kernels/run.sh check      check only
#   bench/kernels/run.sh bench [gemm|gemv|rows]   bench only (optionally one section)
#   bench/kernels/run.sh bench limits        the machine's FMA peak and streaming read now, one JSON line
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
CC="${CC:-$(command -v /opt/swift/usr/bin/clang || command -v clang || command -v gcc)}"
out="${OUT_DIR:-${TMPDIR:-/tmp}/ckernels-bench}"
mkdir -p "$out"
src=("$root"/Sources/CKernels/*.c)
inc=(-I "$root/Sources/CKernels/include")
what="${1:-all}"

if [[ "$what" != bench ]]; then
    "$CC" -O3 "${inc[@]}" "$root/bench/kernels/check.c" "${src[@]}" -lpthread -lm -o "$out/check"
    "$out/check"
fi
if [[ "$what" != check ]]; then
    # OpenBLAS for comparison when its CBLAS header is installed (Debian: libopenblas-dev).
    blas=()
    for h in /usr/include/x86_64-linux-gnu/cblas.h /usr/include/openblas/cblas.h /usr/include/cblas.h; do
        if [[ -f "$h" ]]; then blas=(-DHAVE_OPENBLAS -I "$(dirname "$h")" -lopenblas); break; fi
    done
    "$CC" -O3 "${inc[@]}" "$root/bench/kernels/bench.c" "${src[@]}" "${blas[@]}" -lpthread -lm -o "$out/bench"
    "$out/bench" "${@:2}"
fi
