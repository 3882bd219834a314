/*
 * linkconf — rules/linkage.conf: the parameters and thresholds of identity resolution.
 *
 * `key = value` lines, `#` starts a comment; every key below must appear exactly once (a
 * missing, unknown, repeated or ill-typed key is an error with file, line and column), so
 * that the file always says every value a run used.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

_Static_assert(FK_COUNT <= 32, "sign_of_life is a 32-bit mask of fact kinds");

typedef enum { K_STR, K_BOOL, K_PROB, K_REAL, K_INT, K_BLOCKING, K_MLIST, K_CHOICE, K_KINDS } KeyType;

typedef struct Key {
    const char *name;
    KeyType     type;
    const char *unit;      /* K_REAL: optional unit word ("bits") */
    int         cmp;       /* K_MLIST: comparison */
} Key;

static const Key keys[] = {
    {"opencc_config", K_STR, NULL, 0},
    {"repair", K_BOOL, NULL, 0},
    {"repair_name", K_CHOICE, NULL, 0},
    {"blocking", K_BLOCKING, NULL, 0},
    {"max_block", K_INT, NULL, 0},
    {"max_fallback_block", K_INT, NULL, 0},
    {"name_close", K_PROB, NULL, 0},
    {"prior", K_PROB, NULL, 0},
    {"link_probability", K_PROB, NULL, 0},
    {"link_margin", K_REAL, "bits", 0},
    {"review_probability", K_PROB, NULL, 0},
    {"review_candidates", K_INT, NULL, 0},
    {"register_death", K_BOOL, NULL, 0},
    {"sign_of_life", K_KINDS, NULL, 0},
    {"sign_of_life_grace", K_REAL, "days", 0},
    {"tf_min", K_PROB, NULL, 0},
    {"u_pairs", K_INT, NULL, 0},
    {"em_iterations", K_INT, NULL, 0},
    {"em_tolerance", K_PROB, NULL, 0},
    {"em_min_pairs", K_INT, NULL, 0},
    {"em_max_records", K_INT, NULL, 0},
    {"seed", K_INT, NULL, 0},
    {"reviewed_link", K_CHOICE, NULL, 0},
    {"m_name", K_MLIST, NULL, CMP_NAME},
    {"m_sex", K_MLIST, NULL, CMP_SEX},
    {"m_birth", K_MLIST, NULL, CMP_BIRTH},
    {"m_age", K_MLIST, NULL, CMP_AGE},
    {"m_address", K_MLIST, NULL, CMP_ADDRESS},
    {"m_place", K_MLIST, NULL, CMP_PLACE},
    {"m_register_death", K_MLIST, NULL, CMP_REGISTER_DEATH},
    {"m_sign_of_life", K_MLIST, NULL, CMP_SIGN_OF_LIFE},
};
#define NKEYS ((int) (sizeof keys / sizeof keys[0]))

static const char *const field_names[BF_COUNT] = {
    "birth_date", "birth_year", "sex", "name", "pinyin", "surname", "village", "township",
};

const char *
identity_block_field_name(int f)
{
    return f >= 0 && f < BF_COUNT ? field_names[f] : "?";
}

void
identity_block_rule_text(const BlockRule *r, int level, char *out, size_t cap)
{
    size_t o = 0;
    int nl = level < 0 || level >= r->nlevels ? r->nlevels - 1 : level;
    out[0] = '\0';
    for (int l = 0, f = 0; l <= nl && o < cap; l++) {
        if (l > 0)
            o += (size_t) snprintf(out + o, cap - o, ">");
        for (int k = 0; f < r->upto[l] && o < cap; f++, k++)
            o += (size_t) snprintf(out + o, cap - o, "%s%s", k ? "+" : "", field_names[r->field[f]]);
    }
}

typedef struct Line {
    const char *path;
    int         lineno;
    const char *start;    /* of the line */
} Line;

static bool
fail_at(const Line *l, const char *at, CbError *err, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static bool
fail_at(const Line *l, const char *at, CbError *err, const char *hint, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CB_FAIL(err, CBERR_INPUT, "%s", msg);
    int col = 1;
    for (const char *p = l->start; p < at; p++)
        col += ((unsigned char) *p & 0xC0) != 0x80;
    cb_error_at(err, "%s:%d:%d", l->path, l->lineno, col);
    if (hint)
        cb_error_hint(err, "%s", hint);
    return false;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static bool
parse_real(const char *s, double *out, const char **rest)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v))
        return false;
    *out = v;
    *rest = end;
    return true;
}

