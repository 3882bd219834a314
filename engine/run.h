/*
 * run — one nightly run, from the delivery to the published lists.
 *
 * Order: connect (with retries) and check the schema; take the run lock; recover what a run
 * that died left behind (its ledger row 'running' → 'interrupted'; a run committed but not
 * published is published now when its files are complete, see release.h); write the ledger row
 * (state running, committed on its own so that a failure stays on record) with the parameters
 * and the night's sources (lastgood.h: delivered, stood in for by the last good delivery,
 * missing); read the delivery; link; group facts by person; compute the lists; write every
 * output into a staging folder and seal it (SHA256SUMS); store everything in PostgreSQL in one
 * transaction that also supersedes the earlier run of the same night and marks this one
 * succeeded; only then switch the output folder to the new release and mark the run published
 * and its alerts sent.  On failure the ledger row says failed (or cancelled) and why, and
 * nothing else of the run is visible.  SIGTERM / SIGINT stop the run at the next safe point
 * before the commit (after it, publication takes a moment and finishes).  A dry run does all
 * but the database writes and the publication, and says what it would publish.
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
    int         threads;         /* reader threads, 0: one per online CPU (load.h) */
    size_t      memory;          /* bytes the run aims to stay within; 0: 3/4 of the machine's */
    const char *state_dir;       /* NULL: <out_dir>.state (last good deliveries) */
    bool        dry_run;
    const struct SecOut *secout; /* NULL: no township packages (secout.h) */
} RunOptions;

/* Exit codes of the canbao command (documented in the README and in --help). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_OTHER = 1,
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,     /* bad extract, definition, parameter or rule file; required source missing */
    EXIT_DATABASE = 4,
    EXIT_LOCKED = 5,    /* another run holds the lock */
    EXIT_IO = 6,        /* output could not be written */
    EXIT_CANCELLED = 7  /* stopped by SIGTERM or SIGINT; nothing published */
};

int run_exit_code(const CbError *err);

/* The memory a run aims to stay within: opt->memory (--memory, CANBAO_MEMORY), else three
 * quarters of the machine's (opt may be NULL).  A quarter of it is for the facts (store.h). */
size_t run_memory(const RunOptions *opt);
/* "2048", "2048M", "8G" → bytes (MB without a unit); false unless at least 1 MB. */
bool   run_parse_size(const char *s, size_t *bytes);

/* Runs the night; returns true on success.  Prints where the lists are to stdout. */
bool run_nightly(const RunOptions *opt, CbError *err);

/* Reads and checks a delivery without a database or rules: per file counts to stdout. */
bool run_check_extracts(const RunOptions *opt, CbError *err);

#endif
