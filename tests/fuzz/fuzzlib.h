/*
 * fuzzlib — what the canbao fuzz targets share (header-only, tests/fuzz/ only).
 *
 * A reader target drains a Reader and checks the contract of connectors/reader.h on every
 * record: statuses, field counts, field bytes readable (ASan checks each byte), raw text capped,
 * reasons NUL-terminated, record numbers increasing, and after READ_EOF the whole input hashed
 * and counted.  A broken contract is reported with FUZZ_CHECK, which prints what broke and
 * aborts, so that libFuzzer saves the input as a crash.
 *
 * Reader targets take their options from the first line of the input (the "spec line"):
 * space-separated key=value tokens, unknown ones ignored, so that any mutation still gives a
 * spec; the rest of the input is the file.  See tests/fuzz/README.md for the keys.
 *
 * libxml2 must never print: fuzz_quiet_libxml2() points libxml2's global error handlers at a
 * function that aborts, so that a message the readers fail to capture is a finding with a stack.
 */
#ifndef CANBAO_FUZZLIB_H
#define CANBAO_FUZZLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "cberror.h"
#include "reader.h"

#define FUZZ_CHECK(cond, ...)                                                                \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz: contract broken at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* Reads every byte of p[0..n) so that ASan sees an out-of-bounds or freed field; the sum is
 * kept in a volatile so the reads are not optimised away. */
static volatile unsigned fuzz_sink;

static inline void
fuzz_touch(const void *p, size_t n)
{
    const unsigned char *s = p;
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += s[i];
    fuzz_sink += acc;
}

/* A NUL within buf[0..cap): strings the API promises to terminate. */
static inline void
fuzz_check_cstr(const char *buf, size_t cap, const char *what)
{
    FUZZ_CHECK(memchr(buf, '\0', cap) != NULL, "%s is not NUL-terminated", what);
    fuzz_touch(buf, strlen(buf));
}

/* ------------------------------------------------------------ libxml2 must stay quiet */

#ifdef FUZZ_WITH_LIBXML2
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

static void fuzz_xml_generic(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fuzz_xml_generic(void *ctx, const char *fmt, ...)
{
    (void) ctx;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: libxml2 would have printed to stderr (generic handler): ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

#if LIBXML_VERSION >= 21200
static void fuzz_xml_structured(void *ctx, const xmlError *e)
#else
static void fuzz_xml_structured(void *ctx, xmlErrorPtr e)
#endif
{
    (void) ctx;
    fprintf(stderr, "fuzz: libxml2 would have printed to stderr (structured handler): %s",
            e && e->message ? e->message : "(no message)\n");
    abort();
}

static inline void
fuzz_quiet_libxml2(void)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, fuzz_xml_generic);
    xmlSetStructuredErrorFunc(NULL, fuzz_xml_structured);
}
#endif

/* ------------------------------------------------------------ the spec line */

/* Splits the input at its first '\n': *line / *line_len the spec line (no '\n'), *rest /
 * *rest_len what follows.  With no '\n' the whole input is the spec line and the file empty. */
static inline void
fuzz_split_line(const uint8_t *data, size_t size, const char **line, size_t *line_len,
                const uint8_t **rest, size_t *rest_len)
{
    const uint8_t *nl = memchr(data, '\n', size);
    *line = (const char *) data;
    *line_len = nl ? (size_t) (nl - data) : size;
    *rest = nl ? nl + 1 : data + size;
    *rest_len = size - (size_t) (*rest - data);
}

/* Spec tokens: at most FUZZ_MAX_TOKENS, each NUL-terminated in the Spec's own storage. */
#define FUZZ_MAX_TOKENS 64
#define FUZZ_SPEC_BYTES 4096

typedef struct FuzzSpec {
    char        buf[FUZZ_SPEC_BYTES];
    const char *key[FUZZ_MAX_TOKENS];
    const char *val[FUZZ_MAX_TOKENS];   /* "" for a token without '=' */
    int         n;
} FuzzSpec;

