#include "run.h"
#include "secout.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "fault.h"
#include "identity.h"
#include "lastgood.h"
#include "lists.h"
#include "load.h"
#include "log.h"
#include "output.h"
#include "parallel.h"
#include "rules.h"
#include "sourcedef.h"
#include "store.h"
#include "text.h"
#include "version.h"
#include "lifecycle.h"
#include "out_alerts.h"
#include "out_common.h"
#include "out_report.h"
#include "out_xlsx.h"
#include "params.h"
#include "release.h"

int
run_exit_code(const CbError *err)
{
    switch (err->kind) {
    case CBERR_NONE: return EXIT_OK;
    case CBERR_USAGE: return EXIT_USAGE;
    case CBERR_INPUT: return EXIT_INPUT;
    case CBERR_DB: return EXIT_DATABASE;
    case CBERR_LOCKED: return EXIT_LOCKED;
    case CBERR_IO: return EXIT_IO;
    case CBERR_CANCELLED: return EXIT_CANCELLED;
    default: return EXIT_FAILURE_OTHER;
    }
}

/* The village clerks' 已死亡 answers from returned workbooks become death evidence of kind
 * township, linked "probable": to verify, never confirming (rules/common.rules).  They are
 * recorded as one pseudo-file so that rows can cite them (record = canbao.feedback id). */
static bool
add_township_feedback(PGconn *conn, Day asof, Store *st, CbError *err)
{
    Vec fb;
    vec_init(&fb, sizeof(LcFeedbackEvidence));
    if (!lifecycle_feedback_evidence(conn, asof, &fb, err)) {
        vec_free(&fb);
        return false;
    }
    if (fb.len > 0) {
        uint16_t file = (uint16_t) st->files.len;
        SourceFile *sf = vec_push(&st->files);
        sf->source = "township_feedback";
        sf->agency = "乡镇（街道）";
        sf->kind = FK_DEATH;
        sf->name = "canbao.feedback";
        snprintf(sf->sha256, sizeof sf->sha256, "%064d", 0);
        const LcFeedbackEvidence *e = fb.data;
        for (size_t i = 0; i < fb.len; i++) {
            if (e[i].kind != LC_FB_DEATH)
                continue;   /* moved-out answers show in the workbooks; no rule reads them yet */
            sf = &VEC_AT(&st->files, SourceFile, file);
            sf->read++;
            Fact f = {.person = e[i].key, .d1 = e[i].date != DAY_NONE ? e[i].date : e[i].recorded,
                      .d2 = DAY_NONE, .kind = FK_DEATH, .code = EV_TOWNSHIP, .link = LINK_PROBABLE,
                      .file = file, .record = (uint64_t) e[i].feedback_id};
            store_add_fact(st, &f);
            sf->accepted++;
        }
        log_info("event=township_feedback answers=%zu", fb.len);
    }
    vec_free(&fb);
    return true;
}

static bool
load_config(const RunOptions *opt, RuleSet **rules, SourceDef **defs, int *ndefs, CbError *err)
{
    /* the whole rule set compiles before anything is read, or the run stops here */
    *rules = rules_load(opt->rules_dir, err, NULL);
    if (*rules == NULL)
        return false;
    return sourcedefs_load_dir(opt->connectors_dir, defs, ndefs, err) &&
           rules_check_history(*rules, *defs, *ndefs, err);
}

static void
report_load(const Store *st, const LoadReport *rep)
{
    for (int i = 0; i < rep->nunclaimed; i++)
        log_warn("event=unclaimed_file file=%s note=\"no connector definition claims this file; not read\"",
                 rep->unclaimed[i]);
    for (int i = 0; i < rep->nmissing_optional; i++)
        log_warn("event=source_missing source=%s note=\"optional source delivered no file\"",
                 rep->missing_optional[i]);
    for (int i = 0; i < rep->nstopped; i++)
        log_warn("event=source_stopped source=\"%s\" note=\"delivery failed its manifest or signature check; not read\"",
                 rep->stopped[i]);
    uint64_t read = 0, acc = 0, dup = 0, rej = 0;
    const SourceFile *sf = st->files.data;
    for (size_t i = 0; i < st->files.len; i++) {
        read += sf[i].read;
        acc += sf[i].accepted;
        dup += sf[i].duplicates;
        rej += sf[i].rejected;
    }
    log_info("event=loaded files=%zu records=%llu accepted=%llu duplicates=%llu rejected=%llu "
             "persons=%zu facts=%llu seconds=%.2f",
             st->files.len, (unsigned long long) read, (unsigned long long) acc,
             (unsigned long long) dup, (unsigned long long) rej, st->persons.len,
             (unsigned long long) store_fact_count(st),
             rep->seconds);
}

static int
env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *endp;
    long n = strtol(v, &endp, 10);
    if (*endp != '\0' || n < lo || n > hi) {
        log_warn("event=bad_setting name=%s value=\"%s\" note=\"not a number from %d to %d; %d is used\"", name,
                 v, lo, hi, def);
        return def;
    }
    return (int) n;
}

