/*
 * rules_parse — recursive-descent parser of rule files into declarations and syntax nodes.
 *
 * The grammar is in rules/README.md.  A syntax error names what was expected and what was
 * found, at the found token's line and column; the parser then skips to the next declaration
 * (a line's `define`, `list`, `reference` or `test`) so that one run reports the errors of
 * every declaration.  Names are not resolved here (rules_check.c does that).
 */
#include <stdio.h>
#include <string.h>

#include "rules_int.h"

typedef struct Parser {
    RuleSet     *rs;
    uint16_t     file;
    const Token *t;
    size_t       n, i;
    bool         failed;
} Parser;

static const char *const reserved[] = {
    "define", "list", "reference", "test", "column", "flag", "row", "group", "order", "where", "when",
    "each", "in", "of", "and", "or", "not", "is", "none", "true", "false", "if", "then", "else", "asof",
    "under", "within", "before", "after", "between", "active_on", "distinct", "any", "count", "sum",
    "max", "min", "latest", "earliest", "given", "expect", NULL,
};

static bool
is_reserved(const char *s)
{
    for (int i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], s) == 0)
            return true;
    return false;
}

static const Token *
cur(const Parser *p)
{
    return &p->t[p->i];
}

static const Token *
peek(const Parser *p, size_t k)
{
    return &p->t[p->i + k < p->n ? p->i + k : p->n - 1];
}

static bool
is_kw(const Token *t, const char *kw)
{
    return t->kind == TK_IDENT && strcmp(t->str, kw) == 0;
}

static bool
is_punct(const Token *t, int c)
{
    return t->kind == TK_PUNCT && t->punct == c;
}

static const Token *
next(Parser *p)
{
    const Token *t = cur(p);
    if (p->i + 1 < p->n)
        p->i++;
    return t;
}

/* "expected X, found Y" at the current token */
static int
expected(Parser *p, const char *what, const char *hint)
{
    char found[80];
    const Token *t = cur(p);
    rules_token_text(t, found, sizeof found);
    if (!p->failed)
        rdiag(p->rs, p->file, t->line, t->col, hint, "expected %s, found %s", what, found);
    p->failed = true;
    return -1;
}

static bool
accept_kw(Parser *p, const char *kw)
{
    if (is_kw(cur(p), kw)) {
        next(p);
        return true;
    }
    return false;
}

static bool
accept_punct(Parser *p, int c)
{
    if (is_punct(cur(p), c)) {
        next(p);
        return true;
    }
    return false;
}

static bool
expect_kw(Parser *p, const char *kw, const char *hint)
{
    if (accept_kw(p, kw))
        return true;
    char what[64];
    snprintf(what, sizeof what, "'%s'", kw);
    expected(p, what, hint);
    return false;
}

static bool
expect_punct(Parser *p, int c, const char *hint)
{
    if (accept_punct(p, c))
        return true;
    char what[16];
    snprintf(what, sizeof what, "'%c'", (char) c);
    expected(p, what, hint);
    return false;
}

/* a name that is not a reserved word */
static const Token *
expect_name(Parser *p, const char *what, const char *hint)
{
    const Token *t = cur(p);
    if (t->kind == TK_IDENT && !is_reserved(t->str))
        return next(p);
    if (t->kind == TK_IDENT) {
        char w[128];
        snprintf(w, sizeof w, "%s (%s is a reserved word)", what, t->str);
        expected(p, w, hint);
    } else {
        expected(p, what, hint);
    }
    return NULL;
}

int
rules_new_node(RuleSet *rs, NodeOp op, const Token *at)
{
    Node *n = vec_push(&rs->nodes);
    n->op = (uint16_t) op;
    n->a = n->b = n->c = -1;
    n->args = 0;
    n->nargs = 0;
    if (at) {
        n->file = at->file;
        n->line = at->line;
        n->col = at->col;
        n->off = at->off;
        n->len = at->len;
    }
    return (int) rs->nodes.len - 1;
}

/* the node's source span runs to the end of the token before the current one */
static int
close_span(Parser *p, int node)
{
    if (node < 0)
        return node;
    Node *n = rnode(p->rs, node);
    const Token *last = &p->t[p->i > 0 ? p->i - 1 : 0];
    if (last->off + last->len > n->off)
        n->len = last->off + last->len - n->off;
    return node;
}

static int
add_args(RuleSet *rs, const int *items, int n)
{
    int at = (int) rs->args.len;
    for (int i = 0; i < n; i++)
        *(int32_t *) vec_push(&rs->args) = items[i];
    return at;
}

static int parse_expr(Parser *p);
static int parse_add(Parser *p);

static int
binary(Parser *p, NodeOp op, int sub, const Token *at, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    int n = rules_new_node(p->rs, op, at);
    Node *nd = rnode(p->rs, n);
    Node *na = rnode(p->rs, a);
    nd->sub = (int16_t) sub;
    nd->a = a;
    nd->b = b;
    nd->file = na->file;
    nd->line = na->line;
    nd->col = na->col;
    nd->off = na->off;
    return close_span(p, n);
}

