#!/usr/bin/env bash
# Installs llama.cpp outside the repo and converts the random Qwen3-0.6B checkpoints to GGUF, for
# bench/llamacpp_bench.py. Idempotent: every step is skipped when its result is already there.
#
# llama.cpp comes from PyPI's llama-cpp-python source distribution, which vendors it (with
# convert_hf_to_gguf.py and gguf-py) under vendor/llama.cpp; nothing of it enters the repo.
# Usage: bench/llamacpp/setup.sh   (env: LLAMA_CPP_PYTHON_VERSION, QWEN3_TOKENIZER, BENCH_DIR)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/explicitlm-bench}"
LLAMA="$BENCH_DIR/llama.cpp"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
TOKENIZER="${QWEN3_TOKENIZER:-$ROOT/../shared/testdata/qwen3-tokenizer}"
mkdir -p "$LLAMA"

# 1. The source. Only llama-cpp-python itself is taken as source: with --no-binary :all: pip also
# builds the sdist's build backend's own requirements (cmake, ninja) from source, which hangs for
# many minutes. Network commands are bounded by timeout.
if [ ! -f "$LLAMA/src/convert_hf_to_gguf.py" ]; then
    sdist="$LLAMA/llama_cpp_python-$VERSION.tar.gz"
    if [ ! -f "$sdist" ]; then
        timeout 300 pip download --no-binary llama-cpp-python --no-deps -d "$LLAMA" "llama-cpp-python==$VERSION"
    fi
    rm -rf "$LLAMA/unpack" "$LLAMA/src"
    mkdir -p "$LLAMA/unpack"
    tar xzf "$sdist" -C "$LLAMA/unpack"
    mv "$LLAMA/unpack/llama_cpp_python-$VERSION/vendor/llama.cpp" "$LLAMA/src"
    rm -f "$LLAMA/src/.git"  # a git-submodule pointer to a repository the sdist lacks: CMake's git calls would fail noisily
    rm -rf "$LLAMA/unpack"
fi

# 2. The binaries: Release, this CPU's ISA (GGML_NATIVE), CPU only, no network support; only the
# two tools the benchmark uses. nice: the build shares 2 cores with other work.
if ! command -v cmake >/dev/null; then
    timeout 300 apt-get install -y cmake || { timeout 300 apt-get update && timeout 300 apt-get install -y cmake; }
fi
if [ ! -x "$LLAMA/build/bin/llama-bench" ] || [ ! -x "$LLAMA/build/bin/llama-simple" ]; then
    cmake -S "$LLAMA/src" -B "$LLAMA/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_CUDA=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF
    nice -n 19 cmake --build "$LLAMA/build" --config Release -j2 --target llama-bench llama-simple
fi

# 3. The converter's gguf package, the version vendored beside it (numpy, torch, transformers are
# already installed, hence --no-deps).
if ! python3 -c 'import gguf' 2>/dev/null; then
    pip install --no-deps "$LLAMA/src/gguf-py"
fi
# The converter's Qwen2/Qwen3 vocabulary step imports sentencepiece before it finds no tokenizer.model
# and falls back to the BPE tokenizer.json, so the module must be importable although unused.
if ! python3 -c 'import sentencepiece' 2>/dev/null; then
    timeout 300 pip install --only-binary :all: sentencepiece
fi

# 4. The checkpoints, made as bench/qwen3_bench.py makes them, when missing.
for pair in "qwen3-0.6b-random float32" "qwen3-0.6b-random-bf16 bfloat16"; do
    set -- $pair
    python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import common, qwen3_bench
common.make_random_qwen3('$BENCH_DIR/$1', qwen3_bench.SHAPE, '$2')"
done

# 5. GGUF conversion. The converter reads the vocabulary from the checkpoint's directory, which has
# none (random weights), so it converts a staging directory: links to the checkpoint plus the genuine
# Qwen3 tokenizer files. The checkpoint directories themselves stay untouched.
[ -f "$TOKENIZER/tokenizer.json" ] || { echo "no Qwen3 tokenizer in $TOKENIZER (set QWEN3_TOKENIZER)" >&2; exit 1; }
for pair in "qwen3-0.6b-random f32" "qwen3-0.6b-random-bf16 bf16"; do
    set -- $pair
    out="$LLAMA/qwen3-0.6b-random-$2.gguf"
    [ -f "$out" ] && continue
    stage="$LLAMA/hf-$2"
    rm -rf "$stage" && mkdir -p "$stage"
    ln -s "$BENCH_DIR/$1"/* "$stage/"
    cp "$TOKENIZER"/tokenizer.json "$TOKENIZER"/tokenizer_config.json "$stage/"
    python3 "$LLAMA/src/convert_hf_to_gguf.py" "$stage" --outtype "$2" --outfile "$out.tmp"
    mv "$out.tmp" "$out"  # a conversion cut short leaves no GGUF that looks finished
done
echo "llama.cpp ready: $LLAMA/build/bin, $LLAMA/qwen3-0.6b-random-{f32,bf16}.gguf"
