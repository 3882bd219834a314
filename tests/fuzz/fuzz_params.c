/*
 * fuzz_params — the policy parameters file (engine/params.c, rules/parameters.conf).
 *
 * Input: the text of a parameters file (params_parse wants a C string: the input is copied
 * with a NUL after it, so an embedded NUL ends the text early, as it would from params_load).
 * Checked: a failure says why and where (the file named in the location) and, as params.h
 * promises, leaves nothing to free (LeakSanitizer); a success gives readable, NUL-terminated
 * names and values within their limits, each found again by params_find.
 *
 * Written for both shapes of params.h: the typed list of any parameters (Param items, with
 * params_free), and the older fixed struct of the engine's ten parameters.
 */
#include "fuzzlib.h"

#include "params.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    Params p;
    CbError err;
    memset(&err, 0, sizeof err);
    bool ok = params_parse("fuzz.conf", text, &p, &err);
    if (!ok) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
        fuzz_check_cstr(err.hint, sizeof err.hint, "CbError.hint");
        FUZZ_CHECK(err.message[0] != '\0', "params_parse failed without a message");
        if (fuzz_show())
            fprintf(stderr, "  %s: %s\n", err.input_at, err.message);
        FUZZ_CHECK(strstr(err.input_at, "fuzz.conf") != NULL, "error location \"%s\" does not name the file",
                   err.input_at);
#ifdef PARAM_MAX_NAMES
        /* "On failure p is left empty (no need to free)": not freed here, so a leak shows */
        FUZZ_CHECK(p.n == 0 || p.items == NULL, "failed parse left %d parameters", p.n);
#endif
        free(text);
        return 0;
    }
#ifdef PARAM_MAX_NAMES
    FUZZ_CHECK(p.n >= 0 && p.n <= 256, "%d parameters", p.n);
    for (int i = 0; i < p.n; i++) {
        const Param *pm = &p.items[i];
        fuzz_check_cstr(pm->name, 1100, "Param.name");
        FUZZ_CHECK(pm->name[0] != '\0', "parameter %d has an empty name", i);
        FUZZ_CHECK(pm->kind == PARAM_NUMBER || pm->kind == PARAM_TEXT || pm->kind == PARAM_NAMES,
                   "kind %d", (int) pm->kind);
        if (pm->text)
            fuzz_touch(pm->text, strlen(pm->text) + 1);
        if (pm->kind == PARAM_NUMBER) {
            FUZZ_CHECK(pm->value >= 0, "%s = %lld", pm->name, (long long) pm->value);
            fuzz_check_cstr(params_unit_name(pm->unit), 32, "params_unit_name");
        }
        if (pm->kind == PARAM_TEXT)
            FUZZ_CHECK(pm->text != NULL, "text parameter %s without text", pm->name);
        FUZZ_CHECK(pm->nnames >= 0 && pm->nnames <= PARAM_MAX_NAMES, "%d names", pm->nnames);
        for (int k = 0; k < pm->nnames; k++) {
            FUZZ_CHECK(pm->names[k] != NULL && pm->names[k][0] != '\0', "empty name %d in %s", k, pm->name);
            fuzz_touch(pm->names[k], strlen(pm->names[k]) + 1);
        }
        FUZZ_CHECK(pm->line >= 1 && pm->col >= 1, "%s at %d:%d", pm->name, pm->line, pm->col);
        FUZZ_CHECK(params_find(&p, pm->name) == pm, "params_find(\"%s\") is not parameter %d", pm->name, i);
    }
    params_free(&p);
#else
    fuzz_check_cstr(p.division, sizeof p.division, "Params.division");
    FUZZ_CHECK(p.min_age >= 0 && p.severe_disability >= 0 && p.employment_window >= 0 &&
                   p.absent_after >= 0 && p.flag_age >= 0 && p.funeral_expense >= 0 &&
                   p.funeral_months >= 0,
               "a negative parameter");
#endif
    free(text);
    return 0;
}
