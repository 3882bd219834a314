/*
 * reader_int — what a format reader implements (private to connectors/).
 *
 * Every format's reader state starts with a `struct Reader` (the base: ops table, the byte
 * stream under it, the file's name, the decompressed bytes consumed so far), so a Reader * can
 * be cast to the format's own struct.  reader.c dispatches reader_next / reader_close through
 * the ops table; a format's close frees its own state, then reader_close closes the stream and
 * frees the whole struct.
 */
#ifndef CANBAO_READER_INT_H
#define CANBAO_READER_INT_H

#include "bytestream.h"
#include "reader.h"

typedef struct ReaderOps {
    const char *format;
    ReadStatus (*next)(Reader *r, Record *rec, CbError *err);
    void (*close)(Reader *r);              /* frees format state, not the base */
} ReaderOps;

struct Reader {
    const ReaderOps *ops;
    ByteStream       bs;
    bool             bs_open;
    char             name[256];
    uint64_t         offset;               /* decompressed bytes consumed */
    uint64_t         line_ends;            /* LFs consumed (the line formats: fixed, jsonl) */
};

/* Opens the base: the byte stream of a file or of memory (gzip undone, text transcoded to
 * UTF-8 when spec->encoding names another encoding).  r must be zeroed and big enough for the
 * format's struct. */
bool reader_base_open(Reader *r, const ReaderSpec *spec, const char *path, const void *mem,
                      size_t len, CbError *err);

/* Format constructors (reader.c picks one by spec->format). */
Reader *csv_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                       CbError *err);
Reader *xml_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                       CbError *err);
Reader *jsonl_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                         CbError *err);
Reader *fixed_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                         CbError *err);
Reader *xlsx_reader_new(const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                        CbError *err);

/* Tests: turns the CSV reader's zero-copy path for plain records on or off (on by default;
 * the byte-by-byte path alone must give the same records).  Not thread-safe. */
void csv_reader_fast_path(bool on);

#endif
