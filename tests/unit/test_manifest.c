/*
 * test_manifest.c
 *     Unit tests for connectors/manifest.c: a delivery checked against its
 *     manifest (sha256 and sm3 lines) and the manifest's detached signature
 *     (RSA and ECDSA with SHA-256, SM2 with SM3 and the default user ID; raw
 *     DER and base64), and every way a delivery can fail that check: a changed
 *     data file (digest), a truncated one (size), a file of the source missing
 *     from the manifest, a listed file missing from the delivery, a tampered
 *     manifest, a signature by another key, a malformed manifest line (named by
 *     its line number), no manifest, two manifests.  Also manifest_file_digest
 *     against the published SHA-256 and SM3 test vectors.
 *
 * Each test gets its own temporary folder (mkdtemp under /tmp, removed in the
 * teardown) holding the definition's folder (where the agency's public key
 * lives: public_key is resolved relative to the definition's path) and the
 * delivery folder.  Keys are generated here with OpenSSL 3, digests and
 * signatures are computed here with OpenSSL EVP, independently of the code
 * under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "manifest.h"
#include "sourcedef.h"

/* ------------------------------------------------------------ keys (made once) */

static EVP_PKEY *key_rsa;
static EVP_PKEY *key_ec;
static EVP_PKEY *key_sm2;
static EVP_PKEY *key_ec_other;	/* "another agency's" key */

