/*
 * identity_cli — `canbao review` (record a reviewer's decision about an uncertain link) and
 * `canbao explain-match` (why a record was linked as it was: candidates, comparison levels,
 * weights, decision).  main()-like handlers: argv[0] is the command; they return exit codes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "identity.h"
#include "load.h"
#include "run.h"
#include "sourcedef.h"

static const char *usage_review =
    "Usage: canbao review RECORD-REF (--same ID | --different [ID]) [--by NAME] [--note TEXT]\n"
    "                     [--db CONNINFO]\n"
    "\n"
    "Records a reviewer's decision about a record that identity resolution put up for review\n"
    "(canbao.match_review): --same ID says the record is about the person with that ID number;\n"
    "--different says it is not about the candidate ID (without ID: none of the candidates\n"
    "proposed).  Every later run honours the latest decision.  RECORD-REF is FILE:RECORD as in\n"
    "links.csv and rejects.csv (the latest run that put it up), or the stable record key\n"
    "SOURCE:HEX from canbao.match_review.  The same can be done in SQL:\n"
    "  UPDATE canbao.match_review SET decision = 'same' WHERE review_id = ...;\n";

static const char *usage_explain =
    "Usage: canbao explain-match RECORD-REF --extracts DIR --asof YYYY-MM-DD [--db CONNINFO]\n"
    "                            [--home DIR] [--connectors DIR] [--rules DIR]\n"
    "\n"
    "Reads the delivery in DIR as a run does, links it, and prints for the record FILE:RECORD\n"
    "(file name in DIR, 1-based data record) how it was linked: ID repair candidates, or the\n"
    "candidate persons with each comparison level, its m and u, its match weight, the total,\n"
    "the probability and the decision.  Reviewers' decisions are read from the database when\n"
    "one is reachable (--db or the PG* environment).\n";

/* ---- review ---- */

static bool
split_ref(const char *ref, char *file, size_t cap, uint64_t *record)
{
    const char *colon = strrchr(ref, ':');
    if (colon == NULL || colon == ref || colon[1] == '\0' || (size_t) (colon - ref) >= cap)
        return false;
    char *end;
    unsigned long long r = strtoull(colon + 1, &end, 10);
    if (*end != '\0')
        return false;
    memcpy(file, ref, (size_t) (colon - ref));
    file[colon - ref] = '\0';
    *record = r;
    return true;
}

