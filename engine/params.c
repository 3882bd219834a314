#include "params.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 256
#define MAX_LINE 1024

static bool
fail_at(CbError *err, const char *path, int line, int col, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static bool
fail_at(CbError *err, const char *path, int line, int col, const char *hint, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CB_FAIL(err, CBERR_INPUT, "%s", msg);
    cb_error_at(err, "%s:%d:%d", path, line, col);
    if (hint)
        cb_error_hint(err, "%s", hint);
    return false;
}

const char *
params_unit_name(ParamUnit u)
{
    switch (u) {
    case UNIT_YEARS: return "years";
    case UNIT_MONTHS: return "months";
    case UNIT_DAYS: return "days";
    case UNIT_YUAN: return "yuan";
    default: return "no unit";
    }
}

static bool
is_name_start(int c)
{
    return isalpha(c) || c == '_';
}

static bool
is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

/* Columns count characters (UTF-8 code points), as an editor shows them. */
static int
col_of(const char *line, const char *at)
{
    int col = 1;
    for (const char *s = line; s < at; s++)
        if (((unsigned char) *s & 0xC0) != 0x80)
            col++;
    return col;
}

static bool
parse_unit(const char *u, size_t n, ParamUnit *out)
{
    static const struct { const char *name; ParamUnit unit; } units[] = {
        {"years", UNIT_YEARS}, {"year", UNIT_YEARS}, {"months", UNIT_MONTHS}, {"month", UNIT_MONTHS},
        {"days", UNIT_DAYS}, {"day", UNIT_DAYS}, {"yuan", UNIT_YUAN},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *out = units[i].unit;
            return true;
        }
    return false;
}

/* A number with an optional unit, at v (the rest of the line, comment removed, trimmed). */
static bool
parse_number(const char *path, int lineno, const char *line, const char *v, Param *pm, CbError *err)
{
    const char *s = v;
    int64_t whole = 0, frac = 0;
    int nfrac = 0;
    while (isdigit((unsigned char) *s)) {
        if (whole > (INT64_MAX / 100 - 9) / 10)
            return fail_at(err, path, lineno, col_of(line, v), "a number below 10^15", "number too large");
        whole = whole * 10 + (*s++ - '0');
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char) *s))
            return fail_at(err, path, lineno, col_of(line, s), "digits after the decimal point",
                           "malformed number");
        while (isdigit((unsigned char) *s)) {
            if (nfrac == 2)
                return fail_at(err, path, lineno, col_of(line, s), "at most two decimals (fen)",
                               "too many decimals");
            frac = frac * 10 + (*s++ - '0');
            nfrac++;
        }
    }
    const char *after_num = s;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *u = s;
    while (*s && !isspace((unsigned char) *s))
        s++;
    ParamUnit unit = UNIT_NONE;
    if (s > u && !parse_unit(u, (size_t) (s - u), &unit))
        return fail_at(err, path, lineno, col_of(line, u),
                       "expected years, months, days or yuan after the number, or no unit",
                       "wrong unit \"%.*s\"", (int) (s - u), u);
    if (s == u && after_num != s && *after_num && !isspace((unsigned char) *after_num))
        return fail_at(err, path, lineno, col_of(line, after_num), "a number, then a unit", "malformed number");
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        return fail_at(err, path, lineno, col_of(line, s), "one value per line; a list is names separated by commas",
                       "unexpected text after the value");
    if (nfrac > 0 && unit != UNIT_YUAN)
        return fail_at(err, path, lineno, col_of(line, v), "a whole number (only yuan take decimals)",
                       "expected a whole number");
    pm->kind = PARAM_NUMBER;
    pm->unit = unit;
    if (unit == UNIT_YUAN)
        pm->value = whole * 100 + (nfrac == 1 ? frac * 10 : frac);
    else
        pm->value = whole;
    return true;
}

