#include "idrepair.h"

#include <stdlib.h>
#include <string.h>

int
idrepair_chars(const char *in, size_t n, char out[19])
{
    const unsigned char *u = (const unsigned char *) in;
    int k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n;) {
        char ch = 0;
        size_t w = 1;
        if (u[i] == ' ' || u[i] == '\t' || u[i] == '\r' || u[i] == '\n') {
            i++;
            continue;
        } else if (n - i >= 3 && u[i] == 0xE3 && u[i + 1] == 0x80 && u[i + 2] == 0x80) {
            i += 3;
            continue;
        } else if (n - i >= 2 && u[i] == 0xC2 && u[i + 1] == 0xA0) {
            i += 2;
            continue;
        } else if (u[i] >= '0' && u[i] <= '9') {
            ch = (char) u[i];
        } else if (u[i] == 'X' || u[i] == 'x') {
            ch = 'X';
        } else if (n - i >= 3 && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] >= 0x90 && u[i + 2] <= 0x99) {
            ch = (char) ('0' + (u[i + 2] - 0x90));
            w = 3;
        } else if (n - i >= 3 && u[i] == 0xEF &&
                   ((u[i + 1] == 0xBC && u[i + 2] == 0xB8) || (u[i + 1] == 0xBD && u[i + 2] == 0x98))) {
            ch = 'X';
            w = 3;
        } else {
            return 0;
        }
        if (k == 18)
            return 0;
        out[k++] = ch;
        i += w;
    }
    out[k] = '\0';
    return k == 15 || k == 18 ? k : 0;
}

static int
cmp_key(const void *a, const void *b)
{
    PersonKey x = *(const PersonKey *) a, y = *(const PersonKey *) b;
    return (x > y) - (x < y);
}

static void
try_variant(const char *v, int len, PersonKey *out, int cap, int *n)
{
    char id[19];
    if (idnum_normalise(v, (size_t) len, id) != IDNUM_OK || *n >= cap)
        return;
    out[(*n)++] = idnum_key(id);
}

int
idrepair_candidates(const char *chars, int len, PersonKey *out, int cap)
{
    static const char alphabet[] = "0123456789X";
    char v[19];
    int n = 0;
    if (len != 15 && len != 18)
        return 0;
    for (int i = 0; i < len; i++) {
        for (int a = 0; a < 11; a++) {
            if (alphabet[a] == chars[i])
                continue;
            memcpy(v, chars, (size_t) len);
            v[i] = alphabet[a];
            try_variant(v, len, out, cap, &n);
        }
    }
    for (int i = 0; i + 1 < len; i++) {
        if (chars[i] == chars[i + 1])
            continue;
        memcpy(v, chars, (size_t) len);
        v[i] = chars[i + 1];
        v[i + 1] = chars[i];
        try_variant(v, len, out, cap, &n);
    }
    qsort(out, (size_t) n, sizeof(PersonKey), cmp_key);
    int u = 0;
    char self[19];
    PersonKey own = idnum_normalise(chars, (size_t) len, self) == IDNUM_OK ? idnum_key(self) : 0;
    for (int i = 0; i < n; i++)
        if ((u == 0 || out[u - 1] != out[i]) && out[i] != own)
            out[u++] = out[i];
    return u;
}
