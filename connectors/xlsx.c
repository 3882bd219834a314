/*
 * XLSX reader: the rows of one worksheet of an Office Open XML workbook, a record per row.
 *
 * The file (gzip undone by the byte stream) is read whole into memory, at most 1 GiB.  The zip
 * container is parsed here from its central directory (ZIP64 included); every part read is
 * inflated by ISA-L's igzip as a stream (as the byte stream's gzip: under half of zlib's
 * instructions, the CRC-32 a thirtieth) and checked against the sizes and CRC-32 the directory
 * declares.
 * A part may inflate to at most 4 GiB and 1000 times its compressed size (else: zip bomb);
 * the worksheet is verified once in full when the reader opens, so that a corrupt or truncated
 * workbook fails before its first record rather than in the middle.
 *
 * Parts are read with libxml2's streaming reader, and the worksheet with its SAX2 push parser
 * (no tree), fed by the inflater, so that the worksheet's XML is never held whole in memory (no
 * DTD, no entity substitution, no network; a document type declaration is refused; libxml2's
 * messages go to this reader, not to stderr): _rels/.rels → the workbook part, its
 * relationships → the worksheet (by spec->sheet, or the first visible worksheet, or the first
 * worksheet when all are hidden), the shared strings and the styles.  Memory: the file, the
 * shared strings' text, the rows of one 4 KiB slice of the worksheet.  A cell's value comes
 * out as the text of what Excel shows the user, in UTF-8:
 *   shared / inline / formula strings   the text (rich text runs concatenated, phonetic runs
 *                                       left out, _xHHHH_ escapes decoded)
 *   numbers                             as written in the file ("13900000000", "1.5")
 *   numbers with a date style           "YYYY-MM-DD" (built-in formats 14-17, 27-31, 36, 50-54,
 *                                       57-58 and custom formats with y, m or d outside quotes
 *                                       and brackets); a date-and-time style (22, or y/m/d with
 *                                       h/s) adds " HH:MM:SS" unless at midnight; a time style
 *                                       (18-21, 32-35, 45-47, 55-56, h/s alone) gives
 *                                       "HH:MM:SS" below one day.  1900 date system with Lotus's
 *                                       fictitious 1900-02-29 (serial 60, and 0, are left as
 *                                       written; 61 is 1900-03-01), or 1904 (workbookPr
 *                                       date1904).  A serial that is no valid date stays as
 *                                       written, for the layer above to reject.
 *   ISO dates (t="d")                   as written, "T00:00:00" dropped
 *   booleans                            "TRUE" / "FALSE"
 *   errors (#N/A, #DIV/0!, ...)         the error text, and the record is READ_BAD
 * A record is a row with at least one value: its fields are the columns A.. up to its last
 * non-empty cell (gaps are empty fields), padded with empty fields up to the width of the first
 * record (the header row, record 0).  line_no is the sheet's row number; byte_offset is 0.
 */
#include "reader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlversion.h>
#include <libxml/parser.h>
#include <isa-l/igzip_lib.h>

#include "arena.h"
#include "bytestream.h"
#include "date.h"
#include "reader_int.h"

#define MAX_FILE    ((size_t) 1 << 30)      /* the whole xlsx file, gzip undone */
#define MAX_ENTRY   ((uint64_t) 4 << 30)    /* one part, inflated */
#define MAX_RATIO   1000                    /* inflated : compressed, per part */
#define MAX_SHARED  ((size_t) 1 << 30)      /* text of all shared strings */
#define MAX_COLUMN  16384                   /* Excel's last column, XFD */
#define XML_OPTS    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
                     XML_PARSE_NOCDATA | XML_PARSE_COMPACT)

#if LIBXML_VERSION >= 21200
typedef const xmlError *XmlErrorArg;
#else
typedef xmlErrorPtr XmlErrorArg;
#endif

/* How a cell style shows numbers. */
enum { FMT_PLAIN, FMT_DATE, FMT_DATETIME, FMT_TIME };

/* Cell types (the t attribute). */
enum { CT_NUMBER, CT_SHARED, CT_INLINE, CT_STRING, CT_BOOL, CT_ERROR, CT_ISODATE };

/* A file of the zip container, as its central directory describes it. */
typedef struct ZipEntry {
    const char *name;        /* in the directory, not NUL-terminated */
    size_t      name_len;
    uint16_t    method;
    uint16_t    flags;
    uint32_t    crc;
    uint64_t    csize, usize;
    uint64_t    local_off;   /* of its local header */
} ZipEntry;

/* An entry being inflated (or copied, when stored), with its size and CRC-32 checked. */
typedef struct EntryStream {
    const ZipEntry      *e;
    const unsigned char *in;        /* compressed bytes not yet handed to the inflater */
    uint64_t             in_left;
    uint64_t             data_off;  /* of the entry's data in the file */
    struct inflate_state *zs;       /* igzip's, while a deflated entry is open */
    bool                 done;
    uint64_t             out;
    uint32_t             crc;
    char                 why[512];  /* set when the entry is corrupt; reading then ends */
} EntryStream;

typedef struct Rel {
    const char *id, *type, *target;
} Rel;

typedef struct SheetInfo {
    const char *name, *rid;
    bool        hidden;
} SheetInfo;

typedef struct CustomFmt {
    unsigned long id;
    unsigned char kind;
} CustomFmt;

typedef struct XlsxReader {
    Reader           base;
    size_t           max_record_bytes;
    Arena            arena;            /* names and paths, for the file's lifetime */
    unsigned char   *zip;              /* the whole file */
    size_t           zip_len;
    ZipEntry        *entries;
    size_t           nentries;
    bool             date1904;
    char            *ss;               /* text of the shared strings, one after the other */
    size_t           ss_len, ss_cap;
    Vec              ss_off;           /* size_t: start of string i, and the end of the last */
    unsigned char   *xf_fmt;           /* FMT_* per cell style (cellXfs index) */
    size_t           nxf;
    const char      *sheet_name;
    const char      *sheet_part;
    EntryStream      sheet;
    xmlParserCtxtPtr px;               /* the worksheet's SAX2 push parser */
    unsigned char   *xbuf;             /* the worksheet's XML, a read at a time */
    size_t           xbuf_pos, xbuf_len;
    bool             in_row, sheet_end, doctype;
    char            *q;                /* rows parsed, not yet returned (QueuedRow after QueuedRow) */
    size_t           q_pos, q_len, q_cap;
    char             xml_err[300];     /* libxml2's first error in the part being read */
    bool             eof, failed;
    CbError          fail_err;

    /* the row being read */
    uint64_t         row_no;
    int              last_col;
    int              ncols;            /* last non-empty column + 1 */
    bool             too_many, too_long, bad;
    char             reason[256];
    /* the cell being read */
    bool             in_cell, in_text, in_is, has_value, cell_over;
    int              rph_depth;
    int              col;
    int              ctype;
    unsigned char    cfmt;
    char            *cell;
    size_t           cell_len, cell_cap;

    uint64_t         record_no;        /* records returned, the header included */
    int              header_width;
    char            *rec;              /* field bytes of the current record */
    size_t           rec_len, rec_cap;
    uint32_t         starts[READER_MAX_FIELDS];
    uint32_t         lens[READER_MAX_FIELDS];
    uint32_t         ostarts[READER_MAX_FIELDS];   /* the row being returned */
    uint32_t         olens[READER_MAX_FIELDS];
    RecField         fields[READER_MAX_FIELDS];
    char             raw[READER_RAW_MAX];
} XlsxReader;

static ReadStatus xlsx_next(Reader *base, Record *rec, CbError *err);
static void xlsx_close(Reader *base);
static bool sheet_open(XlsxReader *x, const ZipEntry *e, CbError *err);

static const ReaderOps xlsx_ops = {"xlsx", xlsx_next, xlsx_close};

/* ------------------------------------------------------------ small helpers */

static uint16_t
rd16(const unsigned char *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
rd32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
rd64(const unsigned char *p)
{
    return (uint64_t) rd32(p) | (uint64_t) rd32(p + 4) << 32;
}

/* Appends n bytes to a growing buffer; false (nothing appended) when it would exceed max. */
static bool
buf_put(char **buf, size_t *len, size_t *cap, const char *p, size_t n, size_t max)
{
    if (*len > max || n > max - *len)
        return false;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c = c > SIZE_MAX / 2 ? *len + n : c * 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    if (n > 0)
        memcpy(*buf + *len, p, n);
    *len += n;
    return true;
}

/* Parses an unsigned decimal of the whole string (surrounding blanks allowed); false if none. */
static bool
parse_uint(const char *s, size_t n, unsigned long long *out)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (i == n || n - i > 18)
        return false;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long long) (s[i] - '0');
    }
    *out = v;
    return true;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes OOXML's _xHHHH_ escapes (control characters and the like) in place; returns the new
 * length.  Surrogates and NUL stay escaped. */
