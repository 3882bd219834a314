/*
 * rules_history — may the rules do with only the latest records of a source?
 *
 * A source with `history = latest` keeps per person the latest fact on or before the run's
 * as-of date and the latest after it (the first in record order among equal dates; load.h).
 * An aggregate over its kind is answered the same by those two facts when it is
 *
 *     any / none / max         (count, sum, min, earliest, latest, distinct need the others)
 *     of the date itself, or first_day of the month   (max: the value aggregated)
 *     where nothing, or only  DATE <= asof  or  DATE within SPAN before asof  joined by and
 *
 * with DATE the fact's own date (its first date slot) or first_day of its month, and SPAN a
 * constant (a parameter is one).  max keeps
 * its deciding record (the first of the equal dates, as grouped facts are ordered); any and
 * none cite the latest matching record instead of the earliest.  Anything else is refused
 * with the rule's position, before anything is read.
 */
#include <string.h>

#include "rules_int.h"
#include "sourcedef.h"

/* The fact's date in scope depth: its d1, or first_day of it. */
static bool
is_fact_date(const RuleSet *rs, int i, int depth)
{
    if (i < 0)
        return false;
    const Node *n = rnode(rs, i);
    if (n->op == OP_FN && n->sub == FN_FIRST_DAY && n->nargs == 1)
        n = rnode(rs, rarg(rs, n, 0));
    return n->op == OP_FIELD && n->k == FS_D1 && n->depth == depth;
}

/* A condition every kept fact answers as all the person's facts would: conjunctions of upper
 * bounds at the as-of date. */
static bool
bounded_by_asof(const RuleSet *rs, int i, int depth)
{
    const Node *n = rnode(rs, i);
    switch (n->op) {
    case OP_AND:
        return bounded_by_asof(rs, n->a, depth) && bounded_by_asof(rs, n->b, depth);
    case OP_CMP:
        return n->sub == PU_LE && is_fact_date(rs, n->a, depth) && rnode(rs, n->b)->op == OP_ASOF;
    case OP_WITHIN:   /* a span of its own per fact would not be answered by the latest */
        return n->sub == 0 && is_fact_date(rs, n->a, depth) && rnode(rs, n->b)->op == OP_ASOF &&
               rnode(rs, n->c)->op == OP_CONST;
    default:
        return false;
    }
}

static bool
answered_by_latest(const RuleSet *rs, const Node *n)
{
    int agg = n->sub & 0xFF;
    if (agg != AGG_ANY && agg != AGG_NONE && agg != AGG_MAX)
        return false;
    if (agg == AGG_MAX && !is_fact_date(rs, n->a, n->depth))
        return false;
    return n->b < 0 || bounded_by_asof(rs, n->b, n->depth);
}

bool
rules_check_history(const RuleSet *rs, const SourceDef *defs, int ndefs, CbError *err)
{
    for (int d = 0; d < ndefs; d++) {
        if (defs[d].history != HISTORY_LATEST)
            continue;
        for (size_t i = 0; i < rs->nodes.len; i++) {
            const Node *n = rnode(rs, (int) i);
            if (n->op != OP_AGGF || n->k != (int64_t) defs[d].kind || answered_by_latest(rs, n))
                continue;
            const RuleFile *rf = &VEC_AT(&rs->files, RuleFile, n->file);
            CB_FAIL(err, CBERR_INPUT,
                    "this aggregate over %s needs every record, but source %s keeps only the latest per person "
                    "(history = latest, %s line %d)",
                    factkind_name(defs[d].kind), defs[d].name, defs[d].path, defs[d].history_line);
            cb_error_at(err, "%s:%d:%d", rf->path, n->line, n->col);
            cb_error_hint(err, "any, none or max of the date, where date <= asof or date within a span before "
                               "asof; or history = all in the source definition");
            return false;
        }
    }
    return true;
}
