/*
 * output — the run's results as files and as PostgreSQL rows.
 *
 * CSV files (UTF-8, header row, RFC 4180 quoting, full 18-digit IDs, an `evidence` column with
 * file:record references) for every list, plus rejects.csv and files.csv (the per-file ledger).
 * pgout_stage_rows, pgout_stage_items and pgout_commit store the same in PostgreSQL in one
 * transaction that also marks the run succeeded; if anything fails, the transaction is rolled
 * back and nothing of the run is visible but its ledger row.
 */
#ifndef CANBAO_OUTPUT_H
#define CANBAO_OUTPUT_H

#include <libpq-fe.h>

#include "cberror.h"
#include "identity.h"
#include "lifecycle.h"
#include "lists.h"
#include "store.h"

/* Writes every list and the ledger CSVs into dir (which must exist). */
bool csvout_write_all(const char *dir, const Store *st, const ListSet *ls, CbError *err);

/* In one transaction: files, rejects, list rows and evidence (pgout_stage_rows, which begins
 * it), then the lists' lifecycle (when lc is not NULL), the identity pairs put up for review
 * (when idr is not NULL) and runs.state = succeeded (pgout_stage_items); each rolls the
 * transaction back when it fails and leaves it open otherwise, so that the run's files can be
 * written meanwhile; pgout_commit ends it (or rolls it back when the run was cancelled or the
 * COMMIT failed).  The rows do not depend on the lifecycle: lifecycle_prepare may run on
 * another connection at the same time. */
bool pgout_stage_rows(PGconn *conn, int64_t run_id, const Store *st, const ListSet *ls, CbError *err);
bool pgout_stage_items(PGconn *conn, int64_t run_id, const Store *st, const ListSet *ls,
                       const LcRun *lc, const IdentityResult *idr, const char *summary, CbError *err);
bool pgout_commit(PGconn *conn, CbError *err);

#endif