static size_t
decode_escapes(char *s, size_t n)
{
    if (n < 7 || memchr(s, '_', n) == NULL)
        return n;
    size_t i = 0, o = 0;
    while (i < n) {
        if (s[i] == '_' && n - i >= 7 && s[i + 1] == 'x' && s[i + 6] == '_') {
            int h0 = hexval(s[i + 2]), h1 = hexval(s[i + 3]), h2 = hexval(s[i + 4]),
                h3 = hexval(s[i + 5]);
            if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0) {
                unsigned cp = (unsigned) (h0 << 12 | h1 << 8 | h2 << 4 | h3);
                if (cp != 0 && (cp < 0xD800 || cp > 0xDFFF)) {
                    if (cp < 0x80) {
                        s[o++] = (char) cp;
                    } else if (cp < 0x800) {
                        s[o++] = (char) (0xC0 | cp >> 6);
                        s[o++] = (char) (0x80 | (cp & 0x3F));
                    } else {
                        s[o++] = (char) (0xE0 | cp >> 12);
                        s[o++] = (char) (0x80 | ((cp >> 6) & 0x3F));
                        s[o++] = (char) (0x80 | (cp & 0x3F));
                    }
                    i += 7;
                    continue;
                }
            }
        }
        s[o++] = s[i++];
    }
    return o;
}

