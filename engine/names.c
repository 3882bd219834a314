#include "names.h"

#include <opencc.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utrans.h>

#include "arena.h"

/* What one code point becomes: its simplified form (UTF-8) and its toneless pinyin (ASCII). */
typedef struct CharEntry {
    uint32_t cp;
    char     simp[16];
    char     pinyin[16];
    bool     has_simp, has_pinyin;
} CharEntry;

struct NameNorm {
    const UNormalizer2 *nfkc;
    UTransliterator    *latin;
    opencc_t            cc;
    uint32_t           *slots;      /* open addressing: entry index + 1, 0 = empty */
    size_t              mask;
    CharEntry          *entries;
    size_t              nentries, cap;
};

NameNorm *
names_open(const char *opencc_config, CbError *err)
{
    NameNorm *nn = xcalloc(1, sizeof *nn);
    UErrorCode st = U_ZERO_ERROR;
    nn->nfkc = unorm2_getNFKCInstance(&st);
    if (U_FAILURE(st)) {
        CB_FAIL(err, CBERR_INTERNAL, "could not open ICU's NFKC normaliser: %s", u_errorName(st));
        goto fail;
    }
    UChar id[64];
    u_uastrcpy(id, "Han-Latin; Latin-ASCII");
    UParseError pe;
    nn->latin = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &pe, &st);
    if (U_FAILURE(st)) {
        CB_FAIL(err, CBERR_INTERNAL, "could not open ICU's transliterator \"Han-Latin; Latin-ASCII\": %s",
                u_errorName(st));
        cb_error_hint(err, "install the ICU data (Debian: libicu72)");
        goto fail;
    }
    nn->cc = opencc_open(opencc_config);
    if (nn->cc == (opencc_t) -1) {
        nn->cc = NULL;
        CB_FAIL(err, CBERR_INPUT, "could not open the OpenCC configuration \"%s\": %s", opencc_config,
                opencc_error());
        cb_error_hint(err, "Debian ships hk2s.json, t2s.json and tw2s.json in /usr/share/opencc "
                           "(package libopencc-data); set opencc_config in rules/linkage.conf");
        goto fail;
    }
    nn->mask = 4095;
    nn->slots = xcalloc(nn->mask + 1, sizeof(uint32_t));
    nn->cap = 1024;
    nn->entries = xmalloc(nn->cap * sizeof(CharEntry));
    return nn;
fail:
    names_close(nn);
    return NULL;
}

void
names_close(NameNorm *nn)
{
    if (nn == NULL)
        return;
    if (nn->latin)
        utrans_close(nn->latin);
    if (nn->cc)
        opencc_close(nn->cc);
    free(nn->slots);
    free(nn->entries);
    free(nn);
}

/* ---- per code point cache ---- */

static inline size_t
cp_hash(uint32_t cp)
{
    uint64_t h = cp * 0x9E3779B97F4A7C15ull;
    return (size_t) (h >> 40);
}

static CharEntry *
entry_of(NameNorm *nn, uint32_t cp)
{
    size_t h = cp_hash(cp) & nn->mask;
    while (nn->slots[h] != 0) {
        CharEntry *e = &nn->entries[nn->slots[h] - 1];
        if (e->cp == cp)
            return e;
        h = (h + 1) & nn->mask;
    }
    if ((nn->nentries + 1) * 2 > nn->mask + 1) {
        size_t nmask = nn->mask * 2 + 1;
        uint32_t *ns = xcalloc(nmask + 1, sizeof(uint32_t));
        for (size_t i = 0; i < nn->nentries; i++) {
            size_t k = cp_hash(nn->entries[i].cp) & nmask;
            while (ns[k] != 0)
                k = (k + 1) & nmask;
            ns[k] = (uint32_t) i + 1;
        }
        free(nn->slots);
        nn->slots = ns;
        nn->mask = nmask;
        h = cp_hash(cp) & nn->mask;
        while (nn->slots[h] != 0)
            h = (h + 1) & nn->mask;
    }
    if (nn->nentries == nn->cap) {
        nn->cap *= 2;
        nn->entries = xrealloc(nn->entries, nn->cap * sizeof(CharEntry));
    }
    CharEntry *e = &nn->entries[nn->nentries];
    memset(e, 0, sizeof *e);
    e->cp = cp;
    nn->slots[h] = (uint32_t) ++nn->nentries;
    return e;
}

