#include "crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "arena.h"

#define PKG_MAGIC "CANBAOPK"
#define PKG_VERSION 1
#define PKG_FIXED 24                    /* header bytes before the IV */
#define PKG_MAX_META 65536
#define PKG_MAX_BYTES (1024LL * 1024 * 1024)   /* a township's package: far below this */
#define PKG_MAX_NAME 255
#define CHUNK 65536
#define SM2_DEFAULT_ID "1234567812345678"      /* GB/T 32918 / GM/T 0009 default user ID */

/* ---- errors ---- */

/* Adds OpenSSL's own reason (if it left one) as the detail, and clears its queue. */
static bool
fail_ssl(CbError *err, CbErrorKind kind, const char *what)
{
    CB_FAIL(err, kind, "%s", what);
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        cb_error_detail(err, "OpenSSL: %s", buf);
    }
    ERR_clear_error();
    return false;
}

static bool
fail_io(CbError *err, const char *what, const char *path)
{
    CB_FAIL(err, CBERR_IO, "%s: %s", what, strerror(errno));
    cb_error_at(err, "%s", path);
    return false;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- keys ---- */

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void
crypto_key_set(CryptoKey *key, const unsigned char bytes[CRYPTO_KEY_LEN])
{
    memcpy(key->bytes, bytes, CRYPTO_KEY_LEN);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    static const char label[] = "canbao key id";
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->bytes, CRYPTO_KEY_LEN,
                  (const unsigned char *) label, sizeof label - 1, md, sizeof md, &mdlen) == NULL) {
        ERR_clear_error();
        memset(md, 0, sizeof md);
    }
    to_hex(md, 8, key->id);
}

void
crypto_key_wipe(CryptoKey *key)
{
    OPENSSL_cleanse(key, sizeof *key);
}

bool
crypto_key_load(const char *path, CryptoKey *key, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail_io(err, "could not open key file", path);
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & S_IROTH)) {
        fclose(f);
        CB_FAIL(err, CBERR_INPUT, "key file is readable by every user of this machine");
        cb_error_at(err, "%s", path);
        cb_error_hint(err, "chmod o-rwx %s (0600, or 0640 with the service's group)", path);
        return false;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unsigned char bytes[CRYPTO_KEY_LEN];
    size_t digits = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        int c = (unsigned char) buf[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        int v = hex_value(c);
        if (v < 0 || digits >= 2 * CRYPTO_KEY_LEN) {
            ok = false;
            break;
        }
        if (digits % 2 == 0)
            bytes[digits / 2] = (unsigned char) (v << 4);
        else
            bytes[digits / 2] |= (unsigned char) v;
        digits++;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok || digits != 2 * CRYPTO_KEY_LEN) {
        OPENSSL_cleanse(bytes, sizeof bytes);
        CB_FAIL(err, CBERR_INPUT, "not a key file: expected 64 hexadecimal digits (a 256-bit key)");
        cb_error_at(err, "%s", path);
        cb_error_hint(err, "make one with: (umask 077; openssl rand -hex 32 > %s)", base_name(path));
        return false;
    }
    crypto_key_set(key, bytes);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return true;
}

/* HKDF-SHA-256 of the key file's bytes with info "canbao package v1 <label>". */
static bool
derive(const CryptoKey *key, const char *label, unsigned char *out, size_t len, CbError *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    char info[96];
    int il = snprintf(info, sizeof info, "canbao package v1 %s", label);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) key->bytes, CRYPTO_KEY_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t) il),
        OSSL_PARAM_construct_end(),
    };
    bool ok = kctx != NULL && EVP_KDF_derive(kctx, out, len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok)
        return fail_ssl(err, CBERR_INTERNAL, "could not derive the package keys (HKDF-SHA-256)");
    return true;
}

/* ---- ciphers ---- */

const char *
crypto_cipher_name(CryptoCipher c)
{
    switch (c) {
    case CRYPTO_AES_256_GCM: return "AES-256-GCM";
    case CRYPTO_SM4_GCM: return "SM4-GCM";
    case CRYPTO_SM4_CTR_HMAC_SM3: return "SM4-CTR+HMAC-SM3";
    }
    return "unknown";
}

static const char *
evp_name(CryptoCipher c)
{
    switch (c) {
    case CRYPTO_AES_256_GCM: return "AES-256-GCM";
    case CRYPTO_SM4_GCM: return "SM4-GCM";
    case CRYPTO_SM4_CTR_HMAC_SM3: return "SM4-CTR";
    }
    return "";
}