/* Column letters of a 0-based column, for messages. */
static void
col_name(int col, char out[8])
{
    char tmp[8];
    int n = 0;
    unsigned c = (unsigned) col + 1;
    while (c > 0 && n < 7) {
        tmp[n++] = (char) ('A' + (c - 1) % 26);
        c = (c - 1) / 26;
    }
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* ------------------------------------------------------------ libxml2 messages */

/* Collects libxml2's first error of the part being read. */
static void
xml_error_cb(void *ctx, XmlErrorArg e)
{
    XlsxReader *x = ctx;
    if (e == NULL || e->level < XML_ERR_ERROR || x->xml_err[0] != '\0')
        return;
    snprintf(x->xml_err, sizeof x->xml_err, "line %d: %s", e->line,
             e->message ? e->message : "malformed XML");
    size_t n = strlen(x->xml_err);
    while (n > 0 && (x->xml_err[n - 1] == '\n' || x->xml_err[n - 1] == ' '))
        x->xml_err[--n] = '\0';
}

static void
quiet_structured(void *ctx, XmlErrorArg e)
{
    (void) ctx;
    (void) e;
}

static void
quiet_generic(void *ctx, const char *msg, ...)
{
    (void) ctx;
    (void) msg;
}

/* libxml2 reports some errors (I/O, encoding conversion) through its per-thread handlers, which
 * print to stderr by default: silence them while this reader works, and restore them after. */
typedef struct XmlQuiet {
    xmlStructuredErrorFunc s;
    void                  *sctx;
    xmlGenericErrorFunc    g;
    void                  *gctx;
} XmlQuiet;

static void
quiet_on(XmlQuiet *q)
{
    q->s = xmlStructuredError;
    q->sctx = xmlStructuredErrorContext;
    q->g = xmlGenericError;
    q->gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(NULL, quiet_structured);
    xmlSetGenericErrorFunc(NULL, quiet_generic);
}

static void
quiet_off(const XmlQuiet *q)
{
    xmlSetStructuredErrorFunc(q->sctx, q->s);
    xmlSetGenericErrorFunc(q->gctx, q->g);
}

/* ------------------------------------------------------------ the zip container */

static bool
fail_input(XlsxReader *x, CbError *err, const char *msg, const char *detail, const char *hint)
{
    CB_FAIL(err, CBERR_INPUT, "%s", msg);
    cb_error_at(err, "%s", x->base.name);
    if (detail)
        cb_error_detail(err, "%s", detail);
    if (hint)
        cb_error_hint(err, "%s", hint);
    return false;
}

static const char hint_resend[] = "the delivery is probably incomplete or damaged; ask the agency to send it again";

/* The file is no zip archive: say what it looks like instead. */
static bool
fail_not_zip(XlsxReader *x, CbError *err)
{
    const unsigned char *z = x->zip;
    size_t n = x->zip_len;
    char detail[160];
    if (n == 0)
        return fail_input(x, err, "file is empty: not an xlsx workbook", NULL, hint_resend);
    if (n >= 8 && memcmp(z, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
        return fail_input(x, err, "not an xlsx workbook: the file is an OLE2 compound document",
                          "old-format .xls workbooks and password-protected .xlsx workbooks are "
                          "stored this way",
                          "ask the agency to save the workbook as .xlsx without a password");
    /* an excerpt when it looks like text (cut at a UTF-8 character boundary), else the bytes */
    size_t k = n < 40 ? n : 40;
    while (k > 0 && k < n && (z[k] & 0xC0) == 0x80)
        k--;
    bool text = true;
    char excerpt[48];
    for (size_t i = 0; i < k; i++) {
        if (z[i] < 0x20 && z[i] != '\t' && z[i] != '\r' && z[i] != '\n')
            text = false;
        excerpt[i] = z[i] < 0x20 ? ' ' : (char) z[i];
    }
    excerpt[k] = '\0';
    if (text)
        snprintf(detail, sizeof detail, "the file starts like text: \"%s\"", excerpt);
    else
        snprintf(detail, sizeof detail, "the file starts with the bytes %02x %02x %02x %02x",
                 z[0], n > 1 ? z[1] : 0, n > 2 ? z[2] : 0, n > 3 ? z[3] : 0);
    return fail_input(x, err, "not an xlsx workbook: the file is not a zip archive", detail,
                      "check that the agency delivered the right file");
}

static bool
fail_corrupt(XlsxReader *x, CbError *err, const char *what)
{
    char msg[400];
    snprintf(msg, sizeof msg, "corrupt xlsx workbook: %s", what);
    return fail_input(x, err, msg, NULL, hint_resend);
}

/* Reads the ZIP64 extended-information extra field of a central directory entry. */
static bool
zip64_extra(const unsigned char *p, size_t len, uint32_t c32, uint32_t u32, uint32_t o32,
            ZipEntry *e)
{
    while (len >= 4) {
        uint16_t id = rd16(p), sz = rd16(p + 2);
        if ((size_t) sz > len - 4)
            return false;
        if (id == 0x0001) {
            const unsigned char *q = p + 4;
            size_t left = sz;
            if (u32 == 0xFFFFFFFFu) {
                if (left < 8)
                    return false;
                e->usize = rd64(q), q += 8, left -= 8;
            }
            if (c32 == 0xFFFFFFFFu) {
                if (left < 8)
                    return false;
                e->csize = rd64(q), q += 8, left -= 8;
            }
            if (o32 == 0xFFFFFFFFu) {
                if (left < 8)
                    return false;
                e->local_off = rd64(q);
            }
            return true;
        }
        p += 4 + sz;
        len -= 4 + (size_t) sz;
    }
    /* no ZIP64 field: sizes of 0xFFFFFFFF are then taken as written */
    return true;
}

/* Finds the end of central directory record and reads the directory into x->entries. */
static bool
zip_open(XlsxReader *x, CbError *err)
{
    const unsigned char *z = x->zip;
    size_t n = x->zip_len;

    if (n < 4 || z[0] != 'P' || z[1] != 'K')
        return fail_not_zip(x, err);
    size_t eocd = SIZE_MAX;
    if (n >= 22) {
        size_t lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
        for (size_t i = n - 22 + 1; i-- > lo;) {
            if (z[i] == 'P' && rd32(z + i) == 0x06054b50u && i + 22 + rd16(z + i + 20) <= n) {
                eocd = i;
                break;
            }
        }
    }
    if (eocd == SIZE_MAX) {
        if (rd32(z) == 0x04034b50u)
            return fail_input(x, err,
                              "truncated xlsx workbook: the zip directory at the end of the file is missing",
                              NULL, hint_resend);
        return fail_not_zip(x, err);
    }
    const unsigned char *e = z + eocd;
    uint64_t count = rd16(e + 10), cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    uint32_t disk = rd16(e + 4), cd_disk = rd16(e + 6);
    if (eocd >= 20 && rd32(z + eocd - 20) == 0x07064b50u) {
        /* ZIP64: the locator points at the ZIP64 end record with the 64-bit values */
        uint64_t off = rd64(z + eocd - 20 + 8);
        if (off > n || n - off < 56 || rd32(z + off) != 0x06064b50u)
            return fail_corrupt(x, err, "the ZIP64 end record is missing or misplaced");
        const unsigned char *e64 = z + off;
        disk = rd32(e64 + 16);
        cd_disk = rd32(e64 + 20);
        count = rd64(e64 + 32);
        cd_size = rd64(e64 + 40);
        cd_off = rd64(e64 + 48);
    } else if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        return fail_corrupt(x, err, "a ZIP64 archive without its ZIP64 end record");
    }
    if (disk != 0 || cd_disk != 0)
        return fail_input(x, err, "xlsx workbook split over several zip volumes is not supported",
                          NULL, NULL);
    if (cd_off > n || cd_size > n - cd_off)
        return fail_input(x, err,
                          "truncated xlsx workbook: the zip directory lies beyond the end of the file",
                          NULL, hint_resend);
    if (count > cd_size / 46)
        return fail_corrupt(x, err, "the zip directory is shorter than its entry count says");

    x->entries = xcalloc(count ? (size_t) count : 1, sizeof *x->entries);
    const unsigned char *p = z + cd_off, *end = z + cd_off + cd_size;
    char msg[300];
    for (uint64_t i = 0; i < count; i++) {
        if (end - p < 46 || rd32(p) != 0x02014b50u)
            return fail_corrupt(x, err, "a zip directory entry is damaged");
        ZipEntry *ze = &x->entries[x->nentries];
        uint16_t nl = rd16(p + 28), el = rd16(p + 30), cl = rd16(p + 32);
        if ((size_t) (end - p) - 46 < (size_t) nl + el + cl)
            return fail_corrupt(x, err, "a zip directory entry is damaged");
        ze->flags = rd16(p + 8);
        ze->method = rd16(p + 10);
        ze->crc = rd32(p + 16);
        uint32_t c32 = rd32(p + 20), u32 = rd32(p + 24), o32 = rd32(p + 42);
        ze->csize = c32;
        ze->usize = u32;
        ze->local_off = o32;
        ze->name = (const char *) p + 46;
        ze->name_len = nl;
        if (!zip64_extra(p + 46 + nl, el, c32, u32, o32, ze))
            return fail_corrupt(x, err, "a zip directory entry has a damaged ZIP64 field");
        p += 46 + (size_t) nl + el + cl;
        x->nentries++;

        if (ze->flags & 1) {
            snprintf(msg, sizeof msg, "zip entry %.*s is encrypted", (int) (nl > 200 ? 200 : nl),
                     ze->name);
            return fail_input(x, err, msg, NULL,
                              "ask the agency to save the workbook without a password");
        }
        if (ze->usize > MAX_ENTRY || (ze->method != 0 && ze->usize > ze->csize * MAX_RATIO)) {
            snprintf(msg, sizeof msg,
                     "xlsx workbook rejected as a zip bomb: entry %.*s would inflate from %llu to "
                     "%llu bytes",
                     (int) (nl > 200 ? 200 : nl), ze->name, (unsigned long long) ze->csize,
                     (unsigned long long) ze->usize);
            char detail[160];
            snprintf(detail, sizeof detail,
                     "an entry may be at most %llu bytes and %d times its compressed size",
                     (unsigned long long) MAX_ENTRY, MAX_RATIO);
            return fail_input(x, err, msg, detail, NULL);
        }
    }
    return true;
}

/* The entry of a part name (zip names compared without regard to ASCII case), or NULL. */
static const ZipEntry *
zip_find(const XlsxReader *x, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < x->nentries; i++) {
        const ZipEntry *e = &x->entries[i];
        if (e->name_len == n && strncasecmp(e->name, name, n) == 0)
            return e;
    }
    return NULL;
}

static bool
stream_open(XlsxReader *x, EntryStream *s, const ZipEntry *e, CbError *err)
{
    char msg[300];
    int nl = (int) (e->name_len > 200 ? 200 : e->name_len);
    memset(s, 0, sizeof *s);
    s->e = e;
    if (e->method != 0 && e->method != 8) {
        snprintf(msg, sizeof msg, "zip entry %.*s uses compression method %u, which is not supported",
                 nl, e->name, (unsigned) e->method);
        return fail_input(x, err, msg, NULL, "xlsx workbooks use deflate (8) or no compression (0)");
    }
    if (e->method == 0 && e->csize != e->usize) {
        snprintf(msg, sizeof msg, "zip entry %.*s is stored but its two sizes differ", nl, e->name);
        return fail_corrupt(x, err, msg);
    }
    uint64_t lh = e->local_off;
    if (lh > x->zip_len || x->zip_len - lh < 30 || rd32(x->zip + lh) != 0x04034b50u) {
        snprintf(msg, sizeof msg, "the local header of zip entry %.*s is missing", nl, e->name);
        return fail_corrupt(x, err, msg);
    }
    uint64_t data = lh + 30 + rd16(x->zip + lh + 26) + rd16(x->zip + lh + 28);
    if (data > x->zip_len || e->csize > x->zip_len - data) {
        snprintf(msg, sizeof msg,
                 "truncated xlsx workbook: zip entry %.*s extends beyond the end of the file", nl,
                 e->name);
        return fail_input(x, err, msg, NULL, hint_resend);
    }
    s->in = x->zip + data;
    s->in_left = e->csize;
    s->data_off = data;
    s->crc = 0;
    if (e->method == 8) {
        s->zs = xmalloc(sizeof *s->zs);
        isal_inflate_init(s->zs);   /* raw deflate: the CRC-32 is counted below */
    }
    return true;
}

static void
stream_close(EntryStream *s)
{
    free(s->zs);
    s->zs = NULL;
}

static void
stream_fail(EntryStream *s, const char *what)
{
    int nl = (int) (s->e->name_len > 200 ? 200 : s->e->name_len);
    if (s->why[0] == '\0')
        snprintf(s->why, sizeof s->why, "corrupt xlsx workbook: zip entry %.*s %s", nl, s->e->name,
                 what);
    s->done = true;
}

/* Reads up to len inflated bytes; 0 at the end or after a failure (s->why then says why). */
static size_t
stream_read(EntryStream *s, unsigned char *buf, size_t len)
{
    if (s->done || len == 0)
        return 0;
    if (len > (1u << 30))
        len = 1u << 30;
    size_t got;
    bool end = false;
    if (s->e->method == 0) {
        got = s->in_left < len ? (size_t) s->in_left : len;
        memcpy(buf, s->in, got);
        s->in += got;
        s->in_left -= got;
        end = s->in_left == 0;
    } else {
        struct inflate_state *zs = s->zs;
        zs->next_out = buf;
        zs->avail_out = (uint32_t) len;
        while (zs->avail_out == (uint32_t) len) {
            if (zs->avail_in == 0 && s->in_left > 0) {
                uint32_t k = s->in_left > (1u << 30) ? (1u << 30) : (uint32_t) s->in_left;
                zs->next_in = (uint8_t *) s->in;
                zs->avail_in = k;
                s->in += k;
                s->in_left -= k;
            }
            uint32_t before = zs->avail_in;
            int rc = isal_inflate(zs);
            bytestream_clear_upper();
            if (rc != ISAL_DECOMP_OK) {
                char what[200];
                snprintf(what, sizeof what, "does not inflate: %s", bytestream_inflate_why(rc));
                stream_fail(s, what);
                return 0;
            }
            if (zs->block_state == ISAL_BLOCK_FINISH) {
                end = true;
                break;
            }
            if (zs->avail_out == (uint32_t) len && zs->avail_in == 0 && s->in_left == 0) {
                stream_fail(s, "ends before its compressed data does");
                return 0;
            }
            if (zs->avail_out == (uint32_t) len && zs->avail_in == before && before > 0) {
                stream_fail(s, "does not inflate: no progress");   /* never expected of igzip */
                return 0;
            }
        }
        got = len - zs->avail_out;
    }
    s->out += got;
    if (s->out > s->e->usize) {
        char what[160];
        snprintf(what, sizeof what,
                 "inflates beyond its declared size of %llu bytes (a zip bomb or a damaged file)",
                 (unsigned long long) s->e->usize);
        stream_fail(s, what);
        return 0;
    }
    s->crc = bytestream_crc32(s->crc, buf, got);
    if (end) {
        s->done = true;
        if (s->out != s->e->usize) {
            char what[160];
            snprintf(what, sizeof what, "inflates to %llu bytes, not the %llu its directory entry says",
                     (unsigned long long) s->out, (unsigned long long) s->e->usize);
            stream_fail(s, what);
            return 0;
        }
        if (s->crc != s->e->crc) {
            stream_fail(s, "fails its CRC-32 check");
            return 0;
        }
    }
    return got;
}

/* Inflates a whole entry, checking it, and discards the bytes. */
static bool
stream_verify(XlsxReader *x, const ZipEntry *e, CbError *err)
{
    EntryStream s;
    if (!stream_open(x, &s, e, err)) {
        stream_close(&s);
        return false;
    }
    unsigned char *buf = xmalloc(1 << 18);
    while (stream_read(&s, buf, 1 << 18) > 0)
        ;
    free(buf);
    stream_close(&s);
    if (s.why[0])
        return fail_input(x, err, s.why, NULL, hint_resend);
    return true;
}

/* ------------------------------------------------------------ XML parts */

static int
xml_io_read(void *ctx, char *buf, int len)
{
    /* a failure ends the input: libxml2 then reports the document as cut short, and the
     * caller reports the stream's own reason instead */
    return len > 0 ? (int) stream_read(ctx, (unsigned char *) buf, (size_t) len) : 0;
}

static int
xml_io_close(void *ctx)
{
    (void) ctx;
    return 0;
}

/* Opens a streaming XML reader on an entry; NULL and err on failure (s then closed). */
static xmlTextReaderPtr
part_open(XlsxReader *x, EntryStream *s, const ZipEntry *e, CbError *err)
{
    if (!stream_open(x, s, e, err)) {
        stream_close(s);
        return NULL;
    }
    x->xml_err[0] = '\0';
    xmlTextReaderPtr xr = xmlReaderForIO(xml_io_read, xml_io_close, s, NULL, NULL, XML_OPTS);
    if (xr == NULL) {
        stream_close(s);
        CB_FAIL(err, CBERR_INTERNAL, "could not create an XML reader");
        return NULL;
    }
    xmlTextReaderSetStructuredErrorHandler(xr, xml_error_cb, x);
    return xr;
}

/* Why reading a part failed: the zip entry's own error first, else libxml2's. */
static void
part_error(XlsxReader *x, const EntryStream *s, const char *part, CbError *err)
{
    if (s->why[0]) {
        fail_input(x, err, s->why, NULL, hint_resend);
        return;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "malformed XML in part %s of the xlsx workbook: %s", part,
             x->xml_err[0] ? x->xml_err : "the document is not well-formed");
    fail_input(x, err, msg, NULL, NULL);
}

/* Advances to the next node: 1, 0 at the end (the whole entry read and checked), -1 on error. */
static int
part_read(XlsxReader *x, xmlTextReaderPtr xr, EntryStream *s, const char *part, CbError *err)
{
    int rc = xmlTextReaderRead(xr);
    if (rc == 1 && xmlTextReaderNodeType(xr) == XML_READER_TYPE_DOCUMENT_TYPE) {
        char msg[300];
        snprintf(msg, sizeof msg, "part %s of the xlsx workbook has a document type declaration, "
                 "which is not allowed", part);
        fail_input(x, err, msg, NULL, NULL);
        return -1;
    }
    if (rc == 0) {
        /* the XML ended: the rest of the entry must still be intact */
        unsigned char tail[4096];
        while (stream_read(s, tail, sizeof tail) > 0)
            ;
    }
    if (rc < 0 || s->why[0]) {
        part_error(x, s, part, err);
        return -1;
    }
    return rc;
}

/* Moves to the next attribute of the current element; false (back on the element) after the
 * last.  *ns is true for a namespaced attribute (xmlns declarations included). */
static bool
attr_next(xmlTextReaderPtr xr, const char **local, const char **value, const char **ns)
{
    if (xmlTextReaderMoveToNextAttribute(xr) != 1) {
        xmlTextReaderMoveToElement(xr);
        return false;
    }
    *local = (const char *) xmlTextReaderConstLocalName(xr);
    *value = (const char *) xmlTextReaderConstValue(xr);
    *ns = (const char *) xmlTextReaderConstNamespaceUri(xr);
    if (*value == NULL)
        *value = "";
    return true;
}

/* A part name resolved from a relationship target: absolute ("/xl/x.xml") or relative to the
 * folder of the part that holds the relationship. */
static const char *
part_resolve(XlsxReader *x, const char *base_part, const char *target)
{
    char path[1024];
    size_t n = 0;
    if (target[0] == '/') {
        target++;
    } else {
        const char *slash = strrchr(base_part, '/');
        if (slash != NULL) {
            n = (size_t) (slash - base_part) + 1;
            if (n >= sizeof path)
                n = 0;
            memcpy(path, base_part, n);
        }
    }
    /* append the target segment by segment, undoing "." and ".." */
    const char *p = target;
    while (*p) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t) (q - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0)
                n--;
            while (n > 0 && path[n - 1] != '/')
                n--;
        } else {
            if (n + len + 1 >= sizeof path)
                break;
            memcpy(path + n, p, len);
            n += len;
            if (q)
                path[n++] = '/';
        }
        p = q ? q + 1 : p + len;
    }
    return arena_strndup(&x->arena, path, n);
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Reads a relationships part into rels (Vec of Rel); a missing part is no relationship. */
static bool
load_rels(XlsxReader *x, const char *part, Vec *rels, CbError *err)
{
    const ZipEntry *e = zip_find(x, part);
    if (e == NULL)
        return true;
    EntryStream s;
    xmlTextReaderPtr xr = part_open(x, &s, e, err);
    if (xr == NULL)
        return false;
    int rc;
    while ((rc = part_read(x, xr, &s, part, err)) == 1) {
        if (xmlTextReaderNodeType(xr) != XML_READER_TYPE_ELEMENT ||
            strcmp((const char *) xmlTextReaderConstLocalName(xr), "Relationship") != 0)
            continue;
        Rel r = {NULL, NULL, NULL};
        bool external = false;
        const char *ln, *v, *ns;
        while (attr_next(xr, &ln, &v, &ns)) {
            if (ns != NULL)
                continue;
            if (strcmp(ln, "Id") == 0)
                r.id = arena_strdup(&x->arena, v);
            else if (strcmp(ln, "Type") == 0)
                r.type = arena_strdup(&x->arena, v);
            else if (strcmp(ln, "Target") == 0)
                r.target = arena_strdup(&x->arena, v);
            else if (strcmp(ln, "TargetMode") == 0)
                external = strcmp(v, "External") == 0;
        }
        if (r.id && r.type && r.target && !external)
            *(Rel *) vec_push(rels) = r;
    }
    xmlFreeTextReader(xr);
    stream_close(&s);
    return rc == 0;
}

