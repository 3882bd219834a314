#include "db.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "audit.h"
#include "fault.h"
#include "log.h"
#include "text.h"

#define MIGRATION_LOCK 7260824001LL   /* advisory lock key for migrations */
#define RUN_LOCK 7260824002LL         /* advisory lock key: one run at a time */

static bool
fail_conn(PGconn *conn, CbError *err, const char *what)
{
    CB_FAIL(err, CBERR_DB, "%s: %s", what, conn ? PQerrorMessage(conn) : "no connection");
    /* libpq messages end with a newline */
    size_t l = strlen(err->message);
    while (l > 0 && (err->message[l - 1] == '\n' || err->message[l - 1] == ' '))
        err->message[--l] = '\0';
    return false;
}

static bool
fail_result(PGresult *res, CbError *err, const char *sql)
{
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    /* an error of libpq itself (a connection that is gone) has no fields, only its text */
    const char *whole = res ? PQresultErrorMessage(res) : NULL;
    if (msg == NULL && whole != NULL && whole[0] != '\0') {
        CB_FAIL(err, CBERR_DB, "%s", whole);
        for (char *p = err->message; *p; p++)
            if (*p == '\n' || *p == '\t')
                *p = ' ';
        size_t l = strlen(err->message);
        while (l > 0 && err->message[l - 1] == ' ')
            err->message[--l] = '\0';
    } else {
        CB_FAIL(err, CBERR_DB, "%s", msg ? msg : PQresStatus(PQresultStatus(res)));
    }
    if (state)
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    if (detail)
        cb_error_detail(err, "%s", detail);
    if (hint)
        cb_error_hint(err, "%s", hint);
    if (sql) {
        char first[120];
        snprintf(first, sizeof first, "%s", sql);
        char *nl = strchr(first, '\n');
        if (nl)
            *nl = '\0';
        cb_error_at(err, "SQL \"%s\"", first);
    }
    return false;
}

/* The keywords for PQconnectdbParams/PQpingParams with expand_dbname = 1: dbname, last, may be
 * a full conninfo string or URI, whose values override the keywords before it, so ours are
 * defaults: a connect_timeout in --db wins, and PGCONNECT_TIMEOUT too (a keyword given here
 * would override the environment's, so none is given when it is set).  KEYS, VALS: 4 each. */
static void
conn_params(const char *conninfo, bool app, const char **keys, const char **vals)
{
    int n = 0;
    if (app) {
        keys[n] = "application_name";
        vals[n++] = "canbao";
    }
    if (getenv("PGCONNECT_TIMEOUT") == NULL) {
        keys[n] = "connect_timeout";
        vals[n++] = "10";
    }
    keys[n] = "dbname";
    vals[n++] = conninfo ? conninfo : "";
    keys[n] = vals[n] = NULL;
}

PGconn *
db_connect(const char *conninfo, CbError *err)
{
    const char *keys[4], *vals[4];
    conn_params(conninfo, true, keys, vals);
    static bool warned;
    if (!warned && audit_conninfo_has_password(conninfo)) {
        warned = true;
        log_warn("event=password_in_conninfo note=\"a password given with --db is visible to other users "
                 "of this machine (ps); put it in a password file (PGPASSFILE)\"");
    }
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fail_conn(conn, err, "could not connect to PostgreSQL");
        /* libpq may quote a malformed conninfo: no password in what is printed */
        audit_redact_password(err->message, sizeof err->message, conninfo);
        audit_redact_password(err->detail, sizeof err->detail, conninfo);
        cb_error_hint(err, "give a conninfo with --db, or set PGHOST, PGPORT, PGDATABASE and PGUSER "
                           "(passwords in a password file: PGPASSFILE)");
        PQfinish(conn);
        return NULL;
    }
    /* no JIT: a night's statements are planned for its own tables and finish in seconds;
     * compiling one whose estimate sums many nights' tables took longer than running it
     * (schema/015) */
    PGresult *res = PQexec(conn, "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO'; "
                                  "SET client_min_messages = warning; SET jit = off");
    PQclear(res);
    /* work_mem of at least 64 MB (the server's own when larger): a night's joins of its rows
     * with list_items (lifecycle_prepare, lifecycle_mark_sent: 143,000 rows at S) hash in one
     * batch and sort in memory instead of in four batches and on disk (schema/016) */
    res = PQexec(conn, "SELECT set_config('work_mem', greatest(setting::bigint, 65536) || 'kB', false) "
                       "FROM pg_settings WHERE name = 'work_mem'");
    PQclear(res);
    /* the indexes of a night's tables (built when run_table_attach attaches them) are sorted
     * by this process alone, in memory: at least 256 MB, and no parallel workers.  With the
     * server's defaults (64 MB shared by a leader and two workers) each sorted a third and
     * spilled it to disk, and the workers competed for the cores with the engine writing the
     * workbooks meanwhile: the three tables' indexes at S 1.20 s, alone in memory 0.88 s */
    res = PQexec(conn, "SELECT set_config('maintenance_work_mem', greatest(setting::bigint, 262144) || 'kB', false) "
                       "FROM pg_settings WHERE name = 'maintenance_work_mem'; "
                       "SET max_parallel_maintenance_workers = 0");
    PQclear(res);
    /* and no parallel workers for queries either: a night's statements run while the engine's
     * own threads keep the cores busy, where workers only add their coordination.  run_check at
     * M (a night after the first, three calls, alternating) took 2.0-2.3 s each and 6.8-7.3
     * CPU s in all without workers, 2.7-2.9 s and 9.8-10.8 CPU s with the server's two; its
     * aggregates read an index in order instead of the table in parts */
    res = PQexec(conn, "SET max_parallel_workers_per_gather = 0");
    PQclear(res);
    audit_session_init(conn);   /* who, for the audit log */
    return conn;
}

