# Nightly operations (issue 7), sourced by tests/run-tests.sh: the crash test, PostgreSQL
# stopped mid-run and at connect, SIGTERM, --dry-run, a full disk, optional sources with a
# maximum age, the release folders, the ledger.  On a generated delivery of its own (5,000
# persons) and databases of its own; leaves PGDATABASE as it found it.
section "nightly operations"
OPS="$TMP/ops"
OPS_DB0=$PGDATABASE
OPS_CHECK="$ROOT/$BUILD/outcheck"
mkdir -p "$OPS"
"$SYNTH" --persons 5000 --seed 7 --asof $ASOF --out "$OPS/data" >"$OPS/synth.log" 2>&1 ||
    fail "operations: generate 5,000 persons" "$(tail -n 5 "$OPS/synth.log")"
OPS_D="$OPS/data/extracts"
ops_run() {   # ops_run OUT [ARGS...]: the night on the operations database, quiet
    local out=$1; shift
    "$CANBAO" --quiet run --asof $ASOF --extracts "$OPS_D" --out "$out" "$@"
}
ops_state() { sql "SELECT state FROM canbao.runs WHERE run_id = (SELECT max(run_id) FROM canbao.runs)"; }
ops_wait_for() {   # ops_wait_for FILE PATTERN SECONDS
    local i
    for i in $(seq $(($3 * 10))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# -- the crash test: SIGKILL at 14 points of a night, each followed by a rerun
crash_out=$("$ROOT/tests/ops/crash.sh" "$CANBAO" "$OPS_D" "$OPS/crash" $ASOF 2>&1)
crash_rc=$?
while IFS= read -r line; do
    case $line in
    "ok "*) ok "crash: ${line#ok }" ;;
    "FAILED "*) fail "crash: ${line#FAILED }" ;;
    "       "*) echo "$line" ;;
    "crash test:"*) echo "$line" ;;
    esac
done <<<"$crash_out"
grep -qE '^crash test: [0-9]+ kill points tried' <<<"$crash_out" && [ $crash_rc = 0 ] ||
    fail "crash: the crash test ran to its end" "$(tail -n 10 <<<"$crash_out")"

"$PG_BIN/createdb" canbao_ops && export PGDATABASE=canbao_ops
check "operations: a database of their own" "$CANBAO" db migrate

# -- an output folder that is a real directory (an older canbao) becomes a link to the release
O="$OPS/out"
mkdir -p "$O" && echo "yesterday" >"$O/old_list.csv"
check "first run: the output folder becomes a link to the run's release" ops_run "$O"
check "the old output folder is kept in the releases folder, the link points at the release" \
    bash -c '[ -L "$1" ] && [ -f "$1.releases/$(ls "$1.releases" | grep ^legacy- | head -n 1)/old_list.csv" ] &&
             [ "$(readlink "$1")" = "out.releases/$(ls "$1.releases" | grep _run)" ]' _ "$O"
check "the release carries SHA256SUMS that verifies every file" \
    bash -c 'cd "$1" && sha256sum --quiet -c SHA256SUMS && [ "$(wc -l <SHA256SUMS)" = "$(ls | grep -vc ^SHA256SUMS$)" ]' _ "$O"
check "the ledger holds the parameters as loaded (jsonb)" test \
    "$(sql "SELECT parameters->>'min_age' || '|' || jsonb_array_length(parameters->'government_paid') || '|' ||
                   (parameters->>'city_division') FROM canbao.runs ORDER BY run_id DESC LIMIT 1")" = \
    "16 years|$(sed -n 's/^government_paid *= *//p' rules/parameters.conf | tr ',' '\n' | grep -c .)|222401"
check "the ledger says published, where, and every source delivered" test \
    "$(sql "SELECT (published_at IS NOT NULL) || ':' || (out_dir = '$O') || ':' || release || ':' ||
                   (SELECT count(*) FROM jsonb_array_elements(sources) s WHERE s->>'status' = 'delivered')
              FROM canbao.runs ORDER BY run_id DESC LIMIT 1")" = \
    "true:true:$(basename "$(readlink "$O")"):$(ls connectors/agencies/*.conf | wc -l)"