static EVP_PKEY *
keygen_sm2(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY   *key = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int
group_setup(void **state)
{
	(void) state;
	key_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	key_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	key_ec_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	key_sm2 = keygen_sm2();
	if (key_rsa == NULL || key_ec == NULL || key_ec_other == NULL || key_sm2 == NULL)
	{
		fprintf(stderr, "test_manifest: key generation failed\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	EVP_PKEY_free(key_rsa);
	EVP_PKEY_free(key_ec);
	EVP_PKEY_free(key_ec_other);
	EVP_PKEY_free(key_sm2);
	return 0;
}

/* ------------------------------------------------------------ the delivery fixture */

#define DATA1 "reg_20261128_1.csv"		/* source reg, large (several read chunks) */
#define DATA2 "reg_20261128_2.csv"		/* source reg, small */
#define OTHER "oth_20261128.csv"		/* another source */
#define MANIFEST "reg_20261128.manifest"
#define SIGFILE "reg_20261128.sig"

typedef struct Fx
{
	char		root[64];		/* /tmp/canbao_manifest_XXXXXX */
	char		defs[128];		/* root/defs: the definition's folder, holds the key */
	char		dlv[128];		/* root/delivery */
	char		conf[192];		/* root/defs/reg.conf (not written: parsed from a string) */
	char		pem[192];		/* root/defs/agency.pem */
	unsigned char *d1;
	size_t		n1;
	unsigned char *d2;
	size_t		n2;
	unsigned char *d3;
	size_t		n3;
	SourceDef	def;
	bool		have_def;
} Fx;

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	if (len > 0 && fwrite(data, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	if (fclose(f) != 0)
		fail_msg("cannot close %s", path);
}

static unsigned char *
dup_bytes(const char *s, size_t *len)
{
	*len = strlen(s);
	return (unsigned char *) strdup(s);
}

static int
setup(void **state)
{
	Fx		   *fx = calloc(1, sizeof *fx);
	size_t		cap = 150000;
	size_t		n = 0;

	if (fx == NULL)
		return -1;
	snprintf(fx->root, sizeof fx->root, "/tmp/canbao_manifest_XXXXXX");
	if (mkdtemp(fx->root) == NULL)
	{
		free(fx);
		return -1;
	}
	snprintf(fx->defs, sizeof fx->defs, "%s/defs", fx->root);
	snprintf(fx->dlv, sizeof fx->dlv, "%s/delivery", fx->root);
	snprintf(fx->conf, sizeof fx->conf, "%s/reg.conf", fx->defs);
	snprintf(fx->pem, sizeof fx->pem, "%s/agency.pem", fx->defs);
	if (mkdir(fx->defs, 0700) != 0 || mkdir(fx->dlv, 0700) != 0)
	{
		fprintf(stderr, "test_manifest: cannot make folders in %s\n", fx->root);
		free(fx);
		return -1;
	}

	/* a data file larger than manifest.c's 64 KiB read buffer */
	fx->d1 = malloc(cap);
	n = (size_t) snprintf((char *) fx->d1, cap, "身份证号码,区划,状态\n");
	for (int i = 0; n + 64 < cap; i++)
		n += (size_t) snprintf((char *) fx->d1 + n, cap - n, "22240119%02d0101%03d%c,222401,正常\n",
							   40 + i % 60, i % 1000, "0123456789X"[i % 11]);
	fx->n1 = n;
	fx->d2 = dup_bytes("身份证号码,区划,状态\n222401198001010012,222401,注销\n", &fx->n2);
	fx->d3 = dup_bytes("id,amount\n222401198001010012,12.50\n", &fx->n3);
	write_file(fx->dlv, DATA1, fx->d1, fx->n1);
	write_file(fx->dlv, DATA2, fx->d2, fx->n2);
	write_file(fx->dlv, OTHER, fx->d3, fx->n3);
	*state = fx;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	Fx		   *fx = *state;
	int			rc;

	if (fx->have_def)
		sourcedef_free(&fx->def);
	rc = nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->d1);
	free(fx->d2);
	free(fx->d3);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/* Parses the source definition (path inside the temp folder), with or without signature. */
static SourceDef *
load_def(Fx *fx, bool with_signature)
{
	char		text[1024];
	CbError		err;
	char		want[256];

	snprintf(text, sizeof text,
			 "[source]\n"
			 "name       = reg\n"
			 "agency     = 公安\n"
			 "fact       = register\n"
			 "files      = reg_*.csv\n"
			 "manifest   = reg_*.manifest\n"
			 "%s"
			 "public_key = agency.pem\n"
			 "[fields]\n"
			 "id_number = 身份证号码 | idnum\n"
			 "division  = 区划 | trim\n"
			 "status    = 状态 | code(正常:active, 注销:cancelled)\n",
			 with_signature ? "signature  = reg_*.sig\n" : "");
	memset(&err, 0, sizeof err);
	if (!sourcedef_parse(fx->conf, text, strlen(text), &fx->def, &err))
		fail_msg("sourcedef_parse failed: %s: %s", err.input_at, err.message);
	fx->have_def = true;
	assert_string_equal(fx->def.manifest, "reg_*.manifest");
	if (with_signature)
		assert_string_equal(fx->def.signature, "reg_*.sig");
	else
		assert_null(fx->def.signature);
	snprintf(want, sizeof want, "%s/agency.pem", fx->defs);
	assert_string_equal(fx->def.public_key, want);
	return &fx->def;
}

/* Hex digest with OpenSSL's one-shot EVP_Q_digest ("SHA256" or "SM3"). */
static void
hex_digest(const char *algo, const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t		mdlen = 0;

	if (!EVP_Q_digest(NULL, algo, NULL, data, len, md, &mdlen))
		fail_msg("EVP_Q_digest %s failed", algo);
	for (size_t i = 0; i < mdlen; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[2 * mdlen] = '\0';
}

/* Appends one manifest line for data named `name` ("sha256" or "sm3"). */
static void
add_line(char *m, size_t cap, const char *algo, const char *name, const void *data, size_t len)
{
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t		used = strlen(m);

	hex_digest(strcmp(algo, "sm3") == 0 ? "SM3" : "SHA256", data, len, hex);
	snprintf(m + used, cap - used, "%s  %s  %zu  %s\n", algo, hex, len, name);
}

/*
 * The usual manifest: a comment, the two files of the source (the second with
 * leading white space, a tab and a CRLF ending), a blank line and the other
 * source's file (a manifest may cover the whole delivery).
 */
static void
std_manifest(Fx *fx, const char *algo, char *m, size_t cap)
{
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t		used;

	snprintf(m, cap, "# 公安 delivery 20261128\n");
	add_line(m, cap, algo, DATA1, fx->d1, fx->n1);
	hex_digest(strcmp(algo, "sm3") == 0 ? "SM3" : "SHA256", fx->d2, fx->n2, hex);
	used = strlen(m);
	snprintf(m + used, cap - used, "  %s\t%s %zu %s\r\n\n", algo, hex, fx->n2, DATA2);
	add_line(m, cap, algo, OTHER, fx->d3, fx->n3);
}

static void
write_pubkey(Fx *fx, EVP_PKEY *key)
{
	FILE	   *f = fopen(fx->pem, "w");

	if (f == NULL || PEM_write_PUBKEY(f, key) != 1)
		fail_msg("cannot write %s", fx->pem);
	fclose(f);
}

/*
 * Detached signature over data: SHA-256 (RSA, ECDSA) or SM3 with the SM2 user
 * ID sm2_id (the default 1234567812345678 when NULL).
 */
static unsigned char *
sign_bytes(EVP_PKEY *key, const void *data, size_t len, const char *sm2_id, size_t *siglen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool		sm2 = EVP_PKEY_is_a(key, "SM2");
	unsigned char *sig;

	if (sm2_id == NULL)
		sm2_id = "1234567812345678";
	assert_non_null(mctx);
	if (EVP_DigestSignInit(mctx, &pctx, sm2 ? EVP_sm3() : EVP_sha256(), NULL, key) != 1)
		fail_msg("EVP_DigestSignInit failed");
	if (sm2 && EVP_PKEY_CTX_set1_id(pctx, sm2_id, strlen(sm2_id)) <= 0)
		fail_msg("EVP_PKEY_CTX_set1_id failed");
	if (EVP_DigestSign(mctx, NULL, siglen, data, len) != 1)
		fail_msg("EVP_DigestSign (length) failed");
	sig = malloc(*siglen);
	assert_non_null(sig);
	if (EVP_DigestSign(mctx, sig, siglen, data, len) != 1)
		fail_msg("EVP_DigestSign failed");
	EVP_MD_CTX_free(mctx);
	return sig;
}

/* Signs m with key and writes SIGFILE: raw DER, or base64 in lines of 64 characters. */
static void
write_signature_id(Fx *fx, EVP_PKEY *key, const char *m, bool base64, const char *sm2_id)
{
	size_t		siglen;
	unsigned char *sig = sign_bytes(key, m, strlen(m), sm2_id, &siglen);

	if (!base64)
		write_file(fx->dlv, SIGFILE, sig, siglen);
	else
	{
		size_t		blen = 4 * ((siglen + 2) / 3);
		char	   *b = malloc(blen + 1);
		char	   *text = malloc(blen + blen / 64 + 4);
		size_t		k = 0;

		assert_int_equal(EVP_EncodeBlock((unsigned char *) b, sig, (int) siglen), (int) blen);
		for (size_t i = 0; i < blen; i++)
		{
			text[k++] = b[i];
			if (i % 64 == 63 || i + 1 == blen)
				text[k++] = '\n';
		}
		write_file(fx->dlv, SIGFILE, text, k);
		free(text);
		free(b);
	}
	free(sig);
}

static void
write_signature(Fx *fx, EVP_PKEY *key, const char *m, bool base64)
{
	write_signature_id(fx, key, m, base64, NULL);
}

/*
 * Runs manifest_verify the way the loader does: all = every file of the
 * delivery folder, files = those the source claims.
 */
static bool
verify(Fx *fx, CbError *err)
{
	char	   *all[64];
	char	   *mine[64];
	int			nall = 0;
	int			nmine = 0;
	DIR		   *d = opendir(fx->dlv);
	struct dirent *e;
	bool		ok;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL && nall < 64)
		if (e->d_name[0] != '.')
			all[nall++] = strdup(e->d_name);
	closedir(d);
	for (int i = 0; i < nall; i++)
		if (sourcedef_claims(&fx->def, all[i]))
			mine[nmine++] = all[i];
	memset(err, 0, sizeof *err);
	ok = manifest_verify(&fx->def, fx->dlv, all, nall, mine, nmine, err);
	for (int i = 0; i < nall; i++)
		free(all[i]);
	return ok;
}

static void
verify_ok(Fx *fx)
{
	CbError		err;

	if (!verify(fx, &err))
		fail_msg("manifest_verify failed: %s: %s (%s)", err.input_at, err.message, err.detail);
}

/* manifest_verify fails with an input error whose message holds msg and location holds at. */
static void
verify_fails(Fx *fx, const char *msg, const char *at)
{
	CbError		err;

	if (verify(fx, &err))
		fail_msg("manifest_verify accepted a delivery that should fail with \"%s\"", msg);
	assert_int_equal(err.kind, CBERR_INPUT);
	if (strstr(err.message, msg) == NULL || strstr(err.input_at, at) == NULL)
		fail_msg("error at \"%s\": \"%s\"; want at \"...%s...\": \"...%s...\"",
				 err.input_at, err.message, at, msg);
}

/* A signed delivery with the usual manifest; m holds the manifest as written. */
static void
deliver_signed(Fx *fx, EVP_PKEY *key, const char *algo, bool base64, char *m, size_t cap)
{
	load_def(fx, true);
	write_pubkey(fx, key);
	std_manifest(fx, algo, m, cap);
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	write_signature(fx, key, m, base64);
}

/* ------------------------------------------------------------ digests */

static void
test_digest_vectors(void **state)
{
	Fx		   *fx = *state;
	char		out[160];
	char		path[256];
	uint64_t	size = 0;
	CbError		err;

	write_file(fx->dlv, "abc.txt", "abc", 3);
	snprintf(path, sizeof path, "%s/abc.txt", fx->dlv);
	memset(&err, 0, sizeof err);
	assert_true(manifest_file_digest(path, "sha256", out, &size, &err));
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
	size = 0;
	assert_true(manifest_file_digest(path, "SM3", out, &size, &err));
	assert_string_equal(out, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
	assert_int_equal(size, 3);

	/* empty file */
	write_file(fx->dlv, "empty.txt", "", 0);
	snprintf(path, sizeof path, "%s/empty.txt", fx->dlv);
	assert_true(manifest_file_digest(path, "sha256", out, &size, &err));
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(size, 0);

	/* a file of several read chunks, against the one-shot digest */
	{
		char		want[160];

		snprintf(path, sizeof path, "%s/%s", fx->dlv, DATA1);
		hex_digest("SM3", fx->d1, fx->n1, want);
		assert_true(manifest_file_digest(path, "sm3", out, &size, &err));
		assert_string_equal(out, want);
		assert_int_equal(size, fx->n1);
	}

	/* unknown algorithm, missing file */
	assert_false(manifest_file_digest(path, "md5", out, &size, &err));
	assert_int_equal(err.kind, CBERR_INPUT);
	assert_non_null(strstr(err.message, "unknown digest algorithm md5"));
	snprintf(path, sizeof path, "%s/nonexistent.csv", fx->dlv);
	assert_false(manifest_file_digest(path, "sha256", out, &size, &err));
	assert_int_equal(err.kind, CBERR_INPUT);
	assert_non_null(strstr(err.input_at, "nonexistent.csv"));
}

/* ------------------------------------------------------------ good deliveries */

static void
test_rsa_der_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_rsa, "sha256", false, m, sizeof m);
	verify_ok(fx);
}

static void
test_rsa_base64_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_rsa, "sha256", true, m, sizeof m);
	verify_ok(fx);
}

static void
test_ecdsa_der_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	verify_ok(fx);
}

