/*
 * fault — where a run may be interrupted: faults injected by the crash tests, and the
 * operator's SIGTERM / SIGINT.
 *
 * Test hook.  CANBAO_FAULT=POINT[:N][:ACTION] is read once, by fault_init (canbao run calls it
 * first thing); unset, every fault_hit is one test of a static flag.
 *   POINT   parse          every record read from an extract (N counts records, all files)
 *           link           identity resolution: 1 = as it starts, 2 = when it is done
 *           copy           every row the run's transaction sends with COPY (N counts rows)
 *           before_commit  the run's transaction is complete, COMMIT not yet sent
 *           after_commit   COMMIT returned, nothing published yet
 *           publish        publication steps: 1 = the release folder is in place, 2 = the
 *                          output folder's link switched to it, 3 = the ledger and the alerts'
 *                          lifecycle say published
 *   N       the N-th time the point is reached (default 1)
 *   ACTION  kill (default): SIGKILL to the process itself, as a power cut or the OOM killer
 *           would leave it (no cleanup, no exit handlers);  pause: log event=fault_pause and
 *           wait for SIGUSR1 (at most 10 minutes; SIGTERM / SIGINT end the wait too), then go
 *           on — a test stops PostgreSQL meanwhile.
 *
 * Cancellation.  cancel_install sets handlers for SIGTERM and SIGINT that only record the
 * signal; the run calls cancel_check at safe points (between stages, between files, every few
 * thousand records) and stops there with CBERR_CANCELLED.  A second signal of the same kind
 * ends the process at once (the default action).
 */
#ifndef CANBAO_FAULT_H
#define CANBAO_FAULT_H

#include <stdbool.h>

#include "cberror.h"

typedef enum {
    FAULT_PARSE = 0,
    FAULT_LINK,
    FAULT_COPY,
    FAULT_BEFORE_COMMIT,
    FAULT_AFTER_COMMIT,
    FAULT_PUBLISH,
    FAULT_NPOINTS
} FaultPoint;

/* Reads CANBAO_FAULT.  A value that is not of the form above is a usage error (err filled). */
bool fault_init(CbError *err);

/* True when CANBAO_FAULT named a point (for a log line). */
bool fault_armed(void);

extern int fault_armed_point_;   /* the armed point, or -1; read through fault_hit only */
void fault_fire_(FaultPoint p);

/* Counts one pass of point p; kills or pauses the process on the configured pass. */
static inline void
fault_hit(FaultPoint p)
{
    if (fault_armed_point_ == (int) p)
        fault_fire_(p);
}

/* SIGTERM and SIGINT set a flag (see above). */
void cancel_install(void);
bool cancel_requested(void);
/* The signal received (SIGTERM, SIGINT), 0 when none. */
int  cancel_signal(void);
/* False with err set (CBERR_CANCELLED, "cancelled by SIGTERM before <where>") when a signal
 * came; true otherwise. */
bool cancel_check(const char *where, CbError *err);

/* Sleeps for seconds, in short steps; returns early (false) when a cancel signal came. */
bool cancel_sleep(double seconds);

#endif
