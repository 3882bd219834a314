#!/usr/bin/env bash
# tests/fuzz/run.sh — build every libFuzzer target under tests/fuzz/ and run each in turn.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]    fuzz each target SECONDS (default 600)
#   tests/fuzz/run.sh --ci [TARGET...]         CI pass: replay the committed corpus once, then
#                                              fuzz each target 20 s (FUZZ_CI_SECONDS)
#   tests/fuzz/run.sh --build                  build only
#   tests/fuzz/run.sh --replay [TARGET...]     replay the committed corpus only
#
# Everything goes under build/fuzz/ (BUILD_DIR=... to move it): objects, the targets in bin/,
# the corpus each run grows in corpus-<target>/ (the committed corpus in tests/fuzz/corpus/ is
# only read), logs in logs/, reproducers in artifacts/<target>/.  Exits non-zero when any
# target crashed, leaked, timed out, ran out of memory, or printed anything on stderr while
# replaying the corpus, and names the target, the reproducer and the log.
#
# Environment: FUZZ_TIMEOUT (seconds one input may take before it counts as a hang; default
# 20, generous because these machines are shared), CLANG (default clang-14), PKGS (pkg-config
# packages to link; default: the Makefile's PKGS), FUZZ_JOBS (parallel compiles, default 2),
# FUZZ_ARGS (extra libFuzzer flags).
set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
FUZZ_SRC=tests/fuzz
OUT=${BUILD_DIR:-build/fuzz}
CLANG=${CLANG:-clang-14}
JOBS=${FUZZ_JOBS:-2}

mode=full
seconds=600
case "${1:-}" in
    --ci) mode=ci; seconds=${FUZZ_CI_SECONDS:-20}; shift ;;
    --build) mode=build; shift ;;
    --replay) mode=replay; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
esac
if [[ $mode == full && "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
only=("$@")

# ------------------------------------------------------------------ per-target settings
# max_len: a little more than the largest realistic seed of the format; dict: tests/fuzz/dict/.
max_len_of() {
    case $1 in
        fuzz_idnum|fuzz_date) echo 128 ;;
        fuzz_params|fuzz_manifest) echo 4096 ;;
        fuzz_sourcedef) echo 8192 ;;
        fuzz_fixed|fuzz_jsonl) echo 8192 ;;
        fuzz_csv|fuzz_gzip|fuzz_xml|fuzz_extract) echo 16384 ;;
        fuzz_rules) echo 40960 ;;
        fuzz_xlsx_parts) echo 32768 ;;
        fuzz_xlsx) echo 65536 ;;
        *) echo 16384 ;;
    esac
}
dict_of() {
    case $1 in
        fuzz_csv|fuzz_gzip) echo csv ;;
        fuzz_xml) echo xml ;;
        fuzz_xlsx|fuzz_xlsx_parts) echo xlsx ;;
        fuzz_jsonl) echo jsonl ;;
        fuzz_fixed) echo fixed ;;
        fuzz_idnum) echo idnum ;;
        fuzz_date) echo date ;;
        fuzz_sourcedef|fuzz_extract) echo sourcedef ;;
        fuzz_params) echo params ;;
        fuzz_manifest) echo manifest ;;
        fuzz_rules) echo rules ;;
    esac
}

# ------------------------------------------------------------------ build
if ! command -v "$CLANG" >/dev/null; then
    echo "fuzz: $CLANG not found (apt-get install clang-14, or CLANG=clang-NN)" >&2
    exit 2
fi

if [[ -z "${PKGS:-}" ]]; then
    PKGS=$(make -s --no-print-directory --eval 'fuzz-print-pkgs: ; @echo $(PKGS)' fuzz-print-pkgs 2>/dev/null | tail -1)