static size_t
key_len(CryptoCipher c)
{
    return c == CRYPTO_AES_256_GCM ? 32 : 16;
}

static size_t
iv_len(CryptoCipher c)
{
    return c == CRYPTO_SM4_CTR_HMAC_SM3 ? 16 : 12;
}

static size_t
tag_len(CryptoCipher c)
{
    return c == CRYPTO_SM4_CTR_HMAC_SM3 ? 32 : 16;
}

static bool
is_gcm(CryptoCipher c)
{
    return c != CRYPTO_SM4_CTR_HMAC_SM3;
}

bool
crypto_cipher_available(CryptoCipher c)
{
    if (c != CRYPTO_AES_256_GCM && c != CRYPTO_SM4_GCM && c != CRYPTO_SM4_CTR_HMAC_SM3)
        return false;
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, evp_name(c), NULL);
    bool ok = ci != NULL;
    EVP_CIPHER_free(ci);
    if (ok && c == CRYPTO_SM4_CTR_HMAC_SM3) {
        EVP_MD *md = EVP_MD_fetch(NULL, "SM3", NULL);
        ok = md != NULL;
        EVP_MD_free(md);
    }
    ERR_clear_error();
    return ok;
}

bool
crypto_cipher_parse(const char *name, CryptoCipher *out, char *note, size_t note_cap, CbError *err)
{
    if (note && note_cap)
        note[0] = '\0';
    if (strcasecmp(name, "aes") == 0 || strcasecmp(name, "aes-256-gcm") == 0) {
        *out = CRYPTO_AES_256_GCM;
    } else if (strcasecmp(name, "sm4-gcm") == 0) {
        *out = CRYPTO_SM4_GCM;
    } else if (strcasecmp(name, "sm4-ctr-hmac-sm3") == 0) {
        *out = CRYPTO_SM4_CTR_HMAC_SM3;
    } else if (strcasecmp(name, "sm4") == 0) {
        *out = CRYPTO_SM4_GCM;
        if (!crypto_cipher_available(CRYPTO_SM4_GCM)) {
            *out = CRYPTO_SM4_CTR_HMAC_SM3;
            if (note && note_cap)
                snprintf(note, note_cap, "SM4-GCM is not provided by this OpenSSL (%s); packages use "
                         "SM4-CTR with HMAC-SM3 (encrypt-then-MAC) instead",
                         OpenSSL_version(OPENSSL_VERSION));
        }
    } else {
        CB_FAIL(err, CBERR_USAGE, "unknown package cipher \"%s\"", name);
        cb_error_hint(err, "expected aes-256-gcm, sm4 (SM4-GCM where OpenSSL has it, else "
                           "SM4-CTR with HMAC-SM3), sm4-gcm or sm4-ctr-hmac-sm3");
        return false;
    }
    if (!crypto_cipher_available(*out)) {
        CB_FAIL(err, CBERR_USAGE, "%s is not provided by this OpenSSL (%s)", crypto_cipher_name(*out),
                OpenSSL_version(OPENSSL_VERSION));
        cb_error_hint(err, "SM4-GCM needs OpenSSL 3.2 or later; --package-cipher sm4 falls back to "
                           "SM4-CTR with HMAC-SM3, aes-256-gcm works everywhere");
        return false;
    }
    return true;
}

/* The streaming state of one package: cipher context and, for CTR, the HMAC over the header
 * and the ciphertext. */
typedef struct Seal {
    CryptoCipher    cipher;
    EVP_CIPHER_CTX *ctx;
    EVP_MAC_CTX    *mac;
} Seal;

static void
seal_free(Seal *s)
{
    EVP_CIPHER_CTX_free(s->ctx);
    EVP_MAC_CTX_free(s->mac);
    memset(s, 0, sizeof *s);
}

