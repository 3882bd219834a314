/*
 * JSON Lines reader: one JSON object per line, fields picked by key.
 *
 * No JSON library is among the project's dependencies (libpq, libxml2, zlib, OpenSSL,
 * libxlsxwriter), and a general one would build a tree per line only for us to pick a few
 * values from it; so this is a small hand-written scanner that validates each line strictly
 * (RFC 8259) and captures the wanted values in one pass, pointing into the line where it can.
 *
 * A field name is a key ("name") or a path of keys through nested objects ("addr/city").  A
 * string value comes back unescaped (\uXXXX and surrogate pairs as UTF-8), a number as its
 * text, true / false as "true" / "false", an object or array as its JSON text; null or a
 * missing key is an absent field (p == NULL).  A line that is not exactly one valid JSON object,
 * nests deeper than 64, has a key twice in one object, holds \u0000 or is longer than
 * max_record_bytes is READ_BAD with a reason that names the byte column, and reading goes on
 * with the next line; an over-long line is skipped without being held in memory.  Blank lines
 * (spaces, tabs) are skipped, CRLF is fine, a UTF-8 BOM at the start is skipped.  Bytes that are
 * not valid UTF-8 pass through (the layer above rejects the record).
 */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "arena.h"
#include "lines.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_PARTS JSON_MAX_DEPTH

typedef struct JsonName {
    const char *parts[JSON_MAX_PARTS];   /* keys, pointing into text */
    uint32_t    plen[JSON_MAX_PARTS];
    int         nparts;
    char       *text;
} JsonName;

/* One key of the current record, for the duplicate check: keys are unique per object. */
typedef struct KeySlot {
    uint32_t    gen;                     /* slot in use when gen == the record's */
    uint32_t    obj;                     /* object number within the record */
    uint64_t    hash;
    const char *p;
    uint32_t    len;
} KeySlot;

/*
 * The keys of the line's object as the last good line had them, in order: the lines of a JSON
 * Lines file mostly repeat one shape.  As long as a line's keys so far are the shape's first
 * keys, they are known to be unique (the shape's were checked) and which name each completes,
 * so neither is looked up again; at the first key that differs, the keys so far go into the
 * duplicate check and the line goes on the ordinary way, becoming the shape if it is good.
 * A shape longer than SHAPE_KEYS keys or SHAPE_BYTES bytes of keys is not kept.
 */
#define SHAPE_KEYS  32
#define SHAPE_BYTES 1024
#define SHAPE_NONE  (-1)                 /* the key completes no name */
#define SHAPE_LOOK  (-2)                 /* several names, or a path through it: looked up */

typedef struct Shape {
    int      n;                          /* keys of the shape; 0: none */
    uint16_t off[SHAPE_KEYS], len[SHAPE_KEYS];
    int16_t  target[SHAPE_KEYS];         /* the name the key completes, or SHAPE_NONE / _LOOK */
    bool     plain[SHAPE_KEYS];          /* the key has no byte that str_stop stops at */
    char     text[SHAPE_BYTES + 16];     /* + 16: key_is reads sixteen bytes at a time */
} Shape;

typedef struct JsonlReader {
    Reader         base;
    size_t         max_record_bytes;
    LineSource     lines;
    uint64_t       record_no;
    char          *out;                  /* unescaped strings of the current record */
    size_t         out_cap;
    JsonName      *names;
    int            nnames;
    int           *cand;                 /* names still possible, per depth: JSON_MAX_DEPTH x n */
    int           *targets;              /* names a key completes, per depth: the same */
    RecField      *fields;
    KeySlot       *keys;
    size_t         keys_cap, keys_used;
    uint32_t       gen;
    Shape          shape;                /* of the line's object (depth 1) */
} JsonlReader;

static ReadStatus jsonl_next(Reader *base, Record *rec, CbError *err);

static void
jsonl_close(Reader *base)
{
    JsonlReader *r = (JsonlReader *) base;
    for (int i = 0; i < r->nnames && r->names; i++)
        free(r->names[i].text);
    free(r->names);
    free(r->cand);
    free(r->targets);
    free(r->fields);
    free(r->keys);
    free(r->out);
    lines_free(&r->lines);
}

