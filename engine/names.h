/*
 * names — personal names and addresses in one comparable form, their pinyin, and string
 * similarity, for identity resolution (linkage.c, idrepair.c).
 *
 * A NameNorm holds the libraries it needs: ICU's NFKC normaliser and its "Han-Latin;
 * Latin-ASCII" transliterator, and an OpenCC converter (traditional and variant characters to
 * simplified; the configuration is a parameter of rules/linkage.conf, hk2s.json by default).
 * Conversions are made one character at a time and cached per code point, so a run converts
 * each distinct character once: names of 700,000 persons normalise in well under a second.
 * A character-at-a-time conversion is also context-free, which is what a name needs (OpenCC's
 * phrase tables are written for running text).
 *
 * A NameNorm is not thread-safe (its caches grow); use one per thread.  Strings passed in are
 * UTF-8 (need not be NUL-terminated); strings written out are NUL-terminated UTF-8.
 */
#ifndef CANBAO_NAMES_H
#define CANBAO_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"

typedef struct NameNorm NameNorm;

/* Longest normalised name or address kept, in bytes (longer input is an error for that value). */
#define NAMES_MAX 256

/*
 * names_open
 *     Opens ICU and the OpenCC configuration opencc_config (a file name such as "hk2s.json",
 *     looked up in OpenCC's data folder, or a path).  NULL with err filled when a library or
 *     the configuration cannot be opened.  Free with names_close.
 */
NameNorm *names_open(const char *opencc_config, CbError *err);
void      names_close(NameNorm *nn);

/*
 * names_normalise
 *     A personal name in its comparable form: Unicode NFKC (full-width forms to half-width,
 *     compatibility ideographs to unified ones); white space and invisible format characters
 *     removed (also inside: "金 哲 洙" = "金哲洙"); every middle-dot variant (· • ‧ ・ ･ . ．
 *     ∙ ⋅ ‐ and the like used between the parts of a minority name) becomes U+00B7, runs of
 *     dots collapse to one and none is kept at either end; traditional and variant Han
 *     characters become simplified (劉國明 → 刘国明); Latin letters upper case.
 *     Writes into out (cap bytes, at least NAMES_MAX) and returns the length in bytes, or -1
 *     when the input is not valid UTF-8 or the result does not fit.
 */
int names_normalise(NameNorm *nn, const char *in, size_t n, char *out, size_t cap);

/*
 * names_address
 *     An address in comparable form: NFKC, white space removed, traditional → simplified;
 *     nothing else changes.  Same contract as names_normalise.
 */
int names_address(NameNorm *nn, const char *in, size_t n, char *out, size_t cap);

/*
 * names_pinyin
 *     The toneless pinyin of a *normalised* name, syllables run together in lower case
 *     ("刘国明" → "liuguoming"); other letters and digits are kept (lower case), dots dropped.
 *     Two names that sound alike in Mandarin compare equal (哲 / 喆: "zhe").  Returns the
 *     length, or -1 when it does not fit in cap.
 */
int names_pinyin(NameNorm *nn, const char *norm, char *out, size_t cap);

/*
 * names_jaro_winkler
 *     Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4) of two UTF-8 strings compared
 *     code point by code point: 1 for equal strings, 0 when nothing matches or either is
 *     empty.  Strings longer than 64 code points are compared on their first 64.
 */
double names_jaro_winkler(const char *a, const char *b);

/*
 * AddressParts
 *     A normalised Chinese address split at its administrative markers: the township part
 *     ends at the first 街道, 镇 or 乡 (after an optional city or county prefix ending in 市,
 *     县, 区 or 旗), the village part at the first 社区, 村, 居委会 or 嘎查 after it.  Both are
 *     64-bit hashes of the address up to and including that marker (so equal villages of
 *     different townships differ); 0 when the address has no such marker.  detail says whether
 *     anything follows the last marker found (a street and number), or, without any marker,
 *     whether the address is not empty: "延吉市进学街道繁荣社区" names a village and no more.
 */
typedef struct AddressParts {
    uint64_t township;
    uint64_t village;
    uint64_t local;      /* the address from its township on (no province, city or county
                            prefix: "吉林省延吉市河南街道…" = "河南街道…"), 0 without township */
    bool     detail;
} AddressParts;

void names_address_parts(const char *norm, AddressParts *out);

/* FNV-1a 64-bit hash of a NUL-terminated string, never 0 (0 means "none" to callers). */
uint64_t names_hash(const char *s);

#endif
