# Security (issue 9), against the private cluster: least privilege (the roles of
# schema/005_security.sql, made by deploy/setup-database.sh; row-level security for townships),
# the append-only audit log, township packages (encrypted, signed; checked with openssl too),
# pseudonymised statistics, TLS with sslmode=verify-full on a second cluster, no password in
# any log, and hostile names through to the database and the outputs.  Sourced by
# tests/run-tests.sh (see the comment above its loop for what it may use).
section "security"
SEC="$TMP/security"
SEC_KEYS="$SEC/keys"
SEC_MAIN_DB=$PGDATABASE
mkdir -p "$SEC_KEYS"
# shellcheck source=tests/security/tls.sh
source tests/security/tls.sh

# keys: packages, pseudonyms (two), signatures (ECDSA P-256, another one, SM2)
(
    umask 077
    openssl rand -hex 32 >"$SEC_KEYS/package.key"
    openssl rand -hex 32 >"$SEC_KEYS/pseudonym.key"
    openssl rand -hex 32 >"$SEC_KEYS/pseudonym2.key"
    for k in sign other; do openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$SEC_KEYS/$k.pem"; done
    openssl genpkey -algorithm SM2 -out "$SEC_KEYS/sm2.pem"
    for k in sign other sm2; do openssl pkey -in "$SEC_KEYS/$k.pem" -pubout -out "$SEC_KEYS/$k.pub"; done
) 2>"$SEC/keys.log" || echo "note   making the test keys: $(tail -n 3 "$SEC/keys.log")"

