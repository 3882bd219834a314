/*
 * date.h
 *     Calendar dates as day numbers: construction, parsing of the date
 *     spellings found in agency extracts, formatting, ages and month arithmetic.
 *
 * A Day counts days since 1970-01-01 in the proleptic Gregorian calendar
 * (1969-12-31 is -1).  Only years 1..9999 are representable through this
 * interface; anything outside, and every invalid input, is DAY_NONE.
 * A month number is year * 12 + (month - 1), so 2023-01 is 24276; -1 means none.
 *
 * All functions are pure: no allocation, no global state, thread-safe.
 * Input strings are (pointer, length) pairs and need not be NUL-terminated.
 */
#ifndef CANBAO_DATE_H
#define CANBAO_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t Day;

#define DAY_NONE INT32_MIN

/* Smallest and largest year a Day may fall in. */
#define DATE_YEAR_MIN 1
#define DATE_YEAR_MAX 9999

/*
 * date_valid_ymd
 *     True when y-m-d is a real calendar date with DATE_YEAR_MIN <= y <=
 *     DATE_YEAR_MAX (29 February only in leap years: 2000 yes, 1900 no).
 */
bool date_valid_ymd(int y, int m, int d);

/*
 * date_from_ymd
 *     The Day of y-m-d, or DAY_NONE when date_valid_ymd(y, m, d) is false.
 */
Day date_from_ymd(int y, int m, int d);

/*
 * date_to_ymd
 *     Splits a Day into year, month (1-12) and day (1-31).  Any of the out
 *     pointers may be NULL.  For DAY_NONE, or a Day outside the representable
 *     years, all three are set to 0.
 */
void date_to_ymd(Day day, int *y, int *m, int *d);

/*
 * date_parse
 *     Parses s[0..len) after trimming surrounding ASCII white space, U+3000
 *     and U+00A0.  Accepted spellings:
 *       20230105                 8 digits, always YYYYMMDD
 *       2023-01-05  2023-1-5     4-digit year, 1-2 digit month and day,
 *       2023/1/5    2023.01.05   the same separator ('-', '/' or '.') twice
 *       2023年1月5日             UTF-8
 *     each optionally followed by a time part, introduced by one space or 'T':
 *       H[H]:MM[:SS[.fff...]] with an optional 'Z' or +HH[:]MM / -HH[:]MM
 *     (the date is taken as written; no time-zone conversion);
 *       45000  45000.5           an Excel serial (1900 date system) of 1 to 5
 *                                integer digits and optional fraction; serial
 *                                1 is 1900-01-01, 60 (Lotus's fake 1900-02-29)
 *                                is rejected, 61 is 1900-03-01.
 *     Returns DAY_NONE for anything else, including an empty string, a NULL
 *     pointer, an invalid calendar date or an invalid time part.
 */
Day date_parse(const char *s, size_t len);

/*
 * date_parse_month
 *     Parses a month: 202301, 2023-01, 2023/1, 2023.01, 2023年1月 (optionally
 *     followed by 份), or any full date date_parse accepts apart from Excel
 *     serials (2023-01-15 gives its month).  Surrounding space is trimmed as
 *     for date_parse.  Returns the month number, or -1.
 */
int32_t date_parse_month(const char *s, size_t len);

/*
 * date_age
 *     Completed years between birth and asof: the birthday counts as reached
 *     on the same month and day, and a 29 February birthday is reached on
 *     1 March in common years.  Returns -1 when either Day is DAY_NONE or
 *     asof is before birth.
 */
int date_age(Day birth, Day asof);

/*
 * date_add_months
 *     The same day of the month n months later (n may be negative), clamped
 *     to the end of the target month: 2023-01-31 + 1 is 2023-02-28.  Returns
 *     DAY_NONE for DAY_NONE or when the result falls outside the
 *     representable years.
 */
Day date_add_months(Day day, int n);

/*
 * date_month_of
 *     The month number of a Day, or -1 for DAY_NONE.
 */
int32_t date_month_of(Day day);

/*
 * date_format
 *     Writes "YYYY-MM-DD" and a NUL into out; writes "" for DAY_NONE or a
 *     Day outside the representable years.
 */
void date_format(Day day, char out[11]);

/*
 * date_format_month
 *     Writes "YYYY-MM" and a NUL into out; writes "" for a month number
 *     outside years DATE_YEAR_MIN..DATE_YEAR_MAX (including -1).
 */
void date_format_month(int32_t month, char out[8]);

#endif /* CANBAO_DATE_H */
