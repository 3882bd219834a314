#!/usr/bin/env bash
# canbao test suite: unit tests, then integration and end-to-end tests against a private
# PostgreSQL 15 cluster started here and stopped on exit (also when a test fails).
#
#   tests/run-tests.sh [BUILD_DIR]
#
# Prints one line per test and ends with "N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROOT=$PWD
CANBAO="$ROOT/$BUILD/canbao"
SYNTH="$ROOT/$BUILD/synth"
CSVDIFF="$ROOT/$BUILD/csvdiff"
ASOF=2026-11-28
PERSONS=${CANBAO_TEST_PERSONS:-20000}

source tests/lib/pg.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/canbao-test.XXXXXX")
kill_tree() {   # kill_tree PID: the process and all its descendants
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$c"; done
    kill "$1" 2>/dev/null
}
cleanup() {
    [ -n "${UNIT_PID:-}" ] && kill_tree "$UNIT_PID"
    pg_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
# what took the time: each section's seconds, and the slowest tests (the time since the test
# before ended), printed at the end; under valgrind they tell what CI's time goes to
ms_now() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
T_START=$(ms_now)
T_LAST=$T_START
T_SECTION=
T_SECTION_START=$T_START
T_SECTIONS=()
T_TESTS="$TMP/test-times"
: >"$T_TESTS"
took() {   # took NAME: the time since the last test, to T_TESTS
    local now
    now=$(ms_now)
    printf '%d\t%s\n' $((now - T_LAST)) "$1" >>"$T_TESTS"
    T_LAST=$now
}
section() {   # section TITLE: a section begins (the one before ends)
    local now
    now=$(ms_now)
    [ -n "$T_SECTION" ] && T_SECTIONS+=("$(printf '%7.1fs  %s' "$(((now - T_SECTION_START) / 100))e-1" "$T_SECTION")")
    T_SECTION=$1
    T_SECTION_START=$now
    T_LAST=$now
    [ -n "$1" ] && echo "== $1"
}
times_report() {
    section ""
    echo
    echo "time by section ($(( ($(ms_now) - T_START) / 1000 ))s in all):"
    printf '  %s\n' "${T_SECTIONS[@]}"
    echo "slowest tests:"
    sort -t $'\t' -k1,1nr "$T_TESTS" | head -n 12 |
        while IFS=$'\t' read -r ms name; do printf '  %7.1fs  %s\n' "$((ms / 100))e-1" "$name"; done
}
ok()   { passed=$((passed + 1)); echo "ok     $1"; took "$1"; }
fail() { failed=$((failed + 1)); echo "FAILED $1"; [ $# -gt 1 ] && sed 's/^/       /' <<<"$2"; took "$1"; }

# check NAME CMD... : passes when CMD exits 0
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$(tail -n 25 <<<"$out")"; fi
}
# check_exit NAME CODE PATTERN CMD... : passes when CMD exits CODE and its output has PATTERN
check_exit() {
    local name=$1 want=$2 pattern=$3; shift 3
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then ok "$name"
    else fail "$name" "exit $rc (wanted $want), output:"$'\n'"$(tail -n 15 <<<"$out")"; fi
}
sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

section "unit tests"
# side by side, CANBAO_TEST_JOBS at a time (default: the cores), the longest first so that the
# lanes end together; the results in name order, each with its own time.  With
# CANBAO_TEST_UNITS_BESIDE=1 (make test-valgrind: valgrind runs a program on one core, and the
# rest of the suite leaves the other idle) they run one at a time beside the rest of the suite,
# and their results come at its end.
UNIT_OUT="$TMP/unit"
mkdir -p "$UNIT_OUT"
unit_tests=()
for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && unit_tests+=("$t"); done
unit_one() {   # unit_one TEST: its output, exit code and milliseconds to UNIT_OUT
    local n t0 rc
    n=$(basename "$1")
    t0=$(ms_now)
    "$1" >"$UNIT_OUT/$n.out" 2>&1
    rc=$?
    echo "$rc $(($(ms_now) - t0))" >"$UNIT_OUT/$n.rc"
}
unit_start() {   # unit_start JOBS: the unit tests, in the background (UNIT_PID)
    local order=() n t running=0
    for n in test_linkage test_manifest test_csv test_pieces test_xlsx test_out_xlsx test_jsonl test_group; do
        [ -x "$BUILD/tests/$n" ] && order+=("$BUILD/tests/$n")
    done
    for t in "${unit_tests[@]}"; do
        case " ${order[*]} " in *" $t "*) ;; *) order+=("$t") ;; esac
    done
    (
        t0=$(ms_now)
        for t in "${order[@]}"; do
            if [ "$running" -ge "$1" ]; then
                wait -n
                running=$((running - 1))
            fi
            unit_one "$t" &
            running=$((running + 1))
        done
        wait
        echo $(($(ms_now) - t0)) >"$UNIT_OUT/all.ms"
    ) &
    UNIT_PID=$!
}
unit_report() {   # waits for the unit tests, then one line each
    local t n rc ms
    wait "$UNIT_PID"
    UNIT_PID=
    for t in "${unit_tests[@]}"; do
        n=$(basename "$t")
        read -r rc ms 2>/dev/null <"$UNIT_OUT/$n.rc" || { rc="none"; ms=0; }
        if [ "$rc" = 0 ]; then ok "unit $n"; else fail "unit $n" "exit $rc:"$'\n'"$(tail -n 25 "$UNIT_OUT/$n.out")"; fi
        sed -i '$d' "$T_TESTS"   # its own time, not the time since the test before
        printf '%d\t%s\n' "$ms" "unit $n" >>"$T_TESTS"
    done
}
UNIT_PID=
if [ "${CANBAO_TEST_UNITS_BESIDE:-0}" = 1 ]; then
    unit_start 1
    echo "note   ${#unit_tests[@]} unit tests run one at a time beside the rest; their results at the end"
else
    unit_start "${CANBAO_TEST_JOBS:-$(nproc)}"
    unit_report
fi

section "private PostgreSQL"
if ! pg_start "$TMP/pg"; then
    fail "start private PostgreSQL"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "start private PostgreSQL 15 ($(psql -XAtqc 'show server_version'))"

section "command line"
check_exit "--version" 0 '^canbao [0-9]' "$CANBAO" --version
check_exit "--help" 0 'Exit codes' "$CANBAO" --help
check_exit "run --help" 0 'Usage: canbao run' "$CANBAO" run --help
check_exit "db --help" 0 'Usage: canbao db migrate' "$CANBAO" db --help
check_exit "check-extracts --help" 0 'Usage: canbao check-extracts' "$CANBAO" check-extracts --help
check_exit "unknown command is a usage error" 2 'unknown command' "$CANBAO" frobnicate
check_exit "run without --asof is a usage error" 2 'needs --asof' "$CANBAO" run --extracts x --out y
check_exit "bad --asof is a usage error" 2 'YYYY-MM-DD' "$CANBAO" run --asof 2026-13-01 --extracts x --out y

section "schema"
check_exit "run before migrate says to migrate" 4 'canbao db migrate' \
    "$CANBAO" run --asof $ASOF --extracts "$TMP" --out "$TMP/o"
check_exit "db migrate applies the migrations" 0 'migrations? applied now' "$CANBAO" db migrate
check_exit "db migrate again applies nothing" 0 '\(0 migrations applied now\)' "$CANBAO" db migrate
check "ledger tables exist" sql "SELECT 1 FROM canbao.runs, canbao.source_files, canbao.rejects, canbao.list_rows, canbao.list_evidence LIMIT 0"
check_exit "--db with a conninfo works" 0 'up to date' "$CANBAO" db migrate --db "host=$PGHOST port=$PGPORT dbname=canbao user=canbao"
check_exit "unreachable database is a database error" 4 'could not connect' \
    "$CANBAO" db migrate --db "host=$TMP/nonexistent port=1 dbname=x connect_timeout=2"
# a server that takes the connection and never answers (its postmaster stopped): the connect
# timeout of --db or PGCONNECT_TIMEOUT (2 s) is the one kept, not canbao's default of 10 s
silent_server() {   # silent_server CMD...: CMD with the postmaster stopped, within 9 s
    local pid rc
    pid=$(head -n 1 "$PG_DIR/pgdata/postmaster.pid")
    kill -STOP "$pid"
    timeout 9 "$@"
    rc=$?
    kill -CONT "$pid"
    return $rc
}
check_exit "a connect_timeout in --db is kept" 4 'timeout expired' \
    silent_server "$CANBAO" db migrate --db "host=$PGHOST port=$PGPORT dbname=canbao connect_timeout=2"