static const ReaderOps jsonl_ops = {"jsonl", jsonl_next, jsonl_close};

Reader *
jsonl_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    JsonlReader *r = xcalloc(1, sizeof *r);
    if (!reader_base_open(&r->base, spec, path, mem, len, err))
        goto fail;
    r->base.ops = &jsonl_ops;
    if (spec->nnames < 0 || spec->nnames > READER_MAX_FIELDS) {
        CB_FAIL(err, CBERR_INPUT, "%d fields asked for, at most %d", spec->nnames, READER_MAX_FIELDS);
        cb_error_at(err, "%s", r->base.name);
        goto fail;
    }
    r->max_record_bytes = spec->max_record_bytes ? spec->max_record_bytes : 1 << 20;
    r->nnames = spec->nnames;
    size_t nn = (size_t) (r->nnames ? r->nnames : 1);
    r->names = xcalloc(nn, sizeof *r->names);
    r->fields = xcalloc(nn, sizeof *r->fields);
    r->cand = xmalloc(JSON_MAX_DEPTH * nn * sizeof *r->cand);
    r->targets = xmalloc(JSON_MAX_DEPTH * nn * sizeof *r->targets);
    for (int i = 0; i < r->nnames; i++) {
        JsonName *n = &r->names[i];
        const char *s = spec->names[i];
        bool ok = s != NULL && *s != '\0';
        if (ok) {
            n->text = xstrdup(s);
            for (char *p = n->text;;) {
                char *slash = strchr(p, '/');
                if (slash == p || n->nparts == JSON_MAX_PARTS || (slash && slash[1] == '\0')) {
                    ok = false;
                    break;
                }
                n->parts[n->nparts] = p;
                n->plen[n->nparts++] = (uint32_t) (slash ? (size_t) (slash - p) : strlen(p));
                if (slash == NULL)
                    break;
                p = slash + 1;
            }
        }
        if (!ok) {
            CB_FAIL(err, CBERR_INPUT, "bad JSON field name \"%s\"", s ? s : "");
            cb_error_at(err, "%s", r->base.name);
            cb_error_hint(err, "a key, or keys through nested objects joined by '/' (addr/city)");
            goto fail;
        }
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



/* ------------------------------------------------------------ the scanner */

typedef struct Scan {
    JsonlReader         *r;
    const unsigned char *s, *p, *end;    /* the line, the cursor, the line's end */
    char                *out;            /* next free byte of r->out */
    uint32_t             nobj;           /* objects opened so far in this record */
    char                 why[200];
    size_t               why_at;         /* byte offset of the problem in the line */
} Scan;

static bool
bad(Scan *sc, const unsigned char *at, const char *why)
{
    if (sc->why[0] == '\0') {
        snprintf(sc->why, sizeof sc->why, "%s", why);
        sc->why_at = (size_t) (at - sc->s);
    }
    return false;
}

static inline void
skip_ws(Scan *sc)
{
    if (sc->p < sc->end && *sc->p > ' ')   /* the usual case: no white space */
        return;
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\r' || *sc->p == '\n'))
        sc->p++;
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool
hex4(Scan *sc, const unsigned char *q, unsigned *cp)
{
    if (sc->end - q < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(q[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned) h;
    }
    *cp = v;
    return true;
}

static char *
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char) cp;
    } else if (cp < 0x800) {
        *o++ = (char) (0xC0 | cp >> 6);
        *o++ = (char) (0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char) (0xE0 | cp >> 12);
        *o++ = (char) (0x80 | (cp >> 6 & 0x3F));
        *o++ = (char) (0x80 | (cp & 0x3F));
    } else {
        *o++ = (char) (0xF0 | cp >> 18);
        *o++ = (char) (0x80 | (cp >> 12 & 0x3F));
        *o++ = (char) (0x80 | (cp >> 6 & 0x3F));
        *o++ = (char) (0x80 | (cp & 0x3F));
    }
    return o;
}

