/*
 * XML reader: one record per element at a path, fields from its children and attributes.
 *
 * Streams with libxml2's xmlTextReader over the byte stream (so gzip works and memory stays
 * bounded by one record), matching names by their local part: namespace prefixes and URIs
 * are ignored.  spec->record_path is "a/b/row" (the path from the root) or "//row" / "//b/row"
 * (those last names at any depth); a record element inside a record is content, not a record.
 * Field names are relative to the record element: "child", "child/grandchild", "@attr",
 * "child/@attr", and "." for the record element itself.  An element's value is all its text
 * and CDATA, descendants included, entities decoded; when an element occurs twice, the first
 * occurrence is the value.  An absent element or attribute is an absent field (p == NULL); an
 * empty element is an empty one.
 *
 * Hardened against hostile documents: entities are never substituted (no XML_PARSE_NOENT),
 * no DTD is loaded (no XML_PARSE_DTDLOAD / DTDATTR / DTDVALID), no network (XML_PARSE_NONET),
 * and a document whose DTD declares any entity, or that references an entity other than the
 * five predefined ones, is refused as a whole (READ_ERROR) when the parser reaches its DTD,
 * before the first record: this turns away billion-laughs and external-entity (XXE) documents
 * without reading anything but the document itself.  Nesting deeper than spec->max_depth
 * (default and at most 256, libxml2's own limit without XML_PARSE_HUGE, which we never set
 * since it lifts the other limits too) is a READ_ERROR; a record with more than
 * max_record_bytes of content is READ_BAD and skipped.  libxml2's messages are captured, never
 * printed: a malformed document is a READ_ERROR that names libxml2's line and column.
 *
 * Positions: the line is the record element's own (libxml2 keeps element lines up to 65535;
 * beyond, the parser's current line, which runs a little ahead); the byte offset is the
 * parser's (xmlTextReaderByteConsumed, also a little ahead).  raw is a reconstruction of the
 * record's XML in UTF-8, cut at READER_RAW_MAX bytes.
 */
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/encoding.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "arena.h"
#include "reader_int.h"

#define XML_DEPTH_LIMIT 256      /* libxml2's nesting limit without XML_PARSE_HUGE */
#define XML_MAX_PARTS 64         /* names in a record path or a field name */

typedef struct XmlField {
    const xmlChar *parts[XML_MAX_PARTS]; /* element local names below the record, interned */
    int            nparts;
    const xmlChar *attr;         /* attribute local name (interned), NULL for element text */
    int            matched;      /* leading parts matched by the elements now open */
    bool           capturing;    /* inside the matched element: text goes to buf */
    bool           seen;         /* value present */
    bool           done;         /* first occurrence complete: later ones are ignored */
    char          *buf;
    size_t         len, cap;
} XmlField;

typedef struct XmlReader {
    Reader           base;
    xmlTextReaderPtr xr;
    size_t           max_record_bytes;
    int              max_depth;
    const xmlChar   *rparts[XML_MAX_PARTS];   /* record path, interned */
    int              nrparts;
    bool             anywhere;                /* "//": the last names at any depth */
    const xmlChar  **stack;                   /* local name of the open element per depth */
    XmlField        *fields;
    int              nfields;
    RecField        *out;
    int              ncapturing;
    uint64_t         record_no;
    bool             eof;
    bool             failed;                  /* a READ_ERROR was returned: it sticks */
    CbError          fail_err;
    /* errors raised while libxml2 runs */
    bool             io_failed;
    CbError          io_err;
    bool             have_xml_err;            /* the first error libxml2 reported */
    bool             xml_err_fatal;           /* ... or, once there is one, the first fatal one */
    char             xml_msg[512];
    int              xml_line, xml_col;
    bool             dtd_entity;              /* an error came while the DTD declared an entity */
    char             dtd_entity_name[128];    /* ... its name ("" when only the table says so) */
    /* the current record */
    size_t           rec_bytes;
    bool             too_big;
    char             raw[READER_RAW_MAX];
    size_t           raw_len;
    bool             raw_full;
} XmlReader;

static ReadStatus xml_next(Reader *base, Record *rec, CbError *err);
static void       xml_close(Reader *base);

