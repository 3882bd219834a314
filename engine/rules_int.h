/*
 * rules_int — private structures of the rule engine, shared by rules_*.c.  rules.h is the
 * contract; nothing outside engine/rules*.c includes this file (the unit tests do).
 *
 * Life of a rule set:
 *   text ──rules_lex──► tokens ──rules_parse──► syntax nodes (Node, op OP_IDENT, OP_CALL ...)
 *        ──rules_check──► the same nodes resolved in place (OP_FIELD, OP_DEF, OP_AGG ...),
 *                          typed (RType), parameters folded to constants, tallies split out
 *        ──rules_eval──► values per person (Val), rows into a ListSet.
 * All nodes of a set live in one array (RuleSet.nodes); children are indexes into it.
 */
#ifndef CANBAO_RULES_INT_H
#define CANBAO_RULES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "date.h"
#include "factkind.h"
#include "lists.h"
#include "params.h"
#include "rules.h"
#include "store.h"

/* ------------------------------------------------------------------ tokens */

typedef enum { TK_EOF, TK_IDENT, TK_PARAM, TK_NUMBER, TK_STRING, TK_DATE, TK_MONTH, TK_PUNCT } TokKind;

/* punctuation: the character itself, or one of these for two-character operators */
enum { PU_EQ = 256, PU_NE, PU_LE, PU_GE };

typedef struct Token {
    uint8_t     kind;       /* TokKind */
    int16_t     punct;      /* TK_PUNCT */
    uint16_t    file;       /* index into RuleSet.files */
    int         line, col;  /* 1-based; columns count characters */
    uint32_t    off, len;   /* bytes in the file's text */
    const char *src;        /* the token's text in the file (len bytes) */
    const char *str;        /* IDENT / PARAM (without '$'): the name; STRING: the unescaped text */
    uint32_t    slen;
    int64_t     num;        /* NUMBER: digits without the point; DATE: Day; MONTH: month number */
    int         scale;      /* NUMBER: digits after the point */
} Token;

typedef struct RuleFile {
    const char *path;
    const char *name;       /* base name */
    const char *text;
    size_t      len;
} RuleFile;

/* ------------------------------------------------------------------ types */

typedef enum {
    T_ERR,       /* after an error: silences follow-up errors */
    T_NONE,      /* the literal `none` */
    T_BOOL, T_INT, T_NUM, T_MONEY, T_YEARS, T_MONTHS, T_DAYS, T_DATE, T_MONTH, T_TEXT,
    T_ENUM,      /* kind + field (FIELD_EVIDENCE for a death's evidence code) */
    T_FACT,      /* a fact of kind */
    T_SET,       /* distinct values of type et (with kind/field for enums) */
    T_REF,       /* a row of reference table kind */
    T_SYM        /* a bare name tested against a parameter list of names */
} TypeCode;

#define FIELD_EVIDENCE 100   /* a death's evidence code */
#define FIELD_LINK 101       /* how any fact was linked: exact, repaired, probable */

typedef struct RType {
    uint8_t t;
    uint8_t et;          /* T_SET: element type */
    int8_t  kind;
    int8_t  field;
} RType;

/* ------------------------------------------------------------------ nodes */