/* Sets up encryption (enc) or decryption of a package whose header is hdr. */
static bool
seal_begin(Seal *s, const CryptoKey *key, CryptoCipher cipher, bool enc, const unsigned char *iv,
           const unsigned char *hdr, size_t hdr_len, CbError *err)
{
    memset(s, 0, sizeof *s);
    s->cipher = cipher;
    unsigned char keys[64];
    size_t kl = key_len(cipher), ml = cipher == CRYPTO_SM4_CTR_HMAC_SM3 ? 32 : 0;
    if (!derive(key, crypto_cipher_name(cipher), keys, kl + ml, err))
        return false;
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, evp_name(cipher), NULL);
    s->ctx = EVP_CIPHER_CTX_new();
    bool ok = ci != NULL && s->ctx != NULL &&
              EVP_CipherInit_ex2(s->ctx, ci, keys, iv, enc ? 1 : 0, NULL) == 1 &&
              (size_t) EVP_CIPHER_CTX_get_iv_length(s->ctx) == iv_len(cipher);
    EVP_CIPHER_free(ci);
    int outl = 0;
    if (ok && is_gcm(cipher))
        ok = EVP_CipherUpdate(s->ctx, NULL, &outl, hdr, (int) hdr_len) == 1;   /* additional data */
    if (ok && !is_gcm(cipher)) {
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        s->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
        EVP_MAC_free(mac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SM3", 0),
            OSSL_PARAM_construct_end(),
        };
        ok = s->mac != NULL && EVP_MAC_init(s->mac, keys + kl, ml, params) == 1 &&
             EVP_MAC_update(s->mac, hdr, hdr_len) == 1;
    }
    OPENSSL_cleanse(keys, sizeof keys);
    if (!ok) {
        seal_free(s);
        return fail_ssl(err, CBERR_INTERNAL, "could not set up the package cipher");
    }
    return true;
}

/* ---- writing ---- */

typedef struct Writer {
    FILE          *f;
    Seal           seal;
    unsigned char  buf[CHUNK + 64];
    bool           failed;
} Writer;

/* Writes ciphertext (and feeds the HMAC, for CTR). */
static void
put_cipher(Writer *w, int outl)
{
    if (outl <= 0 || w->failed)
        return;
    if (w->seal.mac && EVP_MAC_update(w->seal.mac, w->buf, (size_t) outl) != 1)
        w->failed = true;
    if (fwrite(w->buf, 1, (size_t) outl, w->f) != (size_t) outl)
        w->failed = true;
}

static void
put_plain(Writer *w, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0 && !w->failed) {
        int take = n > CHUNK ? CHUNK : (int) n;
        int outl = 0;
        if (EVP_CipherUpdate(w->seal.ctx, w->buf, &outl, p, take) != 1) {
            w->failed = true;
            break;
        }
        put_cipher(w, outl);
        p += take;
        n -= (size_t) take;
    }
}

static void
be_put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
}

static uint64_t
be_get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

