/*
 * rules_check — names, types and units of rule expressions; resolves and types the syntax
 * nodes in place (the compiled form).
 *
 * Every syntax node is resolved to what it means (a fact field in scope, a register field, a
 * definition, a column, a parameter's value ...) and typed.  Units are part of the type:
 * years, months, days and yuan do not mix with each other or with plain numbers, so
 * `age(asof) >= 16` is an error (write 16 years or $min_age).  Parameters are folded to
 * constants.  `count(persons where ...)` in a list over reference rows is split into a
 * per-person tally and a key, so that it costs one pass over the persons.  Definitions with
 * parameters and conditions on facts (`define prison.holding = ...`) are expanded where they
 * are used.  Declarations (lists, example cases, the set as a whole) are checked in
 * rules_decl.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_check_int.h"

/* ------------------------------------------------------------------ check context */

static Node *
N(const Ctx *c, int i)
{
    return rnode(c->rs, i);
}

static int
err_at(Ctx *c, int node, const char *hint, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
err_at(Ctx *c, int node, const char *hint, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Node *n = N(c, node);
    n->type = rtype(T_ERR);
    n->checked = 2;
    rdiag(c->rs, n->file, n->line, n->col, hint, "%s", msg);
    return -1;
}

static void
set_type(Ctx *c, int node, RType t)
{
    N(c, node)->type = t;
    N(c, node)->checked = 2;
}

const char *
rc_tname(RType t, char *buf)
{
    return rules_type_name(t, buf, 96);
}

static int
param_use(Ctx *c, int node, const char *name, Param **out)
{
    Param *pm = params_find(&c->rs->params, name);
    if (pm == NULL) {
        char hint[600];
        snprintf(hint, sizeof hint, "set it in %s, e.g. %s = 12 months", c->rs->params.path, name);
        return err_at(c, node, hint, "parameter $%s is not set", name);
    }
    pm->used = true;
    *out = pm;
    return 0;
}

/* Levenshtein distance, capped, for "did you mean" */
static int
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int) i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int) j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

typedef struct Suggest {
    const char *best;
    int         dist;
} Suggest;

static void
suggest(Suggest *s, const char *name, const char *cand)
{
    int d = distance(name, cand);
    if (d < s->dist && d <= 2 + (int) strlen(name) / 6) {
        s->dist = d;
        s->best = cand;
    }
}

int
rc_find_define(const RuleSet *rs, const char *name, int kind)
{
    for (size_t i = 0; i < rs->defines.len; i++)
        if (rdef(rs, (int) i)->kind == kind && strcmp(rdef(rs, (int) i)->name, name) == 0)
            return (int) i;
    return -1;
}

int
rc_find_list(const RuleSet *rs, const char *name)
{
    for (size_t i = 0; i < rs->lists.len; i++)
        if (strcmp(rlist(rs, (int) i)->name, name) == 0)
            return (int) i;
    return -1;
}

int
rc_find_ref(const RuleSet *rs, const char *name)
{
    for (size_t i = 0; i < rs->refs.len; i++)
        if (strcmp(rref(rs, (int) i)->name, name) == 0)
            return (int) i;
    return -1;
}

int
rc_ref_field(const RefDecl *r, const char *name)
{
    for (int i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i], name) == 0)
            return i;
    return -1;
}

int
rc_find_col(const ListDef *l, const char *name)
{
    for (int i = 0; i < l->ncols; i++)
        if (strcmp(l->cols[i].name, name) == 0)
            return i;
    return -1;
}

static const RowDef *
cur_row(const Ctx *c)
{
    if (c->list < 0 || c->rowdef < 0)
        return NULL;
    return &rlist(c->rs, c->list)->rows[c->rowdef];
}

/* Would a bare name resolve to something (without reporting)? */
static bool
ident_resolves(const Ctx *c, const char *name)
{
    const RowDef *r = cur_row(c);
    if (r && r->var && strcmp(r->var, name) == 0)
        return true;
    for (const Scope *s = c->sc; s; s = s->up) {
        int slot;
        RType t;
        if (s->what == SC_FACT && (rules_kind_field(s->kind, name, &slot, &t) || rc_find_define(c->rs, name, s->kind) >= 0))
            return true;
        if (s->what == SC_REF && rc_ref_field(rref(c->rs, s->kind), name) >= 0)
            return true;
    }
    if (c->list >= 0 && c->in_row && rc_find_col(rlist(c->rs, c->list), name) >= 0)
        return true;
    if (c->list >= 0 && rlist(c->rs, c->list)->var && strcmp(rlist(c->rs, c->list)->var, name) == 0)
        return true;
    return rc_find_define(c->rs, name, -1) >= 0 || strcmp(name, "register") == 0;
}

/* A bare name as a value of enum type t: becomes a constant.  Returns 1 when it did. */
static int
enum_ident(Ctx *c, int node, RType t)
{
    Node *n = N(c, node);
    if (n->op != OP_IDENT || t.t != T_ENUM)
        return 0;
    int nv;
    const char *const *vals = rules_enum_values(t, &nv);
    for (int i = 0; i < nv; i++)
        if (strcmp(vals[i], n->s) == 0) {
            n->op = OP_CONST;
            n->k = i;
            set_type(c, node, t);
            return 1;
        }
    if (ident_resolves(c, n->s))
        return 0;
    char hint[400], tn[96];
    size_t o = (size_t) snprintf(hint, sizeof hint, "expected ");
    for (int i = 0; i < nv && o < sizeof hint - 40; i++)
        o += (size_t) snprintf(hint + o, sizeof hint - o, "%s%s", vals[i], i + 2 < nv ? ", " : i + 1 < nv ? " or " : "");
    err_at(c, node, hint, "unknown value %s of %s", n->s, rc_tname(t, tn) + 11);
    return -1;
}

int
rc_check_define_body(RuleSet *rs, int d);

/* ------------------------------------------------------------------ names */

static int
expand_macro(Ctx *c, int node, int d, const int *argv, int argc)
{
    RuleSet *rs = c->rs;
    Define *df = rdef(rs, d);
    if (c->macro_depth > 16)
        return err_at(c, node, "a definition may not use itself", "definition %s expands without end", df->name);
    const char *const *names = (const char *const *) df->params;
    int clone = rules_clone(rs, df->body, names, argv, argc);
    c->macro_depth++;
    int r = rc_check(c, clone);
    c->macro_depth--;
    /* the call node becomes the expansion (its source span stays the call's) */
    Node *call = N(c, node), exp = *N(c, clone);
    exp.file = call->file;
    exp.line = call->line;
    exp.col = call->col;
    exp.off = call->off;
    exp.len = call->len;
    *N(c, node) = exp;
    return r;
}