PGconn *
db_connect_retry(const char *conninfo, int attempts, double delay, CbError *err)
{
    if (attempts < 1)
        attempts = 1;
    for (int a = 1;; a++) {
        PGconn *conn = db_connect(conninfo, err);
        if (conn != NULL)
            return conn;
        /* is anyone there?  PQPING_OK / NO_ATTEMPT: the server answered, or the parameters
         * are wrong: trying again will not help */
        const char *keys[4], *vals[4];
        conn_params(conninfo, false, keys, vals);
        PGPing ping = PQpingParams(keys, vals, 1);
        bool transient = ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
        if (!transient || a >= attempts) {
            if (a > 1)
                cb_error_detail(err, "gave up after %d attempts", a);
            return NULL;
        }
        char why[300];
        size_t o = 0;
        for (const char *m = err->message; *m && o < sizeof why - 1; m++)
            why[o++] = *m == '"' ? '\'' : (*m == '\n' || *m == '\t') ? ' ' : *m;
        why[o] = '\0';
        log_warn("event=db_connect_failed attempt=%d of=%d retry_in=%.1fs reason=\"%s\"", a, attempts,
                 delay, why);
        if (!cancel_sleep(delay)) {
            cancel_check("connecting to PostgreSQL", err);
            return NULL;
        }
        delay = delay * 2 > 60 ? 60 : delay * 2;
    }
}

bool
db_conn_lost(PGconn *conn)
{
    return conn == NULL || PQstatus(conn) == CONNECTION_BAD;
}

void
db_close(PGconn *conn)
{
    PQfinish(conn);
}

bool
db_exec(PGconn *conn, const char *sql, CbError *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (!ok)
        fail_result(res, err, sql);
    PQclear(res);
    return ok;
}

bool
db_exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params,
               PGresult **out, CbError *err)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fail_result(res, err, sql);
    if (ok && out)
        *out = res;
    else
        PQclear(res);
    return ok;
}

/* ---- migrations ---- */

typedef struct Migration {
    char  file[256];
    int   version;
    char  sha256[65];
    char *sql;
} Migration;

static int
cmp_migration(const void *a, const void *b)
{
    return ((const Migration *) a)->version - ((const Migration *) b)->version;
}

static void
sha256_hex(const char *data, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
free_migrations(Migration *m, int n)
{
    for (int i = 0; i < n; i++)
        free(m[i].sql);
    free(m);
}

static bool
read_migrations(const char *dir, Migration **out, int *n, CbError *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open schema folder: %m");
        cb_error_at(err, "%s", dir);
        return false;
    }
    Migration *m = NULL;
    int len = 0;
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 8 || strcmp(de->d_name + l - 4, ".sql") != 0)
            continue;
        int v = 0, k = 0;
        while (k < 3 && de->d_name[k] >= '0' && de->d_name[k] <= '9')
            v = v * 10 + (de->d_name[k++] - '0');
        if (k != 3 || de->d_name[3] != '_')
            continue;
        m = xrealloc(m, sizeof(Migration) * (size_t) (len + 1));
        Migration *mi = &m[len];
        memset(mi, 0, sizeof *mi);
        snprintf(mi->file, sizeof mi->file, "%s", de->d_name);
        mi->version = v;
        len++;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            ok = CB_FAIL(err, CBERR_IO, "could not open migration: %m");
            cb_error_at(err, "%s", path);
            break;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        mi->sql = xmalloc((size_t) size + 1);
        size_t got = fread(mi->sql, 1, (size_t) size, f);
        fclose(f);
        mi->sql[got] = '\0';
        sha256_hex(mi->sql, got, mi->sha256);
    }
    closedir(d);
    if (!ok) {
        free_migrations(m, len);
        return false;
    }
    qsort(m, (size_t) len, sizeof(Migration), cmp_migration);
    for (int i = 1; i < len; i++)
        if (m[i].version == m[i - 1].version) {
            CB_FAIL(err, CBERR_INPUT, "two migrations with version %03d: %s and %s", m[i].version,
                    m[i - 1].file, m[i].file);
            free_migrations(m, len);
            return false;
        }
    *out = m;
    *n = len;
    return true;
}

