/*
 * cmd_feedback — what comes back: `canbao feedback FILE.xlsx` (a township's answers in its
 * workbook) and `canbao ack FILE` (the pension system's acknowledgement of suspension alerts,
 * format: schema/alerts_ack.md).
 *
 * Both check the whole file first and record nothing when anything is wrong: every problem is
 * printed with its place (sheet and row, or line) and the exit code is 3.  Both are
 * idempotent: a file already imported (same SHA-256) changes nothing, and an answer equal to
 * the item's latest is counted as unchanged.  Both take the run lock, so that they never
 * change states while a run reads them (exit code 5 while a run is going on).  SQL lives in
 * schema/003_lifecycle.sql (feedback_import, ack_import); here are the lookups.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "crypto.h"
#include "db.h"
#include "idnum.h"
#include "out_alerts.h"
#include "out_xlsx.h"
#include "reader.h"
#include "run.h"

#define MAX_PRINTED 100

static const char *usage_feedback =
    "Usage: canbao feedback FILE.xlsx [--township CODE] [--db CONNINFO]\n"
    "\n"
    "Records a township's answers from its returned outreach workbook: for every row with a\n"
    "结果 (one of 已联系 已参保 拒绝 外出务工 已迁出 已死亡 信息有误), its 日期 and 备注.  The\n"
    "workbook must be one canbao wrote (its hidden sheet _canbao names the township and the\n"
    "night); --township says which township sent it, and a workbook of another township is\n"
    "refused.  Every problem is reported with sheet and row, and then nothing is recorded\n"
    "(exit code 3).  Importing the same file twice records nothing the second time.  The next\n"
    "night's workbooks show the answers; 已死亡 and 已迁出 become evidence to verify.\n";

static const char *usage_ack =
    "Usage: canbao ack FILE.csv [--db CONNINFO]\n"
    "\n"
    "Imports the pension system's acknowledgement of suspension alerts: a CSV file with the\n"
    "header alert_id,id_number,decision,decided_on,operator,note (schema/alerts_ack.md).\n"
    "received and suspended acknowledge an alert (it is no longer sent); not_deceased dismisses\n"
    "it (who: operator, why: note).  Every problem is reported with its line, and then nothing\n"
    "is recorded (exit code 3).  Importing the same file twice records nothing the second time.\n";

/* ---- problems ---- */

/* Every problem of a file, printed in the file's order when the checks are done. */
typedef struct Problem {
    int  sheet_no, row;     /* sort key: sheet (0 for a CSV file), then row or line */
    int  seq;               /* then the order found */
    char text[700];
} Problem;

typedef struct Problems {
    int         n;
    const char *file;
    Problem    *items;
    size_t      cap;
} Problems;

