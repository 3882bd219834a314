/*
 * main — the canbao command: argument parsing and exit codes, nothing else.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_rules.h"
#include "db.h"
#include "identity.h"
#include "log.h"
#include "run.h"
#include "secout.h"
#include "version.h"

static const char *usage_main =
    "canbao — nightly interagency data matching for the resident pension (Yanji)\n"
    "\n"
    "Usage: canbao COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  run              read a night's delivery, link, apply the policy, publish the lists\n"
    "  check-extracts   read and check a delivery without a database; counts per file\n"
    "  db migrate       create or update the PostgreSQL schema\n"
    "  runs             the ledger: recent runs, their state and summary\n"
    "  status           what the last run did (exit 0 only when it succeeded)\n"
    "  feedback FILE    record a township's answers from its returned workbook\n"
    "  ack FILE         import the pension system's acknowledgement of suspension alerts\n"
    "  review           record a reviewer's decision about an uncertain identity link\n"
    "  explain-match    how one record was linked: candidates, comparison levels, weights\n"
    "  rules check|test check the rule files, or run the example cases they carry\n"
    "  explain ID       why a person is or is not on each list (reads the delivery itself)\n"
    "  verify, decrypt  a township package: check its signature, decrypt its files\n"
    "  package          township packages (encrypted, signed) of a night that ran without them\n"
    "  pseudonymise     statistics of a run with HMAC tokens instead of ID numbers\n"
    "\n"
    "Options for every command: --help, and before the command: --version, --quiet\n"
    "Database: --db CONNINFO (a libpq conninfo string or URI), else the PG* environment\n"
    "variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSFILE, PGSSLMODE ...).\n"
    "Files: --home DIR (or CANBAO_HOME) holds connectors/, rules/ and schema/; by default the\n"
    "folder above the canbao binary, then /usr/share/canbao.\n"
    "\n"
    "Exit codes: 0 success; 1 other failure; 2 bad usage; 3 bad input (extract, connector\n"
    "definition, parameter or rule file, required source missing); 4 database error;\n"
    "5 another run holds the lock; 6 output could not be written; 7 stopped by SIGTERM or\n"
    "SIGINT (nothing published).\n";

static const char *usage_run =
    "Usage: canbao run --asof YYYY-MM-DD --extracts DIR --out DIR [--db CONNINFO]\n"
    "                  [--home DIR] [--connectors DIR] [--rules DIR] [--state DIR] [--dry-run]\n"
    "                  [--threads N] [--memory SIZE]\n"
    "                  [--package-key FILE [--sign-key FILE] [--package-cipher NAME]]\n"
    "                  [--pseudonym-key FILE [--pseudonym-alg sha256|sm3]]\n"
    "\n"
    "Reads every file of the delivery in DIR that a connector definition claims, links the\n"
    "records to the household register, computes the lists for the as-of date, stores them in\n"
    "PostgreSQL in one transaction and then publishes the files: --out becomes a link to the\n"
    "run's release folder (<out>.releases/<date>_run<id>/, with SHA256SUMS), switched in one\n"
    "step.  --state DIR (or CANBAO_STATE; default <out>.state) keeps the last good delivery of\n"
    "optional sources.  --dry-run does everything but the database writes and the publication,\n"
    "and says what it would publish.\n"
    "\n"
    "--memory SIZE (or CANBAO_MEMORY; 2048M, 8G; default three quarters of the machine's memory):\n"
    "the facts in memory are kept to a quarter of it (the rest is for the register, the reading\n"
    "and the lists); past that they go to files in TMPDIR, by person, and the rules take them\n"
    "back a part at a time.  The lists are the same.\n"
    "\n"
    "Settings: CANBAO_DB_CONNECT_ATTEMPTS (5), CANBAO_DB_CONNECT_DELAY (2 s, doubling),\n"
    "CANBAO_KEEP_RELEASES (7).  SIGTERM / SIGINT stop the run at a safe point (exit code 7).\n"
    "\n"
    "With --package-key, every township's workbook and CSV also go into an encrypted package in\n"
    "the release, township_<code>_<YYYYMMDD>.cbpkg (AES-256-GCM; --package-cipher sm4 for the\n"
    "national algorithm), signed with --sign-key (an EC P-256 or SM2 private key: .cbpkg.sig).\n"
    "With --pseudonym-key, the run's statistics are written with HMAC tokens instead of ID\n"
    "numbers (canbao.analytics_rows).  Key files: 64 hex digits (openssl rand -hex 32).  Or in\n"
    "the environment: CANBAO_PACKAGE_KEY, CANBAO_SIGN_KEY, CANBAO_PACKAGE_CIPHER,\n"
    "CANBAO_PSEUDONYM_KEY, CANBAO_PSEUDONYM_ALG.\n";

static const char *usage_check =
    "Usage: canbao check-extracts DIR [--home DIR] [--connectors DIR] [--threads N]\n"
    "\n"
    "Reads every file of the delivery in DIR through its connector definition and prints, per\n"
    "file, records read / accepted / duplicates / rejected and the first rejects.  Needs no\n"
    "database.  Exit code 3 when a file cannot be read at all.\n";

static const char *usage_db =
    "Usage: canbao db migrate [--db CONNINFO] [--home DIR]\n"
    "\n"
    "Applies the migrations in schema/ that the database does not have yet, in order, each in\n"
    "one transaction; records them in canbao.schema_migrations.  Running it again does nothing.\n";

typedef struct Paths {
    char home[PATH_MAX];
    char connectors[PATH_MAX];
    char rules[PATH_MAX];
    char schema[PATH_MAX];
} Paths;

static bool
has_schema(const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/schema", dir);
    return access(p, R_OK) == 0;
}

static void
resolve_home(const char *given, Paths *p)
{
    const char *env = getenv("CANBAO_HOME");
    if (given) {
        snprintf(p->home, sizeof p->home, "%s", given);
    } else if (env && *env) {
        snprintf(p->home, sizeof p->home, "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        snprintf(p->home, sizeof p->home, "/usr/share/canbao");
        if (n > 0) {
            exe[n] = '\0';
            /* build/canbao → the checkout; bin/canbao → ../share/canbao */
            for (int up = 0; up < 2; up++) {
                char *slash = strrchr(exe, '/');
                if (slash == NULL)
                    break;
                *slash = '\0';
                if (has_schema(exe)) {
                    snprintf(p->home, sizeof p->home, "%s", exe);
                    break;
                }
                char share[PATH_MAX + 32];
                snprintf(share, sizeof share, "%s/share/canbao", exe);
                if (has_schema(share)) {
                    snprintf(p->home, sizeof p->home, "%s", share);
                    break;
                }
            }
        }
    }
    snprintf(p->connectors, sizeof p->connectors, "%s/connectors/agencies", p->home);
    snprintf(p->rules, sizeof p->rules, "%s/rules", p->home);
    snprintf(p->schema, sizeof p->schema, "%s/schema", p->home);
}