/* Bytes that end the fast run in a string: '"', '\\' and control characters. */
static inline bool
str_stop(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The first byte from q on that ends the fast run of a string (str_stop), or end.  Sixteen
 * bytes at a time with SSE2 (every x86-64 has it): a byte that is '"' or '\\', or that is
 * its own maximum with 0x1F (below 0x20), sets its bit in the mask.  Then eight at a time: a
 * byte that is '"' or '\\' or below 0x20 sets its high bit in the mask (the lowest such bit
 * is exact; borrows only disturb the bits above it). */
static inline const unsigned char *
str_run_end(const unsigned char *q, const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i quote16 = _mm_set1_epi8('"'), bs16 = _mm_set1_epi8('\\'), ctl16 = _mm_set1_epi8(0x1F);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *) (const void *) q);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote16), _mm_cmpeq_epi8(v, bs16)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(v, ctl16), ctl16));
        unsigned bits = (unsigned) _mm_movemask_epi8(m);
        if (bits != 0)
            return q + __builtin_ctz(bits);
        q += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - q >= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t quote = w ^ (ones * '"'), bs = w ^ (ones * '\\');
        uint64_t m = ((quote - ones) & ~quote) | ((bs - ones) & ~bs) | ((w - ones * 0x20) & ~w);
        m &= highs;
        if (m != 0)
            return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
#endif
    while (q < end && !str_stop(*q))
        q++;
    return q;
}

/* The rest of a string whose fast run (str_run_end) ended at q, not on its closing quote:
 * escapes, or a byte that is not allowed, or the end of the line. */
static bool
scan_string_rest(Scan *sc, const unsigned char *open, const unsigned char *q, const char **val,
                 size_t *len)
{
    /* escapes: copy what came before, then decode */
    char *o = sc->out, *start = o;
    memcpy(o, sc->p, (size_t) (q - sc->p));
    o += q - sc->p;
    for (;;) {
        if (q >= sc->end)
            return bad(sc, open, "unterminated string");
        unsigned char c = *q;
        if (c == '"')
            break;
        if (c < 0x20)
            return bad(sc, q, c == 0 ? "NUL byte in a string" : "control character in a string (escape it)");
        if (c != '\\') {
            *o++ = (char) c;
            q++;
            continue;
        }
        if (q + 1 >= sc->end)
            return bad(sc, open, "unterminated string");
        unsigned char e = q[1];
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (!hex4(sc, q + 2, &cp))
                return bad(sc, q, "bad \\u escape: four hex digits expected");
            q += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (sc->end - q < 6 || q[0] != '\\' || q[1] != 'u' || !hex4(sc, q + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return bad(sc, q - 6, "lone high surrogate in a \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return bad(sc, q - 6, "lone low surrogate in a \\u escape");
            } else if (cp == 0) {
                return bad(sc, q - 6, "\\u0000 (NUL) in a string");
            }
            o = put_utf8(o, cp);
            continue;
        }
        default:
            return bad(sc, q, "bad escape in a string");
        }
        q += 2;
    }
    *val = start;
    *len = (size_t) (o - start);
    sc->out = o;
    sc->p = q + 1;
    return true;
}

/* True when the line at q holds the n bytes of key (a shape's, readable sixteen bytes on)
 * followed by a closing quote. */
static inline bool
key_is(const unsigned char *q, const unsigned char *end, const char *key, size_t n)
{
    if ((size_t) (end - q) < n + 1 || q[n] != '"')
        return false;
#ifdef __SSE2__
    if (n <= 16 && end - q >= 16) {
        __m128i a = _mm_loadu_si128((const __m128i *) (const void *) q);
        __m128i b = _mm_loadu_si128((const __m128i *) (const void *) key);
        unsigned eq = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)), want = (1u << n) - 1;
        return (eq & want) == want;
    }
#endif
    return memcmp(q, key, n) == 0;
}

/* A string at sc->p (on its opening quote).  Its value: in place when it has no escapes,
 * otherwise unescaped into sc->out (never longer than the escaped text). */