static double
env_seconds(const char *name, double def)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *endp;
    double d = strtod(v, &endp);
    if (*endp != '\0' || !(d >= 0 && d <= 600)) {
        log_warn("event=bad_setting name=%s value=\"%s\" note=\"not a number of seconds from 0 to 600; %g is "
                 "used\"", name, v, def);
        return def;
    }
    return d;
}

static PGconn *
connect_db(const RunOptions *opt, CbError *err)
{
    return db_connect_retry(opt->conninfo, env_int("CANBAO_DB_CONNECT_ATTEMPTS", 5, 1, 100),
                            env_seconds("CANBAO_DB_CONNECT_DELAY", 2.0), err);
}

/* The run's ledger row after a failure: failed (or cancelled) and why.  A connection that is
 * gone is made again (with the retries) only to record this; when that fails too, the row
 * stays 'running' and the next run marks it interrupted. */
static void
ledger_fail(PGconn **connp, const RunOptions *opt, int64_t run_id, const CbError *e)
{
    char id[24], msg[1600];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    snprintf(msg, sizeof msg, "%s%s%s", e->input_at, e->input_at[0] ? ": " : "", e->message);
    const char *params[] = {id, msg, e->kind == CBERR_CANCELLED ? "cancelled" : "failed"};
    if (!db_conn_lost(*connp)) {
        if (PQtransactionStatus(*connp) != PQTRANS_IDLE)
            PQclear(PQexec(*connp, "ROLLBACK"));
    } else {
        log_warn("event=db_connection_lost run_id=%s note=\"connecting again to record the failure\"", id);
        db_close(*connp);
        CbError ce = {0};
        *connp = cancel_requested() ? NULL : connect_db(opt, &ce);
        if (*connp == NULL) {
            log_warn("event=ledger_not_updated run_id=%s note=\"the ledger row stays 'running'; the next "
                     "run marks it interrupted\"", id);
            return;
        }
    }
    CbError ignored;
    db_exec_params(*connp,
                   "UPDATE canbao.runs SET state = $3, finished_at = now(), message = $2 "
                   "WHERE run_id = $1 AND state = 'running'", 3, params, NULL, &ignored);
}

/* rules/parameters.conf as loaded, as JSON for the ledger: {"min_age": "16 years",
 * "government_paid": ["disability", ...], "city_division": "222401", ...}. */
static char *
parameters_json(const char *rules_dir, CbError *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/parameters.conf", rules_dir);
    Params p;
    if (!params_load(path, &p, err))
        return NULL;
    size_t cap = 64, o = 0;
    for (int i = 0; i < p.n; i++)
        cap += strlen(p.items[i].name) * 2 + strlen(p.items[i].text ? p.items[i].text : "") * 6 + 64 +
               (size_t) p.items[i].nnames * 8;
    for (int i = 0; i < p.n; i++)
        for (int k = 0; k < p.items[i].nnames; k++)
            cap += strlen(p.items[i].names[k]) * 6;
    char *out = xmalloc(cap);
    out[o++] = '{';
    for (int i = 0; i < p.n; i++) {
        const Param *pa = &p.items[i];
        if (i)
            out[o++] = ',';
        o = json_str(out, cap, o, pa->name);
        out[o++] = ':';
        if (pa->kind == PARAM_NAMES) {
            out[o++] = '[';
            for (int k = 0; k < pa->nnames; k++) {
                if (k)
                    out[o++] = ',';
                o = json_str(out, cap, o, pa->names[k]);
            }
            out[o++] = ']';
        } else {
            o = json_str(out, cap, o, pa->text ? pa->text : "");
        }
    }
    out[o++] = '}';
    out[o] = '\0';
    params_free(&p);
    return out;
}

/* A run that committed but did not publish (its process died between the commit and the
 * ledger's "published"): when the output folder already points at its release, the ledger and
 * the alerts' lifecycle are brought up to date; when it is the newest succeeded run and its
 * files are complete (SHA256SUMS verifies), it is published now; otherwise it stays
 * unpublished (a later run of its night supersedes it). */
static bool
recover_unpublished(PGconn *conn, CbError *err)
{
    PGresult *res = NULL;
    if (!db_exec_params(conn,
                        "SELECT run_id, asof, out_dir, "
                        "       run_id = (SELECT max(x.run_id) FROM canbao.runs x WHERE x.state = 'succeeded') "
                        "  FROM canbao.runs WHERE state = 'succeeded' AND published_at IS NULL "
                        "   AND out_dir IS NOT NULL ORDER BY run_id", 0, NULL, &res, err))
        return false;
    bool ok = true;
    for (int t = 0; ok && t < PQntuples(res); t++) {
        int64_t run = atoll(PQgetvalue(res, t, 0));
        const char *asof_s = PQgetvalue(res, t, 1);
        bool newest = strcmp(PQgetvalue(res, t, 3), "t") == 0;
        Release rr;
        if (!release_paths(&rr, PQgetvalue(res, t, 2), date_parse(asof_s, strlen(asof_s)), run, err)) {
            ok = false;
            break;
        }
        char cur[256];
        release_current(rr.out, cur, sizeof cur);
        int64_t cur_run = release_run_id(cur);
        CbError verr = {0};
        if (strcmp(cur, rr.name) == 0) {
            ok = lifecycle_mark_published(conn, run, NULL, err);
            log_warn("event=recovered_publication run_id=%lld release=%s note=\"its files were out, the "
                     "ledger did not say so: now it does, and its alerts count as sent\"", (long long) run,
                     rr.name);
        } else if (newest && cur_run < run &&
                   (release_verify(rr.folder, &verr) || release_verify(rr.staging, &verr))) {
            /* a folder that cannot be written now (moved, no room) must not stop tonight's run */
            CbError ferr = {0};
            if (!release_install(&rr, &ferr) || !release_switch(&rr, &ferr))
                log_warn("event=unpublished_run run_id=%lld note=\"could not publish it now: %s: %s\"",
                         (long long) run, ferr.input_at, ferr.message);
            else if ((ok = lifecycle_mark_published(conn, run, NULL, err)))
                log_warn("event=completed_publication run_id=%lld release=%s out=%s note=\"committed but not "
                         "published when its process ended; published now\"", (long long) run, rr.name, rr.out);
        } else {
            release_discard(&rr);
            log_warn("event=unpublished_run run_id=%lld asof=%s note=\"committed, never published: %s\"",
                     (long long) run, asof_s,
                     !newest || cur_run >= run ? "a later run is out" : "its files were not complete");
        }
    }
    PQclear(res);
    return ok;
}

