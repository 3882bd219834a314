/*
 * Fixed-width reader: one record per line, fields at fixed positions.
 *
 * spec->columns give each field's 0-based start and its length, in bytes, or in characters
 * when spec->fixed_chars (UTF-8 code points: the byte stream below has already transcoded
 * GBK / GB18030 text to UTF-8).  A value is trimmed of ASCII spaces and U+3000 (ideographic
 * space) at both ends.  A line that ends before a column starts leaves that field absent
 * (p == NULL); one that ends inside a column cuts it.  A line longer than max_record_bytes, or
 * holding a NUL byte, is READ_BAD (the over-long one skipped without being held in memory), and
 * reading goes on.  LF or CRLF line ends; blank lines (spaces, tabs) are skipped; a UTF-8 BOM
 * at the start is skipped.  record_no counts the lines returned, from 1.
 */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "lines.h"


typedef struct FixedReader {
    Reader         base;
    size_t         max_record_bytes;
    bool           chars;
    FixedColumn   *cols;
    int            ncols;
    uint64_t       max_end;      /* the largest start + len among the columns */
    uint32_t      *cpos;         /* chars: byte offset of each character, max_end + 1 of them */
    LineSource     lines;
    uint64_t       record_no;
    RecField      *fields;
} FixedReader;

static ReadStatus fixed_next(Reader *base, Record *rec, CbError *err);

static void
fixed_close(Reader *base)
{
    FixedReader *r = (FixedReader *) base;
    free(r->cols);
    free(r->cpos);
    free(r->fields);
    lines_free(&r->lines);
}

static const ReaderOps fixed_ops = {"fixed", fixed_next, fixed_close};

Reader *
fixed_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    FixedReader *r = xcalloc(1, sizeof *r);
    if (!reader_base_open(&r->base, spec, path, mem, len, err))
        goto fail;
    r->base.ops = &fixed_ops;
    if (spec->ncolumns < 0 || spec->ncolumns > READER_MAX_FIELDS) {
        CB_FAIL(err, CBERR_INPUT, "%d fixed-width columns asked for, at most %d", spec->ncolumns,
                READER_MAX_FIELDS);
        cb_error_at(err, "%s", r->base.name);
        goto fail;
    }
    r->max_record_bytes = spec->max_record_bytes ? spec->max_record_bytes : 1 << 20;
    r->chars = spec->fixed_chars;
    r->ncols = spec->ncolumns;
    size_t nc = (size_t) (r->ncols ? r->ncols : 1);
    r->cols = xcalloc(nc, sizeof *r->cols);
    r->fields = xcalloc(nc, sizeof *r->fields);
    for (int i = 0; i < r->ncols; i++) {
        r->cols[i] = spec->columns[i];
        uint64_t end = (uint64_t) r->cols[i].start + r->cols[i].len;
        if (end > r->max_end)
            r->max_end = end;
    }
    if (r->chars) {
        /* a line has no more characters than bytes: positions past that all mean "the end" */
        if (r->max_end > r->max_record_bytes + 1)
            r->max_end = r->max_record_bytes + 1;
        r->cpos = xmalloc((size_t) (r->max_end + 1) * sizeof *r->cpos);
    }
    if (spec->chunk != NULL)
        lines_init_chunk(&r->lines, &r->base, r->max_record_bytes, spec->chunk, spec->chunk_len,
                         spec->chunk_at_start);
    else
        lines_init(&r->lines, &r->base, r->max_record_bytes);
    return &r->base;

fail:
    reader_close(&r->base);
    return NULL;
}



/* ------------------------------------------------------------ records */

/* Trims ASCII spaces and U+3000 (E3 80 80) at both ends. */
static void
trim(const char **p, size_t *n)
{
    const char *s = *p;
    size_t len = *n;
    for (;;) {
        if (len >= 1 && s[0] == ' ') {
            s++;
            len--;
        } else if (len >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0) {
            s += 3;
            len -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (len >= 1 && s[len - 1] == ' ')
            len--;
        else if (len >= 3 && memcmp(s + len - 3, "\xE3\x80\x80", 3) == 0)
            len -= 3;
        else
            break;
    }
    *p = s;
    *n = len;
}

static ReadStatus
fixed_next(Reader *base, Record *rec, CbError *err)
{
    FixedReader *r = (FixedReader *) base;
    const char *line;
    size_t n;
    bool too_long, failed = false;
    uint64_t line_no, offset;

    memset(rec, 0, sizeof *rec);
    for (;;) {   /* skip blank lines */
        if (!lines_fill(&r->lines, &failed, err))   /* first, so that a BOM is behind us */
            return failed ? READ_ERROR : READ_EOF;
        line_no = r->base.line_ends + 1;
        offset = r->base.offset;
        if (!lines_next(&r->lines, &line, &n, &too_long, &failed, err))
            return failed ? READ_ERROR : READ_EOF;
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i < n || too_long)
            break;
    }
    if (!too_long && n > 0 && line[n - 1] == '\r')
        n--;
    r->record_no++;
    rec->record_no = r->record_no;
    rec->line_no = line_no;
    rec->byte_offset = offset;
    rec->raw = line;
    rec->raw_len = n < READER_RAW_MAX ? n : READER_RAW_MAX;
    rec->fields = r->fields;
    rec->nfields = r->ncols;
    for (int i = 0; i < r->ncols; i++) {
        r->fields[i].p = NULL;
        r->fields[i].len = 0;
    }
    if (too_long || n > r->max_record_bytes) {
        snprintf(rec->reason, sizeof rec->reason, "record longer than the limit of %zu bytes",
                 r->max_record_bytes);
        return READ_BAD;
    }
    if (memchr(line, '\0', n) != NULL) {
        snprintf(rec->reason, sizeof rec->reason, "NUL byte in record");
        return READ_BAD;
    }

    uint64_t nchars = n;   /* in the unit of the positions */
    if (r->chars) {
        /* byte offset of each character up to the last position any column needs */
        uint64_t c = 0;
        for (size_t b = 0; b < n && c <= r->max_end; b++)
            if (((unsigned char) line[b] & 0xC0) != 0x80)
                r->cpos[c++] = (uint32_t) b;
        nchars = c;
        /* the end of the line: columns are cut at nchars, so no position past it is read (not
         * filling up to max_end for every line, which costs the largest position per line) */
        if (c <= r->max_end)
            r->cpos[c] = (uint32_t) n;
    }
    for (int i = 0; i < r->ncols; i++) {
        uint64_t start = r->cols[i].start, end = start + r->cols[i].len;
        if (start >= nchars)
            continue;   /* the line ends before the column: absent */
        if (end > nchars)
            end = nchars;
        size_t b0 = r->chars ? r->cpos[start] : (size_t) start;
        size_t b1 = r->chars ? r->cpos[end] : (size_t) end;
        const char *p = line + b0;
        size_t len = b1 - b0;
        trim(&p, &len);
        r->fields[i].p = p;
        r->fields[i].len = (uint32_t) len;
    }
    return READ_OK;
}