static const char *const unit_words[] = {"years", "year", "months", "month", "days", "day", "yuan", NULL};

static int
unit_of(const Token *t)
{
    if (t->kind != TK_IDENT)
        return -1;
    for (int i = 0; unit_words[i]; i++)
        if (strcmp(unit_words[i], t->str) == 0)
            return i;
    return -1;
}

static int
parse_aggregate(Parser *p, const Token *name)
{
    RuleSet *rs = p->rs;
    static const struct { const char *kw; AggKind k; } aggs[] = {
        {"any", AGG_ANY}, {"none", AGG_NONE}, {"count", AGG_COUNT}, {"sum", AGG_SUM}, {"max", AGG_MAX},
        {"min", AGG_MIN}, {"latest", AGG_LATEST}, {"earliest", AGG_EARLIEST}, {"distinct", AGG_DISTINCT},
    };
    AggKind k = AGG_ANY;
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (strcmp(aggs[i].kw, name->str) == 0)
            k = aggs[i].k;
    next(p);   /* the keyword */
    next(p);   /* '(' */
    int value = -1;
    bool distinct = false;
    if (k == AGG_COUNT && accept_kw(p, "distinct"))
        distinct = true;
    if (k == AGG_SUM || k == AGG_MAX || k == AGG_MIN || k == AGG_DISTINCT || distinct) {
        value = parse_add(p);
        if (value < 0)
            return -1;
        if (!expect_kw(p, "of", "an aggregate of values reads: sum(amount of tax_collection where ...)"))
            return -1;
    }
    const Token *src = expect_name(p, "a fact kind (or a reference list, or persons)",
                                   "e.g. any(student where active_on asof)");
    if (src == NULL)
        return -1;
    int where = -1;
    if (accept_kw(p, "where")) {
        where = parse_expr(p);
        if (where < 0)
            return -1;
    }
    if (!expect_punct(p, ')', "')' to close the aggregate (its condition follows `where`)"))
        return -1;
    int n = rules_new_node(rs, OP_AGG, name);
    Node *nd = rnode(rs, n);
    nd->sub = (int16_t) k;
    nd->s = src->str;
    nd->slen = src->slen;
    nd->a = value;
    nd->b = where;
    nd->k = distinct;
    nd->d = 0;
    nd->c = -1;
    nd->sline = src->line;
    nd->scol = src->col;
    return close_span(p, n);
}

