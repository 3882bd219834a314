/*
 * test_crypto.c
 *     Unit tests for engine/crypto.c: key files, township packages (every cipher this OpenSSL
 *     provides: round trip, any flipped byte fails, wrong key, truncation), detached
 *     signatures (ECDSA P-256 and SM2, keys made here), pseudonym HMACs.
 *
 * The HMAC-SHA-256 expectation is RFC 4231 test case 2 (computed independently of this code);
 * everything else is checked by round trips and by failure on change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

static char dir[512];

static void
path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void
write_file(const char *name, const void *data, size_t n, mode_t mode)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    chmod(p, mode);
}

static unsigned char *
read_file(const char *name, size_t *n)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t) l + 1);
    assert_int_equal(fread(b, 1, (size_t) l, f), (size_t) l);
    fclose(f);
    *n = (size_t) l;
    return b;
}

static void
make_key(CryptoKey *k, unsigned char fill)
{
    unsigned char b[CRYPTO_KEY_LEN];
    for (int i = 0; i < CRYPTO_KEY_LEN; i++)
        b[i] = (unsigned char) (fill + i * 7);
    crypto_key_set(k, b);
}

/* ------------------------------------------------------------ key files */

static void
test_key_file(void **state)
{
    (void) state;
    const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";
    write_file("good.key", hex, strlen(hex), 0600);
    char p[512];
    path_of(p, sizeof p, "good.key");
    CryptoKey k;
    CbError err = {0};
    assert_true(crypto_key_load(p, &k, &err));
    assert_int_equal(k.bytes[0], 0x00);
    assert_int_equal(k.bytes[15], 0xff);
    assert_int_equal(k.bytes[31], 0xff);
    assert_int_equal(strlen(k.id), 16);

    CryptoKey k2;
    unsigned char other[CRYPTO_KEY_LEN] = {1};
    crypto_key_set(&k2, other);
    assert_string_not_equal(k.id, k2.id);

    write_file("world.key", hex, strlen(hex), 0644);
    path_of(p, sizeof p, "world.key");
    assert_false(crypto_key_load(p, &k, &err));
    assert_non_null(strstr(err.message, "readable by every user"));

    write_file("short.key", "abcd\n", 5, 0600);
    path_of(p, sizeof p, "short.key");
    assert_false(crypto_key_load(p, &k, &err));
    assert_int_equal(err.kind, CBERR_INPUT);
    assert_non_null(strstr(err.message, "64 hexadecimal digits"));

    write_file("bad.key", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 64, 0600);
    path_of(p, sizeof p, "bad.key");
    assert_false(crypto_key_load(p, &k, &err));
}

/* ------------------------------------------------------------ packages */

static const char meta[] = "township=222401001\nasof=2026-11-28\n";

static void
make_members(void)
{
    unsigned char bin[70000];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char) (i * 31 + (i >> 8));
    write_file("book.xlsx", bin, sizeof bin, 0600);
    const char *csv = "\xef\xbb\xbfid,name\n222401********0159,\"金,\"\"哲\"\"\"\n";
    write_file("book.csv", csv, strlen(csv), 0600);
    write_file("empty.txt", "", 0, 0600);
}

static void
pack(const char *name, const CryptoKey *k, CryptoCipher c)
{
    char p1[512], p2[512], p3[512], out[512];
    path_of(p1, sizeof p1, "book.xlsx");
    path_of(p2, sizeof p2, "book.csv");
    path_of(p3, sizeof p3, "empty.txt");
    path_of(out, sizeof out, name);
    PkgMember m[] = {{"township_222401001_进学街道.xlsx", p1}, {"township_222401001_进学街道.csv", p2},
                     {"empty.txt", p3}};
    CbError err = {0};
    if (!crypto_package_write(out, k, c, meta, m, 3, &err))
        fail_msg("package_write: %s", err.message);
}

