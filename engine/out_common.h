/*
 * out_common — what the published outputs (township workbooks, suspension alerts, the nightly
 * report) share: the places of the reference list, the run's identity, ID masking, plain-word
 * flags, CSV fields and text widths.
 *
 * Township and village names never come from C: out_places_load reads them from the delivery's
 * reference list (ref_divisions.csv: 代码, 名称, 级别 乡镇/社区/村, 上级代码).  Everything here is
 * deterministic (no clock, no locale): the same inputs give the same bytes.
 */
#ifndef CANBAO_OUT_COMMON_H
#define CANBAO_OUT_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "cberror.h"
#include "date.h"
#include "lists.h"
#include "store.h"

/* One division of the reference list.  Strings belong to the OutPlaces. */
typedef struct OutPlace {
    const char *code;     /* 9 digits for a township, 12 for a village or community */
    const char *name;     /* 进学街道, 丹英社区 */
    const char *level;    /* 乡镇, 社区 or 村 as written in the list */
    const char *parent;   /* the township's code, or the county's 6 digits for a township */
} OutPlace;

typedef struct OutPlaces {
    Vec   items;          /* OutPlace, sorted by code */
    Arena arena;
} OutPlaces;

/* Reads the reference list at path (UTF-8 CSV with the header 代码,名称,级别,上级代码 in any
 * column order).  Rows without a code are skipped; a missing column is CBERR_INPUT, a file
 * that cannot be read CBERR_IO.  Free with out_places_free (also after a failure). */
bool            out_places_load(const char *path, OutPlaces *pl, CbError *err);
void            out_places_init(OutPlaces *pl);
/* Adds one place (tests, and callers with their own reference data); call out_places_sort after. */
void            out_places_add(OutPlaces *pl, const char *code, const char *name, const char *level,
                               const char *parent);
void            out_places_sort(OutPlaces *pl);
void            out_places_free(OutPlaces *pl);
/* The place with this code, or NULL. */
const OutPlace *out_places_find(const OutPlaces *pl, const char *code);
/* True when the place is a township (级别 乡镇). */
bool            out_place_is_township(const OutPlace *p);

/* What every output says about the run it came from (no clock time: only the as-of date). */
typedef struct OutRunInfo {
    Day         asof;
    const char *rule_version;    /* SHA-256 of the rule set (ListSet.rule_version) */
    const char *engine_version;  /* CANBAO_VERSION */
    const char *city;            /* division code of the city (parameter division), "222401" */
    /* Sources not delivered fresh tonight (engine/lastgood.h), one line each in words, e.g.
     * "health_death_cert（卫健）数据截至 2026-11-27：本期未交付，沿用上次交付"; none on a normal night. */
    const char *const *data_notes;
    int         ndata_notes;
    /* NULL, or the death sources the death lists were built without (they are incomplete). */
    const char *deaths_incomplete;
} OutRunInfo;

/* The published form of an ID number: the first 6 and the last 4 characters, '*' between
 * (222401********6976), or the number itself when mask is false.  out gets 18 chars + NUL;
 * anything that is not 18 characters long is copied as it is (truncated to 18). */
void        out_mask_id(const char *id, bool mask, char out[19]);
/* CANBAO_MASK_IDS: "0", "no" or "false" publish full numbers (the bureau's internal copy);
 * unset or anything else masks. */
bool        out_mask_from_env(void);

/* The plain words a clerk reads for a list flag token (government_paid → 政府代缴 ...), or NULL
 * when the token is not known (the caller shows the token). */
const char *out_flag_word(const char *token);
/* The words for the kinds of fact that make a row government-paid (FK_DISABILITY → 重度残疾,
 * FK_DIBAO → 低保, FK_TEKUN → 特困, FK_POOR_HOUSEHOLD → 贫困户), or NULL for any other kind. */
const char *out_gov_group_word(int fact_kind);
/* A Chinese label for a list column (death_date → 死亡日期 ...), or NULL when unknown. */
const char *out_column_label(const char *col);
/* A Chinese word for a column value where one exists (confirmed → 已确认), else the value. */
const char *out_value_word(const char *col, const char *value);

/* Index of column name in the list, or -1; and the list called name, or NULL. */
int            out_col(const ListOut *l, const char *name);
const ListOut *out_find_list(const ListSet *ls, const char *name);
/* A row's value of column c ("" when c < 0 or the value is absent). */
const char    *out_val(const ListRow *r, int c);

/* Width of UTF-8 text in spreadsheet column units: East Asian wide characters count 2. */
int         out_text_width(const char *s);
/* Number of code points of UTF-8 text. */
int         out_text_chars(const char *s);

/* CSV (RFC 4180): quotes only when the value holds a comma, quote, CR or LF. */
void        out_csv_field(FILE *f, const char *s, bool first);
/* The same for a CSV meant to be opened in a spreadsheet (the township twins): a value that
 * starts with = + - @ TAB or CR is written with a leading apostrophe, so Excel and WPS show it
 * as text and never run it as a formula (the OWASP "CSV injection" rule). */
void        out_csv_text_field(FILE *f, const char *s, bool first);

/* Opens dir/name for writing ("wb"); NULL and err (CBERR_IO, the path) on failure. */
FILE       *out_open(const char *dir, const char *name, CbError *err);
/* Closes f; false and err when anything written to it failed (disk full). */
bool        out_close(FILE *f, const char *dir, const char *name, CbError *err);

/* YYYYMMDD of a day (for file names); "" for DAY_NONE. */
void        out_day_compact(Day d, char out[9]);

#endif
