#include "manifest.h"

#include <errno.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

#define MANIFEST_MAX (16 << 20)
#define SIG_MAX 16384
#define SM2_DEFAULT_ID "1234567812345678"

static char *
read_all(const char *path, size_t max, size_t *len, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_INPUT, "could not open: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        return NULL;
    }
    char *buf = xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    bool bad = ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        CB_FAIL(err, CBERR_INPUT, n > max ? "file larger than %zu bytes" : "could not read file (%zu)", max);
        cb_error_at(err, "%s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool
manifest_file_digest(const char *path, const char *algo, char *out, uint64_t *size, CbError *err)
{
    const EVP_MD *md = strcasecmp(algo, "sha256") == 0 ? EVP_sha256()
                     : strcasecmp(algo, "sm3") == 0   ? EVP_get_digestbyname("SM3") : NULL;
    if (md == NULL)
        return CB_FAIL(err, CBERR_INPUT, "unknown digest algorithm %s (expected sha256 or sm3)", algo);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_INPUT, "could not open: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        return false;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, NULL);
    static char buf[1 << 16];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += n;
    }
    bool ok = !ferror(f);
    fclose(f);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(ctx, dig, &dl);
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not read file");
        cb_error_at(err, "%s", path);
        return false;
    }
    for (unsigned int i = 0; i < dl; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
    return true;
}

/* Raw DER, or base64 text of it. */
static unsigned char *
decode_signature(char *sig, size_t len, size_t *out_len)
{
    bool text = len > 0;
    for (size_t i = 0; i < len && text; i++) {
        unsigned char c = (unsigned char) sig[i];
        text = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ';
    }
    if (!text) {
        *out_len = len;
        return (unsigned char *) sig;
    }
    /* strip white space, then decode */
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (sig[i] != '\n' && sig[i] != '\r' && sig[i] != ' ')
            sig[k++] = sig[i];
    unsigned char *out = xmalloc(k + 4);
    int n = EVP_DecodeBlock(out, (unsigned char *) sig, (int) k);
    if (n < 0) {
        free(out);
        return NULL;
    }
    while (k > 0 && sig[k - 1] == '=') {   /* EVP_DecodeBlock counts padding as zero bytes */
        n--;
        k--;
    }
    if (n < 0) {   /* more padding than data ("====") */
        free(out);
        return NULL;
    }
    memcpy(sig, out, (size_t) n);
    free(out);
    *out_len = (size_t) n;
    return (unsigned char *) sig;
}

bool
manifest_verify_signature(const char *data, size_t len, const char *sig_path, const char *pubkey_path,
                          CbError *err)
{
    bool ok = false;
    size_t sig_len = 0;
    char *sig = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    FILE *kf = fopen(pubkey_path, "r");
    if (kf == NULL) {
        CB_FAIL(err, CBERR_INPUT, "could not open the agency's public key: %s", strerror(errno));
        cb_error_at(err, "%s", pubkey_path);
        goto done;
    }
    pkey = PEM_read_PUBKEY(kf, NULL, NULL, NULL);
    fclose(kf);
    if (pkey == NULL) {
        CB_FAIL(err, CBERR_INPUT, "not a PEM public key");
        cb_error_at(err, "%s", pubkey_path);
        goto done;
    }
    sig = read_all(sig_path, SIG_MAX, &sig_len, err);
    if (sig == NULL)
        goto done;
    unsigned char *der = decode_signature(sig, sig_len, &sig_len);
    if (der == NULL) {
        CB_FAIL(err, CBERR_INPUT, "signature is neither DER nor base64");
        cb_error_at(err, "%s", sig_path);
        goto done;
    }
    bool sm2 = EVP_PKEY_is_a(pkey, "SM2");
    ctx = EVP_MD_CTX_new();
    if (sm2) {
        pctx = EVP_PKEY_CTX_new(pkey, NULL);
        if (pctx == NULL || EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, strlen(SM2_DEFAULT_ID)) <= 0) {
            CB_FAIL(err, CBERR_INTERNAL, "could not set up SM2 verification");
            goto done;
        }
        EVP_MD_CTX_set_pkey_ctx(ctx, pctx);
    }
    const EVP_MD *md = sm2 ? EVP_get_digestbyname("SM3") : EVP_sha256();
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1) {
        CB_FAIL(err, CBERR_INPUT, "unsupported public key type for signatures (RSA, EC or SM2 expected)");
        cb_error_at(err, "%s", pubkey_path);
        goto done;
    }
    if (EVP_DigestVerify(ctx, der, sig_len, (const unsigned char *) data, len) != 1) {
        CB_FAIL(err, CBERR_INPUT, "signature does not verify: the manifest was changed or not signed by this agency's key");
        cb_error_at(err, "%s", sig_path);
        cb_error_detail(err, "public key %s (%s)", pubkey_path, sm2 ? "SM2/SM3" : "SHA-256");
        goto done;
    }
    ok = true;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pkey);
    free(sig);
    return ok;
}