ops_first=$(readlink "$O")

# -- --dry-run: everything but the database writes and the publication
runs_before=$(sql "SELECT count(*) || ':' || (SELECT count(*) FROM canbao.list_items) FROM canbao.runs")
check_exit "dry run: says what it would publish, exit 0" 0 'would publish [0-9]+ files .* replacing .*would supersede run' \
    bash -c 'out=$("$@" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ \
    "$CANBAO" --quiet run --dry-run --asof $ASOF --extracts "$OPS_D" --out "$O"
check "dry run: nothing stored, nothing published, no staging left" \
    test "$(sql "SELECT count(*) || ':' || (SELECT count(*) FROM canbao.list_items) FROM canbao.runs")" = "$runs_before" -a \
         "$(readlink "$O")" = "$ops_first" -a "$(ls -A "$O.releases" | grep -c '^\.')" = 0

# -- a full disk while the outputs are written (ulimit -f: writes fail with EFBIG)
check_exit "full disk: a clean failure naming the file, exit 6" 6 'could not write|File too large' \
    bash -c 'ulimit -f 100; exec "$@"' _ "$CANBAO" --quiet run --asof $ASOF --extracts "$OPS_D" --out "$O"
check "full disk: nothing published, the ledger says failed, no staging left" \
    test "$(readlink "$O")" = "$ops_first" -a "$(ops_state)" = failed -a "$(ls -A "$O.releases" | grep -c '^\.')" = 0
# the files fail while the database holds the run's rows in its open transaction: rolled back
check "full disk: none of the failed run's rows stored" test "$(sql "SELECT (SELECT count(*) FROM canbao.list_rows
    WHERE run_id = r.m) + (SELECT count(*) FROM canbao.run_items WHERE run_id = r.m)
    FROM (SELECT max(run_id) AS m FROM canbao.runs) r")" = 0

# -- SIGTERM: stops at the next safe point, says so in the ledger, publishes nothing
"$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O" >"$OPS/term.log" 2>&1 &
ops_pid=$!
ops_wait_for "$OPS/term.log" 'event=run_start' 30
kill -TERM $ops_pid 2>/dev/null
t0=$(date +%s%N)
wait $ops_pid
ops_rc=$?
ops_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
CANBAO_FAULT=parse:20000:pause "$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O" >"$OPS/term2.log" 2>&1 &
ops_pid=$!
ops_wait_for "$OPS/term2.log" 'event=fault_pause' 60
kill -TERM $ops_pid
t0=$(date +%s%N)
wait $ops_pid
ops_rc2=$?
ops_ms2=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM (early, and while reading): exit 7 within seconds (${ops_ms} ms, ${ops_ms2} ms), says cancelled" \
    bash -c '[ "$1" = 7 ] && [ "$2" = 7 ] && [ "$3" -lt 5000 ] && [ "$4" -lt 5000 ] &&
             grep -q "cancelled by SIGTERM" "$5" && grep -q "cancelled by SIGTERM before" "$6"' _ \
    $ops_rc $ops_rc2 $ops_ms $ops_ms2 "$OPS/term.log" "$OPS/term2.log"
check "SIGTERM: the ledger says cancelled, nothing published, no staging left" \
    test "$(sql "SELECT string_agg(state, ',' ORDER BY run_id) FROM (SELECT run_id, state FROM canbao.runs ORDER BY run_id DESC LIMIT 2) r")" = \
         "cancelled,cancelled" -a "$(readlink "$O")" = "$ops_first" -a "$(ls -A "$O.releases" | grep -c '^\.')" = 0
check_exit "canbao status after a cancelled run: exit 1 and why" 1 'cancelled.*reason: .*cancelled by SIGTERM' \
    bash -c 'out=$("$@" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ "$CANBAO" status
