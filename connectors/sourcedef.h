/*
 * sourcedef — one agency source, as declared in connectors/agencies/<source>.conf.
 *
 * A definition says which files of a delivery belong to the source, how to read them (format,
 * encoding, header, delimiter) and how their columns map onto the canonical fields of one
 * fact kind, through a chain of transforms.  It is parsed and fully checked at load: an unknown
 * key, fact kind, canonical field, transform or code value, a missing required field, or a
 * transform whose type does not fit the field is an error naming file, line and column.  A
 * loaded definition is immutable; all its memory belongs to it (sourcedef_free).
 */
#ifndef CANBAO_SOURCEDEF_H
#define CANBAO_SOURCEDEF_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "cberror.h"
#include "factkind.h"

#include "reader.h"

typedef ReaderFormat SourceFormat;    /* RF_CSV, RF_XML, RF_XLSX, RF_FIXED, RF_JSONL */
typedef enum { ENC_UTF8, ENC_GBK, ENC_GB18030 } SourceEncoding;

typedef enum {
    XF_TRIM, XF_NAME, XF_IDNUM, XF_DATE, XF_MONTH, XF_MONEY, XF_INT, XF_CODE, XF_DEFAULT,
    XF_SPLIT   /* split(seps): the cell holds several values, one record each (extract.h) */
} XformOp;

typedef struct CodeEntry {
    const char *from;       /* source value, NULL for the `*` default */
    const char *to;         /* canonical value */
    size_t      from_len, to_len;
} CodeEntry;

typedef struct Xform {
    XformOp    op;
    CodeEntry *codes;       /* XF_CODE */
    int        ncodes;
    const char *arg;        /* XF_DEFAULT: the value; XF_SPLIT: the separator characters */
} Xform;

#define FIELDMAP_MAX_XFORMS 8

typedef struct FieldMap {
    int         field;       /* index in the kind's FieldSpec table */
    const char *column;      /* header name (csv/xlsx with header), element or attribute path
                                (xml: "a", "a/b", "@x", "a/@x"), key path (jsonl: "a", "a/b") */
    int         position;    /* 1-based column (csv/xlsx, header = no) */
    uint32_t    fixed_start; /* fixed: 1-based first position */
    uint32_t    fixed_end;   /* fixed: last position, inclusive */
    Xform       xf[FIELDMAP_MAX_XFORMS];
    int         nxf;
    int         line;        /* line in the definition file */
} FieldMap;

#define SOURCEDEF_MAX_GLOBS 8

/* `history = all` (the default): every accepted record becomes a fact.  `history = latest`:
 * of a person's records only the latest on or before the run's as-of date and the latest after
 * it (by the kind's date or month, the first in record order among equal ones) are kept, the
 * rest reduced away while reading; the rules may then ask only what those two answer (any,
 * none, max or latest of the date, where the date is on or before the as-of date or within a
 * span before it), which run checks against the rule set. */
typedef enum { HISTORY_ALL = 0, HISTORY_LATEST } SourceHistory;

typedef struct SourceDef {
    const char    *path;          /* definition file */
    const char    *name;
    const char    *agency;
    FactKind       kind;
    Evidence       evidence;      /* kind == FK_DEATH */
    const char    *globs[SOURCEDEF_MAX_GLOBS];
    int            nglobs;
    SourceFormat   format;
    SourceEncoding encoding;
    bool           header;
    char           delimiter;
    char           quote;
    bool           required;
    SourceHistory  history;       /* how much of a person's history the rules need */
    int            history_line;  /* line of history in the definition (0: none) */
    int            max_age_days;  /* optional source: the last good delivery stands in for a
                                     missing one up to this many days old (0: never) */
    int            max_age_line;  /* line of max_age in the definition (0: none) */
    size_t         max_record_bytes;
    const char    *record_path;   /* xml: the record element */
    const char    *sheet;         /* xlsx: sheet name, NULL = first */
    bool           fixed_chars;   /* fixed: positions in characters (else bytes) */
    int            max_depth;     /* xml nesting limit */
    const char    *manifest;      /* glob of the delivery's manifest, NULL: none asked */
    const char    *signature;     /* glob of the manifest's detached signature, NULL: none */
    const char    *public_key;    /* the agency's public key (path resolved at load) */
    FieldMap       fields[KIND_MAX_FIELDS];
    int            nfields;
    Arena          arena;         /* owns every string above */
} SourceDef;

/* Parses and checks one definition file into *def (caller-allocated, then owned by def). */
bool sourcedef_load(const char *path, SourceDef *def, CbError *err);
/* Parses from memory (for tests and fuzzing); `path` only names it in errors. */
bool sourcedef_parse(const char *path, const char *text, size_t len, SourceDef *def,
                     CbError *err);
void sourcedef_free(SourceDef *def);

/* True when a file name (no directory) matches one of the definition's globs. */
bool sourcedef_claims(const SourceDef *def, const char *file_name);

/* All *.conf in a directory, sorted by file name.  On success *defs is a malloc'ed array of
 * *n definitions (free with sourcedefs_free).  Two definitions with the same name are an error. */
bool sourcedefs_load_dir(const char *dir, SourceDef **defs, int *n, CbError *err);
void sourcedefs_free(SourceDef *defs, int n);

const char *xform_name(XformOp op);

#endif