static bool
name_ok(const char *name, size_t len)
{
    if (len == 0 || len > PKG_MAX_NAME || name[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

bool
crypto_package_write(const char *out_path, const CryptoKey *key, CryptoCipher cipher, const char *meta,
                     const PkgMember *members, int nmembers, CbError *err)
{
    if (!crypto_cipher_available(cipher)) {
        CB_FAIL(err, CBERR_USAGE, "%s is not provided by this OpenSSL", crypto_cipher_name(cipher));
        return false;
    }
    size_t meta_len = meta ? strlen(meta) : 0;
    if (meta_len > PKG_MAX_META) {
        CB_FAIL(err, CBERR_INTERNAL, "package metadata longer than %d bytes", PKG_MAX_META);
        return false;
    }
    for (int i = 0; i < nmembers; i++)
        if (!name_ok(members[i].name, strlen(members[i].name))) {
            CB_FAIL(err, CBERR_INTERNAL, "file name \"%s\" cannot go into a package", members[i].name);
            return false;
        }
    size_t il = iv_len(cipher);
    size_t hdr_len = PKG_FIXED + il + meta_len;
    unsigned char *hdr = xmalloc(hdr_len);
    memcpy(hdr, PKG_MAGIC, 8);
    hdr[8] = PKG_VERSION;
    hdr[9] = (unsigned char) cipher;
    hdr[10] = (unsigned char) il;
    hdr[11] = 0;
    for (int i = 0; i < 8; i++)
        hdr[12 + i] = (unsigned char) ((hex_value(key->id[2 * i]) << 4) | hex_value(key->id[2 * i + 1]));
    be_put(hdr + 20, meta_len, 4);
    if (RAND_bytes(hdr + PKG_FIXED, (int) il) != 1) {
        free(hdr);
        return fail_ssl(err, CBERR_INTERNAL, "no random bytes for the IV");
    }
    memcpy(hdr + PKG_FIXED + il, meta, meta_len);

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    Writer *w = xcalloc(1, sizeof *w);
    bool ok = false;
    FILE *in = NULL;
    w->f = fopen(tmp, "wb");
    if (w->f == NULL) {
        fail_io(err, "could not create package", tmp);
        goto done;
    }
    if (!seal_begin(&w->seal, key, cipher, true, hdr + PKG_FIXED, hdr, hdr_len, err))
        goto done;
    if (fwrite(hdr, 1, hdr_len, w->f) != hdr_len) {
        fail_io(err, "could not write package", tmp);
        goto done;
    }
    for (int i = 0; i < nmembers; i++) {
        in = fopen(members[i].path, "rb");
        struct stat sb;
        if (in == NULL || fstat(fileno(in), &sb) != 0) {
            fail_io(err, "could not read file for the package", members[i].path);
            goto done;
        }
        unsigned char frame[1 + 2 + PKG_MAX_NAME + 8];
        size_t nl = strlen(members[i].name), o = 0;
        frame[o++] = 'F';
        be_put(frame + o, nl, 2);
        o += 2;
        memcpy(frame + o, members[i].name, nl);
        o += nl;
        be_put(frame + o, (uint64_t) sb.st_size, 8);
        o += 8;
        put_plain(w, frame, o);
        unsigned char data[CHUNK];
        size_t got, total = 0;
        while ((got = fread(data, 1, sizeof data, in)) > 0) {
            put_plain(w, data, got);
            total += got;
        }
        bool rerr = ferror(in) != 0;
        fclose(in);
        in = NULL;
        if (rerr || total != (size_t) sb.st_size) {
            CB_FAIL(err, CBERR_IO, "file changed or could not be read while packing it");
            cb_error_at(err, "%s", members[i].path);
            goto done;
        }
    }
    put_plain(w, "E", 1);
    int outl = 0;
    unsigned char tag[32];
    if (!w->failed && EVP_CipherFinal_ex(w->seal.ctx, w->buf, &outl) != 1)
        w->failed = true;
    put_cipher(w, outl);   /* GCM and CTR hold nothing back: outl is 0 */
    if (!w->failed && is_gcm(cipher))
        w->failed = EVP_CIPHER_CTX_ctrl(w->seal.ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1;
    size_t macl = 0;
    if (!w->failed && !is_gcm(cipher))
        w->failed = EVP_MAC_final(w->seal.mac, tag, &macl, sizeof tag) != 1 || macl != 32;
    if (w->failed) {
        if (ferror(w->f))
            fail_io(err, "could not write package", tmp);
        else
            fail_ssl(err, CBERR_INTERNAL, "could not encrypt the package");
        goto done;
    }
    if (fwrite(tag, 1, tag_len(cipher), w->f) != tag_len(cipher) || fflush(w->f) != 0) {
        fail_io(err, "could not write package", tmp);
        goto done;
    }
    int rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0) {
        fail_io(err, "could not write package", tmp);
        goto done;
    }
    if (rename(tmp, out_path) != 0) {
        fail_io(err, "could not rename package into place", out_path);
        goto done;
    }
    ok = true;
done:
    if (in)
        fclose(in);
    if (w->f) {
        fclose(w->f);
    }
    if (!ok)
        unlink(tmp);
    seal_free(&w->seal);
    OPENSSL_cleanse(w->buf, sizeof w->buf);
    free(w);
    free(hdr);
    return ok;
}

/* ---- reading ---- */

static bool
read_all(const char *path, unsigned char **out, size_t *len, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail_io(err, "could not open package", path);
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        CB_FAIL(err, CBERR_INPUT, "not a regular file");
        cb_error_at(err, "%s", path);
        return false;
    }
    if (sb.st_size > PKG_MAX_BYTES) {
        fclose(f);
        CB_FAIL(err, CBERR_INPUT, "package larger than %lld bytes", (long long) PKG_MAX_BYTES);
        cb_error_at(err, "%s", path);
        return false;
    }
    size_t n = (size_t) sb.st_size;
    unsigned char *b = xmalloc(n ? n : 1);
    size_t got = fread(b, 1, n, f);
    bool rerr = ferror(f) != 0;
    fclose(f);
    if (rerr || got != n) {
        free(b);
        return fail_io(err, "could not read package", path);
    }
    *out = b;
    *len = n;
    return true;
}

/* Checks the header of data and fills the header part of p; *hdr_len is where ciphertext starts. */
static bool
parse_header(const char *path, const unsigned char *d, size_t n, Package *p, size_t *hdr_len, CbError *err)
{
    const char *what = NULL;
    if (n < PKG_FIXED || memcmp(d, PKG_MAGIC, 8) != 0)
        what = "not a canbao package (no CANBAOPK header)";
    else if (d[8] != PKG_VERSION)
        what = "package format version not supported by this canbao";
    if (what) {
        CB_FAIL(err, CBERR_INPUT, "%s", what);
        cb_error_at(err, "%s", path);
        return false;
    }
    CryptoCipher c = (CryptoCipher) d[9];
    if (c != CRYPTO_AES_256_GCM && c != CRYPTO_SM4_GCM && c != CRYPTO_SM4_CTR_HMAC_SM3) {
        CB_FAIL(err, CBERR_INPUT, "unknown cipher %d in the package header", d[9]);
        cb_error_at(err, "%s", path);
        return false;
    }
    size_t il = d[10];
    uint64_t ml = be_get(d + 20, 4);
    if (il != iv_len(c) || ml > PKG_MAX_META || PKG_FIXED + il + ml + tag_len(c) > n) {
        CB_FAIL(err, CBERR_INPUT, "package header damaged (IV or metadata length) or file truncated");
        cb_error_at(err, "%s", path);
        return false;
    }
    memset(p, 0, sizeof *p);
    p->cipher = c;
    to_hex(d + 12, 8, p->key_id);
    p->meta = xmalloc(ml + 1);
    memcpy(p->meta, d + PKG_FIXED + il, ml);
    p->meta[ml] = '\0';
    *hdr_len = PKG_FIXED + il + ml;
    return true;
}

bool
crypto_package_info(const char *path, Package *out, CbError *err)
{
    unsigned char *d = NULL;
    size_t n = 0, hl = 0;
    if (!read_all(path, &d, &n, err))
        return false;
    bool ok = parse_header(path, d, n, out, &hl, err);
    free(d);
    return ok;
}

static bool
parse_payload(const char *path, Package *p, CbError *err)
{
    const unsigned char *d = p->plain;
    size_t n = p->plain_len, pos = 0;
    int cap = 0;
    while (pos < n) {
        unsigned char type = d[pos++];
        if (type == 'E' && pos == n)
            return true;
        bool bad = type != 'F' || n - pos < 2;
        size_t nl = bad ? 0 : (size_t) be_get(d + pos, 2);
        if (!bad) {
            pos += 2;
            bad = n - pos < nl + 8 || !name_ok((const char *) d + pos, nl);
        }
        uint64_t size = 0;
        if (!bad) {
            size = be_get(d + pos + nl, 8);
            bad = size > n - pos - nl - 8;
        }
        if (bad) {
            /* authentic, yet malformed: made by something that is not canbao */
            CB_FAIL(err, CBERR_INPUT, "package contents malformed at byte %zu of the payload", pos);
            cb_error_at(err, "%s", path);
            return false;
        }
        if (p->nfiles == cap) {
            cap = cap ? cap * 2 : 4;
            p->files = xrealloc(p->files, sizeof(PkgFile) * (size_t) cap);
        }
        char *name = xmalloc(nl + 1);
        memcpy(name, d + pos, nl);
        name[nl] = '\0';
        PkgFile *f = &p->files[p->nfiles++];
        f->name = name;
        f->data = d + pos + nl + 8;
        f->len = (size_t) size;
        pos += nl + 8 + (size_t) size;
    }
    CB_FAIL(err, CBERR_INPUT, "package contents end without their end mark");
    cb_error_at(err, "%s", path);
    return false;
}

bool
crypto_package_open(const char *path, const CryptoKey *key, Package *out, CbError *err)
{
    unsigned char *d = NULL;
    size_t n = 0, hl = 0;
    memset(out, 0, sizeof *out);
    if (!read_all(path, &d, &n, err))
        return false;
    bool ok = false;
    Seal s;
    memset(&s, 0, sizeof s);
    if (!parse_header(path, d, n, out, &hl, err))
        goto done;
    if (strcmp(out->key_id, key->id) != 0) {
        CB_FAIL(err, CBERR_INPUT, "wrong key: the package was encrypted with key %s, this key is %s",
                out->key_id, key->id);
        cb_error_at(err, "%s", path);
        goto done;
    }
    if (!crypto_cipher_available(out->cipher)) {
        CB_FAIL(err, CBERR_INPUT, "the package is encrypted with %s, which this OpenSSL (%s) does not provide",
                crypto_cipher_name(out->cipher), OpenSSL_version(OPENSSL_VERSION));
        cb_error_at(err, "%s", path);
        goto done;
    }
    size_t tl = tag_len(out->cipher), ct_len = n - hl - tl;
    const unsigned char *ct = d + hl, *tag = d + n - tl;
    if (!seal_begin(&s, key, out->cipher, false, d + PKG_FIXED, d, hl, err))
        goto done;
    const char *damaged = "authentication failed: the package was altered or damaged after it was "
                          "made (or made with another key)";
    if (!is_gcm(out->cipher)) {
        /* encrypt-then-MAC: the MAC is checked before anything is decrypted */
        unsigned char mac[32];
        size_t macl = 0;
        if (EVP_MAC_update(s.mac, ct, ct_len) != 1 || EVP_MAC_final(s.mac, mac, &macl, sizeof mac) != 1) {
            fail_ssl(err, CBERR_INTERNAL, "could not compute the package's HMAC-SM3");
            goto done;
        }
        if (macl != tl || CRYPTO_memcmp(mac, tag, tl) != 0) {
            CB_FAIL(err, CBERR_INPUT, "%s", damaged);
            cb_error_at(err, "%s", path);
            goto done;
        }
    }
    out->plain = xmalloc(ct_len + 16);
    size_t o = 0;
    for (size_t i = 0; i < ct_len; i += CHUNK) {
        int take = ct_len - i > CHUNK ? CHUNK : (int) (ct_len - i), outl = 0;
        if (EVP_CipherUpdate(s.ctx, out->plain + o, &outl, ct + i, take) != 1) {
            fail_ssl(err, CBERR_INTERNAL, "could not decrypt the package");
            goto done;
        }
        o += (size_t) outl;
    }
    int outl = 0;
    if (is_gcm(out->cipher) &&
        EVP_CIPHER_CTX_ctrl(s.ctx, EVP_CTRL_AEAD_SET_TAG, (int) tl, (void *) tag) != 1) {
        fail_ssl(err, CBERR_INTERNAL, "could not set the GCM tag");
        goto done;
    }
    if (EVP_CipherFinal_ex(s.ctx, out->plain + o, &outl) != 1) {
        ERR_clear_error();
        CB_FAIL(err, CBERR_INPUT, "%s", damaged);
        cb_error_detail(err, "the %s tag does not match", crypto_cipher_name(out->cipher));
        cb_error_at(err, "%s", path);
        goto done;
    }
    out->plain_len = o + (size_t) outl;
    ok = parse_payload(path, out, err);
done:
    seal_free(&s);
    free(d);
    if (!ok)
        crypto_package_free(out);
    return ok;
}

void
crypto_package_free(Package *p)
{
    if (p->plain) {
        OPENSSL_cleanse(p->plain, p->plain_len);
        free(p->plain);
    }
    for (int i = 0; i < p->nfiles; i++)
        free((char *) p->files[i].name);
    free(p->files);
    free(p->meta);
    memset(p, 0, sizeof *p);
}

/* ---- signatures ---- */

const char *
crypto_sig_alg_name(CryptoSigAlg a)
{
    return a == CRYPTO_SIG_SM2_SM3 ? "SM2 with SM3" : "ECDSA P-256 with SHA-256";
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void) buf, (void) size, (void) rwflag, (void) u;
    return 0;
}

bool
crypto_sign_key_load(const char *path, CryptoSignKey *key, CbError *err)
{
    memset(key, 0, sizeof *key);
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        ERR_clear_error();
        return fail_io(err, "could not open key file", path);
    }
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    key->has_private = pk != NULL;
    if (pk == NULL) {
        ERR_clear_error();
        BIO_reset(bio);
        pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    }
    BIO_free(bio);
    if (pk == NULL) {
        CB_FAIL(err, CBERR_INPUT, "not a PEM key that canbao can use (or a key protected by a passphrase)");
        cb_error_at(err, "%s", path);
        cb_error_hint(err, "an unencrypted EC P-256 or SM2 key: openssl genpkey -algorithm EC -pkeyopt "
                           "ec_paramgen_curve:P-256, or openssl genpkey -algorithm SM2");
        ERR_clear_error();
        return false;
    }
    char group[64] = "";
    size_t gl = 0;
    if (EVP_PKEY_get_group_name(pk, group, sizeof group, &gl) != 1)
        group[0] = '\0';
    ERR_clear_error();
    if (EVP_PKEY_is_a(pk, "SM2") || strcmp(group, "SM2") == 0) {
        key->alg = CRYPTO_SIG_SM2_SM3;
    } else if (EVP_PKEY_is_a(pk, "EC") && strcmp(group, "prime256v1") == 0) {
        key->alg = CRYPTO_SIG_ECDSA_P256_SHA256;
    } else {
        CB_FAIL(err, CBERR_INPUT, "key type %s%s%s is not supported for package signatures",
                EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "?", group[0] ? " on " : "", group);
        cb_error_at(err, "%s", path);
        cb_error_hint(err, "use an EC key on P-256 (ECDSA with SHA-256) or an SM2 key (SM2 with SM3)");
        EVP_PKEY_free(pk);
        return false;
    }
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(pk, &der);
    unsigned char md[32];
    unsigned int mdl = 0;
    if (dl <= 0 || EVP_Digest(der, (size_t) dl, md, &mdl, EVP_sha256(), NULL) != 1) {
        OPENSSL_free(der);
        EVP_PKEY_free(pk);
        return fail_ssl(err, CBERR_INTERNAL, "could not compute the key's fingerprint");
    }
    OPENSSL_free(der);
    to_hex(md, 8, key->fingerprint);
    key->pkey = pk;
    return true;
}

