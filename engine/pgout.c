#include <stdio.h>
#include <string.h>

#include "db.h"
#include "fault.h"
#include "log.h"
#include "output.h"
#include "text.h"

static bool
copy_files(PGconn *conn, int64_t run_id, const Store *st, CbError *err)
{
    DbCopy c;
    if (!db_copy_begin(&c, conn,
                       "COPY canbao.source_files (run_id, file_no, source, agency, fact_kind, file_name, "
                       "size_bytes, sha256, records_read, accepted, duplicates, rejected) FROM STDIN",
                       err))
        return false;
    const SourceFile *sf = st->files.data;
    for (size_t i = 0; i < st->files.len; i++) {
        db_copy_int(&c, run_id);
        db_copy_int(&c, (int64_t) i);
        db_copy_text(&c, sf[i].source);
        db_copy_text(&c, sf[i].agency);
        db_copy_text(&c, factkind_name(sf[i].kind));
        db_copy_text(&c, sf[i].name);
        db_copy_int(&c, (int64_t) sf[i].size);
        db_copy_text(&c, sf[i].sha256);
        db_copy_int(&c, (int64_t) sf[i].read);
        db_copy_int(&c, (int64_t) sf[i].accepted);
        db_copy_int(&c, (int64_t) sf[i].duplicates);
        db_copy_int(&c, (int64_t) sf[i].rejected);
        db_copy_end_row(&c);
        fault_hit(FAULT_COPY);
    }
    return db_copy_end(&c, err);
}

static bool
copy_rejects(PGconn *conn, int64_t run_id, const Store *st, CbError *err)
{
    DbCopy c;
    if (!db_copy_begin(&c, conn,
                       "COPY canbao.rejects (run_id, file_no, record_no, line_no, byte_offset, reason, raw) "
                       "FROM STDIN", err))
        return false;
    const Reject *rj = st->rejects.data;
    for (size_t i = 0; i < st->rejects.len; i++) {
        db_copy_int(&c, run_id);
        db_copy_int(&c, rj[i].file);
        db_copy_int(&c, (int64_t) rj[i].record_no);
        db_copy_int(&c, (int64_t) rj[i].line_no);
        db_copy_int(&c, (int64_t) rj[i].byte_offset);
        db_copy_text(&c, rj[i].reason);
        db_copy_text(&c, rj[i].raw);
        db_copy_end_row(&c);
        fault_hit(FAULT_COPY);
    }
    return db_copy_end(&c, err);
}

/* The columns of a list row that the table also keeps as columns of its own. */
typedef enum { OWN_NONE, OWN_RULE, OWN_RULE_VERSION, OWN_ID_NUMBER } RowOwn;

static RowOwn
row_own(const char *col)
{
    return strcmp(col, "rule") == 0           ? OWN_RULE
           : strcmp(col, "rule_version") == 0 ? OWN_RULE_VERSION
           : strcmp(col, "id_number") == 0    ? OWN_ID_NUMBER
                                              : OWN_NONE;
}

