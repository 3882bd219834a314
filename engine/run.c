#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "identity.h"
#include "lists.h"
#include "load.h"
#include "log.h"
#include "output.h"
#include "rules.h"
#include "sourcedef.h"
#include "store.h"
#include "version.h"
#include "lifecycle.h"
#include "out_alerts.h"
#include "out_common.h"
#include "out_report.h"
#include "out_xlsx.h"

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
    default: return EXIT_FAILURE_OTHER;
    }
}

static bool
mkdir_p(const char *dir, CbError *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        goto fail;
    return true;
fail:
    CB_FAIL(err, CBERR_IO, "could not create folder: %s", strerror(errno));
    cb_error_at(err, "%s", tmp);
    return false;
}

static void
remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Moves every file of staging into out, then removes staging. */
static bool
publish(const char *staging, const char *out, CbError *err)
{
    DIR *d = opendir(staging);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open staging folder: %s", strerror(errno));
        cb_error_at(err, "%s", staging);
        return false;
    }
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", staging, de->d_name);
        snprintf(to, sizeof to, "%s/%s", out, de->d_name);
        if (rename(from, to) != 0) {
            ok = CB_FAIL(err, CBERR_IO, "could not publish output file: %s", strerror(errno));
            cb_error_at(err, "%s", to);
        }
    }
    closedir(d);
    rmdir(staging);
    return ok;
}

static void
ledger_fail(PGconn *conn, int64_t run_id, const CbError *e)
{
    char id[24], msg[1600];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    snprintf(msg, sizeof msg, "%s%s%s", e->input_at, e->input_at[0] ? ": " : "", e->message);
    const char *params[] = {id, msg};
    CbError ignored;
    PQclear(PQexec(conn, "ROLLBACK"));
    db_exec_params(conn,
                   "UPDATE canbao.runs SET state = 'failed', finished_at = now(), message = $2 "
                   "WHERE run_id = $1", 2, params, NULL, &ignored);
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
            Fact *f = vec_push(&st->facts);
            f->person = e[i].key;
            f->d1 = e[i].date != DAY_NONE ? e[i].date : e[i].recorded;
            f->d2 = DAY_NONE;
            f->kind = FK_DEATH;
            f->code = EV_TOWNSHIP;
            f->link = LINK_PROBABLE;
            f->file = file;
            f->record = (uint64_t) e[i].feedback_id;
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
    return sourcedefs_load_dir(opt->connectors_dir, defs, ndefs, err);
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
             "persons=%zu facts=%zu seconds=%.2f",
             st->files.len, (unsigned long long) read, (unsigned long long) acc,
             (unsigned long long) dup, (unsigned long long) rej, st->persons.len, st->facts.len,
             rep->seconds);
}