static inline bool
scan_string(Scan *sc, const char **val, size_t *len)
{
    const unsigned char *open = sc->p++;
    const unsigned char *q = str_run_end(sc->p, sc->end);
    if (q < sc->end && *q == '"') {
        *val = (const char *) sc->p;
        *len = (size_t) (q - sc->p);
        sc->p = q + 1;
        return true;
    }
    return scan_string_rest(sc, open, q, val, len);
}

static bool
scan_number(Scan *sc)
{
    const unsigned char *q = sc->p, *e = sc->end;
    if (q < e && *q == '-')
        q++;
    if (q < e && *q == '0') {
        q++;
    } else if (q < e && *q >= '1' && *q <= '9') {
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    } else {
        return bad(sc, sc->p, "bad number");
    }
    if (q < e && *q == '.') {
        q++;
        if (q >= e || *q < '0' || *q > '9')
            return bad(sc, sc->p, "bad number: digits expected after '.'");
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-'))
            q++;
        if (q >= e || *q < '0' || *q > '9')
            return bad(sc, sc->p, "bad number: digits expected in the exponent");
        while (q < e && *q >= '0' && *q <= '9')
            q++;
    }
    sc->p = q;
    return true;
}

/* A key's hash from its length and its first and last 8 bytes (two loads, whatever its
 * length; for shorter keys the first and last 4 bytes, or three of them): keys that collide
 * are told apart by memcmp. */
static uint64_t
hash_key(uint32_t obj, const char *p, size_t n)
{
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {   /* fixed-size loads: a memcpy of n bytes is a call */
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = x | (uint64_t) y << 32;
    } else if (n > 0) {
        a = (uint64_t) (unsigned char) p[0] | (uint64_t) (unsigned char) p[n / 2] << 8 |
            (uint64_t) (unsigned char) p[n - 1] << 16;
    }
    uint64_t h = (a ^ (uint64_t) obj << 32 ^ n) * 0x9E3779B97F4A7C15ull;
    h = (h ^ b ^ h >> 29) * 0xBF58476D1CE4E5B9ull;
    return h ^ h >> 32;
}

/* Adds a key of object obj to the record's set; false if the object already has it. */
static bool
key_unique(JsonlReader *r, uint32_t obj, const char *p, size_t n)
{
    if ((r->keys_used + 1) * 2 > r->keys_cap) {
        size_t cap = r->keys_cap ? r->keys_cap * 2 : 256;
        KeySlot *keys = xcalloc(cap, sizeof *keys);
        for (size_t i = 0; i < r->keys_cap; i++) {
            KeySlot *k = &r->keys[i];
            if (k->gen != r->gen)
                continue;
            size_t j = (size_t) k->hash & (cap - 1);
            while (keys[j].gen == r->gen)
                j = (j + 1) & (cap - 1);
            keys[j] = *k;
        }
        free(r->keys);
        r->keys = keys;
        r->keys_cap = cap;
    }
    uint64_t h = hash_key(obj, p, n);
    size_t j = (size_t) h & (r->keys_cap - 1);
    for (; r->keys[j].gen == r->gen; j = (j + 1) & (r->keys_cap - 1)) {
        const KeySlot *k = &r->keys[j];
        if (k->hash == h && k->obj == obj && k->len == n && memcmp(k->p, p, n) == 0)
            return false;
    }
    r->keys[j] = (KeySlot) {r->gen, obj, h, p, (uint32_t) n};
    r->keys_used++;
    return true;
}

static bool scan_value(Scan *sc, int depth, const int *cand, int ncand, const int *targets, int ntargets);

/* What follows a member's value in an object: ',' (read, with the white space after it),
 * '}' (read), or anything else, which fails the line. */
enum { MEMBER_BAD, MEMBER_NEXT, MEMBER_LAST };

static inline int
member_end(Scan *sc)
{
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == ',') {
        sc->p++;
        skip_ws(sc);
        return MEMBER_NEXT;
    }
    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return MEMBER_LAST;
    }
    bad(sc, sc->p, sc->p >= sc->end ? "unterminated object" : "',' or '}' expected");
    return MEMBER_BAD;
}

