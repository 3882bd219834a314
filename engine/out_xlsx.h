/*
 * out_xlsx — township outreach workbooks (libxlsxwriter) and their CSV twins.
 *
 * One workbook per township: township_<code>_<name>.xlsx, with a summary sheet (汇总) first,
 * then one sheet per village or community that has rows (its name from the reference list,
 * at most 31 characters, unique), and a hidden sheet _canbao that says which township and
 * night the workbook is for (canbao feedback reads it back).  A sheet's rows are sorted by
 * household (户号), then ID number, so that a household is visited once; households are
 * banded and numbered (户序).  Columns (OUT_XLSX_COLUMNS below, Chinese headers): identifying
 * and informative columns, locked; the clerk's feedback columns 结果 (a drop-down of
 * OUT_XLSX_OUTCOMES), 日期 (a date), 备注, unlocked; and 行键, the row's item number in
 * PostgreSQL, hidden — it names the row without revealing the person.  The sheet is
 * protected (no password: against mistakes, not against people), frozen header, auto
 * filter, widths fitted to Chinese text, printed landscape on A4, fit to width, header row
 * repeated, page numbers in the footer.  Rows new since the night before say 新 and are
 * highlighted by a conditional format.  ID numbers are masked unless the options say not.
 *
 * The CSV twin township_<code>_<name>.csv (UTF-8 with BOM, CRLF) holds the same columns and
 * rows in the same order.  Files are byte-identical for the same inputs: the workbook's
 * creation time is the as-of date.
 */
#ifndef CANBAO_OUT_XLSX_H
#define CANBAO_OUT_XLSX_H

#include "cberror.h"
#include "lifecycle.h"
#include "lists.h"
#include "out_common.h"
#include "store.h"

#define OUT_XLSX_MAX_LISTS 8

/* The columns of a village sheet and of the CSV twin, in order. */
enum {
    OXC_SEQ, OXC_VILLAGE, OXC_HOUSEHOLD, OXC_HH_SEQ, OXC_NAME, OXC_SEX, OXC_AGE, OXC_ID, OXC_PHONE,
    OXC_ADDRESS, OXC_MATTER, OXC_HINTS, OXC_NEW, OXC_OUTCOME, OXC_DATE, OXC_NOTE, OXC_KEY,
    OXC_COUNT
};
extern const char *const OUT_XLSX_COLUMNS[OXC_COUNT];

/* The outcomes a clerk may choose in 结果, in drop-down order. */
#define OUT_XLSX_NOUTCOMES 7
extern const char *const OUT_XLSX_OUTCOMES[OUT_XLSX_NOUTCOMES];

/* Names of the summary and the hidden sheet, and the format tag in the hidden sheet. */
#define OUT_XLSX_SUMMARY_SHEET "汇总"
#define OUT_XLSX_META_SHEET "_canbao"
#define OUT_XLSX_FORMAT "canbao-township-workbook/1"

typedef struct OutXlsxOptions {
    bool        mask_ids;                       /* first 6 and last 4 digits only */
    int         nlists;
    const char *lists[OUT_XLSX_MAX_LISTS];      /* which lists go to the townships, in order */
    int         threads;                        /* townships written at once (at least 1) */
} OutXlsxOptions;

/* Defaults: one thread; mask_ids from CANBAO_MASK_IDS (masked unless "0"/"no"/"false"); lists from
 * CANBAO_TOWNSHIP_LISTS (comma-separated), else unenrolled_eligible, approaching_benefit_age,
 * proof_of_life_due (those the run does not produce are skipped).  The strings of the
 * environment variable are copied into buf (kept by the caller while opt is used). */
void out_xlsx_options_default(OutXlsxOptions *opt, char *buf, size_t bufsize);

/* Writes a workbook and a CSV twin for every township of the reference list under ri->city
 * (also one without rows: it says so) and for every other township that has rows.  st gives
 * names, sex, birth, phone and address (store_person); lc gives item numbers, "new" and the
 * township's latest answers.  With opt->threads > 1 several townships are written at once (each
 * to files of its own; the bytes do not depend on the thread count).  Returns false with err on
 * an I/O or library failure (that of the first township in code order that failed). */
bool out_xlsx_write_townships(const char *dir, const Store *st, const ListSet *ls, const LcRun *lc,
                              const OutPlaces *pl, const OutRunInfo *ri, const OutXlsxOptions *opt,
                              CbError *err);

/* The file stem for a township: township_<code>_<name> (name "" when unknown); out gets at
 * most outsize bytes. */
void out_xlsx_stem(const char *code, const char *name, char *out, size_t outsize);

#endif