static int
parse_primary(Parser *p)
{
    RuleSet *rs = p->rs;
    const Token *t = cur(p);
    switch (t->kind) {
    case TK_NUMBER: {
        next(p);
        int n = rules_new_node(rs, OP_CONST, t);
        Node *nd = rnode(rs, n);
        int u = unit_of(cur(p));
        int64_t pow10 = 1;
        for (int i = 0; i < t->scale; i++)
            pow10 *= 10;
        if (u >= 0) {
            const Token *ut = next(p);
            nd = rnode(rs, n);
            if (u == 6) {   /* yuan */
                if (t->scale > 2) {
                    rdiag(rs, p->file, t->line, t->col, "money has at most two decimals (fen)", "too many decimals");
                    p->failed = true;
                    return -1;
                }
                nd->type.t = T_MONEY;
                nd->k = t->num * (t->scale == 0 ? 100 : t->scale == 1 ? 10 : 1);
            } else {
                if (t->scale > 0) {
                    rdiag(rs, p->file, t->line, t->col, "a whole number of years, months or days",
                          "expected a whole number");
                    p->failed = true;
                    return -1;
                }
                nd->type.t = u < 2 ? T_YEARS : u < 4 ? T_MONTHS : T_DAYS;
                nd->k = t->num;
            }
            (void) ut;
        } else if (t->scale > 0) {
            nd->type.t = T_NUM;
            nd->d = (double) t->num / (double) pow10;
        } else {
            nd->type.t = T_INT;
            nd->k = t->num;
        }
        return close_span(p, n);
    }
    case TK_STRING: {
        next(p);
        int n = rules_new_node(rs, OP_CONST, t);
        Node *nd = rnode(rs, n);
        nd->type.t = T_TEXT;
        nd->s = t->str;
        nd->slen = t->slen;
        return n;
    }
    case TK_DATE:
    case TK_MONTH: {
        next(p);
        int n = rules_new_node(rs, OP_CONST, t);
        Node *nd = rnode(rs, n);
        nd->type.t = t->kind == TK_DATE ? T_DATE : T_MONTH;
        nd->k = t->num;
        return n;
    }
    case TK_PARAM: {
        next(p);
        int n = rules_new_node(rs, OP_PARAM, t);
        rnode(rs, n)->s = t->str;
        return n;
    }
    case TK_PUNCT:
        if (is_punct(t, '(')) {
            next(p);
            int e = parse_expr(p);
            if (e < 0)
                return -1;
            if (!expect_punct(p, ')', "a closing ')'"))
                return -1;
            /* the span includes the brackets, as the reader wrote it */
            Node *nd = rnode(rs, e);
            uint32_t end = nd->off + nd->len;
            nd->off = t->off;
            nd->line = t->line;
            nd->col = t->col;
            nd->len = end - t->off + 1;
            return e;
        }
        return expected(p, "a value", "a name, a number, a \"text\", a date, $parameter or '('");
    case TK_IDENT: {
        static const char *const aggs[] = {"any", "none", "count", "sum", "max", "min", "latest",
                                           "earliest", "distinct", NULL};
        for (int i = 0; aggs[i]; i++)
            if (strcmp(aggs[i], t->str) == 0 && is_punct(peek(p, 1), '('))
                return parse_aggregate(p, t);
        if (is_kw(t, "none") || is_kw(t, "true") || is_kw(t, "false")) {
            next(p);
            int n = rules_new_node(rs, OP_CONST, t);
            Node *nd = rnode(rs, n);
            nd->type.t = is_kw(t, "none") ? T_NONE : T_BOOL;
            nd->k = is_kw(t, "true");
            return n;
        }
        if (is_kw(t, "asof")) {
            next(p);
            int n = rules_new_node(rs, OP_ASOF, t);
            rnode(rs, n)->type.t = T_DATE;
            return n;
        }
        if (is_reserved(t->str)) {
            char hint[160];
            snprintf(hint, sizeof hint, "%s is a reserved word; a value goes here", t->str);
            return expected(p, "a value", hint);
        }
        next(p);
        if (is_punct(cur(p), '(')) {
            next(p);
            int items[32], nitems = 0;
            if (!is_punct(cur(p), ')')) {
                for (;;) {
                    if (nitems == 32)
                        return expected(p, "')'", "at most 32 arguments");
                    int e = parse_expr(p);
                    if (e < 0)
                        return -1;
                    items[nitems++] = e;
                    if (!accept_punct(p, ','))
                        break;
                }
            }
            if (!expect_punct(p, ')', "',' between arguments or ')' after the last"))
                return -1;
            int n = rules_new_node(rs, OP_CALL, t);
            Node *nd = rnode(rs, n);
            nd->s = t->str;
            nd->args = add_args(rs, items, nitems);
            nd->nargs = nitems;
            return close_span(p, n);
        }
        int n = rules_new_node(rs, OP_IDENT, t);
        rnode(rs, n)->s = t->str;
        return n;
    }
    default:
        return expected(p, "a value", "a name, a number, a \"text\", a date, $parameter or '('");
    }
}

static int
parse_postfix(Parser *p)
{
    int e = parse_primary(p);
    while (e >= 0 && is_punct(cur(p), '.')) {
        next(p);
        const Token *f = expect_name(p, "a field name after '.'", "e.g. register.birth_date");
        if (f == NULL)
            return -1;
        int n = rules_new_node(p->rs, OP_GET, f);
        Node *nd = rnode(p->rs, n);
        Node *ne = rnode(p->rs, e);
        nd->a = e;
        nd->s = f->str;
        nd->line = ne->line;
        nd->col = ne->col;
        nd->off = ne->off;
        nd->file = ne->file;
        e = close_span(p, n);
    }
    return e;
}

static int
parse_unary(Parser *p)
{
    if (is_punct(cur(p), '-')) {
        const Token *t = next(p);
        int a = parse_unary(p);
        if (a < 0)
            return -1;
        int n = rules_new_node(p->rs, OP_NEG, t);
        rnode(p->rs, n)->a = a;
        return close_span(p, n);
    }
    return parse_postfix(p);
}

static int
parse_mul(Parser *p)
{
    int e = parse_unary(p);
    while (e >= 0 && (is_punct(cur(p), '*') || is_punct(cur(p), '/'))) {
        const Token *op = next(p);
        e = binary(p, OP_ARITH, op->punct, op, e, parse_unary(p));
    }
    return e;
}

static int
parse_add(Parser *p)
{
    int e = parse_mul(p);
    while (e >= 0 && (is_punct(cur(p), '+') || is_punct(cur(p), '-'))) {
        const Token *op = next(p);
        e = binary(p, OP_ARITH, op->punct, op, e, parse_mul(p));
    }
    return e;
}

