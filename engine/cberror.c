#include "cberror.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cb_error_set(CbError *err, const char *file, int line, CbErrorKind kind, const char *fmt, ...)
{
    if (err == NULL)
        return false;
    memset(err, 0, sizeof *err);
    err->kind = kind;
    const char *base = strrchr(file, '/');
    snprintf(err->code_at, sizeof err->code_at, "%s:%d", base ? base + 1 : file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return false;
}

#define SETTER(name, field)                                         \
    void name(CbError *err, const char *fmt, ...)                   \
    {                                                               \
        if (err == NULL)                                            \
            return;                                                 \
        va_list ap;                                                 \
        va_start(ap, fmt);                                          \
        vsnprintf(err->field, sizeof err->field, fmt, ap);          \
        va_end(ap);                                                 \
    }
SETTER(cb_error_at, input_at)
SETTER(cb_error_detail, detail)
SETTER(cb_error_hint, hint)

void
cb_error_print(const CbError *err)
{
    if (err->input_at[0])
        fprintf(stderr, "canbao: error: %s: %s\n", err->input_at, err->message);
    else
        fprintf(stderr, "canbao: error: %s\n", err->message);
    if (err->detail[0])
        fprintf(stderr, "DETAIL: %s\n", err->detail);
    if (err->hint[0])
        fprintf(stderr, "HINT: %s\n", err->hint);
    if (err->sqlstate[0])
        fprintf(stderr, "SQLSTATE: %s\n", err->sqlstate);
    if (getenv("CANBAO_DEBUG"))
        fprintf(stderr, "(raised at %s)\n", err->code_at);
}
