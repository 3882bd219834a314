/*
 * run — one nightly run, from the delivery to the published lists.
 *
 * Order: connect and check the schema; write the ledger row (state running, committed on its
 * own so that a failure stays on record); load parameters and connector definitions; read the
 * delivery; group facts by person; compute the lists; write the CSV files into a staging
 * folder inside the output folder; store everything in PostgreSQL in one transaction that also
 * marks the run succeeded; only then move the files from staging into the output folder.  On
 * failure the ledger row says failed and why, and nothing else of the run is visible.
 */
#ifndef CANBAO_RUN_H
#define CANBAO_RUN_H

#include "cberror.h"
#include "date.h"

typedef struct RunOptions {
    Day         asof;
    const char *extracts_dir;
    const char *out_dir;
    const char *conninfo;        /* NULL: PG* environment */
    const char *connectors_dir;  /* definitions (*.conf) */
    const char *rules_dir;       /* parameters.conf and rule files */
    const char *schema_dir;
} RunOptions;

/* Exit codes of the canbao command (documented in the README and in --help). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_OTHER = 1,
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,     /* bad extract, definition, parameter or rule file; required source missing */
    EXIT_DATABASE = 4,
    EXIT_LOCKED = 5,    /* another run holds the lock */
    EXIT_IO = 6         /* output could not be written */
};

int run_exit_code(const CbError *err);

/* Runs the night; returns true on success.  Prints where the lists are to stdout. */
bool run_nightly(const RunOptions *opt, CbError *err);

/* Reads and checks a delivery without a database or rules: per file counts to stdout. */
bool run_check_extracts(const RunOptions *opt, CbError *err);

#endif
