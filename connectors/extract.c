#include "extract.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "idnum.h"
#include "idrepair.h"
#include "text.h"

#define TEXTS_BLOCK (64 * 1024)

/* A field's last cell and what it mapped to.  Extracts list a person's records one after
 * another (the claims of one person, the months of one account), so the same ID number and
 * name come again and again: mapped once, checked against the cell's bytes after.  Only a
 * mapping that succeeded is kept; raw_len > MEMO_BYTES: nothing kept. */
#define MEMO_FIELDS 4
#define MEMO_BYTES  64

typedef struct FieldMemo {
    uint32_t   raw_len;
    char       raw[MEMO_BYTES];
    CanonValue v;                  /* v.text: text below */
    char       text[MEMO_BYTES + 1];
    uint8_t    id_status;
    bool       id_rewritten;
} FieldMemo;

struct Extract {
    const SourceDef *def;
    const KindSpec  *spec;
    int              nkind;                   /* fields of the fact kind: out->v[0..nkind) */
    const char      *names[KIND_MAX_FIELDS];
    FixedColumn      fixed[KIND_MAX_FIELDS];
    Reader          *reader;
    int              col[KIND_MAX_FIELDS];   /* 0-based column per definition field */
    const char      *col_name[KIND_MAX_FIELDS];
    int              ncols;                   /* header width (0 without header) */
    Arena            scratch;                 /* per record, reset */
    char            *texts, *texts_at;        /* the record's field texts: a block of TEXTS_BLOCK
                                                 bytes, from which they are copied first */
    char             name[256];
    int              id_field, name_field;    /* of the fact kind, -1 if it has none */
    int              id_col_def;              /* definition field of id_number, -1 if none */
    /* split fields (split() first in their chain): the values of the current row */
    bool             split[KIND_MAX_FIELDS];  /* by definition field */
    bool             text_xf[KIND_MAX_FIELDS];/* by definition field: transforms that may
                                                 change the trimmed text (name, code, default) */
    int              nsplit;
    RecField         pieces[EXTRACT_MAX_MEMBERS][KIND_MAX_FIELDS];
    CanonRecord     *members;                 /* the row's records, EXTRACT_MAX_MEMBERS */
    int              member_next, member_count;
    /* the last value of the fields whose mapping costs most (ID numbers, names), by
     * definition field: memo[memo_of[i]] (memo_of -1: none) */
    int8_t           memo_of[KIND_MAX_FIELDS];
    FieldMemo        memo[MEMO_FIELDS];
};

/* ---- small text helpers ---- */

/* Length of a whitespace character at s (ASCII space/tab/CR/LF, U+3000 ideographic space,
 * U+00A0 no-break space), 0 when there is none. */
static inline size_t
space_len(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = (unsigned char) s[0];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        return 1;
    if (c == 0xE3 && n >= 3 && (unsigned char) s[1] == 0x80 && (unsigned char) s[2] == 0x80)
        return 3;
    if (c == 0xC2 && n >= 2 && (unsigned char) s[1] == 0xA0)
        return 2;
    return 0;
}

/* Length of a whitespace character ending at s + n, 0 when there is none. */
static inline size_t
space_len_back(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = (unsigned char) s[n - 1];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        return 1;
    if (c == 0x80 && n >= 3 && (unsigned char) s[n - 2] == 0x80 && (unsigned char) s[n - 3] == 0xE3)
        return 3;
    if (c == 0xA0 && n >= 2 && (unsigned char) s[n - 2] == 0xC2)
        return 2;
    return 0;
}

/* Bytes that may begin (trim_first) or end (trim_last) a white-space character of space_len:
 * a value whose first and last bytes are neither has nothing to trim. */
static const unsigned char trim_first[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, [0xC2] = 1, [0xE3] = 1,
};
static const unsigned char trim_last[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, [0x80] = 1, [0xA0] = 1,
};

static __attribute__((noinline)) void
trim_spaces(const char **s, size_t *n)
{
    size_t k;
    while ((k = space_len(*s, *n)) > 0) {
        *s += k;
        *n -= k;
    }
    while ((k = space_len_back(*s, *n)) > 0)
        *n -= k;
}

/* White space off both ends; the usual value (nothing to trim) without a call. */
static inline void
trim(const char **s, size_t *n)
{
    if (*n > 0 && !trim_first[(unsigned char) (*s)[0]] && !trim_last[(unsigned char) (*s)[*n - 1]])
        return;
    trim_spaces(s, n);
}

/* Bytes that may start a space or a middle dot in a name: ASCII space, tab, CR, LF and '.',
 * and the lead bytes of the multi-byte ones (C2, E2, E3, EF). */