static void
round_trip(CryptoCipher c)
{
    if (!crypto_cipher_available(c)) {
        print_message("  (%s not provided by this OpenSSL: skipped)\n", crypto_cipher_name(c));
        return;
    }
    CryptoKey k;
    make_key(&k, 3);
    make_members();
    pack("rt.cbpkg", &k, c);
    char p[512];
    path_of(p, sizeof p, "rt.cbpkg");
    Package pk;
    CbError err = {0};
    if (!crypto_package_open(p, &k, &pk, &err))
        fail_msg("%s: open: %s %s", crypto_cipher_name(c), err.message, err.detail);
    assert_int_equal(pk.cipher, c);
    assert_string_equal(pk.key_id, k.id);
    assert_string_equal(pk.meta, meta);
    assert_int_equal(pk.nfiles, 3);
    assert_string_equal(pk.files[0].name, "township_222401001_进学街道.xlsx");
    assert_string_equal(pk.files[2].name, "empty.txt");
    size_t n;
    unsigned char *orig = read_file("book.xlsx", &n);
    assert_int_equal(pk.files[0].len, n);
    assert_memory_equal(pk.files[0].data, orig, n);
    free(orig);
    orig = read_file("book.csv", &n);
    assert_int_equal(pk.files[1].len, n);
    assert_memory_equal(pk.files[1].data, orig, n);
    free(orig);
    assert_int_equal(pk.files[2].len, 0);
    crypto_package_free(&pk);

    /* the header alone, without the key */
    assert_true(crypto_package_info(p, &pk, &err));
    assert_string_equal(pk.meta, meta);
    assert_int_equal(pk.nfiles, 0);
    crypto_package_free(&pk);

    /* two packages of the same files differ (random IV) */
    pack("rt2.cbpkg", &k, c);
    size_t n1, n2;
    unsigned char *a = read_file("rt.cbpkg", &n1), *b = read_file("rt2.cbpkg", &n2);
    assert_int_equal(n1, n2);
    assert_true(memcmp(a, b, n1) != 0);
    /* no plaintext in the file */
    assert_null(memmem(a, n1, "222401********0159", 18));
    free(a);
    free(b);
}

static void test_round_trip_aes(void **state) { (void) state; round_trip(CRYPTO_AES_256_GCM); }
static void test_round_trip_sm4_gcm(void **state) { (void) state; round_trip(CRYPTO_SM4_GCM); }
static void test_round_trip_sm4_ctr(void **state) { (void) state; round_trip(CRYPTO_SM4_CTR_HMAC_SM3); }

/* Every single flipped byte (a sample over the whole file) fails, with nothing returned. */
static void
tamper(CryptoCipher c)
{
    if (!crypto_cipher_available(c))
        return;
    CryptoKey k;
    make_key(&k, 9);
    make_members();
    pack("t.cbpkg", &k, c);
    size_t n;
    unsigned char *orig = read_file("t.cbpkg", &n);
    char p[512];
    path_of(p, sizeof p, "x.cbpkg");
    size_t positions[] = {0, 8, 9, 10, 12, 19, 20, 23, 24, 30, 40, 60, 61, 100, 1000, n / 2, n - 17, n - 16,
                          n - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        size_t at = positions[i];
        orig[at] ^= 0x01;
        write_file("x.cbpkg", orig, n, 0600);
        orig[at] ^= 0x01;
        Package pk;
        CbError err = {0};
        if (crypto_package_open(p, &k, &pk, &err))
            fail_msg("%s: byte %zu flipped, yet the package opened", crypto_cipher_name(c), at);
        assert_int_equal(err.kind, CBERR_INPUT);
        assert_null(pk.plain);
        assert_int_equal(pk.nfiles, 0);
    }
    /* truncated, and one byte more */
    for (size_t cut = 1; cut < n; cut = cut * 3 + 1) {
        write_file("x.cbpkg", orig, n - cut, 0600);
        Package pk;
        CbError err = {0};
        assert_false(crypto_package_open(p, &k, &pk, &err));
    }
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, orig, n);
    longer[n] = 0;
    write_file("x.cbpkg", longer, n + 1, 0600);
    Package pk;
    CbError err = {0};
    assert_false(crypto_package_open(p, &k, &pk, &err));
    free(longer);
    free(orig);
}

static void test_tamper_aes(void **state) { (void) state; tamper(CRYPTO_AES_256_GCM); }
static void test_tamper_sm4_gcm(void **state) { (void) state; tamper(CRYPTO_SM4_GCM); }
static void test_tamper_sm4_ctr(void **state) { (void) state; tamper(CRYPTO_SM4_CTR_HMAC_SM3); }

static void
test_wrong_key(void **state)
{
    (void) state;
    CryptoKey k, other;
    make_key(&k, 1);
    make_key(&other, 2);
    make_members();
    pack("w.cbpkg", &k, CRYPTO_AES_256_GCM);
    char p[512];
    path_of(p, sizeof p, "w.cbpkg");
    Package pk;
    CbError err = {0};
    assert_false(crypto_package_open(p, &other, &pk, &err));
    assert_int_equal(err.kind, CBERR_INPUT);
    assert_non_null(strstr(err.message, "wrong key"));
    assert_null(pk.plain);

    /* a key with the right id but other bytes (forged header) still fails: the tag decides */
    CryptoKey forged = other;
    memcpy(forged.id, k.id, sizeof forged.id);
    assert_false(crypto_package_open(p, &forged, &pk, &err));
    assert_non_null(strstr(err.message, "authentication failed"));
}

