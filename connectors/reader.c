/* Reader dispatch: one entry point, one ops table per format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "reader_int.h"

bool
reader_base_open(Reader *r, const ReaderSpec *spec, const char *path, const void *mem, size_t len,
                 CbError *err)
{
    snprintf(r->name, sizeof r->name, "%s", path);
    if (spec->chunk != NULL) {   /* a piece of a stream: the line source reads the memory */
        if (!bytestream_open_mem(&r->bs, r->name, "", 0, err))
            return false;
        r->bs_open = true;
        r->offset = spec->chunk_offset;
        return true;
    }
    bool ok = mem != NULL || path == NULL ? bytestream_open_mem(&r->bs, r->name, mem ? mem : "", len, err)
                                          : bytestream_open_file(&r->bs, r->name, err);
    if (!ok)
        return false;
    r->bs_open = true;
    if (spec->format != RF_XML && spec->format != RF_XLSX &&
        !bytestream_set_encoding(&r->bs, spec->encoding, err))
        return false;
    return true;
}

typedef Reader *(*Constructor)(const ReaderSpec *, const char *, const void *, size_t, CbError *);

static Reader *
open_any(const ReaderSpec *spec, const char *path, const void *mem, size_t len, CbError *err)
{
    Constructor make = NULL;
    switch (spec->format) {
    case RF_CSV: make = csv_reader_new; break;
    case RF_XML: make = xml_reader_new; break;
    case RF_JSONL: make = jsonl_reader_new; break;
    case RF_FIXED: make = fixed_reader_new; break;
    case RF_XLSX: make = xlsx_reader_new; break;
    }
    if (make == NULL) {
        CB_FAIL(err, CBERR_INTERNAL, "no reader for this format");
        cb_error_at(err, "%s", path);
        return NULL;
    }
    return make(spec, path, mem, len, err);
}

Reader *
reader_open(const ReaderSpec *spec, const char *path, CbError *err)
{
    return open_any(spec, path, NULL, 0, err);
}

Reader *
reader_open_mem(const ReaderSpec *spec, const char *name, const void *data, size_t len, CbError *err)
{
    return open_any(spec, name, data ? data : "", len, err);
}

Reader *
reader_open_csv(const char *path, const CsvOptions *opt, CbError *err)
{
    ReaderSpec s = {.format = RF_CSV, .delimiter = opt->delimiter, .quote = opt->quote,
                    .max_record_bytes = opt->max_record_bytes};
    return reader_open(&s, path, err);
}

Reader *
reader_open_csv_mem(const char *name, const void *data, size_t len, const CsvOptions *opt, CbError *err)
{
    ReaderSpec s = {.format = RF_CSV, .delimiter = opt->delimiter, .quote = opt->quote,
                    .max_record_bytes = opt->max_record_bytes};
    return reader_open_mem(&s, name, data, len, err);
}

ReadStatus
reader_next(Reader *r, Record *rec, CbError *err)
{
    return r->ops->next(r, rec, err);
}

void
reader_close(Reader *r)
{
    if (r == NULL)
        return;
    if (r->ops && r->ops->close)
        r->ops->close(r);
    if (r->bs_open)
        bytestream_close(&r->bs);
    free(r);
}

uint64_t
reader_bytes_in(const Reader *r)
{
    return r->offset;
}

uint64_t
reader_line_ends(const Reader *r)
{
    return r->line_ends;
}

uint64_t
reader_file_bytes(const Reader *r)
{
    return r->bs.file_bytes;
}

bool
reader_sha256(Reader *r, char out[65])
{
    return bytestream_sha256(&r->bs, out);
}

uint64_t
reader_invalid_bytes(const Reader *r)
{
    return r->bs.invalid;
}