/* The relationship with this id, or NULL. */
static const Rel *
rel_by_id(const Vec *rels, const char *id)
{
    for (size_t i = 0; i < rels->len; i++)
        if (strcmp(VEC_AT(rels, Rel, i).id, id) == 0)
            return &VEC_AT(rels, Rel, i);
    return NULL;
}

/* The first relationship whose type ends with type_suffix ("/styles"), or NULL. */
static const Rel *
rel_by_type(const Vec *rels, const char *type_suffix)
{
    for (size_t i = 0; i < rels->len; i++)
        if (ends_with(VEC_AT(rels, Rel, i).type, type_suffix))
            return &VEC_AT(rels, Rel, i);
    return NULL;
}

/* The workbook part: the date system and the sheets in their order. */
static bool
load_workbook(XlsxReader *x, const char *part, Vec *sheets, CbError *err)
{
    const ZipEntry *e = zip_find(x, part);
    if (e == NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "not an xlsx workbook: the zip archive has no part %s", part);
        return fail_input(x, err, msg, NULL, "check that the agency delivered an Excel workbook");
    }
    EntryStream s;
    xmlTextReaderPtr xr = part_open(x, &s, e, err);
    if (xr == NULL)
        return false;
    int rc;
    while ((rc = part_read(x, xr, &s, part, err)) == 1) {
        if (xmlTextReaderNodeType(xr) != XML_READER_TYPE_ELEMENT)
            continue;
        const char *nm = (const char *) xmlTextReaderConstLocalName(xr);
        const char *ln, *v, *ns;
        if (strcmp(nm, "workbookPr") == 0) {
            while (attr_next(xr, &ln, &v, &ns))
                if (ns == NULL && strcmp(ln, "date1904") == 0)
                    x->date1904 = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
        } else if (strcmp(nm, "sheet") == 0) {
            SheetInfo si = {NULL, NULL, false};
            while (attr_next(xr, &ln, &v, &ns)) {
                if (ns == NULL && strcmp(ln, "name") == 0)
                    si.name = arena_strdup(&x->arena, v);
                else if (ns == NULL && strcmp(ln, "state") == 0)
                    si.hidden = strcmp(v, "visible") != 0;
                else if (ns != NULL && strcmp(ln, "id") == 0 &&
                         strcmp(ns, "http://www.w3.org/2000/xmlns/") != 0)
                    si.rid = arena_strdup(&x->arena, v);
            }
            if (si.name && si.rid)
                *(SheetInfo *) vec_push(sheets) = si;
        }
    }
    xmlFreeTextReader(xr);
    stream_close(&s);
    return rc == 0;
}

/* Classifies a number format code: a date (with or without time), a time of day, or neither.
 * Quoted text, [brackets] (colours, locales, conditions), escaped characters and the
 * characters after _ and * (padding, fill) are not format letters. */
