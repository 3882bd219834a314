/*
 * reader — records out of an extract file, whatever its format.
 *
 * A Reader yields one record at a time as an array of fields (byte strings in the file's own
 * encoding, not NUL-terminated), with the record's position: its 1-based number among data
 * records, the physical line where it starts and the byte offset of its first byte in the
 * (decompressed) stream.  Readers sit on a byte stream that undoes gzip transparently (detected
 * by magic bytes, not by name) and report a truncated or corrupt gzip stream as an error.
 *
 * Lifecycle: reader_open → reader_next ... → reader_close.  Field pointers stay valid until the
 * next reader_next.  A malformed record is READ_BAD: it still has a position, the raw text (up
 * to READER_RAW_MAX bytes) and a reason, and reading goes on with the next record.  READ_ERROR
 * means the file cannot be read further (I/O, truncated gzip); err says why and where.
 */
#ifndef CANBAO_READER_H
#define CANBAO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"

#define READER_RAW_MAX 1000
#define READER_MAX_FIELDS 1024

typedef enum { READ_OK, READ_BAD, READ_EOF, READ_ERROR } ReadStatus;

typedef struct RecField {
    const char *p;
    uint32_t    len;
} RecField;

typedef struct Record {
    RecField   *fields;
    int         nfields;
    uint64_t    record_no;     /* 1-based among records (the header is record 0) */
    uint64_t    line_no;       /* 1-based physical line where the record starts */
    uint64_t    byte_offset;   /* of the record's first byte, in the decompressed stream */
    const char *raw;           /* the record's raw bytes, at most READER_RAW_MAX */
    size_t      raw_len;
    char        reason[256];   /* READ_BAD: why */
} Record;

typedef enum { RF_CSV, RF_XML, RF_XLSX, RF_FIXED, RF_JSONL } ReaderFormat;

/* A fixed-width column: 0-based start and length, in bytes or in characters. */
typedef struct FixedColumn {
    uint32_t start;
    uint32_t len;
} FixedColumn;

/* How to read a file.  Positional formats (csv, xlsx) return every column of a row, the header
 * row first when there is one; named formats (xml, jsonl) and fixed-width return exactly the
 * fields asked for, in the order asked (an absent field has p == NULL). */
typedef struct ReaderSpec {
    ReaderFormat       format;
    const char        *encoding;        /* iconv name; NULL or UTF-8: none (xml: overrides the
                                           document's declaration when set) */
    size_t             max_record_bytes;/* 0: 1 MiB */
    char               delimiter;       /* csv */
    char               quote;           /* csv */
    const char        *record_path;     /* xml: local names joined by '/', "//x" at any depth */
    const char *const *names;           /* xml, jsonl: fields wanted ("a", "a/b", "@attr", "a/@attr") */
    int                nnames;
    const FixedColumn *columns;         /* fixed */
    int                ncolumns;
    bool               fixed_chars;     /* fixed: positions count characters, not bytes */
    const char        *sheet;           /* xlsx: sheet name, NULL for the first sheet */
    int                max_depth;       /* xml: element nesting limit, 0: 256 */
    /* fixed, jsonl: read this memory as one piece of a longer stream, cut after a line end
     * (reader_open_mem ignores its data then): already decompressed and in UTF-8, its first
     * byte at offset chunk_offset of the stream, a BOM skipped only when chunk_at_start.
     * Positions: byte offsets of the stream; line and record numbers count from 1 within the
     * piece (the caller adds those of the pieces before). */
    const void        *chunk;
    size_t             chunk_len;
    uint64_t           chunk_offset;
    bool               chunk_at_start;
} ReaderSpec;

typedef struct CsvOptions {
    char   delimiter;
    char   quote;
    size_t max_record_bytes;
} CsvOptions;

typedef struct Reader Reader;

/* Opens a file / a memory buffer in the format the spec says.  NULL and err on failure. */
Reader    *reader_open(const ReaderSpec *spec, const char *path, CbError *err);
Reader    *reader_open_mem(const ReaderSpec *spec, const char *name, const void *data, size_t len,
                           CbError *err);

/* Opens a delimited-text file (RFC 4180: quoted fields with "" escapes and embedded newlines,
 * CRLF or LF, a UTF-8 BOM skipped).  Returns NULL and fills err when the file cannot be opened. */
Reader    *reader_open_csv(const char *path, const CsvOptions *opt, CbError *err);
ReadStatus reader_next(Reader *r, Record *rec, CbError *err);
/* Bytes of decompressed input consumed so far, and of the file itself (for progress). */
uint64_t   reader_bytes_in(const Reader *r);
/* Line ends (LF) consumed so far by a line format (fixed, jsonl); 0 for the others. */
uint64_t   reader_line_ends(const Reader *r);
/* Raw bytes of the file read so far and their SHA-256 (the whole file's after READ_EOF). */
uint64_t   reader_file_bytes(const Reader *r);
bool       reader_sha256(Reader *r, char out[65]);
/* Bytes so far not valid in the declared text encoding (each became 0xFF). */
uint64_t   reader_invalid_bytes(const Reader *r);
void       reader_close(Reader *r);

/* Memory reader for tests and fuzzing: reads `len` bytes at `data` (gzip-compressed or not). */
Reader    *reader_open_csv_mem(const char *name, const void *data, size_t len,
                               const CsvOptions *opt, CbError *err);

#endif
