/*
 * cmd_package — the protected outputs on the command line: `canbao verify` and `canbao decrypt`
 * for the receiving township, `canbao package` and `canbao pseudonymise` to make a night's
 * packages or statistics (again) at the bureau.  engine/crypto.h describes the package format,
 * engine/secout.h what is made.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "db.h"
#include "run.h"
#include "secout.h"

static const char *usage_verify =
    "Usage: canbao verify --pubkey FILE PACKAGE... [--sig FILE]\n"
    "\n"
    "Checks the detached signature of each package (PACKAGE.sig, or --sig FILE when one\n"
    "package is given) with the bureau's public key: ECDSA P-256 with SHA-256, or SM2 with SM3.\n"
    "Prints what each package says it holds.  Exit code 0 when every signature is good, 3 when\n"
    "one is not (the file was changed, or not signed with that key).\n";

static const char *usage_decrypt =
    "Usage: canbao decrypt --key FILE --out DIR [--pubkey FILE] PACKAGE\n"
    "\n"
    "Decrypts a township package into DIR.  Every byte of the package is authenticated first\n"
    "(the GCM tag, or HMAC-SM3): a package that was altered, damaged or made with another key\n"
    "writes nothing and exits with code 3.  With --pubkey, the signature is checked before.\n";

static const char *usage_package =
    "Usage: canbao package --package-key FILE --out DIR --into DIR2 [--sign-key FILE]\n"
    "                      [--package-cipher NAME] [--asof YYYY-MM-DD] [--db CONNINFO]\n"
    "\n"
    "Makes the township packages of the lists published in DIR (the night's --out) into DIR2:\n"
    "township_<code>_<YYYYMMDD>.cbpkg, encrypted with the key (AES-256-GCM by default; NAME\n"
    "sm4 for SM4-GCM, or SM4-CTR with HMAC-SM3 where OpenSSL lacks SM4-GCM) and, with\n"
    "--sign-key, signed (.cbpkg.sig).  `canbao run` with the same options makes them inside\n"
    "the release itself; this command is for a night that ran without them (a published\n"
    "release is not changed).  --asof names the run (default: the latest succeeded run).\n";

static const char *usage_pseudonymise =
    "Usage: canbao pseudonymise --pseudonym-key FILE [--pseudonym-alg sha256|sm3]\n"
    "                           [--asof YYYY-MM-DD | --run N] [--db CONNINFO]\n"
    "\n"
    "Writes the pseudonymised statistics of a run (default: the latest succeeded run) into\n"
    "canbao.analytics_rows: per list row about a person, HMAC-SHA-256 (or HMAC-SM3) of the ID\n"
    "number under the key instead of the ID.  canbao.analytics_counts counts them per list and\n"
    "township.  `canbao run --pseudonym-key FILE` does it after every run.\n";

enum { O_PUBKEY = 300, O_SIG, O_KEY, O_OUT, O_INTO, O_DB, O_ASOF, O_RUN, O_PKEY, O_SKEY, O_CIPHER, O_YKEY, O_YALG, O_HELP };

static const struct option opts[] = {
    {"pubkey", required_argument, NULL, O_PUBKEY},
    {"sig", required_argument, NULL, O_SIG},
    {"key", required_argument, NULL, O_KEY},
    {"out", required_argument, NULL, O_OUT},
    {"into", required_argument, NULL, O_INTO},
    {"db", required_argument, NULL, O_DB},
    {"asof", required_argument, NULL, O_ASOF},
    {"run", required_argument, NULL, O_RUN},
    {"package-key", required_argument, NULL, O_PKEY},
    {"sign-key", required_argument, NULL, O_SKEY},
    {"package-cipher", required_argument, NULL, O_CIPHER},
    {"pseudonym-key", required_argument, NULL, O_YKEY},
    {"pseudonym-alg", required_argument, NULL, O_YALG},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct PArgs {
    const char *pubkey, *sig, *key, *out, *into, *db, *asof, *run;
    SecOutArgs sec;
    bool help;
    int npos;
    char **pos;
} PArgs;

static int
usage(const char *text, const char *what, const char *arg)
{
    fprintf(stderr, "canbao: ");
    fprintf(stderr, what, arg);
    fprintf(stderr, "\n\n%s", text);
    return EXIT_USAGE;
}

/* Parses argv; only the options in `allowed` (a list of O_* ending in 0) are accepted. */
static int
parse(int argc, char **argv, const char *text, const int *allowed, PArgs *a)
{
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int c, idx = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        bool ok = c == 'h' || c == O_HELP;
        for (const int *k = allowed; !ok && *k; k++)
            ok = *k == c;
        if (!ok || c == '?' || c == ':')
            return usage(text, "unknown or incomplete option %s", argv[optind - 1]);
        switch (c) {
        case O_PUBKEY: a->pubkey = optarg; break;
        case O_SIG: a->sig = optarg; break;
        case O_KEY: a->key = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_INTO: a->into = optarg; break;
        case O_DB: a->db = optarg; break;
        case O_ASOF: a->asof = optarg; break;
        case O_RUN: a->run = optarg; break;
        case O_PKEY: a->sec.package_key = optarg; break;
        case O_SKEY: a->sec.sign_key = optarg; break;
        case O_CIPHER: a->sec.cipher = optarg; break;
        case O_YKEY: a->sec.pseudonym_key = optarg; break;
        case O_YALG: a->sec.pseudonym_alg = optarg; break;
        default: a->help = true; break;
        }
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    return EXIT_OK;
}