/* blocking = RULE, RULE ...; RULE = FIELDS > FIELDS > ...; FIELDS = FIELD + FIELD ... */
static bool
parse_blocking(char *val, const Line *l, const char *valp, LinkConfig *c, CbError *err)
{
    static const char *const hint =
        "rules separated by commas, each fields joined by + with finer keys after >, e.g. "
        "birth_date+sex > township; fields: birth_date, birth_year, sex, name, pinyin, surname, "
        "village, township";
    c->nrules = 0;
    char *p = val;
    while (*p) {
        if (c->nrules == BLOCK_MAX_RULES)
            return fail_at(l, valp + (p - val), err, NULL, "more than %d blocking rules", BLOCK_MAX_RULES);
        BlockRule *r = &c->rules[c->nrules];
        memset(r, 0, sizeof *r);
        for (;;) {   /* one field */
            while (*p == ' ' || *p == '\t')
                p++;
            const char *f0 = p;
            while (*p && *p != '+' && *p != '>' && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            size_t n = (size_t) (p - f0);
            int f = 0;
            while (f < BF_COUNT && !(strlen(field_names[f]) == n && strncmp(field_names[f], f0, n) == 0))
                f++;
            if (n == 0)
                return fail_at(l, valp + (f0 - val), err, hint, "expected a blocking field");
            if (f == BF_COUNT)
                return fail_at(l, valp + (f0 - val), err, hint, "unknown blocking field \"%.*s\"",
                               (int) (n > 64 ? 64 : n), f0);
            for (int k = 0; k < r->nfields; k++)
                if (r->field[k] == f)
                    return fail_at(l, valp + (f0 - val), err, NULL,
                                   "blocking field %s appears twice in one rule", field_names[f]);
            if (r->nfields == BLOCK_MAX_FIELDS)
                return fail_at(l, valp + (f0 - val), err, NULL, "more than %d fields in one blocking rule",
                               BLOCK_MAX_FIELDS);
            r->field[r->nfields++] = (uint8_t) f;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '+') {
                p++;
                continue;
            }
            r->upto[r->nlevels++] = r->nfields;   /* the level's key is complete */
            if (*p == '>') {
                if (r->nlevels == BLOCK_MAX_LEVELS)
                    return fail_at(l, valp + (p - val), err, NULL,
                                   "more than %d finer keys in one blocking rule", BLOCK_MAX_LEVELS - 1);
                p++;
                continue;
            }
            break;
        }
        if (*p && *p != ',')
            return fail_at(l, valp + (p - val), err, hint, "unexpected \"%c\" in blocking", *p);
        c->nrules++;
        if (*p == ',') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                return fail_at(l, valp + (p - val), err, hint, "expected a blocking rule after \",\"");
        }
    }
    if (c->nrules == 0)
        return fail_at(l, valp, err, hint, "blocking needs at least one rule");
    return true;
}