/* The line's object while it follows the shape, key by key, for keys whose value is a string
 * or a number (the usual line): the same checks and captures as scan_object's loop, without
 * its general cases.  Returns the keys read; *closed when the object ended after them (its
 * '}' read).  At the first key it does not take it stops before the key, and scan_object goes
 * on from there; a value or separator that is wrong fails the line as scan_object would. */
static int
scan_on_shape(Scan *sc, bool *closed, bool *failed)
{
    JsonlReader *r = sc->r;
    const Shape *shape = &r->shape;
    *closed = *failed = false;
    int k = 0;
    for (; k < shape->n; k++) {
        const unsigned char *key_at = sc->p;
        size_t kl = shape->len[k];
        int target = shape->target[k];
        if (!shape->plain[k] || target == SHAPE_LOOK || key_at >= sc->end || *key_at != '"' ||
            !key_is(key_at + 1, sc->end, shape->text + shape->off[k], kl))
            break;
        sc->p = key_at + kl + 2;
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != ':') {
            sc->p = key_at;
            break;
        }
        sc->p++;
        skip_ws(sc);
        const unsigned char *start = sc->p;
        const char *val;
        size_t len;
        if (start < sc->end && *start == '"') {
            if (!scan_string(sc, &val, &len)) {
                *failed = true;
                return k;
            }
        } else if (start < sc->end && (*start == '-' || (*start >= '0' && *start <= '9'))) {
            if (!scan_number(sc)) {
                *failed = true;
                return k;
            }
            val = (const char *) start;
            len = (size_t) (sc->p - start);
        } else {
            sc->p = key_at;   /* an object, array, literal or nothing: the general way */
            break;
        }
        if (target >= 0) {
            r->fields[target].p = val;
            r->fields[target].len = (uint32_t) len;
        }
        int end = member_end(sc);
        if (end == MEMBER_NEXT)
            continue;
        *closed = end == MEMBER_LAST;
        *failed = end == MEMBER_BAD;
        return k + 1;
    }
    return k;
}

/* An object at sc->p (on '{') at nesting depth depth (1: the line's object).  cand: the names
 * whose first depth-1 keys led here. */