static int
fail(const CbError *err)
{
    cb_error_print(err);
    return run_exit_code(err);
}

/* The value of name in a package's "name=value" lines ("" when absent). */
static void
meta_get(const char *meta, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = meta; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t) (eol - p) : strlen(p);
        if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(out, cap, "%.*s", (int) (l - nl - 1), p + nl + 1);
            return;
        }
        p = eol ? eol + 1 : NULL;
    }
}

static void
describe(const char *meta, char *out, size_t cap)
{
    char town[64], name[256], asof[32], run[32];
    meta_get(meta, "township", town, sizeof town);
    meta_get(meta, "township_name", name, sizeof name);
    meta_get(meta, "asof", asof, sizeof asof);
    meta_get(meta, "run", run, sizeof run);
    snprintf(out, cap, "township %s%s%s%s, as of %s, run %s", town[0] ? town : "?", name[0] ? " (" : "", name,
             name[0] ? ")" : "", asof[0] ? asof : "?", run[0] ? run : "?");
}

int
cmd_verify(int argc, char **argv)
{
    static const int allowed[] = {O_PUBKEY, O_SIG, 0};
    PArgs a;
    int rc = parse(argc, argv, usage_verify, allowed, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_verify, stdout);
        return EXIT_OK;
    }
    if (!a.pubkey || a.npos == 0)
        return usage(usage_verify, "%s", "verify needs --pubkey and at least one package");
    if (a.sig && a.npos != 1)
        return usage(usage_verify, "%s", "--sig names the signature of one package");
    CbError err = {0};
    CryptoSignKey key;
    if (!crypto_sign_key_load(a.pubkey, &key, &err))
        return fail(&err);
    int bad = 0;
    for (int i = 0; i < a.npos; i++) {
        char sig[4200];
        snprintf(sig, sizeof sig, "%s.sig", a.pos[i]);
        memset(&err, 0, sizeof err);
        Package info;
        if (!crypto_verify_file(&key, a.pos[i], a.sig ? a.sig : sig, &err)) {
            cb_error_print(&err);
            bad++;
            continue;
        }
        char what[512] = "not a canbao package";
        if (crypto_package_info(a.pos[i], &info, &err)) {
            describe(info.meta, what, sizeof what);
            size_t l = strlen(what);
            snprintf(what + l, sizeof what - l, ", %s, key %s", crypto_cipher_name(info.cipher), info.key_id);
            crypto_package_free(&info);
        }
        printf("%s: signature good (%s, public key %s): %s\n", a.pos[i], crypto_sig_alg_name(key.alg),
               key.fingerprint, what);
    }
    crypto_sign_key_free(&key);
    if (bad)
        fprintf(stderr, "canbao: %d of %d package%s failed verification\n", bad, a.npos, a.npos == 1 ? "" : "s");
    return bad ? EXIT_INPUT : EXIT_OK;
}

static bool
write_out(const char *dir, const PkgFile *f, CbError *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, f->name);
    FILE *o = fopen(tmp, "wb");
    bool ok = o != NULL && fwrite(f->data, 1, f->len, o) == f->len;
    if (o && fclose(o) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not write decrypted file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        unlink(tmp);
    }
    return ok;
}

int
cmd_decrypt(int argc, char **argv)
{
    static const int allowed[] = {O_KEY, O_OUT, O_PUBKEY, O_SIG, 0};
    PArgs a;
    int rc = parse(argc, argv, usage_decrypt, allowed, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_decrypt, stdout);
        return EXIT_OK;
    }
    if (!a.key || !a.out || a.npos != 1)
        return usage(usage_decrypt, "%s", "decrypt needs --key, --out and one package");
    const char *pkg = a.pos[0];
    CbError err = {0};
    if (a.pubkey) {
        CryptoSignKey sk;
        char sig[4200];
        snprintf(sig, sizeof sig, "%s.sig", pkg);
        if (!crypto_sign_key_load(a.pubkey, &sk, &err))
            return fail(&err);
        bool good = crypto_verify_file(&sk, pkg, a.sig ? a.sig : sig, &err);
        crypto_sign_key_free(&sk);
        if (!good)
            return fail(&err);
    }
    CryptoKey key;
    if (!crypto_key_load(a.key, &key, &err))
        return fail(&err);
    Package p;
    bool ok = crypto_package_open(pkg, &key, &p, &err);
    crypto_key_wipe(&key);
    if (!ok)
        return fail(&err);
    if (mkdir(a.out, 0750) != 0 && errno != EEXIST) {
        CB_FAIL(&err, CBERR_IO, "could not create folder: %s", strerror(errno));
        cb_error_at(&err, "%s", a.out);
        ok = false;
    }
    for (int i = 0; ok && i < p.nfiles; i++)
        ok = write_out(a.out, &p.files[i], &err);
    if (ok) {
        char what[512];
        describe(p.meta, what, sizeof what);
        printf("canbao: %s decrypted and authentic (%s): %s\n", pkg, crypto_cipher_name(p.cipher), what);
        for (int i = 0; i < p.nfiles; i++)
            printf("  %s/%s  %zu bytes\n", a.out, p.files[i].name, p.files[i].len);
    }
    crypto_package_free(&p);
    return ok ? EXIT_OK : fail(&err);
}

