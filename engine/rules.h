/*
 * rules — the policy as rule files: parsed, checked, compiled once, evaluated per person.
 *
 * A rule set is a folder: every `*.rules` file in it (in byte order of the file names) and
 * `parameters.conf`.  rules_load reads them, parses each file (rules_parse.c), checks names,
 * types and units against the fact catalogue (factkind.h) and the parameters
 * (rules_check.c), and leaves an immutable compiled form: expression trees in arrays, names
 * resolved to slots, parameters folded to constants.  Nothing of a rule set is half-loaded:
 * either every file is valid and the whole set compiles, or rules_load fails and lists every
 * problem it found ("file:line:col: message", with a hint of what was expected).
 *
 * rules_evaluate walks the grouped store person by person and evaluates every list of the set
 * with one reusable evaluation context (no allocation per person; output rows are allocated in
 * the ListSet).  Lists over reference data (township_staffing) are evaluated after the person
 * pass from per-person tallies.  The language is described in rules/README.md.
 *
 * A RuleSet is read-only after loading and owned by the caller (rules_free).
 */
#ifndef CANBAO_RULES_H
#define CANBAO_RULES_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "cberror.h"
#include "date.h"
#include "lists.h"
#include "store.h"

typedef struct RuleSet RuleSet;

/* One problem found while loading a rule set. */
typedef struct RuleDiag {
    char where[600];      /* "path:line:col" (or "path" when the whole file is meant) */
    char message[600];
    char hint[600];       /* what was expected; may be empty */
} RuleDiag;

/* A rule file given as text (tests, and rules_load itself). */
typedef struct RuleSource {
    const char *path;     /* as shown in messages */
    const char *text;     /* NUL-terminated */
} RuleSource;

/*
 * rules_load
 *     Loads the rule set in dir.  Returns NULL on any problem: err holds the first one
 *     (CBERR_INPUT for a problem in the files, CBERR_IO when the folder or a file cannot be
 *     read) and, when diags is not NULL, every problem is appended to it (a Vec of RuleDiag
 *     the caller initialises and frees).
 */
RuleSet    *rules_load(const char *dir, CbError *err, Vec *diags);

/* The same from texts: files[0..n) and the parameters file's text (params_path for messages). */
RuleSet    *rules_compile(const RuleSource *files, int n, const char *params_path,
                          const char *params_text, CbError *err, Vec *diags);

void        rules_free(RuleSet *rs);

/* SHA-256 (hex) over the rule files (name and bytes, in file-name order), then parameters.conf. */
const char *rules_version(const RuleSet *rs);

/* A parameter's value as written in parameters.conf (the text of a quoted value, e.g.
 * city_division -> "222401"), or NULL when the rule set has no such parameter. */
const char *rules_param_text(const RuleSet *rs, const char *name);

/* Counts for a summary line. */
typedef struct RuleStats {
    int files, lists, defines, params, references, tests;
} RuleStats;
RuleStats   rules_stats(const RuleSet *rs);

/*
 * rules_evaluate
 *     Evaluates every list for the grouped store st on asof.  Reference data the rules declare
 *     is read from refdir (the delivery folder) with the CSV reader and recorded in st->files
 *     (and its bad rows in st->rejects), so that rows can cite its records.  Fills ls (the
 *     caller frees it with lists_free, also on failure).  *seconds, when not NULL, receives the
 *     time spent evaluating (reading reference data excluded).  The persons are shared out
 *     among `threads` threads (1: the caller's alone); the lists do not depend on the number.
 *     When the facts are on disk (store_spill_plan made several passes), the passes are
 *     loaded one by one, each person evaluated in the pass that holds its facts, and the lists
 *     are the same as in one pass.  on_pass, when not NULL, is called after each pass with the
 *     pass's facts still in memory (store_in_pass tells whose they are).
 */
typedef void (*RulesPassFn)(void *arg, const Store *st);
bool        rules_evaluate(const RuleSet *rs, Store *st, Day asof, const char *refdir, ListSet *ls,
                           int threads, double *seconds, RulesPassFn on_pass, void *arg, CbError *err);

/*
 * rules_check_history
 *     Checks that every aggregate over the kind of a source with history = latest (sourcedef.h)
 *     is answered the same by the facts such a source keeps (rules_history.c says which are).
 *     Fails with the first that is not: its rule file position, the source, and a hint.
 */
struct SourceDef;
bool        rules_check_history(const RuleSet *rs, const struct SourceDef *defs, int ndefs, CbError *err);

/*
 * rules_run_tests
 *     Runs the example cases of every rule file; prints one line per case (and what differed)
 *     to out.  Returns the number of failed cases; *passed receives the number that passed.
 */
int         rules_run_tests(const RuleSet *rs, FILE *out, int *passed);

/*
 * rules_explain
 *     Prints why person p is or is not on each list on asof: the register entry, every fact
 *     with its file and record, the value of each definition, and per list the conditions
 *     with their values and the one that decided.  Reference data is read from refdir.
 */
bool        rules_explain(const RuleSet *rs, Store *st, const Person *p, Day asof, const char *refdir,
                          FILE *out, CbError *err);

#endif
