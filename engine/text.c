#include "text.h"

#include <stdint.h>
#include <stdio.h>

size_t
utf8_char_len(const unsigned char *s, size_t n)
{
    if (n == 0 || s[0] == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        k = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        k = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

bool
utf8_valid(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80) {
            i++;
            continue;
        }
        /* most Chinese text: a lead byte E1-EC or EE-EF makes three bytes with any two
         * continuation bytes valid (never overlong, never a surrogate; ED is left to the
         * general check) */
        if (((c >= 0xE1 && c <= 0xEC) || c >= 0xEE) && c <= 0xEF && n - i >= 3 &&
            (u[i + 1] & 0xC0) == 0x80 && (u[i + 2] & 0xC0) == 0x80) {
            i += 3;
            continue;
        }
        size_t k = utf8_char_len(u + i, n - i);
        if (k == 0) {
            if (bad_at)
                *bad_at = i;
            return false;
        }
        i += k;
    }
    return true;
}

size_t
json_str(char *out, size_t cap, size_t o, const char *s)
{
    if (o + 2 >= cap)
        return o;
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p && o + 8 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char) *p;
        } else if (*p < 0x20) {
            o += (size_t) snprintf(out + o, cap - o, "\\u%04x", *p);
        } else {
            out[o++] = (char) *p;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

size_t
text_int(char out[TEXT_INT_MAX], int64_t v)
{
    char tmp[TEXT_INT_MAX];
    size_t k = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    do {
        tmp[k++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        out[o++] = '-';
    while (k > 0)
        out[o++] = tmp[--k];
    out[o] = '\0';
    return o;
}
