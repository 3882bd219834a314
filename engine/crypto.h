/*
 * crypto — keys, township packages (an encrypted container of files), detached signatures and
 * pseudonym tokens; OpenSSL 3 EVP interfaces only.
 *
 * Keys.  A symmetric key file (package key, pseudonym key) holds 64 hexadecimal digits: 256
 * bits, e.g. from `openssl rand -hex 32 > package.key` (mode 0600; white space around the
 * digits is ignored).  A signing key is a PEM private key, EC on P-256 (ECDSA with SHA-256)
 * or SM2 (signatures with SM3), e.g. `openssl genpkey -algorithm EC -pkeyopt
 * ec_paramgen_curve:P-256 -out sign.pem` or `openssl genpkey -algorithm SM2 -out sign.pem`;
 * the receiving side verifies with the public key (`openssl pkey -in sign.pem -pubout`).
 *
 * Package format, version 1 (all integers big-endian):
 *
 *   offset  size     field
 *   0       8        magic "CANBAOPK"
 *   8       1        version = 1
 *   9       1        cipher: 1 AES-256-GCM, 2 SM4-GCM, 3 SM4-CTR + HMAC-SM3 (encrypt-then-MAC)
 *   10      1        IV length L (12 for GCM, 16 for CTR)
 *   11      1        0
 *   12      8        key id: the first 8 bytes of HMAC-SHA-256(key, "canbao key id")
 *   20      4        metadata length M
 *   24      L        IV (random for every package)
 *   24+L    M        metadata, UTF-8 "name=value\n" lines (township, asof, run, ...), not secret
 *   24+L+M  ...      ciphertext of the payload
 *   end-T   T        tag: GCM tag (T = 16), or HMAC-SM3 over header and ciphertext (T = 32)
 *
 * Everything before the ciphertext (the header) is authenticated with it (GCM additional data,
 * or the HMAC's input), so a change to any byte of the file fails decryption.  The cipher keys
 * are derived from the key file with HKDF-SHA-256 (info "canbao package v1 " + cipher name):
 * 32 bytes for AES-256, 16 for SM4, and 32 more for HMAC-SM3.  The payload is the files, each
 * as 'F', name length (2 bytes), name, size (8 bytes), bytes; then 'E'.
 *
 * Signatures are detached: the DER signature of the whole package file in PACKAGE.sig, as
 * `openssl dgst -sha256 -sign` writes it (SM2: SM3 with the default ID "1234567812345678" of
 * GB/T 32918), so a township can also verify with the openssl command line.
 *
 * Pseudonym tokens: HMAC-SHA-256 or HMAC-SM3 of the 18-character ID number under the pseudonym
 * key, in lowercase hex (`printf %s ID | openssl dgst -sha256 -mac HMAC -macopt hexkey:KEY`).
 *
 * Every function returns false on failure with err filled; what they allocate is freed by the
 * matching _free.  Errors in a file a township received (damaged, altered, wrong key) are
 * CBERR_INPUT; missing or unreadable files CBERR_IO.
 */
#ifndef CANBAO_CRYPTO_H
#define CANBAO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"

#define CRYPTO_KEY_LEN 32

typedef struct CryptoKey {
    unsigned char bytes[CRYPTO_KEY_LEN];
    char          id[17];      /* key id in hex: tells keys apart without revealing them */
} CryptoKey;

/* Reads a key file of 64 hex digits.  A file that every user may read (mode o+r) is refused. */
bool crypto_key_load(const char *path, CryptoKey *key, CbError *err);
/* Sets a key from bytes (tests, tools). */
void crypto_key_set(CryptoKey *key, const unsigned char bytes[CRYPTO_KEY_LEN]);
/* Overwrites the key in memory. */
void crypto_key_wipe(CryptoKey *key);

typedef enum {
    CRYPTO_AES_256_GCM = 1,
    CRYPTO_SM4_GCM = 2,
    CRYPTO_SM4_CTR_HMAC_SM3 = 3
} CryptoCipher;

