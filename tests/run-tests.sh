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
cleanup() { pg_stop; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok     $1"; }
fail() { failed=$((failed + 1)); echo "FAILED $1"; [ $# -gt 1 ] && sed 's/^/       /' <<<"$2"; }

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

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    check "unit $(basename "$t")" "$t"
done

echo "== private PostgreSQL"
if ! pg_start "$TMP/pg"; then
    fail "start private PostgreSQL"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "start private PostgreSQL 15 ($(psql -XAtqc 'show server_version'))"

echo "== command line"
check_exit "--version" 0 '^canbao [0-9]' "$CANBAO" --version
check_exit "--help" 0 'Exit codes' "$CANBAO" --help
check_exit "run --help" 0 'Usage: canbao run' "$CANBAO" run --help
check_exit "db --help" 0 'Usage: canbao db migrate' "$CANBAO" db --help
check_exit "check-extracts --help" 0 'Usage: canbao check-extracts' "$CANBAO" check-extracts --help
check_exit "unknown command is a usage error" 2 'unknown command' "$CANBAO" frobnicate
check_exit "run without --asof is a usage error" 2 'needs --asof' "$CANBAO" run --extracts x --out y
check_exit "bad --asof is a usage error" 2 'YYYY-MM-DD' "$CANBAO" run --asof 2026-13-01 --extracts x --out y

echo "== schema"
check_exit "run before migrate says to migrate" 4 'canbao db migrate' \
    "$CANBAO" run --asof $ASOF --extracts "$TMP" --out "$TMP/o"
check_exit "db migrate applies the migrations" 0 'migrations? applied now' "$CANBAO" db migrate
check_exit "db migrate again applies nothing" 0 '\(0 migrations applied now\)' "$CANBAO" db migrate
check "ledger tables exist" sql "SELECT 1 FROM canbao.runs, canbao.source_files, canbao.rejects, canbao.list_rows, canbao.list_evidence LIMIT 0"
check_exit "--db with a conninfo works" 0 'up to date' "$CANBAO" db migrate --db "host=$PGHOST port=$PGPORT dbname=canbao user=canbao"
check_exit "unreachable database is a database error" 4 'could not connect' \
    "$CANBAO" db migrate --db "host=$TMP/nonexistent port=1 dbname=x connect_timeout=2"

echo "== end to end on generated data ($PERSONS persons, as of $ASOF)"
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
reconcile() {
    awk -F, 'NR == FNR { if (FNR > 1) { rec[$1] = $2; bad[$1] = $3; dup[$1] = $4 }; next }
             FNR == 1 { next }
             { n++; if ($7 != $8 + $9 + $10) { print "unbalanced " $4; e = 1 }
               if (!($4 in rec)) { print "not in truth: " $4; e = 1; next }
               if ($7 != rec[$4] || $10 != bad[$4] || $9 != dup[$4]) {
                   print $4 ": read " $7 " rejected " $10 " duplicates " $9 \
                         "; generator wrote " rec[$4] " with " bad[$4] " malformed, " dup[$4] " duplicates"; e = 1 } }
             END { if (n == 0) { print "no files"; e = 1 }; exit e }' "$DATA/truth/counts.csv" "$OUT/files.csv"
}
check "ledger counts reconcile with what the generator injected" reconcile

db_matches_csv() {
    local l rows csv
    for f in "$OUT"/*.csv; do
        l=$(basename "$f" .csv)
        case $l in rejects|files) continue ;; esac
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
check "every list row has evidence" test "$(sql "SELECT count(*) FROM canbao.list_rows r WHERE NOT EXISTS
    (SELECT 1 FROM canbao.list_evidence e WHERE (e.run_id, e.list_name, e.row_no) = (r.run_id, r.list_name, r.row_no))")" = 0
check "ledger row says succeeded with the rule-set hash" test "$(sql "SELECT count(*) FROM canbao.runs
    WHERE state = 'succeeded' AND length(ruleset_sha256) = 64 AND finished_at IS NOT NULL")" = 1
check "database agrees: sum of records = accepted + duplicates + rejected" test "$(sql "SELECT count(*) FROM canbao.source_files
    WHERE records_read <> accepted + duplicates + rejected")" = 0

# same inputs, same as-of date: byte-identical lists
OUT2="$TMP/out2"
"$CANBAO" --quiet run --asof $ASOF --extracts "$DATA/extracts" --out "$OUT2" >/dev/null 2>&1
check "a second run gives byte-identical files" diff -r "$OUT" "$OUT2"

echo "== operations"
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

echo "== bad input"
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

echo "== a new source by definition only"
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
    grep -E '^税务_征缴_20261128.txt.gz +tax_collections_gbk +301 +300 +0 +1$' "$NEW/check.txt" ||
        { cat "$NEW/check.txt"; return 1; }
    grep -q 'not valid GBK' "$NEW/check.txt" || { echo "no GBK reject reason"; return 1; }
}
check "GBK, ';', gzip, Chinese headers: 300 accepted, the bad GBK row rejected" newsource_counts
check "a run with the new source succeeds" "$CANBAO" --quiet run --connectors "$NEW/conn" --asof $ASOF \
    --extracts "$NEW/delivery" --out "$NEW/out"
check "the new file is in the ledger" test "$(sql "SELECT accepted FROM canbao.source_files
    WHERE file_name = '税务_征缴_20261128.txt.gz' ORDER BY run_id DESC LIMIT 1")" = 300

echo "== hostile input"
# a 1 GB line in a claimed file: one reject, quickly, bounded memory
HUGE="$TMP/huge"
mkdir -p "$HUGE/conn"
sed 's/^files .*/files = 税务_征缴_*.txt/' "$NEW/conn/tax_gbk.conf" >"$HUGE/conn/tax_gbk.conf"
{ printf '缴费人证件号码;入库日期;实缴金额;费款性质\n' | iconv -f UTF-8 -t GBK
  head -c 1073741824 /dev/zero | tr '\0' 'a'; printf '\n'
  printf '11010519491231002X;20261101;12.00;' ; printf '个人缴费\n' | iconv -f UTF-8 -t GBK; } >"$HUGE/税务_征缴_20261128.txt"
huge_line() {
    local t0 t1 out
    t0=$(date +%s%N)
    out=$(/usr/bin/time -f 'maxrss_kb=%M' "$CANBAO" check-extracts --connectors "$HUGE/conn" "$HUGE" 2>&1) || { echo "$out"; return 1; }
    t1=$(date +%s%N)
    echo "$out" | grep -q 'record longer than the limit' || { echo "$out"; return 1; }
    echo "$out" | grep -qE ' 2 +1 +0 +1$' || { echo "$out"; return 1; }
    local rss; rss=$(echo "$out" | sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p')
    echo "1 GB line: $(( (t1 - t0) / 1000000 )) ms, peak RSS ${rss} kB"
    [ "$rss" -lt 200000 ]
}
check "a 1 GB line is one reject, with bounded memory" huge_line
rm -f "$HUGE/税务_征缴_20261128.txt"

echo "== deploy"
if command -v systemd-analyze >/dev/null; then
    check "systemd units pass systemd-analyze verify" \
        systemd-analyze verify deploy/systemd/canbao-nightly.service deploy/systemd/canbao-nightly.timer
else
    echo "note   systemd-analyze not installed: unit check not run"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
