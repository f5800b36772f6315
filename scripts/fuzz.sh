#!/usr/bin/env bash
# libFuzzer with the address sanitizer on one input parser (Fuzz/Targets/FuzzTargets.swift).
#   scripts/fuzz.sh list               the targets and their -max_len
#   scripts/fuzz.sh TARGET [SECONDS]   fuzz TARGET for SECONDS (default 600)
# Starts from the committed seeds in Fuzz/Corpus/TARGET; what libFuzzer learns goes to
# .fuzz/TARGET/corpus, crash/timeout/oom reproducers to .fuzz/TARGET/ and the log to .fuzz/TARGET/log
# (all ignored by git). Commit a fixed crash's reproducer as Fuzz/Corpus/TARGET/crash-<what>:
# FuzzCorpusTests runs every committed file in the normal test build.
# Extra arguments after SECONDS go to libFuzzer (e.g. -only_ascii=1). To rerun one input:
#   EXPLICITLM_FUZZ_TARGET=TARGET SWIFT_BACKTRACE=enable=no .build-fuzz/release/explicitlm-fuzz FILE
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 2; }
[ $# -ge 1 ] || usage

# Its own package and scratch folder: the root package's build and tests never build the fuzzer.
# Debian's gold cannot link the sanitized objects; Fuzz/Package.swift asks for lld.
(cd Fuzz && swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address 2>&1 \
    | grep -v "warning: Cannot export local symbol" >&2)
fuzzer=.build-fuzz/release/explicitlm-fuzz

targets=$(EXPLICITLM_FUZZ_TARGET=list "$fuzzer")
if [ "$1" = list ]; then echo "$targets"; exit 0; fi
target=$1
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
max_len=$(awk -v t="$target" '$1 == t { print $2 }' <<<"$targets")
[ -n "$max_len" ] || { echo "unknown target '$target'; targets:" >&2; echo "$targets" >&2; exit 2; }

work=.fuzz/$target
mkdir -p "$work/corpus"
dict=()
[ -f "Fuzz/Dictionaries/$target.dict" ] && dict=(-dict="Fuzz/Dictionaries/$target.dict")
# A Swift trap is the crash we look for: Swift's own backtracer would hang libFuzzer's crash handling.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1:allocator_may_return_null=1}
export EXPLICITLM_FUZZ_TARGET=$target
exec nice -n 10 "$fuzzer" "$work/corpus" "Fuzz/Corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=20 \
    -artifact_prefix="$work/" -print_final_stats=1 "$@" 2>&1 | tee "$work/log"
