/*
 * out_alerts — suspension alerts for the pension system: XML (schema/alerts.xsd) and CSV.
 *
 * From the deceased-beneficiaries list: one document per night and kind, confirmed and
 * to_verify apart (alerts_confirmed_YYYYMMDD.xml, alerts_to_verify_YYYYMMDD.xml, and .csv
 * twins with the same fields).  A row whose confidence is neither word goes to to_verify: what
 * is not understood is never confirmed.  An alert goes into the files every night until it is
 * acknowledged or dismissed (lifecycle.h: LcRow.in_alerts), with status new / repeated /
 * changed.  Full ID numbers (the pension system's own file); deterministic bytes.
 */
#ifndef CANBAO_OUT_ALERTS_H
#define CANBAO_OUT_ALERTS_H

#include "cberror.h"
#include "lifecycle.h"
#include "lists.h"
#include "out_common.h"
#include "store.h"

#define OUT_ALERTS_LIST "deceased_beneficiaries"
#define OUT_ALERTS_NS "urn:canbao:suspension-alerts:1"

typedef struct OutAlertCounts {
    int confirmed, to_verify;          /* alerts in each document */
    int fresh_confirmed, fresh_to_verify; /* of them: status new */
    int changed, repeated;
    int held_back;                     /* rows not sent: acknowledged or dismissed */
} OutAlertCounts;

/* Writes the four files into dir.  list: the list to read (NULL: OUT_ALERTS_LIST); when the
 * run has no such list the documents are written empty (the pension system sees the night
 * ran).  counts may be NULL. */
bool out_alerts_write(const char *dir, const Store *st, const ListSet *ls, const LcRun *lc,
                      const OutPlaces *pl, const OutRunInfo *ri, const char *list,
                      OutAlertCounts *counts, CbError *err);

/* The file name of a document: alerts_<kind>_<YYYYMMDD>.<ext> */
void out_alerts_file_name(const char *kind, Day asof, const char *ext, char *out, size_t outsize);

#endif
