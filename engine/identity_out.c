/*
 * identity_out — what identity resolution hands on: links.csv, the pairs put up for clerical
 * review (canbao.match_review), and the reviewers' decisions read back at the next run.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "identity.h"
#include "out_common.h"

void
identity_record_key(const char *source, uint64_t record_hash, char out[160])
{
    snprintf(out, 160, "%.120s:%016llx", source, (unsigned long long) record_hash);
}

/* ---- links.csv ---- */

static void
put_weight(FILE *f, double w)
{
    if (isnan(w))
        fputc(',', f);
    else
        fprintf(f, ",%.3f", w);
}

bool
identity_write_links_csv(const char *dir, const Store *st, const IdentityResult *r, CbError *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/links.csv", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not create output file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        return false;
    }
    fputs("file,record,id_number,decision,weight,second_weight,id_status\n", f);
    const LinkRow *lr = r->links.data;
    for (size_t i = 0; i < r->links.len; i++) {
        char id[19] = "";
        if (lr[i].key != PERSON_KEY_NONE)
            idnum_format(lr[i].key, id);
        /* file names come from the delivery folder: quote when needed (RFC 4180) */
        const char *fn = VEC_AT(&st->files, SourceFile, lr[i].file).name;
        out_csv_field(f, fn, true);
        fprintf(f, ",%llu,%s,%s", (unsigned long long) lr[i].record, id,
                identity_decision_name((LinkDecision) lr[i].decision));
        put_weight(f, lr[i].weight);
        put_weight(f, lr[i].second);
        const char *status = lr[i].id_status == IDNUM_OK ? "valid" :
                             lr[i].id_status == IDNUM_EMPTY ? "missing" :
                             idnum_status_text((IdnumStatus) lr[i].id_status);
        fprintf(f, ",%s\n", status);
    }
    bool ok = !ferror(f);
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not write output file (disk full?): %s", strerror(errno));
        cb_error_at(err, "%s", path);
    }
    return ok;
}

/* ---- canbao.match_review ---- */

static void
copy_real(DbCopy *c, double v)
{
    char b[32];
    if (isnan(v)) {
        db_copy_text(c, NULL);
        return;
    }
    snprintf(b, sizeof b, "%.6f", v);
    db_copy_text(c, b);
}

bool
identity_write_reviews(PGconn *conn, int64_t run_id, const Store *st, const IdentityResult *r,
                       CbError *err)
{
    if (r->reviews.len == 0)
        return true;
    DbCopy c;
    if (!db_copy_begin(&c, conn,
                       "COPY canbao.match_review (run_id, record_key, source, file_name, record_no, "
                       "outcome, cand_rank, candidate_id, candidate_name, weight, probability, levels) "
                       "FROM STDIN", err))
        return false;
    const ReviewRow *rr = r->reviews.data;
    for (size_t i = 0; i < r->reviews.len; i++) {
        const SourceFile *sf = &VEC_AT(&st->files, SourceFile, rr[i].file);
        char key[160], id[19];
        identity_record_key(sf->source, rr[i].record_hash, key);
        db_copy_int(&c, run_id);
        db_copy_text(&c, key);
        db_copy_text(&c, sf->source);
        db_copy_text(&c, sf->name);
        db_copy_int(&c, (int64_t) rr[i].record);
        db_copy_text(&c, identity_decision_name((LinkDecision) rr[i].outcome));
        if (rr[i].rank > 0)
            db_copy_int(&c, rr[i].rank);
        else
            db_copy_text(&c, NULL);
        if (rr[i].candidate != PERSON_KEY_NONE) {
            idnum_format(rr[i].candidate, id);
            db_copy_text(&c, id);
        } else {
            db_copy_text(&c, NULL);
        }
        db_copy_text(&c, rr[i].candidate_name);
        copy_real(&c, rr[i].weight);
        copy_real(&c, rr[i].probability);
        db_copy_text(&c, rr[i].levels);
        db_copy_end_row(&c);
    }
    return db_copy_end(&c, err);
}

bool
identity_read_decisions(PGconn *conn, Vec *out, CbError *err)
{
    PGresult *res = NULL;
    /* the latest decision per record and candidate */
    if (!db_exec_params(conn,
                        "SELECT DISTINCT ON (record_key, candidate_id) record_key, candidate_id, decision, "
                        "       extract(epoch FROM decided_at) "
                        "FROM canbao.match_review "
                        "WHERE decision IS NOT NULL AND candidate_id IS NOT NULL "
                        "ORDER BY record_key, candidate_id, decided_at DESC NULLS LAST, review_id DESC",
                        0, NULL, &res, err))
        return false;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        const char *key = PQgetvalue(res, i, 0);
        const char *colon = strrchr(key, ':');
        char id[19];
        if (colon == NULL || strlen(colon + 1) != 16 ||
            idnum_normalise(PQgetvalue(res, i, 1), strlen(PQgetvalue(res, i, 1)), id) != IDNUM_OK)
            continue;
        ReviewDecision *d = vec_push(out);
        snprintf(d->source, sizeof d->source, "%.*s", (int) (colon - key), key);
        d->record_hash = strtoull(colon + 1, NULL, 16);
        d->candidate = idnum_key(id);
        d->same = strcmp(PQgetvalue(res, i, 2), "same") == 0;
        d->decided_at = atof(PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return true;
}