static inline void
fuzz_spec_parse(FuzzSpec *s, const char *line, size_t len)
{
    s->n = 0;
    if (len >= sizeof s->buf)
        len = sizeof s->buf - 1;
    memcpy(s->buf, line, len);
    s->buf[len] = '\0';
    char *p = s->buf;
    while (*p != '\0' && s->n < FUZZ_MAX_TOKENS) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        char *tok = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (*p == ' ')
            *p++ = '\0';
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            s->val[s->n] = eq + 1;
        } else {
            s->val[s->n] = "";
        }
        s->key[s->n++] = tok;
    }
}

/* The value of the first token named key, or NULL. */
static inline const char *
fuzz_spec_get(const FuzzSpec *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

static inline bool
fuzz_spec_has(const FuzzSpec *s, const char *key)
{
    return fuzz_spec_get(s, key) != NULL;
}

/* A small unsigned number (decimal, at most 9 digits), or dflt when absent or malformed. */
static inline unsigned long
fuzz_spec_num(const FuzzSpec *s, const char *key, unsigned long dflt)
{
    const char *v = fuzz_spec_get(s, key);
    if (v == NULL || *v == '\0')
        return dflt;
    unsigned long n = 0;
    for (int i = 0; v[i]; i++) {
        if (v[i] < '0' || v[i] > '9' || i >= 9)
            return dflt;
        n = n * 10 + (unsigned long) (v[i] - '0');
    }
    return n;
}

/* The options every text reader shares: enc=gbk|gb18030|utf-8 (the encodings a definition can
 * name; anything else is no transcoding, so that iconv's other converters are not what gets
 * fuzzed) and max=N (max_record_bytes). */
static inline void
fuzz_spec_common(const FuzzSpec *s, ReaderSpec *spec)
{
    const char *enc = fuzz_spec_get(s, "enc");
    spec->encoding = NULL;
    if (enc && strcmp(enc, "gbk") == 0)
        spec->encoding = "GBK";
    else if (enc && strcmp(enc, "gb18030") == 0)
        spec->encoding = "GB18030";
    else if (enc && strcmp(enc, "utf-8") == 0)
        spec->encoding = "UTF-8";
    spec->max_record_bytes = fuzz_spec_num(s, "max", 0);
}

/* An exact copy of data[0..len) in its own heap block, with no terminator: ASan catches a read
 * even one byte past len (or before the start).  Never NULL; free with free(). */
static inline void *
fuzz_dup(const void *data, size_t len)
{
    void *p = malloc(len ? len : 1);
    if (p == NULL)
        abort();
    if (len)
        memcpy(p, data, len);
    return p;
}

/* A copy of data[0..len) in its own heap block (so ASan catches reads past len) with a NUL
 * after it (for APIs that want one).  Free with free(). */
static inline char *
fuzz_copy(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* ------------------------------------------------------------ draining a reader */

typedef struct FuzzDrain {
    bool     named;        /* named formats: an absent field has p == NULL */
    bool     eof;          /* READ_EOF was reached */
    uint64_t records;
} FuzzDrain;

static inline void
fuzz_check_record(const Record *rec, ReadStatus st, bool named)
{
    FUZZ_CHECK(rec->nfields >= 0 && rec->nfields <= READER_MAX_FIELDS, "nfields %d", rec->nfields);
    FUZZ_CHECK(rec->nfields == 0 || rec->fields != NULL, "%d fields but no array", rec->nfields);
    for (int i = 0; i < rec->nfields; i++) {
        const RecField *f = &rec->fields[i];
        if (f->p == NULL)
            FUZZ_CHECK(f->len == 0, "absent field %d has length %u", i, f->len);
        else
            fuzz_touch(f->p, f->len);
        (void) named;
    }
    FUZZ_CHECK(rec->raw_len <= READER_RAW_MAX, "raw_len %zu", rec->raw_len);
    FUZZ_CHECK(rec->raw_len == 0 || rec->raw != NULL, "raw_len %zu but no raw", rec->raw_len);
    if (rec->raw_len)
        fuzz_touch(rec->raw, rec->raw_len);
    fuzz_check_cstr(rec->reason, sizeof rec->reason, "Record.reason");
    if (st == READ_BAD)
        FUZZ_CHECK(rec->reason[0] != '\0', "READ_BAD without a reason");
}

/* FUZZ_SHOW=1 in the environment: print what each input did (records, rejects, the error), to
 * see whether a seed reaches what it was written for.  Off by default: targets stay silent. */
static inline bool
fuzz_show(void)
{
    static int show = -1;
    if (show < 0)
        show = getenv("FUZZ_SHOW") != NULL;
    return show;
}

/* Reads r to its end, checking every record; `input` is the whole file given to the reader,
 * whose SHA-256 and size the reader must report after READ_EOF. */
static inline FuzzDrain
fuzz_drain(Reader *r, const void *input, size_t input_len, bool named)
{
    FuzzDrain d = {.named = named};
    Record rec;
    CbError err;
    bool have_prev = false;
    uint64_t prev_no = 0;
    for (;;) {
        memset(&err, 0, sizeof err);
        ReadStatus st = reader_next(r, &rec, &err);
        FUZZ_CHECK(st == READ_OK || st == READ_BAD || st == READ_EOF || st == READ_ERROR,
                   "status %d", (int) st);
        if (st == READ_EOF) {
            d.eof = true;
            break;
        }
        if (st == READ_ERROR) {
            fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
            fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
            fuzz_check_cstr(err.detail, sizeof err.detail, "CbError.detail");
            fuzz_check_cstr(err.hint, sizeof err.hint, "CbError.hint");
            FUZZ_CHECK(err.message[0] != '\0', "READ_ERROR without a message");
            if (fuzz_show())
                fprintf(stderr, "  READ_ERROR: %s: %s\n", err.input_at, err.message);
            break;
        }
        fuzz_check_record(&rec, st, named);
        if (fuzz_show()) {
            fprintf(stderr, "  record %llu line %llu: %s", (unsigned long long) rec.record_no,
                    (unsigned long long) rec.line_no, st == READ_OK ? "ok" : "bad: ");
            if (st == READ_BAD)
                fprintf(stderr, "%s", rec.reason);
            for (int i = 0; i < rec.nfields && i < 8; i++)
                fprintf(stderr, " [%.*s]", rec.fields[i].p ? (int) (rec.fields[i].len > 40 ? 40 : rec.fields[i].len) : 1,
                        rec.fields[i].p ? rec.fields[i].p : "-");
            fputc('\n', stderr);
        }
        if (have_prev)
            FUZZ_CHECK(rec.record_no > prev_no, "record_no %llu after %llu",
                       (unsigned long long) rec.record_no, (unsigned long long) prev_no);
        have_prev = true;
        prev_no = rec.record_no;
        d.records++;
    }
    (void) reader_bytes_in(r);
    (void) reader_invalid_bytes(r);
    if (d.eof) {
        char hex[65];
        FUZZ_CHECK(reader_sha256(r, hex), "reader_sha256 failed after READ_EOF");
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(input, input_len, md);
        char want[65];
        for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
            snprintf(want + 2 * i, 3, "%02x", md[i]);
        FUZZ_CHECK(strcmp(hex, want) == 0, "SHA-256 after READ_EOF is %s, the input's is %s", hex, want);
        FUZZ_CHECK(reader_file_bytes(r) == input_len, "file bytes %llu after READ_EOF, input %zu",
                   (unsigned long long) reader_file_bytes(r), input_len);
    }
    return d;
}

/* Opens the input with spec and drains it; a failed open must say why. */
static inline void
fuzz_read_all(const ReaderSpec *spec, const void *data, size_t len, bool named)
{
    CbError err;
    memset(&err, 0, sizeof err);
    void *copy = fuzz_dup(data, len);
    Reader *r = reader_open_mem(spec, "fuzz.input", copy, len, &err);
    if (r == NULL) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        FUZZ_CHECK(err.message[0] != '\0', "reader_open_mem failed without a message");
        if (fuzz_show())
            fprintf(stderr, "  open failed: %s: %s\n", err.input_at, err.message);
        free(copy);
        return;
    }
    fuzz_drain(r, copy, len, named);
    reader_close(r);
    free(copy);
}

#endif
