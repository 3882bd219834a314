#include "secout.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "version.h"

static const char *
arg_or_env(const char *arg, const char *env)
{
    if (arg)
        return arg;
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}

bool
secout_load(SecOut *s, const SecOutArgs *a, CbError *err)
{
    memset(s, 0, sizeof *s);
    const char *pkey = arg_or_env(a->package_key, "CANBAO_PACKAGE_KEY");
    const char *skey = arg_or_env(a->sign_key, "CANBAO_SIGN_KEY");
    const char *cipher = arg_or_env(a->cipher, "CANBAO_PACKAGE_CIPHER");
    const char *ykey = arg_or_env(a->pseudonym_key, "CANBAO_PSEUDONYM_KEY");
    const char *yalg = arg_or_env(a->pseudonym_alg, "CANBAO_PSEUDONYM_ALG");
    if ((skey || cipher) && !pkey) {
        CB_FAIL(err, CBERR_USAGE, "%s applies to the township packages: give --package-key too",
                skey ? "--sign-key" : "--package-cipher");
        return false;
    }
    if (yalg && !ykey) {
        CB_FAIL(err, CBERR_USAGE, "--pseudonym-alg needs --pseudonym-key");
        return false;
    }
    if (pkey) {
        char note[300];
        s->cipher = CRYPTO_AES_256_GCM;
        if (cipher && !crypto_cipher_parse(cipher, &s->cipher, note, sizeof note, err))
            return false;
        if (cipher && note[0])
            log_warn("event=package_cipher note=\"%s\"", note);
        if (!crypto_key_load(pkey, &s->package_key, err))
            goto fail;
        s->packages = true;
    }
    if (skey) {
        if (!crypto_sign_key_load(skey, &s->sign_key, err))
            goto fail;
        if (!s->sign_key.has_private) {
            CB_FAIL(err, CBERR_USAGE, "--sign-key needs the private key; %s holds a public key", skey);
            goto fail;
        }
        s->sign = true;
    }
    if (ykey) {
        s->pseudonym_alg = CRYPTO_HMAC_SHA256;
        if (yalg && !crypto_mac_alg_parse(yalg, &s->pseudonym_alg, err))
            goto fail;
        if (!crypto_key_load(ykey, &s->pseudonym_key, err))
            goto fail;
        if (s->packages && memcmp(s->pseudonym_key.bytes, s->package_key.bytes, CRYPTO_KEY_LEN) == 0) {
            CB_FAIL(err, CBERR_USAGE, "the pseudonym key and the package key are the same key");
            cb_error_hint(err, "use a key of its own for each purpose");
            goto fail;
        }
        s->pseudonymise = true;
    }
    return true;
fail:
    secout_free(s);
    return false;
}

void
secout_free(SecOut *s)
{
    crypto_key_wipe(&s->package_key);
    crypto_key_wipe(&s->pseudonym_key);
    crypto_sign_key_free(&s->sign_key);
    memset(s, 0, sizeof *s);
}

bool
secout_active(const SecOut *s)
{
    return s->packages || s->pseudonymise;
}

bool
secout_find_run(PGconn *conn, Day asof, int64_t *run_id, CbError *err)
{
    char d[11];
    if (asof != DAY_NONE)
        date_format(asof, d);
    const char *params[] = {asof != DAY_NONE ? d : NULL};
    PGresult *res = NULL;
    if (!db_exec_params(conn,
                        "SELECT run_id FROM canbao.runs WHERE state = 'succeeded' "
                        "AND ($1::date IS NULL OR asof = $1::date) ORDER BY run_id DESC LIMIT 1",
                        1, params, &res, err))
        return false;
    bool found = PQntuples(res) == 1;
    if (found)
        *run_id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found) {
        if (asof != DAY_NONE)
            CB_FAIL(err, CBERR_INPUT, "no succeeded run for %s in the ledger", d);
        else
            CB_FAIL(err, CBERR_INPUT, "no succeeded run in the ledger");
        return false;
    }
    return true;
}

/* ---- packages ---- */

typedef struct Book {
    char stem[512];      /* township_<code>_<name> */
    char code[32];
    char name[256];
} Book;

static int
cmp_book(const void *a, const void *b)
{
    return strcmp(((const Book *) a)->stem, ((const Book *) b)->stem);
}