/* UTF-8 of one code point into out (at least 5 bytes); returns its length. */
static int
cp_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char) (0xF0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes one code point of well-formed UTF-8 at s; returns its length (0 at NUL). */
static int
utf8_next(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *) s;
    if (u[0] == 0)
        return 0;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xE0) == 0xC0 && u[1]) {
        *cp = ((uint32_t) (u[0] & 0x1F) << 6) | (u[1] & 0x3F);
        return 2;
    }
    if ((u[0] & 0xF0) == 0xE0 && u[1] && u[2]) {
        *cp = ((uint32_t) (u[0] & 0x0F) << 12) | ((uint32_t) (u[1] & 0x3F) << 6) | (u[2] & 0x3F);
        return 3;
    }
    if ((u[0] & 0xF8) == 0xF0 && u[1] && u[2] && u[3]) {
        *cp = ((uint32_t) (u[0] & 0x07) << 18) | ((uint32_t) (u[1] & 0x3F) << 12) |
              ((uint32_t) (u[2] & 0x3F) << 6) | (u[3] & 0x3F);
        return 4;
    }
    *cp = 0xFFFD;
    return 1;
}

/* The simplified form of one Han character (itself when OpenCC leaves it). */
static const char *
simplified(NameNorm *nn, uint32_t cp)
{
    CharEntry *e = entry_of(nn, cp);
    if (!e->has_simp) {
        char in[5];
        int n = cp_utf8(cp, in);
        char *r = opencc_convert_utf8(nn->cc, in, (size_t) n);
        if (r != NULL && r != (char *) -1 && strlen(r) > 0 && strlen(r) < sizeof e->simp) {
            strcpy(e->simp, r);
        } else {
            memcpy(e->simp, in, (size_t) n);
            e->simp[n] = '\0';
        }
        if (r != NULL && r != (char *) -1)
            opencc_convert_utf8_free(r);
        e->has_simp = true;
    }
    return e->simp;
}

static const char *
pinyin_of(NameNorm *nn, uint32_t cp)
{
    CharEntry *e = entry_of(nn, cp);
    if (!e->has_pinyin) {
        UChar buf[64];
        int32_t len = 0;
        U16_APPEND_UNSAFE(buf, len, (UChar32) cp);
        int32_t limit = len;
        UErrorCode st = U_ZERO_ERROR;
        utrans_transUChars(nn->latin, buf, &len, 64, 0, &limit, &st);
        size_t o = 0;
        for (int32_t i = 0; U_SUCCESS(st) && i < len && o + 1 < sizeof e->pinyin; i++) {
            UChar c = buf[i];
            if (c >= 'A' && c <= 'Z')
                c = (UChar) (c - 'A' + 'a');
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                e->pinyin[o++] = (char) c;
        }
        e->pinyin[o] = '\0';
        if (o == 0)   /* no reading: keep the character itself */
            e->pinyin[cp_utf8(cp, e->pinyin)] = '\0';
        e->has_pinyin = true;
    }
    return e->pinyin;
}

/* ---- normalisation ---- */

