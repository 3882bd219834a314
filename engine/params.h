/*
 * params — the policy's parameters: rules/parameters.conf, read into typed values.
 *
 * One `name = value` per line, `#` starts a comment.  A value is
 *   a number with an optional unit:   16 years | 3 months | 10 days | 1200 yuan | 1200.50 yuan | 6000
 *   a quoted text:                    "222401"
 *   a list of names:                  disability, dibao, tekun     (one name is a list of one)
 * The file says nothing about which parameters exist: the rule files do.  The rule checker
 * (rules_check.c) reports a parameter the rules use but the file does not set, one the file
 * sets but no rule uses, and a value of the wrong type or unit for its use, each with the
 * file, line and column of the value.  Parsing here reports only what is wrong with the text
 * itself: the first problem, as "path:line:col: message" with a hint of what was expected.
 *
 * A Params owns its memory (params_free).  Names and texts are NUL-terminated.
 */
#ifndef CANBAO_PARAMS_H
#define CANBAO_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "cberror.h"

typedef enum { PARAM_NUMBER, PARAM_TEXT, PARAM_NAMES } ParamKind;
typedef enum { UNIT_NONE, UNIT_YEARS, UNIT_MONTHS, UNIT_DAYS, UNIT_YUAN } ParamUnit;

#define PARAM_MAX_NAMES 32

typedef struct Param {
    const char *name;
    ParamKind   kind;
    ParamUnit   unit;          /* PARAM_NUMBER */
    int64_t     value;         /* PARAM_NUMBER: whole number, or fen for yuan */
    const char *text;          /* PARAM_TEXT; for every kind: the value as written */
    int         nnames;        /* PARAM_NAMES */
    const char *names[PARAM_MAX_NAMES];
    int         name_col[PARAM_MAX_NAMES];
    int         line, col;     /* of the value */
    bool        used;          /* set by the rule checker */
} Param;

typedef struct Params {
    const char *path;
    Param      *items;
    int         n;
    Arena       arena;
} Params;

/* Parses text (a NUL-terminated parameters file named path).  On failure p is left empty (no
 * need to free) and err says where and why (CBERR_INPUT). */
bool         params_parse(const char *path, const char *text, Params *p, CbError *err);
/* Reads and parses the file at path (CBERR_IO when it cannot be read). */
bool         params_load(const char *path, Params *p, CbError *err);
void         params_free(Params *p);
/* The parameter called name (without '$'), or NULL. */
Param       *params_find(const Params *p, const char *name);
const char  *params_unit_name(ParamUnit u);

#endif
