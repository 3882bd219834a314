/*
 * fuzz_xlsx_parts — the XLSX reader's XML side (connectors/xlsx.c): relationships, workbook,
 * sheet choice, styles and date formats, shared strings, cells and rows.
 *
 * Input: a spec line, then the parts of a workbook as text, each introduced by a line
 * "--- <part name>"; this target zips them itself with correct sizes and CRC-32, so that the
 * fuzzer's mutations reach the XML rather than fail the CRC check.  Spec keys: sheet=<name>
 * (the worksheet to read; default the first visible), store (method 0 instead of deflate),
 * gz (gzip the finished workbook), max=<max_record_bytes>.  Example:
 *     sheet=名单
 *     --- [Content_Types].xml
 *     <?xml ...?><Types ...>...</Types>
 *     --- xl/workbook.xml
 *     ...
 * libxml2's global error handlers abort: a message that would reach stderr is a finding.
 */
#define FUZZ_WITH_LIBXML2 1
#include "fuzzlib.h"

#include <zlib.h>

#define MAX_PARTS 32

typedef struct Buf {
    unsigned char *p;
    size_t         len, cap;
} Buf;

static void
put(Buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void
put16(Buf *b, unsigned v)
{
    unsigned char c[2] = {(unsigned char) v, (unsigned char) (v >> 8)};
    put(b, c, 2);
}

static void
put32(Buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char) v, (unsigned char) (v >> 8), (unsigned char) (v >> 16),
                          (unsigned char) (v >> 24)};
    put(b, c, 4);
}

/* Raw deflate (zip method 8) of p[0..n) into a new buffer. */
static unsigned char *
deflate_raw(const unsigned char *p, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&zs, (uLong) n) + 16;
    unsigned char *out = malloc(cap);
    if (out == NULL)
        abort();
    zs.next_in = (unsigned char *) p;
    zs.avail_in = (uInt) n;
    zs.next_out = out;
    zs.avail_out = (uInt) cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* gzip of p[0..n) into a new buffer. */
static unsigned char *
gzip_all(const unsigned char *p, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&zs, (uLong) n) + 64;
    unsigned char *out = malloc(cap);
    if (out == NULL)
        abort();
    zs.next_in = (unsigned char *) p;
    zs.avail_in = (uInt) n;
    zs.next_out = out;
    zs.avail_out = (uInt) cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

typedef struct Part {
    const char          *name;
    size_t               name_len;
    const unsigned char *data;
    size_t               len;
} Part;

/* Splits the body into parts at lines "--- <name>"; text before the first is ignored. */
static int
split_parts(const unsigned char *p, size_t n, Part *parts)
{
    int np = 0;
    size_t i = 0;
    /* find the first delimiter at the start of a line */
    for (;;) {
        if (i + 4 <= n && memcmp(p + i, "--- ", 4) == 0)
            break;
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        if (nl == NULL)
            return 0;
        i = (size_t) (nl - p) + 1;
    }
    while (i < n && np < MAX_PARTS) {
        /* p + i is at "--- " */
        size_t name_at = i + 4;
        const unsigned char *nl = memchr(p + name_at, '\n', n - name_at);
        size_t name_end = nl ? (size_t) (nl - p) : n;
        Part *pt = &parts[np++];
        pt->name = (const char *) p + name_at;
        pt->name_len = name_end - name_at;
        size_t body = nl ? name_end + 1 : n;
        /* the body runs to the next "\n--- " (that newline is the delimiter's) */
        size_t j = body, stop = n, next = n;
        while (j < n) {
            const unsigned char *q = memchr(p + j, '\n', n - j);
            if (q == NULL)
                break;
            size_t k = (size_t) (q - p);
            if (k + 5 <= n && memcmp(p + k + 1, "--- ", 4) == 0) {
                stop = k;
                next = k + 1;
                break;
            }
            j = k + 1;
        }
        pt->data = p + body;
        pt->len = stop > body ? stop - body : 0;
        i = next;
    }
    return np;
}

/* A zip archive of the parts: local headers and data, central directory, end record. */
static unsigned char *
zip_parts(const Part *parts, int np, bool store, size_t *out_len)
{
    Buf z = {0}, cd = {0};
    for (int i = 0; i < np; i++) {
        const Part *pt = &parts[i];
        uint32_t crc = (uint32_t) crc32(0L, pt->data, (uInt) pt->len);
        size_t clen = pt->len;
        unsigned char *comp = NULL;
        const unsigned char *payload = pt->data;
        if (!store) {
            comp = deflate_raw(pt->data, pt->len, &clen);
            payload = comp;
        }
        uint32_t off = (uint32_t) z.len;
        unsigned nl = (unsigned) (pt->name_len > 0xFFFF ? 0xFFFF : pt->name_len);
        put32(&z, 0x04034b50u);
        put16(&z, 20);
        put16(&z, 0);
        put16(&z, store ? 0 : 8);
        put16(&z, 0);
        put16(&z, 0x21);
        put32(&z, crc);
        put32(&z, (uint32_t) clen);
        put32(&z, (uint32_t) pt->len);
        put16(&z, nl);
        put16(&z, 0);
        put(&z, pt->name, nl);
        put(&z, payload, clen);

        put32(&cd, 0x02014b50u);
        put16(&cd, 20);
        put16(&cd, 20);
        put16(&cd, 0);
        put16(&cd, store ? 0 : 8);
        put16(&cd, 0);
        put16(&cd, 0x21);
        put32(&cd, crc);
        put32(&cd, (uint32_t) clen);
        put32(&cd, (uint32_t) pt->len);
        put16(&cd, nl);
        put16(&cd, 0);
        put16(&cd, 0);
        put16(&cd, 0);
        put16(&cd, 0);
        put32(&cd, 0);
        put32(&cd, off);
        put(&cd, pt->name, nl);
        free(comp);
    }
    uint32_t cd_off = (uint32_t) z.len;
    put(&z, cd.p, cd.len);
    put32(&z, 0x06054b50u);
    put16(&z, 0);
    put16(&z, 0);
    put16(&z, (unsigned) np);
    put16(&z, (unsigned) np);
    put32(&z, (uint32_t) cd.len);
    put32(&z, cd_off);
    put16(&z, 0);
    free(cd.p);
    *out_len = z.len;
    return z.p;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_quiet_libxml2();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line;
    size_t line_len, len;
    const uint8_t *body;
    fuzz_split_line(data, size, &line, &line_len, &body, &len);
    FuzzSpec s;
    fuzz_spec_parse(&s, line, line_len);

    Part parts[MAX_PARTS];
    int np = split_parts(body, len, parts);
    if (np == 0)
        return 0;
    size_t zip_len;
    unsigned char *zip = zip_parts(parts, np, fuzz_spec_has(&s, "store"), &zip_len);
    if (fuzz_spec_has(&s, "gz")) {
        size_t gz_len;
        unsigned char *gz = gzip_all(zip, zip_len, &gz_len);
        free(zip);
        zip = gz;
        zip_len = gz_len;
    }

    ReaderSpec spec = {.format = RF_XLSX};
    spec.max_record_bytes = fuzz_spec_num(&s, "max", 0);
    const char *sheet = fuzz_spec_get(&s, "sheet");
    spec.sheet = sheet && *sheet ? sheet : NULL;
    fuzz_read_all(&spec, zip, zip_len, false);
    free(zip);
    return 0;
}
