#!/usr/bin/env bash
# Fuzz the request core (envelope, settings, config file, CGI meta-variables; see
# Sources/PixelhookFuzz) with libFuzzer for SECONDS (default 60), then print the figures.
#
#   bash fuzz/run.sh [SECONDS]
#
# The grown corpus and any crash inputs stay in .build-fuzz/fuzz/ (ignored by git), so a
# second run goes on from the first; fuzz/corpus, the committed seeds, is only read.
# A crash input replays with the plain build:
#   swift build --scratch-path .build-fuzz --product pixelhook-fuzz
#   .build-fuzz/debug/pixelhook-fuzz CRASH_FILE
# Extra arguments after SECONDS go to libFuzzer (for example -jobs=2 -workers=2).
# FUZZ_ONLY=fastcgi fuzzes the FastCGI record stream alone (FastCGIRecordCheck, then libfcgi;
# seeds fuzz/corpus/fastcgi-*, grown corpus in .build-fuzz/fuzz-fastcgi, longer inputs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
scratch=.build-fuzz
work=$scratch/fuzz
seeds=fuzz/corpus
max_len=8192
if [[ ${FUZZ_ONLY:-} == fastcgi ]]; then
    work=$scratch/fuzz-fastcgi
    seeds=$work/seeds
    max_len=32768
    mkdir -p "$seeds" && cp fuzz/corpus/fastcgi-* "$seeds/"
fi
mkdir -p "$work/corpus" "$work/artifacts"

# SwiftPM gives the executable its own `main`, so libFuzzer comes in as the no-main library
# and `LibFuzzer.run` calls its driver; `-sanitize=fuzzer` would bring a second `main`.
clang="$(dirname "$(command -v swiftc)")/clang"
driver=$("$clang" --print-file-name=libclang_rt.fuzzer_no_main-x86_64.a)
[[ -f $driver ]] || { echo "fuzz/run.sh: libFuzzer not found in the Swift toolchain ($driver)" >&2; exit 1; }
swift build -c release --product pixelhook-fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=address \
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DPIXELHOOK_FUZZ \
    -Xlinker "$driver" -Xlinker -lstdc++ 2>&1 | grep -v 'Cannot export local symbol' | tail -n 3
binary=$scratch/release/pixelhook-fuzz

log=$work/fuzz.log
echo "fuzzing for ${seconds}s; log: $log"
status=0
# Leak checks are off: the Swift runtime's metadata caches look like leaks to LeakSanitizer.
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$binary" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len \
    -dict=fuzz/pixelhook.dict -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    "$@" "$work/corpus" "$seeds" >"$log" 2>&1 || status=$?

echo "--- last status line"
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
echo "corpus: $(find "$work/corpus" -type f | wc -l) files in $work/corpus"
crashes=$(find "$work/artifacts" -type f | sort)
if [[ -n $crashes ]]; then
    echo "--- crash, timeout or out-of-memory inputs:"
    echo "$crashes"
    grep -E 'invariant violated|Fatal error|ERROR: (AddressSanitizer|libFuzzer)' "$log" | head -n 5 || true
fi
exit "$status"
