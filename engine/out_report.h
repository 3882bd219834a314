/*
 * out_report — the nightly report: one self-contained HTML page for the bureau's leaders.
 *
 * report_YYYYMMDD.html: no JavaScript, no network, no fonts or images from elsewhere; charts
 * are inline SVG drawn here.  It shows, per township, coverage (enrolled / (enrolled +
 * eligible but not enrolled)), the outreach results (of the persons on the list a month ago,
 * how many have enrolled since — from PostgreSQL history — and the townships' answers),
 * staffing against one staff member per N service objects (from the township_staffing list
 * when the run has it, else counted here), the trend of the unenrolled and of deaths detected
 * over the last nights, the rows of every list (new tonight), rejects per agency, and the
 * run's timings.  Deterministic: the same input gives the same bytes (the timings are the
 * run's own metadata and are shown as given).
 */
#ifndef CANBAO_OUT_REPORT_H
#define CANBAO_OUT_REPORT_H

#include <libpq-fe.h>

#include "cberror.h"
#include "lifecycle.h"
#include "lists.h"
#include "out_alerts.h"
#include "out_common.h"
#include "store.h"

typedef struct OutTiming {
    const char *stage;      /* e.g. "load", "link", "rules", "outputs", "database" */
    double      seconds;
} OutTiming;

/* History from PostgreSQL (earlier nights only; tonight comes from memory). */
typedef struct OutTrendPoint {
    Day     asof;
    char    list[64];
    int64_t rows, new_rows;
} OutTrendPoint;

typedef struct OutCohortMember {
    PersonKey key;
    char      township[16];
} OutCohortMember;

typedef struct OutFeedbackCount {
    char    township[16];
    char    outcome[32];
    int64_t n;
} OutFeedbackCount;

typedef struct OutHistory {
    Vec trend;              /* OutTrendPoint, by night then list */
    Day cohort_asof;        /* the night a month ago the cohort comes from; DAY_NONE: none */
    Vec cohort;             /* OutCohortMember: that night's unenrolled_eligible */
    Vec feedback;           /* OutFeedbackCount: the townships' latest answers */
} OutHistory;

void out_history_init(OutHistory *h);
void out_history_free(OutHistory *h);
/* Reads the last `nights` nights before asof, the cohort of a month ago and the answers
 * (schema/003: report_trend, report_cohort, report_feedback). */
bool out_history_load(PGconn *conn, Day asof, int nights, OutHistory *h, CbError *err);

typedef struct OutReportInput {
    const Store          *st;
    const ListSet        *ls;
    const LcRun          *lc;        /* may be NULL */
    const OutPlaces      *pl;
    const OutRunInfo     *ri;
    const OutHistory     *hist;      /* NULL: no history (no database) */
    const OutAlertCounts *alerts;    /* NULL: alerts not written */
    const OutTiming      *timings;
    int                   ntimings;
    int                   staff_per; /* service objects per township staff member (Art. 16: 6000) */
    const uint8_t        *enrolled;  /* per person of st (its order): 1 when a live resident
                                        enrolment (out_report_enrolled_pass); NULL: from the facts */
} OutReportInput;

/* Which persons of the grouped store st whose facts are in memory (store_in_pass) have a live
 * resident enrolment: e[i] = 1 or 0, in the store's order.  What the report needs of the facts,
 * so that they can be let go before the files are written; called after each pass. */
void     out_report_enrolled_pass(const Store *st, uint8_t *e);

/* Writes dir/report_YYYYMMDD.html. */
bool out_report_write(const char *dir, const OutReportInput *in, CbError *err);

void out_report_file_name(Day asof, char *out, size_t outsize);

#endif
