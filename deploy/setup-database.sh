#!/usr/bin/env bash
# One-time database setup for canbao, run as a PostgreSQL superuser (e.g. sudo -u postgres):
#   deploy/setup-database.sh [DBNAME]
# Creates the engine's role (login, no superuser) and the database it owns, then applies the
# migrations as that role.  The role's password is set separately and kept in the engine's
# password file: psql -c "\password canbao_engine".
set -euo pipefail
DB=${1:-canbao}
ROLE=${CANBAO_ENGINE_ROLE:-canbao_engine}
HOME_DIR=${CANBAO_HOME:-/usr/share/canbao}

psql -v ON_ERROR_STOP=1 -X -q <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END \$\$;
SQL
if ! psql -XAtqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    createdb -O "$ROLE" "$DB"
fi
PGDATABASE=$DB PGUSER=$ROLE CANBAO_HOME=$HOME_DIR canbao db migrate
echo "canbao: database $DB ready for role $ROLE"
