/*
 * rules_decl — checking the declarations of a rule set: lists (columns, flags, row clauses,
 * grouping and order), example cases, the order in which lists are evaluated (listed()), and
 * the parameters file as a whole (a parameter no rule uses is an error, and so is a name in a
 * list of groups that no rule tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_check_int.h"

/* ------------------------------------------------------------------ lists */

static Ctx
list_ctx(RuleSet *rs, int li)
{
    ListDef *l = rlist(rs, li);
    Ctx c = {.rs = rs, .sc = NULL, .depth = l->var ? 1 : 0, .person = l->var == NULL, .list = li, .rowdef = -1,
             .col = -1};
    return c;
}

int
rc_check_column(Ctx *c, int li, int ci)
{
    RuleSet *rs = c->rs;
    ListDef *l = rlist(rs, li);
    ColDef *col = &l->cols[ci];
    if (col->state == 2)
        return col->type.t == T_ERR ? -1 : 0;
    if (col->state == 1)
        return rdiag(rs, col->file, col->line, col->col, "columns may use each other, but not in a circle",
                     "column %s depends on itself", col->name);
    col->state = 1;
    RType t = rtype(T_NONE);
    int rc = 0;
    Ctx cc = *c;
    cc.in_row = true;
    cc.col = ci;
    cc.sc = NULL;
    cc.depth = l->var ? 1 : 0;
    cc.person = l->var == NULL;
    if (col->flags) {
        t = rtype(T_TEXT);
    } else {
        if (col->expr >= 0) {
            cc.rowdef = -1;
            if (rc_check(&cc, col->expr) < 0)
                rc = -1;
            else
                t = rnode(rs, col->expr)->type;
        }
        for (int r = 0; r < l->nrows && rc == 0; r++) {
            int e = l->rows[r].assign[ci];
            if (e < 0)
                continue;
            cc.rowdef = r;
            if (rc_check(&cc, e) < 0) {
                rc = -1;
                break;
            }
            char t1[96], t2[96];
            RType et = rnode(rs, e)->type;
            if (!rc_unify(&t, et)) {
                rc = rdiag(rs, rnode(rs, e)->file, rnode(rs, e)->line, rnode(rs, e)->col,
                           "a column has one type in every row", "column %s is %s here but %s elsewhere", col->name,
                           rc_tname(et, t1), rc_tname(t, t2));
            }
        }
    }
    l = rlist(rs, li);
    col = &l->cols[ci];
    if (rc == 0 && !rtype_formattable(t)) {
        char tn[96];
        rc = rdiag(rs, col->file, col->line, col->col, "a column holds text, numbers, money, dates or months",
                   "column %s is %s", col->name, rc_tname(t, tn));
    }
    for (int i = 0; i < cc.ndeps && c->ndeps < LIST_MAX; i++)
        c->deps[c->ndeps++] = cc.deps[i];
    col->type = rc < 0 ? rtype(T_ERR) : t;
    col->state = 2;
    return rc;
}


