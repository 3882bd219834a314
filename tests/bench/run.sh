#!/usr/bin/env bash
# make bench: canbao against the floor (one core inflating every input once), side by side in
# one run, medians of several runs (of peak memory, the largest).  Data is generated once per scale and generator version and
# cached in var/bench.
#
#   tests/bench/run.sh [BUILD_DIR] [SCALES]      SCALES: any of S M L (default: S)
#
# Before the timed runs of a scale, one run of the first night (it registers the items listed),
# reported apart; after them, one run of the next night (the same extracts, as of a day later,
# on the same cluster), since a bureau runs a new date every night.  After every run, before the
# next floor, the maintenance that follows a night (VACUUM (ANALYZE), CHECKPOINT: between_nights)
# is done and reported apart, so that no run overlaps the last one's.
# Results are appended to tests/bench/RESULTS.md (the README links it).
# CANBAO_BENCH_MEMORY=SIZE runs canbao with --memory SIZE (the facts past a quarter of it on disk,
# taken back a pass at a time); the table's row says so.
# CANBAO_BENCH_NIGHTS=30 runs thirty more nights after the next one (a day apart) and reports
# whether a night's database stage grows with the nights kept, and the database's growth.
# CANBAO_BENCH_NOISE=3 generates the data with identity noise (synth --noise; cached apart), so
# that the identity step has records to link: its candidate pairs and time are reported.
#
# Columns (3) and (4), the same lists computed the way a user would otherwise do it, in
# PostgreSQL with COPY and SQL (tests/bench/sql) and in DuckDB on two threads
# (tests/bench/duckdb, @duckdb/node-api from npm into BUILD/bench, for make bench only), and
# the check that their lists equal canbao's: BENCH_COMPARE=0 skips them for a quick run;
# BENCH_COMPARE=duckdb runs DuckDB alone (PostgreSQL needs about 20 minutes a run at M).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SCALES=${2:-${CANBAO_BENCH_SCALES:-S}}
RUNS=${CANBAO_BENCH_RUNS:-3}
NOISE=${CANBAO_BENCH_NOISE:-0}   # identity noise of the generated data (synth --noise): linkage work
MEMORY=${CANBAO_BENCH_MEMORY:-}
MEMARG=()
[ -z "$MEMORY" ] || MEMARG=(--memory "$MEMORY")
ASOF=2026-11-28
ROOT=$PWD
VAR=$ROOT/var/bench
mkdir -p "$VAR"
source tests/lib/pg.sh
PG_HERE=$VAR/pg-$$
# the cluster holds a copy of every extract at M (several GB): stopped and removed at the end
trap 'pg_stop; rm -rf "$PG_HERE"' EXIT

