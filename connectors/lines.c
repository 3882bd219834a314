#include "lines.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define BUF_SIZE (1 << 20)

void
lines_init(LineSource *ls, Reader *base, size_t max_bytes)
{
    memset(ls, 0, sizeof *ls);
    ls->base = base;
    ls->max_bytes = max_bytes;
    ls->buf = xmalloc(BUF_SIZE);
    ls->first = true;
}

void
lines_init_chunk(LineSource *ls, Reader *base, size_t max_bytes, const void *data, size_t len,
                 bool at_start)
{
    memset(ls, 0, sizeof *ls);
    ls->base = base;
    ls->max_bytes = max_bytes;
    ls->buf = (unsigned char *) data;
    ls->len = len;
    ls->eof = true;        /* nothing to read beyond the piece */
    ls->borrowed = true;
    if (at_start && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        ls->pos = 3;
        base->offset += 3;
    }
}

void
lines_free(LineSource *ls)
{
    if (!ls->borrowed)
        free(ls->buf);
    free(ls->lbuf);
    ls->buf = NULL;
    ls->lbuf = NULL;
}

bool
lines_fill(LineSource *ls, bool *failed, CbError *err)
{
    while (ls->pos >= ls->len) {
        if (ls->eof)
            return false;
        ssize_t got = bytestream_read(&ls->base->bs, ls->buf, BUF_SIZE, err);
        if (got < 0) {
            *failed = true;
            return false;
        }
        ls->pos = 0;
        ls->len = (size_t) got;
        if (got == 0) {
            ls->eof = true;
            return false;
        }
        if (ls->first) {
            ls->first = false;
            if (ls->len >= 3 && memcmp(ls->buf, "\xEF\xBB\xBF", 3) == 0) {
                ls->pos = 3;
                ls->base->offset = 3;
            }
        }
    }
    return true;
}

bool
lines_next(LineSource *ls, const char **line, size_t *n, bool *too_long, bool *failed, CbError *err)
{
    size_t limit = ls->max_bytes + 1;   /* + 1: room for the CR of a CRLF */
    *too_long = false;
    if (!lines_fill(ls, failed, err))
        return false;
    const unsigned char *s = ls->buf + ls->pos;
    size_t avail = ls->len - ls->pos;
    const unsigned char *nl = memchr(s, '\n', avail < limit + 1 ? avail : limit + 1);
    if (nl != NULL) {   /* the common case: the whole line is in the buffer */
        *line = (const char *) s;
        *n = (size_t) (nl - s);
        ls->pos += *n + 1;
        ls->base->offset += *n + 1;
        ls->base->line_ends++;
        return true;
    }
    size_t have = 0;
    for (;;) {
        s = ls->buf + ls->pos;
        avail = ls->len - ls->pos;
        nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t) (nl - s) : avail;
        if (have < limit) {
            size_t keep = take < limit - have ? take : limit - have;
            if (have + keep > ls->lcap) {
                size_t cap = ls->lcap ? ls->lcap : 4096;
                while (cap < have + keep)
                    cap *= 2;
                ls->lbuf = xrealloc(ls->lbuf, cap);
                ls->lcap = cap;
            }
            memcpy(ls->lbuf + have, s, keep);
            have += keep;
            if (keep < take)
                *too_long = true;
        } else if (take > 0) {
            *too_long = true;
        }
        ls->pos += take + (nl != NULL);
        ls->base->offset += take + (nl != NULL);
        if (nl != NULL) {
            ls->base->line_ends++;
            break;
        }
        if (!lines_fill(ls, failed, err)) {
            if (*failed)
                return false;
            break;   /* the last line has no LF */
        }
    }
    *line = ls->lbuf ? ls->lbuf : "";
    *n = have;
    return true;
}
