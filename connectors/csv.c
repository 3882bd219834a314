/* Delimited text reader (RFC 4180 and the ways agencies deviate from it). */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "arena.h"
#include "reader_int.h"

#define BUF_SIZE (1 << 20)

typedef struct CsvReader {
    Reader base;
    char delimiter, quote;
    size_t max_record_bytes;
    unsigned char *buf;
    size_t pos, len;
    bool eof;
    bool first;              /* nothing read yet: a BOM may follow */
    uint64_t line;           /* current physical line (1-based) */
    uint64_t record_no;      /* records returned, the header included */
    char *rec;               /* field bytes of the current record */
    size_t rec_cap;
    char raw[READER_RAW_MAX];
    bool special[256];       /* bytes that end a run of plain field bytes */
    RecField fields[READER_MAX_FIELDS];
    uint32_t starts[READER_MAX_FIELDS];
} CsvReader;

static ReadStatus csv_next(Reader *base, Record *rec, CbError *err);

static void
csv_close(Reader *base)
{
    CsvReader *r = (CsvReader *) base;
    free(r->buf);
    free(r->rec);
}

static const ReaderOps csv_ops = {"csv", csv_next, csv_close};

Reader *
csv_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    CsvReader *r = xcalloc(1, sizeof *r);
    if (!reader_base_open(&r->base, spec, path, mem, len, err)) {
        reader_close(&r->base);
        return NULL;
    }
    r->base.ops = &csv_ops;
    r->delimiter = spec->delimiter ? spec->delimiter : ',';
    r->quote = spec->quote ? spec->quote : '"';
    r->max_record_bytes = spec->max_record_bytes ? spec->max_record_bytes : 1 << 20;
    r->buf = xmalloc(BUF_SIZE);
    r->rec_cap = 4096;
    r->rec = xmalloc(r->rec_cap);
    r->first = true;
    r->line = 1;
    r->special[(unsigned char) r->delimiter] = true;
    r->special['\n'] = true;
    r->special['\0'] = true;
    return &r->base;
}

/* Makes at least one byte available; false at the end or on error (*failed set). */
static bool
refill(CsvReader *r, bool *failed, CbError *err)
{
    if (r->pos < r->len)
        return true;
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
            if (r->pos == r->len)
                return refill(r, failed, err);
        }
    }
    return true;
}

/* SWAR: the high bit of every byte of w that is zero (exact for the lowest one; borrows
 * only disturb the bits above it). */
static inline uint64_t
zero_bytes(uint64_t w)
{
    return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

/* The first byte in [p, e) that is a or b or NUL, or e. */
static inline const unsigned char *
find3(const unsigned char *p, const unsigned char *e, unsigned char a, unsigned char b)
{
#ifdef __SSE2__
    /* sixteen bytes at a time (every x86-64 has SSE2): a field is a dozen bytes or two */
    const __m128i va = _mm_set1_epi8((char) a), vb = _mm_set1_epi8((char) b), vz = _mm_setzero_si128();
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *) (const void *) p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                 _mm_cmpeq_epi8(v, vz));
        unsigned bits = (unsigned) _mm_movemask_epi8(m);
        if (bits != 0)
            return p + __builtin_ctz(bits);
        p += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, wa = ones * a, wb = ones * b;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t m = zero_bytes(w ^ wa) | zero_bytes(w ^ wb) | zero_bytes(w);
        if (m != 0)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < e && *p != a && *p != b && *p != 0)
        p++;
    return p;
}

/* The record at r->pos when it lies whole in the buffer and is plain: fields unquoted, or
 * quoted without "" escapes and closed right before a delimiter or the line end; no NUL; within
 * the limits.  Its fields then point into the buffer, no byte is copied.  Returns false, having
 * consumed nothing, for any other record: the byte-by-byte reader below takes it (the two agree
 * on every record this one accepts). */
static bool fast_path = true;

void
csv_reader_fast_path(bool on)
{
    fast_path = on;
}

