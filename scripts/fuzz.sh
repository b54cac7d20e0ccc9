#!/usr/bin/env bash
# Builds the libFuzzer fuzz targets in Fuzz/ and runs each for a bounded time (`make fuzz`).
#
#   FUZZ_SECONDS=60       seconds per target (libFuzzer's -max_total_time)
#   FUZZ_TARGETS="a b"    only these targets (default: all of config-file settings heartbeat domain-xml spool)
#   FUZZ_SCRATCH=DIR      build directory (default .build-fuzz; never the default .build)
#
# Each target starts from its seeds in Fuzz/corpus/<target>/ and from what earlier runs added to
# Fuzz/work/<target>/ (where libFuzzer writes new inputs). Crashes, hangs (-timeout=10 per input), leaks and
# out-of-memory inputs (-rss_limit_mb=2048) go to Fuzz/findings/<target>/, with the run's log (fuzz.log).
# Both directories are git-ignored. One summary line per target; the exit status is non-zero when any target
# found a crash or a hang (or did not run). Reproduce a finding with the fuzzer itself
# (`.build-fuzz/debug/FuzzSpool Fuzz/findings/spool/crash-...`) or with a plain build of the target, which
# runs the files it is given once.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-config-file settings heartbeat domain-xml spool}

# -D FUZZING makes each target hand its LLVMFuzzerTestOneInput to libFuzzer's LLVMFuzzerRunDriver, which it
# looks up at run time (SwiftPM links every executable with a main of its own, so libFuzzer's main is unused):
# hence the symbol is exported.
BUILD_FLAGS=(-c debug --scratch-path "$SCRATCH"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
    -Xlinker --export-dynamic-symbol=LLVMFuzzerRunDriver)

product_of() {
    case $1 in
        config-file) echo FuzzConfigFile ;;
        settings) echo FuzzSettings ;;
        heartbeat) echo FuzzHeartbeat ;;
        domain-xml) echo FuzzDomainXML ;;
        spool) echo FuzzSpool ;;
        *) echo "fuzz.sh: unknown target '$1'" >&2; return 1 ;;
    esac
}

# The Swift runtime's own crash reporter would catch the signals libFuzzer and ASan handle (and keep the
# process alive while it symbolicates): leave crashes to them.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-handle_abort=1:handle_sigill=1:symbolize=1}

for target in $TARGETS; do product_of "$target" >/dev/null; done

mkdir -p Fuzz/findings
build_log=Fuzz/findings/build.log
: >"$build_log"
for target in $TARGETS; do
    product=$(product_of "$target")
    echo "fuzz: building $product ($SWIFT build ${BUILD_FLAGS[*]} --product $product)" >&2
    if ! "$SWIFT" build "${BUILD_FLAGS[@]}" --product "$product" >>"$build_log" 2>&1; then
        # gold warns once per ASan symbol ("Cannot export local symbol"); the errors are what matters.
        grep -v 'Cannot export local symbol' "$build_log" | tail -40 >&2
        echo "fuzz: building $product failed (full log: $build_log)" >&2
        exit 1
    fi
done
bin=$("$SWIFT" build "${BUILD_FLAGS[@]}" --show-bin-path)

failed=0
summary=()
for target in $TARGETS; do
    product=$(product_of "$target")
    findings=Fuzz/findings/$target
    work=Fuzz/work/$target
    mkdir -p "$findings" "$work"
    log=$findings/fuzz.log
    marker=$(mktemp)
    scratch_tmp=$(mktemp -d)
    echo "fuzz: running $product for ${SECONDS_PER_TARGET}s (log: $log)" >&2
    start=$(date +%s)
    status=0
    # The outer timeout is a backstop only: libFuzzer stops itself after -max_total_time.
    TMPDIR=$scratch_tmp timeout --kill-after=30 $((SECONDS_PER_TARGET + 120)) \
        "$bin/$product" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$findings/" "$work" "Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    rm -rf "$scratch_tmp"

    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $executions ]] || executions=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | sed 's/corp: //')
    artifacts=$(find "$findings" -maxdepth 1 -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
        -o -name 'timeout-*' \) | sort)
    rm -f "$marker"
    crashes=$(grep -c -E '/(crash|leak|oom)-' <<<"$artifacts" || true)
    timeouts=$(grep -c '/timeout-' <<<"$artifacts" || true)
    line="fuzz $target: ${executions:-?} executions in ${elapsed}s, corpus ${corpus:-?}, $crashes crash(es), $timeouts timeout(s)"
    if ((crashes + timeouts > 0)); then
        failed=1
        line+=" -> $(tr '\n' ' ' <<<"$artifacts")"
    elif ((status != 0)); then
        failed=1
        line+=" (libFuzzer exited with $status; see $log)"
    fi
    summary+=("$line")
    echo "$line" >&2
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