static const char *bootstrap_sql =
    "CREATE SCHEMA IF NOT EXISTS canbao;\n"
    "CREATE TABLE IF NOT EXISTS canbao.schema_migrations (\n"
    "    version    integer PRIMARY KEY,\n"
    "    file_name  text NOT NULL,\n"
    "    sha256     text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now())";

/* Looks up version v; *found and its stored checksum. */
static bool
applied_sha(PGconn *conn, int v, bool *found, char sha[65], CbError *err)
{
    char vs[16];
    snprintf(vs, sizeof vs, "%d", v);
    const char *params[] = {vs};
    PGresult *res;
    if (!db_exec_params(conn, "SELECT sha256 FROM canbao.schema_migrations WHERE version = $1",
                        1, params, &res, err))
        return false;
    *found = PQntuples(res) == 1;
    if (*found)
        snprintf(sha, 65, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

bool
db_migrate(PGconn *conn, const char *schema_dir, int *applied, CbError *err)
{
    Migration *m = NULL;
    int n = 0;
    *applied = 0;
    if (!read_migrations(schema_dir, &m, &n, err))
        return false;
    bool ok = true;
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", MIGRATION_LOCK);
    for (int i = 0; i < n && ok; i++) {
        ok = db_exec(conn, "BEGIN", err) && db_exec(conn, lock, err) &&
             db_exec(conn, bootstrap_sql, err);
        bool found = false;
        char sha[65];
        if (ok)
            ok = applied_sha(conn, m[i].version, &found, sha, err);
        if (ok && found && strcmp(sha, m[i].sha256) != 0) {
            ok = CB_FAIL(err, CBERR_INPUT, "migration %s changed after it was applied", m[i].file);
            cb_error_at(err, "%s/%s", schema_dir, m[i].file);
            cb_error_hint(err, "restore the applied text and put the change in a new migration");
        }
        if (ok && !found) {
            ok = db_exec(conn, m[i].sql, err);
            if (!ok)
                cb_error_at(err, "%s/%s", schema_dir, m[i].file);
            char vs[16];
            snprintf(vs, sizeof vs, "%d", m[i].version);
            const char *params[] = {vs, m[i].file, m[i].sha256};
            if (ok)
                ok = db_exec_params(conn,
                                    "INSERT INTO canbao.schema_migrations (version, file_name, sha256) "
                                    "VALUES ($1, $2, $3)", 3, params, NULL, err);
            if (ok)
                (*applied)++;
        }
        if (ok)
            ok = db_exec(conn, "COMMIT", err);
        else
            PQclear(PQexec(conn, "ROLLBACK"));
    }
    free_migrations(m, n);
    return ok;
}

bool
db_schema_current(PGconn *conn, const char *schema_dir, CbError *err)
{
    Migration *m = NULL;
    int n = 0;
    if (!read_migrations(schema_dir, &m, &n, err))
        return false;
    bool ok = true;
    PGresult *res = NULL;
    ok = db_exec_params(conn, "SELECT to_regclass('canbao.schema_migrations') IS NOT NULL", 0, NULL,
                        &res, err);
    bool exists = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    for (int i = 0; i < n && ok; i++) {
        bool found = false;
        char sha[65];
        if (exists)
            ok = applied_sha(conn, m[i].version, &found, sha, err);
        if (ok && !found) {
            ok = CB_FAIL(err, CBERR_DB, "the database schema is not up to date: migration %s is not applied",
                         m[i].file);
            cb_error_hint(err, "run: canbao db migrate");
        } else if (ok && strcmp(sha, m[i].sha256) != 0) {
            ok = CB_FAIL(err, CBERR_DB, "migration %s differs from the one applied", m[i].file);
        }
    }
    free_migrations(m, n);
    return ok;
}

bool
db_lock_run(PGconn *conn, CbError *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", RUN_LOCK);
    PGresult *res = NULL;
    if (!db_exec_params(conn, sql, 0, NULL, &res, err))
        return false;
    bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (got)
        return true;
    CB_FAIL(err, CBERR_LOCKED, "another canbao run is in progress on this database");
    if (db_exec_params(conn,
                       "SELECT run_id, asof, started_at::timestamp(0) FROM canbao.runs "
                       "WHERE state = 'running' ORDER BY run_id DESC LIMIT 1", 0, NULL, &res, NULL)) {
        if (PQntuples(res) == 1)
            cb_error_detail(err, "run %s for %s started at %s", PQgetvalue(res, 0, 0),
                            PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
        PQclear(res);
    }
    cb_error_hint(err, "wait for it to finish (canbao status), then run again");
    return false;
}

/* ---- COPY ---- */

#define COPY_FLUSH (1 << 20)

static void
copy_reserve(DbCopy *c, size_t more)
{
    if (c->len + more <= c->cap)
        return;
    while (c->len + more > c->cap)
        c->cap = c->cap ? c->cap * 2 : 2 * COPY_FLUSH;
    c->buf = xrealloc(c->buf, c->cap);
}

bool
db_copy_begin(DbCopy *c, PGconn *conn, const char *copy_sql, CbError *err)
{
    memset(c, 0, sizeof *c);
    c->conn = conn;
    PGresult *res = PQexec(conn, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        fail_result(res, err, copy_sql);
        PQclear(res);
        return false;
    }
    PQclear(res);
    return true;
}

static void
sep(DbCopy *c)
{
    if (c->col++ > 0) {
        copy_reserve(c, 1);
        c->buf[c->len++] = '\t';
    }
}

/* True when none of the eight bytes in w is one COPY's text format escapes: a backslash, or
 * a byte below 0x0E (tab, newline and carriage return among them; the others go the slow way
 * and are copied as they are). */
static inline bool
copy_plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t bs = w ^ (ones * '\\');
    return ((((w - ones * 0x0E) & ~w) | ((bs - ones) & ~bs)) & highs) == 0;
}

/* s[0, n) in COPY's text format into out (room for 2 n bytes); its length.  Eight bytes at a
 * time while none needs an escape, through local pointers: db_copy_textn's loop stored
 * c->len for every byte, 2.6 % of the samples of the store stage at M. */
size_t
db_copy_escape(char *out, const char *s, size_t n)
{
    char *o = out;
    const char *p = s, *end = s + n;
    while (p < end) {
        if (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (copy_plain8(w)) {
                memcpy(o, p, 8);
                o += 8;
                p += 8;
                continue;
            }
        }
        char ch = *p++;
        switch (ch) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        default: *o++ = ch;
        }
    }
    return (size_t) (o - out);
}

void
db_copy_textn(DbCopy *c, const char *s, size_t n)
{
    sep(c);
    if (s == NULL) {
        copy_reserve(c, 2);
        memcpy(c->buf + c->len, "\\N", 2);
        c->len += 2;
        return;
    }
    copy_reserve(c, n * 2);
    c->len += db_copy_escape(c->buf + c->len, s, n);
}

void
db_copy_text(DbCopy *c, const char *s)
{
    db_copy_textn(c, s, s ? strlen(s) : 0);
}

void
db_copy_int(DbCopy *c, int64_t v)
{
    sep(c);
    copy_reserve(c, TEXT_INT_MAX);
    c->len += text_int(c->buf + c->len, v);
}

void
db_copy_end_row(DbCopy *c)
{
    copy_reserve(c, 1);
    c->buf[c->len++] = '\n';
    c->col = 0;
    if (c->len >= COPY_FLUSH && !c->failed) {
        if (PQputCopyData(c->conn, c->buf, (int) c->len) != 1)
            c->failed = true;
        c->len = 0;
    }
}

bool
db_copy_end(DbCopy *c, CbError *err)
{
    bool ok = !c->failed;
    if (ok && c->len > 0)
        ok = PQputCopyData(c->conn, c->buf, (int) c->len) == 1;
    if (PQputCopyEnd(c->conn, ok ? NULL : "canbao: sending COPY data failed") != 1)
        ok = false;
    free(c->buf);
    c->buf = NULL;
    PGresult *res;
    bool result_ok = true;
    while ((res = PQgetResult(c->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            if (result_ok)
                fail_result(res, err, NULL);
            result_ok = false;
        }
        PQclear(res);
    }
    if (ok && !result_ok)
        return false;
    if (!ok)
        return fail_conn(c->conn, err, "COPY failed");
    return result_ok;
}

/* ---- a night's own tables (schema/015) ---- */

static bool
night_call(PGconn *conn, const char *sql, const char *table, int64_t run_id, CbError *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {table, id};
    return db_exec_params(conn, sql, 2, params, NULL, err);
}

bool
db_night_table(PGconn *conn, const char *table, int64_t run_id, CbError *err)
{
    return night_call(conn, "SELECT canbao.run_table_create($1, $2::bigint)", table, run_id, err);
}

bool
db_night_attach(PGconn *conn, const char *table, int64_t run_id, CbError *err)
{
    return night_call(conn, "SELECT canbao.run_table_attach($1, $2::bigint)", table, run_id, err);
}
