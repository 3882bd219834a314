/*
 * lines — physical lines of a reader's byte stream, for the line-oriented formats (fixed-width,
 * JSON Lines).
 *
 * Reads the stream of its Reader base in large blocks, skips a UTF-8 BOM at the start, and
 * hands out one line at a time without its LF (a CR before it stays, for the caller to drop).
 * A line lies in the read buffer when it can (no copy), else in a side buffer; a line longer
 * than the limit is cut there (*too_long) and its rest skipped at memchr speed without being
 * kept, so memory stays bounded whatever the input.  Keeps base->offset (decompressed bytes
 * consumed) and base->line_ends (LFs consumed: the next line's number is one more) current.
 * Internal to connectors/.
 */
#ifndef CANBAO_LINES_H
#define CANBAO_LINES_H

#include "reader_int.h"

typedef struct LineSource {
    Reader        *base;
    size_t         max_bytes;   /* longest line kept */
    unsigned char *buf;
    size_t         pos, len;
    bool           eof;
    bool           first;       /* nothing read yet: a BOM may follow */
    char          *lbuf;        /* a line that straddles buffer refills */
    size_t         lcap;
    bool           borrowed;    /* buf is the caller's memory (a chunk) */
} LineSource;

void lines_init(LineSource *ls, Reader *base, size_t max_bytes);
/* Lines of a piece of memory instead of the stream (ReaderSpec.chunk): no copy; a BOM is
 * skipped only when at_start.  The memory must outlive the LineSource. */
void lines_init_chunk(LineSource *ls, Reader *base, size_t max_bytes, const void *data, size_t len,
                      bool at_start);
void lines_free(LineSource *ls);

/* Makes at least one byte available (and consumes a BOM at the start); false at the end of
 * input or on error (*failed set, err filled). */
bool lines_fill(LineSource *ls, bool *failed, CbError *err);

/* The next line.  Valid until the next call.  False at the end of input or on error. */
bool lines_next(LineSource *ls, const char **line, size_t *n, bool *too_long, bool *failed,
                CbError *err);

#endif