static unsigned char
classify_format(const char *code)
{
    bool date = false, time = false, month = false;
    for (const char *p = code; *p; p++) {
        char c = *p;
        if (c == '"') {
            const char *q = strchr(p + 1, '"');
            if (q == NULL)
                break;
            p = q;
        } else if (c == '\\' || c == '_' || c == '*') {
            if (p[1] == '\0')
                break;
            p++;
            while (((unsigned char) p[1] & 0xC0) == 0x80)
                p++;
        } else if (c == '[') {
            const char *q = strchr(p + 1, ']');
            if (q == NULL)
                break;
            /* [h], [mm], [ss]: elapsed time */
            bool elapsed = q > p + 1;
            for (const char *r = p + 1; r < q; r++)
                if (*r != 'h' && *r != 'H' && *r != 'm' && *r != 'M' && *r != 's' && *r != 'S')
                    elapsed = false;
            if (elapsed)
                time = true;
            p = q;
        } else {
            switch (c) {
            case 'y': case 'Y': case 'd': case 'D': date = true; break;
            case 'h': case 'H': case 's': case 'S': time = true; break;
            case 'm': case 'M': month = true; break;
            default: break;
            }
        }
    }
    if (date)
        return time ? FMT_DATETIME : FMT_DATE;
    if (month && !time)
        return FMT_DATE;
    if (time)
        return FMT_TIME;
    return FMT_PLAIN;
}

/* Built-in number formats that show dates or times, in the default and the East Asian locales
 * (ECMA-376 part 1, 18.8.30). */
static unsigned char
builtin_format(unsigned long long id)
{
    if (id == 22)
        return FMT_DATETIME;
    if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || id == 36 ||
        (id >= 50 && id <= 54) || id == 57 || id == 58)
        return FMT_DATE;
    if ((id >= 18 && id <= 21) || (id >= 32 && id <= 35) || (id >= 45 && id <= 47) || id == 55 ||
        id == 56)
        return FMT_TIME;
    return FMT_PLAIN;
}

/* The styles part: which cell styles (cellXfs) show numbers as dates or times. */
static bool
load_styles(XlsxReader *x, const char *part, CbError *err)
{
    const ZipEntry *e = zip_find(x, part);
    if (e == NULL)
        return true;
    EntryStream s;
    xmlTextReaderPtr xr = part_open(x, &s, e, err);
    if (xr == NULL)
        return false;
    Vec custom, xfs;
    vec_init(&custom, sizeof(CustomFmt));
    vec_init(&xfs, sizeof(unsigned long long));
    bool in_numfmts = false, in_cellxfs = false;
    int rc;
    while ((rc = part_read(x, xr, &s, part, err)) == 1) {
        int type = xmlTextReaderNodeType(xr);
        const char *nm = (const char *) xmlTextReaderConstLocalName(xr);
        if (type == XML_READER_TYPE_END_ELEMENT) {
            if (strcmp(nm, "numFmts") == 0)
                in_numfmts = false;
            else if (strcmp(nm, "cellXfs") == 0)
                in_cellxfs = false;
            continue;
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        bool empty = xmlTextReaderIsEmptyElement(xr) == 1;
        const char *ln, *v, *ns;
        if (strcmp(nm, "numFmts") == 0) {
            in_numfmts = !empty;
        } else if (strcmp(nm, "cellXfs") == 0) {
            in_cellxfs = !empty;
        } else if (in_numfmts && strcmp(nm, "numFmt") == 0) {
            unsigned long long id = 0;
            bool have_id = false;
            unsigned char kind = FMT_PLAIN;
            while (attr_next(xr, &ln, &v, &ns)) {
                if (ns != NULL)
                    continue;
                if (strcmp(ln, "numFmtId") == 0)
                    have_id = parse_uint(v, strlen(v), &id);
                else if (strcmp(ln, "formatCode") == 0)
                    kind = classify_format(v);
            }
            if (have_id) {
                CustomFmt *cf = vec_push(&custom);
                cf->id = (unsigned long) id;
                cf->kind = kind;
            }
        } else if (in_cellxfs && strcmp(nm, "xf") == 0) {
            unsigned long long id = 0;
            while (attr_next(xr, &ln, &v, &ns))
                if (ns == NULL && strcmp(ln, "numFmtId") == 0 && !parse_uint(v, strlen(v), &id))
                    id = 0;
            *(unsigned long long *) vec_push(&xfs) = id;
        }
    }
    xmlFreeTextReader(xr);
    stream_close(&s);
    if (rc == 0) {
        x->nxf = xfs.len;
        x->xf_fmt = xcalloc(xfs.len ? xfs.len : 1, 1);
        for (size_t i = 0; i < xfs.len; i++) {
            unsigned long long id = VEC_AT(&xfs, unsigned long long, i);
            unsigned char kind = builtin_format(id);
            for (size_t k = 0; k < custom.len; k++)
                if (VEC_AT(&custom, CustomFmt, k).id == id)
                    kind = VEC_AT(&custom, CustomFmt, k).kind;
            x->xf_fmt[i] = kind;
        }
    }
    vec_free(&custom);
    vec_free(&xfs);
    return rc == 0;
}

/* The shared strings part: each <si>'s text, rich text runs concatenated, phonetic runs (rPh)
 * left out. */
static bool
load_shared(XlsxReader *x, const char *part, CbError *err)
{
    const ZipEntry *e = zip_find(x, part);
    if (e == NULL)
        return true;
    EntryStream s;
    xmlTextReaderPtr xr = part_open(x, &s, e, err);
    if (xr == NULL)
        return false;
    bool in_si = false, in_t = false, too_big = false;
    int rph = 0;
    size_t start = 0;
    int rc;
    while ((rc = part_read(x, xr, &s, part, err)) == 1) {
        int type = xmlTextReaderNodeType(xr);
        switch (type) {
        case XML_READER_TYPE_ELEMENT: {
            const char *nm = (const char *) xmlTextReaderConstLocalName(xr);
            bool empty = xmlTextReaderIsEmptyElement(xr) == 1;
            if (strcmp(nm, "si") == 0) {
                start = x->ss_len;
                in_si = !empty;
                if (empty)
                    *(size_t *) vec_push(&x->ss_off) = start;
            } else if (in_si && strcmp(nm, "rPh") == 0 && !empty) {
                rph++;
            } else if (in_si && rph == 0 && strcmp(nm, "t") == 0) {
                in_t = !empty;
            }
            break;
        }
        case XML_READER_TYPE_END_ELEMENT: {
            const char *nm = (const char *) xmlTextReaderConstLocalName(xr);
            if (strcmp(nm, "t") == 0) {
                in_t = false;
            } else if (strcmp(nm, "rPh") == 0) {
                if (rph > 0)
                    rph--;
            } else if (strcmp(nm, "si") == 0 && in_si) {
                x->ss_len = start + decode_escapes(x->ss + start, x->ss_len - start);
                *(size_t *) vec_push(&x->ss_off) = start;
                in_si = false;
                in_t = false;
                rph = 0;
            }
            break;
        }
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_WHITESPACE:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            if (in_t) {
                const char *v = (const char *) xmlTextReaderConstValue(xr);
                if (v != NULL && !buf_put(&x->ss, &x->ss_len, &x->ss_cap, v, strlen(v), MAX_SHARED))
                    too_big = true;
            }
            break;
        default:
            break;
        }
        if (too_big)
            break;
    }
    xmlFreeTextReader(xr);
    stream_close(&s);
    if (too_big) {
        char detail[100];
        snprintf(detail, sizeof detail, "the limit is %zu bytes", MAX_SHARED);
        return fail_input(x, err, "the shared strings of the xlsx workbook are too large", detail,
                          NULL);
    }
    *(size_t *) vec_push(&x->ss_off) = x->ss_len;   /* the end of the last string */
    return rc == 0;
}

/* Picks the worksheet: by name, or the first visible worksheet (the first one if all are
 * hidden).  Sets x->sheet_name and x->sheet_part. */
static bool
pick_sheet(XlsxReader *x, const ReaderSpec *spec, const Vec *sheets, const Vec *rels,
           const char *wb_part, CbError *err)
{
    const SheetInfo *chosen = NULL, *first = NULL;
    const Rel *rel = NULL, *first_rel = NULL;
    for (size_t i = 0; i < sheets->len; i++) {
        const SheetInfo *si = &VEC_AT(sheets, SheetInfo, i);
        const Rel *r = rel_by_id(rels, si->rid);
        bool worksheet = r != NULL && ends_with(r->type, "/worksheet");
        if (spec->sheet != NULL) {
            if (strcmp(si->name, spec->sheet) != 0)
                continue;
            if (!worksheet) {
                char msg[400];
                snprintf(msg, sizeof msg, "sheet \"%.200s\" of the xlsx workbook is not a worksheet",
                         spec->sheet);
                return fail_input(x, err, msg, "chart sheets and macro sheets hold no rows", NULL);
            }
            chosen = si;
            rel = r;
            break;
        }
        if (!worksheet)
            continue;
        if (first == NULL) {
            first = si;
            first_rel = r;
        }
        if (!si->hidden) {
            chosen = si;
            rel = r;
            break;
        }
    }
    if (chosen == NULL && spec->sheet == NULL) {
        chosen = first;
        rel = first_rel;
    }
    if (chosen == NULL) {
        char msg[400], detail[900];
        size_t n = 0;
        detail[0] = '\0';
        if (spec->sheet != NULL)
            snprintf(msg, sizeof msg, "worksheet \"%.200s\" not found in the xlsx workbook",
                     spec->sheet);
        else
            snprintf(msg, sizeof msg, "the xlsx workbook has no worksheet");
        for (size_t i = 0; i < sheets->len && n + 8 < sizeof detail; i++) {
            const char *nm = VEC_AT(sheets, SheetInfo, i).name;
            int w = snprintf(detail + n, sizeof detail - n, "%s\"%s\"",
                             i == 0 ? "the workbook has the sheets " : ", ", nm);
            if (w < 0 || (size_t) w >= sizeof detail - n) {
                /* no room for the rest: end the list cleanly */
                detail[n] = '\0';
                if (n + 6 < sizeof detail)
                    memcpy(detail + n, ", ...", 6);
                break;
            }
            n += (size_t) w;
        }
        if (sheets->len == 0)
            snprintf(detail, sizeof detail, "the workbook lists no sheets");
        return fail_input(x, err, msg, detail,
                          spec->sheet ? "name one of them with sheet = in the source definition"
                                      : NULL);
    }
    x->sheet_name = chosen->name;
    x->sheet_part = part_resolve(x, wb_part, rel->target);
    if (zip_find(x, x->sheet_part) == NULL) {
        char msg[700];
        snprintf(msg, sizeof msg, "corrupt xlsx workbook: worksheet \"%.200s\" refers to part %.300s, "
                 "which the zip archive lacks", chosen->name, x->sheet_part);
        return fail_input(x, err, msg, NULL, hint_resend);
    }
    return true;
}

/* Reads the workbook's structure and opens the worksheet. */
static bool
xlsx_load(XlsxReader *x, const ReaderSpec *spec, CbError *err)
{
    Vec root_rels, wb_rels, sheets;
    vec_init(&root_rels, sizeof(Rel));
    vec_init(&wb_rels, sizeof(Rel));
    vec_init(&sheets, sizeof(SheetInfo));
    bool ok = false;

    if (!zip_open(x, err))
        goto done;
    if (!load_rels(x, "_rels/.rels", &root_rels, err))
        goto done;
    const Rel *doc = rel_by_type(&root_rels, "/officeDocument");
    const char *wb_part = doc ? part_resolve(x, "", doc->target) : "xl/workbook.xml";
    if (zip_find(x, wb_part) == NULL)
        wb_part = "xl/workbook.xml";
    const char *slash = strrchr(wb_part, '/');
    size_t dir = slash ? (size_t) (slash - wb_part) + 1 : 0;
    char rels_part[1100];
    snprintf(rels_part, sizeof rels_part, "%.*s_rels/%.900s.rels", (int) dir, wb_part,
             wb_part + dir);
    if (!load_workbook(x, wb_part, &sheets, err) || !load_rels(x, rels_part, &wb_rels, err))
        goto done;
    if (!pick_sheet(x, spec, &sheets, &wb_rels, wb_part, err))
        goto done;
    const Rel *r = rel_by_type(&wb_rels, "/styles");
    if (!load_styles(x, r ? part_resolve(x, wb_part, r->target) : "xl/styles.xml", err))
        goto done;
    r = rel_by_type(&wb_rels, "/sharedStrings");
    if (!load_shared(x, r ? part_resolve(x, wb_part, r->target) : "xl/sharedStrings.xml", err))
        goto done;

    const ZipEntry *se = zip_find(x, x->sheet_part);
    if (!stream_verify(x, se, err))
        goto done;
    if (!sheet_open(x, se, err))
        goto done;
    ok = true;
done:
    vec_free(&root_rels);
    vec_free(&wb_rels);
    vec_free(&sheets);
    return ok;
}

/* Reads the whole (gzip-undone) file into x->zip. */
static bool
read_all(XlsxReader *x, CbError *err)
{
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > MAX_FILE) {
                free(buf);
                char detail[100];
                snprintf(detail, sizeof detail, "the limit is %zu bytes", MAX_FILE);
                return fail_input(x, err, "xlsx workbook too large", detail,
                                  "ask the agency to split the export, or to deliver it as CSV");
            }
            cap = cap * 2 > MAX_FILE ? MAX_FILE + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t got = bytestream_read(&x->base.bs, buf + n, cap - n, err);
        if (got < 0) {
            free(buf);
            return false;
        }
        if (got == 0)
            break;
        n += (size_t) got;
    }
    x->zip = buf;
    x->zip_len = n;
    return true;
}