/* The township workbooks in dir: township_<digits>[_<name>].xlsx, sorted. */
static bool
find_books(const char *dir, Vec *books, CbError *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open output folder: %s", strerror(errno));
        cb_error_at(err, "%s", dir);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (strncmp(n, "township_", 9) != 0 || l < 14 || strcmp(n + l - 5, ".xlsx") != 0 || l - 5 >= 512)
            continue;
        size_t k = 9;
        while (n[k] >= '0' && n[k] <= '9')
            k++;
        if (k == 9 || k - 9 >= 32 || (n[k] != '_' && n[k] != '.'))
            continue;
        Book *b = vec_push(books);
        memcpy(b->stem, n, l - 5);
        b->stem[l - 5] = '\0';
        memcpy(b->code, n + 9, k - 9);
        b->code[k - 9] = '\0';
        if (n[k] == '_')
            snprintf(b->name, sizeof b->name, "%.*s", (int) (l - 5 - k - 1), n + k + 1);
    }
    closedir(d);
    if (books->len > 1)
        qsort(books->data, books->len, sizeof(Book), cmp_book);
    return true;
}

bool
secout_write_packages(const SecOut *s, PGconn *conn, int64_t run_id, Day asof, const char *books_dir,
                      const char *into_dir, int *count, CbError *err)
{
    *count = 0;
    Vec books;
    vec_init(&books, sizeof(Book));
    if (!find_books(books_dir, &books, err)) {
        vec_free(&books);
        return false;
    }
    char asof_s[11], ymd[9];
    date_format(asof, asof_s);
    snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", asof_s, asof_s + 5, asof_s + 8);
    if (into_dir == NULL)
        into_dir = books_dir;
    if (mkdir(into_dir, 0750) != 0 && errno != EEXIST) {
        CB_FAIL(err, CBERR_IO, "could not create folder: %s", strerror(errno));
        cb_error_at(err, "%s", into_dir);
        vec_free(&books);
        return false;
    }
    bool ok = true;
    const Book *bk = books.data;
    for (size_t i = 0; i < books.len && ok; i++) {
        char xlsx[4096], csv[4096], pkg[4096], sig[4200], meta[1024], run[24];
        snprintf(xlsx, sizeof xlsx, "%s/%s.xlsx", books_dir, bk[i].stem);
        snprintf(csv, sizeof csv, "%s/%s.csv", books_dir, bk[i].stem);
        snprintf(pkg, sizeof pkg, "%s/township_%s_%s.cbpkg", into_dir, bk[i].code, ymd);
        snprintf(sig, sizeof sig, "%s.sig", pkg);
        snprintf(run, sizeof run, "%lld", (long long) run_id);
        char xname[600], cname[600];
        snprintf(xname, sizeof xname, "%s.xlsx", bk[i].stem);
        snprintf(cname, sizeof cname, "%s.csv", bk[i].stem);
        PkgMember m[2] = {{xname, xlsx}, {cname, csv}};
        int nm = access(csv, R_OK) == 0 ? 2 : 1;
        snprintf(meta, sizeof meta,
                 "format=canbao township package 1\ntownship=%s\ntownship_name=%s\nasof=%s\nrun=%s\n"
                 "made_by=canbao %s\nfiles=%d\n",
                 bk[i].code, bk[i].name, asof_s, run, CANBAO_VERSION, nm);
        ok = crypto_package_write(pkg, &s->package_key, s->cipher, meta, m, nm, err);
        if (ok && s->sign)
            ok = crypto_sign_file(&s->sign_key, pkg, sig, err);
        else if (ok)
            unlink(sig);   /* a signature of an earlier package of the same name would not match */
        char sha[65];
        uint64_t size = 0;
        if (ok)
            ok = crypto_file_sha256(pkg, sha, &size, err);
        if (ok && conn) {
            char files[1300], bytes[24];
            snprintf(files, sizeof files, "%s%s%s", xname, nm == 2 ? "; " : "", nm == 2 ? cname : "");
            snprintf(bytes, sizeof bytes, "%llu", (unsigned long long) size);
            const char *kv[] = {"township", bk[i].code,
                                "sha256", sha,
                                "bytes", bytes,
                                "cipher", crypto_cipher_name(s->cipher),
                                "key_id", s->package_key.id,
                                "signature", s->sign ? crypto_sig_alg_name(s->sign_key.alg) : "none",
                                "sign_key", s->sign ? s->sign_key.fingerprint : NULL,
                                "files", files};
            const char *slash = strrchr(pkg, '/');
            ok = audit_record(conn, "package", run_id, slash ? slash + 1 : pkg, kv, 8, err);
        }
        if (ok)
            (*count)++;
    }
    if (ok)
        log_info("event=packages count=%d cipher=%s key_id=%s signature=\"%s\"", *count,
                 crypto_cipher_name(s->cipher), s->package_key.id,
                 s->sign ? crypto_sig_alg_name(s->sign_key.alg) : "none");
    if (ok && books.len == 0)
        log_warn("event=packages count=0 note=\"no township workbook in %s: no package made\"", books_dir);
    vec_free(&books);
    return ok;
}

