/*
 * rules_eval — the compiled rule set, evaluated per person bundle.
 *
 * One EvalCtx serves the whole run: per person it is reset (a generation counter invalidates
 * the memoised definitions, the evidence stack and the scratch arena are rewound), so the
 * person pass allocates nothing but output rows.  Facts of a bundle are sorted by kind, so an
 * aggregate over one kind scans only that kind's facts.
 *
 * None: an absent value.  Comparisons with none are false, arithmetic with none gives none,
 * aggregates skip none, sum of nothing is 0, max / min / latest / earliest of nothing is none.
 *
 * Evidence: every aggregate records the facts it matched (any: the first match; max / min /
 * latest / earliest: the deciding fact; count / sum / distinct: each match) on a stack; a row
 * cites the register record and what its where, when, columns and true flags recorded.
 * Inside a filter nothing is recorded; greatest / least / coalesce keep only the chosen
 * argument's evidence; a false flag keeps none.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parallel.h"
#include "rules_int.h"
#include "text.h"

#define AGG_WITNESS_MAX 32

static inline Val
vnone(void)
{
    Val v;
    memset(&v, 0, sizeof v);
    v.none = true;
    return v;
}

static inline Val
vint(int64_t i)
{
    Val v;
    memset(&v, 0, sizeof v);
    v.i = i;
    return v;
}

static inline Val
vnum(double d)
{
    Val v;
    memset(&v, 0, sizeof v);
    v.d = d;
    return v;
}

static inline Val
vtext(const char *s, uint32_t len)
{
    Val v;
    memset(&v, 0, sizeof v);
    v.s = s;
    v.len = len;
    return v;
}

bool
rules_truthy(Val v)
{
    return !v.none && v.i != 0;
}

/* ------------------------------------------------------------------ evidence */

static void
wit_push(EvalCtx *c, EvRef e)
{
    if (c->nowit > 0 || e.file == UINT32_MAX)
        return;
    if (c->nwit == c->capwit) {
        c->capwit = c->capwit ? c->capwit * 2 : 256;
        c->wit = xrealloc(c->wit, sizeof(EvRef) * c->capwit);
    }
    c->wit[c->nwit++] = e;
}

static inline EvRef
fact_ref(const Fact *f)
{
    EvRef e = {.file = f->file, .kind = f->kind, .record = f->record};
    return e;
}

static inline EvRef
row_ref(const EvalCtx *c, int table, const RefRow *r)
{
    EvRef e = {.file = c->rd->tables[table].file, .kind = FK_REGISTER, .record = r->record};
    return e;
}

int
rules_witnesses(const EvalCtx *c, uint32_t mark, EvRef *out, int max)
{
    int n = 0;
    for (uint32_t i = mark; i < c->nwit && n < max; i++) {
        bool seen = false;
        for (int k = 0; k < n && !seen; k++)
            seen = out[k].file == c->wit[i].file && out[k].record == c->wit[i].record;
        if (!seen)
            out[n++] = c->wit[i];
    }
    return n;
}

/* keep only the witnesses [from, to) of the stack above base */
static void
wit_keep(EvalCtx *c, uint32_t base, uint32_t from, uint32_t to)
{
    if (from != base)
        memmove(c->wit + base, c->wit + from, sizeof(EvRef) * (to - from));
    c->nwit = base + (to - from);
}

/* ------------------------------------------------------------------ values */

static int
cmp_val(RType t, Val a, Val b)
{
    switch (t.t) {
    case T_NUM:
        return (a.d > b.d) - (a.d < b.d);
    case T_TEXT: {
        uint32_t n = a.len < b.len ? a.len : b.len;
        int r = memcmp(a.s, b.s, n);
        if (r != 0)
            return r < 0 ? -1 : 1;
        return (a.len > b.len) - (a.len < b.len);
    }
    default:
        return (a.i > b.i) - (a.i < b.i);
    }
}

static double
as_num(RType t, Val v)
{
    return t.t == T_NUM ? v.d : (double) v.i;
}

/* compare a (type ta) with b (type tb), numbers of both kinds allowed */
static int
cmp_mixed(RType ta, Val a, RType tb, Val b)
{
    if (ta.t == T_NUM || tb.t == T_NUM) {
        double x = as_num(ta, a), y = as_num(tb, b);
        return (x > y) - (x < y);
    }
    return cmp_val(ta, a, b);
}

static bool
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* the day on which someone born on b reaches n years: 29 February -> 1 March in common years */
static Day
birthday(Day b, int64_t n)
{
    int y, m, d;
    date_to_ymd(b, &y, &m, &d);
    if (y == 0)
        return DAY_NONE;
    int64_t ny = y + n;
    if (ny < DATE_YEAR_MIN || ny > DATE_YEAR_MAX)
        return DAY_NONE;
    if (m == 2 && d == 29 && !is_leap((int) ny))
        return date_from_ymd((int) ny, 3, 1);
    return date_from_ymd((int) ny, m, d);
}

static Day
first_day(int64_t month)
{
    if (month < 0)
        return DAY_NONE;
    return date_from_ymd((int) (month / 12), (int) (month % 12) + 1, 1);
}

static Val
field_val(const Fact *f, int slot)
{
    switch (slot) {
    case FS_D1:
        return f->d1 == DAY_NONE ? vnone() : vint(f->d1);
    case FS_D2:
        return f->d2 == DAY_NONE ? vnone() : vint(f->d2);
    case FS_CODE:
        return f->code >= 0xFFFE ? vnone() : vint(f->code);
    case FS_AMOUNT:
        return vint(f->amount);
    case FS_LINK:
        return vint(f->link);
    default:
        return vint(f->amount2);
    }
}

static Val
reg_val(EvalCtx *c, int which)
{
    const Person *p = c->p;
    if (p == NULL)
        return vnone();
    const char *s = NULL;
    switch (which) {
    case RG_ID: {
        char *id = arena_alloc(&c->scratch, 19);
        idnum_format(p->key, id);
        return vtext(id, (uint32_t) strlen(id));
    }
    case RG_DIVISION: s = p->division; break;
    case RG_NAME:
    case RG_HOUSEHOLD:
    case RG_ADDRESS:
    case RG_PHONE:
        if (c->ptext_of != p) {   /* read once per person; valid until the next is set */
            store_person_text(c->st, p, &c->text, &c->ptext);
            c->ptext_of = p;
        }
        s = which == RG_NAME ? c->ptext.name : which == RG_HOUSEHOLD ? c->ptext.household
            : which == RG_ADDRESS ? c->ptext.address : c->ptext.phone;
        break;
    case RG_SEX: return p->sex == 0xFF ? vnone() : vint(p->sex);
    case RG_STATUS: return vint(p->status);
    case RG_CANCEL_REASON: return p->cancel_reason == 0xFF ? vnone() : vint(p->cancel_reason);
    case RG_BIRTH: return p->birth == DAY_NONE ? vnone() : vint(p->birth);
    case RG_CANCEL_DATE: return p->cancel_date == DAY_NONE ? vnone() : vint(p->cancel_date);
    default: return vnone();
    }
    return s ? vtext(s, (uint32_t) strlen(s)) : vnone();
}

