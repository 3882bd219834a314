#include "output.h"
#include "out_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static FILE *
open_out(const char *dir, const char *name, char *path, size_t pathsz, CbError *err)
{
    snprintf(path, pathsz, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not create output file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
    }
    return f;
}

static bool
close_out(FILE *f, const char *path, CbError *err)
{
    bool ok = !ferror(f);
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not write output file (disk full?): %s", strerror(errno));
        cb_error_at(err, "%s", path);
    }
    return ok;
}

static bool
write_list(const char *dir, const Store *st, const ListOut *l, CbError *err)
{
    char name[256], path[4096];
    snprintf(name, sizeof name, "%s.csv", l->name);
    FILE *f = open_out(dir, name, path, sizeof path, err);
    if (f == NULL)
        return false;
    for (int c = 0; c < l->ncols; c++)
        out_csv_field(f, l->cols[c], c == 0);
    out_csv_field(f, "evidence", false);
    putc_unlocked('\n', f);
    const ListRow *rows = l->rows.data;
    char ev[8192];
    for (size_t i = 0; i < l->rows.len; i++) {
        for (int c = 0; c < l->ncols; c++)
            out_csv_field(f, rows[i].vals[c], c == 0);
        size_t o = 0;
        ev[0] = '\0';
        for (int e = 0; e < rows[i].nev && o < sizeof ev - 300; e++) {
            const SourceFile *sf = &VEC_AT(&st->files, SourceFile, rows[i].ev[e].file);
            o += (size_t) snprintf(ev + o, sizeof ev - o, "%s%s:%llu", e ? ";" : "", sf->name,
                                   (unsigned long long) rows[i].ev[e].record);
        }
        out_csv_field(f, ev, false);
        putc_unlocked('\n', f);
    }
    return close_out(f, path, err);
}

static bool
write_rejects(const char *dir, const Store *st, CbError *err)
{
    char path[4096];
    FILE *f = open_out(dir, "rejects.csv", path, sizeof path, err);
    if (f == NULL)
        return false;
    fputs("file,record,line,byte_offset,reason,raw\n", f);
    const Reject *rj = st->rejects.data;
    for (size_t i = 0; i < st->rejects.len; i++) {
        char num[3][24];
        snprintf(num[0], 24, "%llu", (unsigned long long) rj[i].record_no);
        snprintf(num[1], 24, "%llu", (unsigned long long) rj[i].line_no);
        snprintf(num[2], 24, "%llu", (unsigned long long) rj[i].byte_offset);
        out_csv_field(f, VEC_AT(&st->files, SourceFile, rj[i].file).name, true);
        out_csv_field(f, num[0], false);
        out_csv_field(f, num[1], false);
        out_csv_field(f, num[2], false);
        out_csv_field(f, rj[i].reason, false);
        out_csv_field(f, rj[i].raw, false);
        putc_unlocked('\n', f);
    }
    return close_out(f, path, err);
}

static bool
write_files(const char *dir, const Store *st, CbError *err)
{
    char path[4096];
    FILE *f = open_out(dir, "files.csv", path, sizeof path, err);
    if (f == NULL)
        return false;
    fputs("source,agency,fact_kind,file,size,sha256,records_read,accepted,duplicates,rejected\n", f);
    const SourceFile *sf = st->files.data;
    for (size_t i = 0; i < st->files.len; i++) {
        out_csv_field(f, sf[i].source, true);
        out_csv_field(f, sf[i].agency, false);
        out_csv_field(f, factkind_name(sf[i].kind), false);
        out_csv_field(f, sf[i].name, false);
        fprintf(f, ",%llu,%s,%llu,%llu,%llu,%llu\n", (unsigned long long) sf[i].size, sf[i].sha256,
                (unsigned long long) sf[i].read, (unsigned long long) sf[i].accepted,
                (unsigned long long) sf[i].duplicates, (unsigned long long) sf[i].rejected);
    }
    return close_out(f, path, err);
}

bool
csvout_write_all(const char *dir, const Store *st, const ListSet *ls, CbError *err)
{
    for (int i = 0; i < ls->n; i++)
        if (!write_list(dir, st, &ls->lists[i], err))
            return false;
    return write_rejects(dir, st, err) && write_files(dir, st, err);
}