bool
run_nightly(const RunOptions *opt, CbError *err)
{
    bool ok = false;
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
    double t_rules = 0;
    SourceDef *defs = NULL;
    int ndefs = 0;
    RuleSet *rules = NULL;
    char staging[4096] = "", asof_s[11], summary[1024];
    store_init(&st);
    memset(&ls, 0, sizeof ls);
    memset(&rep, 0, sizeof rep);
    memset(&idr, 0, sizeof idr);
    memset(&lc, 0, sizeof lc);
    memset(&pl, 0, sizeof pl);
    memset(&ac, 0, sizeof ac);
    out_history_init(&hist);
    date_format(opt->asof, asof_s);

    conn = db_connect(opt->conninfo, err);
    if (conn == NULL)
        goto done;
    if (!db_schema_current(conn, opt->schema_dir, err) || !db_lock_run(conn, err))
        goto done;

    char host[256] = "";
    gethostname(host, sizeof host - 1);
    {
        const char *params[] = {asof_s, CANBAO_VERSION, host, opt->extracts_dir};
        PGresult *res = NULL;
        if (!db_exec_params(conn,
                            "INSERT INTO canbao.runs (asof, engine_version, host, extracts_dir) "
                            "VALUES ($1, $2, $3, $4) RETURNING run_id", 4, params, &res, err))
            goto done;
        run_id = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    log_info("event=run_start run_id=%lld asof=%s", (long long) run_id, asof_s);

    if (!load_config(opt, &rules, &defs, &ndefs, err))
        goto done;
    double t_read0 = clock_now();
    if (!load_delivery(&st, defs, ndefs, opt->extracts_dir, true, &rep, err))
        goto done;
    double t_link0 = clock_now();
    {
        /* identity resolution: repair, link or reject the records without a usable ID */
        IdentityOptions io = {.rules_dir = opt->rules_dir, .asof = opt->asof, .conn = conn};
        if (!identity_link(&st, &rep, &io, &idr, err))
            goto done;
    }
    if (!add_township_feedback(conn, opt->asof, &st, err))
        goto done;
    report_load(&st, &rep);
    double t_group0 = clock_now();
    store_group(&st);
    if (st.unlinked > 0)
        log_info("event=unlinked_facts count=%llu note=\"facts about ID numbers not on the register\"",
                 (unsigned long long) st.unlinked);
    double t_rules0 = clock_now();
    if (!rules_evaluate(rules, &st, opt->asof, opt->extracts_dir, &ls, &t_rules, err))
        goto done;
    double t_write0 = clock_now();

    if (!mkdir_p(opt->out_dir, err))
        goto done;
    snprintf(staging, sizeof staging, "%s/.staging-%lld", opt->out_dir, (long long) run_id);
    remove_dir(staging);
    if (!mkdir_p(staging, err) || !csvout_write_all(staging, &st, &ls, err) ||
        !identity_write_links_csv(staging, &st, &idr, err))
        goto done;
    {
        /* what people use: township workbooks, suspension alerts, the nightly report */
        double t_out0 = clock_now();
        char ref[4096];
        snprintf(ref, sizeof ref, "%s/ref_divisions.csv", opt->extracts_dir);
        if (!out_places_load(ref, &pl, err) || !lifecycle_prepare(conn, &ls, opt->asof, &lc, err))
            goto done;
        OutRunInfo ri = {.asof = opt->asof, .rule_version = ls.rule_version,
                         .engine_version = CANBAO_VERSION,
                         .city = rules_param_text(rules, "city_division")};
        OutXlsxOptions xo;
        char xbuf[512];
        out_xlsx_options_default(&xo, xbuf, sizeof xbuf);
        if (!out_xlsx_write_townships(staging, &st, &ls, &lc, &pl, &ri, &xo, err) ||
            !out_alerts_write(staging, &st, &ls, &lc, &pl, &ri, NULL, &ac, err) ||
            !out_history_load(conn, opt->asof, 30, &hist, err))
            goto done;
        OutTiming tm[] = {{"读取与匹配", rep.seconds}, {"规则", t_rules}, {"输出", clock_now() - t_out0}};
        OutReportInput in = {.st = &st, .ls = &ls, .lc = &lc, .pl = &pl, .ri = &ri, .hist = &hist,
                             .alerts = &ac, .timings = tm, .ntimings = 3, .staff_per = 6000};
        if (!out_report_write(staging, &in, err))
            goto done;
    }

    {
        size_t o = (size_t) snprintf(summary, sizeof summary, "persons=%zu facts=%zu rejects=%zu",
                                     st.persons.len, st.facts.len, st.rejects.len);
        for (int i = 0; i < ls.n && o < sizeof summary - 80; i++)
            o += (size_t) snprintf(summary + o, sizeof summary - o, " %s=%zu", ls.lists[i].name,
                                   ls.lists[i].rows.len);
    }
    double t_db0 = clock_now();
    if (!pgout_write(conn, run_id, &st, &ls, &lc, &idr, summary, err))
        goto done;
    double t_publish0 = clock_now();
    if (!publish(staging, opt->out_dir, err)) {
        /* the database has the run; say clearly that the files are not all in place */
        cb_error_hint(err, "the run is stored in PostgreSQL (run %lld); rerun to publish the files",
                      (long long) run_id);
        goto done;
    }
    staging[0] = '\0';
    if (!lifecycle_mark_sent(conn, run_id, err)) {
        /* the alerts are published; if this mark is lost they are sent as new again next night */
        log_warn("event=mark_sent_failed run_id=%lld note=\"%s\"", (long long) run_id, err->message);
        memset(err, 0, sizeof *err);
    }
    double t_end = clock_now();
    /* each stage's wall time, for the operator and the benchmark */
    log_info("event=timings read=%.3f link=%.3f group=%.3f rules=%.3f write=%.3f database=%.3f "
             "publish=%.3f", t_link0 - t_read0, t_group0 - t_link0, t_rules0 - t_group0,
             t_write0 - t_rules0, t_db0 - t_write0, t_publish0 - t_db0, t_end - t_publish0);
    log_info("event=run_done run_id=%lld %s", (long long) run_id, summary);
    printf("canbao: run %lld for %s succeeded; lists in %s\n", (long long) run_id, asof_s, opt->out_dir);
    for (int i = 0; i < ls.n; i++)
        printf("  %-28s %8zu rows  %s/%s.csv\n", ls.lists[i].name, ls.lists[i].rows.len, opt->out_dir,
               ls.lists[i].name);
    printf("  %-28s %8zu rows  %s/rejects.csv\n", "rejects", st.rejects.len, opt->out_dir);
    ok = true;

done:
    if (!ok && conn != NULL && run_id >= 0)
        ledger_fail(conn, run_id, err);
    if (staging[0])
        remove_dir(staging);
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
              load_delivery(&st, defs, ndefs, opt->extracts_dir, false, &rep, err) &&
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
