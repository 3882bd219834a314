/*
 * db — PostgreSQL through libpq: connection, migrations, COPY.
 *
 * canbao connects with a standard libpq conninfo string or URI (`--db`), or, when none is
 * given, from the PG* environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSFILE,
 * PGSSLMODE ...), so a private test cluster and a production server are reached the same way.
 * Passwords belong in a password file, never on the command line; conninfo strings are never
 * logged.  Every function returns false on failure with err filled (SQLSTATE included).
 */
#ifndef CANBAO_DB_H
#define CANBAO_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"

PGconn *db_connect(const char *conninfo, CbError *err);
void    db_close(PGconn *conn);

/* db_connect with retries for a server that is down or starting up: up to `attempts` tries,
 * waiting `delay` seconds after the first failure and twice as long after each next one (at
 * most 60 s); every failed try is logged (event=db_connect_failed).  A server that answers but
 * refuses (authentication, no such database) is not retried.  A SIGTERM ends the waiting. */
PGconn *db_connect_retry(const char *conninfo, int attempts, double delay, CbError *err);

/* True when the connection to the server is gone (server stopped, network lost). */
bool    db_conn_lost(PGconn *conn);

/* Runs SQL that returns no rows (may hold several statements). */
bool db_exec(PGconn *conn, const char *sql, CbError *err);
/* Runs a statement with text parameters; *res (if not NULL) receives the result to PQclear. */
bool db_exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params,
                    PGresult **res, CbError *err);

/* Applies schema_dir/NNN_*.sql not yet applied, in order, each in its own transaction, under
 * an advisory lock; records them in canbao.schema_migrations with their SHA-256.  A migration
 * whose file changed after it was applied is an error.  *applied = how many were applied now. */
bool db_migrate(PGconn *conn, const char *schema_dir, int *applied, CbError *err);
/* True when every migration in schema_dir has been applied (else err says which is missing). */
bool db_schema_current(PGconn *conn, const char *schema_dir, CbError *err);

/* Takes the run lock (a session-level advisory lock, released when the connection ends):
 * one run at a time per database.  When another session holds it, fails with CBERR_LOCKED and
 * says which run is going on. */
bool db_lock_run(PGconn *conn, CbError *err);

/* COPY ... FROM STDIN in text format, row by row with escaping done here. */
typedef struct DbCopy {
    PGconn *conn;
    char   *buf;
    size_t  len, cap;
    int     col;          /* columns written in the current row */
    bool    failed;
} DbCopy;

bool db_copy_begin(DbCopy *c, PGconn *conn, const char *copy_sql, CbError *err);
void db_copy_text(DbCopy *c, const char *s);           /* NULL writes SQL NULL */
void db_copy_textn(DbCopy *c, const char *s, size_t n);
/* s[0, n) escaped for COPY's text format into out (room for 2 n bytes); the bytes written. */
size_t db_copy_escape(char *out, const char *s, size_t n);
void db_copy_int(DbCopy *c, int64_t v);
void db_copy_end_row(DbCopy *c);
bool db_copy_end(DbCopy *c, CbError *err);             /* flushes, finishes, checks the result */

/* A night's own table of list_rows, list_evidence or run_items (schema/015): db_night_table
 * creates it, empty and without indexes, as canbao.<table>_night for the COPY; db_night_attach,
 * after the COPY, names it after the run and attaches it to its table (which builds its
 * indexes).  In the run's transaction, under the run lock (one night's tables at a time). */
bool db_night_table(PGconn *conn, const char *table, int64_t run_id, CbError *err);
bool db_night_attach(PGconn *conn, const char *table, int64_t run_id, CbError *err);

#endif
