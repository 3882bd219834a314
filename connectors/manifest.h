/*
 * manifest — is a source's delivery complete and untampered?
 *
 * A source definition may ask for a manifest (`manifest = glob`): a text file in the delivery
 * listing, one line per file, the digest algorithm (sha256 or sm3), the hex digest, the size
 * in bytes and the file name:
 *
 *     # comment
 *     sha256  9f86d081...  123456  police_register_20261128.csv
 *
 * and optionally a detached signature over the manifest (`signature = glob`) made with the
 * agency's private key, checked against its public key (`public_key = file.pem`, relative to
 * the definition's folder): RSA or ECDSA with SHA-256, or SM2 with SM3 (default user ID
 * 1234567812345678).  The signature file holds the DER signature, raw or base64.
 *
 * manifest_verify checks, before any record is read: the signature; that every file of the
 * source is listed; that every listed file exists with that size and digest.  On failure err
 * says which file and what did not match; the caller stops that source.
 */
#ifndef CANBAO_MANIFEST_H
#define CANBAO_MANIFEST_H

#include "cberror.h"
#include "sourcedef.h"

/* files: the names (within dir) of the delivery's files that the source claims. */
bool manifest_verify(const SourceDef *def, const char *dir, char *const *all_files, int nall,
                     char *const *files, int nfiles, CbError *err);

/* Hex digest of a whole file with "sha256" or "sm3".  out holds at least 129 bytes. */
bool manifest_file_digest(const char *path, const char *algo, char *out, uint64_t *size,
                          CbError *err);

/* Verifies a detached signature over data with a PEM public key file. */
bool manifest_verify_signature(const char *data, size_t len, const char *sig_path,
                               const char *pubkey_path, CbError *err);

#endif