typedef enum {
    /* syntax, kept as is when they need no resolution */
    OP_CONST,      /* type + k / d / s */
    OP_PARAM,      /* $name (s) -> OP_CONST, or stays OP_PARAM for a list of names used by `in` */
    OP_IDENT,      /* s -> OP_FIELD, OP_DEF, OP_COL, OP_VAR, OP_REG ... */
    OP_GET,        /* a.s -> OP_REG, OP_FACTFIELD, OP_REFVARFIELD */
    OP_CALL,       /* s(args) -> OP_FN, OP_LISTED, a macro's body */
    OP_NEG, OP_NOT, OP_AND, OP_OR,
    OP_CMP,        /* sub: PU_EQ, PU_NE, '<', PU_LE, '>', PU_GE */
    OP_ARITH,      /* sub: '+', '-', '*', '/' (k: how, see rules_check.c) */
    OP_IN,         /* a in (args) */
    OP_INPARAM,    /* a in $s  -> OP_INSET or OP_CONST */
    OP_INSET,      /* a in the enum bit set k */
    OP_UNDER,      /* a under b: text prefix */
    OP_WITHIN,     /* a within b before/after c (sub: 0 before, 1 after) */
    OP_BETWEEN,    /* a between b and c */
    OP_ISNONE,     /* a is none (sub 1: is not none) */
    OP_ACTIVE,     /* active_on a, in a fact scope */
    OP_IF,         /* if a then b else c */
    OP_AGG,        /* sub AggKind, s source, a value, b where; k: 1 = distinct */
    /* resolved */
    OP_FIELD,      /* field of the fact in scope depth (Node.depth), slot k */
    OP_FACTFIELD,  /* field slot k of the fact value a */
    OP_REG,        /* register field k (RegField) */
    OP_REFFIELD,   /* column k of the reference row in scope depth */
    OP_VAR,        /* loop variable slot k */
    OP_DEF,        /* person definition k (memoised per person) */
    OP_COL,        /* column k of the row being built */
    OP_LISTED,     /* the person has a row in list k */
    OP_FN,         /* built-in function sub over args */
    OP_AGGF,       /* aggregate sub over facts of kind k in scope depth */
    OP_AGGREF,     /* aggregate sub over rows of reference table k in scope depth */
    OP_TALLY,      /* count of persons of tally k whose key equals a (in a reference list) */
    OP_ASOF,
    OP_COUNT_
} NodeOp;

typedef enum { AGG_ANY, AGG_NONE, AGG_COUNT, AGG_SUM, AGG_MAX, AGG_MIN, AGG_LATEST, AGG_EARLIEST, AGG_DISTINCT } AggKind;

typedef enum {
    FN_AGE, FN_BIRTHDAY, FN_MONTH_OF, FN_YEAR_OF, FN_FIRST_DAY, FN_LAST_DAY, FN_SUBSTR, FN_LENGTH,
    FN_TO_INT, FN_JOIN, FN_GREATEST, FN_LEAST, FN_COALESCE, FN_CEIL, FN_FLOOR, FN_COUNT_
} FnKind;

/* how OP_ARITH computes (Node.k) */
typedef enum {
    AR_INT, AR_NUM, AR_MONEY, AR_DUR, AR_DATE_MONTHS, AR_DATE_YEARS, AR_DATE_DAYS, AR_MONTH_MONTHS,
    AR_MONTH_YEARS, AR_DATE_DIFF, AR_MONTH_DIFF, AR_SCALE_L, AR_SCALE_R, AR_DIV
} ArithHow;

/* where a fact field lives */
typedef enum { FS_D1, FS_D2, FS_CODE, FS_AMOUNT, FS_AMOUNT2, FS_LINK } FieldSlotCode;

typedef enum {
    RG_ID, RG_NAME, RG_SEX, RG_BIRTH, RG_HOUSEHOLD, RG_DIVISION, RG_ADDRESS, RG_PHONE, RG_STATUS,
    RG_CANCEL_REASON, RG_CANCEL_DATE, RG_COUNT_
} RegField;

typedef struct Node {
    uint16_t    op;
    int16_t     sub;
    RType       type;
    uint8_t     checked;    /* 0 no, 1 in progress, 2 done */
    uint8_t     depth;      /* scope depth (facts or reference rows) */
    uint8_t     uses;       /* USE_* */
    int32_t     a, b, c;
    int32_t     args, nargs;/* into RuleSet.args */
    int64_t     k;
    double      d;
    const char *s;
    uint32_t    slen;
    uint16_t    file;
    int         line, col;
    uint32_t    off, len;   /* source span */
    int         sline, scol;/* OP_AGG: the source name; OP_INPARAM: the parameter */
} Node;

