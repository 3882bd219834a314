#!/usr/bin/env bash
# Database setup for canbao, once (and again after an upgrade), run as a PostgreSQL superuser
# (e.g. sudo -u postgres):
#
#   deploy/setup-database.sh [DBNAME [REF_DIVISIONS.csv | TOWNSHIP_CODE...]]
#
#  1. creates the database DBNAME (default canbao) when it is missing;
#  2. applies the migrations (canbao db migrate) as the superuser: the schema belongs to it,
#     and schema/005_security.sql creates the group roles canbao_engine, canbao_bureau,
#     canbao_auditor, canbao_analyst and canbao_township (NOLOGIN);
#  3. creates the nightly run's login role (CANBAO_ENGINE_LOGIN, default canbao_nightly): a
#     member of canbao_engine with BYPASSRLS (storing a run COPYs into tables with row-level
#     security, and role attributes are not inherited from a group);
#  4. creates one role per township, canbao_township_<code>, from the reference list of
#     divisions (its rows of level 乡镇 whose code starts with CANBAO_CITY, e.g. 222401) or
#     from the codes given;
#  5. lets only canbao's roles connect to the database;
#  6. turns PostgreSQL's JIT off in it: a query over the nights kept (a township's view of the
#     latest night, say) is planned for every night's table, and compiling it took longer than
#     running it (3.6 s of a 6.3 s query with 48 nights at Yanji's scale).
#
# Passwords are not set here.  Set the nightly role's with psql's \password (psql hashes it
# before sending it: it appears in no server log) and put it in the run's password file
# (PGPASSFILE, mode 0600): psql -d DBNAME -c '\password canbao_nightly'.  People log in with
# roles of their own, each a member of one group:
#   CREATE ROLE wang_fang LOGIN IN ROLE canbao_township_222401001;   -- a township clerk
#   CREATE ROLE li_na LOGIN IN ROLE canbao_auditor;                   -- an auditor
# deploy/README.md says what each group may read and write.
set -euo pipefail
DB=${1:-canbao}
[ $# -gt 0 ] && shift
LOGIN=${CANBAO_ENGINE_LOGIN:-canbao_nightly}
HOME_DIR=${CANBAO_HOME:-/usr/share/canbao}
CANBAO=${CANBAO:-canbao}

# every name goes into SQL as a psql variable (:'name' quotes it), never pasted into the text
exists=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -d postgres -v db="$DB" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)
if [ "$exists" != 1 ]; then
    createdb "$DB"
fi

PGDATABASE=$DB CANBAO_HOME=$HOME_DIR "$CANBAO" db migrate

psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v login="$LOGIN" -v db="$DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', :'login')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'login') \gexec
SELECT format('ALTER ROLE %I BYPASSRLS', :'login') \gexec
SELECT format('GRANT canbao_engine TO %I', :'login')
 WHERE NOT pg_has_role(:'login', 'canbao_engine', 'MEMBER') \gexec
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO canbao_engine', :'db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO canbao_bureau, canbao_auditor, canbao_analyst, canbao_township',
              :'db') \gexec
SELECT format('ALTER DATABASE %I SET jit = off', :'db') \gexec
SQL

codes=()
if [ $# -eq 1 ] && [ -f "$1" ]; then
    mapfile -t codes < <(awk -F, -v city="${CANBAO_CITY:-}" \
        'NR > 1 && $3 == "乡镇" && index($1, city) == 1 { print $1 }' "$1")
elif [ $# -gt 0 ]; then
    codes=("$@")
fi
for code in "${codes[@]}"; do
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -v code="$code" >/dev/null <<'SQL'
SELECT canbao.township_role_add(:'code');
SQL
done
echo "canbao: database $DB ready: login role $LOGIN (canbao_engine), ${#codes[@]} township role(s)"