check_exit "PGCONNECT_TIMEOUT is kept" 4 'timeout expired' \
    silent_server env PGCONNECT_TIMEOUT=2 "$CANBAO" db migrate

section "end to end on generated data ($PERSONS persons, as of $ASOF)"
DATA="$TMP/data"
check "generate synthetic Yanji" "$SYNTH" --persons "$PERSONS" --seed 42 --asof $ASOF --out "$DATA"
OUT="$TMP/out"
runlog="$TMP/run.log"
if "$CANBAO" run --asof $ASOF --extracts "$DATA/extracts" --out "$OUT" >"$runlog" 2>&1; then
    ok "canbao run succeeds"
else
    fail "canbao run succeeds" "$(tail -n 20 "$runlog")"
fi
for truth in "$DATA"/truth/*.csv; do
    name=$(basename "$truth" .csv)
    case $name in counts|hidden_links) continue ;; esac
    if [ -f "$OUT/$name.csv" ]; then
        check "list $name equals the truth" "$CSVDIFF" "$truth" "$OUT/$name.csv"
    fi
done
check "the core lists are produced" test -f "$OUT/unenrolled_eligible.csv" -a -f "$OUT/deceased_beneficiaries.csv"
check "full 18-digit IDs in column id_number" \
    awk -F, 'NR==1 { if ($1 != "id_number") exit 1; next } length($1) != 18 { exit 1 }' "$OUT/unenrolled_eligible.csv"

# every file: read = accepted + duplicates + rejected, and the generator's injected counts
reconcile() {   # reconcile [DATA OUT]
    local data=${1:-$DATA} out=${2:-$OUT}
    awk -F, 'NR == FNR { if (FNR > 1) { rec[$1] = $2; bad[$1] = $3; dup[$1] = $4 }; next }
             FNR == 1 { next }
             { n++; if ($7 != $8 + $9 + $10) { print "unbalanced " $4; e = 1 }
               if (!($4 in rec)) { print "not in truth: " $4; e = 1; next }
               if ($7 != rec[$4] || $10 != bad[$4] || $9 != dup[$4]) {
                   print $4 ": read " $7 " rejected " $10 " duplicates " $9 \
                         "; generator wrote " rec[$4] " with " bad[$4] " malformed, " dup[$4] " duplicates"; e = 1 } }
             END { if (n == 0) { print "no files"; e = 1 }; exit e }' "$data/truth/counts.csv" "$out/files.csv"
}
check "ledger counts reconcile with what the generator injected" reconcile

# An Excel source longer than a sheet comes as several workbooks (name_D.xlsx, name_D_2.xlsx,
# ...): the same delivery cut into workbooks of 50 records gives every file's counts and the
# same lists.
parts_run() {
    local p="$TMP/parts" truth name n
    "$SYNTH" --persons "$PERSONS" --seed 42 --asof $ASOF --out "$p" --xlsx-part-rows 50 >/dev/null 2>&1 ||
        { echo "synth failed"; return 1; }
    n=$(find "$p/extracts" -name '*_2.xlsx' | wc -l)
    [ "$n" -ge 2 ] || { echo "only $n sources in parts"; return 1; }
    "$PG_BIN/createdb" canbao_parts || return 1
    PGDATABASE=canbao_parts "$CANBAO" --quiet db migrate >/dev/null || return 1
    PGDATABASE=canbao_parts "$CANBAO" run --asof $ASOF --extracts "$p/extracts" --out "$p/out" \
        >"$p/run.log" 2>&1 || { tail -n 5 "$p/run.log"; return 1; }
    reconcile "$p" "$p/out" || return 1
    for truth in "$p"/truth/*.csv; do
        name=$(basename "$truth" .csv)
        case $name in counts|hidden_links) continue ;; esac
        cmp "$truth" "$DATA/truth/$name.csv" || return 1
        [ ! -f "$OUT/$name.csv" ] || "$CSVDIFF" "$truth" "$p/out/$name.csv" || return 1
    done
}
check "an Excel source in several workbooks: every file reconciles, the same lists" parts_run
# the generator's truth and counts, recomputed from the extracts by a reader of its own
# (Python, through the connector definitions), on the delivery in parts
check "crosscheck.py: an independent reader gives the generator's truth and counts" \
    python3 tests/synth/crosscheck.py "$TMP/parts" $ASOF connectors/agencies

db_matches_csv() {
    local l rows csv
    for f in "$OUT"/*.csv; do
        l=$(basename "$f" .csv)
        case $l in rejects|files|links|township_[0-9]*|alerts_*|report_*) continue ;; esac
        csv=$(($(wc -l <"$f") - 1))
        rows=$(sql "SELECT count(*) FROM canbao.list_rows r JOIN canbao.runs u USING (run_id)
                    WHERE u.state = 'succeeded' AND r.list_name = '$l'
                      AND r.run_id = (SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded')")
        [ "$rows" = "$csv" ] || { echo "$l: database $rows rows, CSV $csv"; return 1; }
    done
    local rj
    rj=$(sql "SELECT count(*) FROM canbao.rejects WHERE run_id = (SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded')")
    local want
    want=$(awk -F, 'NR > 1 { s += $10 } END { print s + 0 }' "$OUT/files.csv")
    [ "$rj" = "$want" ] || { echo "rejects: database $rj, files.csv says $want"; return 1; }
}
check "database holds the same rows as the CSV files" db_matches_csv
# a row's rule, rule-set version and ID number are stored once, in the row's own columns, and
# canbao.list_row_columns gives back every row as its CSV has it (schema/009)
db_rows_as_published() {
    psql -XAtq -v ON_ERROR_STOP=1 -F $'\x1f' -c "SELECT list_name, row_no, canbao.list_row_columns(l)::text,
            columns ?| array['rule', 'rule_version'] OR (id_number IS NOT NULL AND columns ? 'id_number')
          FROM canbao.list_rows l WHERE run_id = (SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded')
         ORDER BY 1, 2" >"$TMP/rows.db" || return 1
    python3 - "$OUT" "$TMP/rows.db" <<'EOF'
import csv, json, os, sys
out, db = sys.argv[1], sys.argv[2]
got, twice = {}, 0
for line in open(db, encoding="utf-8"):
    name, row, cols, rep = line.rstrip("\n").split("\x1f")
    got.setdefault(name, {})[int(row)] = json.loads(cols)
    twice += rep == "t"
if twice:
    sys.exit(f"{twice} rows hold a value of their own columns in columns again")
n = 0
for name in sorted(got):
    with open(os.path.join(out, name + ".csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(got[name]):
        sys.exit(f"{name}: CSV {len(rows)} rows, database {len(got[name])}")
    for i, r in enumerate(rows, 1):
        r.pop("evidence", None)
        if got[name].get(i) != r:
            sys.exit(f"{name} row {i}: CSV {r}, database {got[name].get(i)}")
        n += 1
if n == 0:
    sys.exit("no list rows")
EOF
}
check "every list row comes back from the database as its CSV has it, its own columns stored once" db_rows_as_published
check "every list row has evidence" test "$(sql "SELECT count(*) FROM canbao.list_rows r WHERE NOT EXISTS
    (SELECT 1 FROM canbao.list_evidence e WHERE (e.run_id, e.list_name, e.row_no) = (r.run_id, r.list_name, r.row_no))")" = 0
check "ledger row says succeeded with the rule-set hash" test "$(sql "SELECT count(*) FROM canbao.runs
    WHERE state = 'succeeded' AND length(ruleset_sha256) = 64 AND finished_at IS NOT NULL")" = 1
check "database agrees: sum of records = accepted + duplicates + rejected" test "$(sql "SELECT count(*) FROM canbao.source_files
    WHERE records_read <> accepted + duplicates + rejected")" = 0
# a run's rows are checked set-wise before its commit (schema/006): a dangling one is refused,
# by name; run_delete removes everything a run stored (in a transaction rolled back here)
run_check_refuses() {
    local r msg
    r=$(sql "SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded'")
    sql "SELECT canbao.run_check($r)" >/dev/null || { echo "run_check refused a good run"; return 1; }
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "INSERT INTO canbao.list_evidence
            (run_id, list_name, row_no, file_no, record_no, fact_kind) VALUES ($r, 'unenrolled_eligible', 99999999, 0, 1, 'x')" \
          -c "SELECT canbao.run_check($r)" -c "ROLLBACK" 2>&1) && { echo "dangling evidence accepted"; return 1; }
    grep -q "evidence of unenrolled_eligible row 99999999: no such list row" <<<"$msg" || { echo "$msg"; return 1; }
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "UPDATE canbao.run_items SET item_id = -7
            WHERE run_id = $r AND row_no = 1 AND list_name = 'unenrolled_eligible'" \
          -c "SELECT canbao.run_check($r)" -c "ROLLBACK" 2>&1) && { echo "dangling run item accepted"; return 1; }
    grep -q "no such item -7" <<<"$msg" || { echo "$msg"; return 1; }
    # schema/010 checks the numbers first: a file out of range, and a gap in a list's rows,
    # are searched and named; a gap that nothing points into is no dangling reference
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "UPDATE canbao.list_evidence SET file_no = 999
            WHERE run_id = $r AND list_name = 'unenrolled_eligible' AND row_no = 2" \
          -c "SELECT canbao.run_check($r)" -c "ROLLBACK" 2>&1) && { echo "evidence of a missing file accepted"; return 1; }
    grep -q "evidence of unenrolled_eligible row 2: no such file 999" <<<"$msg" || { echo "$msg"; return 1; }
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "DELETE FROM canbao.list_rows
            WHERE run_id = $r AND list_name = 'unenrolled_eligible' AND row_no = 3" \
          -c "SELECT canbao.run_check($r)" -c "ROLLBACK" 2>&1) && { echo "evidence of a deleted row accepted"; return 1; }
    grep -q "evidence of unenrolled_eligible row 3: no such list row" <<<"$msg" || { echo "$msg"; return 1; }
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" \
            -c "DELETE FROM canbao.list_evidence WHERE run_id = $r AND list_name = 'unenrolled_eligible' AND row_no = 3" \
            -c "DELETE FROM canbao.run_items WHERE run_id = $r AND list_name = 'unenrolled_eligible' AND row_no = 3" \
            -c "DELETE FROM canbao.list_rows WHERE run_id = $r AND list_name = 'unenrolled_eligible' AND row_no = 3" \
            -c "SELECT canbao.run_numbers_hold($r)" -c "SELECT canbao.run_check($r)" -c "ROLLBACK" 2>&1) ||
        { echo "a gap nothing points into refused: $msg"; return 1; }
    grep -qx "f" <<<"$msg" || { echo "a gap in the numbers not seen: $msg"; return 1; }
    msg=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT canbao.run_delete($r)" -c "SELECT
            (SELECT count(*) FROM canbao.list_rows WHERE run_id = $r) + (SELECT count(*) FROM canbao.list_evidence WHERE run_id = $r)
          + (SELECT count(*) FROM canbao.run_items WHERE run_id = $r) + (SELECT count(*) FROM canbao.source_files WHERE run_id = $r)
          + (SELECT count(*) FROM canbao.rejects WHERE run_id = $r) + (SELECT count(*) FROM canbao.runs WHERE run_id = $r)" \
          -c "ROLLBACK" 2>&1) || { echo "$msg"; return 1; }
    [ "$(sed -n 2p <<<"$msg")" = 0 ] || { echo "run_delete left rows: $msg"; return 1; }
}
check "run_check refuses dangling rows by name; run_delete removes a run's rows" run_check_refuses
# schema/013: a night ANALYZEs a table only when autovacuum would (never analysed, or changed by
# more than 50 rows + a tenth of it), counting its own transaction's changes so far
analyze_when_stale() {
    local got q="SELECT canbao.analyze_if_stale('canbao.stale_probe'::regclass)" flush="SELECT pg_stat_force_next_flush()"
    # one backend: its counts of the transactions before reach the shared statistics when it
    # is next idle, at once after pg_stat_force_next_flush
    got=$(psql -XAtq -v ON_ERROR_STOP=1 -c "CREATE TABLE canbao.stale_probe (x int)" \
              -c "INSERT INTO canbao.stale_probe SELECT generate_series(1, 1000)" -c "$flush" -c "$q" \
              -c "BEGIN" -c "INSERT INTO canbao.stale_probe SELECT generate_series(1, 100)" -c "$q" -c "COMMIT" \
              -c "$flush" \
              -c "BEGIN" -c "INSERT INTO canbao.stale_probe SELECT generate_series(1, 60)" -c "$q" -c "COMMIT" \
              -c "$flush" -c "SELECT analyze_count || ' ' || n_mod_since_analyze FROM pg_stat_user_tables
                               WHERE relid = 'canbao.stale_probe'::regclass" 2>&1 | grep -v '^$' | tr '\n' ' ')
    sql "DROP TABLE IF EXISTS canbao.stale_probe" >/dev/null
    # never analysed: yes; 100 of 1,000 rows: no; 100 + 60 > 50 + 100: yes; two ANALYZEs, and
    # the last transaction's 60 rows count as changed since (as autovacuum counts them)
    [ "$got" = "t f t 2 60 " ] || { echo "got: $got"; return 1; }
}
check "a night analyses a table only when autovacuum would: never analysed, or changed by a tenth" analyze_when_stale
# schema/014: no index of list_items names the state (as key, expression or predicate), so that
# the nightly changes of state can be heap-only updates
state_not_indexed() {
    local got
    got=$(sql "SELECT count(*) FILTER (WHERE pg_get_indexdef(indexrelid) ~ '\\mstate\\M') || ' ' || count(*)
                 FROM pg_index WHERE indrelid = 'canbao.list_items'::regclass")
    [ "${got%% *}" = 0 ] && [ "${got##* }" -ge 3 ] || { echo "indexes naming state, of all: $got"; return 1; }
}
check "no index of list_items names the state: a change of state is written in place" state_not_indexed
# schema/015: a night's rows are tables of their own, attached to list_rows, list_evidence and
# run_items with their indexes, and analysed; run_delete drops them whole
night_tables() {
    local r t got kind bound only all pidx idx stats
    r=$(sql "SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded'")
    for t in list_rows list_evidence run_items; do
        got=$(sql "SELECT c.relkind::text || '|' || pg_get_expr(p.relpartbound, p.oid) || '|' ||
                          (SELECT count(*) FROM ONLY canbao.${t}_$r) || '|' ||
                          (SELECT count(*) FROM canbao.$t WHERE run_id = $r) || '|' ||
                          (SELECT count(*) FROM pg_index WHERE indrelid = c.oid) || '|' ||
                          (SELECT count(*) FROM pg_index WHERE indrelid = p.oid) || '|' ||
                          (SELECT count(*) FROM pg_stats WHERE schemaname = 'canbao' AND tablename = '${t}_$r'
                                                          AND attname = 'run_id')
                     FROM pg_class c, pg_class p
                    WHERE c.oid = 'canbao.$t'::regclass AND p.oid = 'canbao.${t}_$r'::regclass") || return 1
        IFS='|' read -r kind bound only all pidx idx stats <<<"$got"
        [ "$kind" = p ] && [ "$bound" = "FOR VALUES FROM ('$r') TO ('$((r + 1))')" ] && [ "$only" -gt 0 ] &&
            [ "$only" = "$all" ] && [ "$pidx" -ge 1 ] && [ "$idx" = "$pidx" ] && [ "$stats" = 1 ] ||
            { echo "$t of run $r: kind|bound|rows of its own|of the run|indexes of $t|of its own|analysed: $got"
              return 1; }
    done
    got=$(psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT canbao.run_delete($r)" \
            -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'canbao'::regnamespace
                  AND relname IN ('list_rows_$r', 'list_evidence_$r', 'run_items_$r')" -c "ROLLBACK" 2>&1) ||
        { echo "$got"; return 1; }
    [ "$(sed -n 2p <<<"$got")" = 0 ] || { echo "run_delete left the night's tables: $got"; return 1; }
}
check "a night's rows are tables of their own: attached, indexed, analysed; run_delete drops them" night_tables
# schema/015 on a database with nights stored before it (this database's, copied into one at
# 014): they stay (a partition of their own), the views read them as before, and the next night
# goes into tables of its own
upgrade_015() {
    local home=$TMP/home014 db=canbao_upgrade q before after r2 got f t
    mkdir -p "$home/schema"
    ln -sfn "$ROOT/connectors" "$home/connectors"
    ln -sfn "$ROOT/rules" "$home/rules"
    for f in "$ROOT"/schema/*; do
        case ${f##*/} in [0-9][0-9][0-9]_*) [ "${f##*/}" \< 015_ ] || continue ;; esac
        ln -sf "$f" "$home/schema/"
    done
    sql "CREATE DATABASE $db" >/dev/null &&
        PGDATABASE=$db CANBAO_HOME=$home "$CANBAO" --quiet db migrate >/dev/null || { echo "migrating to 014 failed"; return 1; }
    for t in runs source_files list_items list_rows list_evidence run_items; do
        psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy (SELECT * FROM canbao.$t) to '$TMP/up_$t.copy'" &&
            PGDATABASE=$db psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy canbao.$t from '$TMP/up_$t.copy'" ||
            { echo "copying $t into the database at 014 failed"; return 1; }
    done
    PGDATABASE=$db sql "SELECT setval('canbao.runs_run_id_seq', max(run_id)) FROM canbao.runs;
                        SELECT setval('canbao.list_items_item_id_seq', max(item_id)) FROM canbao.list_items" >/dev/null ||
        return 1
    q="SELECT (SELECT count(*) FROM canbao.list_evidence) || ':' || (SELECT count(*) FROM canbao.run_items)
              || ':' || (SELECT count(*) FROM canbao.township_rows) || ':' || count(*) || ':'
              || md5(string_agg(canbao.list_row_columns(l)::text, ',' ORDER BY run_id, list_name, row_no))
         FROM canbao.list_rows l"
    before=$(PGDATABASE=$db sql "$q") && [ "$(PGDATABASE=$db sql "SELECT count(*) FROM canbao.list_rows")" -gt 0 ] &&
        PGDATABASE=$db "$CANBAO" --quiet db migrate >/dev/null && after=$(PGDATABASE=$db sql "$q") ||
        { echo "migrating to 015 failed"; return 1; }
    [ "$before" = "$after" ] || { echo "before 015: $before; after: $after"; return 1; }
    got=$(PGDATABASE=$db sql "SELECT string_agg(n.nspname || '.' || c.relname, ' ' ORDER BY c.relname)
                               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                               JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE i.inhparent IN ('canbao.list_rows'::regclass, 'canbao.list_evidence'::regclass,
                                                    'canbao.run_items'::regclass)")
    [ "$got" = "canbao.list_evidence_history canbao.list_rows_history canbao.run_items_history" ] ||
        { echo "partitions after 015: $got"; return 1; }
    PGDATABASE=$db "$CANBAO" --quiet run --asof 2026-11-29 --extracts "$DATA/extracts" --out "$TMP/up1" \
        >/dev/null 2>&1 || { echo "the night after 015 failed"; return 1; }
    r2=$(PGDATABASE=$db sql "SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded'")
    got=$(PGDATABASE=$db sql "SELECT (SELECT count(*) FROM ONLY canbao.list_rows_$r2) || ':' ||
                                     (SELECT count(*) FROM canbao.list_rows WHERE run_id = $r2) || ':' ||
                                     (SELECT count(*) FROM ONLY canbao.list_rows_history WHERE run_id = $r2)")
    [[ $got =~ ^([1-9][0-9]*):([1-9][0-9]*):0$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
        { echo "the night after 015 (own:all:in the history): $got"; return 1; }
    # run_delete: the old night's rows deleted from the history, the new night's tables dropped
    got=$(PGDATABASE=$db psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" \
            -c "SELECT canbao.run_delete(run_id) FROM canbao.runs" \
            -c "SELECT (SELECT count(*) FROM canbao.list_rows) + (SELECT count(*) FROM canbao.run_items)
                     + (SELECT count(*) FROM canbao.list_evidence) + (SELECT count(*) FROM pg_inherits
                        WHERE inhparent = 'canbao.list_rows'::regclass)" -c "ROLLBACK" 2>&1) ||
        { echo "$got"; return 1; }
    [ "$(tail -n 1 <<<"$got")" = 1 ] || { echo "after run_delete of every run (rows + partitions, the history's 1): $got"; return 1; }
    sql "DROP DATABASE $db" >/dev/null
}
check "migration 015 keeps the nights stored before it and the views over them; the next night has its own tables" upgrade_015

# same inputs, same as-of date: byte-identical lists
OUT2="$TMP/out2"
"$CANBAO" --quiet run --asof $ASOF --extracts "$DATA/extracts" --out "$OUT2" >/dev/null 2>&1
# (alerts say "repeated" the second time and the report carries timings: the outputs section
# checks those files)
check "a second run gives byte-identical files" diff -r -x 'alerts_*' -x 'report_*' -x SHA256SUMS "$OUT" "$OUT2"

section "operations"
check_exit "canbao status after a good run" 0 'last run: [0-9]+ for 2026-11-28, succeeded' "$CANBAO" status
check_exit "canbao runs lists the ledger" 0 'succeeded' "$CANBAO" runs --limit 5
# another session holds the run lock: a second run must refuse with its own exit code
psql -XAtq -c "SELECT pg_advisory_lock(7260824002)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 100); do
    [ "$(sql "SELECT pg_try_advisory_lock(7260824002)")" = f ] && break
    sleep 0.1
done
runs_before=$(sql "SELECT count(*) FROM canbao.runs")
check_exit "a second concurrent run exits with code 5 and says why" 5 'another canbao run is in progress' \
    "$CANBAO" run --asof $ASOF --extracts "$DATA/extracts" --out "$TMP/o-locked"
check "the refused run leaves the ledger alone" test "$(sql "SELECT count(*) FROM canbao.runs")" = "$runs_before"
sql "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null

section "rules"
check_exit "rules check: the shipped rule set is valid" 0 'is valid: .* 10 lists' "$CANBAO" rules check
check_exit "rules test: every example case of the rule files passes" 0 ' [0-9]+ passed, 0 failed' "$CANBAO" rules test
every_list() {
    local t n
    for t in "$DATA"/truth/*.csv; do
        n=$(basename "$t" .csv)
        case $n in counts|hidden_links) continue ;; esac
        [ -f "$OUT/$n.csv" ] || { echo "no output for list $n"; return 1; }
    done
}
check "every list of SPEC.md is produced" every_list
rows_cite() {   # every row carries its rule, the rule set's version and evidence (no commas in these)
    local t f
    for t in "$DATA"/truth/*.csv; do
        case $(basename "$t") in counts.csv|hidden_links.csv) continue ;; esac
        f="$OUT/$(basename "$t")"
        awk -F, -v f="$f" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            $col["rule"] == "" || length($col["rule_version"]) != 64 || $NF == "" || $col["evidence"] != $NF {
                print f ": row " NR " lacks its rule, version or evidence"; exit 1 }' "$f" || return 1
    done
}
check "every row cites its rule, the rule-set version and its evidence" rows_cite
someone=$(awk -F, 'NR == 2 { print $1 }' "$OUT/deceased_beneficiaries.csv")
check_exit "explain: register entry, facts with their records, the verdicts" 0 \
    'deceased_beneficiaries .* 1 row' "$CANBAO" explain "$someone" --asof $ASOF --extracts "$DATA/extracts"
check_exit "explain: the deciding condition of a list the person is not on" 0 'deceased_contributors .*not listed' \
    "$CANBAO" explain "$someone" --asof $ASOF --extracts "$DATA/extracts"
check_exit "explain: an ID number not on the register" 3 'not on the household register' \
    "$CANBAO" explain 110101199003077774 --asof $ASOF --extracts "$DATA/extracts"
explain_spilled() {   # past CANBAO_MEMORY, only the person's part of the facts: the same account
    local a b
    a=$("$CANBAO" explain "$someone" --asof $ASOF --extracts "$DATA/extracts" 2>&1) || return 1
    b=$(CANBAO_MEMORY=1M "$CANBAO" explain "$someone" --asof $ASOF --extracts "$DATA/extracts" 2>&1) || return 1
    grep -q 'event=spill ' <<<"$b" || { echo "not spilled"; return 1; }
    diff <(grep -v '^level=' <<<"$a") <(grep -v '^level=' <<<"$b") && grep -q 'deceased_beneficiaries .* 1 row' <<<"$b"
}
check "explain with CANBAO_MEMORY=1M: the facts on disk, the same account of the person" explain_spilled
# a parameter changed in a copied rule set changes the next run, without a rebuild
R18="$TMP/rules18"
cp -r rules "$R18"
sed -i 's/^min_age .*/min_age = 18 years/' "$R18/parameters.conf"
cutoff=$(( ${ASOF:0:4} - 18 ))${ASOF:5:2}${ASOF:8:2}
young() { awk -F, -v c="$cutoff" 'NR > 1 && substr($1, 7, 8) > c { n++ } END { print n + 0 }' "$1"; }
OUT18="$TMP/out18"
check "run with min_age = 18 years (--rules, no rebuild)" \
    "$CANBAO" --quiet run --rules "$R18" --asof $ASOF --extracts "$DATA/extracts" --out "$OUT18"
check "the default run lists persons aged 16-17" test "$(young "$OUT/unenrolled_eligible.csv")" -gt 0
check "min_age 18: fewer rows in unenrolled_eligible" \
    test "$(wc -l <"$OUT18/unenrolled_eligible.csv")" -lt "$(wc -l <"$OUT/unenrolled_eligible.csv")"
check "min_age 18: nobody aged 16-17" test "$(young "$OUT18/unenrolled_eligible.csv")" = 0
check "the ledger records the other rule-set version" test "$(sql "SELECT count(DISTINCT ruleset_sha256) FROM canbao.runs
    WHERE state IN ('succeeded', 'superseded')")" -ge 2
# dropping a government-paid group: fewer rows carry the flag
RGOV="$TMP/rules-gov"
cp -r rules "$RGOV"
sed -i 's/^government_paid .*/government_paid = disability, dibao, tekun/' "$RGOV/parameters.conf"
check "run without poor_household among the government-paid groups" \
    "$CANBAO" --quiet run --rules "$RGOV" --asof $ASOF --extracts "$DATA/extracts" --out "$TMP/out-gov"
check "fewer rows flagged government_paid" test "$(grep -c government_paid "$TMP/out-gov/unenrolled_eligible.csv")" \
    -lt "$(grep -c government_paid "$OUT/unenrolled_eligible.csv")"
# broken rule sets: a precise error, exit 3, nothing run
RBAD="$TMP/rules-bad"
cp -r rules "$RBAD"
sed -i 's/^  where eligible and not live and not in_prison$/  where eligible and not live and not/' "$RBAD/unenrolled_eligible.rules"
check_exit "rules check: a syntax error gives file:line:column and what was expected" 3 \
    'unenrolled_eligible.rules:[0-9]+:[0-9]+: expected a value, found column' "$CANBAO" rules check "$RBAD"
succeeded_before=$(sql "SELECT count(*) FROM canbao.runs WHERE state = 'succeeded'")
check_exit "run with a malformed rule file: the same error, exit 3" 3 \
    'unenrolled_eligible.rules:[0-9]+:[0-9]+: expected a value' \
    "$CANBAO" run --rules "$RBAD" --asof $ASOF --extracts "$DATA/extracts" --out "$TMP/out-bad"
check "no half run: no new succeeded run in the ledger, no lists written" \
    test "$(sql "SELECT count(*) FROM canbao.runs WHERE state = 'succeeded'")" = "$succeeded_before" -a ! -e "$TMP/out-bad"
cp rules/unenrolled_eligible.rules "$RBAD"/
sed -i 's/age(asof) >= \$min_age/age(asof) >= 16/' "$RBAD/common.rules"
check_exit "rules check: a type error (years against a plain number)" 3 \
    'common.rules:[0-9]+:[0-9]+: cannot compare years with a plain number' "$CANBAO" rules check "$RBAD"
cp rules/common.rules "$RBAD"/
echo "spare_window = 3 months" >>"$RBAD/parameters.conf"
check_exit "rules check: a parameter no rule uses" 3 'parameters.conf:[0-9]+:1: parameter spare_window is not used' \
    "$CANBAO" rules check "$RBAD"

section "bad input"
BAD="$TMP/bad"
mkdir -p "$BAD"
cp "$DATA"/extracts/* "$BAD"/
reg=$(ls "$BAD"/police_register_* | head -n 1)
# a truncated gzip delivery: a clear error naming the file, the run recorded as failed
gzip -c "$reg" | head -c 20000 >"$reg.gz.tmp" && rm "$reg" && mv "$reg.gz.tmp" "$reg"
check_exit "truncated gzip extract: clear error, exit 3" 3 'truncated gzip.*police_register|police_register.*truncated gzip' \
    "$CANBAO" run --asof $ASOF --extracts "$BAD" --out "$TMP/o3"
check "the failed run is in the ledger with its reason" test "$(sql "SELECT count(*) FROM canbao.runs
    WHERE state = 'failed' AND message LIKE '%truncated gzip%'")" = 1
rm "$reg"
check_exit "missing required source: clear error naming it" 3 'required source police_register' \
    "$CANBAO" run --asof $ASOF --extracts "$BAD" --out "$TMP/o3"
cp "$DATA"/extracts/police_register_* "$BAD"/
# a header that lost a column
sed -i '1s/姓名/名字/' "$BAD"/police_register_*
check_exit "changed header: error names the column and the file" 3 '姓名.*not found' \
    "$CANBAO" check-extracts "$BAD"
cp "$DATA"/extracts/police_register_* "$BAD"/
# malformed rows: binary garbage, an unterminated quote, a NUL byte
{ printf '\x01\x02\xff\xfe garbage,,,\n'; printf '"unterminated,1,2\n'; } >>"$(ls "$BAD"/police_register_* | head -n 1)"
check_exit "garbage rows become rejects, not a crash" 0 'police_register' "$CANBAO" check-extracts "$BAD"
# a definition with an error: file, line and column
CONN="$TMP/conn"
cp -r connectors/agencies "$CONN"
sed -i 's/^sex *=.*/sex = 性别 | cod(男:male)/' "$CONN/police_register.conf"
check_exit "bad connector definition: file:line:column" 3 'police_register.conf:[0-9]+:[0-9]+: unknown transform' \
    "$CANBAO" check-extracts --connectors "$CONN" "$DATA/extracts"
RULES="$TMP/rules"
cp -r rules "$RULES"
sed -i 's/^min_age.*/min_age = 16 weeks/' "$RULES/parameters.conf"
check_exit "bad parameter: file:line:column and the expected unit" 3 'parameters.conf:[0-9]+:[0-9]+: wrong unit' \
    "$CANBAO" run --rules "$RULES" --asof $ASOF --extracts "$DATA/extracts" --out "$TMP/o4"

section "a new source by definition only"
# The tax bureau starts sending an unseen layout: GBK, semicolons, its own header names, gzip.
NEW="$TMP/newsource"
mkdir -p "$NEW/delivery" "$NEW/conn"
cp "$DATA"/extracts/* "$NEW/delivery/"
cp connectors/agencies/*.conf "$NEW/conn/"
cat >"$NEW/conn/tax_gbk.conf" <<'CONF'
[source]
name      = tax_collections_gbk
agency    = 税务
fact      = tax_collection
files     = 税务_征缴_*.txt.gz
format    = csv
encoding  = gbk
delimiter = ";"

[fields]
id_number = 缴费人证件号码 | idnum
date      = 入库日期 | date
amount    = 实缴金额 | money
type      = 费款性质 | code(个人缴费:personal, 集体补助:collective, 社会资助:donor)
CONF
# 300 payers, or as many as the list has when CANBAO_TEST_PERSONS is small
TAXN=$(awk 'NR > 1 && NR <= 301' "$OUT/unenrolled_eligible.csv" | wc -l)
{
    printf '缴费人证件号码;入库日期;实缴金额;费款性质\r\n'
    awk -F, 'NR > 1 && NR <= 301 { printf "%s;2026年11月%d日;%d.00;个人缴费\r\n", $1, (NR % 28) + 1, 100 + NR }' \
        "$OUT/unenrolled_eligible.csv"
} | iconv -f UTF-8 -t GBK | { cat; printf '11010519491231002X;20261101;12.00;\xff\xfe\r\n'; } \
  | gzip >"$NEW/delivery/税务_征缴_20261128.txt.gz"
newsource_counts() {
    mkdir -p "$NEW/only"
    cp "$NEW/delivery/税务_征缴_20261128.txt.gz" "$NEW/only/"
    "$CANBAO" check-extracts --connectors "$NEW/conn" "$NEW/only" >"$NEW/check.txt" 2>&1 ||
        { cat "$NEW/check.txt"; return 1; }
    grep -E "^税务_征缴_20261128.txt.gz +tax_collections_gbk +$((TAXN + 1)) +$TAXN +0 +1\$" "$NEW/check.txt" ||
        { cat "$NEW/check.txt"; return 1; }
    grep -q 'not valid GBK' "$NEW/check.txt" || { echo "no GBK reject reason"; return 1; }
}
check "GBK, ';', gzip, Chinese headers: $TAXN accepted, the bad GBK row rejected" newsource_counts
check "a run with the new source succeeds" "$CANBAO" --quiet run --connectors "$NEW/conn" --asof $ASOF \
    --extracts "$NEW/delivery" --out "$NEW/out"
check "the new file is in the ledger" test "$(sql "SELECT accepted FROM canbao.source_files
    WHERE file_name = '税务_征缴_20261128.txt.gz' ORDER BY run_id DESC LIMIT 1")" = "$TAXN"

section "hostile input"
# a 1 GB line in a claimed file: one reject, quickly, bounded memory (CANBAO_TEST_HUGE_MB: a
# shorter one, for the reduced valgrind run of CI)
HUGE_MB=${CANBAO_TEST_HUGE_MB:-1024}
HUGE="$TMP/huge"
mkdir -p "$HUGE/conn"
sed 's/^files .*/files = 税务_征缴_*.txt/' "$NEW/conn/tax_gbk.conf" >"$HUGE/conn/tax_gbk.conf"
{ printf '缴费人证件号码;入库日期;实缴金额;费款性质\n' | iconv -f UTF-8 -t GBK
  head -c $((HUGE_MB * 1048576)) /dev/zero | tr '\0' 'a'; printf '\n'
  printf '11010519491231002X;20261101;12.00;' ; printf '个人缴费\n' | iconv -f UTF-8 -t GBK; } >"$HUGE/税务_征缴_20261128.txt"
huge_line() {
    local t0 t1 out
    t0=$(date +%s%N)
    out=$(/usr/bin/time -f 'maxrss_kb=%M' "$CANBAO" check-extracts --connectors "$HUGE/conn" "$HUGE" 2>&1) || { echo "$out"; return 1; }
    t1=$(date +%s%N)
    echo "$out" | grep -q 'record longer than the limit' || { echo "$out"; return 1; }
    echo "$out" | grep -qE ' 2 +1 +0 +1$' || { echo "$out"; return 1; }
    local rss; rss=$(echo "$out" | sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p')
    echo "$HUGE_MB MB line: $(( (t1 - t0) / 1000000 )) ms, peak RSS ${rss} kB"
    [ "$rss" -lt 200000 ]
}
check "a $HUGE_MB MB line is one reject, with bounded memory" huge_line
rm -f "$HUGE/税务_征缴_20261128.txt"

section "outputs"
# Township workbooks, suspension alerts, the nightly report, the lifecycle of list rows, the
# townships' answers and the pension system's acknowledgements (issue 6), night after night on
# a database of their own: a month earlier, the night, the same night again, a night with three
# more deaths, and one after the answers came back.
OUTS="$TMP/outputs"
mkdir -p "$OUTS"
OUTCHECK="$ROOT/$BUILD/outcheck"
night() { "$CANBAO" --quiet run --asof "$1" --extracts "$2" --out "$3" ${4:+--connectors "$4"}; }
WIRED=yes
MAIN_DB=$PGDATABASE
"$PG_BIN/createdb" canbao_outputs && export PGDATABASE=canbao_outputs
check "outputs: a database of their own" "$CANBAO" db migrate

# Extra records by a definition of our own, so that the test does not depend on the layout of
# any agency's file: deaths certified by the health commission.
EXTRA="$OUTS/conn"
mkdir -p "$EXTRA"
cp connectors/agencies/*.conf "$EXTRA/"
cat >"$EXTRA/test_extra_deaths.conf" <<'CONF'
[source]
name      = test_extra_deaths
agency    = 卫健
fact      = death
evidence  = health
files     = test_extra_deaths_*.csv
format    = csv
encoding  = utf-8
delimiter = ","

[fields]
id_number  = 身份证号 | idnum
death_date = 死亡日期 | date
CONF
# delivery DIR PERSONS...: a copy of the night's delivery with deaths of these IDs on 2026-11-28
delivery() {
    local dir=$1; shift
    mkdir -p "$dir"
    cp "$DATA"/extracts/* "$dir/"
    { echo "身份证号,死亡日期"; for id in "$@"; do echo "$id,2026-11-28"; done; } >"$dir/test_extra_deaths_20261128.csv"
}
delivery "$OUTS/d0"
M0="$OUTS/m0" N1="$OUTS/n1" N1B="$OUTS/n1b"
check "outputs: the night a month before" night 2026-10-28 "$OUTS/d0" "$M0" "$EXTRA"
check "outputs: the night" night $ASOF "$OUTS/d0" "$N1" "$EXTRA"
LISTS=()
for l in unenrolled_eligible approaching_benefit_age proof_of_life_due; do
    [ -f "$N1/$l.csv" ] && LISTS+=("$N1/$l.csv")
done
check "workbooks: one per township, headers, masked IDs, households together, rows = the lists" \
    "$OUTCHECK" workbooks "$N1" "${LISTS[@]}"
towns_in_ref() { awk -F, 'NR > 1 && $3 == "乡镇" && $1 ~ /^222401/' "$DATA/extracts/ref_divisions.csv" | wc -l; }
check "workbooks: every township of the reference list has its workbook and CSV twin" \
    test "$(ls "$N1"/township_222401*.xlsx | wc -l)" = "$(towns_in_ref)" -a \
         "$(ls "$N1"/township_222401*.csv | wc -l)" = "$(towns_in_ref)"
check "workbooks: the CSV twins start with a UTF-8 BOM" \
    bash -c 'for f in "$1"/township_[0-9]*.csv; do b=$(head -c 3 "$f" | od -An -tx1 | tr -d " \n")
             [ "$b" = efbbbf ] || { echo "$f starts with $b"; exit 1; }; done' _ "$N1"
check "alerts: confirmed and to-verify documents valid against schema/alerts.xsd" \
    "$OUTCHECK" xsd schema/alerts.xsd "$N1/alerts_confirmed_20261128.xml" "$N1/alerts_to_verify_20261128.xml"
alerts_of() { grep -c '<alert ' "$1" || true; }
new_alerts() { grep -c 'status="new"' "$1" || true; }
both_alerts() { echo $(( $(alerts_of "$1/alerts_confirmed_$2.xml") + $(alerts_of "$1/alerts_to_verify_$2.xml") )); }
check "alerts: every deceased beneficiary has an alert, in CSV too" \
    test "$(both_alerts "$N1" 20261128)" = "$(($(wc -l <"$N1/deceased_beneficiaries.csv") - 1))" -a \
         "$(cat "$N1"/alerts_*_20261128.csv | grep -vc '^alert_id,')" = "$(both_alerts "$N1" 20261128)"
check "alerts: deaths already sent a month ago are repeated, not new" \
    test "$(new_alerts "$N1/alerts_confirmed_20261128.xml")" -lt "$(alerts_of "$N1/alerts_confirmed_20261128.xml")"

# the report, rendered by headless Chromium (installed here when missing)
render() {
    local html=$1 png=$2 ud rc
    if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1
    fi
    command -v chromium >/dev/null || return 3
    ud=$(mktemp -d)
    timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
        --screenshot="$png" --window-size=1200,1600 "file://$html" >"$OUTS/chromium.log" 2>&1
    rc=$?
    rm -rf "$ud"
    [ $rc = 0 ] || { tail -n 5 "$OUTS/chromium.log"; return 1; }
    "$OUTCHECK" png "$png" 16
}
check "report: self-contained (no script, nothing fetched)" \
    bash -c '! grep -qiE "<script|<link|<img|src=|href=|url\(|@import" "$1"' _ "$N1/report_20261128.html"
render "$N1/report_20261128.html" "$OUTS/report.png" >"$OUTS/render.log" 2>&1; rc=$?
if [ $rc = 3 ]; then
    echo "note   report not rendered: chromium is not installed and could not be (not root, or no package)"
elif [ $rc = 0 ]; then
    ok "report: Chromium renders it, the screenshot is not blank ($(tail -n 1 "$OUTS/render.log"))"
else
    fail "report: Chromium renders it, the screenshot is not blank" "$(cat "$OUTS/render.log")"
fi

# the same night again: no new alert, the same workbooks
check "outputs: the same night again" night $ASOF "$OUTS/d0" "$N1B" "$EXTRA"
check "alerts: the same night run twice sends no alert as new the second time" \
    test "$(new_alerts "$N1B/alerts_confirmed_20261128.xml")$(new_alerts "$N1B/alerts_to_verify_20261128.xml")" = 00 -a \
         "$(both_alerts "$N1B" 20261128)" = "$(both_alerts "$N1" 20261128)"
same_files() {
    local f
    for f in "$1"/township_* "$1"/*.csv; do
        case $(basename "$f") in alerts_*) continue ;; esac
        cmp -s "$f" "$2/$(basename "$f")" || { echo "differs: $(basename "$f")"; return 1; }
    done
}
check "workbooks: the same night run twice gives byte-identical workbooks and CSV files" same_files "$N1" "$N1B"
# the same inputs on a fresh database: every output byte-identical (the report too, but for the
# run's own timings when canbao run writes it)
"$PG_BIN/createdb" canbao_outputs2
fresh_identical() {
    PGDATABASE=canbao_outputs2 "$CANBAO" db migrate >/dev/null &&
    PGDATABASE=canbao_outputs2 night 2026-10-28 "$OUTS/d0" "$OUTS/f0" "$EXTRA" >/dev/null &&
    PGDATABASE=canbao_outputs2 night $ASOF "$OUTS/d0" "$OUTS/f1" "$EXTRA" >/dev/null || return 1
    if [ $WIRED = yes ]; then
        diff -r -x 'report_*' -x SHA256SUMS "$N1" "$OUTS/f1"
    else
        diff -r "$N1" "$OUTS/f1"
    fi
}
check "outputs: the same nights on a fresh database give byte-identical files" fresh_identical
# schema/020: a first night's rows all lack an item; they are registered in the order of the
# night's rows (a list's rows by row number), whatever order the join returned them in
# (over 100 items: 444 with the 2,000 persons of the valgrind run in CI)
items_in_row_order() {
    local q="SELECT count(*) || ':' || count(*) FILTER (WHERE prev IS NOT NULL AND item_id <= prev)
               FROM (SELECT ri.item_id, lag(ri.item_id) OVER (PARTITION BY ri.list_name ORDER BY ri.row_no) AS prev
                       FROM canbao.run_items ri
                      WHERE ri.run_id = (SELECT min(run_id) FROM canbao.runs WHERE state = 'succeeded')) x"
    local got
    got=$(PGDATABASE=canbao_outputs2 sql "$q") || return 1
    [ "${got#*:}" = 0 ] && [ "${got%%:*}" -gt 100 ] || { echo "items, out of row order: $got"; return 1; }
}
check "lifecycle: a first night numbers its new items in the order of its rows" items_in_row_order

# a night in which three more receivers died: exactly three new alerts
THREE=$(awk -F, 'NR > 1 { print $1 }' "$DATA/truth/proof_of_life_due.csv" | head -n 3)
delivery "$OUTS/d2" $THREE
N2="$OUTS/n2"
check "outputs: a night with three more deaths" night 2026-11-29 "$OUTS/d2" "$N2" "$EXTRA"
three_new() {
    local got want
    got=$(grep -A1 'status="new"' "$N2/alerts_confirmed_20261129.xml" | sed -n 's/.*<id_number>\(.*\)<\/id_number>.*/\1/p' | sort)
    want=$(sort <<<"$THREE")
    [ "$got" = "$want" ] && [ "$(new_alerts "$N2/alerts_to_verify_20261129.xml")" = 0 ] ||
        { echo "new alerts: $got; expected: $want"; return 1; }
}
check "alerts: three more deaths give exactly three new alerts, the three" three_new

# a township sends its workbook back
BOOK=$(ls "$N2"/township_222401001_*.xlsx)
BACK="$OUTS/back.xlsx"
"$OUTCHECK" clerk "$BOOK" "$BACK" --set 1:1:已参保:2026-11-29: --set 1:2:已死亡:2026-11-25:家属告知 \
    --set 1:3:外出务工::在韩国务工 --set 2:1:已迁出:2026-10-01: >"$OUTS/back.keys"
fb_rows() { sql "SELECT count(*) FROM canbao.feedback"; }
check_exit "feedback: a returned workbook is recorded" 0 '4 answers recorded, 0 unchanged' "$CANBAO" feedback "$BACK"
check_exit "feedback: the same file again records nothing" 0 'imported already' "$CANBAO" feedback "$BACK"
check "feedback: four answers in the database" test "$(fb_rows)" = 4
check "feedback: 已死亡 and 已迁出 are evidence to verify for the rules" test \
    "$(sql "SELECT string_agg(kind || ':' || confidence, ',' ORDER BY kind) FROM canbao.feedback_evidence")" = \
    "death:to_verify,moved_out:to_verify" -a "$("$OUTCHECK" fbevidence 2026-11-30)" = "death 1 moved_out 1" -a \
    "$("$OUTCHECK" fbevidence 2026-11-28)" = "death 0 moved_out 0"
OTHER=$(ls "$N2"/township_222401002_*.xlsx)
"$OUTCHECK" clerk "$BOOK" "$OUTS/bad.xlsx" --set 1:4:随便 --set 1:5::2026-11-30:没填结果 --set 1:6:已联系:明天 \
    --set 1:7:拒绝 --key 1:7:999999999 >/dev/null
check_exit "feedback: unknown outcome, no outcome, a bad date, a row not on the list: errors with sheet and row" 3 \
    'sheet .*, row 5: unknown outcome "随便".*sheet .*, row 6: 日期 or 备注 filled in, but no 结果.*sheet .*, row 7: "明天" in 日期 is not a date.*row 8: row key 999999999 is not on the lists' \
    bash -c 'out=$("$1" feedback "$2" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ "$CANBAO" "$OUTS/bad.xlsx"
"$OUTCHECK" clerk "$OTHER" "$OUTS/other.xlsx" --set 1:1:已联系 --key 1:1:"$(awk 'NR == 1 { print $2 }' "$OUTS/back.keys")" >/dev/null
check_exit "feedback: a row of another township's workbook is refused" 3 'belongs to township 222401001, not to this workbook' \
    "$CANBAO" feedback "$OUTS/other.xlsx"
check_exit "feedback: a workbook sent by another township is refused" 3 'is of township 222401001 .*, not of 222401002' \
    "$CANBAO" feedback --township 222401002 "$BOOK"
"$OUTCHECK" clerk "$BOOK" "$OUTS/unknown.xlsx" --meta township=222409999 --set 1:1:已联系 >/dev/null
check_exit "feedback: a workbook of an unknown township is refused" 3 'unknown township 222409999' \
    "$CANBAO" feedback "$OUTS/unknown.xlsx"
check_exit "feedback: not a workbook canbao made" 3 'not an xlsx workbook' "$CANBAO" feedback "$N2/unenrolled_eligible.csv"
check "feedback: refused files recorded nothing" test "$(fb_rows)" = 4
# a later answer to a row answered before: the next night's workbook shows the later one
"$OUTCHECK" clerk "$BOOK" "$OUTS/back2.xlsx" --set 1:3:已联系:2026-11-30:第二次 >"$OUTS/back2.keys"
check_exit "feedback: a later answer to a row answered before is recorded" 0 '1 answers recorded, 0 unchanged' \
    "$CANBAO" feedback "$OUTS/back2.xlsx"

# the pension system acknowledges the three new alerts: one suspended, one alive, one received
ackline() { awk -F, -v id="$1" -v d="$2" -v n="$3" '$5 == id { print $1 "," $5 "," d ",2026-11-30,zhangli," n }' \
    "$N2/alerts_confirmed_20261129.csv"; }
set -- $THREE
{ echo "alert_id,id_number,decision,decided_on,operator,note"
  ackline "$1" suspended ""; ackline "$2" not_deceased "本人到窗口认证，确认健在"; ackline "$3" received ""; } >"$OUTS/ack.csv"
check_exit "ack: the pension system's acknowledgements are recorded" 0 '3 acknowledgements recorded' "$CANBAO" ack "$OUTS/ack.csv"
check_exit "ack: the same file again records nothing" 0 'imported already' "$CANBAO" ack "$OUTS/ack.csv"
{ echo "alert_id,id_number,decision,decided_on,operator,note"
  echo "99999999,$1,suspended,2026-11-30,zhangli,"
  ackline "$1" frozen "" | sed 's/2026-11-30/2026-11-31/'
  ackline "$2" not_deceased "" ; } >"$OUTS/ack-bad.csv"
check_exit "ack: unknown alert, decision, date, a dismissal without why: errors with lines" 3 \
    'line 2: unknown alert 99999999.*line 3: unknown decision "frozen".*line 3: decided_on "2026-11-31".*line 4: not_deceased needs a note' \
    bash -c 'out=$("$1" ack "$2" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ "$CANBAO" "$OUTS/ack-bad.csv"
check "ack: states: acknowledged, dismissed with who and why" test \
    "$(sql "SELECT string_agg(state || ':' || coalesce(dismissed_by, ''), ',' ORDER BY state) FROM canbao.list_items
            WHERE list_name = 'deceased_beneficiaries' AND id_number IN ('$1', '$2', '$3')")" = \
    "acknowledged:,acknowledged:,dismissed:pension:zhangli"

# the next night: answers shown, acknowledged alerts no longer sent, a person gone is resolved
GONE=$(awk -F, 'NR == 2 { print $1 }' "$N2/unenrolled_eligible.csv")
delivery "$OUTS/d3" $THREE "$GONE"
N3="$OUTS/n3"
sql "CREATE TABLE public.items_before AS SELECT item_id, ctid::text AS at FROM canbao.list_items" >/dev/null
check "outputs: the next night" night 2026-11-30 "$OUTS/d3" "$N3" "$EXTRA"
# a night writes the items whose state it changes, and no other (each new as-of date, too)
quiet_night() {
    local n written changed
    n=$(sql "SELECT count(*) FROM public.items_before")
    written=$(sql "SELECT count(*) FROM canbao.list_items i JOIN public.items_before b USING (item_id)
                   WHERE i.ctid::text <> b.at")
    changed=$(sql "SELECT count(DISTINCT e.item_id) FROM canbao.item_events e JOIN public.items_before b USING (item_id)
                   WHERE e.run_id = (SELECT max(run_id) FROM canbao.runs)")
    echo "$n items before the night; $written written, $changed with an event"
    [ "$n" -ge 100 ] && [ "$written" = "$changed" ] && [ "$changed" -ge 1 ]
}
check "lifecycle: the next night writes only the items whose state changes" quiet_night
answers_shown() {
    local key
    key=$(awk 'NR == 2 { print $2 }' "$OUTS/back.keys")
    "$OUTCHECK" dump "$(ls "$N3"/township_222401001_*.xlsx)" 1 |
        awk -F'\t' -v k="$key" '$17 == k && $14 == "已死亡" && $15 == "2026-11-25" && $16 == "家属告知" { found = 1 }
                                END { exit !found }'
}
check "workbooks: the next night shows the township's answers" answers_shown
latest_answer_shown() {
    local key
    key=$(awk 'NR == 1 { print $2 }' "$OUTS/back2.keys")
    [ "$key" = "$(awk 'NR == 3 { print $2 }' "$OUTS/back.keys")" ] || { echo "not the row answered before"; return 1; }
    "$OUTCHECK" dump "$(ls "$N3"/township_222401001_*.xlsx)" 1 |
        awk -F'\t' -v k="$key" '$17 == k { n++; ok = $14 == "已联系" && $15 == "2026-11-30" && $16 == "第二次" }
                                END { exit !(n == 1 && ok) }'
}
check "workbooks: of two answers to a row, the later one is shown" latest_answer_shown
check "alerts: acknowledged and dismissed alerts are not sent again" \
    test "$(alerts_of "$N3/alerts_confirmed_20261130.xml")" = "$(($(alerts_of "$N2/alerts_confirmed_20261129.xml") - 3))" -a \
         "$(new_alerts "$N3/alerts_confirmed_20261130.xml")" = 0
check "lifecycle: a person no longer on the list is resolved by the data" test \
    "$(sql "SELECT state || ':' || resolved_by FROM canbao.list_items WHERE list_name = 'unenrolled_eligible' AND id_number = '$GONE'")" = "resolved:data"
check "lifecycle: every change of state is in the event log" test \
    "$(sql "SELECT count(DISTINCT to_state) FROM canbao.item_events")" -ge 4
# the death record withdrawn the night after: the person is listed again, the item resolved by
# the data new again (lifecycle_apply looks for such items among the night's new rows, 021)
delivery "$OUTS/d4" $THREE
check "outputs: a night after a death record is withdrawn" night 2026-12-01 "$OUTS/d4" "$OUTS/n4" "$EXTRA"
item_history() {
    sql "SELECT string_agg(coalesce(e.from_state, '-') || '>' || e.to_state || ' ' || e.why, ', ' ORDER BY e.event_id)
           FROM canbao.item_events e JOIN canbao.list_items i USING (item_id)
          WHERE i.list_name = 'unenrolled_eligible' AND i.id_number = '$GONE'"
}
check "lifecycle: an item resolved by the data and listed again is new again, then sent" test \
    "$(item_history)" = "->new listed, new>sent published, sent>resolved no longer listed, resolved>new listed again, new>sent published"
# what the preparation works out for each row's alert (engine/lifecycle.c): an acknowledged alert
# is not sent again unless its class changed since it was sent, and then it is sent as changed;
# a sent one goes again as repeated.  Two confirmed alerts made acknowledged, one of them as if
# it had been sent to verify.
alert_classes() {
    local a b c n5=$OUTS/n5 f
    read -r a b c <<<"$(sql "SELECT string_agg(item_id::text, ' ' ORDER BY item_id) FROM (
                             SELECT item_id FROM canbao.list_items WHERE list_name = 'deceased_beneficiaries'
                                AND state = 'sent' AND sent_class = 'confirmed' ORDER BY item_id LIMIT 3) x")"
    [ -n "$c" ] || { echo "fewer than three confirmed alerts sent"; return 1; }
    sql "UPDATE canbao.list_items SET state = 'acknowledged' WHERE item_id IN ($a, $b);
         UPDATE canbao.list_items SET sent_class = 'to_verify' WHERE item_id = $a" >/dev/null &&
        night 2026-12-02 "$OUTS/d4" "$n5" "$EXTRA" || return 1
    f=$n5/alerts_confirmed_20261202.xml
    grep -q "<alert id=\"$a\" status=\"changed\"" "$f" || { echo "alert $a (class changed) not sent as changed"; return 1; }
    ! grep -q "<alert id=\"$b\" " "$f" || { echo "alert $b (acknowledged, same class) sent again"; return 1; }
    grep -q "<alert id=\"$c\" status=\"repeated\"" "$f" || { echo "alert $c (sent) not sent as repeated"; return 1; }
}
check "alerts: acknowledged and sent again only when its class changed (as changed); sent ones as repeated" alert_classes
check "report: the outreach results of a month ago are there" grep -q '一个月前名单' "$N3/report_20261130.html"
township_view() {
    sql "CREATE ROLE town1; GRANT USAGE ON SCHEMA canbao TO town1;
         GRANT SELECT ON canbao.township_rows, canbao.v_unenrolled_eligible TO town1;
         INSERT INTO canbao.township_roles VALUES ('town1', '222401001')" >/dev/null || return 1
    local got
    got=$(psql -XAtq -c "SET ROLE town1" -c "SELECT count(DISTINCT township) || ':' || min(township) || ':' ||
              bool_and(id_masked ~ '^[0-9]{6}[*]{8}[0-9]{3}[0-9X]$') FROM canbao.v_unenrolled_eligible")
    [ "$got" = "1:222401001:true" ] || { echo "seen: $got"; return 1; }
}
check "views: a township role sees only its own rows, ID numbers masked" township_view
export PGDATABASE=$MAIN_DB

# further sections, one file per area (tests/sections/NN-name.sh), sourced in name order: they
# use ok/fail/check/check_exit/sql, $CANBAO, $SYNTH, $CSVDIFF, $TMP, $DATA, $OUT, $ASOF and the
# private cluster (PGHOST/PGPORT/PGDATABASE set); each leaves PGDATABASE as it found it
# (CANBAO_TEST_SKIP_SECTIONS: names of sections not to run, e.g. "20-operations", or "all")
for section in tests/sections/*.sh; do
    [ -f "$section" ] || continue
    case " ${CANBAO_TEST_SKIP_SECTIONS:-} " in
    *" all "* | *" $(basename "$section" .sh) "*)
        echo "note   section $(basename "$section" .sh) not run (CANBAO_TEST_SKIP_SECTIONS)"
        continue ;;
    esac
    # shellcheck source=/dev/null
    source "$section"
done

if [ -n "$UNIT_PID" ]; then
    section "unit tests (beside the rest)"
    unit_report
    echo "note   the unit tests took $(($(cat "$UNIT_OUT/all.ms" 2>/dev/null || echo 0) / 1000))s beside the rest"
fi

section "deploy"
if command -v systemd-analyze >/dev/null; then
    check "systemd units pass systemd-analyze verify" \
        systemd-analyze verify deploy/systemd/canbao-nightly.service deploy/systemd/canbao-nightly.timer
else
    echo "note   systemd-analyze not installed: unit check not run"
fi

times_report
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