enum { USE_PERSON = 1, USE_REF = 2, USE_FACT = 4 };

/* ------------------------------------------------------------------ declarations */

typedef struct Define {
    const char  *name;
    int          kind;         /* -1: about the person; else a fact kind (`define prison.holding`) */
    const char **params;       /* a definition with parameters is expanded where it is used */
    int          nparams;
    int          body;
    uint16_t     file;
    int          line, col;
    uint8_t      state;        /* 0 unchecked, 1 checking, 2 checked */
    RType        type;
    int          memo;         /* person definitions without parameters: memo slot */
} Define;

typedef struct ColDef {
    const char *name;
    int         expr;          /* default value, -1 none */
    bool        flags;         /* the `flags` column: the names of the true flags joined by ';' */
    bool        implicit;      /* id_number, rule, rule_version */
    uint8_t     state;
    RType       type;
    uint16_t    file;
    int         line, col;
} ColDef;

typedef struct FlagDef {
    const char *name;
    int         cond;
} FlagDef;

#define RULE_MAX_ROWS 8
#define RULE_MAX_FLAGS 16
#define RULE_MAX_CONJ 32

typedef struct RowDef {
    const char *var;           /* `row for each var in set` */
    int         set;
    int         var_slot;
    int         when;
    int         assign[LIST_MAX_COLS];
    int         line, col;
} RowDef;

typedef struct ListDef {
    const char *name;
    const char *title;
    const char *rule;          /* "file.rules:name" */
    uint16_t    file;
    int         line, col;
    int         ref;           /* >= 0: one pass per row of reference table ref, bound to var */
    const char *var;
    const char *ref_name;
    int         ref_line, ref_col;
    int         where;
    int         conj[RULE_MAX_CONJ];   /* where's top-level `and` terms, for explain */
    int         nconj;
    ColDef      cols[LIST_MAX_COLS];
    int         ncols;
    FlagDef     flags[RULE_MAX_FLAGS];
    int         nflags;
    RowDef      rows[RULE_MAX_ROWS];
    int         nrows;
    int         group[3];
    int         ngroup;
    int         order[LIST_MAX_COLS];
    int         norder;
    uint8_t     state;         /* for the order of evaluation (listed()) */
} ListDef;

#define REF_MAX_FIELDS 16
#define REF_MAX_FILES 4

typedef struct RefDecl {
    const char *name;
    const char *title;
    const char *files[REF_MAX_FILES];
    int         nfiles;
    const char *fields[REF_MAX_FIELDS];
    const char *columns[REF_MAX_FIELDS];
    int         nfields;
    uint16_t    file;
    int         line, col;
} RefDecl;

typedef struct Tally {
    int cond;                  /* person condition, -1 always */
    int key;                   /* person side of the equality */
    int list;                  /* the reference list it serves */
} Tally;

/* example cases */
typedef struct TestValue {
    const char *name;
    Token       value;
    const char *unit;          /* NUMBER followed by years / months / days / yuan, else NULL */
    int         line, col;
} TestValue;

#define TEST_MAX_VALUES 16

typedef struct TestGiven {
    const char *what_name;
    int         what;          /* -1 register, >= 0 fact kind, -100 - r: reference table r */
    TestValue   vals[TEST_MAX_VALUES];
    int         nvals;
    int         line, col;
} TestGiven;

typedef struct TestExpect {
    bool        no;
    const char *list;
    int         list_idx;
    TestValue   vals[TEST_MAX_VALUES];
    int         nvals;
    int         line, col;
} TestExpect;

typedef struct TestCase {
    const char *name;
    uint16_t    file;
    int         line;
    Day         asof;
    Vec         given;         /* TestGiven */
    Vec         expect;        /* TestExpect */
} TestCase;