static bool
is_dot(uint32_t cp)
{
    switch (cp) {
    case 0x002E: /* . (also ．U+FF0E after NFKC) */
    case 0x00B7: /* · middle dot (also U+0387 after NFKC) */
    case 0x2022: /* • bullet */
    case 0x2027: /* ‧ hyphenation point */
    case 0x2219: /* ∙ bullet operator */
    case 0x22C5: /* ⋅ dot operator */
    case 0x30FB: /* ・ katakana middle dot (also ･ U+FF65 after NFKC) */
    case 0x2E31: /* ⸱ word separator middle dot */
    case 0x16EB: /* ᛫ runic single punctuation */
    case 0x318D: /* ㆍ hangul araea, used as a dot */
    case 0x002D: /* - and the dashes some offices write instead */
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
        return true;
    default:
        return false;
    }
}

static bool
is_invisible(uint32_t cp)
{
    return u_isUWhiteSpace((UChar32) cp) || u_charType((UChar32) cp) == U_FORMAT_CHAR ||
           u_charType((UChar32) cp) == U_CONTROL_CHAR || cp == 0xFEFF;
}

static bool
is_han(uint32_t cp)
{
    return u_hasBinaryProperty((UChar32) cp, UCHAR_IDEOGRAPHIC);
}

/* NFKC of in[0..n) into out16; returns its length or -1. */
static int32_t
nfkc16(NameNorm *nn, const char *in, size_t n, UChar *out16, int32_t cap16)
{
    UChar src[NAMES_MAX * 2];
    int32_t slen = 0;
    UErrorCode st = U_ZERO_ERROR;
    if (n > NAMES_MAX * 2)
        return -1;
    u_strFromUTF8(src, NAMES_MAX * 2, &slen, in, (int32_t) n, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
        return -1;
    int32_t len = unorm2_normalize(nn->nfkc, src, slen, out16, cap16, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
        return -1;
    return len;
}

static int
normalise(NameNorm *nn, const char *in, size_t n, char *out, size_t cap, bool name)
{
    UChar buf[NAMES_MAX * 3];
    int32_t len = nfkc16(nn, in, n, buf, NAMES_MAX * 3);
    if (len < 0 || cap < 8)
        return -1;
    size_t o = 0;
    bool last_dot = false;
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        U16_NEXT(buf, i, len, c);
        uint32_t cp = (uint32_t) c;
        if (is_invisible(cp))
            continue;
        char tmp[20];
        const char *piece = tmp;
        size_t pl;
        if (name && is_dot(cp)) {
            if (o == 0 || last_dot)
                continue;
            last_dot = true;
            memcpy(tmp, "\xC2\xB7", 2);
            pl = 2;
        } else {
            last_dot = false;
            if (is_han(cp)) {
                piece = simplified(nn, cp);
                pl = strlen(piece);
            } else {
                if (name)
                    cp = (uint32_t) u_toupper((UChar32) cp);
                pl = (size_t) cp_utf8(cp, tmp);
            }
        }
        if (o + pl + 1 > cap)
            return -1;
        memcpy(out + o, piece, pl);
        o += pl;
    }
    if (name && last_dot)
        o -= 2;
    out[o] = '\0';
    return (int) o;
}

int
names_normalise(NameNorm *nn, const char *in, size_t n, char *out, size_t cap)
{
    return normalise(nn, in, n, out, cap, true);
}

int
names_address(NameNorm *nn, const char *in, size_t n, char *out, size_t cap)
{
    return normalise(nn, in, n, out, cap, false);
}

int
names_pinyin(NameNorm *nn, const char *norm, char *out, size_t cap)
{
    size_t o = 0;
    uint32_t cp;
    int k;
    for (const char *s = norm; (k = utf8_next(s, &cp)) > 0; s += k) {
        char tmp[8];
        const char *piece = tmp;
        size_t pl;
        if (is_dot(cp) || is_invisible(cp))
            continue;
        if (is_han(cp)) {
            piece = pinyin_of(nn, cp);
            pl = strlen(piece);
        } else if (cp < 0x80) {
            tmp[0] = (char) (cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
            pl = 1;
        } else {
            pl = (size_t) cp_utf8((uint32_t) u_tolower((UChar32) cp), tmp);
        }
        if (o + pl + 1 > cap)
            return -1;
        memcpy(out + o, piece, pl);
        o += pl;
    }
    out[o] = '\0';
    return (int) o;
}

/* ---- similarity ---- */

static int
decode(const char *s, uint32_t *cps, int max)
{
    int n = 0, k;
    uint32_t cp;
    while (n < max && (k = utf8_next(s, &cp)) > 0) {
        cps[n++] = cp;
        s += k;
    }
    return n;
}

double
names_jaro_winkler(const char *a, const char *b)
{
    uint32_t x[64], y[64];
    int n = decode(a, x, 64), m = decode(b, y, 64);
    if (n == 0 || m == 0)
        return 0.0;
    int window = (n > m ? n : m) / 2 - 1;
    if (window < 0)
        window = 0;
    bool xm[64] = {false}, ym[64] = {false};
    int matches = 0;
    for (int i = 0; i < n; i++) {
        int lo = i - window < 0 ? 0 : i - window, hi = i + window + 1 > m ? m : i + window + 1;
        for (int j = lo; j < hi; j++)
            if (!ym[j] && x[i] == y[j]) {
                xm[i] = ym[j] = true;
                matches++;
                break;
            }
    }
    if (matches == 0)
        return 0.0;
    int t = 0, j = 0;
    for (int i = 0; i < n; i++) {
        if (!xm[i])
            continue;
        while (!ym[j])
            j++;
        if (x[i] != y[j])
            t++;
        j++;
    }
    double md = matches;
    double jaro = (md / n + md / m + (md - t / 2.0) / md) / 3.0;
    int prefix = 0;
    while (prefix < 4 && prefix < n && prefix < m && x[prefix] == y[prefix])
        prefix++;
    return jaro + prefix * 0.1 * (1.0 - jaro);
}

/* ---- addresses ---- */

uint64_t
names_hash(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 0x100000001B3ull;
    }
    return h ? h : 1;
}

static uint64_t
hash_range(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) s[i];
        h *= 0x100000001B3ull;
    }
    return h ? h : 1;
}

