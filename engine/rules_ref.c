/*
 * rules_ref — reference data the rules declare (`reference divisions ... files "ref_*.csv"`),
 * read from the delivery folder with the project's CSV reader.
 *
 * Exactly one file must match a reference's patterns.  Its header names the columns; every
 * declared field must be among them.  The file is recorded in the store like an extract (its
 * size, SHA-256 and counts: read = accepted + rejected), so that list rows can cite its
 * records and the run's ledger shows it; a row with the wrong number of fields is a reject
 * with its position and reason, never dropped silently.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reader.h"
#include "rules_int.h"

void
rules_ref_init(const RuleSet *rs, RefData *rd)
{
    memset(rd, 0, sizeof *rd);
    arena_init(&rd->arena, 64 << 10);
    rd->n = (int) rs->refs.len;
    rd->tables = xcalloc(rd->n ? (size_t) rd->n : 1, sizeof(RefTable));
    for (int i = 0; i < rd->n; i++) {
        vec_init(&rd->tables[i].rows, sizeof(RefRow));
        rd->tables[i].file = UINT32_MAX;
    }
}

void
rules_ref_free(RefData *rd)
{
    for (int i = 0; i < rd->n; i++)
        vec_free(&rd->tables[i].rows);
    free(rd->tables);
    if (rd->arena.chunk_size)
        arena_free(&rd->arena);
    memset(rd, 0, sizeof *rd);
}

static bool
find_file(const RefDecl *r, const char *dir, char *out, size_t outsz, CbError *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open extracts folder: %m");
        cb_error_at(err, "%s", dir);
        return false;
    }
    int found = 0;
    char first[1024] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        for (int i = 0; i < r->nfiles; i++)
            if (fnmatch(r->files[i], de->d_name, 0) == 0) {
                if (found == 0)
                    snprintf(first, sizeof first, "%s", de->d_name);
                else {
                    closedir(d);
                    CB_FAIL(err, CBERR_INPUT, "reference %s: two files match (%s and %s)", r->name, first, de->d_name);
                    cb_error_at(err, "%s", dir);
                    cb_error_hint(err, "deliver one %s file", r->files[0]);
                    return false;
                }
                found++;
                break;
            }
    }
    closedir(d);
    if (found == 0) {
        CB_FAIL(err, CBERR_INPUT, "reference %s (%s) delivered no file", r->name, r->title);
        cb_error_at(err, "%s", dir);
        cb_error_detail(err, "no file matches %s", r->files[0]);
        return false;
    }
    snprintf(out, outsz, "%s", first);
    return true;
}

static void
add_reject(Store *st, uint32_t file, const Record *rec, const char *reason)
{
    Reject *rj = vec_push(&st->rejects);
    rj->file = file;
    rj->record_no = rec->record_no;
    rj->line_no = rec->line_no;
    rj->byte_offset = rec->byte_offset;
    rj->reason = arena_strdup(&st->strings, reason);
    char *raw = arena_alloc(&st->strings, rec->raw_len * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < rec->raw_len; i++) {
        unsigned char ch = (unsigned char) rec->raw[i];
        if (ch < 0x20 && ch != '\t')
            o += (size_t) snprintf(raw + o, 5, "\\x%02X", ch);
        else
            raw[o++] = (char) ch;
    }
    raw[o] = '\0';
    rj->raw = raw;
}

static bool
read_table(const RuleSet *rs, int ti, Store *st, const char *dir, RefData *rd, CbError *err)
{
    const RefDecl *r = rref(rs, ti);
    char name[1024], path[4096];
    if (!find_file(r, dir, name, sizeof name, err))
        return false;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ReaderSpec spec = {.format = RF_CSV, .encoding = NULL, .delimiter = ',', .quote = '"'};
    Reader *rdr = reader_open(&spec, path, err);
    if (rdr == NULL)
        return false;
    Record rec;
    ReadStatus s = reader_next(rdr, &rec, err);
    if (s != READ_OK) {
        reader_close(rdr);
        if (s != READ_ERROR) {
            CB_FAIL(err, CBERR_INPUT, "reference %s: no header row", r->name);
            cb_error_at(err, "%s", path);
        }
        return false;
    }
    int ncols = rec.nfields;
    int idx[REF_MAX_FIELDS];
    for (int f = 0; f < r->nfields; f++) {
        idx[f] = -1;
        for (int k = 0; k < rec.nfields; k++)
            if (rec.fields[k].len == strlen(r->columns[f]) &&
                memcmp(rec.fields[k].p, r->columns[f], rec.fields[k].len) == 0)
                idx[f] = k;
        if (idx[f] < 0) {
            reader_close(rdr);
            CB_FAIL(err, CBERR_INPUT, "column %s not found in the header of reference %s", r->columns[f], r->name);
            cb_error_at(err, "%s: line 1", path);
            cb_error_hint(err, "the reference declaration (%s) names the columns", r->name);
            return false;
        }
    }
    struct stat sb;
    uint32_t file_no = (uint32_t) st->files.len;
    SourceFile *sf = vec_push(&st->files);
    char src[300];
    snprintf(src, sizeof src, "reference:%s", r->name);
    sf->source = arena_strdup(&st->strings, src);
    sf->agency = arena_strdup(&st->strings, r->title);
    sf->kind = FK_REGISTER;   /* the catalogue has no kind for reference data (see rules/README.md) */
    sf->name = arena_strdup(&st->strings, name);
    sf->size = stat(path, &sb) == 0 ? (uint64_t) sb.st_size : 0;
    RefTable *tab = &rd->tables[ti];
    tab->file = file_no;
    for (;;) {
        s = reader_next(rdr, &rec, err);
        if (s == READ_EOF)
            break;
        sf = &VEC_AT(&st->files, SourceFile, file_no);
        if (s == READ_ERROR) {
            reader_close(rdr);
            st->files.len--;
            return false;
        }
        sf->read++;
        if (s == READ_BAD) {
            sf->rejected++;
            add_reject(st, file_no, &rec, rec.reason);
            continue;
        }
        if (rec.nfields != ncols) {
            char reason[128];
            snprintf(reason, sizeof reason, "expected %d fields as in the header, found %d", ncols, rec.nfields);
            sf->rejected++;
            add_reject(st, file_no, &rec, reason);
            continue;
        }
        RefRow *row = vec_push(&tab->rows);
        row->record = rec.record_no;
        row->vals = arena_alloc(&rd->arena, sizeof(char *) * (size_t) r->nfields);
        for (int f = 0; f < r->nfields; f++) {
            const RecField *fv = &rec.fields[idx[f]];
            /* trim surrounding ASCII space */
            const char *p = fv->p;
            uint32_t n = fv->len;
            while (n > 0 && (*p == ' ' || *p == '\t')) {
                p++;
                n--;
            }
            while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
                n--;
            row->vals[f] = n ? arena_strndup(&rd->arena, p, n) : NULL;
        }
        sf->accepted++;
    }
    sf = &VEC_AT(&st->files, SourceFile, file_no);
    if (!reader_sha256(rdr, sf->sha256)) {
        reader_close(rdr);
        return CB_FAIL(err, CBERR_INTERNAL, "could not compute SHA-256 of %s", name);
    }
    reader_close(rdr);
    return true;
}

bool
rules_ref_read(const RuleSet *rs, Store *st, const char *dir, RefData *rd, CbError *err)
{
    rules_ref_init(rs, rd);
    for (int i = 0; i < rd->n; i++)
        if (!read_table(rs, i, st, dir, rd, err))
            return false;
    return true;
}