static int
parse_cmp(Parser *p)
{
    RuleSet *rs = p->rs;
    int e = parse_add(p);
    if (e < 0)
        return -1;
    const Token *t = cur(p);
    if (t->kind == TK_PUNCT && (t->punct == PU_EQ || t->punct == PU_NE || t->punct == '<' ||
                                t->punct == '>' || t->punct == PU_LE || t->punct == PU_GE)) {
        next(p);
        return binary(p, OP_CMP, t->punct, t, e, parse_add(p));
    }
    if (is_punct(t, '=')) {
        expected(p, "an operator", "comparison is written == (= only assigns a column or a test value)");
        return -1;
    }
    bool negate = false;
    if (is_kw(t, "not") && is_kw(peek(p, 1), "in")) {
        next(p);
        negate = true;
        t = cur(p);
    }
    if (is_kw(t, "in")) {
        next(p);
        int n;
        if (cur(p)->kind == TK_PARAM) {
            const Token *pt = next(p);
            n = rules_new_node(rs, OP_INPARAM, t);
            rnode(rs, n)->a = e;
            rnode(rs, n)->s = pt->str;
            rnode(rs, n)->sline = pt->line;
            rnode(rs, n)->scol = pt->col;
        } else {
            if (!expect_punct(p, '(', "a list in brackets, (contributing, receiving), or a $parameter"))
                return -1;
            int items[32], nitems = 0;
            for (;;) {
                if (nitems == 32)
                    return expected(p, "')'", "at most 32 values");
                int v = parse_add(p);
                if (v < 0)
                    return -1;
                items[nitems++] = v;
                if (!accept_punct(p, ','))
                    break;
            }
            if (!expect_punct(p, ')', "',' between values or ')' after the last"))
                return -1;
            n = rules_new_node(rs, OP_IN, t);
            rnode(rs, n)->a = e;
            rnode(rs, n)->args = add_args(rs, items, nitems);
            rnode(rs, n)->nargs = nitems;
        }
        Node *nd = rnode(rs, n), *ne = rnode(rs, e);
        nd->line = ne->line;
        nd->col = ne->col;
        nd->off = ne->off;
        n = close_span(p, n);
        if (negate) {
            int m = rules_new_node(rs, OP_NOT, NULL);
            *rnode(rs, m) = *rnode(rs, n);
            rnode(rs, m)->op = OP_NOT;
            rnode(rs, m)->a = n;
            rnode(rs, m)->b = -1;
            n = m;
        }
        return n;
    }
    if (negate)
        return expected(p, "'in' after 'not'", NULL);
    if (is_kw(t, "under")) {
        next(p);
        return binary(p, OP_UNDER, 0, t, e, parse_add(p));
    }
    if (is_kw(t, "within")) {
        next(p);
        int span = parse_add(p);
        if (span < 0)
            return -1;
        int dir;
        if (accept_kw(p, "before"))
            dir = 0;
        else if (accept_kw(p, "after"))
            dir = 1;
        else
            return expected(p, "'before' or 'after'", "e.g. date within 12 months before asof");
        int ref = parse_add(p);
        int n = binary(p, OP_WITHIN, dir, t, e, ref);
        if (n >= 0)
            rnode(rs, n)->c = span;
        return n;
    }
    if (is_kw(t, "between")) {
        next(p);
        int lo = parse_add(p);
        if (lo < 0)
            return -1;
        if (!expect_kw(p, "and", "x between low and high"))
            return -1;
        int hi = parse_add(p);
        int n = binary(p, OP_BETWEEN, 0, t, e, lo);
        if (n >= 0 && hi >= 0) {
            rnode(rs, n)->c = hi;
            close_span(p, n);
            return n;
        }
        return -1;
    }
    if (is_kw(t, "is")) {
        next(p);
        bool isnot = accept_kw(p, "not");
        if (!expect_kw(p, "none", "x is none / x is not none"))
            return -1;
        int n = rules_new_node(rs, OP_ISNONE, t);
        Node *nd = rnode(rs, n), *ne = rnode(rs, e);
        nd->a = e;
        nd->sub = isnot;
        nd->line = ne->line;
        nd->col = ne->col;
        nd->off = ne->off;
        return close_span(p, n);
    }
    return e;
}

static int
parse_not(Parser *p)
{
    const Token *t = cur(p);
    if (is_kw(t, "not")) {
        next(p);
        int a = parse_not(p);
        if (a < 0)
            return -1;
        int n = rules_new_node(p->rs, OP_NOT, t);
        rnode(p->rs, n)->a = a;
        return close_span(p, n);
    }
    if (is_kw(t, "active_on")) {
        next(p);
        int a = parse_add(p);
        if (a < 0)
            return -1;
        int n = rules_new_node(p->rs, OP_ACTIVE, t);
        rnode(p->rs, n)->a = a;
        return close_span(p, n);
    }
    return parse_cmp(p);
}

static int
parse_and(Parser *p)
{
    int e = parse_not(p);
    while (e >= 0 && is_kw(cur(p), "and")) {
        const Token *op = next(p);
        e = binary(p, OP_AND, 0, op, e, parse_not(p));
    }
    return e;
}

static int
parse_or(Parser *p)
{
    int e = parse_and(p);
    while (e >= 0 && is_kw(cur(p), "or")) {
        const Token *op = next(p);
        e = binary(p, OP_OR, 0, op, e, parse_and(p));
    }
    return e;
}