static bool
copy_lists(PGconn *conn, int64_t run_id, const ListSet *ls, CbError *err)
{
    /* into the night's own tables, attached after their COPY (schema/015) */
    DbCopy c;
    if (!db_night_table(conn, "list_rows", run_id, err) ||
        !db_copy_begin(&c, conn,
                       "COPY canbao.list_rows_night (list_name, row_no, id_number, township, village, household, "
                       "columns, rule, rule_version) FROM STDIN (FREEZE)", err))
        return false;
    static char json[16384];
    for (int l = 0; l < ls->n; l++) {
        const ListOut *lo = &ls->lists[l];
        const ListRow *rows = lo->rows.data;
        /* what the row keeps in columns of its own is not repeated in `columns` (schema/009):
         * the rule, the rule set's version and the person's ID number, each only where the
         * value is the column's; canbao.list_row_columns puts them back */
        RowOwn own[LIST_MAX_COLS];
        for (int k = 0; k < lo->ncols; k++)
            own[k] = row_own(lo->cols[k]);
        for (size_t i = 0; i < lo->rows.len; i++) {
            const char *mine[] = {[OWN_RULE] = lo->rule, [OWN_RULE_VERSION] = ls->rule_version,
                                  [OWN_ID_NUMBER] = rows[i].key ? rows[i].vals[0] : NULL};
            size_t o = 0;
            json[o++] = '{';
            for (int k = 0; k < lo->ncols; k++) {
                if (own[k] != OWN_NONE && mine[own[k]] != NULL &&
                    strcmp(rows[i].vals[k], mine[own[k]]) == 0)
                    continue;
                if (o > 1)
                    json[o++] = ',';
                o = json_str(json, sizeof json, o, lo->cols[k]);
                json[o++] = ':';
                o = json_str(json, sizeof json, o, rows[i].vals[k]);
            }
            json[o++] = '}';
            json[o] = '\0';
            db_copy_text(&c, lo->name);   /* run_id: the night table's default (schema/017) */
            db_copy_int(&c, (int64_t) i + 1);
            db_copy_text(&c, rows[i].key ? rows[i].vals[0] : NULL);   /* per-township rows: no person */
            db_copy_text(&c, rows[i].township);
            db_copy_text(&c, rows[i].village);
            db_copy_text(&c, rows[i].household);
            db_copy_text(&c, json);
            db_copy_text(&c, lo->rule);
            db_copy_text(&c, ls->rule_version);
            db_copy_end_row(&c);
            fault_hit(FAULT_COPY);
        }
    }
    if (!db_copy_end(&c, err) || !db_night_attach(conn, "list_rows", run_id, err))
        return false;

    if (!db_night_table(conn, "list_evidence", run_id, err) ||
        !db_copy_begin(&c, conn,
                       "COPY canbao.list_evidence_night (list_name, row_no, file_no, record_no, fact_kind) "
                       "FROM STDIN (FREEZE)", err))
        return false;
    for (int l = 0; l < ls->n; l++) {
        const ListOut *lo = &ls->lists[l];
        const ListRow *rows = lo->rows.data;
        for (size_t i = 0; i < lo->rows.len; i++)
            for (int e = 0; e < rows[i].nev; e++) {
                db_copy_text(&c, lo->name);
                db_copy_int(&c, (int64_t) i + 1);
                db_copy_int(&c, rows[i].ev[e].file);
                db_copy_int(&c, (int64_t) rows[i].ev[e].record);
                db_copy_text(&c, factkind_name((FactKind) rows[i].ev[e].kind));
                db_copy_end_row(&c);
                fault_hit(FAULT_COPY);
            }
    }
    return db_copy_end(&c, err) && db_night_attach(conn, "list_evidence", run_id, err);
}

/* The earlier succeeded run of the same night, if any, becomes superseded (schema/004). */
static bool
supersede(PGconn *conn, const char *id, CbError *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    if (!db_exec_params(conn, "SELECT canbao.run_supersede($1::bigint)", 1, params, &res, err))
        return false;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        log_info("event=run_superseded run_id=%s by=%s", PQgetvalue(res, 0, 0), id);
    PQclear(res);
    return true;
}

bool
pgout_stage_rows(PGconn *conn, int64_t run_id, const Store *st, const ListSet *ls, CbError *err)
{
    bool ok = db_exec(conn, "BEGIN", err) && copy_files(conn, run_id, st, err) &&
              copy_rejects(conn, run_id, st, err) && cancel_check("storing the lists", err) &&
              copy_lists(conn, run_id, ls, err);
    if (!ok)
        PQclear(PQexec(conn, "ROLLBACK"));
    return ok;
}

bool
pgout_stage_items(PGconn *conn, int64_t run_id, const Store *st, const ListSet *ls, const LcRun *lc,
                  const IdentityResult *idr, const char *summary, CbError *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {id, ls->rule_version, summary};
    bool ok = cancel_check("the lists' lifecycle", err) &&
              (lc == NULL || lifecycle_apply(conn, run_id, ls, lc, NULL, NULL, NULL, err)) &&
              (idr == NULL || identity_write_reviews(conn, run_id, st, idr, err)) &&
              db_exec_params(conn, "SELECT canbao.run_check($1::bigint)", 1, params, NULL, err) &&
              supersede(conn, id, err) &&
              db_exec_params(conn,
                             "UPDATE canbao.runs SET state = 'succeeded', finished_at = now(), "
                             "ruleset_sha256 = $2, message = $3 WHERE run_id = $1",
                             3, params, NULL, err);
    if (!ok)
        PQclear(PQexec(conn, "ROLLBACK"));
    return ok;
}

bool
pgout_commit(PGconn *conn, CbError *err)
{
    if (!cancel_check("the commit", err)) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return false;
    }
    fault_hit(FAULT_BEFORE_COMMIT);
    bool ok = db_exec(conn, "COMMIT", err);
    if (ok)
        fault_hit(FAULT_AFTER_COMMIT);
    else
        PQclear(PQexec(conn, "ROLLBACK"));
    return ok;
}
