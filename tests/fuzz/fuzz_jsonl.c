/*
 * fuzz_jsonl — the JSON Lines reader (connectors/jsonl.c, a hand-written strict scanner).
 *
 * Input: a spec line, then the file.  Spec keys: f=<key or key/path> repeated,
 * enc=gbk|gb18030|utf-8, max=<max_record_bytes>.  Example:
 *     f=sfzh f=xm f=person/birth max=4096
 *     {"sfzh":"222401198503150017","xm":"金哲","person":{"birth":"1985-03-15"}}
 */
#include "fuzzlib.h"

#include <strings.h>

/* A line reads the same after any other lines as alone: the reader remembers the keys of the
 * last good line (jsonl.c, Shape) and must not let them change what a line gives.  Lines whose
 * raw text is cut (READER_RAW_MAX) or would read otherwise alone (a gzip or BOM start) are
 * left out, and so are transcoded files.  The first CHECK_LINES records only: a reader opened
 * for each line costs more than the rest of the run. */
#define CHECK_LINES 12
static void
check_alone(const ReaderSpec *spec, const uint8_t *file, size_t len)
{
    if (spec->encoding != NULL && strcasecmp(spec->encoding, "utf-8") != 0 &&
        strcasecmp(spec->encoding, "utf8") != 0)
        return;
    CbError err;
    memset(&err, 0, sizeof err);
    void *copy = fuzz_dup(file, len);
    Reader *r = reader_open_mem(spec, "fuzz.input", copy, len, &err);
    if (r == NULL) {
        free(copy);
        return;
    }
    Record rec;
    ReadStatus st;
    for (int nrec = 0; nrec < CHECK_LINES && ((st = reader_next(r, &rec, &err)) == READ_OK || st == READ_BAD);
         nrec++) {
        if (rec.raw_len >= READER_RAW_MAX ||
            (rec.raw_len > 0 && ((unsigned char) rec.raw[0] == 0x1F || (unsigned char) rec.raw[0] == 0xEF)))
            continue;
        char *line = malloc(rec.raw_len + 1);
        FUZZ_CHECK(line != NULL, "out of memory");
        memcpy(line, rec.raw, rec.raw_len);
        line[rec.raw_len] = '\n';
        CbError err1;
        memset(&err1, 0, sizeof err1);
        Reader *one = reader_open_mem(spec, "fuzz.line", line, rec.raw_len + 1, &err1);
        FUZZ_CHECK(one != NULL, "a line alone does not open: %s", err1.message);
        Record alone;
        ReadStatus st1 = reader_next(one, &alone, &err1);
        FUZZ_CHECK(st1 == st, "record %llu: status %d, alone %d", (unsigned long long) rec.record_no,
                   (int) st, (int) st1);
        if (st == READ_BAD)
            FUZZ_CHECK(strcmp(rec.reason, alone.reason) == 0, "record %llu: \"%s\", alone \"%s\"",
                       (unsigned long long) rec.record_no, rec.reason, alone.reason);
        FUZZ_CHECK(rec.nfields == alone.nfields, "field counts differ");
        for (int i = 0; i < rec.nfields; i++) {
            const RecField *a = &rec.fields[i], *b = &alone.fields[i];
            FUZZ_CHECK((a->p == NULL) == (b->p == NULL) &&
                           (a->p == NULL || (a->len == b->len && memcmp(a->p, b->p, a->len) == 0)),
                       "record %llu: field %d differs from the line read alone",
                       (unsigned long long) rec.record_no, i);
        }
        reader_close(one);
        free(line);
    }
    reader_close(r);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line;
    size_t line_len, len;
    const uint8_t *file;
    fuzz_split_line(data, size, &line, &line_len, &file, &len);
    FuzzSpec s;
    fuzz_spec_parse(&s, line, line_len);

    const char *names[FUZZ_MAX_TOKENS];
    int n = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.key[i], "f") == 0)
            names[n++] = s.val[i];

    ReaderSpec spec = {.format = RF_JSONL};
    fuzz_spec_common(&s, &spec);
    spec.names = names;
    spec.nnames = n;
    fuzz_read_all(&spec, file, len, true);
    check_alone(&spec, file, len);
    return 0;
}