static void
test_ecdsa_base64_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", true, m, sizeof m);
	verify_ok(fx);
}

static void
test_sm2_sm3_der_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", false, m, sizeof m);
	verify_ok(fx);
}

static void
test_sm2_sm3_base64_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", true, m, sizeof m);
	verify_ok(fx);
}

/* The manifest covers the whole delivery; another source's files are not this source's business. */
static void
test_other_source_not_checked(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	write_file(fx->dlv, OTHER, "changed\n", 8);
	verify_ok(fx);
}

/* A manifest is asked but no signature: the digests alone are checked. */
static void
test_unsigned_manifest_ok(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	load_def(fx, false);
	std_manifest(fx, "sm3", m, sizeof m);
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	verify_ok(fx);
}

/* A definition without manifest: nothing to check. */
static void
test_no_manifest_asked(void **state)
{
	Fx		   *fx = *state;
	static const char text[] =
		"[source]\nname = reg\nfact = register\nfiles = reg_*.csv\n"
		"[fields]\nid_number = 身份证号码 | idnum\ndivision = 区划 | trim\n"
		"status = 状态 | code(正常:active, 注销:cancelled)\n";
	CbError		err;

	memset(&err, 0, sizeof err);
	assert_true(sourcedef_parse(fx->conf, text, strlen(text), &fx->def, &err));
	fx->have_def = true;
	assert_null(fx->def.manifest);
	verify_ok(fx);
}

