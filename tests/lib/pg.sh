# Private PostgreSQL 15 cluster for tests and the demo.  Source this file, then
#   pg_start DIR   initdb into DIR/pgdata, listen only on a unix socket in DIR/sock, export
#                  PGHOST PGPORT PGUSER PGDATABASE for libpq (and canbao) to find it;
#   pg_stop        stop it (immediate) — call from an EXIT trap so a failed test stops it too;
#   pg_halt [MODE] stop it (fast by default) as an outage would, keeping it known;
#   pg_restart     start it again after pg_halt, on the same socket and port.
# As root, the cluster runs as the `postgres` system user (initdb refuses root); otherwise as
# the caller.  Nothing listens on TCP.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=

_pg_as() {   # run a command as the cluster owner
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_pg_free_port() {   # a port number whose socket name is free in our private socket dir
    local p
    for p in $(seq $((50000 + RANDOM % 10000)) 65000); do
        [ -e "$1/.s.PGSQL.$p" ] || { echo "$p"; return; }
    done
}

pg_start() {
    PG_DIR=$1
    mkdir -p "$PG_DIR/sock"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$PG_DIR" "$PG_DIR/sock"
        # the cluster owner must be able to reach its folder
        local d=$PG_DIR
        while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
    fi
    _pg_as "$PG_BIN/initdb" -D "$PG_DIR/pgdata" -U canbao --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    PGPORT=$(_pg_free_port "$PG_DIR/sock")
    PG_OPTS="-c listen_addresses='' -c unix_socket_directories='$PG_DIR/sock' -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/pgdata" -l "$PG_DIR/server.log" -w -t 60 -o "$PG_OPTS" \
        start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
    export PGHOST=$PG_DIR/sock PGPORT PGUSER=canbao PGDATABASE=postgres
    "$PG_BIN/createdb" canbao || return 1
    export PGDATABASE=canbao
}

pg_stop() {
    [ -n "$PG_DIR" ] && [ -d "$PG_DIR/pgdata" ] || return 0
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    PG_DIR=
}

pg_halt() {
    [ -n "$PG_DIR" ] || return 1
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/pgdata" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

pg_restart() {
    [ -n "$PG_DIR" ] || return 1
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/pgdata" -l "$PG_DIR/server.log" -w -t 60 -o "$PG_OPTS" \
        start >/dev/null || { tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
}