static void
check_list(RuleSet *rs, int li)
{
    ListDef *l = rlist(rs, li);
    if (l->var) {
        l->ref = rc_find_ref(rs, l->ref_name);
        if (l->ref < 0) {
            rdiag(rs, l->file, l->ref_line, l->ref_col, "declare it: reference NAME \"title\" files \"...\" field ...",
                  "unknown reference list %s", l->ref_name);
            return;
        }
    }
    Ctx c = list_ctx(rs, li);
    if (l->where >= 0) {
        if (rc_want_bool(&c, l->where, "the list's where") == 0) {
            l = rlist(rs, li);
            l->nconj = 0;
            rc_split_and(rs, l->where, l->conj, &l->nconj, RULE_MAX_CONJ);
        }
    }
    l = rlist(rs, li);
    if (l->nrows == 0) {
        RowDef *r = &l->rows[l->nrows++];
        memset(r, 0, sizeof *r);
        r->set = r->when = -1;
        r->line = l->line;
        r->col = l->col;
        for (int i = 0; i < LIST_MAX_COLS; i++)
            r->assign[i] = -1;
    }
    /* row clauses: the set of `for each`, then when */
    for (int r = 0; r < rlist(rs, li)->nrows; r++) {
        RowDef *rd = &rlist(rs, li)->rows[r];
        if (rd->set >= 0) {
            c.rowdef = -1;
            if (rc_check(&c, rd->set) == 0 && rnode(rs, rd->set)->type.t != T_SET) {
                char tn[96];
                rdiag(rs, rnode(rs, rd->set)->file, rnode(rs, rd->set)->line, rnode(rs, rd->set)->col,
                      "row for each y in distinct(year_of(date) of tax_collection where ...)",
                      "for each needs a set of values, not %s", rc_tname(rnode(rs, rd->set)->type, tn));
            }
            rd = &rlist(rs, li)->rows[r];
            rd->var_slot = rs->nvars++;
            if (rs->nvars > RULE_MAX_VARS)
                rdiag(rs, l->file, rd->line, rd->col, NULL, "too many loop variables (at most 16)");
        }
    }
    for (int r = 0; r < rlist(rs, li)->nrows; r++) {
        RowDef *rd = &rlist(rs, li)->rows[r];
        if (rd->when >= 0) {
            c.rowdef = r;
            c.in_row = true;
            rc_want_bool(&c, rd->when, "a row's when");
        }
    }
    c.rowdef = -1;
    c.in_row = true;
    for (int f = 0; f < rlist(rs, li)->nflags; f++)
        rc_want_bool(&c, rlist(rs, li)->flags[f].cond, "a flag's when");
    for (int ci = 0; ci < rlist(rs, li)->ncols; ci++) {
        l = rlist(rs, li);
        if (l->cols[ci].flags)
            continue;
        for (int r = 0; r < l->nrows; r++)
            if (l->rows[r].assign[ci] < 0 && l->cols[ci].expr < 0)
                rdiag(rs, l->file, l->rows[r].line, l->rows[r].col, "give it a default (column name = value) or set it here",
                      "column %s has no value in this row clause", l->cols[ci].name);
        rc_check_column(&c, li, ci);
    }
    for (int g = 0; g < rlist(rs, li)->ngroup; g++) {
        int e = rlist(rs, li)->group[g];
        if (rc_check(&c, e) == 0 && !rtype_formattable(rnode(rs, e)->type)) {
            char tn[96];
            rdiag(rs, rnode(rs, e)->file, rnode(rs, e)->line, rnode(rs, e)->col, NULL, "cannot group by %s",
                  rc_tname(rnode(rs, e)->type, tn));
        }
    }
    l = rlist(rs, li);
    if (l->norder == 0)
        for (int ci = 0; ci < l->ncols; ci++)
            l->order[l->norder++] = ci;
    for (int i = 0; i < c.ndeps; i++) {
        bool seen = false;
        for (int k = 0; k < rs->nlist_deps[li]; k++)
            seen |= rs->list_deps[li][k] == c.deps[i];
        if (!seen)
            rs->list_deps[li][rs->nlist_deps[li]++] = c.deps[i];
    }
    /* the rule and the rule set's version travel with every row */
    if (l->ncols + 2 <= LIST_MAX_COLS) {
        static const char *const names[2] = {"rule", "rule_version"};
        for (int k = 0; k < 2; k++) {
            ColDef *cd = &l->cols[l->ncols++];
            memset(cd, 0, sizeof *cd);
            cd->name = names[k];
            cd->implicit = true;
            cd->state = 2;
            cd->type = rtype(T_TEXT);
            int n = rules_new_node(rs, OP_CONST, NULL);
            l = rlist(rs, li);
            cd = &l->cols[l->ncols - 1];
            Node *nd = rnode(rs, n);
            nd->type = rtype(T_TEXT);
            nd->checked = 2;
            nd->s = k == 0 ? l->rule : rs->version;
            nd->slen = (uint32_t) strlen(nd->s);
            cd->expr = n;
        }
    }
}

/* person lists in an order where every list comes after the lists it asks listed() about */
static bool
order_lists(RuleSet *rs)
{
    int state[LIST_MAX] = {0};
    rs->norder = 0;
    bool ok = true;
    for (int pass = 0; pass < (int) rs->lists.len; pass++) {
        for (int li = 0; li < (int) rs->lists.len; li++) {
            if (state[li] || rlist(rs, li)->var)
                continue;
            bool ready = true;
            for (int k = 0; k < rs->nlist_deps[li]; k++)
                ready &= state[rs->list_deps[li][k]] != 0;
            if (ready) {
                state[li] = 1;
                rs->order[rs->norder++] = li;
            }
        }
    }
    for (int li = 0; li < (int) rs->lists.len; li++)
        if (!state[li] && !rlist(rs, li)->var) {
            ListDef *l = rlist(rs, li);
            rdiag(rs, l->file, l->line, l->col, "listed() may not go round in a circle",
                  "list %s depends on itself through listed()", l->name);
            ok = false;
        }
    return ok;
}

/* ------------------------------------------------------------------ example cases */