struct RuleSet {
    Arena    arena;
    Vec      files;            /* RuleFile */
    Vec      nodes;            /* Node */
    Vec      args;             /* int32_t */
    Vec      defines;          /* Define */
    Vec      lists;            /* ListDef */
    Vec      refs;             /* RefDecl */
    Vec      tallies;          /* Tally */
    Vec      tests;            /* TestCase */
    Params   params;
    int      nmemo;            /* memoised definitions */
    int      nvars;            /* loop variables */
    int      maxdepth;         /* deepest scope */
    int      order[LIST_MAX];  /* evaluation order of the person lists (listed() first) */
    int      norder;
    char     version[65];
    /* checking */
    int      list_deps[LIST_MAX][LIST_MAX];   /* lists each list asks listed() about */
    int      nlist_deps[LIST_MAX];
    const Param *sym_param[256];              /* `name in $param` tests: which names are tested */
    const char  *sym_name[256];
    int      nsym;
    /* loading */
    Vec     *diags;
    int      nerrors;
    CbError *err;
};

#define RULE_MAX_DEPTH 8
#define RULE_MAX_VARS 16

static inline Node *
rnode(const RuleSet *rs, int i)
{
    return &((Node *) rs->nodes.data)[i];
}

static inline int32_t
rarg(const RuleSet *rs, const Node *n, int i)
{
    return ((int32_t *) rs->args.data)[n->args + i];
}

static inline ListDef *
rlist(const RuleSet *rs, int i)
{
    return &((ListDef *) rs->lists.data)[i];
}

static inline Define *
rdef(const RuleSet *rs, int i)
{
    return &((Define *) rs->defines.data)[i];
}

static inline RefDecl *
rref(const RuleSet *rs, int i)
{
    return &((RefDecl *) rs->refs.data)[i];
}

/* ------------------------------------------------------------------ runtime values */

/* Sixteen bytes, so that a value comes back from an evaluation in two registers (24 came back
 * through memory). */
typedef struct Val {
    union {
        int64_t     i;         /* BOOL, INT, MONEY (fen), durations, DATE (Day), MONTH, ENUM,
                                  FACT (index in the bundle), REF (row index) */
        double      d;         /* NUM */
        const char *s;         /* TEXT (not NUL-terminated), SET (struct Val array) */
    };
    uint32_t len;              /* TEXT: bytes; SET: elements */
    bool     none;
} Val;

/* reference data: one table per RefDecl */
typedef struct RefRow {
    const char **vals;         /* NULL for an empty field */
    uint64_t     record;
} RefRow;

typedef struct RefTable {
    uint32_t file;             /* Store.files index; UINT32_MAX in rule tests */
    Vec      rows;             /* RefRow */
} RefTable;

typedef struct RefData {
    RefTable *tables;          /* one per RefDecl */
    int       n;
    Arena     arena;
} RefData;

/* ------------------------------------------------------------------ internal API */