static bool
csv_fast(CsvReader *r, Record *rec)
{
    if (!fast_path)
        return false;
    const unsigned char *start = r->buf + r->pos, *e = r->buf + r->len, *p = start;
    const unsigned char delim = (unsigned char) r->delimiter, quote = (unsigned char) r->quote;
    int nf = 0;
    size_t bytes = 0, cr = 0;
    uint64_t lines = 0;
    for (;;) {
        if (nf == READER_MAX_FIELDS)
            return false;
        if (p < e && *p == quote) {
            const unsigned char *q = p + 1;
            for (;;) {
                q = find3(q, e, quote, '\n');
                if (q >= e || *q == 0)
                    return false;
                if (*q == quote)
                    break;
                lines++;   /* a line break inside the quotes */
                q++;
            }
            r->fields[nf].p = (const char *) p + 1;
            r->fields[nf].len = (uint32_t) (q - p - 1);
            bytes += (size_t) (q - p - 1);
            nf++;
            p = q + 1;
            if (p < e && *p == delim) {
                p++;
                continue;
            }
            if (p + 1 < e && *p == '\r' && p[1] == '\n')
                p++;
            if (p < e && *p == '\n')
                break;
            return false;   /* "" inside, text after the closing quote, or the buffer's end */
        }
        const unsigned char *q = find3(p, e, delim, '\n');
        if (q >= e || *q == 0)
            return false;
        size_t len = (size_t) (q - p);
        if (*q == '\n' && len > 0 && q[-1] == '\r') {
            len--;
            cr = 1;   /* the byte-by-byte reader holds it before it drops it */
        }
        r->fields[nf].p = (const char *) p;
        r->fields[nf].len = (uint32_t) len;
        bytes += len;
        nf++;
        p = q + 1;
        if (*q == '\n') {
            p = q;
            break;
        }
    }
    if (bytes + cr > r->max_record_bytes)
        return false;
    /* p is on the record's LF */
    size_t raw = (size_t) (p - start);
    r->record_no++;
    rec->record_no = r->record_no - 1;
    rec->line_no = r->line;
    rec->byte_offset = r->base.offset;
    rec->raw = (const char *) start;
    rec->raw_len = raw < READER_RAW_MAX ? raw : READER_RAW_MAX;
    while (rec->raw_len > 0 && (start[rec->raw_len - 1] == '\n' || start[rec->raw_len - 1] == '\r'))
        rec->raw_len--;
    rec->fields = r->fields;
    rec->nfields = nf;
    rec->reason[0] = '\0';
    r->line += lines + 1;
    r->pos += raw + 1;
    r->base.offset += raw + 1;
    return true;
}

