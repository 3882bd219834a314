/*
 * cmd_ops — what an operator asks at 3 a.m.: `canbao runs` (the ledger) and `canbao status`
 * (what the last night did).  Read-only; SQL in the strings here is plain SELECTs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"

static const char *usage_runs =
    "Usage: canbao runs [--limit N] [--db CONNINFO]\n"
    "\n"
    "Lists the most recent runs from the ledger: id, as-of date, state, start, duration,\n"
    "rule-set version and summary.\n";

static const char *usage_status =
    "Usage: canbao status [--db CONNINFO]\n"
    "\n"
    "Says what the last run did: its state, as-of date, the files read with their counts, the\n"
    "rows of each list, and any message (why it failed).  Exit code 0 when the last run\n"
    "succeeded, 1 when it failed or is still running, 4 on a database error.\n";

static int
print_result(PGresult *res)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    int w[32] = {0};
    for (int f = 0; f < nf && f < 32; f++) {
        w[f] = (int) strlen(PQfname(res, f));
        for (int t = 0; t < nt; t++) {
            int l = PQgetlength(res, t, f);
            if (l > w[f])
                w[f] = l > 60 ? 60 : l;
        }
    }
    for (int f = 0; f < nf && f < 32; f++)
        printf("%s%-*s", f ? "  " : "", w[f], PQfname(res, f));
    printf("\n");
    for (int t = 0; t < nt; t++) {
        for (int f = 0; f < nf && f < 32; f++)
            printf("%s%-*.*s", f ? "  " : "", w[f], 200, PQgetvalue(res, t, f));
        printf("\n");
    }
    return nt;
}

int
cmd_runs(int argc, char **argv)
{
    const char *db = NULL, *limit = "20";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_runs, stdout);
            return 0;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            limit = argv[++i];
        } else {
            fprintf(stderr, "canbao: unexpected argument %s\n\n%s", argv[i], usage_runs);
            return 2;
        }
    }
    CbError err = {0};
    PGconn *conn = db_connect(db, &err);
    PGresult *res = NULL;
    const char *params[] = {limit};
    if (conn == NULL ||
        !db_exec_params(conn,
                        "SELECT run_id AS run, asof, state, started_at::timestamp(0) AS started, "
                        "coalesce(to_char(finished_at - started_at, 'HH24:MI:SS'), '') AS took, "
                        "coalesce(left(ruleset_sha256, 12), '') AS rules, coalesce(message, '') AS summary "
                        "FROM canbao.runs ORDER BY run_id DESC LIMIT $1::int",
                        1, params, &res, &err)) {
        cb_error_print(&err);
        db_close(conn);
        return 4;
    }
    print_result(res);
    PQclear(res);
    db_close(conn);
    return 0;
}

int
cmd_status(int argc, char **argv)
{
    const char *db = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_status, stdout);
            return 0;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else {
            fprintf(stderr, "canbao: unexpected argument %s\n\n%s", argv[i], usage_status);
            return 2;
        }
    }
    CbError err = {0};
    PGconn *conn = db_connect(db, &err);
    PGresult *res = NULL;
    if (conn == NULL ||
        !db_exec_params(conn,
                        "SELECT run_id, asof, state, started_at::timestamp(0), "
                        "coalesce(finished_at::timestamp(0)::text, ''), coalesce(message, '') "
                        "FROM canbao.runs ORDER BY run_id DESC LIMIT 1", 0, NULL, &res, &err)) {
        cb_error_print(&err);
        db_close(conn);
        return 4;
    }
    if (PQntuples(res) == 0) {
        printf("canbao: no run yet\n");
        PQclear(res);
        db_close(conn);
        return 1;
    }
    char run_id[32];
    snprintf(run_id, sizeof run_id, "%s", PQgetvalue(res, 0, 0));
    bool good = strcmp(PQgetvalue(res, 0, 2), "succeeded") == 0;
    printf("last run: %s for %s, %s; started %s%s%s\n", run_id, PQgetvalue(res, 0, 1),
           PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), *PQgetvalue(res, 0, 4) ? ", finished " : "",
           PQgetvalue(res, 0, 4));
    if (*PQgetvalue(res, 0, 5))
        printf("%s: %s\n", good ? "summary" : "reason", PQgetvalue(res, 0, 5));
    PQclear(res);
    const char *params[] = {run_id};
    /* what the clerks and the pension system see now, and what the night lacked */
    if (db_exec_params(conn,
                       "SELECT coalesce(published_at::timestamp(0)::text, ''), coalesce(release, ''), "
                       "coalesce(incomplete, ''), coalesce(superseded_by::text, '') "
                       "FROM canbao.runs WHERE run_id = $1::bigint", 1, params, &res, &err)) {
        if (PQntuples(res) == 1) {
            if (*PQgetvalue(res, 0, 0))
                printf("published: %s (release %s)\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
            else if (good)
                printf("published: not yet (committed; the next run publishes it or supersedes it)\n");
            if (*PQgetvalue(res, 0, 2))
                printf("INCOMPLETE: the death lists were built without %s\n", PQgetvalue(res, 0, 2));
        }
        PQclear(res);
    }
    if (!good &&
        db_exec_params(conn,
                       "SELECT run_id, asof, published_at::timestamp(0) FROM canbao.runs "
                       "WHERE published_at IS NOT NULL ORDER BY published_at DESC LIMIT 1",
                       0, NULL, &res, &err)) {
        if (PQntuples(res) == 1)
            printf("published lists are still those of run %s for %s (published %s)\n",
                   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
        else
            printf("no run has published lists yet\n");
        PQclear(res);
    }
    if (db_exec_params(conn,
                       "SELECT s->>'source' AS source, s->>'agency' AS agency, s->>'status' AS status, "
                       "coalesce(s->>'data_asof', '') AS data_as_of, "
                       "CASE WHEN (s->>'required')::boolean THEN 'required' "
                       "     ELSE 'optional, max ' || (s->>'max_age_days') || ' days' END AS policy "
                       "FROM canbao.runs r, jsonb_array_elements(r.sources) s "
                       "WHERE r.run_id = $1::bigint AND s->>'status' <> 'delivered' "
                       "ORDER BY 1", 1, params, &res, &err)) {
        if (PQntuples(res) > 0) {
            printf("\nsources not delivered tonight:\n");
            print_result(res);
        }
        PQclear(res);
    }
    if (db_exec_params(conn,
                       "SELECT source, agency, file_name AS file, records_read AS read, accepted, "
                       "duplicates, rejected FROM canbao.source_files WHERE run_id = $1::bigint "
                       "ORDER BY source, file_name", 1, params, &res, &err)) {
        if (PQntuples(res) > 0) {
            printf("\nfiles read:\n");
            print_result(res);
        }
        PQclear(res);
    }
    if (db_exec_params(conn,
                       "SELECT list_name AS list, count(*) AS rows FROM canbao.list_rows "
                       "WHERE run_id = $1::bigint GROUP BY list_name ORDER BY list_name",
                       1, params, &res, &err)) {
        if (PQntuples(res) > 0) {
            printf("\nlists:\n");
            print_result(res);
        }
        PQclear(res);
    }
    db_close(conn);
    return good ? 0 : 1;
}