bool
params_parse(const char *path, const char *text, Params *p, CbError *err)
{
    memset(p, 0, sizeof *p);
    arena_init(&p->arena, 16 << 10);
    p->path = arena_strdup(&p->arena, path);
    p->items = arena_calloc(&p->arena, sizeof(Param) * MAX_PARAMS);
    int lineno = 0;
    const char *s = text;
    char line[MAX_LINE + 1];
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t) (nl - s) : strlen(s);
        lineno++;
        if (len > MAX_LINE) {
            fail_at(err, path, lineno, 1, "at most 1024 bytes", "line too long");
            goto fail;
        }
        memcpy(line, s, len);
        line[len] = '\0';
        s = nl ? nl + 1 : s + len;   /* advance before the CR strip: a last line "\r" ends */
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        /* a '#' outside quotes starts a comment */
        bool inq = false;
        for (char *c = line; *c; c++) {
            if (*c == '"')
                inq = !inq;
            else if (*c == '#' && !inq) {
                *c = '\0';
                break;
            }
        }
        size_t l = strlen(line);
        while (l > 0 && isspace((unsigned char) line[l - 1]))
            line[--l] = '\0';
        char *k = line;
        while (*k == ' ' || *k == '\t')
            k++;
        if (*k == '\0')
            continue;
        if (!is_name_start((unsigned char) *k)) {
            fail_at(err, path, lineno, col_of(line, k), "name = value", "expected a parameter name");
            goto fail;
        }
        char *e = k;
        while (is_name_char((unsigned char) *e))
            e++;
        char *eq = e;
        while (*eq == ' ' || *eq == '\t')
            eq++;
        if (*eq != '=') {
            fail_at(err, path, lineno, col_of(line, eq), "name = value", "missing '='");
            goto fail;
        }
        *e = '\0';
        for (int i = 0; i < p->n; i++)
            if (strcmp(p->items[i].name, k) == 0) {
                char hint[128];
                snprintf(hint, sizeof hint, "each parameter once (first set on line %d)", p->items[i].line);
                fail_at(err, path, lineno, col_of(line, k), hint, "parameter %s set twice", k);
                goto fail;
            }
        if (p->n == MAX_PARAMS) {
            fail_at(err, path, lineno, col_of(line, k), "at most 256 parameters", "too many parameters");
            goto fail;
        }
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        Param *pm = &p->items[p->n];
        memset(pm, 0, sizeof *pm);
        pm->name = arena_strdup(&p->arena, k);
        pm->line = lineno;
        pm->col = col_of(line, v);
        pm->text = arena_strdup(&p->arena, v);
        if (*v == '\0') {
            fail_at(err, path, lineno, col_of(line, v), "a number with a unit, a \"text\" or a list of names",
                    "empty value");
            goto fail;
        }
        if (isdigit((unsigned char) *v)) {
            if (!parse_number(path, lineno, line, v, pm, err))
                goto fail;
        } else if (*v == '"') {
            char *q = strchr(v + 1, '"');
            if (q == NULL) {
                fail_at(err, path, lineno, col_of(line, v), "a closing '\"'", "unterminated text");
                goto fail;
            }
            char *after = q + 1;
            while (*after == ' ' || *after == '\t')
                after++;
            if (*after) {
                fail_at(err, path, lineno, col_of(line, after), "one value per line", "unexpected text after the value");
                goto fail;
            }
            pm->kind = PARAM_TEXT;
            pm->text = arena_strndup(&p->arena, v + 1, (size_t) (q - v - 1));
        } else {
            pm->kind = PARAM_NAMES;
            char *t = v;
            for (;;) {
                while (*t == ' ' || *t == '\t')
                    t++;
                if (!is_name_start((unsigned char) *t)) {
                    fail_at(err, path, lineno, col_of(line, t),
                            "a number, a \"text\" or names separated by commas (letters, digits, _)",
                            *t && *t != ',' ? "unexpected character in a list of names" : "missing name after ','");
                    goto fail;
                }
                char *ne = t;
                while (is_name_char((unsigned char) *ne))
                    ne++;
                if (pm->nnames == PARAM_MAX_NAMES) {
                    fail_at(err, path, lineno, col_of(line, t), "at most 32 names", "too many names");
                    goto fail;
                }
                for (int i = 0; i < pm->nnames; i++)
                    if (strlen(pm->names[i]) == (size_t) (ne - t) && memcmp(pm->names[i], t, (size_t) (ne - t)) == 0) {
                        fail_at(err, path, lineno, col_of(line, t), "each name once", "name %.*s listed twice",
                                (int) (ne - t), t);
                        goto fail;
                    }
                pm->name_col[pm->nnames] = col_of(line, t);
                pm->names[pm->nnames++] = arena_strndup(&p->arena, t, (size_t) (ne - t));
                while (*ne == ' ' || *ne == '\t')
                    ne++;
                if (*ne == '\0')
                    break;
                if (*ne != ',') {
                    fail_at(err, path, lineno, col_of(line, ne), "',' between names",
                            "unexpected character in a list of names");
                    goto fail;
                }
                t = ne + 1;
            }
        }
        p->n++;
    }
    return true;
fail:
    params_free(p);
    return false;
}

bool
params_load(const char *path, Params *p, CbError *err)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open parameters: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    char *buf = xmalloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    bool toolong = !feof(f);
    fclose(f);
    buf[n] = '\0';
    bool ok;
    if (toolong) {
        ok = CB_FAIL(err, CBERR_INPUT, "parameters file larger than 1 MiB");
        cb_error_at(err, "%s", path);
    } else if (memchr(buf, '\0', n) != NULL) {
        ok = CB_FAIL(err, CBERR_INPUT, "parameters file holds a NUL byte");
        cb_error_at(err, "%s", path);
    } else {
        ok = params_parse(path, buf, p, err);
    }
    free(buf);
    return ok;
}

void
params_free(Params *p)
{
    if (p->arena.chunk_size)
        arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

Param *
params_find(const Params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return &p->items[i];
    return NULL;
}