static bool
scan_object(Scan *sc, int depth, const int *cand, int ncand)
{
    JsonlReader *r = sc->r;
    if (depth > JSON_MAX_DEPTH)
        return bad(sc, sc->p, "nesting deeper than 64");
    uint32_t obj = sc->nobj++;
    int level = depth - 1;   /* index of this object's keys in a name's parts */
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return true;
    }
    int *targets = r->targets + (size_t) level * (size_t) r->nnames;
    /* the line's object follows the shape (Shape) while on_shape; nkeys: its keys so far;
     * keep: this object becomes the shape when it ends (it is not the shape, and fits) */
    Shape *shape = &r->shape;
    bool on_shape = depth == 1 && shape->n > 0, keep = depth == 1 && !on_shape;
    int nkeys = 0;
    size_t kept_bytes = 0;
    if (keep)
        shape->n = 0;
    if (on_shape) {
        bool closed, failed;
        nkeys = scan_on_shape(sc, &closed, &failed);
        if (failed)
            return false;
        if (closed)
            return true;
    }
    for (;;) {
        if (sc->p >= sc->end || *sc->p != '"')
            return bad(sc, sc->p, sc->p >= sc->end ? "unterminated object" : "a key (a string) expected");
        const unsigned char *key_at = sc->p;
        const char *key = NULL;
        size_t klen = 0;
        int k = nkeys++;
        /* known: the key is the shape's k-th (unique, and what it completes is known) */
        bool known = false;
        if (on_shape && k < shape->n && shape->plain[k]) {
            /* the shape's key between quotes reads as itself (it has nothing to unescape),
             * so the bytes are compared without scanning the string first */
            size_t kl = shape->len[k];
            const char *kt = shape->text + shape->off[k];
            if (key_is(key_at + 1, sc->end, kt, kl)) {
                key = kt;
                klen = kl;
                sc->p = key_at + kl + 2;
                known = true;
            }
        }
        if (!known) {
            if (!scan_string(sc, &key, &klen))
                return false;
            known = on_shape && k < shape->n && shape->len[k] == klen &&
                    memcmp(shape->text + shape->off[k], key, klen) == 0;
        }
        if (on_shape && !known) {
            /* off the shape: its first k keys are this object's so far, and the rest of
             * the object is read the ordinary way (the shape's text stays as it is up to
             * key k, where the set points into it, and is overwritten from there on) */
            for (int j = 0; j < k; j++)
                (void) key_unique(r, obj, shape->text + shape->off[j], shape->len[j]);
            on_shape = false;
            keep = true;
            kept_bytes = k > 0 ? (size_t) shape->off[k - 1] + shape->len[k - 1] : 0;
            shape->n = 0;
        }
        if (!known && !key_unique(r, obj, key, klen)) {
            char why[160];
            size_t show = klen < 60 ? klen : 60;
            while (show > 0 && show < klen && ((unsigned char) key[show] & 0xC0) == 0x80)
                show--;   /* UTF-8-safe cut */
            snprintf(why, sizeof why, "key \"%.*s%s\" appears twice", (int) show, key,
                     show < klen ? "..." : "");
            return bad(sc, key_at, why);
        }
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != ':')
            return bad(sc, sc->p, "':' expected after a key");
        sc->p++;
        skip_ws(sc);
        if (keep && (k >= SHAPE_KEYS || klen > SHAPE_BYTES - kept_bytes)) {
            keep = false;   /* too large a shape */
        } else if (keep) {
            memcpy(shape->text + kept_bytes, key, klen);
            shape->off[k] = (uint16_t) kept_bytes;
            shape->len[k] = (uint16_t) klen;
            shape->plain[k] = str_run_end((const unsigned char *) key, (const unsigned char *) key + klen) ==
                              (const unsigned char *) key + klen;
            kept_bytes += klen;
        }
        /* which names this key completes, and which it leads on to */
        int nt = 0, nc = 0;
        int *next = r->cand + (size_t) (depth < JSON_MAX_DEPTH ? depth : 0) * (size_t) r->nnames;
        if (known && shape->target[k] != SHAPE_LOOK) {
            if (shape->target[k] >= 0)
                targets[nt++] = shape->target[k];
        } else {
            for (int i = 0; i < ncand; i++) {
                const JsonName *nm = &r->names[cand[i]];
                if (nm->plen[level] != klen || memcmp(nm->parts[level], key, klen) != 0)
                    continue;
                if (nm->nparts == level + 1)
                    targets[nt++] = cand[i];
                else if (depth < JSON_MAX_DEPTH)
                    next[nc++] = cand[i];
            }
            if (keep)
                shape->target[k] = (int16_t) (nc > 0 || nt > 1 ? SHAPE_LOOK : nt == 1 ? targets[0] : SHAPE_NONE);
        }
        if (sc->p < sc->end && *sc->p == '"') {   /* a string, the usual value: here */
            const char *val;
            size_t len;
            if (!scan_string(sc, &val, &len))
                return false;
            for (int i = 0; i < nt; i++) {
                r->fields[targets[i]].p = val;
                r->fields[targets[i]].len = (uint32_t) len;
            }
        } else if (!scan_value(sc, depth, next, nc, targets, nt)) {
            return false;
        }
        int end = member_end(sc);
        if (end == MEMBER_NEXT)
            continue;
        if (end == MEMBER_BAD)
            return false;
        if (keep)   /* every key checked unique: the next lines' shape */
            shape->n = nkeys;
        return true;
    }
}

static bool
scan_array(Scan *sc, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return bad(sc, sc->p, "nesting deeper than 64");
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == ']') {
        sc->p++;
        return true;
    }
    for (;;) {
        if (!scan_value(sc, depth, NULL, 0, NULL, 0))
            return false;
        skip_ws(sc);
        if (sc->p < sc->end && *sc->p == ',') {
            sc->p++;
            skip_ws(sc);
            continue;
        }
        if (sc->p < sc->end && *sc->p == ']') {
            sc->p++;
            return true;
        }
        return bad(sc, sc->p, sc->p >= sc->end ? "unterminated array" : "',' or ']' expected");
    }
}

