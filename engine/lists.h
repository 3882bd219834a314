/*
 * lists — the lists of POLICY.md, computed per person bundle.
 *
 * lists_compute walks the grouped store person by person (in ID order, so every list comes
 * out sorted by id_number) and appends a row to each list whose condition holds, with the
 * list's own columns as text and references to the facts that decided it (file and record).
 * The output structure is generic (names, columns, rows, evidence) so that every writer (CSV,
 * PostgreSQL, later XLSX and XML) serves every list alike.  All memory belongs to the ListSet.
 */
#ifndef CANBAO_LISTS_H
#define CANBAO_LISTS_H

#include "arena.h"
#include "date.h"
#include "params.h"
#include "store.h"

#define LIST_MAX_COLS 16
#define LIST_MAX 16
#define ROW_MAX_EVIDENCE 64

typedef struct EvRef {
    uint32_t file;
    uint16_t kind;
    uint64_t record;
} EvRef;

typedef struct ListRow {
    PersonKey    key;
    const char  *township;
    const char  *village;
    const char  *household;
    const char **vals;        /* one per column */
    EvRef       *ev;
    int          nev;
} ListRow;

typedef struct ListOut {
    const char *name;         /* file stem and list name, e.g. unenrolled_eligible */
    const char *title;        /* the policy's name, e.g. 应参未参 */
    const char *rule;         /* the rule that produces it */
    int         ncols;
    const char *cols[LIST_MAX_COLS];
    Vec         rows;         /* ListRow */
} ListOut;

typedef struct ListSet {
    ListOut lists[LIST_MAX];
    int     n;
    char    rule_version[65]; /* SHA-256 of the rule set (parameters included) */
    Arena   arena;
} ListSet;

bool lists_compute(const Store *st, const Params *p, Day asof, ListSet *out, CbError *err);
void lists_free(ListSet *ls);

#endif