static const ReaderOps xml_ops = {"xml", xml_next, xml_close};

/* ------------------------------------------------------------ libxml2 errors, silenced */

/* libxml2 reports some errors (encoding, I/O) through its per-thread global handlers, which
 * print to stderr by default.  While our code calls into libxml2 they point at the reader;
 * the caller's handlers are restored afterwards. */
typedef struct ErrGuard {
    xmlGenericErrorFunc    gen;
    void                  *gen_ctx;
    xmlStructuredErrorFunc ser;
    void                  *ser_ctx;
} ErrGuard;

/* Keeps the first error, replaced by the first fatal one: libxml2 goes on after some errors
 * (an undeclared namespace prefix, say) and we accept what it accepts. */
static void
keep_error(XmlReader *r, const char *msg, int line, int col, bool fatal)
{
    if (r->have_xml_err && (r->xml_err_fatal || !fatal))
        return;
    r->have_xml_err = true;
    r->xml_err_fatal = fatal;
    snprintf(r->xml_msg, sizeof r->xml_msg, "%s", msg ? msg : "unknown error");
    size_t n = strlen(r->xml_msg);
    while (n > 0 && (r->xml_msg[n - 1] == '\n' || r->xml_msg[n - 1] == ' '))
        r->xml_msg[--n] = '\0';
    for (char *p = r->xml_msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    r->xml_line = line;
    r->xml_col = col;
}

static const xmlChar *declared_entity(xmlDtdPtr dtd);

static void
on_structured_error(void *ctx, xmlErrorPtr e)
{
    XmlReader *r = ctx;
    if (e == NULL || e->level < XML_ERR_ERROR)
        return;   /* warnings do not stop the parse */
    /* The parser context is valid only during this call: libxml2 also raises errors from
     * temporary contexts (an entity's content is checked in one, freed right after), so what
     * fail_parse needs from the document is taken now, never the pointer. */
    if (e->domain == XML_FROM_PARSER && e->ctxt != NULL && !r->dtd_entity) {
        xmlParserCtxtPtr pc = e->ctxt;
        const xmlChar *ent = pc->myDoc != NULL ? declared_entity(pc->myDoc->intSubset) : NULL;
        if (ent != NULL) {
            r->dtd_entity = true;
            snprintf(r->dtd_entity_name, sizeof r->dtd_entity_name, "%s", (const char *) ent);
        }
    }
    keep_error(r, e->message, e->line, e->int2, e->level == XML_ERR_FATAL);
}

static void on_generic_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
on_generic_error(void *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    keep_error((XmlReader *) ctx, msg, 0, 0, false);
}

static void
guard_on(XmlReader *r, ErrGuard *g)
{
    g->gen = xmlGenericError;
    g->gen_ctx = xmlGenericErrorContext;
    g->ser = xmlStructuredError;
    g->ser_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(r, on_generic_error);
    xmlSetStructuredErrorFunc(r, on_structured_error);
}

static void
guard_off(const ErrGuard *g)
{
    xmlSetGenericErrorFunc(g->gen_ctx, g->gen);
    xmlSetStructuredErrorFunc(g->ser_ctx, g->ser);
}

/* The current node's local name.  An undeclared prefix (libxml2 goes on after that error)
 * leaves "p:name" as the name: drop the prefix there too. */
static const xmlChar *
local_name(XmlReader *r)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r->xr);
    const xmlChar *colon = name ? xmlStrchr(name, ':') : NULL;
    return colon ? colon + 1 : name;
}

/* ------------------------------------------------------------ input */

static int
io_read(void *ctx, char *buf, int len)
{
    XmlReader *r = ctx;
    if (r->io_failed)
        return -1;
    if (len <= 0)
        return 0;
    ssize_t got = bytestream_read(&r->base.bs, buf, (size_t) len, &r->io_err);
    if (got < 0) {
        r->io_failed = true;
        return -1;
    }
    r->base.offset += (uint64_t) got;
    return (int) got;
}

/* ------------------------------------------------------------ setup */

/* Splits s at '/' into interned local names (a prefix "p:" dropped); false if a part is
 * empty or there are too many. */
