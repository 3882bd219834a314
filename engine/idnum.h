/*
 * idnum.h
 *     Citizen identity numbers (GB 11643-1999): normalisation of the
 *     spellings found in agency extracts, validation, and the person key.
 *
 * A normalised number is 18 ASCII characters: a 6-digit region code, an
 * 8-digit birth date YYYYMMDD, a 3-digit sequence number (odd for men, even
 * for women) and a MOD 11-2 check digit '0'-'9' or 'X'.
 *
 * A person is keyed by the first 17 digits read as an integer (PersonKey);
 * the check digit is redundant and is recomputed by idnum_format.  Key 0
 * means "no person".
 *
 * All functions are pure: no allocation, no global state, thread-safe.
 */
#ifndef CANBAO_IDNUM_H
#define CANBAO_IDNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"

typedef uint64_t PersonKey;

#define PERSON_KEY_NONE ((PersonKey) 0)

/* Length of a normalised number, without the NUL. */
#define IDNUM_LEN 18

typedef enum
{
	IDNUM_OK,
	IDNUM_EMPTY,		/* nothing but space */
	IDNUM_BAD_LENGTH,	/* not 15 or 18 characters */
	IDNUM_BAD_CHAR,		/* not a digit, or X anywhere but the check digit */
	IDNUM_BAD_DATE,		/* birth date not a calendar date in 1880..2100 */
	IDNUM_BAD_CHECK,	/* check digit does not match */
	IDNUM_BAD_REGION	/* first two digits not a province code */
} IdnumStatus;

/* Earliest and latest birth year accepted in a number. */
#define IDNUM_YEAR_MIN 1880
#define IDNUM_YEAR_MAX 2100

/*
 * idnum_status_text
 *     A short English phrase for status ("wrong check digit"), suitable for
 *     a message such as: invalid ID number "...": wrong check digit.
 *     The string is static; an unknown value gives "unknown status".
 */
const char *idnum_status_text(IdnumStatus status);

/*
 * idnum_normalise
 *     Normalises and validates the ID number in in[0..len) (UTF-8, need not
 *     be NUL-terminated; in may be NULL when len is 0).
 *
 *     Space anywhere is dropped: ASCII white space, U+3000 (ideographic)
 *     and U+00A0 (no-break).  Full-width digits U+FF10-FF19 become ASCII
 *     digits; 'x', U+FF38 'Ｘ' and U+FF58 'ｘ' become 'X'.  A 15-digit
 *     number (first generation, born 1900-1999) is upgraded by inserting
 *     "19" before its YYMMDD and appending the computed check digit.
 *
 *     Checks are made in this order and the first failure is returned:
 *     IDNUM_EMPTY, IDNUM_BAD_CHAR (any other character, any invalid UTF-8),
 *     IDNUM_BAD_LENGTH, IDNUM_BAD_CHAR (X before the last position, or in a
 *     15-digit number), IDNUM_BAD_DATE, IDNUM_BAD_REGION, IDNUM_BAD_CHECK.
 *
 *     out always ends up NUL-terminated.  From IDNUM_BAD_DATE on (that is,
 *     for IDNUM_OK, IDNUM_BAD_DATE, IDNUM_BAD_REGION and IDNUM_BAD_CHECK)
 *     it holds the 18 normalised characters, so that a caller may try to
 *     repair a wrong check digit; for earlier failures it holds at most the
 *     first 18 normalised characters and must not be used as a number.
 */
IdnumStatus idnum_normalise(const char *in, size_t len, char out[19]);

/*
 * idnum_is_valid
 *     True when the NUL-terminated string s normalises to IDNUM_OK.
 *     NULL gives false.
 */
bool idnum_is_valid(const char *s);

/*
 * idnum_check_digit
 *     The MOD 11-2 check digit ('0'-'9' or 'X') of the 17 digits first17
 *     (not NUL-terminated).  Returns '\0' if any of them is not a digit.
 */
char idnum_check_digit(const char first17[17]);

/*
 * idnum_key
 *     The PersonKey of a number: its first 17 digits as an integer.  Only
 *     the first 17 characters are read; returns PERSON_KEY_NONE if any of
 *     them is not a digit.
 */
PersonKey idnum_key(const char id18[18]);

/*
 * idnum_format
 *     Inverse of idnum_key: writes the 17 digits of key (zero-padded), its
 *     check digit and a NUL into out.  Writes "" for PERSON_KEY_NONE or a
 *     key of more than 17 digits.
 */
void idnum_format(PersonKey key, char out[19]);

/*
 * idnum_birth_day
 *     The birth date encoded in characters 7-14 of a normalised number, or
 *     DAY_NONE if they are not a valid date.  The year range is not checked.
 */
Day idnum_birth_day(const char id18[18]);

/*
 * idnum_sex
 *     1 (male) if the 17th digit is odd, 2 (female) if even, 0 if it is not
 *     a digit (GB/T 2261.1 codes).
 */
int idnum_sex(const char id18[18]);

#endif /* CANBAO_IDNUM_H */
