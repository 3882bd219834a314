/*
 * cmd_rules — `canbao rules check [DIR]`, `canbao rules test [DIR]` and
 * `canbao explain ID --asof D --extracts DIR`.
 *
 * check: loads the rule set (parse, check, compile) and prints every problem as
 *   path:line:col: message  (and the hint), exit 3 when there is any; else a summary, exit 0.
 * test: runs the example cases of the rule files; exit 1 when one fails.
 * explain: reads the delivery itself (no database), finds the person and prints why they are
 *   or are not on each list.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_rules.h"
#include "idnum.h"
#include "load.h"
#include "log.h"
#include "rules.h"
#include "run.h"
#include "sourcedef.h"
#include "store.h"

static const char *usage_rules =
    "Usage: canbao rules check [DIR] [--connectors DIR] [--home DIR]\n"
    "       canbao rules test [DIR] [--home DIR]\n"
    "\n"
    "check  parses and checks the rule set in DIR (default: the rules folder of the\n"
    "       installation): every *.rules file and parameters.conf.  Prints each problem as\n"
    "       file:line:column: message, with a hint of what was expected; exit code 3 when\n"
    "       there is one, 0 when the set is valid (with its version, the SHA-256 of the files).\n"
    "       The source definitions (--connectors, default: those of the installation) are\n"
    "       checked with it: a source that keeps only its latest records (history = latest)\n"
    "       must be enough for every rule about its kind.\n"
    "test   runs the example cases written in the rule files (test \"...\" asof D given ...\n"
    "       expect ...); exit code 1 when one fails.\n";

static const char *usage_explain =
    "Usage: canbao explain ID --asof YYYY-MM-DD --extracts DIR [--rules DIR]\n"
    "                      [--connectors DIR] [--home DIR] [--db CONNINFO]\n"
    "\n"
    "Reads the delivery in DIR (as `canbao run` would, without a database), then prints the\n"
    "person's register entry, every fact with the file and record it came from, the value of\n"
    "each definition, and for each list the conditions with their values and the one that\n"
    "decided.  --db is accepted for symmetry with run and not used.\n";

/* the installation's folder: --home, CANBAO_HOME, or the folder above the binary */
static void
home_dir(const char *given, char *out, size_t n)
{
    const char *env = getenv("CANBAO_HOME");
    if (given) {
        snprintf(out, n, "%s", given);
        return;
    }
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    snprintf(out, n, "/usr/share/canbao");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return;
    exe[len] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return;
        *slash = '\0';
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/rules", exe);
        if (access(probe, R_OK) == 0) {
            snprintf(out, n, "%s", exe);
            return;
        }
        snprintf(probe, sizeof probe, "%s/share/canbao/rules", exe);
        if (access(probe, R_OK) == 0) {
            snprintf(out, n, "%s/share/canbao", exe);
            return;
        }
    }
}

static void
print_diags(const Vec *diags)
{
    const RuleDiag *d = diags->data;
    for (size_t i = 0; i < diags->len; i++) {
        fprintf(stderr, "%s: %s\n", d[i].where, d[i].message);
        if (d[i].hint[0])
            fprintf(stderr, "  hint: %s\n", d[i].hint);
    }
}

int
cmd_rules(int argc, char **argv)
{
    const char *home = NULL, *dir = NULL, *sub = NULL, *conn = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_rules, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            home = argv[++i];
        } else if (strcmp(argv[i], "--connectors") == 0 && i + 1 < argc) {
            conn = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "canbao: unknown or incomplete option %s\n\n%s", argv[i], usage_rules);
            return EXIT_USAGE;
        } else if (sub == NULL) {
            sub = argv[i];
        } else if (dir == NULL) {
            dir = argv[i];
        } else {
            fprintf(stderr, "canbao: too many arguments (%s)\n\n%s", argv[i], usage_rules);
            return EXIT_USAGE;
        }
    }
    if (sub == NULL || (strcmp(sub, "check") != 0 && strcmp(sub, "test") != 0)) {
        fprintf(stderr, "canbao: rules needs check or test\n\n%s", usage_rules);
        return EXIT_USAGE;
    }
    char rules_dir[PATH_MAX + 16], conn_dir[PATH_MAX + 32], h[PATH_MAX];
    home_dir(home, h, sizeof h);
    if (dir)
        snprintf(rules_dir, sizeof rules_dir, "%s", dir);
    else
        snprintf(rules_dir, sizeof rules_dir, "%s/rules", h);
    if (conn)
        snprintf(conn_dir, sizeof conn_dir, "%s", conn);
    else
        snprintf(conn_dir, sizeof conn_dir, "%s/connectors/agencies", h);
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    CbError err = {0};
    RuleSet *rs = rules_load(rules_dir, &err, &diags);
    if (rs == NULL) {
        if (diags.len == 0)
            cb_error_print(&err);
        else
            print_diags(&diags);
        size_t n = diags.len ? diags.len : 1;
        fprintf(stderr, "canbao: rule set %s has %zu problem%s; nothing was run\n", rules_dir, n, n == 1 ? "" : "s");
        vec_free(&diags);
        return run_exit_code(&err) == EXIT_OK ? EXIT_INPUT : run_exit_code(&err);
    }
    vec_free(&diags);
    int rc = EXIT_OK;
    RuleStats s = rules_stats(rs);
    if (strcmp(sub, "check") == 0 && (conn != NULL || access(conn_dir, R_OK) == 0)) {
        SourceDef *defs = NULL;
        int ndefs = 0;
        bool ok = sourcedefs_load_dir(conn_dir, &defs, &ndefs, &err) && rules_check_history(rs, defs, ndefs, &err);
        if (defs)
            sourcedefs_free(defs, ndefs);
        if (!ok) {
            cb_error_print(&err);
            fprintf(stderr, "canbao: rule set %s does not fit the sources in %s; nothing was run\n", rules_dir, conn_dir);
            rules_free(rs);
            return run_exit_code(&err) == EXIT_OK ? EXIT_INPUT : run_exit_code(&err);
        }
    }
    if (strcmp(sub, "check") == 0) {
        printf("canbao: rule set %s is valid: %d files, %d lists, %d definitions, %d references, "
               "%d parameters, %d example cases\n", rules_dir, s.files, s.lists, s.defines, s.references, s.params,
               s.tests);
        printf("rule set version (sha256): %s\n", rules_version(rs));
    } else {
        int passed = 0;
        int failed = rules_run_tests(rs, stdout, &passed);
        printf("%d example cases: %d passed, %d failed\n", passed + failed, passed, failed);
        rc = failed ? EXIT_FAILURE_OTHER : EXIT_OK;
    }
    rules_free(rs);
    return rc;
}

