/*
 * params — the policy's parameters, from rules/parameters.conf.
 *
 * `name = value unit` lines; units are checked (years, months, yuan), lists are comma-separated.
 * Every parameter the engine needs must be present and every line must be one it knows: a
 * missing, unknown or ill-typed parameter is an error with file, line and column.
 */
#ifndef CANBAO_PARAMS_H
#define CANBAO_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "cberror.h"

typedef struct Params {
    char     division[16];
    int      min_age;              /* years */
    bool     gov_disability, gov_dibao, gov_tekun, gov_poor;
    int      severe_disability;    /* max grade */
    int      employment_window;    /* months */
    int      absent_after;         /* months */
    int      flag_age;             /* years */
    unsigned authoritative;        /* bit per Evidence */
    int64_t  funeral_expense;      /* fen */
    int      funeral_months;
} Params;

bool params_load(const char *path, Params *p, CbError *err);
bool params_parse(const char *path, const char *text, Params *p, CbError *err);

#endif