/* diagnostics (rules_check.c): records a problem; returns -1 for `return rdiag(...)` */
int  rdiag(RuleSet *rs, uint16_t file, int line, int col, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int  rdiag_at(RuleSet *rs, const char *where, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* rules.c: an empty rule set, and a file added to it (the unit tests drive the stages) */
RuleSet *rules_new(void);
uint16_t rules_add_file(RuleSet *rs, const char *path, const char *text);

/* rules_lex.c: tokens of one file into toks (Vec of Token); false after a lexical error */
bool rules_lex(RuleSet *rs, uint16_t file, Vec *toks);
const char *rules_token_text(const Token *t, char *buf, size_t n);

/* rules_parse.c: declarations of one file */
bool rules_parse(RuleSet *rs, uint16_t file, const Vec *toks);
int  rules_new_node(RuleSet *rs, NodeOp op, const Token *at);
int  rules_clone(RuleSet *rs, int node, const char *const *names, const int *subst, int nsubst);

/* rules_check.c: resolve and type everything; false when anything is wrong */
bool rules_check(RuleSet *rs);
const char *rules_type_name(RType t, char *buf, size_t n);
const char *const *rules_enum_values(RType t, int *n);
bool rules_kind_field(int kind, const char *name, int *slot, RType *type);

/* rules_ref.c: reference data */
bool rules_ref_read(const RuleSet *rs, Store *st, const char *dir, RefData *rd, CbError *err);
void rules_ref_init(const RuleSet *rs, RefData *rd);
void rules_ref_free(RefData *rd);

/* rules_eval.c: one evaluation context per run (or per explain / example case), reused for
 * every person: nothing in it is allocated per person. */
typedef struct TallyMap {
    const char **keys;
    int64_t     *counts;
    uint32_t     cap, n;
} TallyMap;

typedef struct EvalCtx {
    const RuleSet *rs;
    const Store   *st;
    const RefData *rd;
    Day            asof;
    /* the person */
    const Person  *p;
    const Fact    *f;
    uint32_t       nf;
    uint32_t       kbeg[FK_COUNT], kend[FK_COUNT];   /* facts of each kind: [kbeg, kend) */
    const void    *cur[RULE_MAX_DEPTH];             /* fact or reference row in each scope */
    Val            vars[RULE_MAX_VARS];
    bool           listed[LIST_MAX];
    /* memoised definitions: valid when memo_gen == gen */
    uint32_t       gen;
    uint32_t      *memo_gen, *memo_w0, *memo_wn;
    Val           *memo_val;
    /* evidence: a stack of the records that decided values so far (reset per person) */
    EvRef         *wit;
    uint32_t       nwit, capwit;
    int            nowit;                           /* > 0: inside a filter, record nothing */
    EvRef         *pool;                            /* definitions' evidence, for reuse */
    uint32_t       npool, cappool;
    Arena          scratch;                         /* texts and sets of the person (reset) */
    TextBuf        text;                            /* the person's name, household, address */
    PersonText     ptext;                           /* and phone, read back when first asked */
    const Person  *ptext_of;
    /* the row being built */
    int            li, ri;
    Val            colval[LIST_MAX_COLS];
    uint8_t        colstate[LIST_MAX_COLS];
    TallyMap      *tallies;
    ListSet       *out;
    uint64_t       evaluated;                       /* persons */
} EvalCtx;

void     rules_ctx_init(EvalCtx *c, const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *out);
void     rules_ctx_done(EvalCtx *c);
/* Starts a person (sets the bundle, resets per-person state). */
void     rules_ctx_person(EvalCtx *c, const Person *p);
/* Evaluates every person list for the person in c (rows go to c->out), then the tallies. */
void     rules_eval_person(EvalCtx *c);
/* After the person pass: the lists over reference rows, then sorting.  */
void     rules_eval_finish(EvalCtx *c);
/* Prepares ls for the rule set's lists (names, columns, arena). */
void     rules_lists_init(const RuleSet *rs, ListSet *ls);
/* The whole pass over a store. */
void     rules_eval_all(const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *ls, bool progress);
/* The same on up to `threads` threads (RULES_MAX_THREADS at most): the same lists whatever the
 * number. */
#define RULES_MAX_THREADS 16
void     rules_eval_all_threads(const RuleSet *rs, const Store *st, Day asof, const RefData *rd, ListSet *ls,
                                bool progress, int threads);
Val      rules_eval(EvalCtx *c, int node);
bool     rules_truthy(Val v);
/* Formats v of type t as output text into buf (always NUL-terminated). */
void     rules_format(const EvalCtx *c, RType t, Val v, char *buf, size_t n);
/* Evidence gathered since mark, deduplicated, into out (at most max). */
int      rules_witnesses(const EvalCtx *c, uint32_t mark, EvRef *out, int max);
/* Emits the rows of person list li for the person in c; returns how many. */
int      rules_emit_list(EvalCtx *c, int li);

/* month number helpers */
static inline int32_t
rmonth(int y, int m)
{
    return (int32_t) y * 12 + (m - 1);
}

#endif