static int
usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "canbao: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

enum { OPT_ASOF = 256, OPT_EXTRACTS, OPT_OUT, OPT_DB, OPT_HOME, OPT_CONNECTORS, OPT_RULES, OPT_HELP,
       OPT_STATE, OPT_DRY_RUN,
       OPT_PKEY, OPT_SKEY, OPT_CIPHER, OPT_YKEY, OPT_YALG, OPT_THREADS, OPT_MEMORY };

static const struct option long_opts[] = {
    {"asof", required_argument, NULL, OPT_ASOF},
    {"extracts", required_argument, NULL, OPT_EXTRACTS},
    {"out", required_argument, NULL, OPT_OUT},
    {"db", required_argument, NULL, OPT_DB},
    {"home", required_argument, NULL, OPT_HOME},
    {"connectors", required_argument, NULL, OPT_CONNECTORS},
    {"rules", required_argument, NULL, OPT_RULES},
    {"help", no_argument, NULL, OPT_HELP},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"state", required_argument, NULL, OPT_STATE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"package-key", required_argument, NULL, OPT_PKEY},
    {"sign-key", required_argument, NULL, OPT_SKEY},
    {"package-cipher", required_argument, NULL, OPT_CIPHER},
    {"pseudonym-key", required_argument, NULL, OPT_YKEY},
    {"pseudonym-alg", required_argument, NULL, OPT_YALG},
    {NULL, 0, NULL, 0},
};