/* The one file of the delivery matching glob, or NULL (err says none / several). */
static const char *
find_one(const char *glob, char *const *all, int nall, const char *what, const char *dir, CbError *err)
{
    const char *found = NULL;
    for (int i = 0; i < nall; i++)
        if (fnmatch(glob, all[i], 0) == 0) {
            if (found) {
                CB_FAIL(err, CBERR_INPUT, "two files match the %s pattern %s: %s and %s", what, glob, found, all[i]);
                cb_error_at(err, "%s", dir);
                return NULL;
            }
            found = all[i];
        }
    if (!found) {
        CB_FAIL(err, CBERR_INPUT, "the delivery has no %s (pattern %s)", what, glob);
        cb_error_at(err, "%s", dir);
    }
    return found;
}

bool
manifest_verify(const SourceDef *def, const char *dir, char *const *all, int nall, char *const *files,
                int nfiles, CbError *err)
{
    if (def->manifest == NULL)
        return true;
    const char *mname = find_one(def->manifest, all, nall, "manifest", dir, err);
    if (mname == NULL)
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, mname);
    size_t len;
    char *text = read_all(path, MANIFEST_MAX, &len, err);
    if (text == NULL)
        return false;
    /* the first pass cuts text into lines; the second pass reads this copy of the very bytes
       whose signature was checked (not the file again, which may have changed or vanished) */
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    bool ok = true;
    if (def->signature != NULL) {
        const char *sname = find_one(def->signature, all, nall, "manifest signature", dir, err);
        char sig_path[4096], key_path[4096];
        if (sname == NULL) {
            ok = false;
        } else {
            snprintf(sig_path, sizeof sig_path, "%s/%s", dir, sname);
            snprintf(key_path, sizeof key_path, "%s", def->public_key);
            ok = manifest_verify_signature(text, len, sig_path, key_path, err);
        }
    }
    bool *listed = xcalloc((size_t) (nfiles ? nfiles : 1), sizeof(bool));
    int lineno = 0;
    for (char *line = text, *next; ok && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char algo[16], hex[160], name[1024];
        unsigned long long size;
        int used = 0;
        if (sscanf(p, "%15s %159s %llu %n", algo, hex, &size, &used) != 3 || p[used] == '\0') {
            ok = CB_FAIL(err, CBERR_INPUT, "malformed manifest line");
            cb_error_at(err, "%s:%d", path, lineno);
            cb_error_hint(err, "expected: algorithm (sha256 or sm3), hex digest, size in bytes, file name");
            break;
        }
        snprintf(name, sizeof name, "%s", p + used);
        int which = -1;
        for (int i = 0; i < nfiles; i++)
            if (strcmp(files[i], name) == 0)
                which = i;
        if (which < 0)
            continue;   /* another source's file: the manifest may cover the whole delivery */
        listed[which] = true;
        char fpath[4096], got[160];
        uint64_t got_size;
        snprintf(fpath, sizeof fpath, "%s/%s", dir, name);
        if (!manifest_file_digest(fpath, algo, got, &got_size, err)) {
            ok = false;
            break;
        }
        if (got_size != size) {
            ok = CB_FAIL(err, CBERR_INPUT, "file size %llu differs from the manifest's %llu: incomplete or changed delivery",
                         (unsigned long long) got_size, size);
            cb_error_at(err, "%s", fpath);
        } else if (strcasecmp(got, hex) != 0) {
            ok = CB_FAIL(err, CBERR_INPUT, "%s digest differs from the manifest: the file was changed", algo);
            cb_error_at(err, "%s", fpath);
            cb_error_detail(err, "manifest %s, file %s", hex, got);
        }
    }
    for (int i = 0; ok && i < nfiles; i++)
        if (!listed[i]) {
            ok = CB_FAIL(err, CBERR_INPUT, "file %s is not in the manifest %s", files[i], mname);
            cb_error_at(err, "%s", dir);
        }
    /* a listed file of this source that is missing from the delivery */
    if (ok) {
        for (char *line = copy, *next; ok && line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char algo[16], hex[160], name[1024];
            unsigned long long size;
            int used = 0;
            char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '#' || sscanf(p, "%15s %159s %llu %n", algo, hex, &size, &used) != 3)
                continue;
            snprintf(name, sizeof name, "%s", p + used);
            size_t nl = strlen(name);
            if (nl && name[nl - 1] == '\r')
                name[--nl] = '\0';
            if (!sourcedef_claims(def, name))
                continue;
            bool present = false;
            for (int i = 0; i < nfiles; i++)
                present |= strcmp(files[i], name) == 0;
            if (!present) {
                ok = CB_FAIL(err, CBERR_INPUT, "file %s is in the manifest but not in the delivery", name);
                cb_error_at(err, "%s", path);
            }
        }
    }
    free(copy);
    free(listed);
    free(text);
    return ok;
}