static const unsigned char name_special[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['.'] = 1,
    [0xC2] = 1, [0xE2] = 1, [0xE3] = 1, [0xEF] = 1,
};

/* Length of a middle-dot variant at s (· • ‧ ・ ･ ． ∙ and '.'), 0 when there is none. */
static size_t
dot_len(const unsigned char *s, size_t n)
{
    switch (s[0]) {
    case '.':
        return 1;
    case 0xC2:   /* U+00B7 */
        return n >= 2 && s[1] == 0xB7 ? 2 : 0;
    case 0xE2:   /* U+2022 •, U+2027 ‧, U+2219 ∙ */
        if (n >= 3 && ((s[1] == 0x80 && (s[2] == 0xA2 || s[2] == 0xA7)) || (s[1] == 0x88 && s[2] == 0x99)))
            return 3;
        return 0;
    case 0xE3:   /* U+30FB ・ */
        return n >= 3 && s[1] == 0x83 && s[2] == 0xBB ? 3 : 0;
    case 0xEF:   /* U+FF65 ･, U+FF0E ． */
        if (n >= 3 && ((s[1] == 0xBD && s[2] == 0xA5) || (s[1] == 0xBC && s[2] == 0x8E)))
            return 3;
        return 0;
    default:
        return 0;
    }
}

/* Name: no spaces inside; every middle-dot variant (· • ‧ ・ ･ . ． ∙) becomes U+00B7.  A name
 * that holds none of them (the common case) comes back as it is, without a copy. */
static const char *
name_normalise(Arena *a, const char *s, size_t n, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t i = 0;
    while (i < n && !name_special[u[i]])
        i++;
    if (i == n) {
        *out_len = n;
        return s;
    }
    char *out = arena_alloc(a, n * 2 + 1);
    memcpy(out, s, i);
    size_t o = i;
    while (i < n) {
        if (!name_special[u[i]]) {
            out[o++] = s[i++];
            continue;
        }
        size_t k = space_len(s + i, n - i);
        if (k > 0) {
            i += k;
            continue;
        }
        k = dot_len(u + i, n - i);
        if (k > 0) {
            memcpy(out + o, "\xC2\xB7", 2);
            o += 2;
            i += k;
            continue;
        }
        out[o++] = s[i++];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Yuan with up to two decimals ("1234.5", "-12.30", "1,234.00", "¥12") → fen. */
static bool
parse_money(const char *s, size_t n, int64_t *fen)
{
    size_t i = 0;
    if (n >= 2 && memcmp(s, "\xC2\xA5", 2) == 0)
        i = 2;
    else if (n >= 3 && memcmp(s, "\xEF\xBF\xA5", 3) == 0)
        i = 3;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    int64_t v = 0;
    int digits = 0, dec = -1;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (dec >= 0) {
                if (dec == 2)
                    return false;
                dec++;
            }
            /* up to 18 digits always fit: only a longer number is checked (a division) */
            if (digits >= 18 && v > (INT64_MAX - (c - '0')) / 10)
                return false;   /* more digits than fit in 64 bits */
            v = v * 10 + (c - '0');
            digits++;
        } else if (c == '.' && dec < 0) {
            dec = 0;
        } else if (c == ',' && dec < 0) {
            continue;
        } else {
            return false;
        }
    }
    if (digits == 0)
        return false;
    int scale = dec < 0 ? 0 : dec;
    for (; scale < 2; scale++) {
        if (v > INT64_MAX / 10)
            return false;   /* more yuan than fen fit in 64 bits */
        v *= 10;
    }
    *fen = neg ? -v : v;
    return true;
}

static bool
parse_int(const char *s, size_t n, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

static uint64_t
mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

/* Text into a hash for duplicates, eight bytes at a time. */
static inline uint64_t
hash_text(uint64_t h, const char *s, size_t n)
{
    const char *start = s;
    h ^= (uint64_t) n * 0xD6E8FEB86659FD93ull;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;   /* the tail as memcpy would load it (little-endian), without the call */
    if (n > 0 && s - start >= 8) {   /* the eight bytes ending the text, shifted to its tail */
        memcpy(&w, s + n - 8, 8);
        w >>= 8 * (8 - n);
    } else {
        for (size_t k = 0; k < n; k++)
            w |= (uint64_t) (unsigned char) s[k] << (8 * k);
    }
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    return h ^ h >> 31;
}

/* The record key's byte hash (FNV-1a): part of extract_record_key, which must not change. */
static uint64_t
hash_bytes(uint64_t h, const char *s, size_t n)
{
    uint64_t x = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        x ^= (unsigned char) s[i];
        x *= 0x100000001B3ull;
    }
    return mix64(h, x ^ n);
}

/* ---- open ---- */

