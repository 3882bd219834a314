/*
 * secout — protected outputs: an encrypted and signed package per township for transfer, and
 * pseudonymised statistics for analysts.  Each is recorded in the audit log.
 *
 * Packages: for every township workbook a run writes (township_<code>_<name>.xlsx and its CSV
 * twin), township_<code>_<YYYYMMDD>.cbpkg beside it (engine/crypto.h describes the format)
 * and, with a signing key, its detached signature .cbpkg.sig.  The run makes them in its
 * staging folder, before the release is sealed, so that they are published with the lists and
 * listed in SHA256SUMS.  The township runs `canbao verify` and `canbao decrypt` (or openssl)
 * on its side.
 *
 * Pseudonymised statistics: canbao.analytics_rows gets, per list row about a person of the
 * run, the person's token (HMAC of the ID number under the pseudonym key) instead of the ID;
 * canbao.analytics_counts counts per run, list and township (schema/005_security.sql).
 *
 * Settings: the options of `canbao run`, or when not given the environment (for the systemd
 * unit): CANBAO_PACKAGE_KEY, CANBAO_SIGN_KEY, CANBAO_PACKAGE_CIPHER, CANBAO_PSEUDONYM_KEY,
 * CANBAO_PSEUDONYM_ALG.  Keys are read (and checked) before the run starts.
 */
#ifndef CANBAO_SECOUT_H
#define CANBAO_SECOUT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "cberror.h"
#include "crypto.h"
#include "date.h"

/* What the command line gave (NULL: not given, the environment decides). */
typedef struct SecOutArgs {
    const char *package_key;     /* key file: township packages are made */
    const char *sign_key;        /* PEM private key: packages are signed */
    const char *cipher;          /* aes-256-gcm (default), sm4, sm4-gcm, sm4-ctr-hmac-sm3 */
    const char *pseudonym_key;   /* key file: pseudonymised statistics are written */
    const char *pseudonym_alg;   /* sha256 (default) or sm3 */
} SecOutArgs;

typedef struct SecOut {
    bool          packages;
    CryptoKey     package_key;
    CryptoCipher  cipher;
    bool          sign;
    CryptoSignKey sign_key;
    bool          pseudonymise;
    CryptoKey     pseudonym_key;
    CryptoMacAlg  pseudonym_alg;
} SecOut;

/* Reads and checks the keys; errors are CBERR_USAGE (bad combination, unknown name) or
 * CBERR_INPUT / CBERR_IO (a key file).  Prints a note when SM4-GCM falls back. */
bool secout_load(SecOut *s, const SecOutArgs *a, CbError *err);
void secout_free(SecOut *s);
bool secout_active(const SecOut *s);

/* After a successful run for asof: the pseudonymised statistics of the night's succeeded run,
 * when s asks for them; connects with conninfo (NULL: PG* environment). */
bool secout_after_run(const SecOut *s, const char *conninfo, Day asof, CbError *err);

/* The succeeded run of asof (DAY_NONE: the latest succeeded run). */
bool secout_find_run(PGconn *conn, Day asof, int64_t *run_id, CbError *err);

/* Packages for the township workbooks in books_dir, written into into_dir (NULL: books_dir);
 * *count = how many.  conn (NULL: no audit rows, e.g. a dry run) records each package. */
bool secout_write_packages(const SecOut *s, PGconn *conn, int64_t run_id, Day asof, const char *books_dir,
                           const char *into_dir, int *count, CbError *err);

/* Replaces the pseudonymised statistics of run_id; *rows = person rows written. */
bool secout_pseudonymise(PGconn *conn, int64_t run_id, const CryptoKey *key, CryptoMacAlg alg,
                         int64_t *rows, CbError *err);

#endif