static bool
literal(Scan *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t) (sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
        return bad(sc, sc->p, "a value expected");
    sc->p += n;
    return true;
}

/* A value at sc->p inside a container at depth depth; its text goes to the targets' fields
 * (null: they stay absent). */
static bool
scan_value(Scan *sc, int depth, const int *cand, int ncand, const int *targets, int ntargets)
{
    const unsigned char *start = sc->p;
    const char *val = (const char *) start;
    size_t len = 0;
    bool is_null = false;
    if (sc->p >= sc->end)
        return bad(sc, sc->p, "a value expected");
    switch (*sc->p) {
    case '"':
        if (!scan_string(sc, &val, &len))
            return false;
        break;
    case '{':
        if (!scan_object(sc, depth + 1, cand, ncand))
            return false;
        len = (size_t) (sc->p - start);
        break;
    case '[':
        if (!scan_array(sc, depth + 1))
            return false;
        len = (size_t) (sc->p - start);
        break;
    case 't':
        if (!literal(sc, "true"))
            return false;
        len = 4;
        break;
    case 'f':
        if (!literal(sc, "false"))
            return false;
        len = 5;
        break;
    case 'n':
        if (!literal(sc, "null"))
            return false;
        is_null = true;
        break;
    default:
        if (*sc->p != '-' && (*sc->p < '0' || *sc->p > '9'))
            return bad(sc, sc->p, "a value expected");
        if (!scan_number(sc))
            return false;
        len = (size_t) (sc->p - start);
        break;
    }
    if (!is_null)
        for (int i = 0; i < ntargets; i++) {
            sc->r->fields[targets[i]].p = val;
            sc->r->fields[targets[i]].len = (uint32_t) len;
        }
    return true;
}

/* ------------------------------------------------------------ records */

static ReadStatus
jsonl_next(Reader *base, Record *rec, CbError *err)
{
    JsonlReader *r = (JsonlReader *) base;
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
    rec->nfields = r->nnames;
    for (int i = 0; i < r->nnames; i++) {
        r->fields[i].p = NULL;
        r->fields[i].len = 0;
    }
    if (too_long || n > r->max_record_bytes) {
        snprintf(rec->reason, sizeof rec->reason, "record longer than the limit of %zu bytes",
                 r->max_record_bytes);
        return READ_BAD;
    }

    if (r->out_cap < n + 1) {
        free(r->out);
        r->out_cap = n + 1 > 4096 ? n + 1 : 4096;
        r->out = xmalloc(r->out_cap);
    }
    if (++r->gen == 0) {   /* wrapped: forget every key */
        if (r->keys)
            memset(r->keys, 0, r->keys_cap * sizeof *r->keys);
        r->gen = 1;
    }
    r->keys_used = 0;
    Scan sc = {.r = r, .s = (const unsigned char *) line, .p = (const unsigned char *) line,
               .end = (const unsigned char *) line + n, .out = r->out};
    for (int i = 0; i < r->nnames; i++)
        r->cand[i] = i;
    bool ok;
    skip_ws(&sc);
    if (sc.p < sc.end && *sc.p == '{') {
        ok = scan_object(&sc, 1, r->cand, r->nnames);
        if (ok) {
            skip_ws(&sc);
            if (sc.p < sc.end)
                ok = bad(&sc, sc.p, "unexpected text after the object");
        }
    } else if (sc.p < sc.end && *sc.p == '[') {
        ok = bad(&sc, sc.p, "a line must hold one JSON object, not an array");
    } else {
        ok = bad(&sc, sc.p, "a line must hold one JSON object");
    }
    if (!ok) {
        for (int i = 0; i < r->nnames; i++) {
            r->fields[i].p = NULL;
            r->fields[i].len = 0;
        }
        snprintf(rec->reason, sizeof rec->reason, "invalid JSON at byte column %zu: %s",
                 sc.why_at + 1, sc.why);
        return READ_BAD;
    }
    return READ_OK;
}