/* UTF-8: byte offset of the k-th character (0-based), bounded by len */
static uint32_t
char_off(const char *s, uint32_t len, int64_t k)
{
    uint32_t i = 0;
    while (i < len && k > 0) {
        i++;
        while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80)
            i++;
        k--;
    }
    return i;
}

static int
cmp_set_elems(const void *a, const void *b, void *arg)
{
    return cmp_val(*(const RType *) arg, *(const Val *) a, *(const Val *) b);
}

typedef struct TextRef {
    const char *s;
    size_t      n;
} TextRef;

static int
cmp_textref(const void *a, const void *b)
{
    const TextRef *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int r = memcmp(x->s, y->s, n);
    return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* ------------------------------------------------------------------ evaluation */

static Val eval_agg(EvalCtx *c, const Node *n, int node);

static Val
eval_def(EvalCtx *c, int d)
{
    const RuleSet *rs = c->rs;
    const Define *df = rdef(rs, d);
    int m = df->memo;
    if (c->memo_gen[m] == c->gen) {
        if (c->nowit == 0)
            for (uint32_t i = 0; i < c->memo_wn[m]; i++)
                wit_push(c, c->pool[c->memo_w0[m] + i]);
        return c->memo_val[m];
    }
    const void *saved[RULE_MAX_DEPTH];
    memcpy(saved, c->cur, sizeof saved);
    int nowit = c->nowit;
    c->nowit = 0;
    uint32_t mark = c->nwit;
    Val v = rules_eval(c, df->body);
    uint32_t n = c->nwit - mark;
    if (c->npool + n > c->cappool) {
        while (c->npool + n > c->cappool)
            c->cappool = c->cappool ? c->cappool * 2 : 256;
        c->pool = xrealloc(c->pool, sizeof(EvRef) * c->cappool);
    }
    if (n > 0)
        memcpy(c->pool + c->npool, c->wit + mark, sizeof(EvRef) * n);
    c->memo_w0[m] = c->npool;
    c->memo_wn[m] = n;
    c->npool += n;
    c->memo_gen[m] = c->gen;
    c->memo_val[m] = v;
    memcpy(c->cur, saved, sizeof saved);
    c->nowit = nowit;
    if (nowit > 0)
        c->nwit = mark;
    return v;
}

static Val eval_col(EvalCtx *c, int ci);

static Val
eval_fn(EvalCtx *c, const Node *n)
{
    const RuleSet *rs = c->rs;
    int nargs = n->nargs;
    switch ((FnKind) n->sub) {
    case FN_AGE: {
        Val b = nargs == 2 ? rules_eval(c, rarg(rs, n, 0)) : reg_val(c, RG_BIRTH);
        Val d = rules_eval(c, rarg(rs, n, nargs - 1));
        if (b.none || d.none)
            return vnone();
        int age = date_age((Day) b.i, (Day) d.i);
        return age < 0 ? vnone() : vint(age);
    }
    case FN_BIRTHDAY: {
        Val b = nargs == 2 ? rules_eval(c, rarg(rs, n, 0)) : reg_val(c, RG_BIRTH);
        Val y = rules_eval(c, rarg(rs, n, nargs - 1));
        if (b.none || y.none)
            return vnone();
        Day d = birthday((Day) b.i, y.i);
        return d == DAY_NONE ? vnone() : vint(d);
    }
    case FN_MONTH_OF: {
        Val d = rules_eval(c, rarg(rs, n, 0));
        return d.none ? d : vint(date_month_of((Day) d.i));
    }
    case FN_YEAR_OF: {
        int a = rarg(rs, n, 0);
        Val d = rules_eval(c, a);
        if (d.none)
            return d;
        if (rnode(rs, a)->type.t == T_MONTH)
            return vint(d.i / 12);
        int y;
        date_to_ymd((Day) d.i, &y, NULL, NULL);
        return vint(y);
    }
    case FN_FIRST_DAY:
    case FN_LAST_DAY: {
        Val m = rules_eval(c, rarg(rs, n, 0));
        if (m.none)
            return m;
        Day d = first_day(n->sub == FN_FIRST_DAY ? m.i : m.i + 1);
        if (d == DAY_NONE)
            return vnone();
        return vint(n->sub == FN_FIRST_DAY ? d : d - 1);
    }
    case FN_SUBSTR: {
        Val s = rules_eval(c, rarg(rs, n, 0));
        Val st = rules_eval(c, rarg(rs, n, 1));
        Val ln = rules_eval(c, rarg(rs, n, 2));
        if (s.none || st.none || ln.none)
            return vnone();
        int64_t from = st.i < 1 ? 1 : st.i;
        uint32_t a = char_off(s.s, s.len, from - 1);
        uint32_t b = a + char_off(s.s + a, s.len - a, ln.i < 0 ? 0 : ln.i);
        return vtext(s.s + a, b - a);
    }
    case FN_LENGTH: {
        Val s = rules_eval(c, rarg(rs, n, 0));
        if (s.none)
            return s;
        int64_t k = 0;
        for (uint32_t i = 0; i < s.len; i++)
            k += ((unsigned char) s.s[i] & 0xC0) != 0x80;
        return vint(k);
    }
    case FN_TO_INT: {
        Val s = rules_eval(c, rarg(rs, n, 0));
        if (s.none || s.len == 0 || s.len > 18)
            return vnone();
        int64_t v = 0;
        for (uint32_t i = 0; i < s.len; i++) {
            if (s.s[i] < '0' || s.s[i] > '9')
                return vnone();
            v = v * 10 + (s.s[i] - '0');
        }
        return vint(v);
    }
    case FN_JOIN: {
        int a = rarg(rs, n, 0);
        Val set = rules_eval(c, a);
        Val sep = rules_eval(c, rarg(rs, n, 1));
        if (set.none)
            return vnone();
        RType et = rnode(rs, a)->type;
        et.t = et.et;
        const Val *el = (const Val *) set.s;
        TextRef *parts = arena_alloc(&c->scratch, sizeof(TextRef) * (set.len ? (size_t) set.len : 1));
        size_t total = 0;
        for (uint32_t i = 0; i < set.len; i++) {
            char buf[512];
            rules_format(c, et, el[i], buf, sizeof buf);
            parts[i].n = strlen(buf);
            parts[i].s = arena_strndup(&c->scratch, buf, parts[i].n);
            total += parts[i].n + sep.len;
        }
        qsort(parts, (size_t) set.len, sizeof(TextRef), cmp_textref);
        char *out = arena_alloc(&c->scratch, total + 1);
        size_t o = 0;
        for (uint32_t i = 0; i < set.len; i++) {
            if (i > 0 && cmp_textref(&parts[i], &parts[i - 1]) == 0)
                continue;
            if (o > 0 && !sep.none) {
                memcpy(out + o, sep.s, sep.len);
                o += sep.len;
            }
            memcpy(out + o, parts[i].s, parts[i].n);
            o += parts[i].n;
        }
        return vtext(out, (uint32_t) o);
    }
    case FN_GREATEST:
    case FN_LEAST: {
        uint32_t base = c->nwit, best_from = base, best_to = base;
        Val best = vnone();
        RType bt = n->type;
        for (int i = 0; i < nargs; i++) {
            uint32_t from = c->nwit;
            int a = rarg(rs, n, i);
            Val v = rules_eval(c, a);
            if (v.none)
                continue;
            RType at = rnode(rs, a)->type;
            if (bt.t == T_NUM && at.t != T_NUM)
                v = vnum((double) v.i);
            int r = best.none ? 1 : cmp_val(bt, v, best);
            if (best.none || (n->sub == FN_GREATEST ? r > 0 : r < 0)) {
                best = v;
                best_from = from;
                best_to = c->nwit;
            }
        }
        wit_keep(c, base, best_from, best_to);
        return best;
    }
    case FN_COALESCE: {
        uint32_t base = c->nwit;
        for (int i = 0; i < nargs; i++) {
            int a = rarg(rs, n, i);
            Val v = rules_eval(c, a);
            if (!v.none) {
                if (n->type.t == T_NUM && rnode(rs, a)->type.t != T_NUM)
                    v = vnum((double) v.i);
                return v;
            }
            c->nwit = base;
        }
        return vnone();
    }
    case FN_CEIL:
    case FN_FLOOR: {
        int a = rarg(rs, n, 0);
        Val v = rules_eval(c, a);
        if (v.none || rnode(rs, a)->type.t != T_NUM)
            return v;
        return vint((int64_t) (n->sub == FN_CEIL ? ceil(v.d) : floor(v.d)));
    }
    default:
        return vnone();
    }
}

static Val
eval_arith(EvalCtx *c, const Node *n)
{
    const RuleSet *rs = c->rs;
    Val a = rules_eval(c, n->a);
    Val b = rules_eval(c, n->b);
    if (a.none || b.none)
        return vnone();
    int op = n->sub;
    int sign = op == '-' ? -1 : 1;
    switch ((ArithHow) n->k) {
    case AR_INT:
    case AR_MONEY:
    case AR_DUR:
        return vint(op == '*' ? a.i * b.i : a.i + sign * b.i);
    case AR_NUM: {
        double x = as_num(rnode(rs, n->a)->type, a), y = as_num(rnode(rs, n->b)->type, b);
        return vnum(op == '*' ? x * y : x + sign * y);
    }
    case AR_SCALE_L:
    case AR_SCALE_R:
        return vint(a.i * b.i);
    case AR_DIV: {
        double x = as_num(rnode(rs, n->a)->type, a), y = as_num(rnode(rs, n->b)->type, b);
        return y == 0 ? vnone() : vnum(x / y);
    }
    case AR_DATE_MONTHS:
    case AR_DATE_YEARS: {
        int64_t months = b.i * (n->k == AR_DATE_YEARS ? 12 : 1) * sign;
        if (months > 120000 || months < -120000)
            return vnone();
        Day d = date_add_months((Day) a.i, (int) months);
        return d == DAY_NONE ? vnone() : vint(d);
    }
    case AR_DATE_DAYS:
        return vint(a.i + sign * b.i);
    case AR_MONTH_MONTHS:
        return vint(a.i + sign * b.i);
    case AR_MONTH_YEARS:
        return vint(a.i + sign * 12 * b.i);
    case AR_DATE_DIFF:
    case AR_MONTH_DIFF:
        return vint(a.i - b.i);
    }
    return vnone();
}

/* d shifted by the duration span (type t) in direction sign */
static Val
shift(RType at, RType t, Val d, Val span, int sign)
{
    if (at.t == T_MONTH)
        return vint(d.i + sign * span.i * (t.t == T_YEARS ? 12 : 1));
    if (t.t == T_DAYS)
        return vint(d.i + sign * span.i);
    int64_t months = span.i * (t.t == T_YEARS ? 12 : 1) * sign;
    if (months > 120000 || months < -120000)
        return vnone();
    Day r = date_add_months((Day) d.i, (int) months);
    return r == DAY_NONE ? vnone() : vint(r);
}

static Val eval_tally(EvalCtx *c, const Node *n);

Val
rules_eval(EvalCtx *c, int node)
{
    const RuleSet *rs = c->rs;
    const Node *n = rnode(rs, node);
    switch ((NodeOp) n->op) {
    case OP_CONST:
        switch (n->type.t) {
        case T_NONE: return vnone();
        case T_TEXT: return vtext(n->s, n->slen);
        case T_NUM: return vnum(n->d);
        default: return vint(n->k);
        }
    case OP_ASOF:
        return vint(c->asof);
    case OP_FIELD:
        return field_val((const Fact *) c->cur[n->depth], (int) n->k);
    case OP_FACTFIELD: {
        Val f = rules_eval(c, n->a);
        if (f.none)
            return f;
        return field_val(&c->f[f.i], (int) n->k);
    }
    case OP_REG:
        return reg_val(c, (int) n->k);
    case OP_REFFIELD: {
        const RefRow *r = c->cur[n->depth];
        const char *s = r ? r->vals[n->k] : NULL;
        return s ? vtext(s, (uint32_t) strlen(s)) : vnone();
    }
    case OP_VAR:
        return c->vars[n->k];
    case OP_DEF:
        return eval_def(c, (int) n->k);
    case OP_COL:
        return eval_col(c, (int) n->k);
    case OP_LISTED:
        return vint(c->listed[n->k]);
    case OP_NEG: {
        Val v = rules_eval(c, n->a);
        if (v.none)
            return v;
        if (n->type.t == T_NUM)
            return vnum(-v.d);
        return vint(-v.i);
    }
    case OP_NOT:
        return vint(!rules_truthy(rules_eval(c, n->a)));
    case OP_AND:
        if (!rules_truthy(rules_eval(c, n->a)))
            return vint(0);
        return vint(rules_truthy(rules_eval(c, n->b)));
    case OP_OR:
        if (rules_truthy(rules_eval(c, n->a)))
            return vint(1);
        return vint(rules_truthy(rules_eval(c, n->b)));
    case OP_CMP: {
        Val a = rules_eval(c, n->a);
        Val b = rules_eval(c, n->b);
        if (a.none || b.none)
            return vint(0);
        int r = cmp_mixed(rnode(rs, n->a)->type, a, rnode(rs, n->b)->type, b);
        switch (n->sub) {
        case PU_EQ: return vint(r == 0);
        case PU_NE: return vint(r != 0);
        case '<': return vint(r < 0);
        case PU_LE: return vint(r <= 0);
        case '>': return vint(r > 0);
        default: return vint(r >= 0);
        }
    }
    case OP_ARITH:
        return eval_arith(c, n);
    case OP_IN: {
        Val a = rules_eval(c, n->a);
        if (a.none)
            return vint(0);
        RType ta = rnode(rs, n->a)->type;
        for (int i = 0; i < n->nargs; i++) {
            int e = rarg(rs, n, i);
            Val b = rules_eval(c, e);
            if (!b.none && cmp_mixed(ta, a, rnode(rs, e)->type, b) == 0)
                return vint(1);
        }
        return vint(0);
    }
    case OP_INSET: {
        Val a = rules_eval(c, n->a);
        return vint(!a.none && a.i >= 0 && a.i < 64 && (((uint64_t) n->k >> a.i) & 1));
    }
    case OP_INPARAM: {
        Val a = rules_eval(c, n->a);
        if (a.none)
            return vint(0);
        const Param *pm = &rs->params.items[n->k];
        for (int i = 0; i < pm->nnames; i++)
            if (strlen(pm->names[i]) == a.len && memcmp(pm->names[i], a.s, a.len) == 0)
                return vint(1);
        return vint(0);
    }
    case OP_UNDER: {
        Val a = rules_eval(c, n->a);
        Val b = rules_eval(c, n->b);
        return vint(!a.none && !b.none && a.len >= b.len && memcmp(a.s, b.s, b.len) == 0);
    }
    case OP_WITHIN: {
        Val a = rules_eval(c, n->a);
        if (a.none)
            return vint(0);
        Val ref = rules_eval(c, n->b);
        Val span = rules_eval(c, n->c);
        if (ref.none || span.none)
            return vint(0);
        RType at = rnode(rs, n->a)->type, st = rnode(rs, n->c)->type;
        if (n->sub == 0) {   /* before: ref - span < a <= ref */
            Val lo = shift(at, st, ref, span, -1);
            return vint(!lo.none && a.i > lo.i && a.i <= ref.i);
        }
        Val hi = shift(at, st, ref, span, 1);   /* after: ref < a <= ref + span */
        return vint(!hi.none && a.i > ref.i && a.i <= hi.i);
    }
    case OP_BETWEEN: {
        Val a = rules_eval(c, n->a);
        Val lo = rules_eval(c, n->b);
        Val hi = rules_eval(c, n->c);
        if (a.none || lo.none || hi.none)
            return vint(0);
        RType ta = rnode(rs, n->a)->type;
        return vint(cmp_mixed(ta, a, rnode(rs, n->b)->type, lo) >= 0 &&
                    cmp_mixed(ta, a, rnode(rs, n->c)->type, hi) <= 0);
    }
    case OP_ISNONE: {
        Val a = rules_eval(c, n->a);
        return vint(n->sub ? !a.none : a.none);
    }
    case OP_ACTIVE: {
        const Fact *f = c->cur[n->depth];
        Val d = rules_eval(c, n->a);
        return vint(!d.none && f->d1 != DAY_NONE && f->d1 <= d.i && (f->d2 == DAY_NONE || f->d2 >= d.i));
    }
    case OP_IF:
        return rules_truthy(rules_eval(c, n->a)) ? rules_eval(c, n->b) : rules_eval(c, n->c);
    case OP_FN:
        return eval_fn(c, n);
    case OP_AGGF:
    case OP_AGGREF:
        return eval_agg(c, n, node);
    case OP_TALLY:
        return eval_tally(c, n);
    default:
        return vnone();
    }
}

/* The count of the persons of tally n->k whose key is the value of n->a; a function of its own,
 * so that the key's buffer is not in the frame of every evaluation. */
static Val __attribute__((noinline))
eval_tally(EvalCtx *c, const Node *n)
{
    const RuleSet *rs = c->rs;
    Val k = rules_eval(c, n->a);
    if (k.none || c->tallies == NULL)
        return vint(0);
    char key[512];
    rules_format(c, rnode(rs, n->a)->type, k, key, sizeof key);
    const TallyMap *m = &c->tallies[n->k];
    if (m->cap == 0)
        return vint(0);
    uint64_t h = 1469598103934665603ull;
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ull;
    for (uint32_t i = (uint32_t) h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return vint(0);
        if (strcmp(m->keys[i], key) == 0)
            return vint(m->counts[i]);
    }
}

static Val
eval_agg(EvalCtx *c, const Node *n, int node)
{
    const RuleSet *rs = c->rs;
    int agg = n->sub & 0xFF;
    bool distinct = (n->sub & 0x100) != 0;
    bool facts = n->op == OP_AGGF;
    uint32_t beg, end;
    const RefTable *tab = NULL;
    if (facts) {
        beg = c->kbeg[n->k];
        end = c->kend[n->k];
    } else {
        tab = &c->rd->tables[n->k];
        beg = 0;
        end = (uint32_t) tab->rows.len;
    }
    int depth = n->depth;
    RType vt = n->a >= 0 ? rnode(rs, n->a)->type : n->type;
    int64_t count = 0, isum = 0;
    double dsum = 0;
    Val best = vnone();
    uint32_t best_i = UINT32_MAX;
    int pushed = 0;
    Val *set = NULL;
    int64_t nset = 0;
    if (agg == AGG_DISTINCT || distinct)
        set = arena_alloc(&c->scratch, sizeof(Val) * (end - beg ? end - beg : 1));
    for (uint32_t i = beg; i < end; i++) {
        const void *item = facts ? (const void *) &c->f[i] : (const void *) &VEC_AT(&tab->rows, RefRow, i);
        c->cur[depth] = item;
        c->nowit++;
        bool match = n->b < 0 || rules_truthy(rules_eval(c, n->b));
        Val v = vnone();
        if (match && n->a >= 0)
            v = rules_eval(c, n->a);
        c->nowit--;
        if (!match)
            continue;
        EvRef ev = facts ? fact_ref(item) : row_ref(c, (int) n->k, item);
        switch (agg) {
        case AGG_ANY:
            wit_push(c, ev);
            return vint(1);
        case AGG_NONE:
            wit_push(c, ev);
            return vint(0);
        case AGG_LATEST:
            best_i = i;
            break;
        case AGG_EARLIEST:
            wit_push(c, ev);
            return vint(i);
        case AGG_COUNT:
            if (distinct) {
                if (!v.none)
                    set[nset++] = v;
            } else {
                count++;
            }
            if (pushed++ < AGG_WITNESS_MAX)
                wit_push(c, ev);
            break;
        case AGG_SUM:
            if (!v.none) {
                if (vt.t == T_NUM)
                    dsum += v.d;
                else
                    isum += v.i;
            }
            if (pushed++ < AGG_WITNESS_MAX)
                wit_push(c, ev);
            break;
        case AGG_MAX:
        case AGG_MIN:
            if (!v.none) {
                int r = best.none ? 1 : cmp_val(vt, v, best);
                if (best.none || (agg == AGG_MAX ? r > 0 : r < 0)) {
                    best = v;
                    best_i = i;
                }
            }
            break;
        case AGG_DISTINCT:
            if (!v.none)
                set[nset++] = v;
            if (pushed++ < AGG_WITNESS_MAX)
                wit_push(c, ev);
            break;
        }
    }
    (void) node;
    switch (agg) {
    case AGG_ANY:
        return vint(0);
    case AGG_NONE:
        return vint(1);
    case AGG_EARLIEST:
        return vnone();
    case AGG_LATEST:
        if (best_i == UINT32_MAX)
            return vnone();
        wit_push(c, fact_ref(&c->f[best_i]));
        return vint(best_i);
    case AGG_MAX:
    case AGG_MIN:
        if (best_i != UINT32_MAX)
            wit_push(c, facts ? fact_ref(&c->f[best_i]) : row_ref(c, (int) n->k, &VEC_AT(&tab->rows, RefRow, best_i)));
        return best;
    case AGG_SUM:
        return vt.t == T_NUM ? vnum(dsum) : vint(isum);
    case AGG_COUNT:
    case AGG_DISTINCT: {
        if (agg == AGG_COUNT && !distinct)
            return vint(count);
        qsort_r(set, (size_t) nset, sizeof(Val), cmp_set_elems, &vt);
        int64_t k = 0;
        for (int64_t i = 0; i < nset; i++)
            if (k == 0 || cmp_val(vt, set[i], set[k - 1]) != 0)
                set[k++] = set[i];
        if (agg == AGG_COUNT)
            return vint(k);
        Val r = vint(0);
        r.s = (const char *) set;
        r.len = (uint32_t) k;
        return r;
    }
    }
    return vnone();
}

/* ------------------------------------------------------------------ formatting */

/* s[0..len) into buf (n > 0 bytes), cut to fit, NUL-terminated: what snprintf "%.*s" gives,
 * without parsing a format for each of a night's million values. */
static void
put_text(char *buf, size_t n, const char *s, size_t len)
{
    if (len > n - 1)
        len = n - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
}

/* v in decimal, as snprintf "%lld" gives it. */
static void
put_int(char *buf, size_t n, int64_t v)
{
    char tmp[TEXT_INT_MAX];
    put_text(buf, n, tmp, text_int(tmp, v));
}

void
rules_format(const EvalCtx *c, RType t, Val v, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    if (v.none || t.t == T_NONE)
        return;
    switch (t.t) {
    case T_BOOL:
        put_text(buf, n, v.i ? "true" : "false", v.i ? 4 : 5);
        break;
    case T_INT: case T_YEARS: case T_MONTHS: case T_DAYS:
        put_int(buf, n, v.i);
        break;
    case T_NUM:
        snprintf(buf, n, "%.10g", v.d);
        break;
    case T_MONEY: {
        int64_t a = v.i < 0 ? -v.i : v.i;
        snprintf(buf, n, "%s%lld.%02lld", v.i < 0 ? "-" : "", (long long) (a / 100), (long long) (a % 100));
        break;
    }
    case T_DATE: {
        char d[11];
        date_format((Day) v.i, d);
        put_text(buf, n, d, strlen(d));
        break;
    }
    case T_MONTH:
        if (v.i >= 0)
            snprintf(buf, n, "%04lld%02lld", (long long) (v.i / 12), (long long) (v.i % 12 + 1));
        break;
    case T_TEXT:
        put_text(buf, n, v.s ? v.s : "", v.s ? strnlen(v.s, v.len) : 0);
        break;
    case T_ENUM: {
        int nv;
        const char *const *vals = rules_enum_values(t, &nv);
        if (v.i >= 0 && v.i < nv)
            put_text(buf, n, vals[v.i], strlen(vals[v.i]));
        else
            put_int(buf, n, v.i);
        break;
    }
    case T_FACT: {
        const Fact *f = &c->f[v.i];
        const char *file = c->st && f->file < c->st->files.len ? VEC_AT(&c->st->files, SourceFile, f->file).name : "?";
        snprintf(buf, n, "%s %s:%llu", factkind_name((FactKind) f->kind), file, (unsigned long long) f->record);
        break;
    }
    case T_SET: {
        RType et = t;
        et.t = t.et;
        const Val *el = (const Val *) v.s;
        size_t o = 0;
        for (uint32_t i = 0; i < v.len && o + 2 < n; i++) {
            if (i > 0)
                buf[o++] = ';';
            rules_format(c, et, el[i], buf + o, n - o);
            o += strlen(buf + o);
        }
        buf[o] = '\0';
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------ rows */

static Val
eval_col(EvalCtx *c, int ci)
{
    if (c->colstate[ci] == 2)
        return c->colval[ci];
    const ListDef *l = rlist(c->rs, c->li);
    const ColDef *col = &l->cols[ci];
    Val v;
    if (col->flags) {
        char *buf = arena_alloc(&c->scratch, 1024);
        size_t o = 0;
        for (int f = 0; f < l->nflags; f++) {
            uint32_t mark = c->nwit;
            if (rules_truthy(rules_eval(c, l->flags[f].cond))) {
                o += (size_t) snprintf(buf + o, 1024 - o, "%s%s", o ? ";" : "", l->flags[f].name);
                if (o >= 1024)
                    o = 1023;
            } else {
                c->nwit = mark;
            }
        }
        v = vtext(buf, (uint32_t) o);
    } else {
        int e = l->rows[c->ri].assign[ci] >= 0 ? l->rows[c->ri].assign[ci] : col->expr;
        v = rules_eval(c, e);
    }
    c->colval[ci] = v;
    c->colstate[ci] = 2;
    return v;
}

static int
col_expr(const ListDef *l, int ri, int ci)
{
    return l->rows[ri].assign[ci] >= 0 ? l->rows[ri].assign[ci] : l->cols[ci].expr;
}

static void
emit_row(EvalCtx *c, uint32_t mark, const RefRow *refrow)
{
    const RuleSet *rs = c->rs;
    const ListDef *l = rlist(rs, c->li);
    ListOut *lo = &c->out->lists[c->li];
    Arena *a = &c->out->arena;
    const char **vals = arena_alloc(a, sizeof(char *) * (size_t) l->ncols);
    char buf[4096];
    for (int ci = 0; ci < l->ncols; ci++) {
        Val v = eval_col(c, ci);
        RType t = l->cols[ci].flags ? (RType){.t = T_TEXT} : rnode(rs, col_expr(l, c->ri, ci))->type;
        if (l->cols[ci].implicit && (strcmp(l->cols[ci].name, "rule") == 0 || strcmp(l->cols[ci].name, "rule_version") == 0)) {
            vals[ci] = rnode(rs, l->cols[ci].expr)->s;
            continue;
        }
        rules_format(c, t, v, buf, sizeof buf);
        vals[ci] = buf[0] ? arena_strdup(a, buf) : "";
    }
    const char *group[3] = {NULL, NULL, NULL};
    for (int g = 0; g < l->ngroup; g++) {
        Val v = rules_eval(c, l->group[g]);
        rules_format(c, rnode(rs, l->group[g])->type, v, buf, sizeof buf);
        group[g] = buf[0] ? arena_strdup(a, buf) : NULL;
    }
    EvRef ev[ROW_MAX_EVIDENCE];
    int nev = 0;
    if (refrow) {
        EvRef r = row_ref(c, l->ref, refrow);
        if (r.file != UINT32_MAX)
            ev[nev++] = r;
    } else if (c->p) {
        ev[nev++] = (EvRef){.file = c->p->file, .kind = FK_REGISTER, .record = c->p->record};
    }
    EvRef more[ROW_MAX_EVIDENCE];
    int nm = rules_witnesses(c, mark, more, ROW_MAX_EVIDENCE);
    for (int i = 0; i < nm && nev < ROW_MAX_EVIDENCE; i++) {
        bool seen = false;
        for (int k = 0; k < nev && !seen; k++)
            seen = ev[k].file == more[i].file && ev[k].record == more[i].record;
        if (!seen)
            ev[nev++] = more[i];
    }
    ListRow *row = vec_push(&lo->rows);
    row->key = refrow ? 0 : c->p->key;
    row->vals = vals;
    row->township = group[0];
    row->village = group[1];
    row->household = group[2];
    row->ev = arena_alloc(a, sizeof(EvRef) * (size_t) (nev ? nev : 1));
    memcpy(row->ev, ev, sizeof(EvRef) * (size_t) nev);
    row->nev = nev;
}

static int
emit_rows(EvalCtx *c, int li, const RefRow *refrow)
{
    const RuleSet *rs = c->rs;
    const ListDef *l = rlist(rs, li);
    c->li = li;
    uint32_t mark0 = c->nwit;
    int emitted = 0;
    if (l->where >= 0 && !rules_truthy(rules_eval(c, l->where))) {
        c->nwit = mark0;
        return 0;
    }
    uint32_t mark1 = c->nwit;
    for (int r = 0; r < l->nrows; r++) {
        const RowDef *rd = &l->rows[r];
        c->ri = r;
        c->nwit = mark1;
        memset(c->colstate, 0, sizeof c->colstate);
        if (rd->set >= 0) {
            Val set = rules_eval(c, rd->set);
            uint32_t mark2 = c->nwit;
            const Val *el = (const Val *) set.s;
            for (uint32_t i = 0; !set.none && i < set.len; i++) {
                c->vars[rd->var_slot] = el[i];
                c->nwit = mark2;
                memset(c->colstate, 0, sizeof c->colstate);
                if (rd->when < 0 || rules_truthy(rules_eval(c, rd->when))) {
                    emit_row(c, mark0, refrow);
                    emitted++;
                }
            }
        } else if (rd->when < 0 || rules_truthy(rules_eval(c, rd->when))) {
            emit_row(c, mark0, refrow);
            emitted++;
        }
    }
    c->nwit = mark0;
    return emitted;
}

int
rules_emit_list(EvalCtx *c, int li)
{
    int n = emit_rows(c, li, NULL);
    c->listed[li] = n > 0;
    return n;
}

/* ------------------------------------------------------------------ tallies */

static void
tally_add(TallyMap *m, const char *key, int64_t n)
{
    if ((m->n + 1) * 2 > m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        const char **keys = xcalloc(cap, sizeof(char *));
        int64_t *counts = xcalloc(cap, sizeof(int64_t));
        for (uint32_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                uint64_t h = 1469598103934665603ull;
                for (const char *s = m->keys[i]; *s; s++)
                    h = (h ^ (unsigned char) *s) * 1099511628211ull;
                uint32_t j = (uint32_t) h & (cap - 1);
                while (keys[j])
                    j = (j + 1) & (cap - 1);
                keys[j] = m->keys[i];
                counts[j] = m->counts[i];
            }
        free(m->keys);
        free(m->counts);
        m->keys = keys;
        m->counts = counts;
        m->cap = cap;
    }
    uint64_t h = 1469598103934665603ull;
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ull;
    uint32_t i = (uint32_t) h & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == NULL) {
        m->keys[i] = xstrdup(key);
        m->n++;
    }
    m->counts[i] += n;
}

/* ------------------------------------------------------------------ the pass */

void
rules_lists_init(const RuleSet *rs, ListSet *ls)
{
    memset(ls, 0, sizeof *ls);
    arena_init(&ls->arena, 4 << 20);
    ls->n = (int) rs->lists.len;
    for (int i = 0; i < ls->n; i++) {
        const ListDef *l = rlist(rs, i);
        ListOut *lo = &ls->lists[i];
        lo->name = l->name;
        lo->title = l->title;
        lo->rule = l->rule;
        lo->ncols = l->ncols;
        for (int k = 0; k < l->ncols; k++)
            lo->cols[k] = l->cols[k].name;
        vec_init(&lo->rows, sizeof(ListRow));
    }
    snprintf(ls->rule_version, sizeof ls->rule_version, "%s", rs->version);
}

void
rules_ctx_init(EvalCtx *c, const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *out)
{
    memset(c, 0, sizeof *c);
    c->rs = rs;
    c->st = st;
    c->rd = rd;
    c->asof = asof;
    c->out = out;
    int nm = rs->nmemo ? rs->nmemo : 1;
    c->memo_gen = xcalloc((size_t) nm, sizeof(uint32_t));
    c->memo_w0 = xcalloc((size_t) nm, sizeof(uint32_t));
    c->memo_wn = xcalloc((size_t) nm, sizeof(uint32_t));
    c->memo_val = xcalloc((size_t) nm, sizeof(Val));
    arena_init(&c->scratch, 256 << 10);
    c->tallies = xcalloc(rs->tallies.len ? rs->tallies.len : 1, sizeof(TallyMap));
    c->li = c->ri = 0;
}

void
rules_ctx_done(EvalCtx *c)
{
    free(c->memo_gen);
    free(c->memo_w0);
    free(c->memo_wn);
    free(c->memo_val);
    free(c->wit);
    free(c->pool);
    arena_free(&c->scratch);
    textbuf_free(&c->text);
    for (size_t t = 0; t < c->rs->tallies.len; t++) {
        for (uint32_t i = 0; i < c->tallies[t].cap; i++)
            free((void *) c->tallies[t].keys[i]);
        free(c->tallies[t].keys);
        free(c->tallies[t].counts);
    }
    free(c->tallies);
    memset(c, 0, sizeof *c);
}

void
rules_ctx_person(EvalCtx *c, const Person *p)
{
    c->p = p;
    c->ptext_of = NULL;
    c->f = p ? store_facts(c->st, p) : NULL;
    c->nf = p ? p->fact_count : 0;
    c->gen++;
    if (c->gen == 0) {
        memset(c->memo_gen, 0, sizeof(uint32_t) * (size_t) (c->rs->nmemo ? c->rs->nmemo : 1));
        c->gen = 1;
    }
    c->nwit = 0;
    c->npool = 0;
    c->nowit = 0;
    arena_reset(&c->scratch);
    memset(c->kbeg, 0, sizeof c->kbeg);
    memset(c->kend, 0, sizeof c->kend);
    for (uint32_t i = 0; i < c->nf;) {
        uint16_t k = c->f[i].kind;
        uint32_t j = i;
        while (j < c->nf && c->f[j].kind == k)
            j++;
        if (k < FK_COUNT) {
            c->kbeg[k] = i;
            c->kend[k] = j;
        }
        i = j;
    }
    memset(c->listed, 0, sizeof c->listed);
}

void
rules_eval_person(EvalCtx *c)
{
    const RuleSet *rs = c->rs;
    for (int i = 0; i < rs->norder; i++)
        rules_emit_list(c, rs->order[i]);
    c->nowit++;
    for (size_t t = 0; t < rs->tallies.len; t++) {
        const Tally *tl = &((const Tally *) rs->tallies.data)[t];
        if (tl->cond >= 0 && !rules_truthy(rules_eval(c, tl->cond)))
            continue;
        Val k = rules_eval(c, tl->key);
        if (k.none)
            continue;
        char key[512];
        rules_format(c, rnode(rs, tl->key)->type, k, key, sizeof key);
        tally_add(&c->tallies[t], key, 1);
    }
    c->nowit--;
    c->evaluated++;
}

typedef struct SortCtx {
    const ListDef *l;
    const ListRow *rows;
} SortCtx;

/* byte order of the columns joined by ',' (the truth's "whole line") */
static int
cmp_rows(const void *x, const void *y, void *arg)
{
    const SortCtx *sc = arg;
    uint32_t ia = *(const uint32_t *) x, ib = *(const uint32_t *) y;
    const char *const *va = sc->rows[ia].vals, *const *vb = sc->rows[ib].vals;
    const int *order = sc->l->order;
    int n = sc->l->norder;
    int ka = 0, kb = 0;
    const char *pa = va[order[0]], *pb = vb[order[0]];
    for (;;) {
        int ca = *pa ? (unsigned char) *pa : ka + 1 < n ? ',' : -1;
        int cb = *pb ? (unsigned char) *pb : kb + 1 < n ? ',' : -1;
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca == -1)
            break;
        if (*pa)
            pa++;
        else
            pa = va[order[++ka]];
        if (*pb)
            pb++;
        else
            pb = vb[order[++kb]];
    }
    return (ia > ib) - (ia < ib);
}

/* A list's rows sorted by cmp over their positions (stable when cmp breaks ties by position).
 * The rows come in person order, and most lists sort by the ID number first, which is person
 * order: rows already in order (cmp says so of every neighbour, one comparison each) are left. */
static void
sort_rows(ListOut *lo, int (*cmp)(const void *, const void *, void *), void *arg)
{
    size_t n = lo->rows.len;
    if (n < 2)
        return;
    uint32_t *idx = xmalloc(sizeof(uint32_t) * n);
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t) i;
    size_t k = 1;
    while (k < n && cmp(&idx[k - 1], &idx[k], arg) < 0)
        k++;
    if (k == n) {
        free(idx);
        return;
    }
    qsort_r(idx, n, sizeof(uint32_t), cmp, arg);
    ListRow *sorted = xmalloc(sizeof(ListRow) * n);
    for (size_t i = 0; i < n; i++)
        sorted[i] = ((ListRow *) lo->rows.data)[idx[i]];
    memcpy(lo->rows.data, sorted, sizeof(ListRow) * n);
    free(sorted);
    free(idx);
}

void
rules_eval_finish(EvalCtx *c)
{
    const RuleSet *rs = c->rs;
    /* lists over reference rows */
    for (int li = 0; li < (int) rs->lists.len; li++) {
        const ListDef *l = rlist(rs, li);
        if (l->var == NULL || c->rd == NULL)
            continue;
        const RefTable *tab = &c->rd->tables[l->ref];
        rules_ctx_person(c, NULL);
        for (size_t r = 0; r < tab->rows.len; r++) {
            const RefRow *row = &VEC_AT(&tab->rows, RefRow, r);
            c->cur[0] = row;
            c->nwit = 0;
            emit_rows(c, li, row);
            if ((r & 1023) == 1023)
                arena_reset(&c->scratch);
        }
    }
    /* sort every list by its order columns */
    for (int li = 0; li < (int) rs->lists.len; li++) {
        SortCtx sc = {.l = rlist(rs, li), .rows = c->out->lists[li].rows.data};
        sort_rows(&c->out->lists[li], cmp_rows, &sc);
    }
}

/*
 * The person pass in blocks of contiguous persons, each thread taking the next block as it
 * finishes one (a thread slowed by the machine's other work takes fewer: two halves fixed in
 * advance ended 6.4 and 9.8 s after they began at M).  A thread's rows go to its own lists; each
 * block notes where its rows begin and end there (a Span), and parts_end joins the spans in
 * block order: the rows of one thread going through the persons in order.
 */
#define EVAL_BLOCKS_PER_THREAD 32

typedef struct Span {
    size_t   seq;                 /* pass * blocks + block */
    int      thread;
    uint32_t from[LIST_MAX];      /* each list's rows [from, to) in the thread's lists */
    uint32_t to[LIST_MAX];
} Span;

typedef struct Blocks {
    atomic_size_t next;           /* the next block to take */
    atomic_size_t done;           /* persons of the blocks finished, for the progress line */
    size_t        n, np, pass;
} Blocks;

/* One thread: blocks of persons into its own lists and tallies (of them, those whose facts are
 * in memory: store_in_pass). */
typedef struct EvalPart {
    EvalCtx        c;
    ListSet        ls;
    const Person  *ps;
    Blocks        *blocks;
    Vec            spans;         /* Span */
    int            thread;
    bool           progress;
} EvalPart;

static void *
eval_part(void *arg)
{
    EvalPart *e = arg;
    const Store *st = e->c.st;
    Blocks *bl = e->blocks;
    ListSet *out = e->c.out;
    for (;;) {
        size_t b = atomic_fetch_add(&bl->next, 1);
        if (b >= bl->n)
            break;
        size_t p0 = bl->np * b / bl->n, p1 = bl->np * (b + 1) / bl->n;
        Span *sp = vec_push(&e->spans);
        sp->seq = bl->pass * bl->n + b;
        sp->thread = e->thread;
        for (int li = 0; li < out->n; li++)
            sp->from[li] = (uint32_t) out->lists[li].rows.len;
        for (size_t i = p0; i < p1; i++) {
            if (!store_in_pass(st, e->ps[i].key))
                continue;
            rules_ctx_person(&e->c, &e->ps[i]);
            rules_eval_person(&e->c);
        }
        for (int li = 0; li < out->n; li++)
            sp->to[li] = (uint32_t) out->lists[li].rows.len;
        size_t done = atomic_fetch_add(&bl->done, p1 - p0) + (p1 - p0);
        if (e->progress)
            progress_update(done);
    }
    return NULL;
}

/* Adds tally map b's counts into a (b's keys are copied). */
static void
tally_merge(TallyMap *a, const TallyMap *b)
{
    for (uint32_t i = 0; i < b->cap; i++)
        if (b->keys[i] != NULL)
            tally_add(a, b->keys[i], b->counts[i]);
}

static EvalPart *
parts_begin(const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *ls, bool progress,
            int *threads)
{
    size_t np = st->persons.len;
    if (*threads < 1)
        *threads = 1;
    if (*threads > RULES_MAX_THREADS)
        *threads = RULES_MAX_THREADS;
    if (np < (size_t) *threads * 256)
        *threads = 1;
    rules_lists_init(rs, ls);
    EvalPart *parts = xcalloc((size_t) *threads, sizeof *parts);
    Blocks *bl = xcalloc(1, sizeof *bl);
    bl->np = np;
    bl->n = *threads == 1 ? 1 : (size_t) *threads * EVAL_BLOCKS_PER_THREAD;
    for (int t = 0; t < *threads; t++) {
        EvalPart *e = &parts[t];
        ListSet *out = ls;
        if (t > 0) {
            rules_lists_init(rs, &e->ls);
            out = &e->ls;
        }
        rules_ctx_init(&e->c, rs, st, asof, rd, out);
        e->ps = st->persons.data;
        e->blocks = bl;
        e->thread = t;
        vec_init(&e->spans, sizeof(Span));
        e->progress = progress && t == 0;
    }
    return parts;
}

/* One pass over the persons (pass: its number). */
static void
parts_run(EvalPart *parts, int threads, bool progress, size_t pass)
{
    Blocks *bl = parts[0].blocks;
    atomic_store(&bl->next, 0);
    atomic_store(&bl->done, 0);
    bl->pass = pass;
    if (progress)
        progress_begin("rules", "persons");
    par_run(eval_part, parts, sizeof *parts, threads);
    if (progress)
        progress_end(bl->np);
}

static int
cmp_span(const void *x, const void *y)
{
    size_t a = ((const Span *) x)->seq, b = ((const Span *) y)->seq;
    return (a > b) - (a < b);
}

/* Every list's rows as the spans of the threads' lists in block order, into the first's. */
static void
join_spans(EvalPart *parts, int threads, ListSet *ls)
{
    size_t n = 0;
    for (int t = 0; t < threads; t++)
        n += parts[t].spans.len;
    Span *all = xmalloc((n ? n : 1) * sizeof *all), *at = all;
    const ListSet **of = xmalloc((n ? n : 1) * sizeof *of);
    for (int t = 0; t < threads; t++) {
        if (parts[t].spans.len > 0)
            memcpy(at, parts[t].spans.data, parts[t].spans.len * sizeof *all);
        at += parts[t].spans.len;
    }
    qsort(all, n, sizeof *all, cmp_span);
    for (size_t k = 0; k < n; k++)
        of[k] = all[k].thread == 0 ? ls : &parts[all[k].thread].ls;
    for (int li = 0; li < ls->n; li++) {
        size_t total = 0;
        for (int t = 0; t < threads; t++)
            total += (t == 0 ? ls : &parts[t].ls)->lists[li].rows.len;
        Vec joined;
        vec_init(&joined, sizeof(ListRow));
        vec_reserve(&joined, total ? total : 1);
        ListRow *to = joined.data;
        for (size_t k = 0; k < n; k++) {
            size_t m = all[k].to[li] - all[k].from[li];
            if (m == 0)
                continue;   /* (a list without rows in that thread has no memory yet) */
            memcpy(to + joined.len, (const ListRow *) of[k]->lists[li].rows.data + all[k].from[li],
                   m * sizeof(ListRow));
            joined.len += m;
        }
        for (int t = 1; t < threads; t++)
            parts[t].ls.lists[li].rows.len = 0;   /* copied; their strings are adopted below */
        vec_free(&ls->lists[li].rows);
        ls->lists[li].rows = joined;
    }
    free(of);
    free(all);
}

static int
cmp_row_person(const void *x, const void *y, void *arg)
{
    const ListRow *rows = arg;
    uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;
    if (rows[a].key != rows[b].key)
        return rows[a].key < rows[b].key ? -1 : 1;
    return (a > b) - (a < b);
}

/* The threads' rows appended to the first's in range order; with several passes, each list's
 * rows then put back in person order (a person's rows in the order made), as one pass over all
 * the persons gives them.  Then the lists over reference rows, and the sort. */
static void
parts_end(const RuleSet *rs, EvalPart *parts, int threads, ListSet *ls, int passes)
{
    EvalCtx *c = &parts[0].c;
    if (threads > 1)
        join_spans(parts, threads, ls);
    for (int t = 1; t < threads; t++) {
        EvalPart *e = &parts[t];
        for (size_t k = 0; k < rs->tallies.len; k++)
            tally_merge(&c->tallies[k], &e->c.tallies[k]);
        c->evaluated += e->c.evaluated;
        lists_adopt(ls, &e->ls);   /* the rows' strings and evidence live in its arena */
        rules_ctx_done(&e->c);
    }
    for (int li = 0; passes > 1 && li < ls->n; li++)
        sort_rows(&ls->lists[li], cmp_row_person, ls->lists[li].rows.data);
    rules_eval_finish(c);
    rules_ctx_done(c);
    for (int t = 0; t < threads; t++)
        vec_free(&parts[t].spans);
    free(parts[0].blocks);
    free(parts);
}

/* The persons in blocks taken by the threads as they go; every list's rows of the blocks joined
 * in block order, so that the rows (and after the sort, the lists) are those of one thread. */
void
rules_eval_all_threads(const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *ls,
                       bool progress, int threads)
{
    EvalPart *parts = parts_begin(rs, st, asof, rd, ls, progress, &threads);
    parts_run(parts, threads, progress, 0);
    parts_end(rs, parts, threads, ls, 1);
}

void
rules_eval_all(const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *ls, bool progress)
{
    rules_eval_all_threads(rs, st, asof, rd, ls, progress, 1);
}

bool
rules_evaluate(const RuleSet *rs, Store *st, Day asof, const char *refdir, ListSet *ls, int threads,
               double *seconds, RulesPassFn on_pass, void *arg, CbError *err)
{
    RefData rd;
    memset(ls, 0, sizeof *ls);
    if (!rules_ref_read(rs, st, refdir, &rd, err)) {
        rules_ref_free(&rd);
        return false;
    }
    double t0 = clock_now();
    int passes = store_passes(st);
    EvalPart *parts = parts_begin(rs, st, asof, &rd, ls, true, &threads);
    bool ok = true;
    for (int k = 0; k < passes && ok; k++) {
        ok = store_spill_load(st, k, threads, err);   /* (in memory: grouped already) */
        if (ok) {
            parts_run(parts, threads, true, (size_t) k);
            if (on_pass)
                on_pass(arg, st);
        }
    }
    parts_end(rs, parts, threads, ls, passes);
    double dt = clock_now() - t0;
    if (seconds)
        *seconds = dt;
    size_t rows = 0;
    for (int i = 0; i < ls->n; i++)
        rows += ls->lists[i].rows.len;
    if (ok)
        log_info("event=rules_evaluated persons=%zu lists=%d rows=%zu passes=%d seconds=%.3f rule_version=%.12s",
                 st->persons.len, ls->n, rows, passes, dt, rs->version);
    rules_ref_free(&rd);
    return ok;
}