static bool
split_names(XmlReader *r, const char *s, const xmlChar **parts, int *nparts, const xmlChar **attr)
{
    *nparts = 0;
    if (attr)
        *attr = NULL;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t) (e - s) : strlen(s);
        if (n == 0 || n >= 512 || *nparts >= XML_MAX_PARTS)
            return false;
        char part[512];
        memcpy(part, s, n);
        part[n] = '\0';
        const char *local = part;
        bool is_attr = part[0] == '@';
        if (is_attr) {
            if (attr == NULL || e != NULL || n == 1)
                return false;   /* an attribute only as the last part */
            local++;
        }
        const char *colon = strrchr(local, ':');
        if (colon)
            local = colon + 1;
        if (*local == '\0')
            return false;
        const xmlChar *interned = xmlTextReaderConstString(r->xr, (const xmlChar *) local);
        if (interned == NULL)
            return false;
        if (is_attr)
            *attr = interned;
        else
            parts[(*nparts)++] = interned;
        if (e == NULL)
            break;
        s = e + 1;
        if (*s == '\0')
            return false;   /* trailing '/' */
    }
    return true;
}

static bool
setup_spec(XmlReader *r, const ReaderSpec *spec, CbError *err)
{
    const char *path = spec->record_path;
    if (path == NULL || *path == '\0') {
        CB_FAIL(err, CBERR_INPUT, "XML reader needs the path of the record element");
        cb_error_at(err, "%s", r->base.name);
        return false;
    }
    if (strncmp(path, "//", 2) == 0) {
        r->anywhere = true;
        path += 2;
    } else if (path[0] == '/') {
        path++;
    }
    if (!split_names(r, path, r->rparts, &r->nrparts, NULL) || r->nrparts == 0) {
        CB_FAIL(err, CBERR_INPUT, "bad XML record path \"%s\"", spec->record_path);
        cb_error_at(err, "%s", r->base.name);
        cb_error_hint(err, "element names joined by '/', e.g. data/rows/row or //row");
        return false;
    }
    if (spec->nnames < 0 || spec->nnames > READER_MAX_FIELDS) {
        CB_FAIL(err, CBERR_INPUT, "%d fields asked for, at most %d", spec->nnames, READER_MAX_FIELDS);
        cb_error_at(err, "%s", r->base.name);
        return false;
    }
    r->nfields = spec->nnames;
    r->fields = xcalloc((size_t) (r->nfields ? r->nfields : 1), sizeof *r->fields);
    r->out = xcalloc((size_t) (r->nfields ? r->nfields : 1), sizeof *r->out);
    for (int i = 0; i < r->nfields; i++) {
        XmlField *f = &r->fields[i];
        const char *name = spec->names[i];
        bool ok = name != NULL && *name != '\0';
        if (ok && strcmp(name, ".") == 0)
            f->nparts = 0;
        else if (ok)
            ok = split_names(r, name, f->parts, &f->nparts, &f->attr);
        if (!ok) {
            CB_FAIL(err, CBERR_INPUT, "bad XML field name \"%s\"", name ? name : "");
            cb_error_at(err, "%s", r->base.name);
            cb_error_hint(err, "child, child/grandchild, @attribute, child/@attribute or .");
            return false;
        }
    }
    return true;
}