static bool
test_value_fits(RuleSet *rs, const TestValue *v, RType t, bool money_ok)
{
    (void) rs;
    switch (t.t) {
    case T_DATE: return v->value.kind == TK_DATE;
    case T_MONTH: return v->value.kind == TK_MONTH;
    case T_MONEY: return v->value.kind == TK_NUMBER && (v->unit == NULL || strcmp(v->unit, "yuan") == 0) && money_ok;
    case T_INT: return v->value.kind == TK_NUMBER && v->value.scale == 0 && v->unit == NULL;
    case T_TEXT: return v->value.kind == TK_STRING;
    case T_ENUM: {
        if (v->value.kind != TK_IDENT)
            return false;
        int nv;
        const char *const *vals = rules_enum_values(t, &nv);
        for (int i = 0; i < nv; i++)
            if (strcmp(vals[i], v->value.str) == 0)
                return true;
        return false;
    }
    default: return false;
    }
}

static void
check_tests(RuleSet *rs)
{
    for (size_t ti = 0; ti < rs->tests.len; ti++) {
        TestCase *tc = &((TestCase *) rs->tests.data)[ti];
        bool have_person = false;
        for (size_t gi = 0; gi < tc->given.len; gi++) {
            TestGiven *g = &((TestGiven *) tc->given.data)[gi];
            FactKind k;
            int r;
            if (strcmp(g->what_name, "register") == 0) {
                g->what = -1;
                have_person = true;
            } else if (factkind_lookup(g->what_name, &k)) {
                g->what = (int) k;
                if (!have_person)
                    rdiag(rs, tc->file, g->line, g->col, "facts belong to the person of the last `given register`",
                          "given %s before any given register", g->what_name);
            } else if ((r = rc_find_ref(rs, g->what_name)) >= 0) {
                g->what = -100 - r;
            } else {
                rdiag(rs, tc->file, g->line, g->col, "register, a fact kind or a reference list",
                      "unknown kind %s", g->what_name);
                continue;
            }
            for (int vi = 0; vi < g->nvals; vi++) {
                TestValue *v = &g->vals[vi];
                RType t;
                int slot;
                RegField rf;
                bool ok;
                if (g->what == -1) {
                    if (strcmp(v->name, "id_number") == 0)
                        ok = v->value.kind == TK_STRING && idnum_is_valid(v->value.str);
                    else if (rules_reg_field(v->name, &rf, &t))
                        ok = test_value_fits(rs, v, t, false);
                    else {
                        rdiag(rs, tc->file, v->line, v->col, NULL, "unknown register field %s", v->name);
                        continue;
                    }
                } else if (g->what >= 0) {
                    if (g->what == FK_PENSION_PAYMENT && strcmp(v->name, "account") == 0) {
                        ok = test_value_fits(rs, v, rtype(T_MONEY), true);
                    } else if (rules_kind_field(g->what, v->name, &slot, &t) && slot >= 0) {
                        ok = test_value_fits(rs, v, t, true);
                    } else {
                        rdiag(rs, tc->file, v->line, v->col, NULL, "unknown field %s of %s", v->name, g->what_name);
                        continue;
                    }
                } else {
                    if (rc_ref_field(rref(rs, -100 - g->what), v->name) < 0) {
                        rdiag(rs, tc->file, v->line, v->col, NULL, "unknown field %s of %s", v->name, g->what_name);
                        continue;
                    }
                    t = rtype(T_TEXT);
                    ok = v->value.kind == TK_STRING;
                }
                if (!ok) {
                    char tn[96];
                    rdiag(rs, tc->file, v->value.line, v->value.col,
                          t.t == T_DATE ? "a date: 2026-11-28" : t.t == T_MONTH ? "a month: 2026-11"
                          : t.t == T_MONEY ? "an amount: 138.50 yuan" : t.t == T_TEXT ? "\"text\"" : NULL,
                          "%s of %s must be %s", v->name, g->what_name,
                          strcmp(v->name, "id_number") == 0 ? "a valid ID number in quotes" : rc_tname(t, tn));
                }
            }
        }
        if (!have_person && tc->given.len == 0)
            rdiag(rs, tc->file, tc->line, 1, "given register ... then facts", "example without anything given");
        for (size_t ei = 0; ei < tc->expect.len; ei++) {
            TestExpect *e = &((TestExpect *) tc->expect.data)[ei];
            e->list_idx = rc_find_list(rs, e->list);
            if (e->list_idx < 0) {
                rdiag(rs, tc->file, e->line, e->col, NULL, "unknown list %s", e->list);
                continue;
            }
            ListDef *l = rlist(rs, e->list_idx);
            for (int vi = 0; vi < e->nvals; vi++)
                if (rc_find_col(l, e->vals[vi].name) < 0)
                    rdiag(rs, tc->file, e->vals[vi].line, e->vals[vi].col, NULL, "no column %s in list %s",
                          e->vals[vi].name, l->name);
        }
    }
}