/* Under the run lock, before this run's ledger row: a database made anew numbers its runs
 * after the releases already in the output folder (schema/018), so that a release's name is new
 * and the newest release has the highest number. */
static bool
continue_run_numbers(PGconn *conn, const char *out, CbError *err)
{
    int64_t seen = release_newest_run(out);
    if (seen <= 0)
        return true;
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long) seen);
    const char *params[] = {s};
    PGresult *res = NULL;
    if (!db_exec_params(conn, "SELECT canbao.runs_continue_after($1::bigint)", 1, params, &res, err))
        return false;
    if (!PQgetisnull(res, 0, 0))
        log_warn("event=run_numbers_continued next=%s newest_release=%lld out=%s note=\"the database "
                 "numbered its runs below the releases in the output folder (made anew?): its runs now "
                 "go on after them\"", PQgetvalue(res, 0, 0), (long long) seen, out);
    PQclear(res);
    return true;
}

/* Under the run lock, before this run's ledger row: what runs that died left behind. */
static bool
recover(PGconn *conn, CbError *err)
{
    PGresult *res = NULL;
    if (!db_exec_params(conn, "SELECT run_id, asof, started_at::timestamp(0) FROM canbao.runs_mark_interrupted()",
                        0, NULL, &res, err))
        return false;
    for (int t = 0; t < PQntuples(res); t++)
        log_warn("event=run_interrupted run_id=%s asof=%s started=\"%s\" note=\"its process ended without "
                 "finishing; marked interrupted\"", PQgetvalue(res, t, 0), PQgetvalue(res, t, 1),
                 PQgetvalue(res, t, 2));
    PQclear(res);
    return recover_unpublished(conn, err);
}

static bool
ledger_set(PGconn *conn, int64_t run_id, const char *sql, const char *value, CbError *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {id, value};
    return db_exec_params(conn, sql, 2, params, NULL, err);
}

/* "2048", "2048M", "8G" → bytes (MB without a unit); at least 1 MB (a test's). */
bool
run_parse_size(const char *s, size_t *bytes)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (end == s || errno != 0 || s[0] == '-')
        return false;
    unsigned shift = 20;
    if ((*end == 'G' || *end == 'g') && end[1] == '\0')
        shift = 30;
    else if (!(*end == '\0' || ((*end == 'M' || *end == 'm') && end[1] == '\0')))
        return false;
    if (n < 1 || n > (1ull << (62 - shift)))
        return false;
    *bytes = (size_t) (n << shift);
    return true;
}

size_t
run_memory(const RunOptions *opt)
{
    if (opt && opt->memory > 0)
        return opt->memory;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (size_t) pages / 4 * 3 * (size_t) size : 0;
}

static void
enrolled_pass(void *arg, const Store *st)
{
    out_report_enrolled_pass(st, arg);
}

/* The ledger's one-line summary of a run: counts, and the sources it did without. */
static void
run_summary(char *summary, size_t cap, const Store *st, const ListSet *ls, const SourcePlan *plan)
{
    size_t o = (size_t) snprintf(summary, cap, "persons=%zu facts=%llu rejects=%zu", st->persons.len,
                                 (unsigned long long) store_fact_count(st), st->rejects.len);
    for (int i = 0; i < ls->n && o < cap - 80; i++)
        o += (size_t) snprintf(summary + o, cap - o, " %s=%zu", ls->lists[i].name, ls->lists[i].rows.len);
    for (int k = 0; k < plan->n && o < cap - 120; k++) {
        char d[11];
        date_format(plan->src[k].data_asof, d);
        if (plan->src[k].status == SRC_LAST_GOOD)
            o += (size_t) snprintf(summary + o, cap - o, " last_good=%s@%s", plan->src[k].def->name, d);
        else if (plan->src[k].status == SRC_MISSING || plan->src[k].status == SRC_STOPPED)
            o += (size_t) snprintf(summary + o, cap - o, " missing=%s", plan->src[k].def->name);
    }
    if (plan->deaths_incomplete[0] && o < cap - 40)
        snprintf(summary + o, cap - o, " deaths_incomplete=yes");
}