static bool
set_key(const Key *k, char *val, const Line *l, const char *valp, LinkConfig *c, CbError *err)
{
    const char *rest;
    double d;
    switch (k->type) {
    case K_STR:
        if (*val == '\0' || strlen(val) >= sizeof c->opencc_config)
            return fail_at(l, valp, err, NULL, "expected a file name for %s", k->name);
        snprintf(c->opencc_config, sizeof c->opencc_config, "%s", val);
        return true;
    case K_BOOL: {
        bool b;
        if (strcmp(val, "yes") == 0)
            b = true;
        else if (strcmp(val, "no") == 0)
            b = false;
        else
            return fail_at(l, valp, err, "yes or no", "expected yes or no for %s, found \"%s\"",
                           k->name, val);
        if (strcmp(k->name, "repair") == 0)
            c->repair = b;
        else
            c->register_death = b;
        return true;
    }
    case K_CHOICE:
        if (strcmp(k->name, "repair_name") == 0) {
            if (strcmp(val, "exact") == 0)
                c->repair_name_level = 3;
            else if (strcmp(val, "pinyin") == 0)
                c->repair_name_level = 2;
            else if (strcmp(val, "close") == 0)
                c->repair_name_level = 1;
            else
                return fail_at(l, valp, err, "exact, pinyin or close", "unknown value \"%s\" for repair_name", val);
        } else {
            if (strcmp(val, "probable") != 0 && strcmp(val, "repaired") != 0)
                return fail_at(l, valp, err, "probable (to verify) or repaired (counts like a repaired ID)",
                               "unknown value \"%s\" for reviewed_link", val);
            c->reviewed_repaired = strcmp(val, "repaired") == 0;
        }
        return true;
    case K_PROB:
    case K_REAL:
        if (!parse_real(val, &d, &rest))
            return fail_at(l, valp, err, NULL, "expected a number for %s, found \"%s\"", k->name, val);
        while (*rest == ' ')
            rest++;
        if (*rest && !(k->unit && strcmp(rest, k->unit) == 0))
            return fail_at(l, valp + (rest - val), err, k->unit ? k->unit : "a plain number",
                           "unexpected \"%s\" after the value of %s", rest, k->name);
        if (k->type == K_PROB && (d < 0.0 || d > 1.0))
            return fail_at(l, valp, err, "a number from 0 to 1", "%s must lie between 0 and 1", k->name);
        if (k->type == K_REAL && d < 0.0)
            return fail_at(l, valp, err, NULL, "%s must not be negative", k->name);
        if (strcmp(k->name, "name_close") == 0) c->name_close = d;
        else if (strcmp(k->name, "prior") == 0) c->prior = d;
        else if (strcmp(k->name, "link_probability") == 0) c->link_probability = d;
        else if (strcmp(k->name, "link_margin") == 0) c->link_margin = d;
        else if (strcmp(k->name, "review_probability") == 0) c->review_probability = d;
        else if (strcmp(k->name, "tf_min") == 0) c->tf_min = d;
        else if (strcmp(k->name, "em_tolerance") == 0) c->em_tolerance = d;
        else if (strcmp(k->name, "sign_of_life_grace") == 0) {
            if (d != floor(d) || d > 3660)
                return fail_at(l, valp, err, NULL, "sign_of_life_grace takes whole days, at most 3660");
            c->sign_of_life_grace = (int) d;
        }
        if (strcmp(k->name, "prior") == 0 && (d <= 0.0 || d > 1.0))
            return fail_at(l, valp, err, NULL, "prior must be above 0");
        return true;
    case K_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (end == val || *end != '\0' || errno != 0 || v < 0)
            return fail_at(l, valp, err, NULL, "expected a whole number >= 0 for %s, found \"%s\"",
                           k->name, val);
        if (strcmp(k->name, "max_block") == 0 || strcmp(k->name, "max_fallback_block") == 0) {
            if (v < 1)
                return fail_at(l, valp, err, NULL, "%s must be at least 1", k->name);
            if (strcmp(k->name, "max_block") == 0)
                c->max_block = (int) (v > 1000000 ? 1000000 : v);
            else
                c->max_fallback = (int) (v > 10000000 ? 10000000 : v);
        }
        else if (strcmp(k->name, "review_candidates") == 0) c->review_candidates = (int) (v > 20 ? 20 : v);
        else if (strcmp(k->name, "u_pairs") == 0) c->u_pairs = (long) (v > 100000000 ? 100000000 : v);
        else if (strcmp(k->name, "em_iterations") == 0) c->em_iterations = (int) (v > 100000 ? 100000 : v);
        else if (strcmp(k->name, "em_min_pairs") == 0) c->em_min_pairs = (long) v;
        else if (strcmp(k->name, "em_max_records") == 0) c->em_max_records = (long) v;
        else if (strcmp(k->name, "seed") == 0) c->seed = (uint64_t) v;
        return true;
    }
    case K_BLOCKING:
        return parse_blocking(val, l, valp, c, err);
    case K_KINDS: {
        /* fact kinds whose records date a day of their person's life; "none" for none */
        c->sign_of_life = 0;
        if (strcmp(val, "none") == 0)
            return true;
        char *save = NULL;
        for (char *tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *t = trim(tok);
            FactKind fk;
            if (!factkind_lookup(t, &fk))
                return fail_at(l, valp + (t - val), err, "fact kinds such as medical_claim, certification, or none",
                               "unknown fact kind \"%s\" in %s", t, k->name);
            const KindSpec *ks = factkind_spec(fk);
            bool dated = false;
            for (int i = 0; ks->fields[i].name; i++)
                dated |= ks->fields[i].slot == SLOT_D1 && ks->fields[i].type == FT_DATE &&
                         ks->fields[i].required;
            if (!dated || fk == FK_REGISTER || fk == FK_DEATH)
                return fail_at(l, valp + (t - val), err, "fact kinds such as medical_claim, certification",
                               "%s records do not date a day of their person's life", t);
            c->sign_of_life |= 1u << fk;
        }
        return true;
    }
    case K_MLIST: {
        FsModel fm;
        identity_model_init(c, &fm);
        int nl = fm.comp[k->cmp].nlevels, got = 0;
        double v[FS_MAX_LEVELS], sum = 0.0;
        char *save = NULL;
        for (char *tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *t = trim(tok);
            if (got == nl || !parse_real(t, &d, &rest) || *rest || d <= 0.0 || d >= 1.0)
                return fail_at(l, valp + (t - val), err, NULL,
                               "%s takes %d probabilities between 0 and 1, strongest level first", k->name, nl);
            v[got++] = d;
            sum += d;
        }
        if (got != nl)
            return fail_at(l, valp, err, NULL, "%s takes %d probabilities, found %d", k->name, nl, got);
        if (fabs(sum - 1.0) > 0.01)
            return fail_at(l, valp, err, NULL, "the probabilities of %s add up to %.3f, not 1", k->name, sum);
        for (int i = 0; i < nl; i++)
            c->m_start[k->cmp][nl - 1 - i] = v[i] / sum;
        return true;
    }
    }
    return false;
}

