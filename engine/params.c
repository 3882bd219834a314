#include "params.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "factkind.h"

typedef enum { P_TEXT, P_YEARS, P_MONTHS, P_YUAN, P_INT, P_GROUPS, P_EVIDENCE } ParamType;

typedef struct ParamDef {
    const char *name;
    ParamType   type;
} ParamDef;

static const ParamDef defs[] = {
    {"division", P_TEXT},          {"min_age", P_YEARS},          {"government_paid", P_GROUPS},
    {"severe_disability", P_INT},  {"employment_window", P_MONTHS}, {"absent_after", P_MONTHS},
    {"flag_age", P_YEARS},         {"authoritative", P_EVIDENCE}, {"funeral_expense", P_YUAN},
    {"funeral_months", P_MONTHS},
};
#define NDEFS (int) (sizeof defs / sizeof defs[0])

static bool
fail_at(CbError *err, const char *path, int line, int col, const char *msg, const char *expected)
{
    CB_FAIL(err, CBERR_INPUT, "%s", msg);
    cb_error_at(err, "%s:%d:%d", path, line, col);
    if (expected)
        cb_error_hint(err, "expected %s", expected);
    return false;
}

/* number then unit: "16 years", "1200 yuan", "1200.50 yuan" */
static bool
number_unit(const char *v, double *num, char *unit, size_t unit_sz)
{
    char *end;
    *num = strtod(v, &end);
    if (end == v)
        return false;
    while (*end == ' ' || *end == '\t')
        end++;
    snprintf(unit, unit_sz, "%s", end);
    return true;
}

static void
set_param(Params *p, int which, double num, const char *text)
{
    const char *n = defs[which].name;
    if (strcmp(n, "division") == 0)
        snprintf(p->division, sizeof p->division, "%s", text);
    else if (strcmp(n, "min_age") == 0)
        p->min_age = (int) num;
    else if (strcmp(n, "severe_disability") == 0)
        p->severe_disability = (int) num;
    else if (strcmp(n, "employment_window") == 0)
        p->employment_window = (int) num;
    else if (strcmp(n, "absent_after") == 0)
        p->absent_after = (int) num;
    else if (strcmp(n, "flag_age") == 0)
        p->flag_age = (int) num;
    else if (strcmp(n, "funeral_expense") == 0)
        p->funeral_expense = (int64_t) (num * 100 + (num >= 0 ? 0.5 : -0.5));
    else if (strcmp(n, "funeral_months") == 0)
        p->funeral_months = (int) num;
}

bool
params_parse(const char *path, const char *text, Params *p, CbError *err)
{
    memset(p, 0, sizeof *p);
    bool seen[NDEFS] = {0};
    int lineno = 0;
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t) (nl - s) : strlen(s);
        char line[1024];
        lineno++;
        if (len >= sizeof line)
            return fail_at(err, path, lineno, 1, "line too long", "at most 1023 bytes");
        memcpy(line, s, len);
        line[len] = '\0';
        s = nl ? nl + 1 : s + len;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *k = line;
        while (*k == ' ' || *k == '\t')
            k++;
        size_t l = strlen(k);
        while (l > 0 && isspace((unsigned char) k[l - 1]))
            k[--l] = '\0';
        if (*k == '\0')
            continue;
        char *eq = strchr(k, '=');
        if (eq == NULL)
            return fail_at(err, path, lineno, (int) (k - line) + 1, "missing '='", "name = value");
        char *v = eq + 1;
        *eq = '\0';
        for (char *e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
            *e = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        int col_v = (int) (v - line) + 1;
        int which = -1;
        for (int i = 0; i < NDEFS; i++)
            if (strcmp(defs[i].name, k) == 0)
                which = i;
        if (which < 0)
            return fail_at(err, path, lineno, (int) (k - line) + 1, "unknown parameter",
                           "division, min_age, government_paid, severe_disability, employment_window, "
                           "absent_after, flag_age, authoritative, funeral_expense or funeral_months");
        if (seen[which])
            return fail_at(err, path, lineno, (int) (k - line) + 1, "parameter set twice", "each parameter once");
        seen[which] = true;
        double num = 0;
        char unit[64] = "";
        switch (defs[which].type) {
        case P_TEXT:
            if (*v == '\0')
                return fail_at(err, path, lineno, col_v, "empty value", "a value");
            set_param(p, which, 0, v);
            break;
        case P_YEARS:
        case P_MONTHS:
        case P_YUAN:
        case P_INT: {
            const char *want = defs[which].type == P_YEARS ? "years" : defs[which].type == P_MONTHS ? "months"
                             : defs[which].type == P_YUAN ? "yuan" : "";
            if (!number_unit(v, &num, unit, sizeof unit) || num < 0)
                return fail_at(err, path, lineno, col_v, "expected a non-negative number", want[0] ? want : "a number");
            if (strcmp(unit, want) != 0) {
                char exp[64];
                snprintf(exp, sizeof exp, "a number followed by \"%s\"", want[0] ? want : "nothing");
                return fail_at(err, path, lineno, col_v, "wrong unit", exp);
            }
            if (defs[which].type != P_YUAN && num != (double) (long) num)
                return fail_at(err, path, lineno, col_v, "expected a whole number", want);
            set_param(p, which, num, NULL);
            break;
        }
        case P_GROUPS:
        case P_EVIDENCE: {
            char *save = NULL;
            for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                while (*t == ' ')
                    t++;
                size_t tl = strlen(t);
                while (tl > 0 && t[tl - 1] == ' ')
                    t[--tl] = '\0';
                int col = (int) (t - line) + 1;
                if (defs[which].type == P_GROUPS) {
                    if (strcmp(t, "disability") == 0) p->gov_disability = true;
                    else if (strcmp(t, "dibao") == 0) p->gov_dibao = true;
                    else if (strcmp(t, "tekun") == 0) p->gov_tekun = true;
                    else if (strcmp(t, "poor_household") == 0) p->gov_poor = true;
                    else
                        return fail_at(err, path, lineno, col, "unknown group", "disability, dibao, tekun or poor_household");
                } else {
                    Evidence e;
                    if (!evidence_lookup(t, &e))
                        return fail_at(err, path, lineno, col, "unknown evidence", "police, health, civil, court or medical");
                    p->authoritative |= 1u << e;
                }
            }
            break;
        }
        }
    }
    for (int i = 0; i < NDEFS; i++)
        if (!seen[i]) {
            CB_FAIL(err, CBERR_INPUT, "parameter %s is not set", defs[i].name);
            cb_error_at(err, "%s", path);
            return false;
        }
    return true;
}

bool
params_load(const char *path, Params *p, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open parameters: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    char *buf = xmalloc(65537);
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    buf[n] = '\0';
    bool ok = params_parse(path, buf, p, err);
    free(buf);
    return ok;
}