static int
parse_expr(Parser *p)
{
    const Token *t = cur(p);
    if (is_kw(t, "if")) {
        next(p);
        int c = parse_expr(p);
        if (c < 0 || !expect_kw(p, "then", "if condition then value else value"))
            return -1;
        int a = parse_expr(p);
        if (a < 0 || !expect_kw(p, "else", "if condition then value else value (else is required)"))
            return -1;
        int b = parse_expr(p);
        if (b < 0)
            return -1;
        int n = rules_new_node(p->rs, OP_IF, t);
        Node *nd = rnode(p->rs, n);
        nd->a = c;
        nd->b = a;
        nd->c = b;
        return close_span(p, n);
    }
    return parse_or(p);
}

/* ------------------------------------------------------------------ declarations */

static bool
at_decl_start(const Parser *p)
{
    const Token *t = cur(p);
    return t->kind == TK_EOF || is_kw(t, "define") || is_kw(t, "list") || is_kw(t, "reference") ||
           is_kw(t, "test");
}

static const char *
intern_tok(Parser *p, const Token *t)
{
    (void) p;
    return t->str;
}

static bool
parse_define(Parser *p)
{
    RuleSet *rs = p->rs;
    next(p);
    const Token *name = expect_name(p, "a name after define", "define name = expression");
    if (name == NULL)
        return false;
    Define d;
    memset(&d, 0, sizeof d);
    d.kind = -1;
    d.file = p->file;
    d.line = name->line;
    d.col = name->col;
    d.name = intern_tok(p, name);
    if (accept_punct(p, '.')) {
        FactKind k;
        if (!factkind_lookup(name->str, &k)) {
            rdiag(rs, p->file, name->line, name->col, "define KIND.name = condition, e.g. define prison.holding = ...",
                  "unknown fact kind %s", name->str);
            p->failed = true;
            return false;
        }
        const Token *n2 = expect_name(p, "a name after the fact kind", "define prison.holding = ...");
        if (n2 == NULL)
            return false;
        d.kind = (int) k;
        d.name = intern_tok(p, n2);
        d.line = n2->line;
        d.col = n2->col;
    }
    if (accept_punct(p, '(')) {
        const char *names[16];
        int n = 0;
        for (;;) {
            const Token *pn = expect_name(p, "a parameter name", "define f(a, b) = expression");
            if (pn == NULL)
                return false;
            if (n == 16) {
                expected(p, "')'", "at most 16 parameters");
                return false;
            }
            names[n++] = pn->str;
            if (!accept_punct(p, ','))
                break;
        }
        if (!expect_punct(p, ')', "',' between names or ')' after the last"))
            return false;
        d.params = arena_alloc(&rs->arena, sizeof(char *) * (size_t) n);
        memcpy(d.params, names, sizeof(char *) * (size_t) n);
        d.nparams = n;
    }
    if (!expect_punct(p, '=', "define name = expression"))
        return false;
    d.body = parse_expr(p);
    if (d.body < 0)
        return false;
    if (!at_decl_start(p)) {
        expected(p, "the next declaration (define, list, reference or test)",
                 "an expression continues with an operator such as and, or, +, ==");
        return false;
    }
    *(Define *) vec_push(&rs->defines) = d;
    return true;
}

static bool
parse_reference(Parser *p)
{
    RuleSet *rs = p->rs;
    next(p);
    const Token *name = expect_name(p, "the reference list's name", "reference divisions \"title\" files \"ref_*.csv\"");
    if (name == NULL)
        return false;
    RefDecl r;
    memset(&r, 0, sizeof r);
    r.name = name->str;
    r.file = p->file;
    r.line = name->line;
    r.col = name->col;
    if (cur(p)->kind != TK_STRING) {
        expected(p, "a title in quotes", "reference divisions \"行政区划\" files \"ref_divisions*.csv\"");
        return false;
    }
    r.title = next(p)->str;
    if (!expect_kw(p, "files", "the file name patterns of the reference list follow `files`"))
        return false;
    for (;;) {
        if (cur(p)->kind != TK_STRING) {
            expected(p, "a file name pattern in quotes", "files \"ref_divisions*.csv\"");
            return false;
        }
        if (r.nfiles == REF_MAX_FILES) {
            expected(p, "'field'", "at most 4 patterns");
            return false;
        }
        r.files[r.nfiles++] = next(p)->str;
        if (!accept_punct(p, ','))
            break;
    }
    while (accept_kw(p, "field")) {
        const Token *f = expect_name(p, "a field name", "field code = \"代码\"");
        if (f == NULL || !expect_punct(p, '=', "field name = \"column header\""))
            return false;
        if (cur(p)->kind != TK_STRING) {
            expected(p, "the column header in quotes", "field code = \"代码\"");
            return false;
        }
        if (r.nfields == REF_MAX_FIELDS) {
            expected(p, "the next declaration", "at most 16 fields");
            return false;
        }
        for (int i = 0; i < r.nfields; i++)
            if (strcmp(r.fields[i], f->str) == 0) {
                rdiag(rs, p->file, f->line, f->col, "each field once", "field %s declared twice", f->str);
                p->failed = true;
                return false;
            }
        r.fields[r.nfields] = f->str;
        r.columns[r.nfields++] = next(p)->str;
    }
    if (!at_decl_start(p)) {
        expected(p, "'field' or the next declaration", "field name = \"column header\"");
        return false;
    }
    if (r.nfields == 0) {
        rdiag(rs, p->file, name->line, name->col, "field code = \"代码\" ...", "reference %s has no fields", r.name);
        return false;
    }
    *(RefDecl *) vec_push(&rs->refs) = r;
    return true;
}

