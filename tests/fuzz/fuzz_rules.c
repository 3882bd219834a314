/*
 * fuzz_rules — rule files: lexing, parsing, checking against the fact catalogue and the
 * parameters, compiling, and running each file's example cases (engine/rules*.c through
 * rules_compile in engine/rules.h).
 *
 * Input: one or more files, each introduced by a line "%% <name>" (a name ending in .conf is
 * the parameters file); an input that does not start with "%% " is a single rule file
 * "fuzz.rules" checked against rules/parameters.conf of the tree.  Example:
 *     %% unenrolled.rules
 *     list unenrolled_eligible "应参未参"
 *       where register.active and age(asof) >= $min_age
 *     %% parameters.conf
 *     min_age = 16 years
 * Checked: a failure says why and where (err and every RuleDiag NUL-terminated, at least one
 * diagnostic); a success has a 64-hex-digit version and sane counts, runs its example cases,
 * and rules_free releases everything (LeakSanitizer).
 */
#include "fuzzlib.h"

#include "rules.h"

#define MAX_FILES 16

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

static char *default_params;
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    devnull = fopen("/dev/null", "w");
    FILE *f = fopen(FUZZ_ROOT "/rules/parameters.conf", "rb");
    default_params = calloc(1, 65537);
    if (f != NULL) {
        size_t n = fread(default_params, 1, 65536, f);
        default_params[n] = '\0';
        fclose(f);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);   /* split in place: every file NUL-terminated */
    RuleSource files[MAX_FILES];
    int n = 0;
    const char *params_path = FUZZ_ROOT "/rules/parameters.conf";
    const char *params_text = default_params;
    if (strncmp(text, "%% ", 3) != 0) {
        files[n++] = (RuleSource){.path = "fuzz.rules", .text = text};
    } else {
        char *p = text;
        while (p != NULL && strncmp(p, "%% ", 3) == 0) {
            char *name = p + 3;
            char *nl = strchr(name, '\n');
            char *body = nl ? nl + 1 : name + strlen(name);
            if (nl)
                *nl = '\0';
            /* the body runs to the next line that starts with "%% " */
            char *next = body;
            char *stop = NULL;
            while ((next = strstr(next, "\n%% ")) != NULL) {
                stop = next;
                break;
            }
            if (stop) {
                *stop = '\0';
                p = stop + 1;
            } else {
                p = NULL;
            }
            size_t nlen = strlen(name);
            if (nlen >= 5 && strcmp(name + nlen - 5, ".conf") == 0) {
                params_path = name;
                params_text = body;
            } else if (n < MAX_FILES) {
                files[n++] = (RuleSource){.path = name, .text = body};
            }
        }
    }

    CbError err;
    memset(&err, 0, sizeof err);
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSet *rs = rules_compile(files, n, params_path, params_text, &err, &diags);
    if (rs == NULL) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
        FUZZ_CHECK(err.message[0] != '\0', "rules_compile failed without a message");
        FUZZ_CHECK(diags.len > 0, "rules_compile failed without a diagnostic");
        for (size_t i = 0; i < diags.len; i++) {
            const RuleDiag *d = &VEC_AT(&diags, RuleDiag, i);
            fuzz_check_cstr(d->where, sizeof d->where, "RuleDiag.where");
            fuzz_check_cstr(d->message, sizeof d->message, "RuleDiag.message");
            fuzz_check_cstr(d->hint, sizeof d->hint, "RuleDiag.hint");
            if (fuzz_show())
                fprintf(stderr, "  %s: %s\n", d->where, d->message);
        }
    } else {
        const char *v = rules_version(rs);
        FUZZ_CHECK(v != NULL && strlen(v) == 64 && strspn(v, "0123456789abcdef") == 64,
                   "rules_version \"%s\"", v ? v : "(null)");
        RuleStats st = rules_stats(rs);
        FUZZ_CHECK(st.files == n && st.lists >= 0 && st.defines >= 0 && st.params >= 0 &&
                       st.references >= 0 && st.tests >= 0,
                   "rules_stats: %d files (given %d), %d lists", st.files, n, st.lists);
        int passed = 0;
        int failed = rules_run_tests(rs, devnull, &passed);
        FUZZ_CHECK(failed >= 0 && passed >= 0, "rules_run_tests: %d failed, %d passed", failed, passed);
        if (fuzz_show())
            fprintf(stderr, "  compiled: %d lists, %d tests (%d passed, %d failed)\n", st.lists,
                    st.tests, passed, failed);
        rules_free(rs);
    }
    vec_free(&diags);
    free(text);
    return 0;
}