Reader *
xml_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    XmlReader *r = xcalloc(1, sizeof *r);
    ErrGuard g;
    bool guarded = false;
    if (!reader_base_open(&r->base, spec, path, mem, len, err))
        goto fail;
    r->base.ops = &xml_ops;
    r->max_record_bytes = spec->max_record_bytes ? spec->max_record_bytes : 1 << 20;
    r->max_depth = spec->max_depth > 0 && spec->max_depth < XML_DEPTH_LIMIT ? spec->max_depth
                                                                           : XML_DEPTH_LIMIT;
    r->stack = xcalloc((size_t) r->max_depth + 1, sizeof *r->stack);

    xmlInitParser();
    guard_on(r, &g);
    guarded = true;
    const char *enc = spec->encoding && *spec->encoding ? spec->encoding : NULL;
    if (enc) {
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(enc);
        if (h == NULL) {
            CB_FAIL(err, CBERR_INPUT, "unknown text encoding %s", enc);
            cb_error_at(err, "%s", r->base.name);
            goto fail;
        }
        xmlCharEncCloseFunc(h);
    }
    /* Not XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE: see the top. */
    r->xr = xmlReaderForIO(io_read, NULL, r, r->base.name, enc, XML_PARSE_NONET | XML_PARSE_COMPACT);
    if (r->xr == NULL) {
        if (r->io_failed) {
            *err = r->io_err;
        } else {
            CB_FAIL(err, CBERR_INPUT, "could not start the XML parser%s%s",
                    r->have_xml_err ? ": " : "", r->have_xml_err ? r->xml_msg : "");
            cb_error_at(err, "%s", r->base.name);
        }
        goto fail;
    }
    xmlTextReaderSetStructuredErrorHandler(r->xr, on_structured_error, r);
    if (!setup_spec(r, spec, err))
        goto fail;
    guard_off(&g);
    return &r->base;

fail:
    if (guarded)
        guard_off(&g);
    reader_close(&r->base);
    return NULL;
}

static void
xml_close(Reader *base)
{
    XmlReader *r = (XmlReader *) base;
    if (r->xr) {
        ErrGuard g;
        guard_on(r, &g);
        xmlFreeTextReader(r->xr);
        guard_off(&g);
    }
    for (int i = 0; i < r->nfields && r->fields; i++)
        free(r->fields[i].buf);
    free(r->fields);
    free(r->out);
    free(r->stack);
}

/* ------------------------------------------------------------ errors */

static uint64_t
parser_line(XmlReader *r)
{
    int line = xmlTextReaderGetParserLineNumber(r->xr);
    return line > 0 ? (uint64_t) line : 0;
}

/* Records err as the reader's sticky error and returns READ_ERROR. */
static ReadStatus
fail(XmlReader *r, CbError *err)
{
    r->failed = true;
    r->fail_err = *err;
    return READ_ERROR;
}

static ReadStatus fail_entities(XmlReader *r, const char *what, const xmlChar *name, CbError *err);

/* The first entity a DTD declares: its name, "" when only the table says so, NULL if none. */
static const xmlChar *
declared_entity(xmlDtdPtr dtd)
{
    if (dtd == NULL)
        return NULL;
    for (xmlNodePtr c = dtd->children; c != NULL; c = c->next)
        if (c->type == XML_ENTITY_DECL)
            return c->name ? c->name : (const xmlChar *) "";
    return dtd->entities != NULL || dtd->pentities != NULL ? (const xmlChar *) "" : NULL;
}

/* xmlTextReaderRead failed: say why, from our stream, from libxml2, or generically.  When
 * the DTD declared entities, that is the reason given: libxml2 may have tripped over them
 * (its own entity-loop guard) before we saw the DTD. */
static ReadStatus
fail_parse(XmlReader *r, CbError *err)
{
    if (r->io_failed) {
        *err = r->io_err;
        return fail(r, err);
    }
    if (r->dtd_entity)
        return fail_entities(r, "declares the", (const xmlChar *) r->dtd_entity_name, err);
    if (r->have_xml_err && strstr(r->xml_msg, "Excessive depth") != NULL) {
        CB_FAIL(err, CBERR_INPUT, "XML nesting deeper than %d elements", r->max_depth);
        cb_error_at(err, "%s: line %d", r->base.name, r->xml_line);
        return fail(r, err);
    }
    if (r->have_xml_err) {
        CB_FAIL(err, CBERR_INPUT, "malformed XML: %s", r->xml_msg);
        if (r->xml_line > 0)
            cb_error_at(err, "%s: line %d, column %d", r->base.name, r->xml_line, r->xml_col);
        else
            cb_error_at(err, "%s: near line %llu", r->base.name, (unsigned long long) parser_line(r));
        return fail(r, err);
    }
    CB_FAIL(err, CBERR_INPUT, "malformed XML");
    cb_error_at(err, "%s: near line %llu", r->base.name, (unsigned long long) parser_line(r));
    return fail(r, err);
}