int
cmd_package(int argc, char **argv)
{
    static const int allowed[] = {O_PKEY, O_SKEY, O_CIPHER, O_OUT, O_INTO, O_ASOF, O_DB, 0};
    PArgs a;
    int rc = parse(argc, argv, usage_package, allowed, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_package, stdout);
        return EXIT_OK;
    }
    if (!a.sec.package_key || !a.out || !a.into || a.npos > 0)
        return usage(usage_package, "%s", "package needs --package-key, --out and --into");
    Day asof = DAY_NONE;
    if (a.asof && ((asof = date_parse(a.asof, strlen(a.asof))) == DAY_NONE || strlen(a.asof) != 10))
        return usage(usage_package, "--asof %s is not a date of the form YYYY-MM-DD", a.asof);
    CbError err = {0};
    SecOut s;
    if (!secout_load(&s, &a.sec, &err))
        return fail(&err);
    PGconn *conn = db_connect(a.db, &err);
    int64_t run_id = 0;
    int n = 0;
    bool ok = conn != NULL && secout_find_run(conn, asof, &run_id, &err);
    if (ok && asof == DAY_NONE) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long) run_id);
        const char *params[] = {id};
        PGresult *res = NULL;
        ok = db_exec_params(conn, "SELECT asof FROM canbao.runs WHERE run_id = $1::bigint", 1, params, &res, &err);
        if (ok)
            asof = date_parse(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
        PQclear(res);
    }
    if (ok)
        ok = secout_write_packages(&s, conn, run_id, asof, a.out, a.into, &n, &err);
    if (ok)
        printf("canbao: %d township package%s of run %lld in %s\n", n, n == 1 ? "" : "s",
               (long long) run_id, a.into);
    db_close(conn);
    secout_free(&s);
    return ok ? EXIT_OK : fail(&err);
}

int
cmd_pseudonymise(int argc, char **argv)
{
    static const int allowed[] = {O_YKEY, O_YALG, O_ASOF, O_RUN, O_DB, 0};
    PArgs a;
    int rc = parse(argc, argv, usage_pseudonymise, allowed, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_pseudonymise, stdout);
        return EXIT_OK;
    }
    if (!a.sec.pseudonym_key || a.npos > 0 || (a.asof && a.run))
        return usage(usage_pseudonymise, "%s", "pseudonymise needs --pseudonym-key, and --asof or --run (not both)");
    Day asof = DAY_NONE;
    if (a.asof && ((asof = date_parse(a.asof, strlen(a.asof))) == DAY_NONE || strlen(a.asof) != 10))
        return usage(usage_pseudonymise, "--asof %s is not a date of the form YYYY-MM-DD", a.asof);
    char *end = NULL;
    long long run = a.run ? strtoll(a.run, &end, 10) : 0;
    if (a.run && (*end != '\0' || run <= 0))
        return usage(usage_pseudonymise, "--run %s is not a run number", a.run);
    CbError err = {0};
    SecOut s;
    if (!secout_load(&s, &a.sec, &err))
        return fail(&err);
    PGconn *conn = db_connect(a.db, &err);
    int64_t run_id = run, rows = 0;
    bool ok = conn != NULL;
    if (ok && !a.run)
        ok = secout_find_run(conn, asof, &run_id, &err);
    if (ok && a.run) {
        const char *params[] = {a.run};
        PGresult *res = NULL;
        ok = db_exec_params(conn, "SELECT state FROM canbao.runs WHERE run_id = $1::bigint", 1, params, &res, &err);
        if (ok && (PQntuples(res) != 1 || (strcmp(PQgetvalue(res, 0, 0), "succeeded") != 0 &&
                                           strcmp(PQgetvalue(res, 0, 0), "superseded") != 0)))
            ok = CB_FAIL(&err, CBERR_INPUT, "run %s %s", a.run,
                         PQntuples(res) == 1 ? "did not succeed: it has no lists" : "is not in the ledger");
        PQclear(res);
    }
    if (ok)
        ok = secout_pseudonymise(conn, run_id, &s.pseudonym_key, s.pseudonym_alg, &rows, &err);
    if (ok)
        printf("canbao: run %lld: %lld person rows pseudonymised (%s, key %s) into canbao.analytics_rows\n",
               (long long) run_id, (long long) rows, crypto_mac_alg_name(s.pseudonym_alg), s.pseudonym_key.id);
    db_close(conn);
    secout_free(&s);
    return ok ? EXIT_OK : fail(&err);
}
