/*
 * idrepair — the ID numbers one typing error away from a mistyped one.
 *
 * An agency's ID number that fails its check digit (or has an impossible birth date or region)
 * was usually typed with one wrong digit or two neighbouring digits swapped.  idrepair lists
 * every valid number within one such error; linkage.c keeps the ones on the household register
 * that agree with the record's other evidence and accepts a repair only when exactly one does.
 * Both functions are pure: no allocation, no global state.
 */
#ifndef CANBAO_IDREPAIR_H
#define CANBAO_IDREPAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "idnum.h"

/* Most candidates one error can give: 18 positions x 10 characters + 17 swaps. */
#define IDREPAIR_MAX 256

/*
 * idrepair_chars
 *     The significant characters of an ID number as written, when it could be a number with one
 *     typing error: after dropping white space (ASCII, U+3000, U+00A0) and mapping full-width
 *     digits and Ｘ/ｘ/x to ASCII, exactly 15 or 18 characters, each a digit or 'X'.  Writes them
 *     NUL-terminated into out and returns 15 or 18; returns 0 for anything else (empty, wrong
 *     length, another character), which no single substitution or swap can make valid.
 */
int idrepair_chars(const char *in, size_t n, char out[19]);

/*
 * idrepair_candidates
 *     Every valid number (idnum_normalise gives IDNUM_OK) that differs from chars (15 or 18
 *     characters from idrepair_chars) by one substituted character or one swap of two adjacent
 *     characters, as person keys, ascending and without repeats.  A 15-digit number's variants
 *     are upgraded to 18 digits.  chars itself is never a candidate.  Returns the count (at
 *     most cap, cap >= IDREPAIR_MAX keeps them all).
 */
int idrepair_candidates(const char *chars, int len, PersonKey *out, int cap);

#endif