void
crypto_sign_key_free(CryptoSignKey *key)
{
    EVP_PKEY_free(key->pkey);
    memset(key, 0, sizeof *key);
}

/* Starts DigestSign / DigestVerify with the key's algorithm (SM2: with the default ID). */
static EVP_MD_CTX *
digest_begin(const CryptoSignKey *key, bool sign)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (m == NULL)
        return NULL;
    const char *md = key->alg == CRYPTO_SIG_SM2_SM3 ? "SM3" : "SHA256";
    OSSL_PARAM sm2[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_DIST_ID, (void *) SM2_DEFAULT_ID,
                                          sizeof SM2_DEFAULT_ID - 1),
        OSSL_PARAM_construct_end(),
    };
    /* OpenSSL 3.0 takes the SM2 ID only after the init, before the first update */
    int rc = sign ? EVP_DigestSignInit_ex(m, NULL, md, NULL, NULL, key->pkey, NULL)
                  : EVP_DigestVerifyInit_ex(m, NULL, md, NULL, NULL, key->pkey, NULL);
    if (rc == 1 && key->alg == CRYPTO_SIG_SM2_SM3)
        rc = EVP_PKEY_CTX_set_params(EVP_MD_CTX_get_pkey_ctx(m), sm2);
    if (rc != 1) {
        EVP_MD_CTX_free(m);
        return NULL;
    }
    return m;
}

