/*
 * rules_check_int — what the checker's files (rules_types.c, rules_check.c, rules_decl.c)
 * share: the checking context and the helpers each needs from the others.
 */
#ifndef CANBAO_RULES_CHECK_INT_H
#define CANBAO_RULES_CHECK_INT_H

#include "rules_int.h"

typedef enum { SC_FACT, SC_REF } ScopeWhat;

typedef struct Scope {
    ScopeWhat           what;
    int                 kind;      /* fact kind or reference table */
    int                 depth;
    const struct Scope *up;
} Scope;

typedef struct Ctx {
    RuleSet     *rs;
    const Scope *sc;
    int          depth;        /* next free scope depth */
    bool         person;       /* the person's register and facts are in reach */
    int          list;         /* current list, -1 in a definition */
    int          rowdef;       /* current row clause, -1 outside */
    bool         in_row;       /* columns of the list can be referred to */
    int          col;          /* column being checked, -1 */
    int          macro_depth;
    int          deps[LIST_MAX];/* listed() found */
    int          ndeps;
} Ctx;


/* types (rules_types.c) */
RType       rtype(TypeCode t);
bool        rtype_same(RType a, RType b);
bool        rtype_ordered(RType t);
bool        rtype_number(RType t);
bool        rtype_duration(RType t);
bool        rtype_formattable(RType t);
bool        rules_reg_field(const char *name, RegField *out, RType *type);
const char *rules_reg_field_name(int i);

/* expressions (rules_check.c) */
int         rc_check(Ctx *c, int node);
int         rc_want_bool(Ctx *c, int node, const char *what);
void        rc_split_and(const RuleSet *rs, int node, int *out, int *n, int max);
bool        rc_unify(RType *into, RType t);
int         rc_check_define_body(RuleSet *rs, int d);
void        rc_check_kind_define(RuleSet *rs, int d);
int         rc_find_define(const RuleSet *rs, const char *name, int kind);
int         rc_find_list(const RuleSet *rs, const char *name);
int         rc_find_ref(const RuleSet *rs, const char *name);
int         rc_find_col(const ListDef *l, const char *name);
int         rc_ref_field(const RefDecl *r, const char *name);
const char *rc_tname(RType t, char *buf);
bool        rc_is_function(const char *name);

/* declarations (rules_decl.c) */
int         rc_check_column(Ctx *c, int li, int ci);

#endif
