#!/usr/bin/env bash
# The test suite with our programs checked for memory errors, undefined behaviour and leaks.
#
#   tests/lib/checked.sh asan BUILD_DIR       BUILD_DIR was built with gcc -fsanitize=address,undefined
#                                             (make test-sanitize): every program of the suite,
#                                             canbao, the generator, the tools and the unit tests,
#                                             runs instrumented, LeakSanitizer on at exit
#   tests/lib/checked.sh valgrind BUILD_DIR   an ordinary build; every canbao command and every
#                                             unit test of the suite runs under valgrind
#                                             --leak-check=full (make test-valgrind)
#
# A report fails the run even when it comes from a process whose exit code a test does not look
# at: every report goes to a file in a folder of its own, and that folder must hold none at the
# end.  Reports of libraries that are not ours are suppressed in tests/lsan.supp and
# tests/valgrind.supp, each entry with the reason; never suppress canbao's own code there.
#
# Environment: CANBAO_TEST_PERSONS (persons the suite generates; tests/run-tests.sh),
# CANBAO_TEST_TIME_SCALE (the unit tests' time limits are multiplied by it: default 5 under the
# sanitizers, 50 under valgrind, which runs a program some 20 to 50 times slower),
# CANBAO_TEST_WORK_SCALE (the rounds of the unit tests that repeat themselves: 0.1 under valgrind),
# CHECKED_REPORTS (folder for the reports; default a new temporary one, removed when clean).
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
MODE=${1:-}
BUILD=${2:-}
if [ -z "$BUILD" ] || [ ! -x "$BUILD/canbao" ]; then
    echo "usage: tests/lib/checked.sh asan|valgrind BUILD_DIR (with BUILD_DIR/canbao built)" >&2
    exit 2
fi

REPORTS=${CHECKED_REPORTS:-$(mktemp -d "${TMPDIR:-/tmp}/canbao-checked.XXXXXX")}
mkdir -p "$REPORTS"
REPORTS=$(cd "$REPORTS" && pwd)

start=$(date +%s)
case $MODE in
asan)
    # log_path: reports go to REPORTS/report.PID, not to the output the tests read
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$REPORTS/report"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/report"
    export CANBAO_TEST_TIME_SCALE=${CANBAO_TEST_TIME_SCALE:-5}
    bash tests/run-tests.sh "$BUILD"
    rc=$?
    ;;
valgrind)
    command -v valgrind >/dev/null || { echo "checked: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
    # A build folder of stand-ins, BUILD/valgrind: canbao and each unit test a script that execs
    # the real program under valgrind (same process id, same arguments, same exit code unless
    # valgrind finds an error: then 99); the generator and the test tools linked as they are.
    VG="$BUILD/valgrind"
    rm -rf "$VG"
    mkdir -p "$VG/tests"
    stub() {   # stand-in REAL
        printf '#!/bin/sh\nexec valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 --suppressions=%q --log-file=%q %q "$@"\n' \
            "$ROOT/tests/valgrind.supp" "$REPORTS/vg.%p" "$ROOT/$1"
    }
    for f in "$BUILD"/*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        case $(basename "$f") in
            canbao) stub "$f" >"$VG/canbao"; chmod +x "$VG/canbao" ;;
            *) ln -s "$ROOT/$f" "$VG/$(basename "$f")" ;;
        esac
    done
    for f in "$BUILD"/tests/test_*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        stub "$f" >"$VG/tests/$(basename "$f")"
        chmod +x "$VG/tests/$(basename "$f")"
    done
    export CANBAO_TEST_TIME_SCALE=${CANBAO_TEST_TIME_SCALE:-50}
    # the unit tests that repeat themselves make a tenth of their rounds (tests/unit/time_limit.h)
    export CANBAO_TEST_WORK_SCALE=${CANBAO_TEST_WORK_SCALE:-0.1}
    # valgrind runs a program's threads one at a time, on one core: the unit tests run beside
    # the rest of the suite, on the other
    export CANBAO_TEST_UNITS_BESIDE=${CANBAO_TEST_UNITS_BESIDE:-1}
    # canbao waits 10 s for a connection by default; a TLS handshake and a SCRAM password
    # exchange emulated by valgrind on a busy machine took longer (a CI run)
    export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-120}
    # valgrind keeps files of its own in TMPDIR: a check of canbao with a TMPDIR that cannot
    # be written runs the program as built
    export CANBAO_UNWRAPPED="$ROOT/$BUILD/canbao"
    bash tests/run-tests.sh "$VG"
    rc=$?
    # a log without errors is no finding: keep only those with errors
    for f in "$REPORTS"/vg.*; do
        [ -f "$f" ] || continue
        if grep -qE 'ERROR SUMMARY: [1-9]' "$f"; then mv "$f" "$f.error"; else rm -f "$f"; fi
    done
    ;;
*)
    echo "usage: tests/lib/checked.sh asan|valgrind BUILD_DIR" >&2
    exit 2
    ;;
esac

secs=$(($(date +%s) - start))
found=$(find "$REPORTS" -type f | sort)
if [ -n "$found" ]; then
    echo
    echo "checked ($MODE): $(wc -l <<<"$found") process(es) reported errors; the reports, in $REPORTS:"
    for f in $found; do
        echo "---- $f"
        if [ "$MODE" = valgrind ]; then
            grep -m1 -E '^==[0-9]+== Command:' "$f"
            grep -m1 -E '^==[0-9]+== ERROR SUMMARY:' "$f"
            # each error up to the blank line that ends it: memory errors, then the leaks
            sed -n '/definitely lost in loss record\|Invalid \|uninitialised\|Mismatched\|overlap\|Syscall param\|Argument .* of function/,/^==[0-9]*== *$/p' "$f" |
                head -n 80
        else
            head -n 60 "$f"
        fi
    done
    echo "checked ($MODE): FAILED after ${secs}s"
    exit 1
fi
[ -z "${CHECKED_REPORTS:-}" ] && rm -rf "$REPORTS"
if [ "$rc" != 0 ]; then
    echo "checked ($MODE): no reports, but the suite failed (exit $rc) after ${secs}s"
    exit "$rc"
fi
echo "checked ($MODE): the whole suite passed with no report, in ${secs}s"