static int
resolve_ident(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    const char *name = n->s;
    const RowDef *r = cur_row(c);
    if (r && r->var && strcmp(r->var, name) == 0) {
        n->op = OP_VAR;
        n->k = r->var_slot;
        RType t = N(c, r->set)->type;
        RType et = t;
        et.t = t.et;
        et.et = 0;
        set_type(c, node, t.t == T_SET ? et : rtype(T_ERR));
        return 0;
    }
    for (const Scope *s = c->sc; s; s = s->up) {
        if (s->what == SC_FACT) {
            int slot;
            RType t;
            if (rules_kind_field(s->kind, name, &slot, &t)) {
                if (slot < 0)
                    return err_at(c, node, "only fields the engine keeps can be used (see factkind.c)",
                                  "field %s of %s is not kept by the engine", name, factkind_name((FactKind) s->kind));
                n = N(c, node);
                n->op = OP_FIELD;
                n->k = slot;
                n->depth = (uint8_t) s->depth;
                n->uses = USE_FACT;
                set_type(c, node, t);
                return 0;
            }
            int d = rc_find_define(rs, name, s->kind);
            if (d >= 0) {
                if (s != c->sc)
                    return err_at(c, node, "use it directly inside any(KIND where ...) of its kind",
                                  "%s is a condition on %s facts, not on the facts in scope here", name,
                                  factkind_name((FactKind) s->kind));
                if (rdef(rs, d)->state == 3) {
                    set_type(c, node, rtype(T_ERR));
                    return -1;
                }
                return expand_macro(c, node, d, NULL, 0);
            }
        } else {
            int f = rc_ref_field(rref(rs, s->kind), name);
            if (f >= 0) {
                n->op = OP_REFFIELD;
                n->k = f;
                n->depth = (uint8_t) s->depth;
                n->uses = USE_FACT;
                set_type(c, node, rtype(T_TEXT));
                return 0;
            }
        }
    }
    if (c->list >= 0 && c->in_row) {
        ListDef *l = rlist(rs, c->list);
        int ci = rc_find_col(l, name);
        /* in a column's own value its name means what it means outside the list */
        if (ci >= 0 && !l->cols[ci].implicit && ci != c->col) {
            if (l->cols[ci].flags) {
                n->op = OP_COL;
                n->k = ci;
                set_type(c, node, rtype(T_TEXT));
                return 0;
            }
            /* the referred column's type: check it first */
            int saved_row = c->rowdef, saved_col = c->col;
            int rc = rc_check_column(c, c->list, ci);
            c->rowdef = saved_row;
            c->col = saved_col;
            n = N(c, node);
            n->op = OP_COL;
            n->k = ci;
            n->uses = USE_PERSON | USE_REF;
            set_type(c, node, rc < 0 ? rtype(T_ERR) : l->cols[ci].type);
            return rc < 0 ? -1 : 0;
        }
    }
    if (c->list >= 0 && rlist(rs, c->list)->var && strcmp(rlist(rs, c->list)->var, name) == 0)
        return err_at(c, node, "e.g. town.code", "%s is a row of %s; name one of its fields", name,
                      rlist(rs, c->list)->ref_name);
    if (strcmp(name, "register") == 0)
        return err_at(c, node, "e.g. register.birth_date", "register alone is not a value; name one of its fields");
    int d = rc_find_define(rs, name, -1);
    if (d >= 0) {
        Define *df = rdef(rs, d);
        if (df->nparams > 0)
            return err_at(c, node, "call it with its arguments", "%s needs %d argument%s", name, df->nparams,
                          df->nparams > 1 ? "s" : "");
        if (!c->person)
            return err_at(c, node, "definitions are about one person; this list runs over reference rows",
                          "no person here for %s", name);
        if (rc_check_define_body(rs, d) < 0) {
            set_type(c, node, rtype(T_ERR));
            return -1;
        }
        n = N(c, node);
        n->op = OP_DEF;
        n->k = d;
        n->uses = USE_PERSON;
        set_type(c, node, rdef(rs, d)->type);
        return 0;
    }
    /* unknown: say what is known here */
    Suggest s = {NULL, 99};
    for (const Scope *sc = c->sc; sc; sc = sc->up)
        if (sc->what == SC_FACT) {
            const KindSpec *ks = factkind_spec((FactKind) sc->kind);
            for (int i = 0; ks->fields[i].name; i++)
                suggest(&s, name, ks->fields[i].name);
        }
    for (size_t i = 0; i < rs->defines.len; i++)
        suggest(&s, name, rdef(rs, (int) i)->name);
    if (c->list >= 0)
        for (int i = 0; i < rlist(rs, c->list)->ncols; i++)
            suggest(&s, name, rlist(rs, c->list)->cols[i].name);
    char hint[300];
    if (s.best)
        snprintf(hint, sizeof hint, "did you mean %s?", s.best);
    else if (c->sc && c->sc->what == SC_FACT)
        snprintf(hint, sizeof hint, "a field of %s, a definition, or register.FIELD",
                 factkind_name((FactKind) c->sc->kind));
    else
        snprintf(hint, sizeof hint, "a definition (define %s = ...), a column, or register.FIELD", name);
    return err_at(c, node, hint, "unknown name %s", name);
}

/* Is name a loop variable or a field of a fact or reference row in scope (which would hide
 * `register` or a list's row name)? */
static bool
ident_resolves_field(const Ctx *c, const char *name)
{
    const RowDef *r = cur_row(c);
    if (r && r->var && strcmp(r->var, name) == 0)
        return true;
    for (const Scope *s = c->sc; s; s = s->up) {
        int slot;
        RType t;
        if (s->what == SC_FACT && rules_kind_field(s->kind, name, &slot, &t))
            return true;
        if (s->what == SC_REF && rc_ref_field(rref(c->rs, s->kind), name) >= 0)
            return true;
    }
    return false;
}