static void
test_not_a_package(void **state)
{
    (void) state;
    write_file("plain.cbpkg", "id,name\n1,2\n", 12, 0600);
    char p[512];
    path_of(p, sizeof p, "plain.cbpkg");
    CryptoKey k;
    make_key(&k, 1);
    Package pk;
    CbError err = {0};
    assert_false(crypto_package_open(p, &k, &pk, &err));
    assert_non_null(strstr(err.message, "not a canbao package"));
}

static void
test_bad_member_name(void **state)
{
    (void) state;
    make_members();
    char p1[512], out[512];
    path_of(p1, sizeof p1, "book.csv");
    path_of(out, sizeof out, "n.cbpkg");
    CryptoKey k;
    make_key(&k, 1);
    const char *bad[] = {"../etc/passwd", "a/b.csv", ".hidden", "", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PkgMember m[] = {{bad[i], p1}};
        CbError err = {0};
        assert_false(crypto_package_write(out, &k, CRYPTO_AES_256_GCM, meta, m, 1, &err));
    }
    assert_int_equal(access(out, F_OK), -1);
}

static void
test_cipher_parse(void **state)
{
    (void) state;
    CryptoCipher c;
    char note[300];
    CbError err = {0};
    assert_true(crypto_cipher_parse("aes-256-gcm", &c, note, sizeof note, &err));
    assert_int_equal(c, CRYPTO_AES_256_GCM);
    assert_true(crypto_cipher_parse("sm4", &c, note, sizeof note, &err));
    if (crypto_cipher_available(CRYPTO_SM4_GCM)) {
        assert_int_equal(c, CRYPTO_SM4_GCM);
        assert_string_equal(note, "");
    } else {
        assert_int_equal(c, CRYPTO_SM4_CTR_HMAC_SM3);
        assert_non_null(strstr(note, "SM4-GCM is not provided"));
        assert_false(crypto_cipher_parse("sm4-gcm", &c, note, sizeof note, &err));
        assert_int_equal(err.kind, CBERR_USAGE);
    }
    assert_false(crypto_cipher_parse("rot13", &c, note, sizeof note, &err));
    assert_int_equal(err.kind, CBERR_USAGE);
}

/* ------------------------------------------------------------ signatures */

static void
save_keypair(EVP_PKEY *pk, const char *priv, const char *pub)
{
    char p[512];
    path_of(p, sizeof p, priv);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    path_of(p, sizeof p, pub);
    f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, pk), 1);
    fclose(f);
}

static void
sign_verify(EVP_PKEY *pk, EVP_PKEY *other, CryptoSigAlg want)
{
    save_keypair(pk, "s.pem", "s.pub");
    save_keypair(other, "o.pem", "o.pub");
    make_members();
    char priv[512], pub[512], opub[512], file[512], sig[512];
    path_of(priv, sizeof priv, "s.pem");
    path_of(pub, sizeof pub, "s.pub");
    path_of(opub, sizeof opub, "o.pub");
    path_of(file, sizeof file, "book.xlsx");
    path_of(sig, sizeof sig, "book.xlsx.sig");
    CryptoSignKey sk, vk, ok2;
    CbError err = {0};
    assert_true(crypto_sign_key_load(priv, &sk, &err));
    assert_int_equal(sk.alg, want);
    assert_true(sk.has_private);
    assert_true(crypto_sign_key_load(pub, &vk, &err));
    assert_false(vk.has_private);
    assert_string_equal(sk.fingerprint, vk.fingerprint);
    assert_true(crypto_sign_key_load(opub, &ok2, &err));

    if (!crypto_sign_file(&sk, file, sig, &err))
        fail_msg("sign: %s %s", err.message, err.detail);
    if (!crypto_verify_file(&vk, file, sig, &err))
        fail_msg("verify: %s %s", err.message, err.detail);
    assert_false(crypto_sign_file(&vk, file, sig, &err));   /* a public key cannot sign */

    /* another key */
    assert_false(crypto_verify_file(&ok2, file, sig, &err));
    assert_int_equal(err.kind, CBERR_INPUT);
    assert_non_null(strstr(err.message, "signature does not match"));

    /* one flipped byte in the signed file, then in the signature */
    size_t n;
    unsigned char *b = read_file("book.xlsx", &n);
    b[n / 3] ^= 0x80;
    write_file("book.xlsx", b, n, 0600);
    assert_false(crypto_verify_file(&vk, file, sig, &err));
    b[n / 3] ^= 0x80;
    write_file("book.xlsx", b, n, 0600);
    free(b);
    assert_true(crypto_verify_file(&vk, file, sig, &err));
    unsigned char *s = read_file("book.xlsx.sig", &n);
    s[n - 3] ^= 0x04;
    write_file("book.xlsx.sig", s, n, 0600);
    assert_false(crypto_verify_file(&vk, file, sig, &err));
    free(s);

    crypto_sign_key_free(&sk);
    crypto_sign_key_free(&vk);
    crypto_sign_key_free(&ok2);
}

