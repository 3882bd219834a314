/*
 * extract — canonical records out of one extract file, through its source definition.
 *
 * Binds a reader to a SourceDef: resolves the definition's columns against the file's header,
 * decodes the text encoding, applies the transform chains and types every value.  Each record
 * comes out either as a CanonRecord (EXT_OK) or as a reject (EXT_REJECT) that carries the
 * record's position, raw text and a reason naming the field, the column and what was expected.
 * An ID number is the one value that may come out unusable with EXT_OK, for identity
 * resolution to finish (identity.h): one that fails its check digit, birth date or region but
 * could be one typing error away from a valid number (any kind but the register), and a
 * missing one in a kind whose id_number is optional, when the record has a name to link by;
 * id_status says which.
 * A problem with the file as a whole (cannot open, truncated gzip, a mapped column missing from
 * the header) is EXT_ERROR with err filled; the file cannot be read further.
 */
#ifndef CANBAO_EXTRACT_H
#define CANBAO_EXTRACT_H

#include <stdint.h>

#include "reader.h"
#include "sourcedef.h"

typedef struct CanonValue {
    bool        present;
    const char *text;       /* normalised text, NUL-terminated; valid until the next record */
    uint32_t    len;
    int64_t     num;        /* idnum: PersonKey; date: Day; month: y*12+m-1; money: fen;
                               int: value; code field: index of the value */
} CanonValue;

typedef struct CanonRecord {
    CanonValue  v[KIND_MAX_FIELDS];   /* by field index of the definition's fact kind; set
                                         for the kind's fields only (those before its
                                         terminating name == NULL), the rest undefined */
    uint64_t    record_no;            /* 1-based data record */
    uint64_t    line_no;
    uint64_t    byte_offset;
    const char *raw;                  /* raw bytes (capped), valid until the next record */
    size_t      raw_len;
    uint64_t    hash;                 /* of all canonical values, for duplicates: equal
                                         records, equal hash (within this version; the key
                                         that outlives a run is extract_record_key) */
    uint8_t     id_status;            /* IdnumStatus of the id_number as written (EXT_OK):
                                         IDNUM_OK; IDNUM_EMPTY when absent (kinds whose ID is
                                         optional); otherwise the ID failed its check and its
                                         significant characters are in the field's text, for
                                         repair (never for the register) */
    bool        id_rewritten;         /* IDNUM_OK, but written otherwise (full width, 15 digits,
                                         inner spaces, lower-case x) */
    uint16_t    sub, nsub;            /* a row whose split() fields hold several values comes
                                         out as nsub records, sub = 1 .. nsub, all with the
                                         row's position; 0 and 0 otherwise */
    char        reason[512];          /* EXT_REJECT */
} CanonRecord;

typedef enum { EXT_OK, EXT_REJECT, EXT_EOF, EXT_ERROR } ExtStatus;

/* Most values a split() cell may hold. */
#define EXTRACT_MAX_MEMBERS 64

typedef struct Extract Extract;

Extract  *extract_open(const SourceDef *def, const char *path, CbError *err);
/* Same over a memory buffer (tests, fuzzing). */
Extract  *extract_open_mem(const SourceDef *def, const char *name, const void *data, size_t len,
                           CbError *err);
/* A piece of a line-format file (fixed, jsonl: ReaderSpec.chunk): len bytes cut after a line
 * end, decompressed and in UTF-8, starting at byte offset `offset` of the file's stream; a BOM
 * is skipped only when at_start.  Records and lines are numbered from 1 within the piece. */
Extract  *extract_open_chunk(const SourceDef *def, const char *name, const void *data, size_t len,
                             uint64_t offset, bool at_start, CbError *err);
ExtStatus extract_next(Extract *ex, CanonRecord *out, CbError *err);
uint64_t  extract_bytes(const Extract *ex);   /* decompressed bytes consumed */
uint64_t  extract_line_ends(const Extract *ex);   /* LFs consumed, for a line format */
/* A record's stable key: a hash of its canonical values that stays the same from run to run
 * and version to version (reviewers' decisions in PostgreSQL name records by it). */
uint64_t  extract_record_key(const Extract *ex, const CanonRecord *r);
uint64_t  extract_file_bytes(const Extract *ex);   /* raw file bytes read */
bool      extract_sha256(Extract *ex, char out[65]); /* the whole file's after EXT_EOF */
void      extract_close(Extract *ex);

#endif