/* The night's files, written into the staging folder while the database stores the run. */
typedef struct FileWriter {
    const char           *dir;
    const Store          *st;
    const ListSet        *ls;
    const LcRun          *lc;
    const uint8_t        *enrolled;  /* per person (out_report_enrolled_pass) */
    const OutPlaces      *pl;
    const OutRunInfo     *ri;
    const OutHistory     *hist;
    OutAlertCounts       *ac;
    const IdentityResult *idr;
    double                read_s, rules_s;
    int                   threads;   /* township workbooks written at once */
    bool                  seal;      /* then seal the folder (nothing else goes into it) */
    int                   nfiles;    /* out, when sealed: the release's files and bytes */
    uint64_t              bytes;
    double                seconds;   /* out: how long it took */
    bool                  ok;
    CbError               err;
    /* The CSV lists and links.csv need nothing from the lifecycle: a thread of their own writes
     * them while it is prepared, and write_files waits for it. */
    ParTask               csv_task;
    bool                  csv_ok;
    double                csv_s;
    CbError               csv_err;
} FileWriter;

static void *
write_csv_files(void *arg)
{
    FileWriter *w = arg;
    double t0 = clock_now();
    memset(&w->csv_err, 0, sizeof w->csv_err);
    w->csv_ok = csvout_write_all(w->dir, w->st, w->ls, &w->csv_err) &&
                identity_write_links_csv(w->dir, w->st, w->idr, &w->csv_err);
    w->csv_s = clock_now() - t0;
    return NULL;
}

/* The suspension alerts, then the nightly report: they need nothing from the workbooks, so a
 * thread of their own writes them while the workbooks are written. */
typedef struct SideFiles {
    FileWriter *w;
    double      t0;                /* when the files began, for the report's output time */
    double      alerts_s, report_s;
    bool        ok;
    CbError     err;
} SideFiles;

static void *
write_alerts_report(void *arg)
{
    SideFiles *sf = arg;
    FileWriter *w = sf->w;
    double t0 = clock_now();
    memset(&sf->err, 0, sizeof sf->err);
    sf->ok = out_alerts_write(w->dir, w->st, w->ls, w->lc, w->pl, w->ri, NULL, w->ac, &sf->err);
    double t1 = clock_now();
    if (sf->ok) {
        /* what people use: township workbooks, suspension alerts, the nightly report */
        OutTiming tm[] = {{"读取与匹配", w->read_s}, {"规则", w->rules_s}, {"输出", clock_now() - sf->t0}};
        OutReportInput in = {.st = w->st, .ls = w->ls, .lc = w->lc, .pl = w->pl, .ri = w->ri,
                             .hist = w->hist, .alerts = w->ac, .timings = tm, .ntimings = 3,
                             .staff_per = 6000, .enrolled = w->enrolled};
        sf->ok = out_report_write(w->dir, &in, &sf->err);
    }
    sf->alerts_s = t1 - t0;
    sf->report_s = clock_now() - t1;
    return NULL;
}

static void *
write_files(void *arg)
{
    FileWriter *w = arg;
    double t0 = clock_now();
    memset(&w->err, 0, sizeof w->err);
    OutXlsxOptions xo;
    char xbuf[512];
    out_xlsx_options_default(&xo, xbuf, sizeof xbuf);
    xo.threads = w->threads;
    par_wait(&w->csv_task);
    w->ok = w->csv_ok;
    if (!w->ok)
        w->err = w->csv_err;
    double t_csv = clock_now();
    SideFiles side = {.w = w, .t0 = t0};
    ParTask side_task = {0};
    if (w->ok)
        par_start(&side_task, write_alerts_report, &side);
    w->ok = w->ok && out_xlsx_write_townships(w->dir, w->st, w->ls, w->lc, w->pl, w->ri, &xo, &w->err);
    double t_xlsx = clock_now();
    par_wait(&side_task);
    if (w->ok && !side.ok) {
        w->ok = false;
        w->err = side.err;
    }
    double t_side = clock_now();
    /* synced and listed with their checksums while the database still stores the run */
    if (w->ok && w->seal)
        w->ok = release_seal(w->dir, w->threads, &w->nfiles, &w->bytes, &w->err);
    w->seconds = clock_now() - t0;
    if (w->ok)
        log_info("event=files_written seconds=%.3f csv=%.3f csv_wait=%.3f xlsx=%.3f alerts=%.3f report=%.3f "
                 "side_wait=%.3f seal=%.3f",
                 w->seconds, w->csv_s, t_csv - t0, t_xlsx - t_csv, side.alerts_s, side.report_s,
                 t_side - t_xlsx, t0 + w->seconds - t_side);
    return NULL;
}

/* lifecycle_prepare and the report's history, on a connection of their own (or, for a dry run
 * or without a second connection, the run's); then, on the same thread, the files. */