static ReadStatus
fail_depth(XmlReader *r, CbError *err)
{
    CB_FAIL(err, CBERR_INPUT, "XML nesting deeper than %d elements", r->max_depth);
    cb_error_at(err, "%s: line %llu", r->base.name, (unsigned long long) parser_line(r));
    return fail(r, err);
}

static ReadStatus
fail_entities(XmlReader *r, const char *what, const xmlChar *name, CbError *err)
{
    CB_FAIL(err, CBERR_INPUT, "XML document %s entity \"%.100s\": refused", what,
            name && *name ? (const char *) name : "?");
    cb_error_at(err, "%s: line %llu", r->base.name, (unsigned long long) parser_line(r));
    cb_error_detail(err, "entities can expand without bound (\"billion laughs\") or pull in "
                    "other files and URLs (external entities); canbao reads no XML that uses them");
    cb_error_hint(err, "ask the agency for an export without a DTD, or with plain text in place "
                  "of the entities");
    return fail(r, err);
}

/* The DTD node: refuse any entity declaration (general or parameter). */
static bool
dtd_ok(XmlReader *r, CbError *err)
{
    xmlNodePtr n = xmlTextReaderCurrentNode(r->xr);
    if (n == NULL || n->type != XML_DTD_NODE)
        return true;
    const xmlChar *name = declared_entity((xmlDtdPtr) n);
    if (name == NULL)
        return true;
    fail_entities(r, "declares the", name, err);
    return false;
}

/* ------------------------------------------------------------ the record */

static void
raw_put(XmlReader *r, const char *s, size_t n)
{
    if (r->raw_full)
        return;
    size_t room = READER_RAW_MAX - r->raw_len;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
            n--;   /* do not cut a UTF-8 character */
        r->raw_full = true;
    }
    memcpy(r->raw + r->raw_len, s, n);
    r->raw_len += n;
}

static void
raw_put_escaped(XmlReader *r, const xmlChar *s, size_t n, bool attr)
{
    size_t from = 0;
    for (size_t i = 0; i < n && !r->raw_full; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = attr ? "&quot;" : NULL; break;
        default: break;
        }
        if (esc) {
            raw_put(r, (const char *) s + from, i - from);
            raw_put(r, esc, strlen(esc));
            from = i + 1;
        }
    }
    if (!r->raw_full && from < n)
        raw_put(r, (const char *) s + from, n - from);
}

/* Counts n more bytes of record content; false (and the record marked) past the limit. */
static bool
count_bytes(XmlReader *r, size_t n)
{
    r->rec_bytes += n;
    if (r->rec_bytes > r->max_record_bytes && !r->too_big) {
        r->too_big = true;
        for (int i = 0; i < r->nfields; i++)
            r->fields[i].capturing = false;
        r->ncapturing = 0;
    }
    return !r->too_big;
}

static void
field_append(XmlField *f, const xmlChar *s, size_t n)
{
    if (n == 0)
        return;   /* an empty value: buf may still be NULL, and NULL + 0 is undefined */
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 64;
        while (cap < f->len + n)
            cap *= 2;
        f->buf = xrealloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->len, s, n);
    f->len += n;
}

/* An element opens at relative depth rel (0: the record element).  Fields whose path it
 * completes start capturing its text, or take one of its attributes. */