# the generator's version: its sources' hash (the data of a scale is cached under it)
GENERATOR=$(cat tests/synth/*.c tests/synth/*.h 2>/dev/null | sha256sum | cut -c1-16)
persons_of() { case $1 in S) echo 700000 ;; M) echo 7000000 ;; L) echo 24000000 ;; *) echo "$1" ;; esac; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- (3) PostgreSQL COPY + SQL and (4) DuckDB: tools, and the untimed preparation
COMPARE=${BENCH_COMPARE:-1}
LISTS="unenrolled_eligible unenrolled_in_prison deceased_beneficiaries deceased_contributors prison_suspension
       double_enrolment approaching_benefit_age proof_of_life_due contribution_reconciliation township_staffing"
case $COMPARE in
    0 | 1 | duckdb) ;;
    *) echo "bench: BENCH_COMPARE is 1 (PostgreSQL and DuckDB), duckdb (DuckDB alone) or 0 (neither), not '$COMPARE'" >&2
       exit 2 ;;
esac
if [ "$COMPARE" != 0 ]; then
    command -v node >/dev/null && command -v npm >/dev/null && command -v python3 >/dev/null ||
        { echo "bench: the SQL comparison needs node, npm and python3 (BENCH_COMPARE=0 skips it)" >&2; exit 1; }
    export CANBAO_BENCH_NODE_MODULES=$ROOT/$BUILD/bench
    if [ ! -d "$CANBAO_BENCH_NODE_MODULES/node_modules/@duckdb/node-api" ]; then
        echo "bench: installing @duckdb/node-api into $BUILD/bench (make bench only)" >&2
        npm install --prefix "$CANBAO_BENCH_NODE_MODULES" --no-audit --no-fund --loglevel=error \
            "@duckdb/node-api@${CANBAO_BENCH_DUCKDB:-1.5.6-r.1}" >&2
    fi
fi
sec() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# CPU seconds PostgreSQL has used so far: the postmaster's own and its ended children's (which
# it has waited for: backends, autovacuum workers), and those of its children still running
pg_cpu() {
    local pm ticks
    pm=$(head -n 1 "$PG_HERE/pgdata/postmaster.pid")
    ticks=$(getconf CLK_TCK)
    # /proc/PID/stat after the command's name: state, parent, ... utime (12th), stime, cutime, cstime
    for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null || true; done | sed 's/^\([0-9]*\) .*) /\1 /' |
        awk -v pm="$pm" -v t="$ticks" '$1 == pm { s += $13 + $14 + $15 + $16 } $3 == pm { s += $13 + $14 }
                                        END { printf "%.2f", s / t }'
}
# After a night, PostgreSQL's autovacuum (the night's tables and events, once past their
# thresholds) and checkpointer have work of their own, done long before the next night; here the
# runs follow each other at once, and that work fell into the next floor and run (a third more
# PostgreSQL CPU in some runs).  So it is done at once after every run, before the next floor:
# VACUUM (ANALYZE) of the database and a CHECKPOINT, timed and reported on a line of their own,
# in no run's time.
maint=() mcpu=()
between_nights() {
    local c0 t0
    c0=$(pg_cpu)
    t0=$(date +%s.%N)
    psql -XAtq -c "VACUUM (ANALYZE)" -c "CHECKPOINT" >/dev/null
    maint+=("$(sec "$t0" "$(date +%s.%N)")")
    mcpu+=("$(awk -v a="$c0" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }')")
}
# XLSX (both) and XML (DuckDB) to TSV, once per data set: neither reads XLSX, DuckDB no XML
prepare_sql() {
    local data=$1 t0
    [ -f "$data/converted/.complete" ] && return 0
    t0=$(date +%s.%N)
    rm -rf "$data/converted"
    python3 tests/bench/prepare_convert.py "$data/extracts" connectors/agencies "$data/converted" >&2
    sec "$t0" "$(date +%s.%N)" >"$data/converted/.seconds"
    touch "$data/converted/.complete"
}
# (3) and (4) against canbao's lists of the last run: "yes" when all ten are equal
compare_lists() {
    local l d rows=0 ok=yes outs=(sql-out duckdb-out)
    [ "$COMPARE" = duckdb ] && outs=(duckdb-out)
    : >"$VAR/compare.log"
    for d in "${outs[@]}"; do
        for l in $LISTS; do
            if "$BUILD/csvdiff" "$VAR/$d/$l.csv" "$VAR/out/$l.csv" >>"$VAR/compare.log" 2>&1; then
                [ $d = "${outs[0]}" ] && rows=$((rows + $(wc -l <"$VAR/$d/$l.csv") - 1))
            else
                ok=no
            fi
        done
    done
    if [ $ok = yes ]; then echo "yes ($rows rows)"; else echo "NO (var/bench/compare.log)"; fi
}

pg_start "$PG_HERE" >/dev/null
"$BUILD/canbao" --quiet db migrate >/dev/null

report=$VAR/report.md
rm -f "$VAR/stages.txt"   # left by a run that stopped half-way
{
    echo "## $(date -u +%F) on $(nproc) cores, canbao $("$BUILD/canbao" --version | cut -d' ' -f2), medians of $RUNS runs"
    echo
    echo "| scale | persons | input MB | floor: inflate (s) | canbao run (s) | run / floor | peak RSS (MB, largest run) | PostgreSQL COPY+SQL (s) | DuckDB (s) | (3)/(2) | (4)/(2) | (2)=(3)=(4) |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >"$report"

for scale in $SCALES; do
    persons=$(persons_of "$scale")
    data=$VAR/data-$persons
    [ "$NOISE" = 0 ] || data=$data-noise$NOISE
    # made by this generator: data of an earlier one (other sources, other formats) is made again
    if [ ! -f "$data/.complete" ] || [ "$(cat "$data/.generator" 2>/dev/null)" != "$GENERATOR" ]; then
        echo "bench: generating $persons persons (once; cached in $data)" >&2
        rm -rf "$data"
        "$BUILD/synth" --persons "$persons" --seed 8 --asof $ASOF --noise "$NOISE" --out "$data" >/dev/null 2>&1
        echo "$GENERATOR" >"$data/.generator"
        touch "$data/.complete"
    fi
    files=("$data"/extracts/*)
    floor=() run=() rss=() pgsql=() duck=() split=() fcpu=() ccpu=() pcpu=()
    [ "$COMPARE" != 0 ] && prepare_sql "$data"
    rm -f "$VAR/stages-$scale"
    # The first night on a database registers every item it lists (list_items, and their
    # events: listed, then sent), which a bureau's database does once.  It is timed and reported
    # on a line of its own; the runs below, whose medians the table shows, are nights after it.
    rm -rf "$VAR/out" "$VAR/out.releases"
    t0=$(date +%s.%N)
    "$BUILD/canbao" run "${MEMARG[@]}" --asof $ASOF --extracts "$data/extracts" --out "$VAR/out" \
        >/dev/null 2>"$VAR/first.log" || { tail -n 20 "$VAR/first.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    grep -o 'event=timings.*' "$VAR/first.log" | awk -v scale="$scale" -v w="$(sec "$t0" "$t1")" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { printf "the first night at %s (the first run of these extracts on the cluster, which registers their items; before the timed runs): %.2f s; store %.2f, database %.2f, publish %.2f\n",
                     scale, w, v["store"], v["database"], v["publish"] }' >>"$VAR/stages.txt"
    echo "bench: $scale the first night: $(sec "$t0" "$t1") s" >&2
    maint=() mcpu=()
    between_nights
    for i in $(seq "$RUNS"); do
        /usr/bin/time -f '%U %S' -o "$VAR/floor-cpu" "$BUILD/bench-inflate" "${files[@]}" >"$VAR/floor"
        f=$(cat "$VAR/floor")
        fcpu+=("$(awk '{ printf "%.2f", $1 + $2 }' "$VAR/floor-cpu")")
        floor+=("$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$f")")
        mb=$(sed -n 's/.*bytes_out=\([0-9]*\).*/\1/p' <<<"$f")
        rm -rf "$VAR/out" "$VAR/out.releases"   # a fresh cluster numbers its runs from 1 again
        p0=$(pg_cpu)
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M %U %S' -o "$VAR/rss" "$BUILD/canbao" run "${MEMARG[@]}" --asof $ASOF \
            --extracts "$data/extracts" --out "$VAR/out" >/dev/null 2>"$VAR/run-$i.log"
        grep -o 'event=timings.*' "$VAR/run-$i.log" | sed 's/event=timings //' >>"$VAR/stages-$scale"
        t1=$(date +%s.%N)
        run+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
        rss+=("$(awk '{ print $1 }' "$VAR/rss")")
        ccpu+=("$(awk '{ printf "%.2f", $2 + $3 }' "$VAR/rss")")
        pcpu+=("$(awk -v a="$p0" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }')")
        echo "bench: $scale run $i: floor ${floor[-1]} s, canbao ${run[-1]} s, peak RSS $((rss[-1] / 1024)) MB;" \
             "CPU: floor ${fcpu[-1]} s, canbao ${ccpu[-1]} s, PostgreSQL ${pcpu[-1]} s" >&2
        between_nights
        if [ "$COMPARE" != 0 ]; then
            rm -rf "$VAR/sql-out" "$VAR/duckdb-out" "$VAR/duckdb-work"
            t0=$(date +%s.%N) t1=$t0
            if [ "$COMPARE" = 1 ]; then
                tests/bench/sql/run_pg.sh "$data/extracts" "$data/converted" "$VAR/sql-out" $ASOF \
                    >"$VAR/sql-$i.log" 2>&1 || { tail -n 20 "$VAR/sql-$i.log" >&2; exit 1; }
                t1=$(date +%s.%N)
                tests/bench/sql/run_pg.sh --drop
            else
                echo "not run (BENCH_COMPARE=duckdb): load=0 sql=0" >"$VAR/sql-$i.log"
            fi
            t1b=$(date +%s.%N)
            node tests/bench/duckdb/run.mjs "$data/extracts" "$data/converted" "$VAR/duckdb-work" \
                "$VAR/duckdb-out" $ASOF 2 >"$VAR/duckdb-$i.log" 2>&1 || { tail -n 20 "$VAR/duckdb-$i.log" >&2; exit 1; }
            t2=$(date +%s.%N)
            pgsql+=("$(sec "$t0" "$t1")") duck+=("$(sec "$t1b" "$t2")")
            split+=("$(sed -n 's/.*load=\([0-9.]*\) sql=\([0-9.]*\).*/\1 \2/p' "$VAR/sql-$i.log" "$VAR/duckdb-$i.log" | tr '\n' ' ')")
            echo "bench: $scale run $i: PostgreSQL ${pgsql[-1]} s ($(grep -o 'load=[0-9.]* sql=[0-9.]*' "$VAR/sql-$i.log")), DuckDB ${duck[-1]} s ($(grep -o 'load=[0-9.]* sql=[0-9.]*' "$VAR/duckdb-$i.log"))" >&2
        fi
    done
    F=$(printf '%s\n' "${floor[@]}" | median)
    R=$(printf '%s\n' "${run[@]}" | median)
    M=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n 1)   # a memory ceiling: the largest run
    if [ "$COMPARE" != 0 ]; then
        P=$(printf '%s\n' "${pgsql[@]}" | median) K=$(printf '%s\n' "${duck[@]}" | median)
        # with identity noise the SQL (exact IDs, no linkage) cannot find what canbao links
        if [ "${NOISE:-0}" = 0 ]; then EQ=$(compare_lists); else EQ="- (noise: no linkage in SQL)"; fi
        printf '%s\n' "${split[@]}" | awk -v scale="$scale" -v prep="$(cat "$data/converted/.seconds")" -v pg="$COMPARE" '
            function med(k,   i, j, t, a) { for (i = 1; i <= NR; i++) a[i] = v[i, k]
                                            for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                            return (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }
            { for (k = 1; k <= 4; k++) v[NR, k] = $k }
            END { if (pg != 1) printf "SQL comparison at %s (median s): PostgreSQL not run (BENCH_COMPARE=duckdb); DuckDB load %.2f + lists %.2f (load: the extracts to checked facts; lists: the lists and their files); preparation before the timed runs (XLSX and XML to TSV) %.2f\n",
                                 scale, med(3), med(4), prep
                  else printf "SQL comparison at %s (median s): PostgreSQL load %.2f + lists %.2f; DuckDB load %.2f + lists %.2f (load: the extracts to checked facts; lists: the lists and their files); preparation before the timed runs (XLSX and XML to TSV) %.2f\n",
                         scale, med(1), med(2), med(3), med(4), prep }' >>"$VAR/stages.txt"
    else
        P=0 K=0 EQ=-
    fi
    label=$scale
    [ -z "$MEMORY" ] || label="$scale, --memory $MEMORY"
    awk -v s="$label" -v p="$persons" -v mb="$mb" -v f="$F" -v r="$R" -v m="$M" -v pg="$P" -v dk="$K" -v eq="$EQ" \
        'BEGIN { printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.0f |", s, p, mb / 1e6, f, r, r / f, m / 1024
                 if (pg > 0) printf " %.2f | %.2f | %.1f | %.1f | %s |\n", pg, dk, pg / r, dk / r, eq
                 else if (dk > 0) printf " - | %.2f | - | %.1f | %s |\n", dk, dk / r, eq
                 else printf " - | - | - | - | - |\n" }' >>"$report"
    # each stage's median seconds and its share of the run; "store" is the wall time from the
    # rules to the commit, in which the files (write) and PostgreSQL (database) run at once
    awk -v scale="$scale" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2]; names[kv[1]] = 1 } n = NR }
        END {
            line = "stages at " scale " (median s, share):"
            split("read link group rules store publish write database", order, " ")
            for (k = 1; k <= 8; k++) {
                s = order[k]; m = 0
                for (r = 1; r <= n; r++) {          # insertion sort (mawk has no asort)
                    x = v[s, r] + 0; j = r - 1
                    while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- }
                    a[j + 1] = x
                }
                m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
                med[s] = m; if (k <= 6) tot += m
            }
            for (k = 1; k <= 6; k++) { s = order[k]; line = line sprintf(" %s %.2f (%.0f%%);", s, med[s], tot ? 100 * med[s] / tot : 0) }
            line = line sprintf(" within store, at once: write %.2f, database %.2f", med["write"], med["database"])
            print line
        }' "$VAR/stages-$scale" >>"$VAR/stages.txt"
    # Each run against the floor measured just before it: the machine's speed drifts from
    # minute to minute here (the floor itself moves by a third within a bench), and a ratio of
    # two numbers taken a few seconds apart drifts less than the ratio of the medians above.
    PAIRS=""
    for i in "${!run[@]}"; do PAIRS+="$(awk -v r="${run[$i]}" -v f="${floor[$i]}" 'BEGIN { printf "%.2f", (f > 0 ? r / f : 0) }') "; done
    awk -v scale="$scale" -v list="$PAIRS" -v m="$(printf '%s\n' $PAIRS | median)" 'BEGIN {
        n = split(list, a, " "); s = ""
        for (i = 1; i <= n; i++) s = s (i > 1 ? ", " : "") a[i]
        printf "run / floor at %s, each run against the floor just before it: %s; median %.2f\n", scale, s, m }' >>"$VAR/stages.txt"
    # CPU seconds, less moved by other work on the machine than wall time: the two cores'
    # budget for (2) <= 2 x (1) is four times the floor's CPU.  PostgreSQL's: its backends and
    # any autovacuum during the run (the last night's is done before it, between_nights).
    FC=$(printf '%s\n' "${fcpu[@]}" | median) CC=$(printf '%s\n' "${ccpu[@]}" | median)
    PC=$(printf '%s\n' "${pcpu[@]}" | median)
    CPAIRS=""
    for i in "${!ccpu[@]}"; do
        CPAIRS+="$(awk -v c="${ccpu[$i]}" -v p="${pcpu[$i]}" -v f="${fcpu[$i]}" 'BEGIN { printf "%.2f", (f > 0 ? (c + p) / f : 0) }') "
    done
    awk -v scale="$scale" -v f="$FC" -v c="$CC" -v p="$PC" -v pm="$(printf '%s\n' $CPAIRS | median)" 'BEGIN {
        printf "CPU at %s (median s): floor %.2f; canbao %.2f + PostgreSQL %.2f = %.2f, %.2f x the floor'"'"'s (two cores at 2 x the floor: 4); each run against its floor: median %.2f x\n",
               scale, f, c, p, c + p, (f > 0 ? (c + p) / f : 0), pm }' >>"$VAR/stages.txt"
    awk -v scale="$scale" -v w="$(printf '%s\n' "${maint[@]}" | median)" -v c="$(printf '%s\n' "${mcpu[@]}" | median)" 'BEGIN {
        printf "between the nights at %s (after each run, before the next floor: VACUUM (ANALYZE) and CHECKPOINT, what autovacuum and the checkpointer do after a night; in no run'"'"'s time): median %.2f s, PostgreSQL CPU %.2f s\n",
               scale, w, c }' >>"$VAR/stages.txt"
    # the identity step of the runs (their event=linkage lines): candidate pairs, median time
    for i in $(seq "$RUNS"); do grep -o 'event=linkage .*' "$VAR/run-$i.log" || true; done | awk -v scale="$scale" -v noise="$NOISE" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          s[NR] = v["seconds"] + 0; c[NR] = v["cpu_seconds"] + 0; n = NR }
        END { if (n == 0) exit
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                  if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
                  if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t } }
              m = int((n + 1) / 2)
              printf "linkage at %s (noise %s): records to link %s, candidate pairs %s, link %.2f s (CPU %.2f s); blocks refined %s, skipped %s (%s pairs), records on a fallback block %s\n",
                     scale, noise, v["pending"], v["candidate_pairs"], s[m], c[m], v["refined_keys"], v["skipped_blocks"],
                     v["skipped_pairs"], v["fallback_records"] }' >>"$VAR/stages.txt"
    # The next night: the runs above are one night, and a rerun of a night changes no item; a
    # bureau runs a new as-of date every night.  The same extracts a day later, on the same
    # cluster: what lets items go or writes them again on each new date shows here.
    next=$(date -u -d "$ASOF + 1 day" +%F)
    rm -rf "$VAR/out" "$VAR/out.releases"
    t0=$(date +%s.%N)
    "$BUILD/canbao" run "${MEMARG[@]}" --asof "$next" --extracts "$data/extracts" --out "$VAR/out" \
        >/dev/null 2>"$VAR/next.log" || { tail -n 20 "$VAR/next.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    grep -o 'event=timings.*' "$VAR/next.log" | awk -v scale="$scale" -v d="$next" -v w="$(sec "$t0" "$t1")" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { printf "the next night at %s (the same extracts as of %s, one run): %.2f s; store %.2f, database %.2f, publish %.2f\n",
                     scale, d, w, v["store"], v["database"], v["publish"] }' >>"$VAR/stages.txt"
    echo "bench: $scale the next night ($next): $(sec "$t0" "$t1") s" >&2
    # CANBAO_BENCH_NIGHTS=N: N more nights on the cluster, a day apart, the same extracts: does a
    # night's database work grow with the nights kept?  The database stage and the database's
    # size after each night; the first ten nights against the last ten.
    nights=${CANBAO_BENCH_NIGHTS:-0}
    if [ "$nights" -gt 0 ]; then
        : >"$VAR/nights.txt"
        for n in $(seq "$nights"); do
            d=$(date -u -d "$next + $n day" +%F)
            rm -rf "$VAR/out" "$VAR/out.releases"
            "$BUILD/canbao" run "${MEMARG[@]}" --asof "$d" --extracts "$data/extracts" --out "$VAR/out" \
                >/dev/null 2>"$VAR/night.log" || { tail -n 20 "$VAR/night.log" >&2; exit 1; }
            echo "$(grep -o 'event=timings.*' "$VAR/night.log" | grep -o 'database=[0-9.]*' | cut -d= -f2)" \
                 "$(psql -XAtq -c "SELECT pg_database_size(current_database())")" >>"$VAR/nights.txt"
            echo "bench: $scale night $n of $nights ($d): database $(tail -n 1 "$VAR/nights.txt")" >&2
        done
        awk -v scale="$scale" -v n="$nights" '
            { db[NR] = $1; size[NR] = $2 }
            END { k = n < 10 ? n : 10
                  for (i = 1; i <= k; i++) { a += db[i]; b += db[n - k + i] }
                  printf "%d more nights at %s (a day apart, the same extracts): the database stage %.2f s on average over the first %d, %.2f s over the last %d; the database grew %.0f MB a night (%.0f MB after them)\n",
                         n, scale, a / k, k, b / k, k, (size[n] - size[1]) / (n > 1 ? n - 1 : 1) / 1048576, size[n] / 1048576 }' \
            "$VAR/nights.txt" >>"$VAR/stages.txt"
    fi
done
echo >>"$report"
[ -f "$VAR/stages.txt" ] && { cat "$VAR/stages.txt" >>"$report"; rm -f "$VAR/stages.txt"; echo >>"$report"; }
cat "$report"
{ echo; cat "$report"; } >>tests/bench/RESULTS.md
