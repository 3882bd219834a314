/*
 * text — small UTF-8 helpers shared by the readers and writers.
 */
#ifndef CANBAO_TEXT_H
#define CANBAO_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed UTF-8 character at s (n bytes available), or 0 when the
 * bytes there are not well-formed UTF-8 (overlong forms, surrogates, > U+10FFFF, truncated).
 * A NUL byte counts as invalid: no text we keep may contain one. */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* True when all n bytes are well-formed UTF-8 without NUL; else *bad_at = first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad_at);

/* Appends s (NULL: "") as a JSON string literal at out[o], NUL-terminated, cut short rather than
 * overflow cap; returns the new length. */
size_t json_str(char *out, size_t cap, size_t o, const char *s);

/* v in decimal, as snprintf "%lld" gives it, into out (TEXT_INT_MAX bytes: 20 digits, a sign
 * and a NUL); returns its length.  A call to snprintf per number showed in the profiles of the
 * COPY streams, the rules' values and the workbooks' cells. */
#define TEXT_INT_MAX 22
size_t text_int(char out[TEXT_INT_MAX], int64_t v);

#endif