static int
find_col(const ListDef *l, const char *name)
{
    for (int i = 0; i < l->ncols; i++)
        if (strcmp(l->cols[i].name, name) == 0)
            return i;
    return -1;
}

static bool
add_col(Parser *p, ListDef *l, const Token *name, int expr, bool flags)
{
    if (find_col(l, name->str) >= 0) {
        rdiag(p->rs, p->file, name->line, name->col, "each column once", "column %s declared twice", name->str);
        p->failed = true;
        return false;
    }
    if (l->ncols >= LIST_MAX_COLS - 2) {
        rdiag(p->rs, p->file, name->line, name->col, "at most 37 columns", "too many columns");
        p->failed = true;
        return false;
    }
    ColDef *c = &l->cols[l->ncols++];
    memset(c, 0, sizeof *c);
    c->name = name->str;
    c->expr = expr;
    c->flags = flags;
    c->file = p->file;
    c->line = name->line;
    c->col = name->col;
    return true;
}

static const char *list_clauses_hint =
    "a list goes on with where, column, flag, row, group by or order by";

static bool
parse_list(Parser *p)
{
    RuleSet *rs = p->rs;
    next(p);
    const Token *name = expect_name(p, "the list's name", "list unenrolled_eligible \"应参未参\"");
    if (name == NULL)
        return false;
    ListDef *l = arena_calloc(&rs->arena, sizeof *l);
    l->name = name->str;
    l->file = p->file;
    l->line = name->line;
    l->col = name->col;
    l->ref = -1;
    l->where = -1;
    if (cur(p)->kind != TK_STRING) {
        expected(p, "the list's title in quotes", "list unenrolled_eligible \"应参未参\"");
        return false;
    }
    l->title = next(p)->str;
    if (accept_kw(p, "for")) {
        if (!expect_kw(p, "each", "for each town in divisions"))
            return false;
        const Token *v = expect_name(p, "a name for the row", "for each town in divisions");
        if (v == NULL || !expect_kw(p, "in", "for each town in divisions"))
            return false;
        const Token *r = expect_name(p, "a reference list", "for each town in divisions");
        if (r == NULL)
            return false;
        l->var = v->str;
        l->ref_name = r->str;
        l->ref_line = r->line;
        l->ref_col = r->col;
    }
    /* id_number first for lists about persons */
    if (l->var == NULL) {
        ColDef *c = &l->cols[l->ncols++];
        c->name = "id_number";
        c->implicit = true;
        c->file = p->file;
        c->line = name->line;
        c->col = name->col;
        int n = rules_new_node(rs, OP_GET, name);
        int reg = rules_new_node(rs, OP_IDENT, name);
        rnode(rs, reg)->s = "register";
        rnode(rs, n)->a = reg;
        rnode(rs, n)->s = "id_number";
        c->expr = n;
    }
    bool flags_col = false;
    while (!at_decl_start(p)) {
        const Token *t = cur(p);
        if (accept_kw(p, "where")) {
            int e = parse_expr(p);
            if (e < 0)
                return false;
            if (l->where >= 0) {
                rdiag(rs, p->file, t->line, t->col, "combine conditions with and", "second where in list %s", l->name);
                return false;
            }
            l->where = e;
        } else if (accept_kw(p, "column")) {
            const Token *c = expect_name(p, "a column name", "column name = expression");
            if (c == NULL)
                return false;
            int e = -1;
            if (accept_punct(p, '=')) {
                e = parse_expr(p);
                if (e < 0)
                    return false;
            }
            if (!add_col(p, l, c, e, false))
                return false;
        } else if (accept_kw(p, "flag")) {
            const Token *f = expect_name(p, "a flag name", "flag age60 when age(asof) >= $flag_age");
            if (f == NULL || !expect_kw(p, "when", "flag name when condition"))
                return false;
            int e = parse_expr(p);
            if (e < 0)
                return false;
            if (l->nflags == RULE_MAX_FLAGS) {
                rdiag(rs, p->file, f->line, f->col, "at most 16 flags", "too many flags");
                return false;
            }
            for (int i = 0; i < l->nflags; i++)
                if (strcmp(l->flags[i].name, f->str) == 0) {
                    rdiag(rs, p->file, f->line, f->col, "each flag once", "flag %s declared twice", f->str);
                    return false;
                }
            l->flags[l->nflags].name = f->str;
            l->flags[l->nflags++].cond = e;
            if (!flags_col) {
                Token ft = *f;
                ft.str = "flags";
                if (!add_col(p, l, &ft, -1, true))
                    return false;
                flags_col = true;
            }
        } else if (accept_kw(p, "row")) {
            if (l->nrows == RULE_MAX_ROWS) {
                rdiag(rs, p->file, t->line, t->col, "at most 8 row clauses", "too many row clauses");
                return false;
            }
            RowDef *r = &l->rows[l->nrows++];
            r->set = -1;
            r->when = -1;
            r->line = t->line;
            r->col = t->col;
            for (int i = 0; i < LIST_MAX_COLS; i++)
                r->assign[i] = -1;
            if (accept_kw(p, "for")) {
                if (!expect_kw(p, "each", "row for each y in distinct(...)"))
                    return false;
                const Token *v = expect_name(p, "a name for the value", "row for each y in distinct(...)");
                if (v == NULL || !expect_kw(p, "in", "row for each y in distinct(...)"))
                    return false;
                r->var = v->str;
                r->set = parse_expr(p);
                if (r->set < 0)
                    return false;
            }
            if (accept_kw(p, "when")) {
                r->when = parse_expr(p);
                if (r->when < 0)
                    return false;
            }
            if (accept_punct(p, '{')) {
                while (!is_punct(cur(p), '}')) {
                    const Token *c = expect_name(p, "a column name", "{ column = expression, ... }");
                    if (c == NULL || !expect_punct(p, '=', "{ column = expression, ... }"))
                        return false;
                    int e = parse_expr(p);
                    if (e < 0)
                        return false;
                    int ci = find_col(l, c->str);
                    if (ci < 0) {
                        rdiag(rs, p->file, c->line, c->col, "declare the column first: column name [= default]",
                              "no column %s in list %s", c->str, l->name);
                        return false;
                    }
                    if (r->assign[ci] >= 0) {
                        rdiag(rs, p->file, c->line, c->col, "each column once per row", "column %s set twice", c->str);
                        return false;
                    }
                    r->assign[ci] = e;
                    if (!accept_punct(p, ','))
                        break;
                }
                if (!expect_punct(p, '}', "',' between assignments or '}' after the last"))
                    return false;
            }
        } else if (accept_kw(p, "group")) {
            if (!expect_kw(p, "by", "group by township, village, household"))
                return false;
            for (;;) {
                int e = parse_expr(p);
                if (e < 0)
                    return false;
                if (l->ngroup == 3) {
                    rdiag(rs, p->file, t->line, t->col, "township, village, household", "at most three groupings");
                    return false;
                }
                l->group[l->ngroup++] = e;
                if (!accept_punct(p, ','))
                    break;
            }
        } else if (accept_kw(p, "order")) {
            if (!expect_kw(p, "by", "order by column, column ..."))
                return false;
            for (;;) {
                const Token *c = expect_name(p, "a column name", "order by id_number, case");
                if (c == NULL)
                    return false;
                int ci = find_col(l, c->str);
                if (ci < 0) {
                    rdiag(rs, p->file, c->line, c->col, "order by names columns declared before it",
                          "no column %s in list %s", c->str, l->name);
                    return false;
                }
                l->order[l->norder++] = ci;
                if (!accept_punct(p, ','))
                    break;
            }
        } else {
            expected(p, "a list clause", list_clauses_hint);
            return false;
        }
    }
    *(ListDef *) vec_push(&rs->lists) = *l;
    return true;
}