check_exit "... and which run's lists are still published" 1 "published lists are still those of run [0-9]+ for $ASOF" \
    "$CANBAO" status

# -- PostgreSQL stopped while the run is linking: a clean database error, nothing published
CANBAO_FAULT=link:1:pause CANBAO_DB_CONNECT_ATTEMPTS=2 CANBAO_DB_CONNECT_DELAY=0.2 \
    "$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O" >"$OPS/pgstop.log" 2>&1 &
ops_pid=$!
if ops_wait_for "$OPS/pgstop.log" 'event=fault_pause' 60 && pg_halt fast; then
    kill -USR1 $ops_pid
    wait $ops_pid
    ops_rc=$?
    check "PostgreSQL stopped mid-run: exit 4 with a clear message" \
        bash -c '[ "$1" = 4 ] && grep -q "connection to PostgreSQL was lost during the run" "$2" &&
                 grep -q "nothing was published" "$2"' _ $ops_rc "$OPS/pgstop.log"
    check "PostgreSQL stopped mid-run: nothing published, no staging left" \
        test "$(readlink "$O")" = "$ops_first" -a "$(ls -A "$O.releases" | grep -c '^\.')" = 0
    # the server is down: connecting is retried, then a clean failure
    check_exit "server down at connect: retried with backoff, then exit 4" 4 'event=db_connect_failed attempt=2 of=3.*gave up after 3 attempts' \
        bash -c 'out=$(CANBAO_DB_CONNECT_ATTEMPTS=3 CANBAO_DB_CONNECT_DELAY=0.2 "$@" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ \
        "$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O"
    # the server comes back while a run waits for it: the run goes through
    CANBAO_DB_CONNECT_ATTEMPTS=30 CANBAO_DB_CONNECT_DELAY=0.5 \
        "$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O" >"$OPS/pgback.log" 2>&1 &
    ops_pid=$!
    ops_wait_for "$OPS/pgback.log" 'event=db_connect_failed attempt=1' 30
    check "PostgreSQL restarted" pg_restart
    wait $ops_pid
    ops_rc=$?
    check "the server back while the run retries: the run succeeds (the retries logged)" \
        bash -c '[ "$1" = 0 ] && grep -q "event=db_connect_failed attempt=1" "$2"' _ $ops_rc "$OPS/pgback.log"
    check "the run cut off from the database is marked interrupted by the next run" \
        grep -q 'event=run_interrupted' "$OPS/pgback.log"
    check "the rerun published a new complete set" \
        bash -c '[ "$(readlink "$1")" != "$2" ] && cd "$1" && sha256sum --quiet -c SHA256SUMS' _ "$O" "$ops_first"
else
    fail "PostgreSQL stopped mid-run" "$(tail -n 5 "$OPS/pgstop.log")"
    kill $ops_pid 2>/dev/null
    pg_restart
fi
check "the ledger: one succeeded run for the night, the earlier ones superseded, interrupted, cancelled, failed" \
    test "$(sql "SELECT string_agg(DISTINCT state, ',' ORDER BY state) || ':' ||
                   (SELECT count(*) FROM canbao.runs WHERE state = 'succeeded') || ':' ||
                   (SELECT count(*) FROM canbao.runs WHERE state = 'superseded' AND superseded_by IS NOT NULL)
              FROM canbao.runs")" = "cancelled,failed,interrupted,succeeded,superseded:1:1"

# -- the night run again after the pension system acknowledged an alert: the state carries over
ops_ack=$(awk -F, 'NR == 2 { print $1 "," $5 }' "$O/alerts_confirmed_20261128.csv")
{ echo "alert_id,id_number,decision,decided_on,operator,note"; echo "$ops_ack,received,2026-11-29,ops_test,"; } >"$OPS/ack.csv"
check "an alert acknowledged, then the same night run again" \
    bash -c '"$1" ack "$2" >/dev/null && "$1" --quiet run --asof "$3" --extracts "$4" --out "$5"' _ \
    "$CANBAO" "$OPS/ack.csv" $ASOF "$OPS_D" "$O"
