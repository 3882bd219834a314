/*
 * bytestream — the bytes of an extract file, gzip undone.
 *
 * Opens a file (or a memory buffer) and yields its content; when the content starts with the
 * gzip magic bytes 1f 8b it is inflated with ISA-L's igzip (concatenated members included, the
 * CRC-32 and size of each member checked), otherwise passed through.  igzip streams like zlib
 * and inflates the same files 2.4-2.8 times faster (tests/bench/RESULTS.md).  A gzip stream that ends early or is corrupt is an error that names the file
 * and the compressed byte offset.  Optionally transcodes text to UTF-8 with iconv
 * (bytestream_set_encoding): a byte that is not valid in the declared encoding comes out as
 * the byte 0xFF, which never occurs in UTF-8, so that the reader above rejects exactly the
 * record that holds it.  Internal to connectors/.
 */
#ifndef CANBAO_BYTESTREAM_H
#define CANBAO_BYTESTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <iconv.h>
#include <openssl/evp.h>

#include "cberror.h"

typedef struct ByteStream {
    const char          *name;
    int                  fd;          /* -1 for memory */
    const unsigned char *mem;
    size_t               mem_len, mem_pos;
    bool                 gz;
    bool                 gz_member_done;
    bool                 src_eof;
    struct inflate_state *zs;         /* igzip's state; NULL when not gzip */
    int                  hdr_state;   /* where in the member's header (HDR_* in the .c) */
    uint32_t             hdr_need;    /* bytes still wanted in this part of the header */
    uint32_t             hdr_crc;     /* CRC-32 of the header so far (for FHCRC) */
    unsigned char        hdr_fixed[10];
    uint16_t             hdr_word;    /* XLEN or the header CRC, little-endian, as it comes */
    const unsigned char *next_in;     /* raw bytes not yet consumed, in inbuf */
    size_t               avail_in;
    unsigned char       *inbuf;
    uint64_t             compressed_in;
    uint64_t             out_total;
    uint64_t             file_bytes;  /* raw bytes read from the source */
    EVP_MD_CTX          *sha;         /* SHA-256 of the raw bytes */
    iconv_t              cd;          /* transcoding to UTF-8, (iconv_t) -1 for none */
    char                *tbuf;        /* decompressed bytes waiting to be transcoded */
    size_t               tlen;
    bool                 teof;
    uint64_t             invalid;
} ByteStream;

bool    bytestream_open_file(ByteStream *bs, const char *path, CbError *err);
bool    bytestream_open_mem(ByteStream *bs, const char *name, const void *data, size_t len,
                            CbError *err);
/* Transcode from `encoding` (an iconv name such as GBK or GB18030) to UTF-8 from now on;
 * NULL, "" or UTF-8 means no transcoding.  Call before the first read. */
bool    bytestream_set_encoding(ByteStream *bs, const char *encoding, CbError *err);
/* Reads up to n bytes; returns the count, 0 at the end, -1 on error (err filled). */
ssize_t bytestream_read(ByteStream *bs, void *buf, size_t n, CbError *err);
/* SHA-256 (hex, 64 chars + NUL) of the raw file bytes read so far: the whole file's once
 * bytestream_read has returned 0.  Returns false if hashing failed. */
bool    bytestream_sha256(ByteStream *bs, char out[65]);
void    bytestream_close(ByteStream *bs);

/* igzip's AVX2 inflate (ISA-L 2.30, Debian 12) returns without VZEROUPPER.  Until the upper
 * halves of the vector registers are cleared, every SSE instruction of the code that follows
 * (ours and libc's) waits on them: with the state left dirty, reading S took 1.8 CPU s more than
 * with zlib, not 1.5 s less.  Called after each isal_inflate and ISA-L CRC. */
static inline void
bytestream_clear_upper(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx"))   /* a load of what the runtime found at start */
        __asm__ volatile("vzeroupper" ::: "memory");
#endif
}

/* What an igzip error code (isal_inflate's return) means, in zlib's words where zlib has them. */
const char *bytestream_inflate_why(int rc);

/* The CRC-32 of zip and gzip over len more bytes, crc that of the bytes before (0 at first):
 * zlib's crc32, by ISA-L with carry-less multiplication: a thirtieth of zlib's instructions. */
uint32_t bytestream_crc32(uint32_t crc, const void *buf, size_t len);

#endif