typedef struct Args {
    const char *asof, *extracts, *out, *db, *home, *connectors, *rules, *state;
    bool help, dry_run;
    SecOutArgs sec;
    int threads;              /* --threads: reader threads, 0 = one per online CPU */
    const char *memory;       /* --memory SIZE */
    int npos;
    const char *pos[4];
} Args;

static int
parse_args(int argc, char **argv, const char *usage, Args *a)
{
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_ASOF: a->asof = optarg; break;
        case OPT_EXTRACTS: a->extracts = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_DB: a->db = optarg; break;
        case OPT_HOME: a->home = optarg; break;
        case OPT_CONNECTORS: a->connectors = optarg; break;
        case OPT_RULES: a->rules = optarg; break;
        case OPT_STATE: a->state = optarg; break;
        case OPT_DRY_RUN: a->dry_run = true; break;
        case OPT_PKEY: a->sec.package_key = optarg; break;
        case OPT_SKEY: a->sec.sign_key = optarg; break;
        case OPT_CIPHER: a->sec.cipher = optarg; break;
        case OPT_YKEY: a->sec.pseudonym_key = optarg; break;
        case OPT_YALG: a->sec.pseudonym_alg = optarg; break;
        case 'h':
        case OPT_HELP: a->help = true; break;
        case OPT_MEMORY: a->memory = optarg; break;
        case OPT_THREADS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 1 || n > 256)
                return usage_error(usage, "--threads %s is not a number from 1 to 256", optarg);
            a->threads = (int) n;
            break;
        }
        default:
            return usage_error(usage, "unknown or incomplete option %s", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->npos == 4)
            return usage_error(usage, "too many arguments (%s)", argv[i]);
        a->pos[a->npos++] = argv[i];
    }
    return EXIT_OK;
}

static int
finish(bool ok, const CbError *err)
{
    if (ok)
        return EXIT_OK;
    cb_error_print(err);
    return run_exit_code(err);
}

static void
fill_options(const Args *a, const Paths *p, RunOptions *o)
{
    memset(o, 0, sizeof *o);
    o->conninfo = a->db;
    o->connectors_dir = a->connectors ? a->connectors : p->connectors;
    o->rules_dir = a->rules ? a->rules : p->rules;
    o->schema_dir = p->schema;
    o->threads = a->threads;
}

static int
cmd_run(int argc, char **argv)
{
    Args a;
    int rc = parse_args(argc, argv, usage_run, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_run, stdout);
        return EXIT_OK;
    }
    if (a.npos > 0)
        return usage_error(usage_run, "unexpected argument %s", a.pos[0]);
    if (!a.asof || !a.extracts || !a.out)
        return usage_error(usage_run, "%s", "run needs --asof, --extracts and --out");
    Paths p;
    resolve_home(a.home, &p);
    RunOptions o;
    fill_options(&a, &p, &o);
    o.asof = date_parse(a.asof, strlen(a.asof));
    if (o.asof == DAY_NONE || strlen(a.asof) != 10 || a.asof[4] != '-')
        return usage_error(usage_run, "--asof %s is not a date of the form YYYY-MM-DD", a.asof);
    o.extracts_dir = a.extracts;
    o.out_dir = a.out;
    o.state_dir = a.state ? a.state : getenv("CANBAO_STATE");
    if (o.state_dir && !*o.state_dir)
        o.state_dir = NULL;
    o.dry_run = a.dry_run;
    const char *mem = a.memory ? a.memory : getenv("CANBAO_MEMORY");
    if (mem && *mem && !run_parse_size(mem, &o.memory))
        return usage_error(usage_run, a.memory ? "--memory %s is not a size of at least 1M (MB, or with M or G)"
                                               : "CANBAO_MEMORY=%s is not a size of at least 1M (MB, or with M or G)",
                           mem);
    CbError err = {0};
    /* packages and pseudonyms: keys checked before the run; packages go into the release,
     * statistics are written after the run */
    SecOut sec;
    if (!secout_load(&sec, &a.sec, &err))
        return finish(false, &err);
    o.secout = sec.packages ? &sec : NULL;
    bool ok = run_nightly(&o, &err) && (o.dry_run || secout_after_run(&sec, o.conninfo, o.asof, &err));
    secout_free(&sec);
    return finish(ok, &err);
}