check "... the alert stays acknowledged and is not sent again; no alert went out as new twice" test \
    "$(sql "SELECT state FROM canbao.list_items WHERE item_id = ${ops_ack%%,*}")|$(grep -c "<alert id=\"${ops_ack%%,*}\"" "$O/alerts_confirmed_20261128.xml")|$(sql "SELECT count(*) FROM (SELECT item_id FROM canbao.item_events
        WHERE from_state = 'new' AND to_state = 'sent' GROUP BY item_id HAVING count(*) > 1) d")" = "acknowledged|0|0"

# -- a really full disk (a small tmpfs, when root may mount one): ENOSPC while writing
if [ "$(id -u)" = 0 ] && mkdir -p "$OPS/tfs" && mount -t tmpfs -o size=1600k tmpfs "$OPS/tfs" 2>/dev/null; then
    check "small disk (1.6 MB tmpfs): a first night fits" ops_run "$OPS/tfs/out"
    tfs_first=$(readlink "$OPS/tfs/out")
    check_exit "disk full: a clean failure naming the file, exit 6" 6 'No space left on device' \
        "$CANBAO" --quiet run --asof $ASOF --extracts "$OPS_D" --out "$OPS/tfs/out"
    check "disk full: the previous set intact and readable, no staging left" \
        bash -c '[ "$(readlink "$1")" = "$2" ] && cd "$1" && sha256sum --quiet -c SHA256SUMS &&
                 [ "$(ls -A ../ | grep -c "^\.")" = 0 ]' _ "$OPS/tfs/out" "$tfs_first"
    umount "$OPS/tfs"
else
    echo "note   no tmpfs could be mounted (not root?): the full disk was simulated with ulimit -f only"
fi