/* ------------------------------------------------------------------ the whole set */

static bool
rc_is_builtin(const char *name)
{
    if (rc_is_function(name))
        return true;
    return strcmp(name, "listed") == 0 || strcmp(name, "register") == 0 || strcmp(name, "persons") == 0;
}

bool
rules_check(RuleSet *rs)
{
    int errors_before = rs->nerrors;
    rs->nsym = 0;
    memset(rs->nlist_deps, 0, sizeof rs->nlist_deps);
    /* names */
    for (size_t i = 0; i < rs->defines.len; i++) {
        Define *d = rdef(rs, (int) i);
        if (rc_is_builtin(d->name))
            rdiag(rs, d->file, d->line, d->col, "choose another name", "%s is a built-in name", d->name);
        for (size_t j = 0; j < i; j++) {
            Define *e = rdef(rs, (int) j);
            if (e->kind == d->kind && strcmp(e->name, d->name) == 0) {
                const RuleFile *rf = &((const RuleFile *) rs->files.data)[e->file];
                char hint[700];
                snprintf(hint, sizeof hint, "first defined at %s:%d:%d", rf->path, e->line, e->col);
                rdiag(rs, d->file, d->line, d->col, hint, "%s is defined twice", d->name);
            }
        }
    }
    if (rs->lists.len > LIST_MAX)
        rdiag(rs, rlist(rs, LIST_MAX)->file, rlist(rs, LIST_MAX)->line, rlist(rs, LIST_MAX)->col, NULL,
              "at most %d lists", LIST_MAX);
    for (size_t i = 0; i < rs->lists.len && i < LIST_MAX; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(rlist(rs, (int) i)->name, rlist(rs, (int) j)->name) == 0)
                rdiag(rs, rlist(rs, (int) i)->file, rlist(rs, (int) i)->line, rlist(rs, (int) i)->col, NULL,
                      "list %s is declared twice", rlist(rs, (int) i)->name);
    for (size_t i = 0; i < rs->refs.len; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(rref(rs, (int) i)->name, rref(rs, (int) j)->name) == 0)
                rdiag(rs, rref(rs, (int) i)->file, rref(rs, (int) i)->line, rref(rs, (int) i)->col, NULL,
                      "reference %s is declared twice", rref(rs, (int) i)->name);
    if (rs->nerrors > errors_before)
        return false;

    for (size_t i = 0; i < rs->defines.len; i++) {
        Define *d = rdef(rs, (int) i);
        if (d->kind >= 0)
            rc_check_kind_define(rs, (int) i);
        else if (d->nparams == 0)
            rc_check_define_body(rs, (int) i);
    }
    for (size_t i = 0; i < rs->lists.len && i < LIST_MAX; i++) {
        ListDef *l = rlist(rs, (int) i);
        const RuleFile *rf = &((const RuleFile *) rs->files.data)[l->file];
        char rule[400];
        snprintf(rule, sizeof rule, "%s:%s", rf->name, l->name);
        l->rule = arena_strdup(&rs->arena, rule);
        check_list(rs, (int) i);
    }
    if (rs->nerrors == errors_before)
        order_lists(rs);
    check_tests(rs);

    /* parameters nobody uses, and list entries no rule tests */
    for (int i = 0; i < rs->params.n; i++) {
        Param *pm = &rs->params.items[i];
        char where[700];
        snprintf(where, sizeof where, "%s:%d:%d", rs->params.path, pm->line, 1);
        if (!pm->used) {
            char hint[300];
            snprintf(hint, sizeof hint, "use $%s in a rule, or remove it", pm->name);
            rdiag_at(rs, where, hint, "parameter %s is not used by any rule", pm->name);
            continue;
        }
        if (pm->kind != PARAM_NAMES)
            continue;
        bool any_sym = false;
        for (int k = 0; k < rs->nsym; k++)
            any_sym |= rs->sym_param[k] == pm;
        if (!any_sym)
            continue;
        for (int n = 0; n < pm->nnames; n++) {
            bool tested = false;
            for (int k = 0; k < rs->nsym; k++)
                tested |= rs->sym_param[k] == pm && strcmp(rs->sym_name[k], pm->names[n]) == 0;
            if (!tested) {
                char hint[300];
                snprintf(where, sizeof where, "%s:%d:%d", rs->params.path, pm->line, pm->name_col[n]);
                snprintf(hint, sizeof hint, "a rule must say what %s means: ... (%s in $%s and any(...))", pm->names[n],
                         pm->names[n], pm->name);
                rdiag_at(rs, where, hint, "%s in $%s is not tested by any rule", pm->names[n], pm->name);
            }
        }
    }
    return rs->nerrors == errors_before;
}