static void
test_sign_ecdsa(void **state)
{
    (void) state;
    EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(a);
    assert_non_null(b);
    sign_verify(a, b, CRYPTO_SIG_ECDSA_P256_SHA256);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void
test_sign_sm2(void **state)
{
    (void) state;
    EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    EVP_PKEY *b = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    if (a == NULL || b == NULL) {
        print_message("  (SM2 not provided by this OpenSSL: skipped)\n");
        EVP_PKEY_free(a);
        EVP_PKEY_free(b);
        return;
    }
    sign_verify(a, b, CRYPTO_SIG_SM2_SM3);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void
test_sign_key_refused(void **state)
{
    (void) state;
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(rsa);
    assert_non_null(p384);
    save_keypair(rsa, "rsa.pem", "rsa.pub");
    save_keypair(p384, "p384.pem", "p384.pub");
    char p[512];
    CryptoSignKey k;
    CbError err = {0};
    path_of(p, sizeof p, "rsa.pem");
    assert_false(crypto_sign_key_load(p, &k, &err));
    assert_non_null(strstr(err.message, "not supported"));
    path_of(p, sizeof p, "p384.pem");
    assert_false(crypto_sign_key_load(p, &k, &err));
    path_of(p, sizeof p, "book.csv");
    make_members();
    assert_false(crypto_sign_key_load(p, &k, &err));
    assert_non_null(strstr(err.message, "not a PEM key"));
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
}

/* ------------------------------------------------------------ pseudonyms */

static void
test_hmac(void **state)
{
    (void) state;
    CbError err = {0};
    /* RFC 4231, test case 2 */
    CryptoMac *m = crypto_mac_new((const unsigned char *) "Jefe", 4, CRYPTO_HMAC_SHA256, &err);
    assert_non_null(m);
    char hex[65];
    const char *msg = "what do ya want for nothing?";
    assert_true(crypto_mac_hex(m, msg, strlen(msg), hex));
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* the keyed context is reused: the same answer again */
    assert_true(crypto_mac_hex(m, msg, strlen(msg), hex));
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    crypto_mac_free(m);

    CryptoKey k1, k2;
    make_key(&k1, 5);
    make_key(&k2, 6);
    const char *id = "222401194007070159";
    char a[65], b[65], c[65], d[65];
    CryptoMac *s1 = crypto_mac_new(k1.bytes, CRYPTO_KEY_LEN, CRYPTO_HMAC_SHA256, &err);
    CryptoMac *s2 = crypto_mac_new(k2.bytes, CRYPTO_KEY_LEN, CRYPTO_HMAC_SHA256, &err);
    CryptoMac *m1 = crypto_mac_new(k1.bytes, CRYPTO_KEY_LEN, CRYPTO_HMAC_SM3, &err);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(m1);
    assert_true(crypto_mac_hex(s1, id, 18, a));
    assert_true(crypto_mac_hex(s2, id, 18, b));
    assert_true(crypto_mac_hex(m1, id, 18, c));
    assert_true(crypto_mac_hex(s1, "222401194007070167", 18, d));
    assert_int_equal(strlen(a), 64);
    assert_string_not_equal(a, b);   /* another key */
    assert_string_not_equal(a, c);   /* another algorithm */
    assert_string_not_equal(a, d);   /* another person */
    crypto_mac_free(s1);
    crypto_mac_free(s2);
    crypto_mac_free(m1);

    CryptoMacAlg alg;
    assert_true(crypto_mac_alg_parse("sm3", &alg, &err));
    assert_int_equal(alg, CRYPTO_HMAC_SM3);
    assert_false(crypto_mac_alg_parse("md5", &alg, &err));
}

static int
setup(void **state)
{
    (void) state;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/canbao-test-crypto.XXXXXX", t && *t ? t : P_tmpdir);
    return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void) state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_round_trip_aes),
        cmocka_unit_test(test_round_trip_sm4_gcm),
        cmocka_unit_test(test_round_trip_sm4_ctr),
        cmocka_unit_test(test_tamper_aes),
        cmocka_unit_test(test_tamper_sm4_gcm),
        cmocka_unit_test(test_tamper_sm4_ctr),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_not_a_package),
        cmocka_unit_test(test_bad_member_name),
        cmocka_unit_test(test_cipher_parse),
        cmocka_unit_test(test_sign_ecdsa),
        cmocka_unit_test(test_sign_sm2),
        cmocka_unit_test(test_sign_key_refused),
        cmocka_unit_test(test_hmac),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