/* Feeds the file at path into the DigestSign/Verify context. */
static bool
digest_file(EVP_MD_CTX *m, bool sign, const char *path, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail_io(err, "could not open file", path);
    unsigned char buf[CHUNK];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0)
        ok = (sign ? EVP_DigestSignUpdate(m, buf, got) : EVP_DigestVerifyUpdate(m, buf, got)) == 1;
    bool rerr = ferror(f) != 0;
    fclose(f);
    if (rerr)
        return fail_io(err, "could not read file", path);
    if (!ok)
        return fail_ssl(err, CBERR_INTERNAL, "could not hash the file for its signature");
    return true;
}

bool
crypto_sign_file(const CryptoSignKey *key, const char *path, const char *sig_path, CbError *err)
{
    if (!key->has_private) {
        CB_FAIL(err, CBERR_USAGE, "a public key cannot sign: give the private key");
        return false;
    }
    EVP_MD_CTX *m = digest_begin(key, true);
    if (m == NULL)
        return fail_ssl(err, CBERR_INTERNAL, "could not start the signature");
    unsigned char *sig = NULL;
    size_t sl = 0;
    bool ok = digest_file(m, true, path, err);
    if (ok && (EVP_DigestSignFinal(m, NULL, &sl) != 1 || (sig = xmalloc(sl)) == NULL ||
               EVP_DigestSignFinal(m, sig, &sl) != 1))
        ok = fail_ssl(err, CBERR_INTERNAL, "could not sign the package");
    EVP_MD_CTX_free(m);
    if (ok) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", sig_path);
        FILE *f = fopen(tmp, "wb");
        if (f == NULL || fwrite(sig, 1, sl, f) != sl) {
            ok = fail_io(err, "could not write signature", tmp);
            if (f)
                fclose(f);
            unlink(tmp);
        } else if (fclose(f) != 0 || rename(tmp, sig_path) != 0) {
            ok = fail_io(err, "could not write signature", sig_path);
            unlink(tmp);
        }
    }
    free(sig);
    return ok;
}

