/*
 * csvdiff — compare a list the engine wrote with the generator's truth.
 *
 *   csvdiff TRUTH.csv ACTUAL.csv
 *
 * Takes the truth's columns (by header name) from ACTUAL, which may have more columns, sorts
 * both sides' rows and compares them exactly.  Prints the rows only in one side (at most 20
 * each) and a one-line verdict; exit 0 when equal, 1 when different, 2 on error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

typedef struct Rows {
    char **v;
    size_t n, cap;
} Rows;

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) n + 1);
    *len = fread(buf, 1, (size_t) n, f);
    fclose(f);
    return buf;
}

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Reads path; when want != NULL, keeps only those columns in that order. */
static int
load(const char *path, char **want, int nwant, char ***header_out, int *nheader_out, Rows *rows)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "csvdiff: cannot read %s\n", path);
        return -1;
    }
    CsvOptions o = {.delimiter = ',', .quote = '"', .max_record_bytes = 1 << 20};
    CbError err;
    Reader *r = reader_open_csv_mem(path, data, len, &o, &err);
    Record rec;
    if (!r || reader_next(r, &rec, &err) != READ_OK) {
        fprintf(stderr, "csvdiff: %s: no header\n", path);
        return -1;
    }
    int nh = rec.nfields;
    char **header = calloc((size_t) nh, sizeof(char *));
    for (int i = 0; i < nh; i++)
        header[i] = strndup(rec.fields[i].p, rec.fields[i].len);
    int idx[64];
    int ncol = want ? nwant : nh;
    for (int k = 0; k < ncol; k++) {
        idx[k] = want ? -1 : k;
        for (int i = 0; want && i < nh; i++)
            if (strcmp(header[i], want[k]) == 0)
                idx[k] = i;
        if (idx[k] < 0) {
            fprintf(stderr, "csvdiff: %s has no column %s\n", path, want[k]);
            return -1;
        }
    }
    ReadStatus st;
    while ((st = reader_next(r, &rec, &err)) == READ_OK) {
        size_t cap = 64;
        for (int k = 0; k < ncol; k++)
            cap += rec.fields[idx[k]].len + 1;
        char *line = malloc(cap), *p = line;
        for (int k = 0; k < ncol; k++) {
            if (idx[k] >= rec.nfields) {
                fprintf(stderr, "csvdiff: %s: short record %llu\n", path, (unsigned long long) rec.record_no);
                return -1;
            }
            if (k)
                *p++ = ',';
            memcpy(p, rec.fields[idx[k]].p, rec.fields[idx[k]].len);
            p += rec.fields[idx[k]].len;
        }
        *p = '\0';
        if (rows->n == rows->cap) {
            rows->cap = rows->cap ? rows->cap * 2 : 1024;
            rows->v = realloc(rows->v, rows->cap * sizeof(char *));
        }
        rows->v[rows->n++] = line;
    }
    if (st != READ_EOF) {
        fprintf(stderr, "csvdiff: %s: unreadable record\n", path);
        return -1;
    }
    reader_close(r);
    free(data);
    if (rows->n > 1)
        qsort(rows->v, rows->n, sizeof(char *), cmp);
    if (header_out) {
        *header_out = header;
        *nheader_out = nh;
    } else {
        free_strings(header, (size_t) nh);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: csvdiff TRUTH.csv ACTUAL.csv\n");
        return 2;
    }
    Rows truth = {0}, actual = {0};
    char **header;
    int nh;
    if (load(argv[1], NULL, 0, &header, &nh, &truth) != 0 || load(argv[2], header, nh, NULL, NULL, &actual) != 0)
        return 2;
    size_t i = 0, j = 0, only_t = 0, only_a = 0;
    while (i < truth.n || j < actual.n) {
        int c = i == truth.n ? 1 : j == actual.n ? -1 : strcmp(truth.v[i], actual.v[j]);
        if (c == 0) {
            i++, j++;
        } else if (c < 0) {
            if (only_t++ < 20)
                printf("  missing (in truth only): %s\n", truth.v[i]);
            i++;
        } else {
            if (only_a++ < 20)
                printf("  extra (in output only):  %s\n", actual.v[j]);
            j++;
        }
    }
    const char *base = strrchr(argv[1], '/');
    base = base ? base + 1 : argv[1];
    free_strings(header, (size_t) nh);
    free_strings(truth.v, truth.n);
    free_strings(actual.v, actual.n);
    if (only_t || only_a) {
        printf("DIFFERENT %s: truth %zu rows, output %zu rows, %zu missing, %zu extra\n", base, truth.n,
               actual.n, only_t, only_a);
        return 1;
    }
    printf("equal %s: %zu rows\n", base, truth.n);
    return 0;
}