Reader *
xlsx_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    XlsxReader *x = xcalloc(1, sizeof *x);
    arena_init(&x->arena, 16 * 1024);
    vec_init(&x->ss_off, sizeof(size_t));
    x->base.ops = &xlsx_ops;
    if (!reader_base_open(&x->base, spec, path, mem, len, err)) {
        reader_close(&x->base);
        return NULL;
    }
    x->max_record_bytes = spec->max_record_bytes ? spec->max_record_bytes : 1 << 20;
    if (x->max_record_bytes > UINT32_MAX)
        x->max_record_bytes = UINT32_MAX;   /* field offsets are 32-bit */
    x->rec_cap = 4096;
    x->rec = xmalloc(x->rec_cap);
    x->cell_cap = 256;
    x->cell = xmalloc(x->cell_cap);

    xmlInitParser();
    XmlQuiet q;
    quiet_on(&q);
    bool ok = read_all(x, err) && xlsx_load(x, spec, err);
    quiet_off(&q);
    if (!ok) {
        reader_close(&x->base);
        return NULL;
    }
    return &x->base;
}

static void
xlsx_close(Reader *base)
{
    XlsxReader *x = (XlsxReader *) base;
    if (x->px != NULL) {
        XmlQuiet q;
        quiet_on(&q);
        if (x->px->myDoc != NULL)
            xmlFreeDoc(x->px->myDoc);
        xmlFreeParserCtxt(x->px);
        quiet_off(&q);
    }
    free(x->xbuf);
    free(x->q);
    stream_close(&x->sheet);
    free(x->zip);
    free(x->entries);
    free(x->ss);
    vec_free(&x->ss_off);
    free(x->xf_fmt);
    free(x->rec);
    free(x->cell);
    arena_free(&x->arena);
}

/* ------------------------------------------------------------ cells and rows */

/* Sets the row's first READ_BAD reason. */
static void
row_bad(XlsxReader *x, int col, const char *what)
{
    if (x->bad)
        return;
    x->bad = true;
    char ref[8];
    col_name(col, ref);
    snprintf(x->reason, sizeof x->reason, "cell %s%llu %.200s", ref,
             (unsigned long long) x->row_no, what);
}

/* Places a non-empty value in column col of the row. */
static void
row_put(XlsxReader *x, int col, const char *v, size_t n)
{
    if (col >= READER_MAX_FIELDS) {
        x->too_many = true;
        return;
    }
    if (x->too_long)
        return;
    size_t at = x->rec_len;
    if (!buf_put(&x->rec, &x->rec_len, &x->rec_cap, v, n, x->max_record_bytes)) {
        x->too_long = true;
        return;
    }
    for (int c = x->ncols; c < col; c++) {
        x->starts[c] = (uint32_t) at;
        x->lens[c] = 0;
    }
    if (col >= x->ncols)
        x->ncols = col + 1;
    x->starts[col] = (uint32_t) at;
    x->lens[col] = (uint32_t) n;
}

/* Formats an Excel serial number of a date- or time-styled cell: "YYYY-MM-DD" for a date
 * style (the time of day dropped, as Excel shows it), "YYYY-MM-DD HH:MM:SS" for a date and time
 * style unless at midnight, "HH:MM:SS" for a time style.  False when it is no valid date (it is
 * then left as written). */
static bool
serial_format(const char *s, size_t n, bool date1904, unsigned char kind, char out[32])
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v) || v < 0 || v >= 2958466.0)   /* 10000-01-01 */
        return false;
    double whole = floor(v);
    long days = (long) whole;
    long secs = kind == FMT_DATE ? 0 : lround((v - whole) * 86400.0);
    if (secs >= 86400) {
        secs -= 86400;
        days++;
    }
    unsigned t = (unsigned) secs % 86400u;
    char hms[16] = "";
    if (secs != 0 || kind == FMT_TIME)   /* a date's cell: none (snprintf was 2 % of a sheet) */
        snprintf(hms, sizeof hms, "%02u:%02u:%02u", t / 3600, t / 60 % 60, t % 60);
    if (kind == FMT_TIME) {
        if (days != 0)
            return false;     /* a duration of a day or more: keep the number */
        memcpy(out, hms, 9);
        return true;
    }
    Day d;
    if (date1904)
        d = date_from_ymd(1904, 1, 1) + (Day) days;
    else if (days == 0 || days == 60)
        return false;         /* 1900-01-00 and Lotus's 1900-02-29 do not exist */
    else if (days < 60)
        d = date_from_ymd(1899, 12, 31) + (Day) days;
    else
        d = date_from_ymd(1899, 12, 30) + (Day) days;
    int y;
    date_to_ymd(d, &y, NULL, NULL);
    if (y < 1 || y > 9999)
        return false;
    date_format(d, out);
    if (secs != 0) {
        out[10] = ' ';
        memcpy(out + 11, hms, 9);
    }
    return true;
}