bool
crypto_verify_file(const CryptoSignKey *key, const char *path, const char *sig_path, CbError *err)
{
    unsigned char *sig = NULL;
    size_t sl = 0;
    FILE *f = fopen(sig_path, "rb");
    if (f == NULL)
        return fail_io(err, "could not open signature", sig_path);
    unsigned char buf[1024];
    sl = fread(buf, 1, sizeof buf, f);
    bool toolong = fgetc(f) != EOF;
    fclose(f);
    if (toolong || sl == 0) {
        CB_FAIL(err, CBERR_INPUT, "not a signature file (%s)", sl == 0 ? "empty" : "too long");
        cb_error_at(err, "%s", sig_path);
        return false;
    }
    sig = buf;
    EVP_MD_CTX *m = digest_begin(key, false);
    if (m == NULL)
        return fail_ssl(err, CBERR_INTERNAL, "could not start verifying the signature");
    bool ok = digest_file(m, false, path, err);
    if (ok) {
        int rc = EVP_DigestVerifyFinal(m, sig, sl);
        ERR_clear_error();
        if (rc != 1) {
            ok = CB_FAIL(err, CBERR_INPUT, "signature does not match: the file was changed after it was "
                         "signed, or it was not signed with this key");
            cb_error_at(err, "%s", path);
            cb_error_detail(err, "%s, public key %s, signature %s", crypto_sig_alg_name(key->alg),
                            key->fingerprint, base_name(sig_path));
        }
    }
    EVP_MD_CTX_free(m);
    return ok;
}