static bool
parse_test_values(Parser *p, TestValue *vals, int *nvals, int endpunct)
{
    for (;;) {
        if (endpunct && is_punct(cur(p), endpunct))
            return true;
        const Token *f = cur(p);
        if (f->kind != TK_IDENT) {
            expected(p, "a field name", "field = value, field = value");
            return false;
        }
        next(p);
        if (!expect_punct(p, '=', "field = value"))
            return false;
        const Token *v = cur(p);
        if (v->kind != TK_NUMBER && v->kind != TK_STRING && v->kind != TK_DATE && v->kind != TK_MONTH &&
            v->kind != TK_IDENT) {
            expected(p, "a value", "a number, \"text\", a date 2026-11-28, a month 2026-11 or a name");
            return false;
        }
        if (*nvals == TEST_MAX_VALUES) {
            expected(p, "fewer values", "at most 16 values");
            return false;
        }
        next(p);
        TestValue *tv = &vals[(*nvals)++];
        tv->name = f->str;
        tv->value = *v;
        tv->line = f->line;
        tv->col = f->col;
        tv->unit = NULL;
        if (v->kind == TK_NUMBER && unit_of(cur(p)) >= 0)
            tv->unit = next(p)->str;
        if (!accept_punct(p, ','))
            return true;
    }
}