static int
cmd_check(int argc, char **argv)
{
    Args a;
    int rc = parse_args(argc, argv, usage_check, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_check, stdout);
        return EXIT_OK;
    }
    if (a.npos != 1)
        return usage_error(usage_check, "%s", "check-extracts needs one folder");
    Paths p;
    resolve_home(a.home, &p);
    RunOptions o;
    fill_options(&a, &p, &o);
    o.extracts_dir = a.pos[0];
    CbError err = {0};
    return finish(run_check_extracts(&o, &err), &err);
}

static int
cmd_db(int argc, char **argv)
{
    Args a;
    int rc = parse_args(argc, argv, usage_db, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_db, stdout);
        return EXIT_OK;
    }
    if (a.npos != 1 || strcmp(a.pos[0], "migrate") != 0)
        return usage_error(usage_db, "%s", "unknown db subcommand (expected: db migrate)");
    Paths p;
    resolve_home(a.home, &p);
    CbError err = {0};
    PGconn *conn = db_connect(a.db, &err);
    if (conn == NULL)
        return finish(false, &err);
    int applied = 0;
    bool ok = db_migrate(conn, p.schema, &applied, &err);
    db_close(conn);
    if (ok)
        printf("canbao: schema up to date (%d migration%s applied now)\n", applied,
               applied == 1 ? "" : "s");
    return finish(ok, &err);
}

int
main(int argc, char **argv)
{
    bool quiet = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("canbao %s\n", CANBAO_VERSION);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_main, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else {
            return usage_error(usage_main, "unknown option %s", argv[i]);
        }
    }
    log_init(quiet);
    if (i >= argc)
        return usage_error(usage_main, "%s", "no command given");
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "run") == 0)
        return cmd_run(sub_argc, sub_argv);
    if (strcmp(cmd, "check-extracts") == 0)
        return cmd_check(sub_argc, sub_argv);
    if (strcmp(cmd, "db") == 0)
        return cmd_db(sub_argc, sub_argv);
    if (strcmp(cmd, "runs") == 0)
        return cmd_runs(sub_argc, sub_argv);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(sub_argc, sub_argv);
    if (strcmp(cmd, "feedback") == 0)
        return cmd_feedback(sub_argc, sub_argv);
    if (strcmp(cmd, "ack") == 0)
        return cmd_ack(sub_argc, sub_argv);
    if (strcmp(cmd, "review") == 0)
        return identity_cmd_review(sub_argc, sub_argv);
    if (strcmp(cmd, "explain-match") == 0)
        return identity_cmd_explain(sub_argc, sub_argv);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(sub_argc, sub_argv);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(sub_argc, sub_argv);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(sub_argc, sub_argv);
    if (strcmp(cmd, "decrypt") == 0)
        return cmd_decrypt(sub_argc, sub_argv);
    if (strcmp(cmd, "package") == 0)
        return cmd_package(sub_argc, sub_argv);
    if (strcmp(cmd, "pseudonymise") == 0)
        return cmd_pseudonymise(sub_argc, sub_argv);
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return EXIT_OK;
    }
    return usage_error(usage_main, "unknown command %s", cmd);
}