enum { X_ASOF = 256, X_EXTRACTS, X_RULES, X_CONNECTORS, X_HOME, X_DB, X_HELP };

int
cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"asof", required_argument, NULL, X_ASOF},
        {"extracts", required_argument, NULL, X_EXTRACTS},
        {"rules", required_argument, NULL, X_RULES},
        {"connectors", required_argument, NULL, X_CONNECTORS},
        {"home", required_argument, NULL, X_HOME},
        {"db", required_argument, NULL, X_DB},
        {"help", no_argument, NULL, X_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *asof_s = NULL, *extracts = NULL, *rules_opt = NULL, *conn_opt = NULL, *home = NULL, *id = NULL;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case X_ASOF: asof_s = optarg; break;
        case X_EXTRACTS: extracts = optarg; break;
        case X_RULES: rules_opt = optarg; break;
        case X_CONNECTORS: conn_opt = optarg; break;
        case X_HOME: home = optarg; break;
        case X_DB: break;
        case 'h':
        case X_HELP: fputs(usage_explain, stdout); return EXIT_OK;
        default:
            fprintf(stderr, "canbao: unknown or incomplete option %s\n\n%s", argv[optind - 1], usage_explain);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        id = argv[optind++];
    if (optind < argc || id == NULL || asof_s == NULL || extracts == NULL) {
        fprintf(stderr, "canbao: explain needs an ID number, --asof and --extracts\n\n%s", usage_explain);
        return EXIT_USAGE;
    }
    Day asof = date_parse(asof_s, strlen(asof_s));
    if (asof == DAY_NONE || strlen(asof_s) != 10 || asof_s[4] != '-') {
        fprintf(stderr, "canbao: --asof %s is not a date of the form YYYY-MM-DD\n\n%s", asof_s, usage_explain);
        return EXIT_USAGE;
    }
    char idn[19];
    IdnumStatus is = idnum_normalise(id, strlen(id), idn);
    if (is != IDNUM_OK) {
        fprintf(stderr, "canbao: invalid ID number \"%s\": %s\n", id, idnum_status_text(is));
        return EXIT_USAGE;
    }
    char h[PATH_MAX], rules_dir[PATH_MAX + 16], conn_dir[PATH_MAX + 32];
    home_dir(home, h, sizeof h);
    snprintf(rules_dir, sizeof rules_dir, "%s", rules_opt ? rules_opt : "");
    if (!rules_opt)
        snprintf(rules_dir, sizeof rules_dir, "%s/rules", h);
    snprintf(conn_dir, sizeof conn_dir, "%s", conn_opt ? conn_opt : "");
    if (!conn_opt)
        snprintf(conn_dir, sizeof conn_dir, "%s/connectors/agencies", h);

    CbError err = {0};
    int rc = EXIT_OK;
    SourceDef *defs = NULL;
    int ndefs = 0;
    Store st;
    LoadReport rep;
    store_init(&st);
    memset(&rep, 0, sizeof rep);
    /* the night's memory budget (CANBAO_MEMORY): past it, only the person's part of the facts */
    RunOptions mo = {0};
    const char *mem = getenv("CANBAO_MEMORY");
    if (mem && *mem && !run_parse_size(mem, &mo.memory)) {
        fprintf(stderr, "canbao: CANBAO_MEMORY=%s is not a size of at least 1M (MB, or with M or G)\n", mem);
        return EXIT_USAGE;
    }
    st.facts_budget = run_memory(&mo) / 4;
    RuleSet *rs = rules_load(rules_dir, &err, NULL);
    if (rs == NULL || !sourcedefs_load_dir(conn_dir, &defs, &ndefs, &err) ||
        !rules_check_history(rs, defs, ndefs, &err) ||
        !load_delivery_asof(&st, defs, ndefs, extracts, true, 0, asof, &rep, &err) ||
        store_spill_plan(&st, 1) < 1 || !store_spill_load(&st, store_pass_of(&st, idnum_key(idn)), 1, &err) ||
        !store_spill_ok(&st, &err)) {
        cb_error_print(&err);
        rc = run_exit_code(&err);
        goto done;
    }
    const Person *p = store_person(&st, idnum_key(idn));
    if (p == NULL) {
        fprintf(stderr, "canbao: %s is not on the household register of this delivery (%zu persons)\n", idn,
                st.persons.len);
        rc = EXIT_INPUT;
        goto done;
    }
    if (!rules_explain(rs, &st, p, asof, extracts, stdout, &err)) {
        cb_error_print(&err);
        rc = run_exit_code(&err);
    }
done:
    rules_free(rs);
    store_free(&st);
    load_report_free(&rep);
    if (defs)
        sourcedefs_free(defs, ndefs);
    return rc;
}