fi
# Sources that include OpenCC or ICU need them even before the Makefile lists them.
add_pkg() {   # package, pattern in the sources
    if [[ " ${PKGS:-} " != *" $1 "* ]] && grep -qsE "$2" engine/*.[ch] connectors/*.[ch] \
        && pkg-config --exists "$1" 2>/dev/null; then
        PKGS="${PKGS:-} $1"
    fi
}
add_pkg opencc '#include <opencc'
add_pkg icu-uc '#include <unicode/'
add_pkg icu-i18n '#include <unicode/'
if [[ -n "${PKGS:-}" ]] && pkg-config --exists $PKGS 2>/dev/null; then
    PKG_CFLAGS=$(pkg-config --cflags $PKGS)
    PKG_LIBS=$(pkg-config --libs $PKGS)
else
    echo "fuzz: pkg-config does not know all of '${PKGS:-}'; using the default library list" >&2
    PKG_CFLAGS="-I/usr/include/postgresql -I/usr/include/libxml2"
    PKG_LIBS="-lpq -lxml2 -lssl -lcrypto -lxlsxwriter -lz"
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS_COMMON="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN -Iengine -Iconnectors $PKG_CFLAGS"
LIB_CFLAGS="$CFLAGS_COMMON -fsanitize=fuzzer-no-link -Wall -Wextra -Wno-unused-parameter"
TARGET_CFLAGS="$CFLAGS_COMMON -fsanitize=fuzzer -Wall -Wextra -Werror -Wshadow"
LIBS="$PKG_LIBS -lm -lpthread"

mkdir -p "$OUT/obj" "$OUT/bin" "$OUT/logs"

# Library sources: engine/ (not main.c) and connectors/, compiled with the same sanitizers
# plus coverage.  An object is rebuilt when its source or any header is newer.
lib_src=$(ls engine/*.c connectors/*.c | grep -v '^engine/main\.c$')
newest_header=$(ls -t engine/*.h connectors/*.h | head -1)
stale=()
for src in $lib_src; do
    obj="$OUT/obj/${src//\//_}"
    obj="${obj%.c}.o"
    if [[ ! -f $obj || $src -nt $obj || $newest_header -nt $obj ]]; then
        stale+=("$src")
    fi
done
# A source that does not compile (another engineer's work in progress) is left out of the
# archive with a warning: a target that needs it then fails to link, which is an error.
compile_one() {
    local src=$1 obj="$OUT/obj/${1//\//_}"
    obj="${obj%.c}.o"
    rm -f "$obj"
    # shellcheck disable=SC2086
    $CLANG $LIB_CFLAGS -c -o "$obj" "$src" 2>"$obj.err" \
        || { echo "fuzz: warning: could not compile $src (left out; see $obj.err)" >&2; return 0; }
    grep -s 'warning:' "$obj.err" | head -3 >&2
    return 0
}
if ((${#stale[@]})); then
    echo "fuzz: compiling ${#stale[@]} library source(s) with ASan/UBSan and coverage"
    bad=0
    for src in "${stale[@]}"; do
        while (($(jobs -rp | wc -l) >= JOBS)); do
            wait -n || bad=1
        done
        compile_one "$src" &
    done
    while (($(jobs -rp | wc -l) > 0)); do
        wait -n || bad=1
    done
    wait || bad=1
    ((bad)) && exit 2
fi
lib="$OUT/libcanbao-fuzz.a"
rm -f "$lib"
objs=()
for src in $lib_src; do
    obj="$OUT/obj/${src//\//_}"
    [[ -f ${obj%.c}.o ]] && objs+=("${obj%.c}.o")
done
ar rcs "$lib" "${objs[@]}" || exit 2

# Targets: tests/fuzz/fuzz_*.c.  fuzz_rules needs engine/rules.h with rules_parse.
targets=()
for src in "$FUZZ_SRC"/fuzz_*.c; do
    t=$(basename "$src" .c)
    if ((${#only[@]})) && [[ ! " ${only[*]} " =~ " $t " ]]; then
        continue
    fi
    if [[ $t == fuzz_rules ]] && ! { grep -qs 'rules_compile' engine/rules.h &&
                                     grep -qsE '^rules_compile\(' engine/*.c; }; then
        echo "fuzz: skipping fuzz_rules: rules_compile (engine/rules.h) is not implemented yet"
        continue
    fi
    bin="$OUT/bin/$t"
    if [[ ! -x $bin || $src -nt $bin || $FUZZ_SRC/fuzzlib.h -nt $bin || $lib -nt $bin ]]; then
        # shellcheck disable=SC2086
        $CLANG $TARGET_CFLAGS -I"$FUZZ_SRC" -DFUZZ_ROOT="\"$ROOT\"" -o "$bin" "$src" "$lib" $LIBS \
            || { echo "fuzz: could not build $t" >&2; exit 2; }
    fi
    targets+=("$t")
done
echo "fuzz: built ${#targets[@]} target(s) in $OUT/bin"
[[ $mode == build ]] && exit 0

# ------------------------------------------------------------------ run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if command -v llvm-symbolizer-14 >/dev/null; then
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14)}
fi

failed=()
summary=()

report_failure() {   # target, what, log
    local t=$1 what=$2 log=$3 art
    art=$(ls -t "$OUT/artifacts/$t"/{crash,leak,timeout,oom,slow-unit}-* 2>/dev/null | head -5 | tr '\n' ' ')
    echo "fuzz: FAILED $t: $what"
    echo "fuzz:   reproducer: ${art:-(none written; see the log)}"
    echo "fuzz:   log: $log"
    echo "fuzz:   replay: $OUT/bin/$t ${art%% *}"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz: contract broken|fuzz: libxml2' "$log" \
        | sed 's/^/fuzz:   /'
    failed+=("$t")
}

# Lines libFuzzer itself prints while replaying; anything else came from the target.
LIBFUZZER_NOISE='^(INFO: |Running: |Executed |.*: Running [0-9]+ inputs |\*\*\*|MERGE|#[0-9]+|Done [0-9]+ runs|stat::|  NEW_FUNC|Loaded [0-9]+ modules|$)'

replay() {   # target
    local t=$1 dir="$FUZZ_SRC/corpus/$1" log="$OUT/logs/$1.replay.log"
    mkdir -p "$OUT/artifacts/$t"
    local files=()
    [[ -d $dir ]] && mapfile -t files < <(find "$dir" -type f | sort)
    if ((${#files[@]} == 0)); then
        echo "fuzz: $t: no committed corpus in $dir"
        return
    fi
    "$OUT/bin/$t" -timeout="${FUZZ_TIMEOUT:-20}" -rss_limit_mb=2048 -artifact_prefix="$OUT/artifacts/$t/" \
        "${files[@]}" >"$log" 2>&1
    local rc=$?
    if ((rc != 0)); then
        report_failure "$t" "replaying the committed corpus (exit $rc)" "$log"
        return
    fi
    local noise
    noise=$(grep -vE "$LIBFUZZER_NOISE" "$log" | head -5)
    if [[ -n $noise ]]; then
        echo "fuzz: FAILED $t: the target printed on stderr while replaying the corpus:"
        echo "$noise" | sed 's/^/fuzz:   | /'
        echo "fuzz:   log: $log"
        failed+=("$t")
        return
    fi
    echo "fuzz: $t: replayed ${#files[@]} committed input(s), clean"
}

fuzz() {   # target, seconds
    local t=$1 secs=$2 log="$OUT/logs/$1.log" dict
    local work="$OUT/corpus-$t"
    mkdir -p "$work" "$OUT/artifacts/$t"
    local args=(-max_len="$(max_len_of "$t")" -timeout="${FUZZ_TIMEOUT:-20}" -rss_limit_mb=2048
                -max_total_time="$secs" -print_final_stats=1
                -artifact_prefix="$OUT/artifacts/$t/")
    dict=$(dict_of "$t")
    [[ -n $dict && -f $FUZZ_SRC/dict/$dict.dict ]] && args+=(-dict="$FUZZ_SRC/dict/$dict.dict")
    local seeds=()
    [[ -d $FUZZ_SRC/corpus/$t ]] && seeds=("$FUZZ_SRC/corpus/$t")
    echo "fuzz: $t: fuzzing for ${secs}s (log $log)"
    # shellcheck disable=SC2086
    "$OUT/bin/$t" "${args[@]}" ${FUZZ_ARGS:-} "$work" "${seeds[@]}" >"$log" 2>&1
    local rc=$?
    local execs rate cov corpus
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    corpus=$(find "$work" -type f | wc -l)
    summary+=("$(printf '%-18s %8ss %12s runs %8s exec/s  %-22s corpus-%s: %s files' \
        "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-}" "$t" "$corpus")")
    if ((rc != 0)); then
        report_failure "$t" "libFuzzer exit $rc" "$log"
    fi
}

for t in "${targets[@]}"; do
    case $mode in
        replay) replay "$t" ;;
        ci) replay "$t"; fuzz "$t" "$seconds" ;;
        full) fuzz "$t" "$seconds" ;;
    esac
done

if ((${#summary[@]})); then
    echo "fuzz: summary"
    printf 'fuzz:   %s\n' "${summary[@]}"
fi
if ((${#failed[@]})); then
    echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: no findings"
exit 0
