/*
 * load — a night's delivery into the store.
 *
 * Lists the delivery folder, gives each file to the one source definition that claims it,
 * reads every file through its definition and turns each record into a person (register), a
 * fact, a duplicate (the same canonical record seen before in this source) or a reject (with
 * file, record number, line, byte offset, reason and raw text).  For every file:
 * records read = accepted + duplicates + rejected.
 *
 * Fails (err filled) when a file claimed by a definition cannot be read to its end (I/O error,
 * truncated gzip, a mapped column missing from its header), when two definitions claim the
 * same file, or when a required source delivered no file.  Files no definition claims are
 * listed in the report, not read.
 */
#ifndef CANBAO_LOAD_H
#define CANBAO_LOAD_H

#include "cberror.h"
#include "sourcedef.h"
#include "store.h"

typedef struct LoadReport {
    char   **unclaimed;       /* file names no definition claims (malloc'ed) */
    int      nunclaimed;
    int      nmissing_optional;
    char   **missing_optional;/* optional sources without a file */
    int      nstopped;
    char   **stopped;         /* "source: reason" of optional sources whose delivery failed
                                 its manifest or signature check (not read) */
    double   seconds;
    uint64_t bytes;           /* decompressed bytes read */
} LoadReport;

/* require_sources: a required source without a file fails the load (a run); false for
 * checking a partial delivery, where it is only reported. */
bool load_delivery(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                   bool require_sources, LoadReport *rep, CbError *err);
void load_report_free(LoadReport *rep);

#endif
