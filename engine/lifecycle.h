/*
 * lifecycle — every list row as an item with a stable identity across runs, and its state.
 *
 * An item is (list, person's ID number, cause) — the cause tells apart two rows of one person
 * in one list (a reconciliation case and year, an enrolment scheme, suspend or resume); it is
 * "" for most lists.  PostgreSQL (schema/003_lifecycle.sql) gives each item a number, item_id,
 * the opaque key that workbooks and alerts carry instead of anything that would reveal the
 * person, and keeps its state:
 *
 *     new ──► sent ──► acknowledged ──► resolved      (or dismissed, with who and why)
 *
 * new: listed, not yet in published files; sent: published; acknowledged: the township
 * answered (canbao feedback) or the pension system acknowledged (canbao ack); resolved: the
 * data no longer lists it (the person enrolled, the payment stopped ...); dismissed: a person
 * decided it was wrong.  An item that comes back after resolved is new again.
 *
 * A run uses it in three steps:
 *   1. lifecycle_prepare, before the outputs are written (own short transaction): reads every
 *      item of the night's lists with the township's latest answer to it, in one query, and
 *      matches them to the rows itself (by list, person and cause): per row its item_id,
 *      whether it is new since the last night, whether its alert was ever sent, the answer;
 *      and the open items that no row is about (schema/021).  Then registers the identities
 *      of the rows whose item did not exist yet (identity only; nothing of the run is visible)
 *      and reads back their item_ids (schema/020).  The writers read that.
 *   2. lifecycle_apply, inside the run's transaction, after the list rows are stored: records
 *      which items this run lists and moves the states: new / still open / gone (resolved by
 *      the data: of the items step 1 found, those still open).  A failed run changes nothing.
 *   3. lifecycle_mark_published, after the files are published: new → sent, and the ledger
 *      says published, in one transaction; an alert already sent is not sent as new again.
 *      Should the process die before this step, the next run finds the output folder pointing
 *      at this run's release and does it then (no alert is sent as new twice); should it die
 *      before the switch, this run's alerts were never out and go out as new later.
 * The commands canbao feedback and canbao ack take the run lock, so the state read in step 1
 * is the state step 2 changes.
 *
 * "New since last run" is judged by as-of date (first listed on this night), so that running
 * the same night again gives the same workbooks; an alert's new / repeated is judged by what
 * was published, so that the same night run twice sends no alert as new the second time.
 */
#ifndef CANBAO_LIFECYCLE_H
#define CANBAO_LIFECYCLE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "cberror.h"
#include "date.h"
#include "lists.h"

/* An alert's status in tonight's file. */
typedef enum {
    LC_ALERT_NEW = 0,     /* never in a published file */
    LC_ALERT_REPEATED,    /* published before, same class */
    LC_ALERT_CHANGED      /* published before in the other class (to_verify → confirmed ...) */
} LcAlertStatus;

/* What the writers need to know of one row.  Strings belong to the LcRun. */
typedef struct LcRow {
    int64_t     item_id;     /* 0: no item (a row not about one person, or no database) */
    const char *cause;       /* "" for most lists */
    const char *state;       /* state before this run: NULL never listed, "new", "sent", ... */
    bool        is_new;      /* first listed on this as-of date (or back after it was resolved) */
    bool        in_alerts;   /* goes into tonight's alert file (not acknowledged / dismissed,
                                unless its class changed since) */
    uint8_t     alert;       /* LcAlertStatus */
    Day         first_asof;  /* the night it was first listed (this night when new) */
    const char *outcome;     /* the township's latest feedback (结果), NULL when none */
    const char *outcome_date;/* YYYY-MM-DD or NULL */
    const char *note;        /* 备注 or NULL */
} LcRow;

typedef struct LcRun {
    Day      asof;
    int      nlists;
    LcRow   *rows[LIST_MAX];   /* rows[l][i] belongs to ls->lists[l] row i */
    int64_t *gone;             /* open items of the night's lists that no row is about (step 1;
                                  malloc'ed) */
    size_t   ngone;
    Arena    arena;
} LcRun;


/* Step 1 (see above).  Fills lc (free with lifecycle_free, also on failure). */
bool lifecycle_prepare(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, CbError *err);

/* Step 1 for a dry run (canbao run --dry-run): the same answers, but nothing is registered
 * (the transaction is rolled back); a row whose item is not known yet has item_id 0 and is new. */
bool lifecycle_prepare_dry(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, CbError *err);

/* Without a database (tests, check runs): every person row new, never sent, no feedback, and
 * item_id = its position among the set's person rows (1, 2, ...), causes as prepare makes them. */
void lifecycle_offline(const ListSet *ls, Day asof, LcRun *lc);

/* Step 2, inside the run's open transaction, after canbao.list_rows holds the run's rows.
 * Returns the counts when the pointers are not NULL. */
bool lifecycle_apply(PGconn *conn, int64_t run_id, const ListSet *ls, const LcRun *lc,
                     int64_t *n_new, int64_t *n_open, int64_t *n_gone, CbError *err);

/* Step 3, after publishing, in its own transaction. */
bool lifecycle_mark_sent(PGconn *conn, int64_t run_id, CbError *err);

/* Step 3 as a run does it (schema/004 canbao.run_published): in one transaction the ledger
 * says the run is published and what its files carried is sent.  Idempotent: a run already
 * marked published is left alone (*was_new = false). */
bool lifecycle_mark_published(PGconn *conn, int64_t run_id, bool *was_new, CbError *err);

void lifecycle_free(LcRun *lc);

/* Township feedback that becomes evidence for the rules: 已死亡 (a death) and 已迁出 (moved out),
 * to verify only, never confirmed on its own (view canbao.feedback_evidence). */
typedef enum { LC_FB_DEATH = 0, LC_FB_MOVED_OUT = 1 } LcFeedbackKind;

typedef struct LcFeedbackEvidence {
    PersonKey key;
    uint8_t   kind;          /* LcFeedbackKind */
    Day       date;          /* the date the clerk entered (DAY_NONE when empty) */
    Day       recorded;      /* the as-of date of the workbook it came back in */
    int64_t   feedback_id;   /* canbao.feedback: cite it as the evidence record */
    char      township[16];
} LcFeedbackEvidence;

/* Reads the township feedback that counts as evidence on asof (recorded for workbooks of
 * nights up to asof; only each item's latest answer counts) into out (a Vec of
 * LcFeedbackEvidence the caller initialised), sorted by person. */
bool lifecycle_feedback_evidence(PGconn *conn, Day asof, Vec *out, CbError *err);

#endif