# as_role ROLE SQL: output and errors of SQL run by a login role
as_role() { local who=$1; shift; PGUSER=$who psql -XAtq -v ON_ERROR_STOP=1 -c "$*" 2>&1; }
# denied ROLE SQL...: every statement is refused for lack of privilege
denied() {
    local who=$1 s out
    shift
    for s in "$@"; do
        out=$(as_role "$who" "$s")
        grep -q 'permission denied' <<<"$out" || { echo "$who: $s"$'\n'"  gave: $out"; return 1; }
    done
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- least privilege
SDB=canbao_security
check "setup-database.sh: database, migrations, group roles, the nightly login role, a role per township" \
    env CANBAO="$CANBAO" CANBAO_HOME="$ROOT" CANBAO_CITY=222401 bash deploy/setup-database.sh $SDB \
        "$DATA/extracts/ref_divisions.csv"
export PGDATABASE=$SDB
# JIT compiled queries over the nights' tables for longer than they ran (schema/015)
check "setup-database.sh turns JIT off in the database" \
    test "$(sql "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                 WHERE d.datname = current_database() AND s.setrole = 0 AND 'jit=off' = ANY (s.setconfig)")" = 1
sql "CREATE ROLE sec_clerk1 LOGIN IN ROLE canbao_township_222401001;
     CREATE ROLE sec_clerk2 LOGIN IN ROLE canbao_township_222401002;
     CREATE ROLE sec_bureau LOGIN IN ROLE canbao_bureau;
     CREATE ROLE sec_auditor LOGIN IN ROLE canbao_auditor;
     CREATE ROLE sec_analyst LOGIN IN ROLE canbao_analyst" >/dev/null
S1="$SEC/n1"
check "the nightly login (canbao_engine; not superuser, not owner) runs a night with packages and pseudonyms" \
    env PGUSER=canbao_nightly "$CANBAO" --quiet run --asof $ASOF --extracts "$DATA/extracts" --out "$S1" \
        --package-key "$SEC_KEYS/package.key" --sign-key "$SEC_KEYS/sign.pem" \
        --pseudonym-key "$SEC_KEYS/pseudonym.key"
R1=$(sql "SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded'")
# lifecycle_apply ANALYZEs the tables the night filled: only as their owner (SECURITY DEFINER),
# which a CREATE OR REPLACE of the function drops unless it says it again (schema/011)
analysed_as_owner() {
    local def n i
    def=$(sql "SELECT p.prosecdef AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig) FROM pg_proc p
               WHERE p.oid = 'canbao.lifecycle_apply(bigint, text[], bigint[])'::regprocedure")
    # analysed by the night, or by autovacuum just before it (then the night had no need to); a
    # backend's statistics reach the views when it ends: a moment after
    for i in $(seq 20); do
        n=$(sql "SELECT count(*) FROM pg_stat_user_tables s, canbao.runs r
                  WHERE r.run_id = $R1 AND s.schemaname = 'canbao' AND s.relname IN ('run_items', 'list_items')
                    AND greatest(s.last_analyze, s.last_autoanalyze) >= r.started_at")
        [ "$n" = 2 ] && break
        sleep 0.5
    done
    [ "$def" = t ] || echo "lifecycle_apply is not SECURITY DEFINER with its search_path"
    [ "$n" = 2 ] || echo "$n of run_items and list_items analysed since the night began"
    [ "$def" = t ] && [ "$n" = 2 ]
}
check "the nightly login's night analyses the tables it filled (lifecycle_apply runs as their owner)" analysed_as_owner

own_rows() {
    local all mine other
    all=$(sql "SELECT count(*) FROM canbao.list_rows WHERE township = '222401001'")
    mine=$(as_role sec_clerk1 "SELECT count(*) || ':' || count(DISTINCT township) || ':' || min(township) FROM canbao.list_rows")
    [ "$all" -gt 0 ] && [ "$mine" = "$all:1:222401001" ] ||
        { echo "the clerk of 222401001 sees $mine; the township has $all rows"; return 1; }
    other=$(as_role sec_clerk1 "SELECT count(*) FROM canbao.list_rows WHERE township = '222401002'")
    [ "$other" = 0 ] || { echo "the clerk of 222401001 sees $other rows of 222401002"; return 1; }
    mine=$(as_role sec_clerk2 "SELECT min(township) || ' ' || max(township) FROM canbao.list_rows")
    [ "$mine" = "222401002 222401002" ] || { echo "the clerk of 222401002 sees townships $mine"; return 1; }
}
check "RLS: a township's role reads its own rows of table canbao.list_rows, none of another township's" own_rows
no_full_ids() {
    denied sec_clerk1 "SELECT id_number FROM canbao.list_rows LIMIT 1" "SELECT * FROM canbao.list_rows LIMIT 1" \
        "SELECT columns FROM canbao.list_rows LIMIT 1" || return 1
    local got
    got=$(as_role sec_clerk1 "SELECT count(*) || ':' || bool_and(id_masked ~ '^[0-9]{6}[*]{8}[0-9]{3}[0-9X]$')
                              FROM canbao.township_rows")
    [[ $got =~ ^[1-9][0-9]*:true$ ]] || { echo "township_rows for the clerk: $got"; return 1; }
    # no row of the township views carries its person's full ID number anywhere (003's view
    # showed it inside `columns`)
    got=$(sql "SELECT count(*) FROM canbao.township_rows t JOIN canbao.list_items i USING (item_id)
               WHERE strpos(row_to_json(t)::text, i.id_number) > 0")
    [ "$got" = 0 ] || { echo "$got rows of canbao.township_rows show the full ID number"; return 1; }
}
check "RLS: a township's role cannot read full ID numbers (table columns refused; views masked)" no_full_ids
check "RLS: a township's role writes nothing and reads no other table" denied sec_clerk1 \
    "INSERT INTO canbao.list_rows (run_id, list_name, row_no, columns, rule, rule_version) VALUES ($R1, 'x', 1, '{}', 'r', 'v')" \
    "UPDATE canbao.list_rows SET household = 'x'" "DELETE FROM canbao.list_rows" "TRUNCATE canbao.list_rows" \
    "UPDATE canbao.feedback SET note = 'x'" "DELETE FROM canbao.runs" \
    "SELECT 1 FROM canbao.list_items" "SELECT 1 FROM canbao.rejects" "SELECT 1 FROM canbao.list_evidence" \
    "SELECT 1 FROM canbao.match_review" "SELECT 1 FROM canbao.audit_log" "SELECT 1 FROM canbao.analytics_rows"
# schema/015: a night's own tables are read through list_rows, list_evidence and run_items only;
# the nightly login fills them through the owner's functions, for a running run only
night_tables_closed() {
    local out
    denied sec_clerk1 "SELECT township FROM canbao.list_rows_$R1" "SELECT 1 FROM canbao.run_items_$R1" \
        "SELECT 1 FROM canbao.list_evidence_$R1" || return 1
    out=$(as_role canbao_nightly "DROP TABLE canbao.list_rows_$R1")
    grep -q "must be owner" <<<"$out" || { echo "the nightly login's DROP of a night's table: $out"; return 1; }
    out=$(as_role canbao_nightly "SELECT canbao.run_table_create('list_rows', $R1)")
    grep -q "run $R1 is not running" <<<"$out" || { echo "a night's table for a finished run: $out"; return 1; }
    out=$(as_role canbao_nightly "SELECT canbao.run_table_create('runs', $R1)")
    grep -q "not a table of a night" <<<"$out" || { echo "run_table_create of another table: $out"; return 1; }
    denied sec_clerk1 "SELECT canbao.run_table_create('list_rows', $R1)" "SELECT canbao.run_table_attach('list_rows', $R1)"
}
check "a night's own tables: no township reads them, the nightly login neither drops nor makes them but for its run" \
    night_tables_closed

# the operators' commands as the nightly login: a township's answers, acknowledgements, a review
BACK1="$SEC/back1.xlsx" BACK2="$SEC/back2.xlsx"
"$ROOT/$BUILD/outcheck" clerk "$(ls "$S1"/township_222401001_*.xlsx)" "$BACK1" --set 1:1:已联系:: >/dev/null
"$ROOT/$BUILD/outcheck" clerk "$(ls "$S1"/township_222401002_*.xlsx)" "$BACK2" --set 1:1:外出务工::在韩国 \
    --set 1:2:已联系:: >/dev/null
check_exit "feedback as the nightly login: answers recorded" 0 '1 answers? recorded' \
    env PGUSER=canbao_nightly "$CANBAO" feedback "$BACK1"
env PGUSER=canbao_nightly "$CANBAO" feedback "$BACK2" >/dev/null 2>&1
feedback_rls() {
    local a b
    a=$(as_role sec_clerk1 "SELECT count(*) || ':' || min(township) || ':' || max(township) FROM canbao.feedback")
    b=$(as_role sec_clerk2 "SELECT count(*) || ':' || min(township) || ':' || max(township) FROM canbao.feedback")
    [ "$a" = "1:222401001:222401001" ] && [ "$b" = "2:222401002:222401002" ] ||
        { echo "clerk 1 sees $a, clerk 2 sees $b"; return 1; }
}
check "RLS: a township's role sees its own answers in canbao.feedback only" feedback_rls
{ echo "alert_id,id_number,decision,decided_on,operator,note"
  awk -F, 'NR == 2 { print $1 "," $5 ",received,2026-11-29,zhangli," }
           NR == 3 { print $1 "," $5 ",not_deceased,2026-11-29,zhangli,本人到窗口认证" }' \
      "$S1/alerts_confirmed_20261128.csv"; } >"$SEC/ack.csv"
check_exit "ack as the nightly login: acknowledgements recorded" 0 '2 acknowledgements recorded' \
    env PGUSER=canbao_nightly "$CANBAO" ack "$SEC/ack.csv"
SOMEONE=$(awk -F, 'NR == 2 { print $1 }' "$OUT/unenrolled_eligible.csv")
sql "INSERT INTO canbao.match_review (run_id, record_key, source, file_name, record_no, outcome, cand_rank,
                                      candidate_id, candidate_name)
     VALUES ($R1, 'civil_cremation:00000000deadbeef', 'civil_cremation', 'civil_cremation_20261128.txt', 7,
             'to_verify', 1, '$SOMEONE', '某')" >/dev/null
check_exit "review as the nightly login: the decision recorded" 0 'recorded for' \
    env PGUSER=canbao_nightly "$CANBAO" review civil_cremation_20261128.txt:7 --same "$SOMEONE" --by 审核员王

bureau() {
    local got all
    got=$(as_role sec_bureau "SELECT count(*) || ':' || count(DISTINCT id_number) FROM canbao.list_rows")
    all=$(sql "SELECT count(*) || ':' || count(DISTINCT id_number) FROM canbao.list_rows")
    [ "$got" = "$all" ] || { echo "the bureau reads $got, the table has $all"; return 1; }
    denied sec_bureau "UPDATE canbao.runs SET message = 'x'" "DELETE FROM canbao.list_rows" "SELECT 1 FROM canbao.audit_log"
}
check "bureau: reads every row and ID number, writes nothing, not the audit log" bureau
auditor() {
    local got
    got=$(as_role sec_auditor "SELECT (SELECT count(*) FROM canbao.runs) || ':' || (SELECT count(*) FROM canbao.audit_log)")
    [[ $got =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || { echo "the auditor reads $got"; return 1; }
    denied sec_auditor "SELECT 1 FROM canbao.list_rows" "SELECT 1 FROM canbao.list_items" "SELECT 1 FROM canbao.rejects" \
        "SELECT 1 FROM canbao.feedback" "SELECT 1 FROM canbao.analytics_rows" "DELETE FROM canbao.audit_log"
}
check "auditor: reads the ledger and the audit log, no list row, no ID number" auditor
analyst() {
    local got
    got=$(as_role sec_analyst "SELECT sum(rows) FROM canbao.analytics_counts")
    [[ $got =~ ^[1-9][0-9]*$ ]] || { echo "the analyst reads $got"; return 1; }
    denied sec_analyst "SELECT 1 FROM canbao.list_rows" "SELECT 1 FROM canbao.list_items" "SELECT 1 FROM canbao.runs"
}
check "analyst: the pseudonymised counts, nothing with an ID number" analyst

# ---------------------------------------------------------------- packages
PKGS=("$S1"/township_*_20261128.cbpkg)
BOOKS=$(ls "$S1"/township_[0-9]*.xlsx | wc -l)
P1=$(ls "$S1"/township_222401001_20261128.cbpkg)
packages_in_release() {
    [ "${#PKGS[@]}" = "$BOOKS" ] && [ "$BOOKS" -gt 0 ] || { echo "${#PKGS[@]} packages for $BOOKS workbooks"; return 1; }
    [ "$(grep -c '\.cbpkg' "$S1/SHA256SUMS")" = $((2 * BOOKS)) ] || { echo "packages not in SHA256SUMS"; return 1; }
    (cd "$S1" && sha256sum -c --quiet SHA256SUMS)
}
check "packages: one per township workbook, signed, in the release and its SHA256SUMS" packages_in_release
check_exit "verify: every package's signature is good (ECDSA P-256 with SHA-256)" 0 \
    "township_222401001_20261128.cbpkg: signature good \(ECDSA P-256 with SHA-256" \
    "$CANBAO" verify --pubkey "$SEC_KEYS/sign.pub" "${PKGS[@]}"
check "verify: openssl agrees (openssl dgst -sha256 -verify)" \
    openssl dgst -sha256 -verify "$SEC_KEYS/sign.pub" -signature "$P1.sig" "$P1"
decrypt_same() {   # decrypt_same PACKAGE KEY DIR: the workbook and CSV back, byte for byte
    "$CANBAO" decrypt --key "$2" --pubkey "${4:-$SEC_KEYS/sign.pub}" --out "$3" "$1" || return 1
    local f n=0
    for f in "$S1"/township_222401001_*.xlsx "$S1"/township_222401001_*.csv; do
        cmp "$f" "$3/$(basename "$f")" || return 1
        n=$((n + 1))
    done
    [ "$n" = 2 ] && [ "$(ls "$3" | wc -l)" = 2 ]
}
check "decrypt: the township's workbook and CSV, byte for byte (AES-256-GCM)" \
    decrypt_same "$P1" "$SEC_KEYS/package.key" "$SEC/dec1"
check_exit "decrypt: another key is refused" 3 'wrong key' \
    "$CANBAO" decrypt --key "$SEC_KEYS/pseudonym.key" --out "$SEC/dec-wrong" "$P1"
mkdir -p "$SEC/flip"
cp "$P1" "$SEC/flip/x.cbpkg" 2>/dev/null && cp "$P1.sig" "$SEC/flip/x.cbpkg.sig"
HALF=$(( $(stat -c %s "$P1" 2>/dev/null || echo 0) / 2 ))
printf '\x5a' | dd of="$SEC/flip/x.cbpkg" bs=1 seek="$HALF" conv=notrunc 2>/dev/null
cmp -s "$P1" "$SEC/flip/x.cbpkg" && printf '\xa5' | dd of="$SEC/flip/x.cbpkg" bs=1 seek="$HALF" conv=notrunc 2>/dev/null
check_exit "verify: one changed byte fails the signature" 3 'signature does not match' \
    "$CANBAO" verify --pubkey "$SEC_KEYS/sign.pub" "$SEC/flip/x.cbpkg"
check_exit "decrypt: one changed byte fails the GCM tag, nothing written" 3 'authentication failed' \
    bash -c '"$@"; rc=$?; [ ! -e "$0" ] || { echo "files written"; exit 1; }; exit $rc' "$SEC/dec-flip" \
    "$CANBAO" decrypt --key "$SEC_KEYS/package.key" --out "$SEC/dec-flip" "$SEC/flip/x.cbpkg"
check_exit "verify: the public key of another key pair fails" 3 'signature does not match' \
    "$CANBAO" verify --pubkey "$SEC_KEYS/other.pub" "$P1"
# the national algorithms: SM2 signatures, SM4 (GCM where OpenSSL has it, else CTR + HMAC-SM3)
check_exit "package: SM4 packages signed with SM2 for a night's release (canbao package)" 0 'township packages? of run' \
    env PGUSER=canbao_nightly "$CANBAO" package --package-key "$SEC_KEYS/package.key" --sign-key "$SEC_KEYS/sm2.pem" \
        --package-cipher sm4 --out "$S1" --into "$SEC/sm" --asof $ASOF
P2="$SEC/sm/township_222401001_20261128.cbpkg"
check_exit "verify: SM2 with SM3" 0 'signature good \(SM2 with SM3.*SM4' "$CANBAO" verify --pubkey "$SEC_KEYS/sm2.pub" "$P2"
check "verify: openssl agrees (pkeyutl -digest sm3, distid 1234567812345678)" \
    openssl pkeyutl -verify -pubin -inkey "$SEC_KEYS/sm2.pub" -rawin -digest sm3 -in "$P2" -sigfile "$P2.sig" \
        -pkeyopt distid:1234567812345678
check "decrypt: the same files back from the SM4 package" \
    decrypt_same "$P2" "$SEC_KEYS/package.key" "$SEC/dec2" "$SEC_KEYS/sm2.pub"
cp "$P2" "$SEC/flip/y.cbpkg"
printf '\x00\x00' | dd of="$SEC/flip/y.cbpkg" bs=1 seek=100 conv=notrunc 2>/dev/null
check_exit "decrypt: a changed SM4 package fails its authentication" 3 'authentication failed' \
    "$CANBAO" decrypt --key "$SEC_KEYS/package.key" --out "$SEC/dec-flip2" "$SEC/flip/y.cbpkg"

# ---------------------------------------------------------------- pseudonymised statistics
sql "SELECT DISTINCT id_number FROM canbao.list_rows WHERE id_number IS NOT NULL" >"$SEC/ids.txt"
pseudo_no_ids() {
    local rows want
    rows=$(sql "SELECT count(*) FROM canbao.analytics_rows WHERE run_id = $R1")
    want=$(sql "SELECT count(*) FROM canbao.list_rows WHERE run_id = $R1 AND id_number IS NOT NULL")
    [ "$rows" = "$want" ] && [ "$rows" -gt 0 ] || { echo "$rows token rows for $want person rows"; return 1; }
    sql "SELECT row_to_json(a) FROM canbao.analytics_rows a; SELECT row_to_json(c) FROM canbao.analytics_counts c;
         SELECT row_to_json(r) FROM canbao.analytics_runs r" >"$SEC/analytics.json"
    [ -s "$SEC/ids.txt" ] && [ -s "$SEC/analytics.json" ] || { echo "nothing to compare"; return 1; }
    if grep -F -f "$SEC/ids.txt" "$SEC/analytics.json" >"$SEC/leak.txt"; then
        echo "ID numbers in the statistics:"; head -n 3 "$SEC/leak.txt"; return 1
    fi
}
check "pseudonyms: a token for every person row, and no ID number anywhere in the statistics" pseudo_no_ids
token_is_hmac() {   # token_is_hmac RUN DIGEST KEY: a token equals openssl's HMAC of the ID number
    local id tok want
    IFS='|' read -r id tok <<<"$(sql "SELECT l.id_number, a.person_token FROM canbao.analytics_rows a
        JOIN canbao.list_rows l USING (run_id, list_name, row_no) WHERE a.run_id = $1 ORDER BY a.list_name, a.row_no LIMIT 1")"
    want=$(printf '%s' "$id" | openssl dgst "-$2" -mac HMAC -macopt "hexkey:$(cat "$3")" | awk '{ print $NF }')
    [ -n "$tok" ] && [ "$tok" = "$want" ] || { echo "token $tok, openssl says $want"; return 1; }
}
check "pseudonyms: a token is HMAC-SHA-256 of the ID number (as openssl computes it)" \
    token_is_hmac "$R1" sha256 "$SEC_KEYS/pseudonym.key"
check "pseudonyms: counts per list and township equal the lists'" test "$(sql "
    SELECT count(*) FROM ((SELECT list_name, township, count(*) FROM canbao.list_rows
                            WHERE run_id = $R1 AND id_number IS NOT NULL GROUP BY 1, 2
                           EXCEPT SELECT list_name, township, rows FROM canbao.analytics_counts WHERE run_id = $R1)
                          UNION ALL
                          (SELECT list_name, township, rows FROM canbao.analytics_counts WHERE run_id = $R1
                           EXCEPT SELECT list_name, township, count(*) FROM canbao.list_rows
                            WHERE run_id = $R1 AND id_number IS NOT NULL GROUP BY 1, 2)) d")" = 0
check "the same night again, the same pseudonym key" \
    env PGUSER=canbao_nightly "$CANBAO" --quiet run --asof $ASOF --extracts "$DATA/extracts" --out "$SEC/n2" \
        --pseudonym-key "$SEC_KEYS/pseudonym.key"
R2=$(sql "SELECT max(run_id) FROM canbao.runs WHERE state = 'succeeded'")
same_tokens() {   # pairs of rows about the same person on the same list in runs 1 and 2: equal tokens?
    sql "ANALYZE canbao.analytics_rows" >/dev/null   # fresh rows: without statistics, a nested loop
    sql "WITH t1 AS MATERIALIZED (
              SELECT l.list_name, l.id_number, a.person_token FROM canbao.analytics_rows a
                JOIN canbao.list_rows l USING (run_id, list_name, row_no) WHERE a.run_id = $R1),
              t2 AS MATERIALIZED (
              SELECT l.list_name, l.id_number, a.person_token FROM canbao.analytics_rows a
                JOIN canbao.list_rows l USING (run_id, list_name, row_no) WHERE a.run_id = $R2)
         SELECT count(*) || ':' || count(*) FILTER (WHERE t1.person_token = t2.person_token)
           FROM t1 JOIN t2 USING (list_name, id_number)"
}
stable() { local s; s=$(same_tokens); [[ $s =~ ^[1-9][0-9]*: ]] && [ "${s%%:*}" = "${s#*:}" ] || { echo "pairs:equal tokens = $s"; return 1; }; }
check "pseudonyms: the same key gives every person the same token in the next run" stable
check_exit "pseudonymise: run 2 again with another key" 0 'person rows pseudonymised' \
    env PGUSER=canbao_nightly "$CANBAO" pseudonymise --pseudonym-key "$SEC_KEYS/pseudonym2.key" --run "$R2"
differ() { local s; s=$(same_tokens); [[ $s =~ ^[1-9][0-9]*:0$ ]] || { echo "pairs:equal tokens = $s"; return 1; }; }
check "pseudonyms: another key gives every person another token" differ
check_exit "pseudonymise: HMAC-SM3" 0 'HMAC-SM3' \
    env PGUSER=canbao_nightly "$CANBAO" pseudonymise --pseudonym-key "$SEC_KEYS/pseudonym.key" --pseudonym-alg sm3 --run "$R2"
check "pseudonyms: an HMAC-SM3 token as openssl computes it" token_is_hmac "$R2" sm3 "$SEC_KEYS/pseudonym.key"

# ---------------------------------------------------------------- the audit log
audit_rows() {
    local got want
    got=$(as_role sec_auditor "SELECT string_agg(action || '=' || n, ' ' ORDER BY action)
                               FROM (SELECT action, count(*) n FROM canbao.audit_log GROUP BY action) x")
    want="ack=1 dismiss=1 export=2 feedback=2 package=$((2 * BOOKS)) pseudonymise=4 review=1 run_started=2 run_succeeded=2 run_superseded=1"
    [ "$got" = "$want" ] || { echo "audit log: $got"$'\n'"expected:  $want"; return 1; }
    got=$(as_role sec_auditor "SELECT count(*) FROM canbao.audit_log
                               WHERE db_user <> 'canbao_nightly' OR os_user IS DISTINCT FROM '$(id -un)' OR at IS NULL")
    [ "$got" = 0 ] || { echo "$got rows without the nightly login and OS user $(id -un)"; return 1; }
    got=$(as_role sec_auditor "SELECT detail->>'decided_by' || ' ' || (detail->>'decision') FROM canbao.audit_log WHERE action = 'review'")
    [ "$got" = "审核员王 same" ] || { echo "review row: $got"; return 1; }
}
check "audit: every run, publication, package, statistics, answer, acknowledgement, dismissal and review, with who" audit_rows
audit_append_only() {
    local before out
    before=$(sql "SELECT count(*) FROM canbao.audit_log")
    denied canbao_nightly "DELETE FROM canbao.audit_log" "UPDATE canbao.audit_log SET action = 'x'" \
        "TRUNCATE canbao.audit_log" "INSERT INTO canbao.audit_log (action) VALUES ('forged')" || return 1
    out=$(as_role canbao_nightly "SELECT canbao.audit_record('run_succeeded', 1, 'x', '{}')")
    grep -q 'recorded by the database itself' <<<"$out" || { echo "forged run row: $out"; return 1; }
    # the owner (a superuser here) is refused too: the triggers say no
    out=$(psql -XAtq -c "DELETE FROM canbao.audit_log" 2>&1; psql -XAtq -c "UPDATE canbao.audit_log SET detail = NULL" 2>&1;
          psql -XAtq -c "TRUNCATE canbao.audit_log" 2>&1)
    [ "$(grep -c 'append-only' <<<"$out")" = 3 ] || { echo "superuser: $out"; return 1; }
    [ "$(sql "SELECT count(*) FROM canbao.audit_log")" = "$before" ]
}
check "audit: append-only: the engine may not change, delete or forge a row; triggers stop even the owner" audit_append_only

# ---------------------------------------------------------------- SQL built from text
no_formatted_sql() {   # every statement with data goes through parameters or COPY
    ! grep -nE '"[^"]*\b(SELECT|INSERT|UPDATE|DELETE|COPY|CREATE|DROP|ALTER|TRUNCATE|GRANT|WHERE|FROM)\b[^"]*%[-0-9.*]*s' \
        engine/*.c connectors/*.c
}
check "no SQL text is formatted with %s in the C code (data goes in parameters or COPY)" no_formatted_sql
export PGDATABASE=$SEC_MAIN_DB

# ---------------------------------------------------------------- TLS
TLSD="$SEC/tls"
mkdir -p "$TLSD"
tls_ca "$TLSD" ca && tls_ca "$TLSD" wrongca && tls_server_cert "$TLSD" ca localhost ||
    fail "TLS: a CA and a server certificate for localhost (openssl)"
trap 'tls_pg_stop; cleanup' EXIT
if tls_pg_start "$TLSD"; then
    ok "TLS: a second cluster on localhost:$TLS_PORT, ssl=on, our CA's certificate, TCP only with TLS and a password"
    PW="pw$(openssl rand -hex 12)"
    tls_su() { PGHOST=$TLS_SOCK PGPORT=$TLS_PORT PGUSER=canbao PGDATABASE=canbao "$@"; }
    tls_su env CANBAO="$CANBAO" CANBAO_HOME="$ROOT" bash deploy/setup-database.sh canbao >"$TLSD/setup.log" 2>&1
    # the password is set with statement logging off for this one statement, as \password would
    tls_su psql -XAtq -v ON_ERROR_STOP=1 >>"$TLSD/setup.log" 2>&1 <<SQL
SET log_statement = 'none';
ALTER ROLE canbao_nightly PASSWORD '$PW';
SQL
    printf 'localhost:%s:canbao:canbao_nightly:%s\n' "$TLS_PORT" "$PW" >"$TLSD/pgpass"
    chmod 600 "$TLSD/pgpass"
    TLSCONN="host=localhost port=$TLS_PORT dbname=canbao user=canbao_nightly sslmode=verify-full sslrootcert=$TLSD/ca.pem"
    tls_run() {
        env PGPASSFILE="$TLSD/pgpass" "$CANBAO" run --db "$TLSCONN" --asof $ASOF --extracts "$DATA/extracts" \
            --out "$TLSD/out" >"$TLSD/run.log" 2>&1 ||
            { tail -n 5 "$TLSD/run.log"; return 1; }
        grep -q 'connection authorized: user=canbao_nightly database=canbao application_name=canbao SSL enabled' \
            "$TLSD/server.log" || { echo "no TLS connection of canbao_nightly in the server log"; return 1; }
        local a
        a=$(tls_su psql -XAtqc "SELECT count(*) || ':' || bool_and(ssl) || ':' || bool_and(client_addr IS NOT NULL)
                                FROM canbao.audit_log WHERE db_user = 'canbao_nightly'")
        [[ $a =~ ^[1-9][0-9]*:true:true$ ]] || { echo "audit rows (count:ssl:client address): $a"; return 1; }
    }
    check "TLS: a night with sslmode=verify-full, the password in PGPASSFILE; the audit log says TLS" tls_run
    check_exit "TLS: verify-full with another CA fails" 4 'certificate verify failed' \
        env PGPASSFILE="$TLSD/pgpass" "$CANBAO" status --db "${TLSCONN/ca.pem/wrongca.pem}"
    check_exit "TLS: verify-full with a name the certificate does not carry (127.0.0.1) fails" 4 'does not match host name' \
        env PGPASSFILE="$TLSD/pgpass" "$CANBAO" status --db "${TLSCONN/host=localhost/host=127.0.0.1}"
    check_exit "TLS: a connection without TLS is refused" 4 'no encryption' \
        env PGPASSFILE="$TLSD/pgpass" "$CANBAO" status --db "${TLSCONN/sslmode=verify-full/sslmode=disable}"
    # a password on the command line works, is warned about, and is printed nowhere
    {
        "$CANBAO" runs --limit 1 --db "$TLSCONN password=$PW" && echo "runs-ok"
        "$CANBAO" status --db "${TLSCONN/dbname=canbao/dbname=nosuch} password=$PW"
        "$CANBAO" status --db "postgresql://canbao_nightly:$PW@[::1/canbao"
        "$CANBAO" status --db "postgresql://canbao_nightly:$PW@localhost:$TLS_PORT/canbao?sslmode=verify-full&sslrootcert=$TLSD/wrongca.pem"
        "$CANBAO" runs --db "password=$PW $TLSCONN junk"
    } >"$TLSD/pw.log" 2>&1
    check "passwords: a password in --db is warned about and works" bash -c \
        'grep -q password_in_conninfo "$1" && grep -q "^runs-ok" "$1"' _ "$TLSD/pw.log"
    no_password() {
        local f
        for f in "$TLSD/pw.log" "$TLSD/run.log" "$TLSD/server.log" "$TLSD/setup.log"; do
            ! grep -F "$PW" "$f" || { echo "in $(basename "$f")"; return 1; }
        done
        [ "$(tls_su psql -XAtqc "SELECT count(*) FROM canbao.runs r WHERE strpos(row_to_json(r)::text, '$PW') > 0")$(
              tls_su psql -XAtqc "SELECT count(*) FROM canbao.audit_log a WHERE strpos(row_to_json(a)::text, '$PW') > 0")" = 00 ]
    }
    check "passwords: in no output of canbao (errors too), no server log line, no ledger or audit row" no_password
else
    fail "TLS: a second cluster with ssl=on" "$(tail -n 5 "$TLSD/server.log" 2>/dev/null)"
fi
tls_pg_stop
trap cleanup EXIT

# ---------------------------------------------------------------- hostile names
# Names and household numbers that are SQL, COPY escapes, quotes, tabs, newlines, markup and
# spreadsheet formulas, put into a copy of the household register for five persons on the
# list; a record of the same kind that is rejected.  They must come out byte for byte in the
# database and in the CSV list, as text in the workbooks, and harm nothing.
INJ="$SEC/inj"
mkdir -p "$INJ/d"
cp "$DATA"/extracts/* "$INJ/d/"
INJ_REG=$(ls "$INJ"/d/police_register_* | head -n 1)
case $INJ_REG in *.gz) gunzip "$INJ_REG"; INJ_REG=${INJ_REG%.gz} ;; esac
awk -F, 'NR > 1 && NR <= 6 { print $1 }' "$OUT/unenrolled_eligible.csv" >"$INJ/ids"
# names pass the name transform unchanged (it removes spaces and unifies dots); households are
# only trimmed
export INJ_N1="');DROP/**/TABLE/**/canbao_runs;--" INJ_N2="金\"哲'\\N\\\\" INJ_N3='<b>李</b>&amp;<script>' \
       INJ_N4='=HYPERLINK("x","y")' INJ_N5='%s%n$1`id`'
export INJ_H1="'); DROP TABLE canbao.runs; --" INJ_H2=$'a\tb\nc\\.\r\\N' INJ_H3="\"quoted\" 'single' ; -- x" \
       INJ_H4='$$ LANGUAGE sql $$' INJ_H5=$'x\\\ty\\\\'
awk 'BEGIN { FS = OFS = ","; for (i = 1; i <= 5; i++) { N[i] = ENVIRON["INJ_N" i]; H[i] = ENVIRON["INJ_H" i] } }
     function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
     NR == FNR { want[$1] = FNR; next }
     FNR > 1 && ($1 in want) { k = want[$1]; $2 = q(N[k]); $6 = q(H[k]) }
     { print }' "$INJ/ids" "$INJ_REG" >"$INJ/reg" && mv "$INJ/reg" "$INJ_REG"
INJ_REJECT="12345'); DROP TABLE canbao.rejects; --,\\N\\.\\\\,男"
printf '%s\r\n' "$INJ_REJECT" >>"$INJ_REG"
"$PG_BIN/createdb" canbao_inject
check "hostile names: a night on its own database (as the superuser: an injection would succeed)" bash -c '
    PGDATABASE=canbao_inject "$1" db migrate >/dev/null &&
    PGDATABASE=canbao_inject "$1" --quiet run --asof "$2" --extracts "$3" --out "$4" >/dev/null' _ \
    "$CANBAO" $ASOF "$INJ/d" "$INJ/out"
export PGDATABASE=canbao_inject
injected_intact() {
    local k id want got n=0
    [ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'canbao' AND tablename IN ('runs', 'list_rows', 'rejects')")" = 3 ] &&
        [ "$(sql "SELECT count(*) FROM canbao.runs WHERE state = 'succeeded'")" = 1 ] &&
        [ "$(sql "SELECT count(*) FROM canbao.list_rows")" -gt 100 ] || { echo "tables or rows gone"; return 1; }
    for k in 1 2 3 4 5; do
        id=$(sed -n "${k}p" "$INJ/ids")
        want="$(hex "$(printenv INJ_N$k)"):$(hex "$(printenv INJ_H$k)")"
        got=$(sql "SELECT encode(convert_to(columns->>'name', 'UTF8'), 'hex') || ':' ||
                          encode(convert_to(household, 'UTF8'), 'hex')
                     FROM canbao.list_rows WHERE list_name = 'unenrolled_eligible' AND id_number = '$id'")
        [ "$got" = "$want" ] || { echo "person $k in the database: $got"$'\n'"expected:            $want"; return 1; }
        n=$((n + 1))
    done
    got=$(sql "SELECT encode(convert_to(raw, 'UTF8'), 'hex') FROM canbao.rejects WHERE raw LIKE '12345''); DROP%'")
    [ "$got" = "$(hex "$INJ_REJECT")" ] || { echo "the rejected record's raw text: $got"; return 1; }
    [ "$n" = 5 ]
}
check "hostile names: byte for byte in the database (list rows, the reject's raw text); tables intact" injected_intact
injected_csv() {   # the list's CSV read back by PostgreSQL's own CSV parser
    local ncol cols idc namec hhc
    ncol=$(head -n 1 "$INJ/out/unenrolled_eligible.csv" | awk -F, '{ print NF }')
    cols=$(seq -f 'c%g text' -s ', ' "$ncol")
    idc=$(head -n 1 "$INJ/out/unenrolled_eligible.csv" | tr ',' '\n' | grep -nx id_number | cut -d: -f1)
    namec=$(head -n 1 "$INJ/out/unenrolled_eligible.csv" | tr ',' '\n' | grep -nx name | cut -d: -f1)
    hhc=$(head -n 1 "$INJ/out/unenrolled_eligible.csv" | tr ',' '\n' | grep -nx household | cut -d: -f1)
    local got want k id
    for k in 1 2 3 4 5; do
        id=$(sed -n "${k}p" "$INJ/ids")
        got=$(psql -XAtq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE c ($cols);
\copy c FROM '$INJ/out/unenrolled_eligible.csv' WITH (FORMAT csv, HEADER true)
SELECT encode(convert_to(c$namec, 'UTF8'), 'hex') || ':' || encode(convert_to(c$hhc, 'UTF8'), 'hex') FROM c WHERE c$idc = '$id';
SQL
)
        want="$(hex "$(printenv INJ_N$k)"):$(hex "$(printenv INJ_H$k)")"
        [ "$got" = "$want" ] || { echo "person $k in the CSV: $got"$'\n'"expected:       $want"; return 1; }
    done
}
check "hostile names: byte for byte in the list's CSV (read back with PostgreSQL's CSV parser)" injected_csv
injected_xlsx() {   # each name is a text cell of a village sheet of its township's workbook
    local k id town name s found
    for k in 1 2 3 4 5; do
        id=$(sed -n "${k}p" "$INJ/ids")
        town=$(sql "SELECT township FROM canbao.list_rows WHERE list_name = 'unenrolled_eligible' AND id_number = '$id'")
        name=$(printenv INJ_N$k)
        found=no
        for s in $(seq 1 60); do
            "$ROOT/$BUILD/outcheck" dump "$(ls "$INJ"/out/township_"$town"_*.xlsx)" "$s" >"$INJ/sheet.tsv" 2>/dev/null || break
            if N="$name" awk -F'\t' '{ for (i = 1; i <= NF; i++) if ($i == ENVIRON["N"]) f = 1 } END { exit !f }' \
                "$INJ/sheet.tsv"; then
                found=yes
                break
            fi
        done
        [ $found = yes ] || { echo "name $k ($name) is not a text cell of the workbook of $town"; return 1; }
    done
}
check "hostile names: text cells in the township workbooks (the formula too)" injected_xlsx
injected_twin() {   # the township CSV twin (opened in Excel/WPS): the formula is text, with an apostrophe
    local id town
    id=$(sed -n 4p "$INJ/ids")
    town=$(sql "SELECT township FROM canbao.list_rows WHERE list_name = 'unenrolled_eligible' AND id_number = '$id'")
    grep -qF "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"" "$INJ"/out/township_"$town"_*.csv &&
        ! grep -qE '(^|,)"?=HYPERLINK' "$INJ"/out/township_"$town"_*.csv
}
check "hostile names: a formula in a township CSV twin starts with an apostrophe (no CSV injection)" injected_twin
check "hostile names: the alerts still valid against schema/alerts.xsd" \
    "$ROOT/$BUILD/outcheck" xsd schema/alerts.xsd "$INJ"/out/alerts_confirmed_20261128.xml "$INJ"/out/alerts_to_verify_20261128.xml
export PGDATABASE=$SEC_MAIN_DB
