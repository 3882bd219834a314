#!/usr/bin/env bash
# make bench: canbao against the floor (one core inflating every input once), side by side in
# one run, medians of several runs.  Data is generated once per scale and cached in var/bench.
#
#   tests/bench/run.sh [BUILD_DIR] [SCALES]      SCALES: any of S M L (default: S)
#
# Results are appended to tests/bench/RESULTS.md (the README links it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SCALES=${2:-${CANBAO_BENCH_SCALES:-S}}
RUNS=${CANBAO_BENCH_RUNS:-3}
ASOF=2026-11-28
ROOT=$PWD
VAR=$ROOT/var/bench
mkdir -p "$VAR"
source tests/lib/pg.sh
trap pg_stop EXIT

persons_of() { case $1 in S) echo 700000 ;; M) echo 7000000 ;; L) echo 24000000 ;; *) echo "$1" ;; esac; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

pg_start "$VAR/pg-$$" >/dev/null
"$BUILD/canbao" --quiet db migrate >/dev/null

report=$VAR/report.md
{
    echo "## $(date -u +%F) on $(nproc) cores, canbao $("$BUILD/canbao" --version | cut -d' ' -f2), medians of $RUNS runs"
    echo
    echo "| scale | persons | input MB | floor: inflate (s) | canbao run (s) | run / floor | peak RSS (MB) |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$report"

for scale in $SCALES; do
    persons=$(persons_of "$scale")
    data=$VAR/data-$persons
    if [ ! -f "$data/.complete" ]; then
        echo "bench: generating $persons persons (once; cached in $data)" >&2
        rm -rf "$data"
        "$BUILD/synth" --persons "$persons" --seed 8 --asof $ASOF --out "$data" >/dev/null 2>&1
        touch "$data/.complete"
    fi
    files=("$data"/extracts/*)
    floor=() run=() rss=()
    rm -f "$VAR/stages-$scale"
    for i in $(seq "$RUNS"); do
        f=$("$BUILD/bench-inflate" "${files[@]}")
        floor+=("$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$f")")
        mb=$(sed -n 's/.*bytes_out=\([0-9]*\).*/\1/p' <<<"$f")
        rm -rf "$VAR/out"
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$VAR/rss" "$BUILD/canbao" run --asof $ASOF \
            --extracts "$data/extracts" --out "$VAR/out" >/dev/null 2>"$VAR/run-$i.log"
        grep -o 'event=timings.*' "$VAR/run-$i.log" | sed 's/event=timings //' >>"$VAR/stages-$scale"
        t1=$(date +%s.%N)
        run+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
        rss+=("$(cat "$VAR/rss")")
        echo "bench: $scale run $i: floor ${floor[-1]} s, canbao ${run[-1]} s" >&2
    done
    F=$(printf '%s\n' "${floor[@]}" | median)
    R=$(printf '%s\n' "${run[@]}" | median)
    M=$(printf '%s\n' "${rss[@]}" | median)
    awk -v s="$scale" -v p="$persons" -v mb="$mb" -v f="$F" -v r="$R" -v m="$M" \
        'BEGIN { printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.0f |\n", s, p, mb / 1e6, f, r, r / f, m / 1024 }' >>"$report"
    # each stage's median seconds and its share of the run
    awk -v scale="$scale" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2]; names[kv[1]] = 1 } n = NR }
        END {
            line = "stages at " scale " (median s, share):"
            split("read link group rules write database publish", order, " ")
            for (k = 1; k <= 7; k++) {
                s = order[k]; m = 0
                for (r = 1; r <= n; r++) {          # insertion sort (mawk has no asort)
                    x = v[s, r] + 0; j = r - 1
                    while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- }
                    a[j + 1] = x
                }
                m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
                med[s] = m; tot += m
            }
            for (k = 1; k <= 7; k++) { s = order[k]; line = line sprintf(" %s %.2f (%.0f%%);", s, med[s], tot ? 100 * med[s] / tot : 0) }
            print line
        }' "$VAR/stages-$scale" >>"$VAR/stages.txt"
done
echo >>"$report"
[ -f "$VAR/stages.txt" ] && { cat "$VAR/stages.txt" >>"$report"; rm -f "$VAR/stages.txt"; echo >>"$report"; }
cat "$report"
{ echo; cat "$report"; } >>tests/bench/RESULTS.md