static bool
is_key_ref(const char *ref)
{
    const char *colon = strrchr(ref, ':');
    if (colon == NULL || strlen(colon + 1) != 16)
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int
identity_cmd_review(int argc, char **argv)
{
    const char *db = NULL, *ref = NULL, *same = NULL, *diff_id = NULL, *by = NULL, *note = NULL;
    bool different = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_review, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--same") == 0 && i + 1 < argc) {
            same = argv[++i];
        } else if (strcmp(argv[i], "--different") == 0) {
            different = true;
            if (i + 1 < argc && argv[i + 1][0] != '-' && ref != NULL)
                diff_id = argv[++i];
        } else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
            by = argv[++i];
        } else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc) {
            note = argv[++i];
        } else if (argv[i][0] != '-' && ref == NULL) {
            ref = argv[i];
        } else {
            fprintf(stderr, "canbao: unexpected argument %s\n\n%s", argv[i], usage_review);
            return EXIT_USAGE;
        }
    }
    if (ref == NULL || (same == NULL) == !different) {
        fprintf(stderr, "canbao: review needs RECORD-REF and one of --same ID or --different\n\n%s",
                usage_review);
        return EXIT_USAGE;
    }
    char id[19] = "";
    const char *want = same ? same : diff_id;
    if (want && idnum_normalise(want, strlen(want), id) != IDNUM_OK) {
        fprintf(stderr, "canbao: %s is not a valid ID number\n", want);
        return EXIT_USAGE;
    }
    char file[512];
    uint64_t record = 0;
    bool by_key = is_key_ref(ref);
    if (!by_key && !split_ref(ref, file, sizeof file, &record)) {
        fprintf(stderr, "canbao: RECORD-REF %s is neither FILE:RECORD nor SOURCE:HEX\n\n%s", ref,
                usage_review);
        return EXIT_USAGE;
    }

    CbError err = {0};
    PGconn *conn = db_connect(db, &err);
    PGresult *res = NULL;
    int rc = EXIT_DATABASE;
    char recno[24], who[256];
    snprintf(recno, sizeof recno, "%llu", (unsigned long long) record);
    snprintf(who, sizeof who, "%s", by ? by : (getenv("USER") ? getenv("USER") : ""));
    if (conn == NULL || !db_exec(conn, "BEGIN", &err))
        goto fail;
    /* the latest run that put the record up for review */
    {
        const char *p1[] = {ref};
        const char *p2[] = {file, recno};
        if (!(by_key ? db_exec_params(conn,
                                      "SELECT record_key, coalesce(run_id, 0) FROM canbao.match_review "
                                      "WHERE record_key = $1 ORDER BY run_id DESC NULLS LAST LIMIT 1",
                                      1, p1, &res, &err)
                     : db_exec_params(conn,
                                      "SELECT record_key, coalesce(run_id, 0) FROM canbao.match_review "
                                      "WHERE file_name = $1 AND record_no = $2::bigint "
                                      "ORDER BY run_id DESC NULLS LAST LIMIT 1",
                                      2, p2, &res, &err)))
            goto fail;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "canbao: record %s was never put up for review (canbao.match_review has no row for it)\n"
                        "HINT: only records linked without a usable ID number, and those rejected as "
                        "no match or ambiguous, can be reviewed\n", ref);
        PQclear(res);
        PQclear(PQexec(conn, "ROLLBACK"));
        db_close(conn);
        return EXIT_INPUT;
    }
    char key[200], run[24];
    snprintf(key, sizeof key, "%s", PQgetvalue(res, 0, 0));
    snprintf(run, sizeof run, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    const char *decision = same ? "same" : "different";
    int changed = 0;
    {
        /* a row of that run for the candidate: decide on it; otherwise add a decision row */
        const char *p[] = {key, run, id[0] ? id : NULL, decision, who[0] ? who : NULL, note};
        if (!db_exec_params(conn,
                            "UPDATE canbao.match_review SET decision = $4, decided_by = $5, "
                            "decided_at = now(), note = $6 "
                            "WHERE record_key = $1 AND coalesce(run_id, 0) = $2::bigint "
                            "AND candidate_id IS NOT NULL AND ($3::text IS NULL OR candidate_id = $3)",
                            6, p, &res, &err))
            goto fail;
        changed = atoi(PQcmdTuples(res));
        PQclear(res);
        res = NULL;
        if (changed == 0 && id[0]) {
            if (!db_exec_params(conn,
                                "INSERT INTO canbao.match_review (run_id, record_key, source, file_name, "
                                "record_no, outcome, candidate_id, decision, decided_by, decided_at, note) "
                                "SELECT run_id, record_key, source, file_name, record_no, outcome, $3, $4, "
                                "$5, now(), $6 FROM canbao.match_review "
                                "WHERE record_key = $1 AND coalesce(run_id, 0) = $2::bigint LIMIT 1",
                                6, p, &res, &err))
                goto fail;
            changed = atoi(PQcmdTuples(res));
            PQclear(res);
            res = NULL;
        }
    }
    if (changed == 0) {
        fprintf(stderr, "canbao: record %s had no candidate to call different; give the ID: --different ID\n", ref);
        PQclear(PQexec(conn, "ROLLBACK"));
        db_close(conn);
        return EXIT_INPUT;
    }
    if (!db_exec(conn, "COMMIT", &err))
        goto fail;
    printf("canbao: recorded for %s (%s): %s%s%s; later runs honour it\n", ref, key,
           same ? "same person as " : "different person", same ? id : (id[0] ? " from " : " from every candidate"),
           same ? "" : id);
    rc = EXIT_OK;
    db_close(conn);
    return rc;
fail:
    cb_error_print(&err);
    if (res)
        PQclear(res);
    if (conn)
        PQclear(PQexec(conn, "ROLLBACK"));
    db_close(conn);
    return rc;
}

/* ---- explain-match ---- */