static void
element_start(XmlReader *r, int rel)
{
    const xmlChar *name = local_name(r);
    bool want_attr = false;
    if (!r->too_big) {
        for (int i = 0; i < r->nfields; i++) {
            XmlField *f = &r->fields[i];
            if (f->done)
                continue;
            if (rel == 0) {
                if (f->nparts != 0)
                    continue;
            } else {
                if (f->matched != rel - 1 || rel > f->nparts || !xmlStrEqual(f->parts[rel - 1], name))
                    continue;
                f->matched = rel;
                if (f->nparts != rel)
                    continue;
            }
            if (f->attr) {
                want_attr = true;
            } else {
                f->capturing = true;
                f->seen = true;
                f->len = 0;
                r->ncapturing++;
            }
        }
    }
    size_t name_len = (size_t) xmlStrlen(name);
    count_bytes(r, name_len + 2);
    bool want_raw = !r->raw_full;
    if (want_raw) {
        const xmlChar *qname = xmlTextReaderConstName(r->xr);
        raw_put(r, "<", 1);
        raw_put(r, (const char *) qname, (size_t) xmlStrlen(qname));
    }
    if ((want_attr || want_raw) && xmlTextReaderHasAttributes(r->xr) == 1) {
        while (xmlTextReaderMoveToNextAttribute(r->xr) == 1) {
            const xmlChar *value = xmlTextReaderConstValue(r->xr);
            size_t vlen = value ? (size_t) xmlStrlen(value) : 0;
            if (!r->raw_full) {
                const xmlChar *qname = xmlTextReaderConstName(r->xr);
                raw_put(r, " ", 1);
                raw_put(r, (const char *) qname, (size_t) xmlStrlen(qname));
                raw_put(r, "=\"", 2);
                raw_put_escaped(r, value, vlen, true);
                raw_put(r, "\"", 1);
            }
            if (!want_attr || xmlTextReaderIsNamespaceDecl(r->xr) == 1)
                continue;
            const xmlChar *aname = local_name(r);
            for (int i = 0; i < r->nfields; i++) {
                XmlField *f = &r->fields[i];
                if (f->attr && !f->done && f->matched == f->nparts && f->nparts == rel &&
                    xmlStrEqual(f->attr, aname) && count_bytes(r, vlen)) {
                    f->len = 0;
                    field_append(f, value ? value : (const xmlChar *) "", vlen);
                    f->seen = true;
                    f->done = true;
                }
            }
        }
        xmlTextReaderMoveToElement(r->xr);
    }
    if (want_raw) {
        const char *close = xmlTextReaderIsEmptyElement(r->xr) == 1 ? "/>" : ">";
        raw_put(r, close, strlen(close));
    }
}

/* The element at relative depth rel closes (empty: it was <x/>, nothing to write). */
static void
element_end(XmlReader *r, int rel, bool empty)
{
    for (int i = 0; i < r->nfields; i++) {
        XmlField *f = &r->fields[i];
        if (f->matched != rel || (rel == 0 && f->nparts != 0))
            continue;
        if (f->capturing && f->nparts == rel) {
            f->capturing = false;
            f->done = true;
            r->ncapturing--;
        }
        if (rel > 0)
            f->matched = rel - 1;
    }
    if (!empty && !r->raw_full) {
        const xmlChar *qname = xmlTextReaderConstName(r->xr);
        raw_put(r, "</", 2);
        raw_put(r, (const char *) qname, (size_t) xmlStrlen(qname));
        raw_put(r, ">", 1);
    }
}

static void
text_node(XmlReader *r)
{
    const xmlChar *v = xmlTextReaderConstValue(r->xr);
    if (v == NULL)
        return;
    size_t n = (size_t) xmlStrlen(v);
    if (!count_bytes(r, n))
        return;
    if (r->ncapturing > 0)
        for (int i = 0; i < r->nfields; i++)
            if (r->fields[i].capturing)
                field_append(&r->fields[i], v, n);
    if (!r->raw_full)
        raw_put_escaped(r, v, n, false);
}

/* Does the element just opened at depth (absolute) complete the record path? */
static bool
is_record(const XmlReader *r, int depth)
{
    int n = r->nrparts;
    if (r->anywhere ? depth + 1 < n : depth + 1 != n)
        return false;
    for (int k = 0; k < n; k++)
        if (!xmlStrEqual(r->stack[depth - k], r->rparts[n - 1 - k]))
            return false;
    return true;
}

static uint64_t
element_line(XmlReader *r)
{
    xmlNodePtr n = xmlTextReaderCurrentNode(r->xr);
    if (n != NULL && n->line > 0 && n->line < 65535)
        return n->line;
    return parser_line(r);
}

