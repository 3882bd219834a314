/*
 * cberror — one error type for the whole engine.
 *
 * A function that can fail returns bool (or a status enum) and, on failure, fills a CbError
 * that the caller owns.  The error carries both locations: where in the code it was raised
 * (file:line) and where in the *input* the problem is (extract file and record, rule file line
 * and column), plus PostgreSQL-style message / detail / hint and the SQLSTATE when libpq gave
 * one.  Only main() turns an error into an exit code.
 */
#ifndef CANBAO_CBERROR_H
#define CANBAO_CBERROR_H

#include <stdbool.h>

typedef enum {
    CBERR_NONE = 0,
    CBERR_USAGE,      /* bad command line */
    CBERR_INPUT,      /* bad input file, definition or rule file */
    CBERR_DB,         /* PostgreSQL */
    CBERR_IO,         /* file system */
    CBERR_LOCKED,     /* another run holds the lock */
    CBERR_INTERNAL,
    CBERR_CANCELLED   /* stopped by SIGTERM or SIGINT at a safe point */
} CbErrorKind;

typedef struct CbError {
    CbErrorKind kind;
    char code_at[64];     /* engine source file:line that raised it */
    char input_at[512];   /* input location, e.g. "police_register.csv: record 12 (line 13)" */
    char sqlstate[6];
    char message[1024];
    char detail[1024];
    char hint[512];
} CbError;

/* Sets kind, code location and message (printf-style); clears the rest.  Returns false so
 * that `return CB_FAIL(err, CBERR_IO, "...")` reads naturally.  err may be NULL. */
bool cb_error_set(CbError *err, const char *file, int line, CbErrorKind kind,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define CB_FAIL(err, kind, ...) cb_error_set((err), __FILE__, __LINE__, (kind), __VA_ARGS__)

/* Set the input location / detail / hint of an error already set (printf-style). */
void cb_error_at(CbError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb_error_detail(CbError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb_error_hint(CbError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the error to stderr in the PostgreSQL style:
 *   canbao: error: <input_at>: <message>
 *   DETAIL: ...   HINT: ...   (code: file:line)                                            */
void cb_error_print(const CbError *err);

#endif
