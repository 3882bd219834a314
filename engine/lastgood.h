/*
 * lastgood — which sources a night has, and the last good delivery of the optional ones.
 *
 * Before the delivery is read, lastgood_plan looks at every source definition: delivered
 * (a file of the night claims it), missing, or — an optional source with `max_age = N days`
 * that delivered nothing — standing in with its last good delivery when that is at most N days
 * old.  The last good delivery of such a source is a copy of its files (with its manifest and
 * signature) in the state folder, <state>/last_good/<source>/<YYYY-MM-DD>/, made by
 * lastgood_save after a night that succeeded with a fresh delivery of it.  When a source
 * stands in, the run reads a folder of links (<state>/.input-<pid>/) to every file of the
 * night plus the stand-in's files, so that the readers see one delivery.
 *
 * A death list built without the police register or a health death-certificate source
 * (neither delivered nor stood in for, or stopped by its manifest check) is incomplete:
 * plan->deaths_incomplete names the sources, and every output says so.
 */
#ifndef CANBAO_LASTGOOD_H
#define CANBAO_LASTGOOD_H

#include <limits.h>
#include <stdbool.h>

#include "cberror.h"
#include "date.h"
#include "load.h"
#include "sourcedef.h"

typedef enum {
    SRC_DELIVERED = 0,
    SRC_LAST_GOOD,      /* missing tonight; the last good delivery stands in */
    SRC_MISSING,        /* missing tonight, nothing (recent enough) to stand in */
    SRC_STOPPED         /* delivered, but its manifest or signature check failed: not read */
} SourceStatusKind;

typedef struct SourceStatus {
    const SourceDef *def;
    SourceStatusKind status;
    Day   data_asof;        /* delivered: the night; last good: the night it came; else DAY_NONE */
    int   nfiles;           /* files read for it */
    bool  death_essential;  /* the police register, or deaths certified by police or health */
} SourceStatus;

#define LASTGOOD_NOTE_MAX 16

typedef struct SourcePlan {
    SourceStatus *src;                /* one per definition, in definition order */
    int           n;
    char          input_dir[PATH_MAX];/* the folder to read: the delivery, or the links folder */
    bool          links;              /* input_dir is a links folder (removed by lastgood_free) */
    char          deaths_incomplete[512]; /* "" or "health_death_cert（卫健）, ..." */
    const char   *notes[LASTGOOD_NOTE_MAX]; /* one line per source not delivered fresh, in words */
    int           nnotes;
    char          note_buf[LASTGOOD_NOTE_MAX][384];
} SourcePlan;

/* Plans the night's sources (see above).  state_dir may not exist yet. */
bool lastgood_plan(const SourceDef *defs, int ndefs, const char *extracts, const char *state_dir,
                   Day asof, SourcePlan *plan, CbError *err);

/* After the delivery was read: sources stopped by their manifest check (rep->stopped). */
void lastgood_after_load(SourcePlan *plan, const LoadReport *rep);

/* The plan as JSON for the ledger (canbao.runs.sources); malloc'ed. */
char *lastgood_json(const SourcePlan *plan);

/* After a night that succeeded: keeps a copy of tonight's files of every optional source with
 * max_age that was delivered fresh, and drops older copies.  Failures are logged, not fatal
 * (the night is published already). */
void lastgood_save(const SourcePlan *plan, const char *extracts, const char *state_dir, Day asof);

void lastgood_free(SourcePlan *plan);

#endif