typedef struct Preparer {
    PGconn         *conn;
    PGconn         *own;       /* the second connection, closed by the caller */
    const ListSet  *ls;
    Day             asof;
    LcRun          *lc;
    OutHistory     *hist;
    bool            dry;
    bool            ok;
    CbError         err;
    FileWriter     *fw;        /* written after a successful prepare, when not NULL */
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            prepared;  /* under mu: lc and hist are filled (or ok is false) */
} Preparer;

static void *
prepare_lifecycle(void *arg)
{
    Preparer *p = arg;
    memset(&p->err, 0, sizeof p->err);
    p->ok = (p->dry ? lifecycle_prepare_dry(p->conn, p->ls, p->asof, p->lc, &p->err)
                    : lifecycle_prepare(p->conn, p->ls, p->asof, p->lc, &p->err)) &&
            out_history_load(p->conn, p->asof, 30, p->hist, &p->err);
    pthread_mutex_lock(&p->mu);
    p->prepared = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->ok && p->fw)
        write_files(p->fw);
    return NULL;
}

static void
wait_prepared(Preparer *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->prepared)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* What a dry run would have done. */
static void
print_dry_run(PGconn *conn, const RunOptions *opt, const Release *rel, const ListSet *ls, const Store *st,
              int nfiles, uint64_t bytes, const SourcePlan *plan)
{
    char asof_s[11], cur[256];
    date_format(opt->asof, asof_s);
    release_current(rel->out, cur, sizeof cur);
    printf("canbao: dry run for %s: nothing stored, nothing published\n", asof_s);
    printf("  would publish %d files (%.1f MB) as a new release of %s%s%s\n", nfiles, (double) bytes / 1e6,
           rel->out, cur[0] ? ", replacing " : " (none there yet)", cur);
    for (int i = 0; i < ls->n; i++)
        printf("  %-28s %8zu rows  %s/%s.csv\n", ls->lists[i].name, ls->lists[i].rows.len, rel->out,
               ls->lists[i].name);
    printf("  %-28s %8zu rows  %s/rejects.csv\n", "rejects", st->rejects.len, rel->out);
    const char *params[] = {asof_s};
    PGresult *res = NULL;
    CbError ignored;
    if (db_exec_params(conn, "SELECT run_id FROM canbao.runs WHERE asof = $1::date AND state = 'succeeded'", 1,
                       params, &res, &ignored)) {
        for (int t = 0; t < PQntuples(res); t++)
            printf("  would supersede run %s (the same as-of date)\n", PQgetvalue(res, t, 0));
        PQclear(res);
    }
    if (db_exec_params(conn, "SELECT count(*) FROM canbao.runs WHERE state = 'running'", 0, NULL, &res, &ignored)) {
        if (atoi(PQgetvalue(res, 0, 0)) > 0)
            printf("  %s ledger row(s) say running (a run going on, or one that died)\n", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    for (int i = 0; i < plan->nnotes; i++)
        printf("  note: %s\n", plan->notes[i]);
    if (plan->deaths_incomplete[0])
        printf("  note: the death lists would be incomplete: no data from %s\n", plan->deaths_incomplete);
}

bool
run_nightly(const RunOptions *opt, CbError *err)
{
    bool ok = false, committed = false;
    PGconn *conn = NULL;
    int64_t run_id = -1;
    Store st;
    ListSet ls;
    LoadReport rep;
    IdentityResult idr;
    LcRun lc;
    OutPlaces pl;
    OutHistory hist;
    OutAlertCounts ac;
    SourcePlan plan;
    Release rel;
    double t_rules = 0;
    SourceDef *defs = NULL;
    int ndefs = 0;
    RuleSet *rules = NULL;
    char *json = NULL;
    uint8_t *enrolled = NULL;
    bool staged = false, txn_open = false;
    char asof_s[11], summary[2048], state_dir[4096];
    store_init(&st);
    memset(&ls, 0, sizeof ls);
    memset(&rep, 0, sizeof rep);
    memset(&idr, 0, sizeof idr);
    memset(&lc, 0, sizeof lc);
    memset(&pl, 0, sizeof pl);
    memset(&ac, 0, sizeof ac);
    memset(&plan, 0, sizeof plan);
    memset(&rel, 0, sizeof rel);
    out_history_init(&hist);
    date_format(opt->asof, asof_s);

    if (!fault_init(err))
        goto done;
    cancel_install();
    /* a file grown past RLIMIT_FSIZE fails its write (EFBIG) like a full disk, not the process */
    signal(SIGXFSZ, SIG_IGN);
    if (!release_paths(&rel, opt->out_dir, opt->asof, -1, err))
        goto done;
    snprintf(state_dir, sizeof state_dir, "%s", opt->state_dir ? opt->state_dir : "");
    if (!state_dir[0])
        snprintf(state_dir, sizeof state_dir, "%s.state", rel.out);

    conn = connect_db(opt, err);
    if (conn == NULL || !db_schema_current(conn, opt->schema_dir, err))
        goto done;
    if (!opt->dry_run) {
        if (!db_lock_run(conn, err) || !recover(conn, err) || !continue_run_numbers(conn, rel.out, err))
            goto done;
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        const char *params[] = {asof_s, CANBAO_VERSION, host, opt->extracts_dir, rel.out};
        PGresult *res = NULL;
        if (!db_exec_params(conn,
                            "INSERT INTO canbao.runs (asof, engine_version, host, extracts_dir, out_dir) "
                            "VALUES ($1, $2, $3, $4, $5) RETURNING run_id", 5, params, &res, err))
            goto done;
        run_id = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (!release_paths(&rel, opt->out_dir, opt->asof, run_id, err) ||
            !ledger_set(conn, run_id, "UPDATE canbao.runs SET release = $2 WHERE run_id = $1", rel.name, err))
            goto done;
    }
    log_info("event=run_start run_id=%lld asof=%s%s", (long long) run_id, asof_s,
             opt->dry_run ? " dry_run=yes" : "");

    if (!load_config(opt, &rules, &defs, &ndefs, err))
        goto done;
    if ((json = parameters_json(opt->rules_dir, err)) == NULL)
        goto done;
    if (!opt->dry_run &&
        !ledger_set(conn, run_id, "UPDATE canbao.runs SET parameters = $2::jsonb WHERE run_id = $1", json, err))
        goto done;
    free(json);
    json = NULL;
    if (!lastgood_plan(defs, ndefs, opt->extracts_dir, state_dir, opt->asof, &plan, err) ||
        !cancel_check("reading the delivery", err))
        goto done;
    double t_read0 = clock_now();
    st.facts_budget = run_memory(opt) / 4;   /* the rest: persons, the reading's tables, the rows */
    if (!load_delivery_asof(&st, defs, ndefs, plan.input_dir, true, opt->threads, opt->asof, &rep, err) ||
        !store_spill_ok(&st, err))
        goto done;
    lastgood_after_load(&plan, &rep);
    json = lastgood_json(&plan);
    if (!opt->dry_run &&
        (!ledger_set(conn, run_id, "UPDATE canbao.runs SET sources = $2::jsonb WHERE run_id = $1", json, err) ||
         (plan.deaths_incomplete[0] &&
          !ledger_set(conn, run_id, "UPDATE canbao.runs SET incomplete = $2 WHERE run_id = $1",
                      plan.deaths_incomplete, err))))
        goto done;
    if (plan.deaths_incomplete[0])
        log_warn("event=deaths_incomplete sources=\"%s\" note=\"the death lists are built without these sources\"",
                 plan.deaths_incomplete);
    if (!cancel_check("identity resolution", err))
        goto done;
    double t_link0 = clock_now();
    fault_hit(FAULT_LINK);
    {
        /* identity resolution: repair, link or reject the records without a usable ID */
        IdentityOptions io = {.rules_dir = opt->rules_dir, .asof = opt->asof, .conn = conn};
        if (!identity_link(&st, &rep, &io, &idr, err) || !store_text_ok(&st, err))
            goto done;
    }
    fault_hit(FAULT_LINK);
    if (!add_township_feedback(conn, opt->asof, &st, err))
        goto done;
    report_load(&st, &rep);
    if (!cancel_check("applying the rules", err))
        goto done;
    double t_group0 = clock_now();
    /* the persons' text from here on read where it lies, when an eighth of the memory holds it
     * (at M 0.7 GB): the rules and the workbooks read a million persons' in no order */
    store_text_map(&st, run_memory(opt) / 8);
    int nthreads = opt->threads > 0 ? opt->threads : load_default_threads();
    store_spill_plan(&st, nthreads);   /* in memory: grouped; on disk: grouped pass by pass */
    double t_rules0 = clock_now();
    /* what the report needs of the facts is kept as the rules go: one byte per person */
    enrolled = xcalloc(st.persons.len + 1, 1);
    if (!rules_evaluate(rules, &st, opt->asof, plan.input_dir, &ls, nthreads, &t_rules, enrolled_pass, enrolled,
                        err) ||
        !store_text_ok(&st, err) || !cancel_check("writing the outputs", err))
        goto done;
    if (st.unlinked > 0)
        log_info("event=unlinked_facts count=%llu note=\"facts about ID numbers not on the register\"",
                 (unsigned long long) st.unlinked);
    double t_write0 = clock_now();

    if (!release_begin(&rel, err))
        goto done;
    staged = true;
    {
        char ref[4096];
        snprintf(ref, sizeof ref, "%s/ref_divisions.csv", plan.input_dir);
        if (!out_places_load(ref, &pl, err))
            goto done;
    }
    run_summary(summary, sizeof summary, &st, &ls, &plan);
    store_release_facts(&st);   /* the facts have done their work */
    /* What the writers need from PostgreSQL (the rows' items, their states, the history) comes
     * from lifecycle_prepare in a short transaction of its own; the run's rows do not need it.
     * So a thread with a second connection prepares, then writes the files, while this thread
     * begins the run's transaction with the rows and, once the items are known, goes on with
     * the lifecycle; the commit waits for both and for the seal.  The CSV lists need none of it
     * and are written on a thread of their own from the start.  Without a second connection
     * (CANBAO_DB_CONNECTIONS=1, none to be had, or a dry run) the preparation comes first, then
     * the files and the database at once. */
    OutRunInfo ri = {.asof = opt->asof, .rule_version = ls.rule_version,
                     .engine_version = CANBAO_VERSION,
                     .city = rules_param_text(rules, "city_division"),
                     .data_notes = plan.notes, .ndata_notes = plan.nnotes,
                     .deaths_incomplete = plan.deaths_incomplete[0] ? plan.deaths_incomplete : NULL};
    FileWriter fw = {.dir = rel.staging, .st = &st, .ls = &ls, .lc = &lc, .enrolled = enrolled, .pl = &pl, .ri = &ri,
                     .hist = &hist, .ac = &ac, .idr = &idr, .read_s = rep.seconds, .rules_s = t_rules,
                     .threads = nthreads, .seal = opt->secout == NULL};
    Preparer pr = {.conn = conn, .ls = &ls, .asof = opt->asof, .lc = &lc, .hist = &hist,
                   .dry = opt->dry_run, .fw = &fw};
    pthread_mutex_init(&pr.mu, NULL);
    pthread_cond_init(&pr.cv, NULL);
    par_start(&fw.csv_task, write_csv_files, &fw);
    double t_db0 = clock_now(), t_db = 0;
    bool db_ok = true, threaded = false;
    pthread_t night;
    if (!opt->dry_run && env_int("CANBAO_DB_CONNECTIONS", 2, 1, 2) == 2) {
        CbError ce = {0};
        pr.own = db_connect_retry(opt->conninfo, 1, 0, &ce);
        if (pr.own == NULL)
            log_warn("event=second_connection_failed note=\"%s; preparing the lifecycle first\"", ce.message);
        else
            pr.conn = pr.own;
        threaded = pr.own != NULL && pthread_create(&night, NULL, prepare_lifecycle, &pr) == 0;
    }
    if (threaded) {
        db_ok = txn_open = cancel_check("storing the run in PostgreSQL", err) &&
                           pgout_stage_rows(conn, run_id, &st, &ls, err);
        wait_prepared(&pr);
        if (db_ok && pr.ok)
            db_ok = txn_open = pgout_stage_items(conn, run_id, &st, &ls, &lc, &idr, summary, err);
        t_db = clock_now() - t_db0;
        pthread_join(night, NULL);
    } else {
        pr.fw = NULL;
        pr.conn = conn;
        prepare_lifecycle(&pr);
        if (pr.ok) {
            ParTask writer = {0};
            par_start(&writer, write_files, &fw);
            if (!opt->dry_run)
                db_ok = txn_open = cancel_check("storing the run in PostgreSQL", err) &&
                                   pgout_stage_rows(conn, run_id, &st, &ls, err) &&
                                   pgout_stage_items(conn, run_id, &st, &ls, &lc, &idr, summary, err);
            t_db = clock_now() - t_db0;
            par_wait(&writer);
        }
    }
    par_wait(&fw.csv_task);   /* write_files has, unless the preparation failed */
    if (pr.own)
        db_close(pr.own);
    pthread_mutex_destroy(&pr.mu);
    pthread_cond_destroy(&pr.cv);
    if (!pr.ok) {
        *err = pr.err;
        goto done;
    }
    if (!fw.ok) {
        *err = fw.err;
        goto done;
    }
    if (!db_ok)
        goto done;
    /* township packages, encrypted and signed, beside the workbooks (secout.h) */
    int npkg = 0;
    if (opt->secout && !secout_write_packages(opt->secout, opt->dry_run ? NULL : conn, run_id, opt->asof,
                                              rel.staging, NULL, &npkg, err))
        goto done;
    int nfiles = fw.nfiles;
    uint64_t bytes = fw.bytes;
    if (!fw.seal && !release_seal(rel.staging, nthreads, &nfiles, &bytes, err))
        goto done;
    if (opt->dry_run) {
        print_dry_run(conn, opt, &rel, &ls, &st, nfiles, bytes, &plan);
        /* the stages a dry run does (no database, no publication): what the night's would take */
        log_info("event=timings read=%.3f link=%.3f group=%.3f rules=%.3f write=%.3f dry_run=yes",
                 t_link0 - t_read0, t_group0 - t_link0, t_rules0 - t_group0, t_write0 - t_rules0,
                 fw.seconds);
        ok = true;
        goto done;
    }
    double t_commit0 = clock_now();
    txn_open = false;
    if (!pgout_commit(conn, err))
        goto done;
    t_db += clock_now() - t_commit0;
    committed = true;
    /* from here on the run is stored: a signal no longer stops it before it is published */
    double t_publish0 = clock_now();
    if (!release_install(&rel, err))
        goto done;
    staged = false;
    fault_hit(FAULT_PUBLISH);
    if (!release_switch(&rel, err))
        goto done;
    fault_hit(FAULT_PUBLISH);
    if (!lifecycle_mark_published(conn, run_id, NULL, err)) {
        /* the files are out; the next run sees the output folder on this release and marks it */
        log_warn("event=mark_published_failed run_id=%lld note=\"%s\"", (long long) run_id, err->message);
        memset(err, 0, sizeof *err);
    }
    fault_hit(FAULT_PUBLISH);
    lastgood_save(&plan, opt->extracts_dir, state_dir, opt->asof);
    release_prune(rel.out, env_int("CANBAO_KEEP_RELEASES", 7, 1, 1000));
    double t_end = clock_now();
    /* each stage's wall time, for the operator and the benchmark */
    log_info("event=timings read=%.3f link=%.3f group=%.3f rules=%.3f write=%.3f database=%.3f "
             "publish=%.3f store=%.3f", t_link0 - t_read0, t_group0 - t_link0, t_rules0 - t_group0,
             t_write0 - t_rules0, fw.seconds, t_db, t_end - t_publish0, t_publish0 - t_write0);
    log_info("event=run_done run_id=%lld release=%s %s", (long long) run_id, rel.name, summary);
    if (cancel_requested())
        log_warn("event=signal_after_commit run_id=%lld note=\"the run was stored when the signal came; it "
                 "finished publishing\"", (long long) run_id);
    printf("canbao: run %lld for %s succeeded; lists in %s (release %s)\n", (long long) run_id, asof_s,
           rel.out, rel.name);
    for (int i = 0; i < ls.n; i++)
        printf("  %-28s %8zu rows  %s/%s.csv\n", ls.lists[i].name, ls.lists[i].rows.len, rel.out,
               ls.lists[i].name);
    printf("  %-28s %8zu rows  %s/rejects.csv\n", "rejects", st.rejects.len, rel.out);
    for (int i = 0; i < plan.nnotes; i++)
        printf("  note: %s\n", plan.notes[i]);
    if (plan.deaths_incomplete[0])
        printf("  note: the death lists are incomplete: no data from %s\n", plan.deaths_incomplete);
    ok = true;

done:
    if (txn_open)
        PQclear(PQexec(conn, "ROLLBACK"));   /* the files failed while the database waited */
    if (!ok && err->kind == CBERR_DB && conn != NULL && db_conn_lost(conn) && err->hint[0] == '\0') {
        char was[sizeof err->message];
        snprintf(was, sizeof was, "%s", err->message);
        snprintf(err->message, sizeof err->message, "lost the connection to PostgreSQL: %s", was);
        cb_error_hint(err, "the connection to PostgreSQL was lost during the run (server stopped or "
                           "unreachable); nothing was published and the previous lists stay; run again "
                           "when the server is back");
    }
    if (!ok && committed) {
        /* stored, not (fully) published: the next run completes it */
        cb_error_hint(err, "the run is stored in PostgreSQL (run %lld) but its files are not published; "
                           "the next run publishes them", (long long) run_id);
    } else if (!ok && run_id >= 0) {
        ledger_fail(&conn, opt, run_id, err);
    }
    if (staged && !committed)
        release_discard(&rel);
    if (opt->dry_run && rel.dir[0])
        rmdir(rel.dir);   /* made for the scratch folder, when it was not there (else not empty) */
    if (!ok && err->kind == CBERR_CANCELLED)
        log_warn("event=run_cancelled run_id=%lld note=\"%s; nothing published\"", (long long) run_id, err->message);
    free(json);
    free(enrolled);
    lastgood_free(&plan);
    lists_free(&ls);
    lifecycle_free(&lc);
    out_places_free(&pl);
    out_history_free(&hist);
    rules_free(rules);
    identity_result_free(&idr);
    store_free(&st);
    load_report_free(&rep);
    if (defs)
        sourcedefs_free(defs, ndefs);
    db_close(conn);
    return ok;
}

bool
run_check_extracts(const RunOptions *opt, CbError *err)
{
    SourceDef *defs = NULL;
    int ndefs = 0;
    Store st;
    LoadReport rep;
    IdentityResult idr;
    IdentityOptions io = {.rules_dir = opt->rules_dir, .asof = opt->asof, .conn = NULL};
    store_init(&st);
    memset(&rep, 0, sizeof rep);
    memset(&idr, 0, sizeof idr);
    bool ok = sourcedefs_load_dir(opt->connectors_dir, &defs, &ndefs, err) &&
              load_delivery_threads(&st, defs, ndefs, opt->extracts_dir, false, opt->threads, &rep, err) &&
              identity_link(&st, &rep, &io, &idr, err);
    if (ok) {
        report_load(&st, &rep);
        printf("%-44s %-22s %10s %10s %10s %10s\n", "file", "source", "read", "accepted",
               "duplicates", "rejected");
        const SourceFile *sf = st.files.data;
        for (size_t i = 0; i < st.files.len; i++)
            printf("%-44s %-22s %10llu %10llu %10llu %10llu\n", sf[i].name, sf[i].source,
                   (unsigned long long) sf[i].read, (unsigned long long) sf[i].accepted,
                   (unsigned long long) sf[i].duplicates, (unsigned long long) sf[i].rejected);
        const Reject *rj = st.rejects.data;
        for (size_t i = 0; i < st.rejects.len && i < 50; i++)
            printf("reject: %s: record %llu (line %llu): %s\n",
                   VEC_AT(&st.files, SourceFile, rj[i].file).name, (unsigned long long) rj[i].record_no,
                   (unsigned long long) rj[i].line_no, rj[i].reason);
        if (st.rejects.len > 50)
            printf("... and %zu more rejects\n", st.rejects.len - 50);
    }
    identity_result_free(&idr);
    store_free(&st);
    load_report_free(&rep);
    if (defs)
        sourcedefs_free(defs, ndefs);
    return ok;
}