static const char *
encoding_name(SourceEncoding e)
{
    return e == ENC_GBK ? "GBK" : e == ENC_GB18030 ? "GB18030" : "UTF-8";
}

static bool
resolve_header(Extract *ex, CbError *err)
{
    const SourceDef *def = ex->def;
    if (def->format == RF_XML || def->format == RF_JSONL || def->format == RF_FIXED) {
        /* these readers return exactly the fields asked for, in definition order */
        for (int i = 0; i < def->nfields; i++) {
            ex->col[i] = i;
            char nm[300];
            if (def->format == RF_FIXED)
                snprintf(nm, sizeof nm, "positions %u-%u", def->fields[i].fixed_start,
                         def->fields[i].fixed_end);
            else
                snprintf(nm, sizeof nm, "%s", def->fields[i].column);
            ex->col_name[i] = xstrdup(nm);
        }
        return true;
    }
    if (!def->header) {
        for (int i = 0; i < def->nfields; i++) {
            ex->col[i] = def->fields[i].position - 1;
            char *nm = xmalloc(24);
            snprintf(nm, 24, "column %d", def->fields[i].position);
            ex->col_name[i] = nm;
        }
        return true;
    }
    Record rec;
    ReadStatus st = reader_next(ex->reader, &rec, err);
    if (st == READ_ERROR)
        return false;
    if (st == READ_EOF) {
        CB_FAIL(err, CBERR_INPUT, "file is empty: expected a header row");
        cb_error_at(err, "%s", ex->name);
        return false;
    }
    if (st == READ_BAD) {
        CB_FAIL(err, CBERR_INPUT, "malformed header row: %s", rec.reason);
        cb_error_at(err, "%s: line 1", ex->name);
        return false;
    }
    ex->ncols = rec.nfields;
    /* header names in the file's encoding: decode when needed */
    for (int i = 0; i < def->nfields; i++) {
        const char *want = def->fields[i].column;
        int found = -1;
        for (int c = 0; c < rec.nfields; c++) {
            const char *h = rec.fields[c].p;
            size_t hn = rec.fields[c].len;
            trim(&h, &hn);
            if (hn == strlen(want) && memcmp(h, want, hn) == 0) {
                if (found >= 0) {
                    CB_FAIL(err, CBERR_INPUT, "column \"%s\" appears twice in the header", want);
                    cb_error_at(err, "%s: line 1", ex->name);
                    return false;
                }
                found = c;
            }
        }
        if (found < 0) {
            CB_FAIL(err, CBERR_INPUT, "column \"%s\" (for field %s) not found in the header", want,
                    ex->spec->fields[def->fields[i].field].name);
            cb_error_at(err, "%s: line 1", ex->name);
            char cols[768] = "";
            for (int c = 0; c < rec.nfields && strlen(cols) < 600; c++) {
                strncat(cols, c ? ", " : "", sizeof cols - strlen(cols) - 1);
                size_t l = rec.fields[c].len < 60 ? rec.fields[c].len : 60;
                strncat(cols, rec.fields[c].p, l < sizeof cols - strlen(cols) - 1 ? l : sizeof cols - strlen(cols) - 1);
            }
            cb_error_detail(err, "the header has: %s", cols);
            cb_error_hint(err, "fix the column name in %s, or ask the agency about the changed export",
                          def->path);
            return false;
        }
        ex->col[i] = found;
        ex->col_name[i] = xstrdup(want);
    }
    return true;
}

static Extract *
open_common(Extract *ex, const SourceDef *def, const char *name, CbError *err)
{
    ex->def = def;
    ex->spec = factkind_spec(def->kind);
    while (ex->nkind < KIND_MAX_FIELDS && ex->spec->fields[ex->nkind].name != NULL)
        ex->nkind++;
    ex->id_field = factkind_field(def->kind, "id_number");
    ex->name_field = factkind_field(def->kind, "name");
    ex->id_col_def = -1;
    int nmemo = 0;
    for (int i = 0; i < def->nfields; i++) {
        if (def->fields[i].field == ex->id_field)
            ex->id_col_def = i;
        ex->split[i] = def->fields[i].nxf > 0 && def->fields[i].xf[0].op == XF_SPLIT;
        ex->nsplit += ex->split[i];
        for (int x = 0; x < def->fields[i].nxf; x++) {
            XformOp op = def->fields[i].xf[x].op;
            /* trim alone changes nothing: map_field trims every value first */
            ex->text_xf[i] |= op == XF_NAME || op == XF_CODE || op == XF_DEFAULT;
        }
        bool costly = ex->spec->fields[def->fields[i].field].type == FT_IDNUM;
        for (int x = 0; x < def->fields[i].nxf; x++)
            costly |= def->fields[i].xf[x].op == XF_NAME;
        ex->memo_of[i] = -1;
        if (costly && !ex->split[i] && nmemo < MEMO_FIELDS) {
            ex->memo[nmemo].raw_len = MEMO_BYTES + 1;
            ex->memo_of[i] = (int8_t) nmemo++;
        }
    }
    snprintf(ex->name, sizeof ex->name, "%s", name);
    arena_init(&ex->scratch, 64 * 1024);
    ex->texts = ex->texts_at = xmalloc(TEXTS_BLOCK);
    if (!resolve_header(ex, err)) {
        extract_close(ex);
        return NULL;
    }
    return ex;
}

