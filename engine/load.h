/*
 * load — a night's delivery into the store.
 *
 * Lists the delivery folder, gives each file to the one source definition that claims it,
 * reads every file through its definition and turns each record into a person (register), a
 * fact, a duplicate (the same canonical record seen before in this source) or a reject (with
 * file, record number, line, byte offset, reason and raw text).  For every file:
 * records read = accepted + duplicates + rejected.  A row whose split() fields hold several
 * values (extract.h) is one record read: it becomes one fact per value (Fact.sub = 1, 2, ...,
 * all with the row's record number), counted accepted when any of them is new, duplicate when
 * none is, rejected as a whole.
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

/* A record that needs identity resolution (identity.h) before it can become a fact: its ID is
 * missing or fails its check (unresolved), or it is a training copy of a record of a kind that
 * can be linked without ID (resolved: already a fact, kept for the linkage model), or an ID
 * that was valid but written differently (resolved, listed in links.csv).  Strings live in the
 * store's string arena. */
typedef struct PendingRecord {
    Fact        fact;         /* the record's fact; person = PERSON_KEY_NONE until linked */
    uint32_t    file;
    uint64_t    line_no, byte_offset;
    uint64_t    hash;         /* the record's canonical hash: with the source, a stable key */
    const char *raw;          /* raw text, for a reject (unresolved only) */
    const char *id_chars;     /* the ID's significant characters (15 or 18), NULL when none */
    uint8_t     id_status;    /* IdnumStatus of the ID as written */
    bool        resolved;     /* already a fact (valid ID); fact.person is its person */
    bool        rewritten;    /* resolved, and its valid ID was written otherwise */
    bool        linkable;     /* its kind can be linked without ID (id_number not required) */
    uint8_t     sex;          /* SEX_*, 0xFF unknown */
    int16_t     age;          /* -1 unknown */
    Day         birth;        /* DAY_NONE unknown */
    Day         date;         /* the record's own date (a day in slot d1), DAY_NONE if none */
    const char *name, *address, *division;   /* as mapped, NULL when absent */
} PendingRecord;

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
    Vec      pending;         /* PendingRecord, in file and record order: identity_link()
                                 resolves them; until then the files' counts do not balance */
} LoadReport;

/* require_sources: a required source without a file fails the load (a run); false for
 * checking a partial delivery, where it is only reported.  Reads with one thread per online
 * CPU (load_delivery_threads with threads = 0). */
bool load_delivery(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                   bool require_sources, LoadReport *rep, CbError *err);

#define LOAD_MAX_THREADS 256

/* The same with `threads` reader threads (0: load_default_threads()).  The files are read in
 * parallel, a source's files by one thread in name order; the store ends up the same whatever
 * the number of threads: the same files (numbered in definition order, then name order),
 * persons, rejects and pending records in file and record order, the same counts, and the same
 * facts -- these in an order that depends on the threads until store_group() sorts them (no
 * two facts compare equal).  A large fixed-width or JSON Lines file is cut into pieces after
 * line ends that several threads parse, merged in order.  A failure reports the first failing
 * file in that order. */
bool load_delivery_threads(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                           bool require_sources, int threads, LoadReport *rep, CbError *err);
/* The same for a run on asof: sources with history = latest (sourcedef.h) keep per person only
 * the latest fact on or before asof and the latest after it, the others superseded while
 * reading (counted accepted; logged per source).  Every rule that may ask about such a kind
 * must be answered the same by those two (rules_check_history).  DAY_NONE keeps every fact. */
bool load_delivery_asof(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                        bool require_sources, int threads, Day asof, LoadReport *rep, CbError *err);

/* Tests: large line-format files (fixed, jsonl) are read in pieces of this many bytes, shared
 * among the threads; 0 restores the default (4 MiB pieces, files of 16 MiB and more).  With a
 * size given, every line-format file is read in pieces.  Not thread-safe. */
void load_set_piece_bytes(size_t bytes);

/* The records of a line-format file (CSV, fixed width, JSON Lines) of about `bytes` bytes
 * (inflated), estimated from the line ends in its first MiB, inflated when it is gzip; 0 when
 * that tells nothing (no line end, not readable).  A file shorter than that: its lines + 1. */
uint64_t load_estimate_records(const char *path, uint64_t bytes);

/* Online CPUs (at least 1, at most LOAD_MAX_THREADS). */
int  load_default_threads(void);
void load_report_free(LoadReport *rep);

#endif