static bool
parse_test(Parser *p)
{
    RuleSet *rs = p->rs;
    const Token *t = next(p);
    if (cur(p)->kind != TK_STRING) {
        expected(p, "the example's name in quotes", "test \"16th birthday on the as-of date\" asof 2026-11-28");
        return false;
    }
    TestCase tc;
    memset(&tc, 0, sizeof tc);
    tc.name = next(p)->str;
    tc.file = p->file;
    tc.line = t->line;
    if (!expect_kw(p, "asof", "test \"name\" asof 2026-11-28"))
        return false;
    if (cur(p)->kind != TK_DATE) {
        expected(p, "a date", "asof 2026-11-28");
        return false;
    }
    tc.asof = (Day) next(p)->num;
    vec_init(&tc.given, sizeof(TestGiven));
    vec_init(&tc.expect, sizeof(TestExpect));
    while (!at_decl_start(p)) {
        const Token *k = cur(p);
        if (accept_kw(p, "given")) {
            const Token *w = cur(p);
            if (w->kind != TK_IDENT) {
                expected(p, "register, a fact kind or a reference list", "given register birth_date = 2010-11-28");
                goto fail;
            }
            next(p);
            TestGiven *g = vec_push(&tc.given);
            g->what_name = w->str;
            g->line = w->line;
            g->col = w->col;
            if (cur(p)->kind == TK_IDENT && !is_kw(cur(p), "given") && !is_kw(cur(p), "expect") && !at_decl_start(p)) {
                if (!parse_test_values(p, g->vals, &g->nvals, 0))
                    goto fail;
            }
        } else if (accept_kw(p, "expect")) {
            TestExpect *e = vec_push(&tc.expect);
            e->line = k->line;
            e->col = k->col;
            if (is_kw(cur(p), "no")) {
                next(p);
                e->no = true;
            }
            const Token *l = expect_name(p, "a list name", "expect unenrolled_eligible { flags = \"age60\" }");
            if (l == NULL)
                goto fail;
            e->list = l->str;
            e->line = l->line;
            e->col = l->col;
            if (accept_punct(p, '{')) {
                if (!parse_test_values(p, e->vals, &e->nvals, '}') ||
                    !expect_punct(p, '}', "',' between values or '}' after the last"))
                    goto fail;
            }
        } else {
            expected(p, "given or expect", "a test goes on with given KIND field = value, ... and expect [no] LIST { column = value }");
            goto fail;
        }
    }
    *(TestCase *) vec_push(&rs->tests) = tc;
    return true;
fail:
    vec_free(&tc.given);
    vec_free(&tc.expect);
    return false;
}

bool
rules_parse(RuleSet *rs, uint16_t file, const Vec *toks)
{
    Parser p = {.rs = rs, .file = file, .t = toks->data, .n = toks->len, .i = 0};
    bool ok = true;
    while (cur(&p)->kind != TK_EOF) {
        p.failed = false;
        const Token *t = cur(&p);
        bool good;
        if (is_kw(t, "define"))
            good = parse_define(&p);
        else if (is_kw(t, "list"))
            good = parse_list(&p);
        else if (is_kw(t, "reference"))
            good = parse_reference(&p);
        else if (is_kw(t, "test"))
            good = parse_test(&p);
        else
            good = expected(&p, "define, list, reference or test", "a rule file is a sequence of declarations") >= 0;
        if (!good) {
            ok = false;
            /* skip to the next declaration */
            next(&p);
            while (!at_decl_start(&p))
                next(&p);
        }
    }
    return ok;
}

/* ------------------------------------------------------------------ cloning (macros) */

int
rules_clone(RuleSet *rs, int node, const char *const *names, const int *subst, int nsubst)
{
    if (node < 0)
        return -1;
    Node src = *rnode(rs, node);
    if (src.op == OP_IDENT)
        for (int i = 0; i < nsubst; i++)
            if (strcmp(src.s, names[i]) == 0)
                return subst[i];
    int n = rules_new_node(rs, (NodeOp) src.op, NULL);
    Node copy = src;
    copy.checked = 0;
    copy.a = rules_clone(rs, src.a, names, subst, nsubst);
    copy.b = rules_clone(rs, src.b, names, subst, nsubst);
    copy.c = rules_clone(rs, src.c, names, subst, nsubst);
    if ((src.op == OP_CALL || src.op == OP_IN) && src.nargs > 0) {
        int items[32];
        for (int i = 0; i < src.nargs; i++)
            items[i] = rules_clone(rs, rarg(rs, &src, i), names, subst, nsubst);
        copy.args = add_args(rs, items, src.nargs);
    }
    *rnode(rs, n) = copy;
    return n;
}