static void
default_home(char *out, size_t cap)
{
    const char *env = getenv("CANBAO_HOME");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    snprintf(out, cap, "/usr/share/canbao");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return;
        *slash = '\0';
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/schema", exe);
        if (access(probe, R_OK) == 0) {
            snprintf(out, cap, "%s", exe);
            return;
        }
        snprintf(probe, sizeof probe, "%s/share/canbao/schema", exe);
        if (access(probe, R_OK) == 0) {
            snprintf(out, cap, "%s/share/canbao", exe);
            return;
        }
    }
}

int
identity_cmd_explain(int argc, char **argv)
{
    const char *db = NULL, *ref = NULL, *extracts = NULL, *asof = NULL, *home = NULL;
    const char *connectors = NULL, *rules = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_explain, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--db") == 0 && has) {
            db = argv[++i];
        } else if (strcmp(a, "--extracts") == 0 && has) {
            extracts = argv[++i];
        } else if (strcmp(a, "--asof") == 0 && has) {
            asof = argv[++i];
        } else if (strcmp(a, "--home") == 0 && has) {
            home = argv[++i];
        } else if (strcmp(a, "--connectors") == 0 && has) {
            connectors = argv[++i];
        } else if (strcmp(a, "--rules") == 0 && has) {
            rules = argv[++i];
        } else if (a[0] != '-' && ref == NULL) {
            ref = a;
        } else {
            fprintf(stderr, "canbao: unexpected argument %s\n\n%s", a, usage_explain);
            return EXIT_USAGE;
        }
    }
    char file[512];
    uint64_t record;
    if (ref == NULL || extracts == NULL || asof == NULL) {
        fprintf(stderr, "canbao: explain-match needs RECORD-REF, --extracts and --asof\n\n%s", usage_explain);
        return EXIT_USAGE;
    }
    if (!split_ref(ref, file, sizeof file, &record)) {
        fprintf(stderr, "canbao: RECORD-REF %s is not FILE:RECORD\n\n%s", ref, usage_explain);
        return EXIT_USAGE;
    }
    Day d = date_parse(asof, strlen(asof));
    if (d == DAY_NONE || strlen(asof) != 10 || asof[4] != '-') {
        fprintf(stderr, "canbao: --asof %s is not a date of the form YYYY-MM-DD\n\n%s", asof, usage_explain);
        return EXIT_USAGE;
    }
    char h[PATH_MAX], cdir[PATH_MAX + 32], rdir[PATH_MAX + 32];
    if (home)
        snprintf(h, sizeof h, "%s", home);
    else
        default_home(h, sizeof h);
    snprintf(cdir, sizeof cdir, "%s/connectors/agencies", h);
    snprintf(rdir, sizeof rdir, "%s/rules", h);

    CbError err = {0};
    SourceDef *defs = NULL;
    int ndefs = 0;
    Store st;
    LoadReport rep;
    IdentityResult idr;
    PGconn *conn = NULL;
    store_init(&st);
    memset(&rep, 0, sizeof rep);
    memset(&idr, 0, sizeof idr);
    bool ok = false;
    if (db || getenv("PGHOST") || getenv("PGDATABASE") || getenv("PGSERVICE")) {
        CbError cerr = {0};
        conn = db_connect(db, &cerr);
        if (conn == NULL)
            printf("(reviewers' decisions not read: %s)\n", cerr.message);
    } else {
        printf("(reviewers' decisions not read: no database given)\n");
    }
    if (!sourcedefs_load_dir(connectors ? connectors : cdir, &defs, &ndefs, &err) ||
        !load_delivery(&st, defs, ndefs, extracts, false, &rep, &err))
        goto done;
    IdentityOptions io = {.rules_dir = rules ? rules : rdir, .asof = d, .conn = conn,
                          .explain_file = file, .explain_record = record, .explain_out = stdout};
    if (!identity_link(&st, &rep, &io, &idr, &err))
        goto done;
    if (!idr.stats.explained) {
        printf("record %s did not need identity resolution: it was linked by its valid ID number as\n"
               "written, or it was a duplicate, or it was rejected when read (see rejects.csv)\n", ref);
    }
    ok = true;
done:
    if (!ok)
        cb_error_print(&err);
    identity_result_free(&idr);
    store_free(&st);
    load_report_free(&rep);
    if (defs)
        sourcedefs_free(defs, ndefs);
    db_close(conn);
    return ok ? EXIT_OK : run_exit_code(&err);
}