/* SAX2 gives an element's attributes as (local name, prefix, namespace, value, value end). */
#define SAX_ATTR(a, i, f) ((const char *) (a)[5 * (i) + (f)])

static void
cell_begin(XlsxReader *x, const xmlChar **attrs, int nattrs)
{
    int col = -1;
    x->ctype = CT_NUMBER;
    x->cfmt = FMT_PLAIN;
    for (int i = 0; i < nattrs; i++) {
        const char *ln = SAX_ATTR(attrs, i, 0), *v = SAX_ATTR(attrs, i, 3);
        size_t vn = (size_t) (SAX_ATTR(attrs, i, 4) - v);
        if (SAX_ATTR(attrs, i, 2) != NULL || ln[1] != '\0')
            continue;
        if (ln[0] == 'r') {
            /* A1-style reference: letters, then the row number (not checked) */
            int c = 0;
            size_t k = 0;
            while (k < vn && k < 4 && ((v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= 'a' && v[k] <= 'z'))) {
                c = c * 26 + ((v[k] | 0x20) - 'a' + 1);
                k++;
            }
            if (k > 0 && k < 4 && k < vn && v[k] >= '0' && v[k] <= '9' && c <= MAX_COLUMN)
                col = c - 1;
        } else if (ln[0] == 's') {
            unsigned long long xf;
            if (parse_uint(v, vn, &xf) && xf < x->nxf)
                x->cfmt = x->xf_fmt[xf];
        } else if (ln[0] == 't') {
            switch (vn ? v[0] : '\0') {
            case 's': x->ctype = vn == 1 ? CT_SHARED : CT_STRING; break;
            case 'i': x->ctype = CT_INLINE; break;
            case 'b': x->ctype = CT_BOOL; break;
            case 'e': x->ctype = CT_ERROR; break;
            case 'd': x->ctype = CT_ISODATE; break;
            default: x->ctype = CT_NUMBER; break;
            }
        }
    }
    x->col = col >= 0 ? col : x->last_col + 1;
    x->last_col = x->col;
    x->in_cell = true;
    x->in_text = x->in_is = x->has_value = x->cell_over = false;
    x->rph_depth = 0;
    x->cell_len = 0;
}

static void
cell_text(XlsxReader *x, const char *v, size_t n)
{
    if (x->cell_over)
        return;
    if (!buf_put(&x->cell, &x->cell_len, &x->cell_cap, v, n, x->max_record_bytes))
        x->cell_over = true;
}

/* The cell is complete: turn its text into the field value. */
static void
cell_end(XlsxReader *x)
{
    x->in_cell = x->in_text = x->in_is = false;
    if (!x->has_value)
        return;
    if (x->cell_over) {
        char what[80];
        snprintf(what, sizeof what, "is longer than the limit of %zu bytes", x->max_record_bytes);
        row_bad(x, x->col, what);
        x->too_long = true;
        return;
    }
    const char *v = x->cell;
    size_t n = x->cell_len;
    char tmp[32];
    if (n == 0)
        return;     /* <v/>, <is/>: no value */
    switch (x->ctype) {
    case CT_SHARED: {
        unsigned long long i;
        size_t nss = x->ss_off.len ? x->ss_off.len - 1 : 0;
        if (!parse_uint(v, n, &i) || i >= nss) {
            char what[300];
            snprintf(what, sizeof what, "refers to shared string \"%.*s\", but the workbook has %zu",
                     (int) (n > 40 ? 40 : n), v, nss);
            row_bad(x, x->col, what);
            break;
        }
        size_t a = VEC_AT(&x->ss_off, size_t, i), b = VEC_AT(&x->ss_off, size_t, i + 1);
        if (b == a)
            return;     /* an empty string is no value */
        v = x->ss + a;
        n = b - a;
        if (n > x->max_record_bytes) {
            char what[80];
            snprintf(what, sizeof what, "is longer than the limit of %zu bytes", x->max_record_bytes);
            row_bad(x, x->col, what);
            x->too_long = true;
            return;
        }
        break;
    }
    case CT_INLINE:
    case CT_STRING:
        n = decode_escapes(x->cell, n);
        break;
    case CT_BOOL:
        if (n == 1 && v[0] == '1')
            v = "TRUE", n = 4;
        else if (n == 1 && v[0] == '0')
            v = "FALSE", n = 5;
        break;
    case CT_ERROR: {
        char what[100];
        snprintf(what, sizeof what, "holds the error value %.*s", (int) (n > 60 ? 60 : n), v);
        row_bad(x, x->col, what);
        break;
    }
    case CT_ISODATE:
        /* ISO 8601: a midnight time is dropped, anything else left as written */
        if (n >= 19 && v[10] == 'T' && memcmp(v + 11, "00:00:00", 8) == 0) {
            size_t k = 19;
            if (k < n && v[k] == '.')
                for (k++; k < n && v[k] == '0'; k++)
                    ;
            if (k < n && v[k] == 'Z')
                k++;
            if (k == n)
                n = 10;
        }
        break;
    default:
        if (x->cfmt != FMT_PLAIN && serial_format(v, n, x->date1904, x->cfmt, tmp)) {
            v = tmp;
            n = strlen(tmp);
        }
        break;
    }
    if (n > 0)
        row_put(x, x->col, v, n);
}

static void
row_begin(XlsxReader *x, const xmlChar **attrs, int nattrs)
{
    unsigned long long r = 0;
    bool have = false;
    for (int i = 0; i < nattrs; i++) {
        const char *ln = SAX_ATTR(attrs, i, 0), *v = SAX_ATTR(attrs, i, 3);
        if (SAX_ATTR(attrs, i, 2) == NULL && ln[0] == 'r' && ln[1] == '\0')
            have = parse_uint(v, (size_t) (SAX_ATTR(attrs, i, 4) - v), &r) && r > 0;
    }
    x->row_no = have ? r : x->row_no + 1;
    x->last_col = -1;
    x->ncols = 0;
    x->rec_len = 0;
    x->too_many = x->too_long = x->bad = false;
    x->reason[0] = '\0';
    x->in_cell = false;
}

/* Fails the reader for good with an error about the worksheet. */
static int
sheet_fail(XlsxReader *x, CbError *err, const char *what)
{
    char msg[700];
    if (x->sheet.why[0])
        snprintf(msg, sizeof msg, "%s", x->sheet.why);
    else
        snprintf(msg, sizeof msg, "malformed worksheet \"%.200s\": %s", x->sheet_name,
                 what ? what : x->xml_err[0] ? x->xml_err : "the XML is not well-formed");
    CB_FAIL(&x->fail_err, CBERR_INPUT, "%s", msg);
    cb_error_at(&x->fail_err, "%s: sheet %s, after row %llu", x->base.name, x->sheet_name,
                (unsigned long long) x->row_no);
    x->failed = true;
    if (err)
        *err = x->fail_err;
    return -1;
}

/* The worksheet is parsed by libxml2's SAX2 push parser, SHEET_SLICE bytes at a time: no tree
 * (the text reader made and freed a node per element, most of the time spent on a workbook).
 * The rows a slice completes wait in x->q, each a QueuedRow, its columns' starts and lengths
 * and its bytes.  A slice of n bytes completes at most about n / 26 rows (the least row with a
 * value is <row><c><v>1</v></c></row>), each at most max_record_bytes: that bounds the queue. */
#define SHEET_READ  (64 * 1024)
#define SHEET_SLICE 4096

typedef struct QueuedRow {
    uint64_t row_no;
    uint32_t rec_len;
    int      ncols;
    bool     too_many, too_long, bad;
    char     reason[256];
} QueuedRow;

/* The row is complete: queue it if it holds anything. */
static void
row_end(XlsxReader *x)
{
    x->in_row = false;
    if (x->ncols == 0 && !x->too_many && !x->too_long && !x->bad)
        return;
    size_t cols = sizeof(uint32_t) * (size_t) x->ncols;
    size_t need = (sizeof(QueuedRow) + 2 * cols + x->rec_len + 7) & ~(size_t) 7;
    if (x->q_len + need > x->q_cap) {
        x->q_cap = x->q_cap * 2 > x->q_len + need ? x->q_cap * 2 : x->q_len + need + 65536;
        x->q = xrealloc(x->q, x->q_cap);
    }
    QueuedRow *h = (QueuedRow *) (void *) (x->q + x->q_len);
    h->row_no = x->row_no;
    h->rec_len = (uint32_t) x->rec_len;
    h->ncols = x->ncols;
    h->too_many = x->too_many;
    h->too_long = x->too_long;
    h->bad = x->bad;
    memcpy(h->reason, x->reason, sizeof h->reason);
    char *p = (char *) (h + 1);
    memcpy(p, x->starts, cols);
    memcpy(p + cols, x->lens, cols);
    memcpy(p + 2 * cols, x->rec, x->rec_len);
    x->q_len += need;
}

