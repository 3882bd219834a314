# TLS for the tests: a certificate authority and a server certificate made with the openssl
# command line, and a second small PostgreSQL cluster that listens on localhost (TCP) with
# ssl=on and accepts only TLS connections with a password.  Source this file (after
# tests/lib/pg.sh), then:
#   tls_ca DIR NAME                  DIR/NAME.key, DIR/NAME.pem: a self-signed CA (EC P-256)
#   tls_server_cert DIR CA HOST      DIR/server.key, DIR/server.pem for HOST (CN and DNS SAN),
#                                    signed by DIR/CA.pem
#   tls_pg_start DIR                 initdb into DIR/pgdata, start with DIR/server.* on a free
#                                    port of localhost; sets TLS_PORT and TLS_SOCK (its unix
#                                    socket, for the superuser's setup work); the server log
#                                    is DIR/server.log (connections logged, every statement)
#   tls_pg_stop                      stop it (call from an EXIT trap too)

TLS_DIR=

tls_ca() {
    local dir=$1 name=$2
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$dir/$name.key" -out "$dir/$name.pem" -subj "/CN=canbao test CA $name" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
}

tls_server_cert() {
    local dir=$1 ca=$2 host=$3
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=$host" 2>/dev/null || return 1
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$host" \
        >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

_tls_free_port() {   # a TCP port of localhost nobody listens on
    local p
    for _ in $(seq 50); do
        p=$((40000 + RANDOM % 9000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    return 1
}

tls_pg_start() {
    TLS_DIR=$1
    TLS_SOCK=$TLS_DIR/sock
    mkdir -p "$TLS_SOCK"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$TLS_DIR" "$TLS_SOCK" "$TLS_DIR/server.key" "$TLS_DIR/server.pem"
    fi
    chmod 600 "$TLS_DIR/server.key"
    _pg_as "$PG_BIN/initdb" -D "$TLS_DIR/pgdata" -U canbao --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 -N >"$TLS_DIR/initdb.log" 2>&1 || { cat "$TLS_DIR/initdb.log" >&2; return 1; }
    # TLS or nothing over TCP; the unix socket is for the superuser's setup
    cat >"$TLS_DIR/pg_hba.conf" <<'HBA'
local      all  all                 trust
hostssl    all  all  127.0.0.1/32   scram-sha-256
hostssl    all  all  ::1/128        scram-sha-256
hostnossl  all  all  0.0.0.0/0      reject
hostnossl  all  all  ::/0           reject
HBA
    [ "$(id -u)" = 0 ] && chown postgres "$TLS_DIR/pg_hba.conf"
    TLS_PORT=$(_tls_free_port) || return 1
    _pg_as "$PG_BIN/pg_ctl" -D "$TLS_DIR/pgdata" -l "$TLS_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=localhost -p $TLS_PORT -c unix_socket_directories='$TLS_SOCK' \
            -c hba_file='$TLS_DIR/pg_hba.conf' -c ssl=on -c ssl_cert_file='$TLS_DIR/server.pem' \
            -c ssl_key_file='$TLS_DIR/server.key' -c log_connections=on -c log_statement=all \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$TLS_DIR/server.log" >&2; return 1; }
}

tls_pg_stop() {
    [ -n "$TLS_DIR" ] && [ -d "$TLS_DIR/pgdata" ] || return 0
    _pg_as "$PG_BIN/pg_ctl" -D "$TLS_DIR/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    TLS_DIR=
}