/* The reader's view of a definition; names and columns point into ex. */
static ReaderSpec
reader_spec(Extract *ex, const SourceDef *def)
{
    ReaderSpec o = {.format = def->format, .encoding = encoding_name(def->encoding),
                    .delimiter = def->delimiter, .quote = def->quote,
                    .max_record_bytes = def->max_record_bytes, .record_path = def->record_path,
                    .sheet = def->sheet, .fixed_chars = def->fixed_chars,
                    .max_depth = def->max_depth};
    if (def->format == RF_XML && def->encoding == ENC_UTF8)
        o.encoding = NULL;   /* the document's own declaration decides */
    for (int i = 0; i < def->nfields; i++) {
        ex->names[i] = def->fields[i].column;
        ex->fixed[i].start = def->fields[i].fixed_start ? def->fields[i].fixed_start - 1 : 0;
        ex->fixed[i].len = def->fields[i].fixed_end - def->fields[i].fixed_start + 1;
    }
    o.names = ex->names;
    o.nnames = def->nfields;
    o.columns = ex->fixed;
    o.ncolumns = def->nfields;
    return o;
}

Extract *
extract_open(const SourceDef *def, const char *path, CbError *err)
{
    Extract *ex = xcalloc(1, sizeof *ex);
    ReaderSpec o = reader_spec(ex, def);
    ex->reader = reader_open(&o, path, err);
    if (ex->reader == NULL) {
        free(ex);
        return NULL;
    }
    const char *base = strrchr(path, '/');
    return open_common(ex, def, base ? base + 1 : path, err);
}

Extract *
extract_open_mem(const SourceDef *def, const char *name, const void *data, size_t len,
                 CbError *err)
{
    Extract *ex = xcalloc(1, sizeof *ex);
    ReaderSpec o = reader_spec(ex, def);
    ex->reader = reader_open_mem(&o, name, data, len, err);
    if (ex->reader == NULL) {
        free(ex);
        return NULL;
    }
    return open_common(ex, def, name, err);
}

Extract *
extract_open_chunk(const SourceDef *def, const char *name, const void *data, size_t len,
                   uint64_t offset, bool at_start, CbError *err)
{
    if (def->format != RF_JSONL && def->format != RF_FIXED) {
        CB_FAIL(err, CBERR_INTERNAL, "only line formats are read in pieces");
        return NULL;
    }
    Extract *ex = xcalloc(1, sizeof *ex);
    ReaderSpec o = reader_spec(ex, def);
    o.encoding = NULL;   /* the piece is UTF-8 already */
    o.chunk = data;
    o.chunk_len = len;
    o.chunk_offset = offset;
    o.chunk_at_start = at_start;
    ex->reader = reader_open_mem(&o, name, data, len, err);
    if (ex->reader == NULL) {
        free(ex);
        return NULL;
    }
    return open_common(ex, def, name, err);
}

void
extract_close(Extract *ex)
{
    if (ex == NULL)
        return;
    reader_close(ex->reader);
    for (int i = 0; i < KIND_MAX_FIELDS; i++)
        free((void *) ex->col_name[i]);
    arena_free(&ex->scratch);
    free(ex->texts);
    free(ex->members);
    free(ex);
}

uint64_t
extract_file_bytes(const Extract *ex)
{
    return reader_file_bytes(ex->reader);
}

bool
extract_sha256(Extract *ex, char out[65])
{
    return reader_sha256(ex->reader, out);
}

uint64_t
extract_line_ends(const Extract *ex)
{
    return reader_line_ends(ex->reader);
}

uint64_t
extract_bytes(const Extract *ex)
{
    return reader_bytes_in(ex->reader);
}

/* ---- records ---- */

/* Bytes of s[0..n) to quote in a reason: at most max, without cutting a UTF-8 character in
 * two (a reason goes to PostgreSQL, which refuses invalid UTF-8). */
static int
clip(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return (int) n;
    while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
        max--;
    return (int) max;
}