static void
problem(Problems *p, int sheet_no, int row, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
problem(Problems *p, int sheet_no, int row, const char *where, const char *fmt, ...)
{
    if ((size_t) p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    Problem *x = &p->items[p->n];
    x->seq = p->n++;
    x->sheet_no = sheet_no;
    x->row = row;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(x->text, sizeof x->text, "%s%s%s", where, where[0] ? ": " : "", msg);
}

static int
cmp_problem(const void *a, const void *b)
{
    const Problem *x = a, *y = b;
    if (x->sheet_no != y->sheet_no)
        return x->sheet_no - y->sheet_no;
    if (x->row != y->row)
        return x->row - y->row;
    return x->seq - y->seq;
}

static int
finish_problems(Problems *p, const char *hint)
{
    if (p->n > 1)
        qsort(p->items, (size_t) p->n, sizeof *p->items, cmp_problem);
    for (int i = 0; i < p->n && i < MAX_PRINTED; i++)
        fprintf(stderr, "canbao: error: %s: %s\n", p->file, p->items[i].text);
    if (p->n > MAX_PRINTED)
        fprintf(stderr, "canbao: ... and %d more problems\n", p->n - MAX_PRINTED);
    if (hint)
        fprintf(stderr, "HINT: %s\n", hint);
    fprintf(stderr, "canbao: %d problem%s in %s; nothing was recorded\n", p->n, p->n == 1 ? "" : "s", p->file);
    return EXIT_INPUT;
}

/* ---- helpers ---- */

/* The SHA-256 of the file the user named: a file that cannot be read is bad input (exit 3). */
static bool
sha256_file(const char *path, char out[65], CbError *err)
{
    if (crypto_file_sha256(path, out, NULL, err))
        return true;
    if (err->kind == CBERR_IO)
        err->kind = CBERR_INPUT;
    return false;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A field as a NUL-terminated, trimmed string in buf. */
static const char *
field(const Record *rec, int c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (c < 0 || c >= rec->nfields || rec->fields[c].p == NULL)
        return buf;
    const char *s = rec->fields[c].p;
    size_t n = rec->fields[c].len;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static bool
parse_id(const char *s, int64_t *out)
{
    if (*s == '\0' || strlen(s) > 18)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return v > 0;
}

/* {1,2,3} for keys[0..n) */
static char *
array_literal(const int64_t *keys, size_t n)
{
    char *s = xmalloc(n * 21 + 3);
    size_t o = 0;
    s[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t) sprintf(s + o, "%s%lld", i ? "," : "", (long long) keys[i]);
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

static int
db_fail(PGconn *conn, const CbError *err)
{
    cb_error_print(err);
    db_close(conn);
    return run_exit_code(err);
}

static int
parse_common(int argc, char **argv, const char *usage, const char **file, const char **db,
             const char **township)
{
    *file = *db = NULL;
    if (township)
        *township = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            *db = argv[++i];
        } else if (township && strcmp(argv[i], "--township") == 0 && i + 1 < argc) {
            *township = argv[++i];
        } else if (argv[i][0] != '-' && *file == NULL) {
            *file = argv[i];
        } else {
            fprintf(stderr, "canbao: unexpected argument %s\n\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    if (*file == NULL) {
        fprintf(stderr, "canbao: which file?\n\n%s", usage);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Takes the run lock and says whether the file was imported before (table: feedback_files or
 * ack_files).  Returns EXIT_OK to go on, -1 when already imported, else an exit code. */
static int
lock_and_check_done(PGconn *conn, const char *table, const char *sha, const char *file)
{
    CbError err = {0};
    if (!db_lock_run(conn, &err)) {
        cb_error_print(&err);
        return run_exit_code(&err);
    }
    /* one literal statement per table: no SQL text is formatted */
    const char *sql = strcmp(table, "ack_files") == 0
                          ? "SELECT imported_at::timestamp(0), rows_recorded FROM canbao.ack_files WHERE sha256 = $1"
                          : "SELECT imported_at::timestamp(0), rows_recorded FROM canbao.feedback_files WHERE sha256 = $1";
    const char *params[] = {sha};
    PGresult *res = NULL;
    if (!db_exec_params(conn, sql, 1, params, &res, &err)) {
        cb_error_print(&err);
        return run_exit_code(&err);
    }
    if (PQntuples(res) > 0) {
        printf("canbao: %s was imported already (%s, %s rows recorded then); nothing to do\n", base_name(file),
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return EXIT_OK;
}

/* ==================================================================== canbao feedback */

typedef struct Answer {
    int64_t     key;
    char        sheet[128];
    int         sheet_no;     /* order of the sheet in the workbook */
    int         row;
    char        problem[300]; /* found when checked against the database */
    int         outcome;      /* index in OUT_XLSX_OUTCOMES */
    Day         date;
    char        note[600];
} Answer;

typedef struct Meta {
    char format[64], township[32], township_name[128], asof[16];
    int  nsheets;
    char sheets[512][128];
} Meta;

static bool
read_meta(const char *file, Meta *m, CbError *err)
{
    memset(m, 0, sizeof *m);
    ReaderSpec spec = {.format = RF_XLSX, .sheet = OUT_XLSX_META_SHEET};
    Reader *r = reader_open(&spec, file, err);
    if (r == NULL) {
        if (strstr(err->message, "not found") != NULL) {
            CB_FAIL(err, CBERR_INPUT, "not a canbao township workbook: it has no sheet %s", OUT_XLSX_META_SHEET);
            cb_error_at(err, "%s", file);
        }
        cb_error_hint(err, "canbao feedback takes the township workbook (.xlsx) canbao made, with the answers "
                           "filled in");
        return false;
    }
    Record rec;
    ReadStatus s;
    char k[64], v[256];
    while ((s = reader_next(r, &rec, err)) == READ_OK || s == READ_BAD) {
        if (s == READ_BAD)
            continue;
        field(&rec, 0, k, sizeof k);
        field(&rec, 1, v, sizeof v);
        if (strcmp(k, "format") == 0)
            snprintf(m->format, sizeof m->format, "%s", v);
        else if (strcmp(k, "township") == 0)
            snprintf(m->township, sizeof m->township, "%s", v);
        else if (strcmp(k, "township_name") == 0)
            snprintf(m->township_name, sizeof m->township_name, "%s", v);
        else if (strcmp(k, "asof") == 0)
            snprintf(m->asof, sizeof m->asof, "%s", v);
        else if (strcmp(k, "sheet") == 0 && m->nsheets < 512)
            snprintf(m->sheets[m->nsheets++], sizeof m->sheets[0], "%s", v);
    }
    reader_close(r);
    if (s == READ_ERROR)
        return false;
    if (strcmp(m->format, OUT_XLSX_FORMAT) != 0) {
        CB_FAIL(err, CBERR_INPUT, "not a canbao township workbook (format \"%s\", expected \"%s\")", m->format,
                OUT_XLSX_FORMAT);
        cb_error_at(err, "%s", file);
        return false;
    }
    Day d = date_parse(m->asof, strlen(m->asof));
    if (m->township[0] == '\0' || d == DAY_NONE) {
        CB_FAIL(err, CBERR_INPUT, "the workbook's sheet %s lacks the township or the date", OUT_XLSX_META_SHEET);
        cb_error_at(err, "%s", file);
        return false;
    }
    return true;
}

static int
outcome_index(const char *s)
{
    for (int i = 0; i < OUT_XLSX_NOUTCOMES; i++)
        if (strcmp(OUT_XLSX_OUTCOMES[i], s) == 0)
            return i;
    return -1;
}

/* Reads one village sheet's answers into *ans (grown as needed). */
static bool
read_answers(const char *file, const char *sheet, int sheet_no, Problems *pb, Answer **ans, size_t *n,
             size_t *cap, CbError *err)
{
    ReaderSpec spec = {.format = RF_XLSX, .sheet = sheet};
    Reader *r = reader_open(&spec, file, err);
    if (r == NULL)
        return false;
    int c_out = -1, c_date = -1, c_note = -1, c_key = -1;
    Record rec;
    ReadStatus s;
    bool header = true;
    char where[256], out[256], date[64], note[600], key[64];
    while ((s = reader_next(r, &rec, err)) == READ_OK || s == READ_BAD) {
        snprintf(where, sizeof where, "sheet %s, row %llu", sheet, (unsigned long long) rec.line_no);
        if (header) {
            header = false;
            char h[64];
            for (int c = 0; c < rec.nfields; c++) {
                field(&rec, c, h, sizeof h);
                if (strcmp(h, OUT_XLSX_COLUMNS[OXC_OUTCOME]) == 0)
                    c_out = c;
                else if (strcmp(h, OUT_XLSX_COLUMNS[OXC_DATE]) == 0)
                    c_date = c;
                else if (strcmp(h, OUT_XLSX_COLUMNS[OXC_NOTE]) == 0)
                    c_note = c;
                else if (strcmp(h, OUT_XLSX_COLUMNS[OXC_KEY]) == 0)
                    c_key = c;
            }
            if (c_out < 0 || c_date < 0 || c_note < 0 || c_key < 0) {
                problem(pb, sheet_no, (int) rec.line_no, where,
                        "the header lacks one of the columns 结果, 日期, 备注, 行键 (was the sheet changed?)");
                break;
            }
            continue;
        }
        int row = (int) rec.line_no;
        if (s == READ_BAD) {
            problem(pb, sheet_no, row, where, "%s", rec.reason);
            continue;
        }
        field(&rec, c_out, out, sizeof out);
        field(&rec, c_date, date, sizeof date);
        field(&rec, c_note, note, sizeof note);
        field(&rec, c_key, key, sizeof key);
        if (!out[0] && !date[0] && !note[0])
            continue;   /* no answer yet */
        Answer a;
        memset(&a, 0, sizeof a);
        snprintf(a.sheet, sizeof a.sheet, "%s", sheet);
        a.sheet_no = sheet_no;
        a.row = (int) rec.line_no;
        a.date = DAY_NONE;
        bool good = true;
        if (!out[0]) {
            problem(pb, sheet_no, row, where, "日期 or 备注 filled in, but no 结果");
            good = false;
        } else if ((a.outcome = outcome_index(out)) < 0) {
            problem(pb, sheet_no, row, where, "unknown outcome \"%s\" in 结果", out);
            good = false;
        }
        if (date[0]) {
            a.date = date_parse(date, strlen(date));
            if (a.date == DAY_NONE) {
                problem(pb, sheet_no, row, where, "\"%s\" in 日期 is not a date", date);
                good = false;
            }
        }
        if (!parse_id(key, &a.key)) {
            problem(pb, sheet_no, row, where, "no valid row key (行键 \"%s\"): the row is not one canbao wrote", key);
            good = false;
        }
        snprintf(a.note, sizeof a.note, "%s", note);
        if (!good)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *ans = xrealloc(*ans, *cap * sizeof **ans);
        }
        (*ans)[(*n)++] = a;
    }
    reader_close(r);
    return s != READ_ERROR;
}

static int
cmp_answer_key(const void *a, const void *b)
{
    const Answer *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->sheet_no != y->sheet_no ? x->sheet_no - y->sheet_no : x->row - y->row;
}

static int
cmp_answer_place(const void *a, const void *b)
{
    const Answer *x = a, *y = b;
    return x->sheet_no != y->sheet_no ? x->sheet_no - y->sheet_no : x->row - y->row;
}

int
cmd_feedback(int argc, char **argv)
{
    const char *file, *db, *township;
    int rc = parse_common(argc, argv, usage_feedback, &file, &db, &township);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    CbError err = {0};
    char sha[65];
    Meta *m = xcalloc(1, sizeof *m);
    Answer *ans = NULL;
    size_t nans = 0, cap = 0;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    char *keys_lit = NULL;
    int64_t *keys = NULL;
    Problems pb = {.file = file};
    rc = EXIT_OK;
    if (!sha256_file(file, sha, &err) || !read_meta(file, m, &err)) {
        cb_error_print(&err);
        rc = run_exit_code(&err);
        goto done;
    }
    if (township && strcmp(township, m->township) != 0) {
        problem(&pb, 0, 0, "", "the workbook is of township %s %s, not of %s", m->township, m->township_name,
                township);
        rc = finish_problems(&pb, "each township sends back its own workbook");
        goto done;
    }
    for (int i = 0; i < m->nsheets; i++)
        if (!read_answers(file, m->sheets[i], i, &pb, &ans, &nans, &cap, &err)) {
            cb_error_print(&err);
            rc = run_exit_code(&err);
            goto done;
        }
    /* one answer per row key */
    if (nans > 1)
        qsort(ans, nans, sizeof *ans, cmp_answer_key);
    for (size_t i = 1; i < nans; i++)
        if (ans[i].key == ans[i - 1].key)
            snprintf(ans[i].problem, sizeof ans[i].problem, "the same row key as sheet %s, row %d (a copied row?)",
                     ans[i - 1].sheet, ans[i - 1].row);

    conn = db_connect(db, &err);
    if (conn == NULL) {
        rc = db_fail(conn, &err);
        conn = NULL;
        goto done;
    }
    rc = lock_and_check_done(conn, "feedback_files", sha, file);
    if (rc != EXIT_OK) {
        rc = rc < 0 ? EXIT_OK : rc;
        goto done;
    }
    /* the night the workbook was made for */
    const char *p1[] = {m->asof};
    if (!db_exec_params(conn, "SELECT run_id FROM canbao.runs WHERE state = 'succeeded' AND asof = $1::date "
                              "ORDER BY run_id DESC LIMIT 1", 1, p1, &res, &err)) {
        rc = db_fail(conn, &err);
        conn = NULL;
        goto done;
    }
    if (PQntuples(res) == 0) {
        problem(&pb, 0, 0, "", "the workbook is of the night %s, which this database has no succeeded run for",
                m->asof);
        rc = finish_problems(&pb, "import it into the database of the run that made it");
        goto done;
    }
    char run_id[24];
    snprintf(run_id, sizeof run_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    const char *p2[] = {run_id, m->township};
    if (!db_exec_params(conn, "SELECT EXISTS (SELECT 1 FROM canbao.run_items ri JOIN canbao.list_rows l "
                              "ON l.run_id = ri.run_id AND l.list_name = ri.list_name AND l.row_no = ri.row_no "
                              "WHERE ri.run_id = $1::bigint AND l.township = $2)", 2, p2, &res, &err)) {
        rc = db_fail(conn, &err);
        conn = NULL;
        goto done;
    }
    bool known = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    res = NULL;
    if (!known && nans > 0) {
        problem(&pb, 0, 0, "", "unknown township %s: the lists of %s have no rows for it", m->township, m->asof);
        rc = finish_problems(&pb, NULL);
        goto done;
    }
    /* every answered row must be on that night's list of this township */
    if (nans > 0) {
        keys = xmalloc(nans * sizeof *keys);
        for (size_t i = 0; i < nans; i++)
            keys[i] = ans[i].key;
        keys_lit = array_literal(keys, nans);
        const char *p3[] = {run_id, keys_lit};
        if (!db_exec_params(conn, "SELECT ri.item_id, coalesce(l.township, ''), ri.list_name FROM canbao.run_items ri "
                                  "JOIN canbao.list_rows l ON l.run_id = ri.run_id AND l.list_name = ri.list_name "
                                  "AND l.row_no = ri.row_no WHERE ri.run_id = $1::bigint AND ri.item_id = ANY ($2::bigint[]) "
                                  "ORDER BY ri.item_id", 2, p3, &res, &err)) {
            rc = db_fail(conn, &err);
            conn = NULL;
            goto done;
        }
        int t = 0, nt = PQntuples(res);
        for (size_t i = 0; i < nans; i++) {
            while (t < nt && atoll(PQgetvalue(res, t, 0)) < ans[i].key)
                t++;
            if (ans[i].problem[0])
                continue;
            if (t >= nt || atoll(PQgetvalue(res, t, 0)) != ans[i].key)
                snprintf(ans[i].problem, sizeof ans[i].problem, "row key %lld is not on the lists of %s",
                         (long long) ans[i].key, m->asof);
            else if (strcmp(PQgetvalue(res, t, 1), m->township) != 0)
                snprintf(ans[i].problem, sizeof ans[i].problem,
                         "the row belongs to township %s, not to this workbook's %s %s", PQgetvalue(res, t, 1),
                         m->township, m->township_name);
        }
        PQclear(res);
        res = NULL;
    }
    /* the problems found by key, in the workbook's order */
    if (nans > 1)
        qsort(ans, nans, sizeof *ans, cmp_answer_place);
    for (size_t i = 0; i < nans; i++)
        if (ans[i].problem[0]) {
            char where[256];
            snprintf(where, sizeof where, "sheet %s, row %d", ans[i].sheet, ans[i].row);
            problem(&pb, ans[i].sheet_no, ans[i].row, where, "%s", ans[i].problem);
        }
    if (pb.n > 0) {
        char hint[512];
        snprintf(hint, sizeof hint, "结果 must be one of 已联系, 已参保, 拒绝, 外出务工, 已迁出, 已死亡, 信息有误; "
                                    "rows must stay as canbao wrote them (only 结果, 日期 and 备注 change)");
        rc = finish_problems(&pb, hint);
        goto done;
    }
    /* record */
    {
        DbCopy c;
        char asof_s[11];
        bool ok = db_exec(conn, "BEGIN", &err) &&
                  db_exec(conn, "CREATE TEMP TABLE feedback_in (item_id bigint, sheet text, row_no integer, "
                                "outcome text, outcome_date date, note text) ON COMMIT DROP", &err) &&
                  db_copy_begin(&c, conn, "COPY pg_temp.feedback_in FROM STDIN", &err);
        if (ok) {
            for (size_t i = 0; i < nans; i++) {
                db_copy_int(&c, ans[i].key);
                db_copy_text(&c, ans[i].sheet);
                db_copy_int(&c, ans[i].row);
                db_copy_text(&c, OUT_XLSX_OUTCOMES[ans[i].outcome]);
                date_format(ans[i].date, asof_s);
                db_copy_text(&c, ans[i].date == DAY_NONE ? NULL : asof_s);
                db_copy_text(&c, ans[i].note[0] ? ans[i].note : NULL);
                db_copy_end_row(&c);
            }
            ok = db_copy_end(&c, &err);
        }
        const char *p4[] = {sha, base_name(file), m->township, m->asof, run_id};
        if (ok)
            ok = db_exec_params(conn, "SELECT * FROM canbao.feedback_import($1, $2, $3, $4::date, $5::bigint)", 5, p4,
                                &res, &err) &&
                 db_exec(conn, "COMMIT", &err);
        if (!ok) {
            PQclear(PQexec(conn, "ROLLBACK"));
            if (res)
                PQclear(res);
            res = NULL;
            rc = db_fail(conn, &err);
            conn = NULL;
            goto done;
        }
        printf("canbao: %s %s, workbook of %s: %s answers recorded, %s unchanged\n", m->township, m->township_name,
               m->asof, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    }
done:
    if (res)
        PQclear(res);
    db_close(conn);
    free(keys_lit);
    free(keys);
    free(ans);
    free(m);
    free(pb.items);
    return rc;
}

/* ==================================================================== canbao ack */

static const char *const ack_columns[] = {"alert_id", "id_number", "decision", "decided_on", "operator", "note"};
#define ACK_NCOLS 6
static const char *const decisions[] = {"received", "suspended", "not_deceased"};

typedef struct Ack {
    int64_t key;
    int     line;
    char    id[19];
    int     decision;
    Day     decided;
    char    op[128];
    char    note[600];
} Ack;

static int
cmp_ack(const void *a, const void *b)
{
    const Ack *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->line - y->line;
}

int
cmd_ack(int argc, char **argv)
{
    const char *file, *db;
    int rc = parse_common(argc, argv, usage_ack, &file, &db, NULL);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    CbError err = {0};
    char sha[65];
    Problems pb = {.file = file};
    Ack *acks = NULL;
    size_t n = 0, cap = 0;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    int64_t *keys = NULL;
    char *keys_lit = NULL;
    Reader *r = NULL;
    if (!sha256_file(file, sha, &err)) {
        cb_error_print(&err);
        return run_exit_code(&err);
    }
    ReaderSpec spec = {.format = RF_CSV, .delimiter = ',', .quote = '"'};
    r = reader_open(&spec, file, &err);
    if (r == NULL) {
        cb_error_print(&err);
        return run_exit_code(&err);
    }
    Record rec;
    ReadStatus s;
    bool header = true;
    char where[64], v[ACK_NCOLS][600];
    while ((s = reader_next(r, &rec, &err)) == READ_OK || s == READ_BAD) {
        snprintf(where, sizeof where, "line %llu", (unsigned long long) rec.line_no);
        if (s == READ_BAD) {
            problem(&pb, 0, (int) rec.line_no, where, "%s", rec.reason);
            header = false;
            continue;
        }
        for (int c = 0; c < ACK_NCOLS; c++)
            field(&rec, c, v[c], sizeof v[c]);
        if (header) {
            header = false;
            bool same = rec.nfields == ACK_NCOLS;
            for (int c = 0; same && c < ACK_NCOLS; c++)
                same = strcmp(v[c], ack_columns[c]) == 0;
            if (!same) {
                problem(&pb, 0, (int) rec.line_no, where,
                        "the header must be alert_id,id_number,decision,decided_on,operator,note");
                break;
            }
            continue;
        }
        if (rec.nfields != ACK_NCOLS) {
            problem(&pb, 0, (int) rec.line_no, where, "%d fields, expected %d", rec.nfields, ACK_NCOLS);
            continue;
        }
        Ack a;
        memset(&a, 0, sizeof a);
        a.line = (int) rec.line_no;
        bool good = true;
        if (!parse_id(v[0], &a.key)) {
            problem(&pb, 0, a.line, where, "alert_id \"%s\" is not an alert number", v[0]);
            good = false;
        }
        char norm[19];
        if (idnum_normalise(v[1], strlen(v[1]), norm) != IDNUM_OK) {
            problem(&pb, 0, a.line, where, "id_number \"%s\" is not a valid ID number", v[1]);
            good = false;
        }
        snprintf(a.id, sizeof a.id, "%s", norm);
        a.decision = -1;
        for (int d = 0; d < 3; d++)
            if (strcmp(v[2], decisions[d]) == 0)
                a.decision = d;
        if (a.decision < 0) {
            problem(&pb, 0, a.line, where, "unknown decision \"%s\" (expected received, suspended or not_deceased)", v[2]);
            good = false;
        }
        a.decided = strlen(v[3]) == 10 ? date_parse(v[3], 10) : DAY_NONE;
        if (a.decided == DAY_NONE) {
            problem(&pb, 0, a.line, where, "decided_on \"%s\" is not a date YYYY-MM-DD", v[3]);
            good = false;
        }
        if (!v[4][0]) {
            problem(&pb, 0, a.line, where, "operator is empty: say who decided");
            good = false;
        }
        if (a.decision == 2 && !v[5][0]) {
            problem(&pb, 0, a.line, where, "not_deceased needs a note saying why");
            good = false;
        }
        snprintf(a.op, sizeof a.op, "%s", v[4]);
        snprintf(a.note, sizeof a.note, "%s", v[5]);
        if (!good)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            acks = xrealloc(acks, cap * sizeof *acks);
        }
        acks[n++] = a;
    }
    reader_close(r);
    if (s == READ_ERROR) {
        cb_error_print(&err);
        rc = run_exit_code(&err);
        goto done;
    }
    if (header && pb.n == 0)
        problem(&pb, 0, 0, "", "the file is empty (expected the header alert_id,id_number,decision,decided_on,operator,note)");
    if (n > 1)
        qsort(acks, n, sizeof *acks, cmp_ack);
    for (size_t i = 1; i < n; i++)
        if (acks[i].key == acks[i - 1].key) {
            snprintf(where, sizeof where, "line %d", acks[i].line);
            problem(&pb, 0, acks[i].line, where, "alert %lld is answered twice (also on line %d)",
                    (long long) acks[i].key, acks[i - 1].line);
        }

    conn = db_connect(db, &err);
    if (conn == NULL) {
        rc = db_fail(conn, &err);
        goto done;
    }
    rc = lock_and_check_done(conn, "ack_files", sha, file);
    if (rc != EXIT_OK) {
        rc = rc < 0 ? EXIT_OK : rc;
        goto done;
    }
    if (n > 0) {
        keys = xmalloc(n * sizeof *keys);
        for (size_t i = 0; i < n; i++)
            keys[i] = acks[i].key;
        keys_lit = array_literal(keys, n);
        const char *p[] = {keys_lit};
        if (!db_exec_params(conn, "SELECT item_id, id_number, list_name, first_sent_run IS NOT NULL "
                                  "FROM canbao.list_items WHERE item_id = ANY ($1::bigint[]) ORDER BY item_id",
                            1, p, &res, &err)) {
            rc = db_fail(conn, &err);
            conn = NULL;
            goto done;
        }
        int t = 0, nt = PQntuples(res);
        for (size_t i = 0; i < n; i++) {
            while (t < nt && atoll(PQgetvalue(res, t, 0)) < acks[i].key)
                t++;
            snprintf(where, sizeof where, "line %d", acks[i].line);
            if (t >= nt || atoll(PQgetvalue(res, t, 0)) != acks[i].key)
                problem(&pb, 0, acks[i].line, where, "unknown alert %lld", (long long) acks[i].key);
            else if (strcmp(PQgetvalue(res, t, 2), OUT_ALERTS_LIST) != 0 || strcmp(PQgetvalue(res, t, 3), "t") != 0)
                problem(&pb, 0, acks[i].line, where, "%lld is not a suspension alert that was sent",
                        (long long) acks[i].key);
            else if (strcmp(PQgetvalue(res, t, 1), acks[i].id) != 0)
                problem(&pb, 0, acks[i].line, where, "alert %lld is about another person than %s",
                        (long long) acks[i].key, acks[i].id);
        }
        PQclear(res);
        res = NULL;
    }
    if (pb.n > 0) {
        rc = finish_problems(&pb, "the format is described in schema/alerts_ack.md");
        goto done;
    }
    {
        DbCopy c;
        char d[11];
        bool ok = db_exec(conn, "BEGIN", &err) &&
                  db_exec(conn, "CREATE TEMP TABLE ack_in (item_id bigint, line_no integer, decision text, "
                                "decided_on date, operator text, note text) ON COMMIT DROP", &err) &&
                  db_copy_begin(&c, conn, "COPY pg_temp.ack_in FROM STDIN", &err);
        if (ok) {
            for (size_t i = 0; i < n; i++) {
                db_copy_int(&c, acks[i].key);
                db_copy_int(&c, acks[i].line);
                db_copy_text(&c, decisions[acks[i].decision]);
                date_format(acks[i].decided, d);
                db_copy_text(&c, d);
                db_copy_text(&c, acks[i].op);
                db_copy_text(&c, acks[i].note[0] ? acks[i].note : NULL);
                db_copy_end_row(&c);
            }
            ok = db_copy_end(&c, &err);
        }
        const char *p[] = {sha, base_name(file)};
        if (ok)
            ok = db_exec_params(conn, "SELECT * FROM canbao.ack_import($1, $2)", 2, p, &res, &err) &&
                 db_exec(conn, "COMMIT", &err);
        if (!ok) {
            PQclear(PQexec(conn, "ROLLBACK"));
            if (res)
                PQclear(res);
            res = NULL;
            rc = db_fail(conn, &err);
            conn = NULL;
            goto done;
        }
        printf("canbao: %s: %s acknowledgements recorded, %s unchanged\n", base_name(file), PQgetvalue(res, 0, 0),
               PQgetvalue(res, 0, 1));
        rc = EXIT_OK;
    }
done:
    if (res)
        PQclear(res);
    db_close(conn);
    free(keys);
    free(keys_lit);
    free(acks);
    free(pb.items);
    return rc;
}