bool
linkconf_parse(const char *path, const char *text, LinkConfig *c, CbError *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    int seen[NKEYS] = {0};
    Line l = {.path = path, .lineno = 0};
    const char *p = text;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen(p);
        l.lineno++;
        l.start = p;
        char buf[1024];
        if (len >= sizeof buf)
            return fail_at(&l, p, err, NULL, "line longer than %zu bytes", sizeof buf - 1);
        memcpy(buf, p, len);
        buf[len] = '\0';
        p = eol ? eol + 1 : p + len;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *line = trim(buf);
        if (*line == '\0')
            continue;
        char *eq = strchr(line, '=');
        if (eq == NULL)
            return fail_at(&l, l.start + (line - buf), err, "key = value", "expected key = value");
        *eq = '\0';
        char *key = trim(line), *val = trim(eq + 1);
        int k = 0;
        while (k < NKEYS && strcmp(keys[k].name, key) != 0)
            k++;
        if (k == NKEYS)
            return fail_at(&l, l.start + (key - buf), err, "see the comments in rules/linkage.conf",
                           "unknown linkage parameter \"%s\"", key);
        if (seen[k]++)
            return fail_at(&l, l.start + (key - buf), err, NULL, "%s is set twice", key);
        if (!set_key(&keys[k], val, &l, l.start + (val - buf), c, err))
            return false;
    }
    for (int k = 0; k < NKEYS; k++)
        if (!seen[k]) {
            CB_FAIL(err, CBERR_INPUT, "linkage parameter %s is missing", keys[k].name);
            cb_error_at(err, "%s", path);
            return false;
        }
    if (c->max_fallback < c->max_block) {
        CB_FAIL(err, CBERR_INPUT, "max_fallback_block (%d) is below max_block (%d)", c->max_fallback,
                c->max_block);
        cb_error_at(err, "%s", path);
        return false;
    }
    if (c->review_probability > c->link_probability) {
        CB_FAIL(err, CBERR_INPUT, "review_probability (%g) is above link_probability (%g)",
                c->review_probability, c->link_probability);
        cb_error_at(err, "%s", path);
        return false;
    }
    return true;
}

bool
linkconf_load(const char *path, LinkConfig *c, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open linkage parameters: %m");
        cb_error_at(err, "%s", path);
        cb_error_hint(err, "rules/linkage.conf holds the parameters of identity resolution");
        return false;
    }
    char *buf = xmalloc(256 * 1024 + 1);
    size_t n = fread(buf, 1, 256 * 1024 + 1, f);
    bool ok;
    if (ferror(f)) {
        ok = CB_FAIL(err, CBERR_IO, "could not read linkage parameters: %m");
        cb_error_at(err, "%s", path);
    } else if (n > 256 * 1024) {
        ok = CB_FAIL(err, CBERR_INPUT, "linkage parameters larger than 256 KiB");
        cb_error_at(err, "%s", path);
    } else {
        buf[n] = '\0';
        ok = linkconf_parse(path, buf, c, err);
    }
    free(buf);
    fclose(f);
    return ok;
}