/* ------------------------------------------------------------ failures */

static void
test_changed_byte(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	fx->d1[fx->n1 / 2] ^= 0x01;
	write_file(fx->dlv, DATA1, fx->d1, fx->n1);
	verify_fails(fx, "sha256 digest differs from the manifest", DATA1);
}

static void
test_changed_byte_sm3(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", true, m, sizeof m);
	fx->d2[0] ^= 0x20;
	write_file(fx->dlv, DATA2, fx->d2, fx->n2);
	verify_fails(fx, "sm3 digest differs from the manifest", DATA2);
}

static void
test_truncated(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];
	char		want[64];

	deliver_signed(fx, key_rsa, "sha256", false, m, sizeof m);
	write_file(fx->dlv, DATA1, fx->d1, fx->n1 - 100);
	snprintf(want, sizeof want, "file size %zu differs from the manifest's %zu", fx->n1 - 100, fx->n1);
	verify_fails(fx, want, DATA1);
}

static void
test_file_not_in_manifest(void **state)
{
	Fx		   *fx = *state;
	char		m[4096] = "# only one file of the source\n";

	load_def(fx, true);
	write_pubkey(fx, key_ec);
	add_line(m, sizeof m, "sha256", DATA1, fx->d1, fx->n1);
	add_line(m, sizeof m, "sha256", OTHER, fx->d3, fx->n3);
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	write_signature(fx, key_ec, m, false);
	verify_fails(fx, "file " DATA2 " is not in the manifest " MANIFEST, fx->dlv);
}