/* Length of a marker from set at s, or 0. */
static size_t
marker(const char *s, const char *const *set)
{
    for (int i = 0; set[i]; i++) {
        size_t l = strlen(set[i]);
        if (strncmp(s, set[i], l) == 0)
            return l;
    }
    return 0;
}

void
names_address_parts(const char *norm, AddressParts *out)
{
    static const char *const city[] = {"省", "市", "州", "县", "区", "旗", "盟", NULL};
    static const char *const town[] = {"街道", "镇", "乡", "苏木", NULL};
    static const char *const village[] = {"社区", "居委会", "村", "嘎查", NULL};
    out->township = out->village = out->local = 0;
    out->detail = *norm != '\0';
    const char *start = norm, *t0 = NULL, *t1 = NULL;
    for (const char *s = norm; *s;) {
        size_t k;
        uint32_t cp;
        if (s > start && t1 == NULL && (k = marker(s, town)) > 0) {
            t0 = start;
            t1 = s + k;
            start = t1;
            s = t1;
            continue;
        }
        if (s > start && (k = marker(s, village)) > 0) {
            uint64_t h = 0xCBF29CE484222325ull;
            if (t1)
                h = hash_range(h, t0, (size_t) (t1 - t0));
            h = hash_range(h ^ 0x5A, start, (size_t) (s + k - start));
            out->village = h;
            out->detail = s[k] != '\0';
            break;
        }
        if (t1 == NULL && (k = marker(s, city)) > 0) {
            start = s + k;
            s += k;
            continue;
        }
        int n = utf8_next(s, &cp);
        s += n > 0 ? n : 1;
    }
    if (t1) {
        out->township = hash_range(0xCBF29CE484222325ull, t0, (size_t) (t1 - t0));
        out->local = hash_range(0xCBF29CE484222325ull ^ 0x10CA1, t0, strlen(t0)) | 1;
        if (out->village == 0)
            out->detail = *t1 != '\0';
    }
}