/* ---- pseudonymised statistics ---- */

bool
secout_pseudonymise(PGconn *conn, int64_t run_id, const CryptoKey *key, CryptoMacAlg alg, int64_t *rows,
                    CbError *err)
{
    *rows = 0;
    char run[24];
    snprintf(run, sizeof run, "%lld", (long long) run_id);
    CryptoMac *mac = crypto_mac_new(key->bytes, CRYPTO_KEY_LEN, alg, err);
    if (mac == NULL)
        return false;
    PGresult *res = NULL;
    const char *p1[] = {run};
    bool ok = db_exec(conn, "BEGIN", err) &&
              db_exec_params(conn,
                             "SELECT l.list_name, l.row_no, l.township, l.village, l.id_number, "
                             "       coalesce(ri.status = 'new', false) "
                             "  FROM canbao.list_rows l "
                             "  LEFT JOIN canbao.run_items ri "
                             "    ON ri.run_id = l.run_id AND ri.list_name = l.list_name AND ri.row_no = l.row_no "
                             " WHERE l.run_id = $1::bigint AND l.id_number IS NOT NULL "
                             " ORDER BY l.list_name, l.row_no",
                             1, p1, &res, err);
    int n = ok ? PQntuples(res) : 0;
    char count[24];
    snprintf(count, sizeof count, "%d", n);
    const char *p2[] = {run, crypto_mac_alg_name(alg), key->id, count};
    if (ok)
        ok = db_exec_params(conn, "DELETE FROM canbao.analytics_runs WHERE run_id = $1::bigint", 1, p1, NULL,
                            err) &&
             db_exec_params(conn,
                            "INSERT INTO canbao.analytics_runs (run_id, algorithm, key_id, rows) "
                            "VALUES ($1::bigint, $2, $3, $4::bigint)",
                            4, p2, NULL, err);
    DbCopy c;
    if (ok)
        ok = db_copy_begin(&c, conn,
                           "COPY canbao.analytics_rows (run_id, list_name, row_no, township, village, is_new, "
                           "person_token) FROM STDIN",
                           err);
    if (ok) {
        for (int i = 0; i < n; i++) {
            char token[65];
            if (!crypto_mac_hex(mac, PQgetvalue(res, i, 4), (size_t) PQgetlength(res, i, 4), token)) {
                c.failed = true;
                break;
            }
            db_copy_int(&c, run_id);
            db_copy_text(&c, PQgetvalue(res, i, 0));
            db_copy_text(&c, PQgetvalue(res, i, 1));
            db_copy_text(&c, PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
            db_copy_text(&c, PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3));
            db_copy_text(&c, PQgetvalue(res, i, 5));
            db_copy_text(&c, token);
            db_copy_end_row(&c);
        }
        ok = db_copy_end(&c, err);
    }
    if (res)
        PQclear(res);
    crypto_mac_free(mac);
    const char *kv[] = {"algorithm", crypto_mac_alg_name(alg), "key_id", key->id, "rows", count};
    if (ok)
        ok = audit_record(conn, "pseudonymise", run_id, "canbao.analytics_rows", kv, 3, err) &&
             db_exec(conn, "COMMIT", err);
    if (!ok) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return false;
    }
    *rows = n;
    log_info("event=pseudonymised run_id=%lld rows=%d algorithm=%s key_id=%s", (long long) run_id, n,
             crypto_mac_alg_name(alg), key->id);
    return true;
}

bool
secout_after_run(const SecOut *s, const char *conninfo, Day asof, CbError *err)
{
    if (!s->pseudonymise)
        return true;
    PGconn *conn = db_connect(conninfo, err);
    if (conn == NULL)
        return false;
    int64_t run_id = 0, rows = 0;
    bool ok = secout_find_run(conn, asof, &run_id, err) &&
              secout_pseudonymise(conn, run_id, &s->pseudonym_key, s->pseudonym_alg, &rows, err);
    if (ok)
        printf("  %-28s %8lld rows  canbao.analytics_rows (%s, key %s)\n", "pseudonymised statistics",
               (long long) rows, crypto_mac_alg_name(s->pseudonym_alg), s->pseudonym_key.id);
    if (!ok && run_id > 0)
        cb_error_hint(err, "run %lld itself succeeded and its lists are published; write the statistics "
                           "again with canbao pseudonymise --run %lld", (long long) run_id, (long long) run_id);
    db_close(conn);
    return ok;
}
