#!/usr/bin/env bash
# make demo: generate a synthetic Yanji, start a private PostgreSQL under var/demo, run canbao
# on the generated delivery and say where the lists are.  The cluster is stopped at the end;
# its data stays in var/demo/pg for a look with psql (see the last lines printed).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROOT=$PWD
PERSONS=${CANBAO_DEMO_PERSONS:-100000}
ASOF=${CANBAO_DEMO_ASOF:-2026-11-28}
DEMO=$ROOT/var/demo

source tests/lib/pg.sh
rm -rf "$DEMO"
mkdir -p "$DEMO"
trap pg_stop EXIT

echo "canbao demo: generating $PERSONS persons of synthetic Yanji as of $ASOF"
"$BUILD/synth" --persons "$PERSONS" --seed 2026 --asof "$ASOF" --out "$DEMO/data"
echo "canbao demo: starting a private PostgreSQL 15 in var/demo/pg"
pg_start "$DEMO/pg"
"$BUILD/canbao" db migrate
"$BUILD/canbao" run --asof "$ASOF" --extracts "$DEMO/data/extracts" --out "$DEMO/out"
echo
echo "The lists are in var/demo/out/: every list as CSV (full ID numbers), a workbook per township"
echo "(township_*.xlsx, IDs masked), the suspension alerts (alerts_*.xml, .csv), the nightly report"
echo "(report_*.html), links.csv (how records without a usable ID were linked), rejects.csv and files.csv."
echo "The generated delivery is in var/demo/data/extracts/, the generator's truth in var/demo/data/truth/."
echo "The database stays in var/demo/pg; to look at it:"
echo "  $PG_BIN/pg_ctl -D var/demo/pg/pgdata -o \"-c listen_addresses='' -c unix_socket_directories='$DEMO/pg/sock' -p $PGPORT\" start"
echo "  psql -h $DEMO/pg/sock -p $PGPORT -U canbao canbao -c 'select * from canbao.runs'"
echo
echo "Checking the lists against the generator's truth:"
for t in "$DEMO"/data/truth/*.csv; do
    n=$(basename "$t")
    [ -f "$DEMO/out/$n" ] && "$BUILD/csvdiff" "$t" "$DEMO/out/$n" | tail -n 1
done