/* Reads the record whose element the reader is on (at absolute depth depth0). */
static ReadStatus
read_record(XmlReader *r, int depth0, Record *rec, CbError *err)
{
    for (int i = 0; i < r->nfields; i++) {
        XmlField *f = &r->fields[i];
        f->matched = 0;
        f->capturing = f->seen = f->done = false;
        f->len = 0;
    }
    r->ncapturing = 0;
    r->rec_bytes = 0;
    r->too_big = false;
    r->raw_len = 0;
    r->raw_full = false;

    r->record_no++;
    rec->record_no = r->record_no;
    rec->line_no = element_line(r);
    long consumed = xmlTextReaderByteConsumed(r->xr);
    rec->byte_offset = consumed > 0 ? (uint64_t) consumed : 0;

    element_start(r, 0);
    if (xmlTextReaderIsEmptyElement(r->xr) == 1) {
        element_end(r, 0, true);
    } else {
        for (;;) {
            int ret = xmlTextReaderRead(r->xr);
            if (ret <= 0) {
                if (ret == 0)
                    keep_error(r, "document ends inside a record", (int) parser_line(r), 0, true);
                return fail_parse(r, err);
            }
            int type = xmlTextReaderNodeType(r->xr);
            int depth = xmlTextReaderDepth(r->xr);
            int rel = depth - depth0;
            if (type == XML_READER_TYPE_END_ELEMENT) {
                element_end(r, rel, false);
                if (rel == 0)
                    break;
            } else if (type == XML_READER_TYPE_ELEMENT) {
                if (depth + 1 > r->max_depth)
                    return fail_depth(r, err);
                r->stack[depth] = local_name(r);
                element_start(r, rel);
                if (xmlTextReaderIsEmptyElement(r->xr) == 1)
                    element_end(r, rel, true);
            } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                       type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                       type == XML_READER_TYPE_WHITESPACE) {
                if (!r->too_big)
                    text_node(r);
            } else if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
                return fail_entities(r, "references the", xmlTextReaderConstName(r->xr), err);
            }
        }
    }

    for (int i = 0; i < r->nfields; i++) {
        XmlField *f = &r->fields[i];
        r->out[i].p = f->seen ? (f->buf ? f->buf : "") : NULL;
        r->out[i].len = f->seen ? (uint32_t) f->len : 0;
    }
    rec->fields = r->out;
    rec->nfields = r->nfields;
    rec->raw = r->raw;
    rec->raw_len = r->raw_len;
    if (r->too_big) {
        for (int i = 0; i < r->nfields; i++)
            r->out[i].p = NULL, r->out[i].len = 0;
        snprintf(rec->reason, sizeof rec->reason, "record longer than the limit of %zu bytes",
                 r->max_record_bytes);
        return READ_BAD;
    }
    return READ_OK;
}

static ReadStatus
scan(XmlReader *r, Record *rec, CbError *err)
{
    for (;;) {
        int ret = xmlTextReaderRead(r->xr);
        if (ret < 0 || (ret == 0 && r->io_failed))
            return fail_parse(r, err);
        if (ret == 0) {
            r->eof = true;
            return READ_EOF;
        }
        switch (xmlTextReaderNodeType(r->xr)) {
        case XML_READER_TYPE_DOCUMENT_TYPE:
            if (!dtd_ok(r, err))
                return READ_ERROR;
            break;
        case XML_READER_TYPE_ENTITY_REFERENCE:
            return fail_entities(r, "references the", xmlTextReaderConstName(r->xr), err);
        case XML_READER_TYPE_ELEMENT: {
            int depth = xmlTextReaderDepth(r->xr);
            if (depth < 0)
                return fail_parse(r, err);
            if (depth + 1 > r->max_depth)
                return fail_depth(r, err);
            r->stack[depth] = local_name(r);
            if (is_record(r, depth))
                return read_record(r, depth, rec, err);
            break;
        }
        default:
            break;
        }
    }
}

static ReadStatus
xml_next(Reader *base, Record *rec, CbError *err)
{
    XmlReader *r = (XmlReader *) base;
    CbError local;
    if (err == NULL)
        err = &local;
    if (r->failed) {
        *err = r->fail_err;
        return READ_ERROR;
    }
    if (r->eof)
        return READ_EOF;
    memset(rec, 0, sizeof *rec);
    rec->fields = r->out;
    ErrGuard g;
    guard_on(r, &g);
    ReadStatus st = scan(r, rec, err);
    guard_off(&g);
    return st;
}