static ReadStatus
csv_next(Reader *base, Record *rec, CbError *err)
{
    CsvReader *r = (CsvReader *) base;
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st;
    bool failed = false;
    const char delim = r->delimiter, quote = r->quote;
    size_t max = r->max_record_bytes;

    /* skip blank lines between records */
    for (;;) {
        if (!refill(r, &failed, err))
            return failed ? READ_ERROR : READ_EOF;
        unsigned char c = r->buf[r->pos];
        if (c == '\n') {
            r->pos++;
            r->base.offset++;
            r->line++;
        } else if (c == '\r') {
            r->pos++;
            r->base.offset++;
        } else {
            break;
        }
    }
    if (csv_fast(r, rec))
        return READ_OK;

    memset(rec, 0, sizeof *rec);
    rec->line_no = r->line;
    rec->byte_offset = r->base.offset;
    size_t n = 0;          /* bytes in r->rec */
    size_t raw_n = 0;
    int nf = 0;
    bool too_long = false, too_many = false, has_nul = false;
    const char *bad = NULL;
    st = FIELD_START;
    r->starts[0] = 0;

#define PUT(ch)                                                             \
    do {                                                                    \
        if (n + 1 > max) {                                                  \
            too_long = true;                                                \
        } else {                                                            \
            if (n + 1 > r->rec_cap) {                                       \
                r->rec_cap = r->rec_cap * 2 > max ? max : r->rec_cap * 2;   \
                r->rec = xrealloc(r->rec, r->rec_cap);                      \
            }                                                               \
            r->rec[n++] = (char) (ch);                                      \
        }                                                                   \
    } while (0)
#define END_FIELD()                                                         \
    do {                                                                    \
        if (nf < READER_MAX_FIELDS) {                                       \
            r->fields[nf].len = (uint32_t) (n - r->starts[nf]);             \
            nf++;                                                           \
            if (nf < READER_MAX_FIELDS)                                     \
                r->starts[nf] = (uint32_t) n;                               \
        } else {                                                            \
            too_many = true;                                                \
        }                                                                   \
    } while (0)

    bool done = false;
    while (!done) {
        if (!refill(r, &failed, err)) {
            if (failed)
                return READ_ERROR;
            /* end of input ends the record */
            if (st == QUOTED)
                bad = "unterminated quoted field at the end of the file";
            if (st == UNQUOTED && nf < READER_MAX_FIELDS && n > r->starts[nf] && r->rec[n - 1] == '\r')
                n--;   /* a last line ending in a lone CR */
            END_FIELD();
            break;
        }
        if (st == UNQUOTED && !too_long) {
            /* fast path: a run of plain bytes inside an unquoted field, copied at once */
            const unsigned char *p = r->buf + r->pos, *e = r->buf + r->len, *q = p;
            while (q < e && !r->special[*q])
                q++;
            size_t k = (size_t) (q - p);
            if (k > 0) {
                if (n + k > max) {
                    too_long = true;
                } else {
                    if (n + k > r->rec_cap) {
                        while (n + k > r->rec_cap)
                            r->rec_cap *= 2;
                        if (r->rec_cap > max)
                            r->rec_cap = max;
                        r->rec = xrealloc(r->rec, r->rec_cap);
                    }
                    memcpy(r->rec + n, p, k);
                    n += k;
                }
                if (raw_n < READER_RAW_MAX) {
                    size_t c = k < READER_RAW_MAX - raw_n ? k : READER_RAW_MAX - raw_n;
                    memcpy(r->raw + raw_n, p, c);
                    raw_n += c;
                }
                r->pos += k;
                r->base.offset += k;
                continue;
            }
        }
        if (too_long && st != QUOTED && st != QUOTE_IN_QUOTED && raw_n >= READER_RAW_MAX) {
            /* the record is already rejected: skip to its end at memchr speed */
            const unsigned char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
            size_t skip = nl ? (size_t) (nl - (r->buf + r->pos)) : r->len - r->pos;
            r->pos += skip;
            r->base.offset += skip;
            if (nl == NULL)
                continue;
        }
        unsigned char c = r->buf[r->pos++];
        r->base.offset++;
        if (raw_n < READER_RAW_MAX)
            r->raw[raw_n++] = (char) c;
        if (c == '\0')
            has_nul = true;
        switch (st) {
        case FIELD_START:
            if (c == (unsigned char) quote) {
                st = QUOTED;
                break;
            }
            st = UNQUOTED;
            /* fall through */
        case UNQUOTED:
            if (c == (unsigned char) delim) {
                END_FIELD();
                st = FIELD_START;
            } else if (c == '\n') {
                r->line++;
                if (n > r->starts[nf < READER_MAX_FIELDS ? nf : 0] && r->rec[n - 1] == '\r' && !too_long)
                    n--;
                END_FIELD();
                done = true;
            } else {
                PUT(c);
            }
            break;
        case QUOTED:
            if (c == (unsigned char) quote)
                st = QUOTE_IN_QUOTED;
            else {
                if (c == '\n')
                    r->line++;
                PUT(c);
            }
            break;
        case QUOTE_IN_QUOTED:
            if (c == (unsigned char) quote) {
                PUT(c);
                st = QUOTED;
            } else if (c == (unsigned char) delim) {
                END_FIELD();
                st = FIELD_START;
            } else if (c == '\n') {
                r->line++;
                END_FIELD();
                done = true;
            } else if (c == '\r') {
                /* CRLF after a closing quote */
            } else {
                if (bad == NULL)
                    bad = "unexpected character after a closing quote";
                PUT(c);
                st = UNQUOTED;
            }
            break;
        }
    }
#undef PUT
#undef END_FIELD

    r->record_no++;
    rec->record_no = r->record_no - 1;   /* header = record 0 is the caller's business */
    rec->raw = r->raw;
    rec->raw_len = raw_n;
    /* trailing newline is not part of the raw text */
    while (rec->raw_len > 0 && (r->raw[rec->raw_len - 1] == '\n' || r->raw[rec->raw_len - 1] == '\r'))
        rec->raw_len--;
    for (int i = 0; i < nf && i < READER_MAX_FIELDS; i++)
        r->fields[i].p = r->rec + r->starts[i];
    rec->fields = r->fields;
    rec->nfields = nf;
    if (too_long) {
        snprintf(rec->reason, sizeof rec->reason, "record longer than the limit of %zu bytes", max);
        return READ_BAD;
    }
    if (too_many) {
        snprintf(rec->reason, sizeof rec->reason, "more than %d fields", READER_MAX_FIELDS);
        return READ_BAD;
    }
    if (bad != NULL) {
        snprintf(rec->reason, sizeof rec->reason, "%s", bad);
        return READ_BAD;
    }
    if (has_nul) {
        snprintf(rec->reason, sizeof rec->reason, "NUL byte in record");
        return READ_BAD;
    }
    return READ_OK;
}