static void
test_listed_file_absent(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	load_def(fx, true);
	write_pubkey(fx, key_ec);
	std_manifest(fx, "sha256", m, sizeof m);
	add_line(m, sizeof m, "sha256", "reg_20261128_3.csv", "x\n", 2);
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	write_signature(fx, key_ec, m, false);
	verify_fails(fx, "file reg_20261128_3.csv is in the manifest but not in the delivery", MANIFEST);
}

/* A listed data file deleted from the delivery after the manifest was made. */
static void
test_listed_file_deleted(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];
	char		path[256];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	snprintf(path, sizeof path, "%s/%s", fx->dlv, DATA2);
	assert_int_equal(unlink(path), 0);
	verify_fails(fx, "file " DATA2 " is in the manifest but not in the delivery", MANIFEST);
}

/* A changed comment: every digest still matches, only the signature catches it. */
static void
test_tampered_manifest(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_rsa, "sha256", false, m, sizeof m);
	m[2] = 'X';
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	verify_fails(fx, "signature does not verify", SIGFILE);
}

static void
test_tampered_manifest_sm2(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", true, m, sizeof m);
	strcat(m, "# appended\n");
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	verify_fails(fx, "signature does not verify", SIGFILE);
}

static void
test_other_key(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", true, m, sizeof m);
	write_signature(fx, key_ec_other, m, true);
	verify_fails(fx, "signature does not verify", SIGFILE);
}

