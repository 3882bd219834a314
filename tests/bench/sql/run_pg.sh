#!/usr/bin/env bash
# make bench, column (3): the lists computed in PostgreSQL with COPY and SQL.
#
#   tests/bench/sql/run_pg.sh EXTRACTS CONVERTED OUT ASOF
#   tests/bench/sql/run_pg.sh --drop      drops its database (the tables take GBs at S)
#
# Needs a running server (PGHOST, PGPORT, PGUSER as tests/lib/pg.sh exports them) on this
# machine whose user may COPY from files and programs; EXTRACTS and CONVERTED
# (tests/bench/prepare_convert.py) must be readable by the server's system user.  Each run
# starts from an empty database canbao_sqlbench: functions_pg.sql, load_pg.sql (COPY),
# facts.sql, lists.sql, then every list to OUT/<list>.csv.  Prints one line:
#   event=postgresql load=S sql=S total=S      (seconds; load = COPY + typed facts)
# Session settings a user would make for a one-off analysis: work_mem 256MB (hashes and
# sorts in memory), unlogged tables (facts.sql's CREATE TABLE becomes CREATE UNLOGGED TABLE).
set -euo pipefail
db=canbao_sqlbench
if [ "${1:-}" = --drop ]; then exec dropdb --if-exists --force "$db"; fi
[ $# -eq 4 ] || { echo "usage: $0 EXTRACTS CONVERTED OUT ASOF | --drop" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
extracts=$(cd "$1" && pwd)
converted=$(cd "$2" && pwd)
out=$3
asof=$4
stamp=${asof//-/}
# the server runs the transcoder: a python3 its system user can run
py=${CANBAO_BENCH_PYTHON:-$(PATH=/usr/bin:/bin command -v python3)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

export PGOPTIONS="${PGOPTIONS:-} -c work_mem=256MB -c maintenance_work_mem=256MB -c client_min_messages=warning"
psql=(psql -X -q -v ON_ERROR_STOP=1 -d "$db")
shared() {   # the shared SQL in PostgreSQL's dialect
    sed -e 's/^CREATE TABLE /CREATE UNLOGGED TABLE /' -e 's|/\*FENCE\*/|OFFSET 0|g' "$1"
}
now() { date +%s.%N; }

dropdb --if-exists --force "$db"
createdb "$db"
t0=$(now)
"${psql[@]}" -v dir="$extracts" -v conv="$converted" -v stamp="$stamp" -v py="$py" \
    -v transcode="$here/../transcode.py" \
    -f "$here/functions_pg.sql" -f "$here/load_pg.sql" -f <(shared "$here/facts.sql")
t1=$(now)
{
    echo "CREATE UNLOGGED TABLE params AS SELECT DATE '$asof' AS d;"
    shared "$here/lists.sql"
    for l in unenrolled_eligible unenrolled_in_prison deceased_beneficiaries deceased_contributors \
             prison_suspension double_enrolment approaching_benefit_age proof_of_life_due \
             contribution_reconciliation township_staffing; do
        echo "\\o $out/$l.csv"
        echo "COPY (SELECT * FROM l_$l ORDER BY 1, 2) TO STDOUT WITH (FORMAT csv, HEADER true);"
    done
    echo "\\o"
} | "${psql[@]}"
t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN { printf "event=postgresql load=%.3f sql=%.3f total=%.3f\n", b - a, c - b, c - a }'