static ExtStatus
reject(CanonRecord *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static ExtStatus
reject(CanonRecord *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return EXT_REJECT;
}

/* A NUL-terminated copy of s[0..n) that lasts until the next record: from the record's block,
 * or from the scratch arena when the block is full. */
static inline char *
text_copy(Extract *ex, const char *s, size_t n)
{
    if ((size_t) (ex->texts + TEXTS_BLOCK - ex->texts_at) <= n)
        return arena_strndup(&ex->scratch, s, n);
    char *p = ex->texts_at;
    if (n >= 8 && n <= 16) {   /* the usual value: two overlapping words, without a call */
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(p, &a, 8);
        memcpy(p + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(p, &a, 4);
        memcpy(p + n - 4, &b, 4);
    } else {
        memcpy(p, s, n);
    }
    p[n] = '\0';
    ex->texts_at = p + n + 1;
    return p;
}

/* Applies field i's transforms to (s, n) and types the result into *v. */
static ExtStatus
map_field(Extract *ex, int i, const char *s, size_t n, CanonRecord *out)
{
    const FieldMap *fm = &ex->def->fields[i];
    const FieldSpec *fs = &ex->spec->fields[fm->field];
    CanonValue *v = &out->v[fm->field];
    const char *col = ex->col_name[i];
    bool typed = false;

    trim(&s, &n);
    for (int x = 0; ex->text_xf[i] && x < fm->nxf; x++) {   /* the typing ones: below */
        const Xform *xf = &fm->xf[x];
        switch (xf->op) {
        case XF_TRIM:
            trim(&s, &n);
            break;
        case XF_SPLIT:   /* the value is already one of the cell's (split_row) */
            break;
        case XF_NAME:
            s = name_normalise(&ex->scratch, s, n, &n);
            break;
        case XF_DEFAULT:
            if (n == 0) {
                s = xf->arg;
                n = strlen(s);
            }
            break;
        case XF_CODE: {
            if (n == 0)
                break;
            const char *to = NULL;
            size_t to_len = 0;
            for (int k = 0; k < xf->ncodes && to == NULL; k++)
                if (xf->codes[k].from && xf->codes[k].from_len == n &&
                    memcmp(xf->codes[k].from, s, n) == 0) {
                    to = xf->codes[k].to;
                    to_len = xf->codes[k].to_len;
                }
            for (int k = 0; k < xf->ncodes && to == NULL; k++)
                if (xf->codes[k].from == NULL) {
                    to = xf->codes[k].to;
                    to_len = xf->codes[k].to_len;
                }
            if (to == NULL)
                return reject(out, "unknown code \"%.*s\" in %s (field %s)", clip(s, n, 80), s,
                              col, fs->name);
            s = to;
            n = to_len;
            break;
        }
        default:
            typed = true;   /* typed conversions happen below, once */
            break;
        }
    }
    (void) typed;
    if (n == 0) {
        if (fs->required)
            return reject(out, "missing value in %s (field %s)", col, fs->name);
        v->present = false;
        return EXT_OK;
    }
    /* the text as it is, but for an ID number: its normalised form (below) */
    char *text = fs->type == FT_IDNUM ? NULL : text_copy(ex, s, n);
    v->present = true;
    v->text = text;
    v->len = (uint32_t) n;
    v->num = 0;
    switch (fs->type) {
    case FT_IDNUM: {
        char id[19];
        IdnumStatus st = idnum_normalise(s, n, id);
        out->id_status = (uint8_t) st;
        if (st == IDNUM_OK) {
            out->id_rewritten = !(n == 18 && memcmp(s, id, 18) == 0);
            v->num = (int64_t) idnum_key(id);
            v->text = text_copy(ex, id, 18);
            v->len = 18;
            break;
        }
        /* one typing error away from a valid number? then identity resolution repairs it */
        char chars[19];
        int len = ex->def->kind != FK_REGISTER ? idrepair_chars(s, n, chars) : 0;
        if (len == 0) {
            v->text = text_copy(ex, s, n);
            return reject(out, "invalid ID number \"%.*s\" in %s: %s", clip(s, n, 40), s,
                          col, idnum_status_text(st));
        }
        v->num = (int64_t) PERSON_KEY_NONE;
        v->text = text_copy(ex, chars, (size_t) len);
        v->len = (uint32_t) len;
        break;
    }
    case FT_DATE: {
        Day d = date_parse(s, n);
        if (d == DAY_NONE)
            return reject(out, "could not parse date \"%.*s\" in %s (field %s)", clip(s, n, 40),
                          s, col, fs->name);
        v->num = d;
        break;
    }
    case FT_MONTH: {
        int32_t m = date_parse_month(s, n);
        if (m < 0)
            return reject(out, "could not parse month \"%.*s\" in %s (field %s)", clip(s, n, 40),
                          s, col, fs->name);
        v->num = m;
        break;
    }
    case FT_MONEY:
        if (!parse_money(s, n, &v->num))
            return reject(out, "could not parse amount \"%.*s\" in %s (field %s): expected yuan with at most two decimals",
                          clip(s, n, 40), s, col, fs->name);
        break;
    case FT_INT:
        if (!parse_int(s, n, &v->num))
            return reject(out, "could not parse integer \"%.*s\" in %s (field %s)", clip(s, n, 40),
                          s, col, fs->name);
        break;
    case FT_ENUM: {
        int idx = factkind_enum_value(fs, text);
        if (idx < 0)
            return reject(out, "value \"%.*s\" not allowed in %s (field %s)", clip(s, n, 40), s,
                          col, fs->name);
        v->num = idx;
        break;
    }
    case FT_TEXT:
        break;
    }
    return EXT_OK;
}

/* True when all n bytes are ASCII other than NUL (valid UTF-8 at once), eight at a time. */
static inline bool
ascii_text(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    if (n >= 8) {   /* the last eight bytes, overlapping what the loop checks, cover the tail */
        const char *end = s + n;
        uint64_t w;
        for (; end - s > 8; s += 8) {
            memcpy(&w, s, 8);
            if (((w | ((w - ones) & ~w)) & highs) != 0)
                return false;
        }
        memcpy(&w, end - 8, 8);
        return ((w | ((w - ones) & ~w)) & highs) == 0;
    }
    if (n >= 4) {   /* the first four bytes and the last four, overlapping */
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        const uint32_t ones4 = 0x01010101u, highs4 = 0x80808080u;
        return (((a | ((a - ones4) & ~a)) | (b | ((b - ones4) & ~b))) & highs4) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] == 0 || (unsigned char) s[i] >= 0x80)
            return false;
    return true;
}

static ExtStatus field_utf8(Extract *ex, int i, CanonRecord *out, const char *s, size_t n);

/* The text of definition field i in rec, checked to be valid UTF-8 (after transcoding). */
static inline ExtStatus
field_text(Extract *ex, const Record *rec, int i, CanonRecord *out, const char **s, size_t *n)
{
    int c = ex->col[i];
    if (c >= rec->nfields)
        return reject(out, "record has %d fields, %s is missing", rec->nfields, ex->col_name[i]);
    *s = rec->fields[c].p ? rec->fields[c].p : "";
    *n = rec->fields[c].p ? rec->fields[c].len : 0;
    if (ascii_text(*s, *n))
        return EXT_OK;
    return field_utf8(ex, i, out, *s, *n);
}

/* field_text's text that is not all ASCII. */
static __attribute__((noinline)) ExtStatus
field_utf8(Extract *ex, int i, CanonRecord *out, const char *s, size_t n)
{
    size_t bad_at;
    if (!utf8_valid(s, n, &bad_at)) {
        size_t chars = 1;
        for (size_t k = 0; k < bad_at; k++)
            chars += ((unsigned char) s[k] & 0xC0) != 0x80;
        return reject(out, "byte sequence not valid %s at character %zu of %s",
                      encoding_name(ex->def->encoding), chars, ex->col_name[i]);
    }
    return EXT_OK;
}

/* True when a[0..n) and b[0..n) are the same bytes: without a call for the lengths of ID
 * numbers and names (overlapping words, none read outside the n bytes). */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 32) {
        uint64_t a0, a1, b0, b1, x;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        x = (a0 ^ b0) | (a1 ^ b1);
        if (n > 16) {
            memcpy(&a0, a + 8, 8);
            memcpy(&b0, b + 8, 8);
            memcpy(&a1, a + n - 16, 8);
            memcpy(&b1, b + n - 16, 8);
            x |= (a0 ^ b0) | (a1 ^ b1);
        }
        return x == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* True when cell f is the memo's: its value put into out's field k (its text copied for this
 * record, as map_field would). */
static inline bool
memo_hit(Extract *ex, const FieldMemo *m, const RecField *f, CanonRecord *out, int k)
{
    uint32_t n = f->p ? f->len : 0;   /* as field_text reads the cell */
    if (m->raw_len != n || !same_bytes(f->p ? f->p : "", m->raw, n))
        return false;
    CanonValue *v = &out->v[k];
    *v = m->v;
    if (v->present)
        v->text = text_copy(ex, m->text, v->len);
    if (ex->spec->fields[k].type == FT_IDNUM) {
        out->id_status = m->id_status;
        out->id_rewritten = m->id_rewritten;
    }
    return true;
}

/* Keeps cell f and its value v (mapped without a reject) when both fit. */
static inline void
memo_keep(FieldMemo *m, const RecField *f, const CanonValue *v, const CanonRecord *out)
{
    uint32_t n = f->p ? f->len : 0;
    m->raw_len = MEMO_BYTES + 1;
    if (n > MEMO_BYTES || (v->present && v->len > MEMO_BYTES))
        return;
    memcpy(m->raw, f->p ? f->p : "", n);
    m->v = *v;
    if (v->present) {
        memcpy(m->text, v->text, v->len);
        m->text[v->len] = '\0';
        m->v.text = m->text;
    }
    m->id_status = out->id_status;
    m->id_rewritten = out->id_rewritten;
    m->raw_len = n;
}

/* Maps every field of the definition into out (its position already set) and hashes the
 * canonical values.  piece: for split fields, the value to use instead of the whole cell
 * (NULL: no split). */
static ExtStatus
map_record(Extract *ex, const Record *rec, CanonRecord *out, const RecField *piece)
{
    /* the kind's fields only (a rep stos of all KIND_MAX_FIELDS was 2 % of mapping a record) */
    memset(out->v, 0, (size_t) ex->nkind * sizeof out->v[0]);
    out->hash = 0;
    out->id_status = IDNUM_OK;
    out->id_rewritten = false;
    uint64_t h = (uint64_t) ex->def->kind;
    for (int i = 0; i < ex->def->nfields; i++) {
        const CanonValue *v = &out->v[ex->def->fields[i].field];
        FieldMemo *m = ex->memo_of[i] >= 0 && ex->col[i] < rec->nfields ? &ex->memo[ex->memo_of[i]] : NULL;
        if (m == NULL || !memo_hit(ex, m, &rec->fields[ex->col[i]], out, ex->def->fields[i].field)) {
            const char *s = "";
            size_t n = 0;
            if (piece != NULL && ex->split[i]) {
                s = piece[i].p;
                n = piece[i].len;
            } else {
                ExtStatus es = field_text(ex, rec, i, out, &s, &n);
                if (es != EXT_OK)
                    return es;
            }
            ExtStatus es = map_field(ex, i, s, n, out);
            if (es != EXT_OK)
                return es;
            if (m != NULL)
                memo_keep(m, &rec->fields[ex->col[i]], v, out);
        }
        FieldType t = ex->spec->fields[ex->def->fields[i].field].type;
        h = (h ^ (uint64_t) ex->def->fields[i].field) * 0xFF51AFD7ED558CCDull;
        /* typed values are canonical in num; their text is still the source spelling
         * ("2023-01-05" or "20230105"), so only text, code and ID values hash their text */
        if (v->present) {
            h = mix64(h, (uint64_t) v->num);
            if (t == FT_TEXT || t == FT_ENUM || t == FT_IDNUM)
                h = hash_text(h, v->text, v->len);
        }
    }
    /* an optional ID that is missing: linkage needs at least a name */
    if (ex->id_field >= 0 && !out->v[ex->id_field].present) {
        out->id_status = IDNUM_EMPTY;
        if (ex->name_field < 0 || !out->v[ex->name_field].present)
            return reject(out, "missing ID number and no name to link the record by (field id_number)");
    }
    out->hash = h;
    return EXT_OK;
}

uint64_t
extract_record_key(const Extract *ex, const CanonRecord *r)
{
    uint64_t h = (uint64_t) ex->def->kind;
    for (int i = 0; i < ex->def->nfields; i++) {
        int f = ex->def->fields[i].field;
        const CanonValue *v = &r->v[f];
        FieldType t = ex->spec->fields[f].type;
        h = mix64(h, (uint64_t) f);
        if (v->present)
            h = (t == FT_TEXT || t == FT_ENUM || t == FT_IDNUM)
                    ? hash_bytes(mix64(h, (uint64_t) v->num), v->text, v->len)
                    : mix64(h, (uint64_t) v->num);
    }
    return h;
}

/* Length of the separator of split field i at s (n bytes left), 0 when none starts there. */
static size_t
separator_len(const Extract *ex, int i, const char *s, size_t n)
{
    const char *sep = ex->def->fields[i].xf[0].arg;
    for (size_t k = 0; sep[k];) {
        size_t l = utf8_char_len((const unsigned char *) sep + k, strlen(sep + k));
        if (l == 0)
            l = 1;
        if (l <= n && memcmp(s, sep + k, l) == 0)
            return l;
        k += l;
    }
    return 0;
}

/* A row whose split fields hold several values: one canonical record per value (the k-th
 * value of every split field together, the other fields shared), all with the row's position
 * and sub = 1, 2, ...  The row is one reject when any of them is. */
static ExtStatus
split_row(Extract *ex, const Record *rec, CanonRecord *out)
{
    int want = -1, first = -1;
    for (int i = 0; i < ex->def->nfields; i++) {
        if (!ex->split[i])
            continue;
        const char *s = "";
        size_t n = 0;
        ExtStatus es = field_text(ex, rec, i, out, &s, &n);
        if (es != EXT_OK)
            return es;
        int np = 0;
        for (size_t at = 0; at <= n;) {
            size_t end = at, sl = 0;
            while (end < n && (sl = separator_len(ex, i, s + end, n - end)) == 0)
                end++;
            const char *p = s + at;
            size_t len = end - at;
            trim(&p, &len);
            if (len > 0) {
                if (np == EXTRACT_MAX_MEMBERS)
                    return reject(out, "more than %d values in %s (field %s)", EXTRACT_MAX_MEMBERS,
                                  ex->col_name[i], ex->spec->fields[ex->def->fields[i].field].name);
                ex->pieces[np][i].p = p;
                ex->pieces[np][i].len = (uint32_t) len;
                np++;
            }
            at = end + (end < n ? sl : 1);
        }
        if (np == 0) {   /* an empty cell: one record with the field empty */
            ex->pieces[0][i].p = "";
            ex->pieces[0][i].len = 0;
            np = 1;
        }
        if (want >= 0 && np != want)
            return reject(out, "%s has %d value%s but %s has %d: split fields must list their values in pairs",
                          ex->col_name[first], want, want == 1 ? "" : "s", ex->col_name[i], np);
        if (want < 0) {
            want = np;
            first = i;
        }
    }
    if (want <= 1) {
        out->sub = out->nsub = 0;
        return map_record(ex, rec, out, ex->pieces[0]);
    }
    if (ex->members == NULL)
        ex->members = xmalloc(EXTRACT_MAX_MEMBERS * sizeof *ex->members);
    for (int k = 0; k < want; k++) {
        CanonRecord *m = &ex->members[k];
        m->record_no = out->record_no;
        m->line_no = out->line_no;
        m->byte_offset = out->byte_offset;
        m->raw = out->raw;
        m->raw_len = out->raw_len;
        m->reason[0] = '\0';
        m->sub = (uint16_t) (k + 1);
        m->nsub = (uint16_t) want;
        ExtStatus es = map_record(ex, rec, m, ex->pieces[k]);
        if (es == EXT_OK && m->id_status != IDNUM_OK) {
            const CanonValue *v = &m->v[ex->id_field];
            es = v->present ? reject(m, "ID number \"%.*s\" in %s fails its check: ID numbers that share a cell are not repaired (correct it, or send the person on a row of their own)",
                                     clip(v->text, v->len, 40), v->text, ex->col_name[ex->id_col_def])
                            : reject(m, "missing ID number in %s (field id_number)",
                                     ex->id_col_def >= 0 ? ex->col_name[ex->id_col_def] : "the record");
        }
        if (es != EXT_OK)
            return reject(out, "value %d of %d: %s", k + 1, want, m->reason);
    }
    *out = ex->members[0];
    ex->member_next = 1;
    ex->member_count = want;
    return EXT_OK;
}

ExtStatus
extract_next(Extract *ex, CanonRecord *out, CbError *err)
{
    if (ex->member_next < ex->member_count) {   /* the next value of a split row */
        *out = ex->members[ex->member_next++];
        return EXT_OK;
    }
    ex->member_next = ex->member_count = 0;
    Record rec;
    arena_reset(&ex->scratch);
    ex->texts_at = ex->texts;
    ReadStatus st = reader_next(ex->reader, &rec, err);
    if (st == READ_ERROR)
        return EXT_ERROR;
    if (st == READ_EOF)
        return EXT_EOF;
    bool positional = ex->def->format == RF_CSV || ex->def->format == RF_XLSX;
    out->record_no = rec.record_no + (positional && !ex->def->header ? 1 : 0);
    out->line_no = rec.line_no;
    out->byte_offset = rec.byte_offset;
    out->raw = rec.raw;
    out->raw_len = rec.raw_len;
    out->reason[0] = '\0';
    out->hash = 0;
    out->id_status = IDNUM_OK;
    out->id_rewritten = false;
    out->sub = out->nsub = 0;
    if (st == READ_BAD) {
        memset(out->v, 0, sizeof out->v);
        return reject(out, "%s", rec.reason);
    }
    if (ex->ncols > 0 && rec.nfields != ex->ncols) {
        memset(out->v, 0, sizeof out->v);
        return reject(out, "expected %d fields as in the header, found %d", ex->ncols, rec.nfields);
    }
    if (ex->nsplit > 0)
        return split_row(ex, &rec, out);
    return map_record(ex, &rec, out, NULL);
}