# -- optional sources: the last good delivery stands in up to max_age; a death list without
#    the health commission's certificates is incomplete in every output
OC="$OPS/conn"
mkdir -p "$OC"
cp connectors/agencies/*.conf "$OC/"
sed -i 's/^required .*/required  = no\nmax_age   = 3 days/' "$OC/health_death_cert.conf"
OS="$OPS/state" O2="$OPS/out2"
mkdir -p "$OPS/nohealth"
cp "$OPS_D"/* "$OPS/nohealth/" && rm "$OPS/nohealth"/health_death_cert_*
ops_night() {   # ops_night ASOF DELIVERY: with the optional health source, 2 releases kept
    CANBAO_KEEP_RELEASES=2 "$CANBAO" --quiet run --asof "$1" --extracts "$2" --out "$O2" --connectors "$OC" \
        --state "$OS" >"$OPS/night-$1.log" 2>&1
}
ops_first_night() {
    ops_night 2026-11-27 "$OPS_D" && ls "$OS"/last_good/health_death_cert/2026-11-27/health_death_cert_* >/dev/null
}
check "optional source: a night with every source keeps a copy of its delivery" ops_first_night
check "optional source missing the next night: the run succeeds with the last good delivery" ops_night $ASOF "$OPS/nohealth"
check "... its deaths list equals the one from the full delivery (the crash test's reference)" \
    cmp "$OPS/crash/ref/deceased_beneficiaries.csv" "$O2/deceased_beneficiaries.csv"
ops_note='health_death_cert（卫健）数据截至 2026-11-27'
check "... every output says the health certificates are as of 2026-11-27: report, workbook, alerts" \
    bash -c 'grep -q "$1" "$2"/report_20261128.html && "$3" dump "$(ls "$2"/township_*.xlsx | head -n 1)" | grep -q "$1" &&
             grep -q "data_note=\"$1" "$2"/alerts_confirmed_20261128.xml && ! grep -q "complete=\"false\"" "$2"/alerts_confirmed_20261128.xml' _ \
    "$ops_note" "$O2" "$OPS_CHECK"
check "... the ledger says which source stood in and how old it was" test \
    "$(sql "SELECT s->>'status' || '@' || (s->>'data_asof') || ':' || coalesce(incomplete, 'complete') FROM canbao.runs,
                   jsonb_array_elements(sources) s WHERE s->>'source' = 'health_death_cert' ORDER BY run_id DESC LIMIT 1")" = \
    "last_good@2026-11-27:complete"
check "... the alerts with the note are valid against schema/alerts.xsd" \
    "$OPS_CHECK" xsd schema/alerts.xsd "$O2/alerts_confirmed_20261128.xml" "$O2/alerts_to_verify_20261128.xml"
check "older than max_age: the run goes on without it (optional)" ops_night 2026-12-02 "$OPS/nohealth"
check "... the death lists are marked incomplete in the report, the workbook, the alerts and the ledger" \
    bash -c 'grep -q "死亡名单不完整" "$1"/report_20261202.html && "$2" dump "$(ls "$1"/township_*.xlsx | head -n 1)" | grep -q "死亡数据不完整" &&
             grep -q "complete=\"false\"" "$1"/alerts_confirmed_20261202.xml && grep -q "complete=\"false\"" "$1"/alerts_to_verify_20261202.xml' _ \
    "$O2" "$OPS_CHECK"
check "... ledger: incomplete names the source, the summary says so" test \
    "$(sql "SELECT (incomplete LIKE '%health_death_cert%') || ':' || (message LIKE '%missing=health_death_cert%deaths_incomplete=yes%')
              FROM canbao.runs ORDER BY run_id DESC LIMIT 1")" = "true:true"
check_exit "canbao status names the missing source, its policy, and the incomplete death lists" 0 \
    'INCOMPLETE: the death lists were built without .*health_death_cert.*not delivered tonight: .*health_death_cert +[^ ]+ +missing .*optional, max [0-9]+ days' \
    bash -c 'out=$("$@" 2>&1); rc=$?; tr "\n" " " <<<"$out"; exit $rc' _ "$CANBAO" status
check "old releases are pruned (CANBAO_KEEP_RELEASES=2)" test "$(ls "$O2.releases" | grep -c _run)" = 2
check_exit "max_age on a required source: an error naming the definition's line" 3 'health_death_cert.conf:[0-9]+:1: max_age is for an optional source' \
    bash -c 'sed -i "s/^required .*/required  = yes/" "$1/health_death_cert.conf" && "$2" check-extracts --connectors "$1" "$3"' _ \
    "$OC" "$CANBAO" "$OPS_D"
check_exit "a bad CANBAO_FAULT is a usage error" 2 'CANBAO_FAULT=nowhere is not a fault point' \
    env CANBAO_FAULT=nowhere "$CANBAO" run --asof $ASOF --extracts "$OPS_D" --out "$O"

# -- a database made anew (restored from a backup, moved) numbers its runs from 1 again: the
#    night's release would take the name of the first one in the folder and fail to publish
ops_old_newest=$(ls "$O.releases" | sed -n 's/.*_run//p' | sort -n | tail -n 1)
ops_new_db_night() {
    "$PG_BIN/createdb" canbao_ops_new && PGDATABASE=canbao_ops_new "$CANBAO" --quiet db migrate >/dev/null &&
        PGDATABASE=canbao_ops_new ops_run "$O" 2>"$OPS/new-db.log" >/dev/null &&
        grep -q "event=run_numbers_continued next=$((ops_old_newest + 1)) newest_release=$ops_old_newest" "$OPS/new-db.log"
}
check "a database made anew: its run goes on after the output folder's releases (run $ops_old_newest), and says so" \
    ops_new_db_night
check "... and is published under a new name, the newest" \
    bash -c '[ "$(readlink "$1")" = "out.releases/$2_run$(($3 + 1))" ]' _ "$O" $ASOF "$ops_old_newest"

export PGDATABASE=$OPS_DB0