/* ---- pseudonyms ---- */

struct CryptoMac {
    EVP_MAC_CTX *ctx;      /* keyed; duplicated for every message */
};

const char *
crypto_mac_alg_name(CryptoMacAlg a)
{
    return a == CRYPTO_HMAC_SM3 ? "HMAC-SM3" : "HMAC-SHA-256";
}

bool
crypto_mac_alg_parse(const char *name, CryptoMacAlg *out, CbError *err)
{
    if (strcasecmp(name, "sha256") == 0 || strcasecmp(name, "sha-256") == 0 ||
        strcasecmp(name, "hmac-sha-256") == 0 || strcasecmp(name, "hmac-sha256") == 0) {
        *out = CRYPTO_HMAC_SHA256;
        return true;
    }
    if (strcasecmp(name, "sm3") == 0 || strcasecmp(name, "hmac-sm3") == 0) {
        *out = CRYPTO_HMAC_SM3;
        return true;
    }
    CB_FAIL(err, CBERR_USAGE, "unknown pseudonym algorithm \"%s\"", name);
    cb_error_hint(err, "expected sha256 (HMAC-SHA-256) or sm3 (HMAC-SM3)");
    return false;
}

CryptoMac *
crypto_mac_new(const unsigned char *key, size_t key_len, CryptoMacAlg alg, CbError *err)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *) (alg == CRYPTO_HMAC_SM3 ? "SM3" : "SHA256"), 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, params) != 1 || EVP_MAC_CTX_get_mac_size(ctx) != 32) {
        EVP_MAC_CTX_free(ctx);
        fail_ssl(err, CBERR_INTERNAL, "this OpenSSL cannot compute the pseudonyms");
        cb_error_hint(err, "%s was asked for", crypto_mac_alg_name(alg));
        return NULL;
    }
    CryptoMac *m = xmalloc(sizeof *m);
    m->ctx = ctx;
    return m;
}

bool
crypto_mac_hex(CryptoMac *m, const void *msg, size_t len, char out[65])
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->ctx);
    unsigned char md[32];
    size_t ml = 0;
    bool ok = c != NULL && EVP_MAC_update(c, msg, len) == 1 && EVP_MAC_final(c, md, &ml, sizeof md) == 1 &&
              ml == 32;
    EVP_MAC_CTX_free(c);
    if (!ok) {
        ERR_clear_error();
        out[0] = '\0';
        return false;
    }
    to_hex(md, 32, out);
    return true;
}

void
crypto_mac_free(CryptoMac *m)
{
    if (m == NULL)
        return;
    EVP_MAC_CTX_free(m->ctx);
    free(m);
}

bool
crypto_file_sha256(const char *path, char out[65], uint64_t *size, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail_io(err, "could not open file", path);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m != NULL && EVP_DigestInit_ex2(m, EVP_sha256(), NULL) == 1;
    unsigned char buf[CHUNK];
    size_t got;
    uint64_t total = 0;
    while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        ok = EVP_DigestUpdate(m, buf, got) == 1;
        total += got;
    }
    unsigned char md[32];
    unsigned int ml = 0;
    if (ok)
        ok = EVP_DigestFinal_ex(m, md, &ml) == 1;
    bool rerr = ferror(f) != 0;
    fclose(f);
    EVP_MD_CTX_free(m);
    if (rerr)
        return fail_io(err, "could not read file", path);
    if (!ok)
        return fail_ssl(err, CBERR_INTERNAL, "could not hash a file");
    to_hex(md, 32, out);
    if (size)
        *size = total;
    return true;
}