const char *crypto_cipher_name(CryptoCipher c);
/* Whether this OpenSSL provides the cipher (SM4-GCM came with OpenSSL 3.2). */
bool crypto_cipher_available(CryptoCipher c);
/* "aes-256-gcm" (or "aes"), "sm4-gcm", "sm4-ctr-hmac-sm3", or "sm4": SM4-GCM where OpenSSL has
 * it, else SM4-CTR with HMAC-SM3, and *note says so (note may be NULL).  Unknown names and
 * ciphers this OpenSSL lacks are CBERR_USAGE. */
bool crypto_cipher_parse(const char *name, CryptoCipher *out, char *note, size_t note_cap, CbError *err);

/* A file to put into a package: stored under `name` (no folders), read from `path`. */
typedef struct PkgMember {
    const char *name;
    const char *path;
} PkgMember;

/* Writes a package of the members to out_path (through a temporary file renamed at the end). */
bool crypto_package_write(const char *out_path, const CryptoKey *key, CryptoCipher cipher,
                          const char *meta, const PkgMember *members, int nmembers, CbError *err);

typedef struct PkgFile {
    const char          *name;      /* owned by the Package */
    const unsigned char *data;      /* points into the Package's payload */
    size_t               len;
} PkgFile;

typedef struct Package {
    CryptoCipher   cipher;
    char           key_id[17];
    char          *meta;            /* NUL-terminated copy of the metadata */
    PkgFile       *files;
    int            nfiles;
    unsigned char *plain;           /* the decrypted payload the files point into */
    size_t         plain_len;
} Package;

/* Reads the header only (no key needed): cipher, key id and metadata; files stay empty. */
bool crypto_package_info(const char *path, Package *out, CbError *err);
/* Decrypts and authenticates path with key; nothing is returned unless the whole file is
 * authentic.  Wrong key, damage or alteration: CBERR_INPUT with a message saying which. */
bool crypto_package_open(const char *path, const CryptoKey *key, Package *out, CbError *err);
void crypto_package_free(Package *p);

typedef enum {
    CRYPTO_SIG_ECDSA_P256_SHA256 = 1,
    CRYPTO_SIG_SM2_SM3 = 2
} CryptoSigAlg;

typedef struct CryptoSignKey {
    void        *pkey;              /* EVP_PKEY */
    CryptoSigAlg alg;
    bool         has_private;
    char         fingerprint[17];   /* first 8 bytes of SHA-256 of the DER public key, hex */
} CryptoSignKey;

const char *crypto_sig_alg_name(CryptoSigAlg a);
/* Loads a PEM key: a private key (needed to sign) or a public key (enough to verify). */
bool crypto_sign_key_load(const char *path, CryptoSignKey *key, CbError *err);
void crypto_sign_key_free(CryptoSignKey *key);
/* Signs the file at path; writes the DER signature to sig_path. */
bool crypto_sign_file(const CryptoSignKey *key, const char *path, const char *sig_path, CbError *err);
/* Verifies the detached signature; a mismatch is CBERR_INPUT. */
bool crypto_verify_file(const CryptoSignKey *key, const char *path, const char *sig_path, CbError *err);

typedef enum {
    CRYPTO_HMAC_SHA256 = 1,
    CRYPTO_HMAC_SM3 = 2
} CryptoMacAlg;

const char *crypto_mac_alg_name(CryptoMacAlg a);   /* "HMAC-SHA-256", "HMAC-SM3" */
/* "sha256" / "hmac-sha-256" or "sm3" / "hmac-sm3"; else CBERR_USAGE. */
bool crypto_mac_alg_parse(const char *name, CryptoMacAlg *out, CbError *err);

typedef struct CryptoMac CryptoMac;
/* A keyed HMAC, reusable for many messages. */
CryptoMac *crypto_mac_new(const unsigned char *key, size_t key_len, CryptoMacAlg alg, CbError *err);
/* out: 64 lowercase hex digits and a NUL (both algorithms give 32 bytes). */
bool crypto_mac_hex(CryptoMac *m, const void *msg, size_t len, char out[65]);
void crypto_mac_free(CryptoMac *m);

/* SHA-256 of a file in hex (65 bytes with the NUL); *size receives its length. */
bool crypto_file_sha256(const char *path, char out[65], uint64_t *size, CbError *err);

#endif
