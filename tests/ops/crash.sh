#!/usr/bin/env bash
# The crash test (issue 7): kill canbao with SIGKILL at many points of a night, rerun, and
# check that what is published and stored equals an uninterrupted run, and that no alert is
# sent as new twice.
#
#   tests/ops/crash.sh CANBAO DELIVERY WORK [ASOF]
#
# CANBAO: the binary; DELIVERY: a generated delivery folder; WORK: an empty folder of its own.
# The PG* environment names a server where it may create the databases canbao_crash_ref and
# canbao_crash (dropped first when they exist).  Prints "ok ..." or "FAILED ..." per check and
# ends with "crash test: N kill points tried, M failed"; exits 1 when anything failed.
#
# Kill points (CANBAO_FAULT, engine/fault.h): reading (after 1, 30000 and 69000 records),
# linkage (start, end), the COPY of the run's transaction (after 1, 50, 600 and 2500 rows:
# files, rejects, list rows, evidence), just before and just after COMMIT, and the three
# publication steps (release folder in place, output link switched, ledger says published).
set -u
CANBAO=$1 DELIVERY=$2 WORK=$3 ASOF=${4:-2026-11-28}
PREV=$(date -d "$ASOF - 1 day" +%F)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
POINTS=${CRASH_POINTS:-"parse:1 parse:30000 parse:69000 link:1 link:2 copy:1 copy:50 copy:600 copy:2500
                        before_commit after_commit publish:1 publish:2 publish:3"}
# every release stays, so that every set ever published can be checked for repeated alerts
export CANBAO_KEEP_RELEASES=1000 CANBAO_DB_CONNECT_ATTEMPTS=1
unset CANBAO_FAULT

mkdir -p "$WORK"
tried=0 failed=0
say_ok()   { echo "ok $1"; }
say_fail() { failed=$((failed + 1)); echo "FAILED $1"; [ $# -gt 1 ] && sed 's/^/       /' <<<"$2"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

fresh_db() {
    "$PG_BIN/dropdb" --if-exists "$1" 2>/dev/null && "$PG_BIN/createdb" "$1" &&
        PGDATABASE=$1 "$CANBAO" db migrate >/dev/null
}
night() {   # DB ASOF OUT [LOG]
    PGDATABASE=$1 "$CANBAO" --quiet run --asof "$2" --extracts "$DELIVERY" --out "$3" >"${4:-/dev/null}" 2>&1
}

# What must equal between two runs: every published file but the manifest and the report
# (the run's timings), the alerts without their new/repeated status; the stored rows of the
# night's succeeded run.
files_of() {   # OUT DEST: a comparable copy of the published set
    rm -rf "$2" && mkdir -p "$2" || return 1
    local f b
    for f in "$1"/*; do
        b=$(basename "$f")
        case $b in
        SHA256SUMS|report_*) ;;
        alerts_*.csv) sed -E 's/^([0-9]+),(new|repeated|changed),/\1,,/' "$f" >"$2/$b" ;;
        alerts_*.xml) sed -E 's/ status="(new|repeated|changed)"//; s/ new="[0-9]+"//' "$f" >"$2/$b" ;;
        *) cp "$f" "$2/$b" ;;
        esac
    done
}
rows_of() {    # DB: the stored rows of the night's succeeded run, without run ids
    local r
    r=$(q "$1" "SELECT run_id FROM canbao.runs WHERE asof = '$ASOF' AND state = 'succeeded'") || return 1
    [ -n "$r" ] || { echo "no succeeded run for $ASOF"; return 1; }
    q "$1" "SELECT 'file', file_no, source, file_name, size_bytes, sha256, records_read, accepted, duplicates, rejected
              FROM canbao.source_files WHERE run_id = $r ORDER BY file_no;
            SELECT 'reject', file_no, record_no, line_no, byte_offset, reason, md5(raw)
              FROM canbao.rejects WHERE run_id = $r ORDER BY file_no, record_no;
            SELECT 'row', list_name, row_no, id_number, township, village, household, md5(columns::text), rule, rule_version
              FROM canbao.list_rows WHERE run_id = $r ORDER BY list_name, row_no;
            SELECT 'evidence', list_name, row_no, file_no, record_no, fact_kind
              FROM canbao.list_evidence WHERE run_id = $r ORDER BY list_name, row_no, file_no, record_no;
            SELECT 'item', ri.list_name, ri.row_no, ri.item_id, ri.class, ri.status, i.id_number, i.cause
              FROM canbao.run_items ri JOIN canbao.list_items i USING (item_id)
             WHERE ri.run_id = $r ORDER BY ri.list_name, ri.row_no;
            SELECT 'ledger', state, ruleset_sha256, message, published_at IS NOT NULL
              FROM canbao.runs WHERE run_id = $r"
}
intact() {     # OUT: the link points at a complete release whose manifest verifies
    [ -L "$1" ] || { echo "$1 is not a link"; return 1; }
    (cd "$1" && sha256sum --quiet -c SHA256SUMS) || { echo "SHA256SUMS does not verify in $(readlink "$1")"; return 1; }
    [ -f "$1/unenrolled_eligible.csv" ] || { echo "no lists in $(readlink "$1")"; return 1; }
}

# the reference: the night before, then the night, uninterrupted
REF="$WORK/ref"
if ! fresh_db canbao_crash_ref || ! night canbao_crash_ref "$PREV" "$REF" || ! night canbao_crash_ref "$ASOF" "$REF"; then
    say_fail "reference runs" "$(tail -n 5 "$WORK"/*.log 2>/dev/null)"
    echo "crash test: 0 kill points tried, 1 failed"
    exit 1
fi
files_of "$REF" "$WORK/ref.files"
rows_of canbao_crash_ref >"$WORK/ref.rows"

OUT="$WORK/out"
fresh_db canbao_crash && night canbao_crash "$PREV" "$OUT" || { say_fail "the night before"; exit 1; }
published="$WORK/published"        # every release the output link ever showed
readlink "$OUT" >"$published"

for point in $POINTS; do
    tried=$((tried + 1))
    before=$(readlink "$OUT")
    log="$WORK/kill-${point/:/-}.log"
    # (in a subshell with its stderr closed: bash's "Killed" note is not news here)
    ( CANBAO_FAULT=$point night canbao_crash "$ASOF" "$OUT" "$log" ) 2>/dev/null
    rc=$?
    problems=""
    [ $rc = 137 ] || problems+="exit $rc, not killed by SIGKILL: $(tail -n 3 "$log")"$'\n'
    grep -q "fault injected: SIGKILL at $point" "$log" || problems+="no fault line in the log"$'\n'
    now=$(readlink "$OUT")
    readlink "$OUT" >>"$published"
    out=$(intact "$OUT") || problems+="after the kill: $out"$'\n'
    case $point in
    publish:2|publish:3) ;;                 # the link had switched to the new complete set
    *) [ "$now" = "$before" ] || problems+="the link moved from $before to $now before publication"$'\n' ;;
    esac
    killed=$(q canbao_crash "SELECT max(run_id) FROM canbao.runs")
    # rerun without the fault: it must recover what the kill left and end like the reference
    if ! night canbao_crash "$ASOF" "$OUT" "$log.rerun"; then
        problems+="the rerun failed: $(tail -n 5 "$log.rerun")"$'\n'
    else
        readlink "$OUT" >>"$published"
        out=$(intact "$OUT") || problems+="after the rerun: $out"$'\n'
        files_of "$OUT" "$WORK/crash.files"
        out=$(diff -r "$WORK/ref.files" "$WORK/crash.files" 2>&1 | head -n 5) ||
            problems+="published files differ from the reference: $out"$'\n'
        rows_of canbao_crash >"$WORK/crash.rows"
        out=$(diff "$WORK/ref.rows" "$WORK/crash.rows" | head -n 5) ||
            problems+="stored rows differ from the reference: $out"$'\n'
        st=$(q canbao_crash "SELECT state FROM canbao.runs WHERE run_id = $killed")
        case $point in
        after_commit|publish:*) want=superseded ;;
        *) want=interrupted ;;
        esac
        [ "$st" = "$want" ] || problems+="the killed run $killed is $st, not $want"$'\n'
        n=$(q canbao_crash "SELECT count(*) FROM canbao.runs WHERE state = 'running'
                            OR (asof = '$ASOF' AND state = 'succeeded' AND published_at IS NULL)")
        [ "$n" = 0 ] || problems+="$n runs still running or unpublished"$'\n'
        n=$(ls -A "$OUT.releases" | grep -c '^\.' || true)
        [ "$n" = 0 ] || problems+="staging folders left: $(ls -A "$OUT.releases" | grep '^\.')"$'\n'
    fi
    if [ -z "$problems" ]; then
        say_ok "kill at $point: killed, previous set intact, the rerun equals the uninterrupted run"
    else
        say_fail "kill at $point" "$problems"
    fi
done

# no alert went out as new twice: in the ledger of the lifecycle, and in the files published
dup=$(q canbao_crash "SELECT string_agg(item_id::text, ',') FROM (SELECT item_id FROM canbao.item_events
                      WHERE to_state = 'sent' AND from_state = 'new' GROUP BY item_id HAVING count(*) > 1) d")
[ -z "$dup" ] && say_ok "lifecycle: no item went from new to sent twice" ||
    say_fail "lifecycle: items sent as new twice: $dup"
dupfiles=$(sort -u "$published" | while read -r rel; do
               cat "$WORK/$rel"/alerts_*.xml 2>/dev/null | grep -o '<alert id="[0-9]*" status="new"'
           done | sort | uniq -d | head -n 5)
nsets=$(sort -u "$published" | wc -l)
[ -z "$dupfiles" ] && say_ok "alerts: no alert id is new in two of the $nsets sets ever published" ||
    say_fail "alerts: new in two published sets" "$dupfiles"
newref=$(cat "$REF.releases"/*/alerts_*.xml | grep -c 'status="new"' || true)
newall=$(sort -u "$published" | while read -r rel; do cat "$WORK/$rel"/alerts_*.xml 2>/dev/null; done |
         grep -c 'status="new"' || true)
[ "$newall" = "$newref" ] && say_ok "alerts: as many new alerts went out ($newall) as in the uninterrupted nights" ||
    say_fail "alerts: $newall new alerts went out over the crashes, $newref in the uninterrupted nights"

echo "crash test: $tried kill points tried, $failed failed"
[ "$failed" = 0 ]
