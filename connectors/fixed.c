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
#include "reader_int.h"

#define BUF_SIZE (1 << 20)

typedef struct FixedReader {
    Reader         base;
    size_t         max_record_bytes;
    bool           chars;
    FixedColumn   *cols;
    int            ncols;
    uint64_t       max_end;      /* the largest start + len among the columns */
    uint32_t      *cpos;         /* chars: byte offset of each character, max_end + 1 of them */
    unsigned char *buf;
    size_t         pos, len;
    bool           eof;
    bool           first;        /* nothing read yet: a BOM may follow */
    uint64_t       line;         /* current physical line (1-based) */
    uint64_t       record_no;
    char          *lbuf;         /* a line that straddles buffer refills */
    size_t         lcap;
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
    free(r->lbuf);
    free(r->buf);
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
    r->buf = xmalloc(BUF_SIZE);
    r->first = true;
    r->line = 1;
    return &r->base;

fail:
    reader_close(&r->base);
    return NULL;
}

/* ------------------------------------------------------------ lines */

/* Makes at least one byte available; false at the end or on error (*failed set). */
static bool
refill(FixedReader *r, bool *failed, CbError *err)
{
    while (r->pos >= r->len) {
        if (r->eof)
            return false;
        ssize_t got = bytestream_read(&r->base.bs, r->buf, BUF_SIZE, err);
        if (got < 0) {
            *failed = true;
            return false;
        }
        r->pos = 0;
        r->len = (size_t) got;
        if (got == 0) {
            r->eof = true;
            return false;
        }
        if (r->first) {
            r->first = false;
            if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
                r->pos = 3;
                r->base.offset = 3;
            }
        }
    }
    return true;
}

/* Next physical line, without its LF (a CR before it stays).  Points into the read buffer
 * when the line lies in it, else into lbuf; a line longer than the limit is cut there
 * (*too_long) and the rest skipped without being kept.  False at the end of input or on
 * error (*failed). */
static bool
next_line(FixedReader *r, const char **line, size_t *n, bool *too_long, bool *failed, CbError *err)
{
    size_t limit = r->max_record_bytes + 1;   /* + 1: room for the CR of a CRLF */
    *too_long = false;
    if (!refill(r, failed, err))
        return false;
    const unsigned char *s = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    const unsigned char *nl = memchr(s, '\n', avail < limit + 1 ? avail : limit + 1);
    if (nl != NULL) {   /* the common case: the whole line is in the buffer */
        *line = (const char *) s;
        *n = (size_t) (nl - s);
        r->pos += *n + 1;
        r->base.offset += *n + 1;
        r->line++;
        return true;
    }
    size_t have = 0;
    for (;;) {
        s = r->buf + r->pos;
        avail = r->len - r->pos;
        nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t) (nl - s) : avail;
        if (have < limit) {
            size_t keep = take < limit - have ? take : limit - have;
            if (have + keep > r->lcap) {
                size_t cap = r->lcap ? r->lcap : 4096;
                while (cap < have + keep)
                    cap *= 2;
                r->lbuf = xrealloc(r->lbuf, cap);
                r->lcap = cap;
            }
            memcpy(r->lbuf + have, s, keep);
            have += keep;
            if (keep < take)
                *too_long = true;
        } else if (take > 0) {
            *too_long = true;
        }
        r->pos += take + (nl != NULL);
        r->base.offset += take + (nl != NULL);
        if (nl != NULL) {
            r->line++;
            break;
        }
        if (!refill(r, failed, err)) {
            if (*failed)
                return false;
            break;   /* the last line has no LF */
        }
    }
    *line = r->lbuf ? r->lbuf : "";
    *n = have;
    return true;
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
        if (!refill(r, &failed, err))   /* first, so that a BOM is behind us */
            return failed ? READ_ERROR : READ_EOF;
        line_no = r->line;
        offset = r->base.offset;
        if (!next_line(r, &line, &n, &too_long, &failed, err))
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
        for (; c <= r->max_end; c++)
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