/* SM2 signed with a user ID other than the default one. */
static void
test_sm2_other_id(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", false, m, sizeof m);
	write_signature_id(fx, key_sm2, m, false, "ALICE123@YAHOO.COM");
	verify_fails(fx, "signature does not verify", SIGFILE);
}

/* An RSA signature checked against the agency's SM2 key. */
static void
test_wrong_key_type(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_sm2, "sm3", false, m, sizeof m);
	write_signature(fx, key_rsa, m, false);
	verify_fails(fx, "signature does not verify", SIGFILE);
}

static void
test_no_signature_file(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];
	char		path[256];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	snprintf(path, sizeof path, "%s/%s", fx->dlv, SIGFILE);
	assert_int_equal(unlink(path), 0);
	verify_fails(fx, "the delivery has no manifest signature", fx->dlv);
}

static void
test_malformed_line(void **state)
{
	Fx		   *fx = *state;
	char		m[4096] = "# line 1\n";
	char		at[256];

	load_def(fx, true);
	write_pubkey(fx, key_ec);
	add_line(m, sizeof m, "sha256", DATA1, fx->d1, fx->n1);		/* line 2 */
	strcat(m, "\n");												/* line 3 */
	strcat(m, "sha256 0123abcd " DATA2 "\n");						/* line 4: no size */
	add_line(m, sizeof m, "sha256", OTHER, fx->d3, fx->n3);
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	write_signature(fx, key_ec, m, false);
	snprintf(at, sizeof at, "%s/%s:4", fx->dlv, MANIFEST);
	verify_fails(fx, "malformed manifest line", at);
}

/* A line with no file name after the size. */
static void
test_malformed_line_no_name(void **state)
{
	Fx		   *fx = *state;
	char		m[4096] = "";
	char		at[256];

	load_def(fx, false);
	std_manifest(fx, "sha256", m, sizeof m);
	strcat(m, "sha256 0123abcd 12   \n");									/* line 6 */
	write_file(fx->dlv, MANIFEST, m, strlen(m));
	snprintf(at, sizeof at, "%s/%s:6", fx->dlv, MANIFEST);
	verify_fails(fx, "malformed manifest line", at);
}

static void
test_no_manifest(void **state)
{
	Fx		   *fx = *state;

	load_def(fx, true);
	write_pubkey(fx, key_ec);
	verify_fails(fx, "the delivery has no manifest (pattern reg_*.manifest)", fx->dlv);
}

static void
test_two_manifests(void **state)
{
	Fx		   *fx = *state;
	char		m[4096];

	deliver_signed(fx, key_ec, "sha256", false, m, sizeof m);
	write_file(fx->dlv, "reg_20261127.manifest", m, strlen(m));
	verify_fails(fx, "two files match the manifest pattern reg_*.manifest", fx->dlv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_digest_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_der_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_base64_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecdsa_der_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecdsa_base64_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sm2_sm3_der_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sm2_sm3_base64_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_source_not_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_manifest_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_manifest_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_byte_sm3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_not_in_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_file_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_file_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_manifest_sm2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sm2_other_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_signature_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_line_no_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_manifests, setup, teardown),
	};

	return cmocka_run_group_tests_name("manifest", tests, group_setup, group_teardown);
}