static int
check_get(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    Node *a = N(c, n->a);
    const char *field = n->s;
    if (a->op == OP_IDENT && strcmp(a->s, "register") == 0 && !ident_resolves_field(c, "register")) {
        RegField rf;
        RType t;
        if (!rules_reg_field(field, &rf, &t)) {
            char hint[300];
            Suggest s = {NULL, 99};
            for (int i = 0; rules_reg_field_name(i); i++)
                suggest(&s, field, rules_reg_field_name(i));
            if (s.best)
                snprintf(hint, sizeof hint, "did you mean register.%s?", s.best);
            else
                snprintf(hint, sizeof hint, "id_number, name, sex, birth_date, household, division, address, phone, "
                                            "status, cancel_reason or cancel_date");
            return err_at(c, node, hint, "unknown register field %s", field);
        }
        if (!c->person)
            return err_at(c, node, "this list runs over reference rows", "no person here for register.%s", field);
        n->op = OP_REG;
        n->k = rf;
        n->uses = USE_PERSON;
        set_type(c, node, t);
        return 0;
    }
    if (a->op == OP_IDENT && c->list >= 0 && rlist(rs, c->list)->var && strcmp(rlist(rs, c->list)->var, a->s) == 0 &&
        !ident_resolves_field(c, a->s)) {
        const RefDecl *r = rref(rs, rlist(rs, c->list)->ref);
        int f = rc_ref_field(r, field);
        if (f < 0) {
            char hint[400];
            size_t o = (size_t) snprintf(hint, sizeof hint, "fields of %s: ", r->name);
            for (int i = 0; i < r->nfields && o < sizeof hint - 40; i++)
                o += (size_t) snprintf(hint + o, sizeof hint - o, "%s%s", i ? ", " : "", r->fields[i]);
            return err_at(c, node, hint, "unknown field %s of %s", field, r->name);
        }
        n->op = OP_REFFIELD;
        n->k = f;
        n->depth = 0;
        n->uses = USE_REF;
        set_type(c, node, rtype(T_TEXT));
        return 0;
    }
    if (rc_check(c, n->a) < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    n = N(c, node);
    RType at = N(c, n->a)->type;
    if (at.t != T_FACT) {
        char tn[96];
        return err_at(c, node, "fields belong to register, to a fact (latest(KIND)) or to a reference row",
                      "%s has no field %s", rc_tname(at, tn), field);
    }
    int slot;
    RType t;
    if (!rules_kind_field(at.kind, field, &slot, &t)) {
        char hint[400];
        const KindSpec *ks = factkind_spec((FactKind) at.kind);
        size_t o = (size_t) snprintf(hint, sizeof hint, "fields of %s: ", ks->name);
        for (int i = 0; ks->fields[i].name && o < sizeof hint - 40; i++)
            if (ks->fields[i].slot != SLOT_NONE && ks->fields[i].slot != SLOT_PERSON)
                o += (size_t) snprintf(hint + o, sizeof hint - o, "%s, ", ks->fields[i].name);
        if (o > 2)
            hint[o - 2] = '\0';
        return err_at(c, node, hint, "unknown field %s of %s", field, ks->name);
    }
    if (slot < 0)
        return err_at(c, node, "only fields the engine keeps can be used", "field %s of %s is not kept by the engine",
                      field, factkind_name((FactKind) at.kind));
    n->op = OP_FACTFIELD;
    n->k = slot;
    n->uses = N(c, n->a)->uses;
    set_type(c, node, t);
    return 0;
}

/* ------------------------------------------------------------------ operators */

static int
check_cmp(Ctx *c, int node)
{
    Node *n = N(c, node);
    int a = n->a, b = n->b;
    /* a bare enum value on either side takes its type from the other side */
    bool a_bare = N(c, a)->op == OP_IDENT && !ident_resolves(c, N(c, a)->s);
    if (!a_bare) {
        if (rc_check(c, a) < 0)
            return -1;
        int r = enum_ident(c, b, N(c, a)->type);
        if (r < 0 || (r == 0 && rc_check(c, b) < 0))
            return -1;
    } else {
        if (rc_check(c, b) < 0)
            return -1;
        int r = enum_ident(c, a, N(c, b)->type);
        if (r < 0)
            return -1;
        if (r == 0 && rc_check(c, a) < 0)
            return -1;
    }
    n = N(c, node);
    RType ta = N(c, a)->type, tb = N(c, b)->type;
    n->uses = N(c, a)->uses | N(c, b)->uses;
    if (ta.t == T_ERR || tb.t == T_ERR) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    if (ta.t == T_NONE || tb.t == T_NONE)
        return err_at(c, node, "write: x is none, or x is not none", "compare with none using is");
    bool eq = n->sub == PU_EQ || n->sub == PU_NE;
    char t1[96], t2[96];
    if (!(rtype_same(ta, tb) || (rtype_number(ta) && rtype_number(tb)))) {
        char hint[200] = "both sides must have the same type and unit";
        if ((rtype_duration(ta) || ta.t == T_MONEY) && tb.t == T_INT)
            snprintf(hint, sizeof hint, "give the number its unit, e.g. 16 %s", ta.t == T_MONEY ? "yuan" : rc_tname(ta, t1));
        else if ((rtype_duration(tb) || tb.t == T_MONEY) && ta.t == T_INT)
            snprintf(hint, sizeof hint, "give the number its unit, e.g. 16 %s", tb.t == T_MONEY ? "yuan" : rc_tname(tb, t1));
        return err_at(c, node, hint, "cannot compare %s with %s", rc_tname(ta, t1), rc_tname(tb, t2));
    }
    if (!eq && !rtype_ordered(ta))
        return err_at(c, node, "only numbers, money, durations, dates, months and text have an order",
                      "%s cannot be compared with < or >", rc_tname(ta, t1));
    if (eq && (ta.t == T_SET || ta.t == T_FACT || ta.t == T_REF))
        return err_at(c, node, "compare their fields instead", "%s cannot be compared", rc_tname(ta, t1));
    set_type(c, node, rtype(T_BOOL));
    return 0;
}

static int
check_arith(Ctx *c, int node)
{
    Node *n = N(c, node);
    if (rc_check(c, n->a) < 0 || rc_check(c, n->b) < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    n = N(c, node);
    RType a = N(c, n->a)->type, b = N(c, n->b)->type;
    n->uses = N(c, n->a)->uses | N(c, n->b)->uses;
    char t1[96], t2[96];
    int op = n->sub;
    RType r = rtype(T_ERR);
    int how = -1;
    if (op == '+' || op == '-') {
        if (a.t == T_INT && b.t == T_INT)
            r = rtype(T_INT), how = AR_INT;
        else if (rtype_number(a) && rtype_number(b))
            r = rtype(T_NUM), how = AR_NUM;
        else if (a.t == T_MONEY && b.t == T_MONEY)
            r = a, how = AR_MONEY;
        else if (rtype_duration(a) && a.t == b.t)
            r = a, how = AR_DUR;
        else if (a.t == T_DATE && b.t == T_MONTHS)
            r = a, how = AR_DATE_MONTHS;
        else if (a.t == T_DATE && b.t == T_YEARS)
            r = a, how = AR_DATE_YEARS;
        else if (a.t == T_DATE && b.t == T_DAYS)
            r = a, how = AR_DATE_DAYS;
        else if (a.t == T_MONTH && b.t == T_MONTHS)
            r = a, how = AR_MONTH_MONTHS;
        else if (a.t == T_MONTH && b.t == T_YEARS)
            r = a, how = AR_MONTH_YEARS;
        else if (op == '-' && a.t == T_DATE && b.t == T_DATE)
            r = rtype(T_DAYS), how = AR_DATE_DIFF;
        else if (op == '-' && a.t == T_MONTH && b.t == T_MONTH)
            r = rtype(T_MONTHS), how = AR_MONTH_DIFF;
    } else if (op == '*') {
        if (a.t == T_INT && b.t == T_INT)
            r = rtype(T_INT), how = AR_INT;
        else if (rtype_number(a) && rtype_number(b))
            r = rtype(T_NUM), how = AR_NUM;
        else if (a.t == T_INT && (b.t == T_MONEY || rtype_duration(b)))
            r = b, how = AR_SCALE_L;
        else if (b.t == T_INT && (a.t == T_MONEY || rtype_duration(a)))
            r = a, how = AR_SCALE_R;
        else if (a.t == T_MONTHS && b.t == T_MONEY)   /* months of a monthly amount */
            r = b, how = AR_SCALE_L;
        else if (a.t == T_MONEY && b.t == T_MONTHS)
            r = a, how = AR_SCALE_R;
    } else if (op == '/') {
        if ((rtype_number(a) && rtype_number(b)) || (a.t == T_MONEY && b.t == T_MONEY) ||
            (rtype_duration(a) && a.t == b.t))
            r = rtype(T_NUM), how = AR_DIV;
    }
    if (how < 0) {
        const char *hint = "dates take durations (asof + 3 months); money adds to money and multiplies by "
                           "plain numbers or months (of a monthly amount); '/' gives a fraction (use ceil or floor)";
        return err_at(c, node, hint, "cannot compute %s %c %s", rc_tname(a, t1), (char) op, rc_tname(b, t2));
    }
    n->k = how;
    set_type(c, node, r);
    return 0;
}

static int
check_in(Ctx *c, int node)
{
    Node *n = N(c, node);
    if (rc_check(c, n->a) < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    n = N(c, node);
    RType t = N(c, n->a)->type;
    uint64_t mask = 0;
    bool all_const = t.t == T_ENUM;
    for (int i = 0; i < n->nargs; i++) {
        int arg = rarg(c->rs, n, i);
        int r = enum_ident(c, arg, t);
        if (r < 0)
            return -1;
        if (r == 0) {
            if (rc_check(c, arg) < 0)
                return -1;
            RType at = N(c, arg)->type;
            char t1[96], t2[96];
            if (!rtype_same(t, at) && !(rtype_number(t) && rtype_number(at)))
                return err_at(c, arg, "every value of the list must have the type of the left side",
                              "%s in a list of %s", rc_tname(t, t1), rc_tname(at, t2));
        }
        if (N(c, arg)->op == OP_CONST && t.t == T_ENUM)
            mask |= 1ull << N(c, arg)->k;
        else
            all_const = false;
        N(c, node)->uses |= N(c, arg)->uses;
    }
    n = N(c, node);
    n->uses |= N(c, n->a)->uses;
    if (all_const) {
        n->op = OP_INSET;
        n->k = (int64_t) mask;
    }
    set_type(c, node, rtype(T_BOOL));
    return 0;
}

/* the (param, name) pairs tested by `name in $param`, to find list entries no rule tests */

static int
check_inparam(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    Param *pm = NULL;
    if (param_use(c, node, n->s, &pm) < 0)
        return -1;
    n = N(c, node);
    if (pm->kind != PARAM_NAMES) {
        char hint[300];
        snprintf(hint, sizeof hint, "$%s is %s (%s:%d:%d); use == or a list in brackets", pm->name,
                 pm->kind == PARAM_TEXT ? "a text" : "a number", rs->params.path, pm->line, pm->col);
        return err_at(c, node, hint, "$%s is not a list of names", pm->name);
    }
    Node *a = N(c, n->a);
    if (a->op == OP_IDENT && !ident_resolves(c, a->s)) {
        /* a name tested for membership: known when the rules are compiled */
        const char *sym = a->s;
        bool member = false;
        for (int i = 0; i < pm->nnames; i++)
            member |= strcmp(pm->names[i], sym) == 0;
        FactKind k;
        if (!member && !factkind_lookup(sym, &k))
            return err_at(c, n->a, "a fact kind, or a name listed in the parameter", "unknown name %s", sym);
        if (rs->nsym < 256) {
            rs->sym_param[rs->nsym] = pm;
            rs->sym_name[rs->nsym++] = sym;
        }
        n->op = OP_CONST;
        n->k = member;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    if (rc_check(c, n->a) < 0)
        return -1;
    n = N(c, node);
    RType t = N(c, n->a)->type;
    char where[700], tn[96];
    if (t.t == T_ENUM) {
        int nv;
        const char *const *vals = rules_enum_values(t, &nv);
        uint64_t mask = 0;
        for (int i = 0; i < pm->nnames; i++) {
            int v = -1;
            for (int k = 0; k < nv; k++)
                if (strcmp(vals[k], pm->names[i]) == 0)
                    v = k;
            if (v < 0) {
                char hint[400];
                size_t o = (size_t) snprintf(hint, sizeof hint, "expected ");
                for (int k = 0; k < nv && o < sizeof hint - 40; k++)
                    o += (size_t) snprintf(hint + o, sizeof hint - o, "%s%s", vals[k],
                                           k + 2 < nv ? ", " : k + 1 < nv ? " or " : "");
                snprintf(where, sizeof where, "%s:%d:%d", rs->params.path, pm->line, pm->name_col[i]);
                rdiag_at(rs, where, hint, "%s in $%s is not %s", pm->names[i], pm->name, rc_tname(t, tn));
                set_type(c, node, rtype(T_ERR));
                return -1;
            }
            mask |= 1ull << v;
        }
        n->op = OP_INSET;
        n->k = (int64_t) mask;
        n->uses = N(c, n->a)->uses;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    if (t.t == T_TEXT) {
        n->k = (int64_t) (pm - rs->params.items);
        n->uses = N(c, n->a)->uses;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    return err_at(c, node, "a list of names is tested with a field's value or a bare name",
                  "%s cannot be looked up in $%s", rc_tname(t, tn), pm->name);
}

static int
check_within(Ctx *c, int node)
{
    Node *n = N(c, node);
    if (rc_check(c, n->a) < 0 || rc_check(c, n->c) < 0 || rc_check(c, n->b) < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    n = N(c, node);
    RType a = N(c, n->a)->type, span = N(c, n->c)->type, ref = N(c, n->b)->type;
    n->uses = N(c, n->a)->uses | N(c, n->b)->uses | N(c, n->c)->uses;
    char t1[96], t2[96];
    if (a.t != T_DATE && a.t != T_MONTH)
        return err_at(c, n->a, "e.g. date within 12 months before asof", "within needs a date or a month, not %s",
                      rc_tname(a, t1));
    if (!rtype_same(a, ref))
        return err_at(c, n->b, "both ends are dates (or both months)", "cannot measure %s from %s", rc_tname(a, t1),
                      rc_tname(ref, t2));
    if (!(span.t == T_MONTHS || span.t == T_YEARS || (span.t == T_DAYS && a.t == T_DATE)))
        return err_at(c, n->c, "a duration: 12 months, 1 years, 30 days, or a $parameter with such a unit",
                      "within needs a duration, not %s", rc_tname(span, t1));
    set_type(c, node, rtype(T_BOOL));
    return 0;
}

static int
check_between(Ctx *c, int node)
{
    Node *n = N(c, node);
    if (rc_check(c, n->a) < 0 || rc_check(c, n->b) < 0 || rc_check(c, n->c) < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    n = N(c, node);
    RType a = N(c, n->a)->type, lo = N(c, n->b)->type, hi = N(c, n->c)->type;
    n->uses = N(c, n->a)->uses | N(c, n->b)->uses | N(c, n->c)->uses;
    char t1[96], t2[96];
    if (!rtype_ordered(a))
        return err_at(c, node, NULL, "%s has no order", rc_tname(a, t1));
    if (!(rtype_same(a, lo) || (rtype_number(a) && rtype_number(lo))))
        return err_at(c, n->b, NULL, "cannot compare %s with %s", rc_tname(a, t1), rc_tname(lo, t2));
    if (!(rtype_same(a, hi) || (rtype_number(a) && rtype_number(hi))))
        return err_at(c, n->c, NULL, "cannot compare %s with %s", rc_tname(a, t1), rc_tname(hi, t2));
    set_type(c, node, rtype(T_BOOL));
    return 0;
}

/* if / coalesce / greatest / least / columns: one type, none fits anything */
bool
rc_unify(RType *into, RType t)
{
    if (t.t == T_ERR || t.t == T_NONE)
        return true;
    if (into->t == T_NONE || into->t == T_ERR) {
        *into = t;
        return true;
    }
    if (rtype_same(*into, t))
        return true;
    if (rtype_number(*into) && rtype_number(t)) {
        *into = rtype(T_NUM);
        return true;
    }
    return false;
}

int
rc_want_bool(Ctx *c, int node, const char *what)
{
    if (rc_check(c, node) < 0)
        return -1;
    RType t = N(c, node)->type;
    if (t.t != T_BOOL && t.t != T_ERR) {
        char tn[96];
        return err_at(c, node, "a condition: a comparison, any(...), a definition that is true or false",
                      "%s must be a condition, not %s", what, rc_tname(t, tn));
    }
    return t.t == T_ERR ? -1 : 0;
}

/* ------------------------------------------------------------------ functions */

static const struct {
    const char *name;
    FnKind      fn;
    int         min, max;
    const char *usage;
} fns[] = {
    {"age", FN_AGE, 1, 2, "age(date) or age(birth_date, date): completed years"},
    {"birthday", FN_BIRTHDAY, 1, 2, "birthday(60 years) or birthday(birth_date, 60 years): the day that age is reached"},
    {"month_of", FN_MONTH_OF, 1, 1, "month_of(date)"},
    {"year_of", FN_YEAR_OF, 1, 1, "year_of(date or month)"},
    {"first_day", FN_FIRST_DAY, 1, 1, "first_day(month)"},
    {"last_day", FN_LAST_DAY, 1, 1, "last_day(month)"},
    {"substr", FN_SUBSTR, 3, 3, "substr(text, start, length): characters, the first is 1"},
    {"length", FN_LENGTH, 1, 1, "length(text): characters"},
    {"to_int", FN_TO_INT, 1, 1, "to_int(text): none unless all digits"},
    {"join", FN_JOIN, 2, 2, "join(distinct(... of KIND ...), \";\"): the values in byte order"},
    {"greatest", FN_GREATEST, 1, 32, "greatest(a, b, ...): the largest that is not none"},
    {"least", FN_LEAST, 1, 32, "least(a, b, ...): the smallest that is not none"},
    {"coalesce", FN_COALESCE, 1, 32, "coalesce(a, b, ...): the first that is not none"},
    {"ceil", FN_CEIL, 1, 1, "ceil(fraction)"},
    {"floor", FN_FLOOR, 1, 1, "floor(fraction)"},
};

static int
check_call(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    const char *name = n->s;
    int nargs = n->nargs;
    int argv[32];
    for (int i = 0; i < nargs; i++)
        argv[i] = rarg(rs, n, i);

    if (strcmp(name, "listed") == 0) {
        if (nargs != 1 || N(c, argv[0])->op != OP_IDENT)
            return err_at(c, node, "listed(unenrolled_eligible)", "listed takes the name of a list");
        int li = rc_find_list(rs, N(c, argv[0])->s);
        if (li < 0)
            return err_at(c, argv[0], "the name of a list of the rule set", "unknown list %s", N(c, argv[0])->s);
        if (rlist(rs, li)->var)
            return err_at(c, argv[0], "listed() asks about a list of persons", "%s is a list over reference rows",
                          rlist(rs, li)->name);
        if (!c->person)
            return err_at(c, node, "listed() is about a person", "no person here");
        if (c->ndeps < LIST_MAX)
            c->deps[c->ndeps++] = li;
        n = N(c, node);
        n->op = OP_LISTED;
        n->k = li;
        n->uses = USE_PERSON;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    int d = rc_find_define(rs, name, -1);
    if (d >= 0) {
        Define *df = rdef(rs, d);
        if (df->nparams != nargs)
            return err_at(c, node, NULL, "%s takes %d argument%s, not %d", name, df->nparams,
                          df->nparams == 1 ? "" : "s", nargs);
        for (int i = 0; i < nargs; i++)
            if (rc_check(c, argv[i]) < 0) {
                set_type(c, node, rtype(T_ERR));
                return -1;
            }
        return expand_macro(c, node, d, argv, nargs);
    }
    int f = -1;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(fns[i].name, name) == 0)
            f = (int) i;
    if (f < 0) {
        Suggest s = {NULL, 99};
        for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
            suggest(&s, name, fns[i].name);
        for (size_t i = 0; i < rs->defines.len; i++)
            suggest(&s, name, rdef(rs, (int) i)->name);
        char hint[200];
        if (s.best)
            snprintf(hint, sizeof hint, "did you mean %s?", s.best);
        else
            snprintf(hint, sizeof hint, "a built-in function (age, birthday, month_of, join, greatest, ...) "
                                        "or a definition with parameters");
        return err_at(c, node, hint, "unknown function %s", name);
    }
    if (nargs < fns[f].min || nargs > fns[f].max)
        return err_at(c, node, fns[f].usage, "wrong number of arguments to %s", name);
    RType t[32];
    uint8_t uses = 0;
    for (int i = 0; i < nargs; i++) {
        if (rc_check(c, argv[i]) < 0) {
            set_type(c, node, rtype(T_ERR));
            return -1;
        }
        t[i] = N(c, argv[i])->type;
        uses |= N(c, argv[i])->uses;
    }
    FnKind fn = fns[f].fn;
    RType r = rtype(T_ERR);
    int bad = -1;
    char t1[96];
    switch (fn) {
    case FN_AGE:
        if (nargs == 1 && !c->person)
            return err_at(c, node, "age(birth_date, date) outside a person", "no person here for age()");
        for (int i = 0; i < nargs; i++)
            if (t[i].t != T_DATE)
                bad = i;
        r = rtype(T_YEARS);
        if (nargs == 1)
            uses |= USE_PERSON;
        break;
    case FN_BIRTHDAY:
        if (nargs == 1 && !c->person)
            return err_at(c, node, "birthday(birth_date, n years) outside a person", "no person here for birthday()");
        if (nargs == 2 && t[0].t != T_DATE)
            bad = 0;
        if (t[nargs - 1].t != T_YEARS)
            bad = nargs - 1;
        r = rtype(T_DATE);
        if (nargs == 1)
            uses |= USE_PERSON;
        break;
    case FN_MONTH_OF:
        bad = t[0].t == T_DATE ? -1 : 0;
        r = rtype(T_MONTH);
        break;
    case FN_YEAR_OF:
        bad = t[0].t == T_DATE || t[0].t == T_MONTH ? -1 : 0;
        r = rtype(T_INT);
        break;
    case FN_FIRST_DAY:
    case FN_LAST_DAY:
        bad = t[0].t == T_MONTH ? -1 : 0;
        r = rtype(T_DATE);
        break;
    case FN_SUBSTR:
        if (t[0].t != T_TEXT)
            bad = 0;
        else if (t[1].t != T_INT)
            bad = 1;
        else if (t[2].t != T_INT)
            bad = 2;
        r = rtype(T_TEXT);
        break;
    case FN_LENGTH:
    case FN_TO_INT:
        bad = t[0].t == T_TEXT ? -1 : 0;
        r = rtype(T_INT);
        break;
    case FN_JOIN:
        if (t[0].t != T_SET)
            bad = 0;
        else if (t[1].t != T_TEXT)
            bad = 1;
        r = rtype(T_TEXT);
        break;
    case FN_GREATEST:
    case FN_LEAST:
    case FN_COALESCE:
        r = rtype(T_NONE);
        for (int i = 0; i < nargs; i++) {
            if (!rc_unify(&r, t[i]) || (fn != FN_COALESCE && t[i].t != T_NONE && !rtype_ordered(t[i]))) {
                char t2[96];
                return err_at(c, argv[i], "all arguments have one type", "%s among %s", rc_tname(t[i], t1), rc_tname(r, t2));
            }
        }
        break;
    case FN_CEIL:
    case FN_FLOOR:
        bad = rtype_number(t[0]) ? -1 : 0;
        r = rtype(T_INT);
        break;
    default:
        break;
    }
    if (bad >= 0)
        return err_at(c, argv[bad], fns[f].usage, "%s cannot take %s here", name, rc_tname(t[bad], t1));
    n = N(c, node);
    n->op = OP_FN;
    n->sub = (int16_t) fn;
    n->uses = uses;
    set_type(c, node, r);
    return 0;
}

/* ------------------------------------------------------------------ aggregates */

static const char *const agg_names[] = {"any", "none", "count", "sum", "max", "min", "latest", "earliest", "distinct"};

void
rc_split_and(const RuleSet *rs, int node, int *out, int *n, int max)
{
    const Node *nd = rnode(rs, node);
    if (nd->op == OP_AND) {
        rc_split_and(rs, nd->a, out, n, max);
        rc_split_and(rs, nd->b, out, n, max);
    } else if (*n < max) {
        out[(*n)++] = node;
    }
}

static int
check_tally(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    if (n->sub != AGG_COUNT || n->k)
        return err_at(c, node, "count(persons where ... and township_of(register.division) == town.code)",
                      "persons can only be counted");
    if (c->list < 0 || rlist(rs, c->list)->var == NULL || c->person || c->sc)
        return err_at(c, node, "count(persons ...) belongs in a list over reference rows (for each town in divisions)",
                      "persons cannot be counted here");
    if (n->b < 0)
        return err_at(c, node, "count(persons where CONDITION and PERSON_VALUE == ROW_VALUE)",
                      "count(persons) needs a condition that ties each person to the row");
    Ctx tc = *c;
    tc.person = true;
    tc.in_row = false;
    if (rc_want_bool(&tc, N(c, node)->b, "the condition of count(persons ...)") < 0)
        return -1;
    int terms[RULE_MAX_CONJ], nt = 0;
    rc_split_and(rs, N(c, node)->b, terms, &nt, RULE_MAX_CONJ);
    int key = -1, rowkey = -1, cond = -1;
    for (int i = 0; i < nt; i++) {
        Node *t = N(c, terms[i]);
        if (t->op == OP_CMP && t->sub == PU_EQ && key < 0) {
            uint8_t ua = N(c, t->a)->uses, ub = N(c, t->b)->uses;
            if ((ua & USE_PERSON) && !(ua & USE_REF) && (ub & USE_REF) && !(ub & USE_PERSON)) {
                key = t->a;
                rowkey = t->b;
                continue;
            }
            if ((ub & USE_PERSON) && !(ub & USE_REF) && (ua & USE_REF) && !(ua & USE_PERSON)) {
                key = t->b;
                rowkey = t->a;
                continue;
            }
        }
        if (t->uses & USE_REF)
            return err_at(c, terms[i], "only one term may use the row: PERSON_VALUE == ROW_VALUE",
                          "this condition mixes the person and the row");
        if (cond < 0) {
            cond = terms[i];
        } else {
            int a = rules_new_node(rs, OP_AND, NULL);
            Node *an = N(c, a);
            an->a = cond;
            an->b = terms[i];
            an->type = rtype(T_BOOL);
            an->checked = 2;
            cond = a;
        }
    }
    if (key < 0)
        return err_at(c, node, "e.g. ... and township_of(register.division) == town.code",
                      "count(persons) needs a term PERSON_VALUE == ROW_VALUE");
    Tally *tl = vec_push(&rs->tallies);
    tl->cond = cond;
    tl->key = key;
    tl->list = c->list;
    n = N(c, node);
    n->op = OP_TALLY;
    n->k = (int64_t) rs->tallies.len - 1;
    n->a = rowkey;
    n->b = -1;
    n->uses = USE_REF;
    set_type(c, node, rtype(T_INT));
    return 0;
}

static int
check_agg(Ctx *c, int node)
{
    RuleSet *rs = c->rs;
    Node *n = N(c, node);
    AggKind ak = (AggKind) n->sub;
    const char *src = n->s;
    if (strcmp(src, "persons") == 0)
        return check_tally(c, node);
    if (strcmp(src, "register") == 0)
        return err_at(c, node, "use register.FIELD", "register is the person's own entry, not a kind of fact");
    FactKind fk;
    int ref = -1;
    bool is_fact = factkind_lookup(src, &fk);
    if (!is_fact) {
        ref = rc_find_ref(rs, src);
        if (ref < 0) {
            Suggest s = {NULL, 99};
            for (int k = 0; k < FK_COUNT; k++)
                suggest(&s, src, factkind_name((FactKind) k));
            for (size_t i = 0; i < rs->refs.len; i++)
                suggest(&s, src, rref(rs, (int) i)->name);
            char hint[200];
            if (s.best)
                snprintf(hint, sizeof hint, "did you mean %s?", s.best);
            else
                snprintf(hint, sizeof hint, "a fact kind of factkind.c (death, prison, tax_collection, ...)");
            rdiag(rs, n->file, n->sline, n->scol, hint, "unknown fact kind %s", src);
            set_type(c, node, rtype(T_ERR));
            return -1;
        }
        if (c->list < 0 || rlist(rs, c->list)->var == NULL || c->person)
            return err_at(c, node, "reference rows are counted in lists over reference rows",
                          "%s cannot be searched here", src);
        if (ak == AGG_LATEST || ak == AGG_EARLIEST)
            return err_at(c, node, NULL, "%s() is for facts", agg_names[ak]);
    } else if (!c->person) {
        return err_at(c, node, "facts belong to a person; this list runs over reference rows",
                      "no person here for %s", src);
    }
    if (c->depth >= RULE_MAX_DEPTH)
        return err_at(c, node, "nest at most 8 aggregates", "too deeply nested");
    Scope sc = {.what = is_fact ? SC_FACT : SC_REF, .kind = is_fact ? (int) fk : ref, .depth = c->depth, .up = c->sc};
    Ctx ic = *c;
    ic.sc = &sc;
    ic.depth = c->depth + 1;
    if (ic.depth > rs->maxdepth)
        rs->maxdepth = ic.depth;
    int value = n->a, where = n->b;
    RType vt = rtype(T_NONE);
    if (value >= 0) {
        if (rc_check(&ic, value) < 0) {
            set_type(c, node, rtype(T_ERR));
            return -1;
        }
        vt = N(c, value)->type;
    }
    if (where >= 0 && rc_want_bool(&ic, where, "the condition after where") < 0) {
        set_type(c, node, rtype(T_ERR));
        return -1;
    }
    c->ndeps = ic.ndeps;
    memcpy(c->deps, ic.deps, sizeof c->deps);
    n = N(c, node);
    char tn[96];
    RType r = rtype(T_ERR);
    switch (ak) {
    case AGG_ANY:
    case AGG_NONE:
        r = rtype(T_BOOL);
        break;
    case AGG_COUNT:
        if (n->k && !rtype_formattable(vt))
            return err_at(c, value, NULL, "cannot count distinct %s", rc_tname(vt, tn));
        r = rtype(T_INT);
        break;
    case AGG_SUM:
        if (!(vt.t == T_INT || vt.t == T_NUM || vt.t == T_MONEY || rtype_duration(vt)))
            return err_at(c, value, "sum adds numbers, money or durations", "cannot sum %s", rc_tname(vt, tn));
        r = vt;
        break;
    case AGG_MAX:
    case AGG_MIN:
        if (!rtype_ordered(vt))
            return err_at(c, value, NULL, "%s has no order", rc_tname(vt, tn));
        r = vt;
        break;
    case AGG_LATEST:
    case AGG_EARLIEST:
        r = rtype(T_FACT);
        r.kind = (int8_t) fk;
        break;
    case AGG_DISTINCT:
        if (!rtype_formattable(vt) || vt.t == T_NONE)
            return err_at(c, value, NULL, "cannot collect %s", rc_tname(vt, tn));
        r = vt;
        r.et = vt.t;
        r.t = T_SET;
        break;
    }
    /* a distinct count keeps its flag in sub's high bit: k becomes the kind */
    if (ak == AGG_COUNT && n->k)
        n->sub = (int16_t) (AGG_COUNT | 0x100);
    n->op = is_fact ? OP_AGGF : OP_AGGREF;
    n->k = is_fact ? (int64_t) fk : ref;
    n->depth = (uint8_t) c->depth;
    uint8_t inner = (uint8_t) ((value >= 0 ? N(c, value)->uses : 0) | (where >= 0 ? N(c, where)->uses : 0));
    n->uses = (uint8_t) ((is_fact ? USE_PERSON : 0) | (inner & (USE_PERSON | USE_REF)));
    set_type(c, node, r);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

int
rc_check(Ctx *c, int node)
{
    Node *n = N(c, node);
    if (n->checked == 2)
        return n->type.t == T_ERR ? -1 : 0;
    switch ((NodeOp) n->op) {
    case OP_CONST:
    case OP_ASOF:
        set_type(c, node, n->type);
        return 0;
    case OP_PARAM: {
        Param *pm = NULL;
        if (param_use(c, node, n->s, &pm) < 0)
            return -1;
        n = N(c, node);
        if (pm->kind == PARAM_NAMES)
            return err_at(c, node, "a list of names is used as: value in $name", "$%s is a list of names", pm->name);
        n->op = OP_CONST;
        if (pm->kind == PARAM_TEXT) {
            n->s = pm->text;
            n->slen = (uint32_t) strlen(pm->text);
            set_type(c, node, rtype(T_TEXT));
        } else {
            n->k = pm->value;
            static const TypeCode unit_types[] = {T_INT, T_YEARS, T_MONTHS, T_DAYS, T_MONEY};
            set_type(c, node, rtype(unit_types[pm->unit]));
        }
        return 0;
    }
    case OP_IDENT:
        return resolve_ident(c, node);
    case OP_GET:
        return check_get(c, node);
    case OP_CALL:
        return check_call(c, node);
    case OP_NEG: {
        if (rc_check(c, n->a) < 0)
            return -1;
        n = N(c, node);
        RType t = N(c, n->a)->type;
        char tn[96];
        if (!(rtype_number(t) || t.t == T_MONEY || rtype_duration(t)))
            return err_at(c, node, NULL, "cannot negate %s", rc_tname(t, tn));
        n->uses = N(c, n->a)->uses;
        set_type(c, node, t);
        return 0;
    }
    case OP_NOT:
        if (rc_want_bool(c, n->a, "the operand of not") < 0)
            return -1;
        n = N(c, node);
        n->uses = N(c, n->a)->uses;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    case OP_AND:
    case OP_OR: {
        int ra = rc_want_bool(c, n->a, n->op == OP_AND ? "each side of and" : "each side of or");
        int rb = rc_want_bool(c, N(c, node)->b, n->op == OP_AND ? "each side of and" : "each side of or");
        n = N(c, node);
        n->uses = N(c, n->a)->uses | N(c, n->b)->uses;
        set_type(c, node, ra < 0 || rb < 0 ? rtype(T_ERR) : rtype(T_BOOL));
        return ra < 0 || rb < 0 ? -1 : 0;
    }
    case OP_CMP:
        return check_cmp(c, node);
    case OP_ARITH:
        return check_arith(c, node);
    case OP_IN:
        return check_in(c, node);
    case OP_INPARAM:
        return check_inparam(c, node);
    case OP_UNDER: {
        if (rc_check(c, n->a) < 0 || rc_check(c, N(c, node)->b) < 0)
            return -1;
        n = N(c, node);
        RType a = N(c, n->a)->type, b = N(c, n->b)->type;
        char t1[96], t2[96];
        if (a.t != T_TEXT || b.t != T_TEXT)
            return err_at(c, node, "code under \"222401\": both sides are text",
                          "under compares text with text, not %s with %s", rc_tname(a, t1), rc_tname(b, t2));
        n->uses = N(c, n->a)->uses | N(c, n->b)->uses;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    case OP_WITHIN:
        return check_within(c, node);
    case OP_BETWEEN:
        return check_between(c, node);
    case OP_ISNONE:
        if (rc_check(c, n->a) < 0)
            return -1;
        n = N(c, node);
        n->uses = N(c, n->a)->uses;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    case OP_ACTIVE: {
        if (c->sc == NULL || c->sc->what != SC_FACT)
            return err_at(c, node, "inside any(KIND where active_on asof)", "active_on needs a fact in scope");
        int k = c->sc->kind, s1, s2;
        RType t1, t2;
        if (!rules_kind_field(k, "start_date", &s1, &t1) || !rules_kind_field(k, "end_date", &s2, &t2) ||
            t1.t != T_DATE || t2.t != T_DATE)
            return err_at(c, node, "active_on is for facts with start_date and end_date",
                          "%s has no start and end dates", factkind_name((FactKind) k));
        if (rc_check(c, N(c, node)->a) < 0)
            return -1;
        n = N(c, node);
        char tn[96];
        if (N(c, n->a)->type.t != T_DATE)
            return err_at(c, n->a, NULL, "active_on needs a date, not %s", rc_tname(N(c, n->a)->type, tn));
        n->depth = (uint8_t) c->sc->depth;
        n->k = k;
        n->uses = N(c, n->a)->uses | USE_FACT;
        set_type(c, node, rtype(T_BOOL));
        return 0;
    }
    case OP_IF: {
        if (rc_want_bool(c, n->a, "the condition of if") < 0 || rc_check(c, N(c, node)->b) < 0 || rc_check(c, N(c, node)->c) < 0)
            return -1;
        n = N(c, node);
        RType r = N(c, n->b)->type;
        char t1[96], t2[96];
        if (!rc_unify(&r, N(c, n->c)->type))
            return err_at(c, node, "then and else give values of one type", "if gives %s or %s",
                          rc_tname(N(c, n->b)->type, t1), rc_tname(N(c, n->c)->type, t2));
        n->uses = N(c, n->a)->uses | N(c, n->b)->uses | N(c, n->c)->uses;
        set_type(c, node, r);
        return 0;
    }
    case OP_AGG:
        return check_agg(c, node);
    default:
        /* already resolved (shared by an expansion) */
        return n->type.t == T_ERR ? -1 : 0;
    }
}

/* ------------------------------------------------------------------ definitions */

int
rc_check_define_body(RuleSet *rs, int d)
{
    Define *df = rdef(rs, d);
    if (df->state == 2)
        return df->type.t == T_ERR ? -1 : 0;
    if (df->state == 3)
        return -1;
    if (df->state == 1) {
        rdiag(rs, df->file, df->line, df->col, "a definition may not depend on itself", "definition %s refers to itself",
              df->name);
        return -1;
    }
    df->state = 1;
    Ctx c = {.rs = rs, .sc = NULL, .depth = 0, .person = true, .list = -1, .rowdef = -1, .col = -1};
    int r = rc_check(&c, df->body);
    df = rdef(rs, d);
    df->type = rnode(rs, df->body)->type;
    df->state = r < 0 ? 3 : 2;
    if (r == 0 && !rtype_formattable(df->type) && df->type.t != T_FACT && df->type.t != T_SET) {
        char tn[96];
        rdiag(rs, df->file, df->line, df->col, NULL, "definition %s has no usable value (%s)", df->name, rc_tname(df->type, tn));
        df->state = 3;
        return -1;
    }
    if (r == 0 && c.ndeps > 0)
        return rdiag(rs, df->file, df->line, df->col, "use listed() in the lists themselves",
                     "definitions cannot ask listed()");
    if (r == 0)
        df->memo = rs->nmemo++;
    return r;
}

/* a condition on facts of one kind: checked once on a copy, in a scope of its kind */
void
rc_check_kind_define(RuleSet *rs, int d)
{
    Define *df = rdef(rs, d);
    int clone = rules_clone(rs, df->body, NULL, NULL, 0);
    Scope sc = {.what = SC_FACT, .kind = df->kind, .depth = 0, .up = NULL};
    Ctx c = {.rs = rs, .sc = &sc, .depth = 1, .person = true, .list = -1, .rowdef = -1, .col = -1};
    int r = rc_check(&c, clone);
    df = rdef(rs, d);
    if (r < 0)
        df->state = 3;
    else
        df->type = rnode(rs, clone)->type;
}

bool
rc_is_function(const char *name)
{
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(fns[i].name, name) == 0)
            return true;
    return false;
}

