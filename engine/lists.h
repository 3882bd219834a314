/*
 * lists — the output of the rules: every list of POLICY.md as named columns of text, with
 * references to the records that decided each row.
 *
 * The rule engine (rules.h) fills a ListSet; the writers (csvout.c, pgout.c) read it.  The
 * structure is generic (names, columns, rows, evidence) so that every writer serves every list
 * alike.  Rows of person lists carry the person's key and the register's grouping (township,
 * village, household); rows of lists over reference data (township_staffing) have key 0 and
 * vals[0] is their own key (the township code).  All memory belongs to the ListSet.
 */
#ifndef CANBAO_LISTS_H
#define CANBAO_LISTS_H

#include "arena.h"
#include "date.h"
#include "store.h"

#define LIST_MAX_COLS 40
#define LIST_MAX 32
#define ROW_MAX_EVIDENCE 64

/* A record that decided a row: a file of the run (Store.files), its record number, and the
 * kind of fact it gave. */
typedef struct EvRef {
    uint32_t file;
    uint16_t kind;
    uint64_t record;
} EvRef;

typedef struct ListRow {
    PersonKey    key;         /* 0 for rows that are not about one person */
    const char  *township;
    const char  *village;
    const char  *household;
    const char **vals;        /* one per column; "" for an absent value */
    EvRef       *ev;
    int          nev;
} ListRow;

typedef struct ListOut {
    const char *name;         /* file stem and list name, e.g. unenrolled_eligible */
    const char *title;        /* the policy's name, e.g. 应参未参 */
    const char *rule;         /* the rule that produces it: "file.rules:list" */
    int         ncols;
    const char *cols[LIST_MAX_COLS];
    Vec         rows;         /* ListRow, in the list's order */
} ListOut;

typedef struct ListSet {
    ListOut lists[LIST_MAX];
    int     n;
    char    rule_version[65]; /* SHA-256 of the rule set (rule files and parameters) */
    Arena   arena;
    Vec     arenas;           /* Arena: more strings of rows (other threads' lists), owned */
} ListSet;

/* Releases the rows and strings of a ListSet (a zeroed ListSet is fine). */
void lists_free(ListSet *ls);
/* Takes over the string arena of `from` (its rows' strings and evidence), then frees the rest
 * of `from`; the rows themselves must have been copied into ls before. */
void lists_adopt(ListSet *ls, ListSet *from);

#endif