/* nm == lit, for the sheet's element names: inlined, where a call of strcmp for each of the
 * sheet's millions of elements was 3 % of reading it. */
static inline bool
name_is(const char *nm, const char *lit)
{
    size_t i = 0;
    for (; lit[i] != '\0'; i++)
        if (nm[i] != lit[i])
            return false;
    return nm[i] == '\0';
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri, int nns,
          const xmlChar **ns, int nattrs, int ndefaulted, const xmlChar **attrs)
{
    (void) prefix, (void) uri, (void) nns, (void) ns, (void) ndefaulted;
    XlsxReader *x = ctx;
    const char *nm = (const char *) localname;
    if (!x->in_row) {
        if (name_is(nm, "row")) {
            row_begin(x, attrs, nattrs);
            x->in_row = true;
        }
        return;
    }
    if (!x->in_cell) {
        if (nm[0] == 'c' && nm[1] == '\0')
            cell_begin(x, attrs, nattrs);
        return;
    }
    if (nm[0] == 'v' && nm[1] == '\0') {
        x->has_value = true;
        x->cell_len = 0;
        x->in_text = true;
    } else if (name_is(nm, "is")) {
        x->has_value = true;
        x->cell_len = 0;
        x->in_is = true;
    } else if (x->in_is && name_is(nm, "rPh")) {
        x->rph_depth++;
    } else if (x->in_is && x->rph_depth == 0 && nm[0] == 't' && nm[1] == '\0') {
        x->in_text = true;
    }
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void) prefix, (void) uri;
    XlsxReader *x = ctx;
    const char *nm = (const char *) localname;
    if (x->in_cell) {
        if ((nm[0] == 'v' || nm[0] == 't') && nm[1] == '\0')
            x->in_text = false;
        else if (name_is(nm, "rPh") && x->rph_depth > 0)
            x->rph_depth--;
        else if (name_is(nm, "is"))
            x->in_is = false;
        else if (nm[0] == 'c' && nm[1] == '\0')
            cell_end(x);
    } else if (x->in_row && name_is(nm, "row")) {
        row_end(x);
    } else if (name_is(nm, "sheetData")) {
        x->sheet_end = true;    /* what follows the rows is not read */
        xmlStopParser(x->px);
    }
}

static void
sax_text(void *ctx, const xmlChar *ch, int len)
{
    XlsxReader *x = ctx;
    if (x->in_text && len > 0)
        cell_text(x, (const char *) ch, (size_t) len);
}

static void
sax_doctype(void *ctx, const xmlChar *name, const xmlChar *public_id, const xmlChar *system_id)
{
    (void) name, (void) public_id, (void) system_id;
    XlsxReader *x = ctx;
    x->doctype = true;
    xmlStopParser(x->px);
}

/* Opens the worksheet's entry and its parser; false and err on failure. */
static bool
sheet_open(XlsxReader *x, const ZipEntry *e, CbError *err)
{
    if (!stream_open(x, &x->sheet, e, err)) {
        stream_close(&x->sheet);
        return false;
    }
    x->xml_err[0] = '\0';
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = sax_start;
    sax.endElementNs = sax_end;
    sax.characters = sax_text;
    sax.ignorableWhitespace = sax_text;
    sax.cdataBlock = sax_text;
    sax.internalSubset = sax_doctype;
    sax.serror = xml_error_cb;
    x->px = xmlCreatePushParserCtxt(&sax, x, NULL, 0, x->sheet_part);
    if (x->px == NULL) {
        stream_close(&x->sheet);
        return CB_FAIL(err, CBERR_INTERNAL, "could not create an XML parser");
    }
    xmlCtxtUseOptions(x->px, XML_OPTS);
    x->xbuf = xmalloc(SHEET_READ);
    return true;
}

/* Parses the worksheet until a row is queued: 1, 0 at the end of the sheet, -1 on an error
 * (err filled).  An error found in a slice is returned after the rows before it. */
static int
sheet_more(XlsxReader *x, CbError *err)
{
    while (x->q_pos == x->q_len) {
        x->q_pos = x->q_len = 0;
        if (x->failed) {
            if (err)
                *err = x->fail_err;
            return -1;
        }
        if (x->sheet_end)
            return 0;
        int rc;
        if (x->xbuf_pos == x->xbuf_len) {
            x->xbuf_pos = 0;
            x->xbuf_len = stream_read(&x->sheet, x->xbuf, SHEET_READ);
        }
        if (x->xbuf_len == 0) {
            if (x->sheet.why[0]) {
                sheet_fail(x, NULL, NULL);
                continue;
            }
            rc = xmlParseChunk(x->px, NULL, 0, 1);
            if (!x->sheet_end && !x->doctype && rc == 0 && x->in_row)
                sheet_fail(x, NULL, "the worksheet ends inside a row");
            else if (!x->sheet_end && !x->doctype && rc == 0)
                x->sheet_end = true;
        } else {
            size_t n = x->xbuf_len - x->xbuf_pos < SHEET_SLICE ? x->xbuf_len - x->xbuf_pos : SHEET_SLICE;
            rc = xmlParseChunk(x->px, (const char *) x->xbuf + x->xbuf_pos, (int) n, 0);
            x->xbuf_pos += n;
        }
        if (x->doctype)
            sheet_fail(x, NULL, "a document type declaration, which is not allowed");
        else if (rc != 0 && !x->sheet_end && !x->failed)
            sheet_fail(x, NULL, NULL);
    }
    return 1;
}

static ReadStatus
xlsx_next(Reader *base, Record *rec, CbError *err)
{
    XlsxReader *x = (XlsxReader *) base;
    if (x->eof)
        return READ_EOF;

    XmlQuiet q;
    quiet_on(&q);
    int rc = sheet_more(x, err);
    quiet_off(&q);
    /* progress: how far into the file the worksheet's compressed data has been read */
    x->base.offset = x->sheet.data_off + (x->sheet.e->csize - x->sheet.in_left) -
                     (x->sheet.zs ? x->sheet.zs->avail_in : 0);
    if (rc < 0)
        return READ_ERROR;
    if (rc == 0) {
        x->eof = true;
        x->base.offset = x->zip_len;
        return READ_EOF;
    }

    /* the next queued row */
    const QueuedRow *h = (const QueuedRow *) (const void *) (x->q + x->q_pos);
    size_t cols = sizeof(uint32_t) * (size_t) h->ncols;
    const char *p = (const char *) (h + 1);
    const char *bytes = p + 2 * cols;
    memcpy(x->ostarts, p, cols);
    memcpy(x->olens, p + cols, cols);
    x->q_pos += (sizeof(QueuedRow) + 2 * cols + h->rec_len + 7) & ~(size_t) 7;

    memset(rec, 0, sizeof *rec);
    int width = h->ncols;
    if (x->record_no == 0)
        x->header_width = width;
    else if (width < x->header_width)
        width = x->header_width;
    for (int c = h->ncols; c < width; c++) {
        x->ostarts[c] = h->rec_len;
        x->olens[c] = 0;
    }
    size_t raw_n = 0;
    for (int c = 0; c < width; c++) {
        x->fields[c].p = bytes + x->ostarts[c];
        x->fields[c].len = x->olens[c];
        if (c > 0 && raw_n < READER_RAW_MAX)
            x->raw[raw_n++] = '\t';
        size_t k = x->olens[c] < READER_RAW_MAX - raw_n ? x->olens[c] : READER_RAW_MAX - raw_n;
        memcpy(x->raw + raw_n, x->fields[c].p, k);
        raw_n += k;
    }
    rec->fields = x->fields;
    rec->nfields = width;
    rec->record_no = x->record_no++;
    rec->line_no = h->row_no;
    rec->byte_offset = 0;
    rec->raw = x->raw;
    rec->raw_len = raw_n;
    if (h->too_many) {
        snprintf(rec->reason, sizeof rec->reason, "row %llu has a value beyond column %d",
                 (unsigned long long) h->row_no, READER_MAX_FIELDS);
        return READ_BAD;
    }
    if (h->bad) {
        snprintf(rec->reason, sizeof rec->reason, "%s", h->reason);
        return READ_BAD;
    }
    if (h->too_long) {
        snprintf(rec->reason, sizeof rec->reason, "row %llu is longer than the limit of %zu bytes",
                 (unsigned long long) h->row_no, x->max_record_bytes);
        return READ_BAD;
    }
    return READ_OK;
}
