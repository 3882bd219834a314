#include "bytestream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"

#define IN_CHUNK (256 * 1024)

/* Reads raw (possibly compressed) bytes from the source into dst. */
static ssize_t
src_read(ByteStream *bs, unsigned char *dst, size_t n, CbError *err)
{
    if (bs->fd < 0) {
        size_t left = bs->mem_len - bs->mem_pos;
        if (n > left)
            n = left;
        memcpy(dst, bs->mem + bs->mem_pos, n);
        bs->mem_pos += n;
        bs->file_bytes += n;
        if (bs->sha)
            EVP_DigestUpdate(bs->sha, dst, n);
        return (ssize_t) n;
    }
    for (;;) {
        ssize_t got = read(bs->fd, dst, n);
        if (got >= 0) {
            bs->file_bytes += (uint64_t) got;
            if (bs->sha)
                EVP_DigestUpdate(bs->sha, dst, (size_t) got);
            return got;
        }
        if (errno == EINTR)
            continue;
        CB_FAIL(err, CBERR_IO, "could not read file: %s", strerror(errno));
        cb_error_at(err, "%s", bs->name);
        return -1;
    }
}

/* Fills inbuf when empty; sets src_eof at the end of the source. */
static bool
fill_in(ByteStream *bs, CbError *err)
{
    if (bs->zs.avail_in > 0 || bs->src_eof)
        return true;
    ssize_t got = src_read(bs, bs->inbuf, IN_CHUNK, err);
    if (got < 0)
        return false;
    if (got == 0)
        bs->src_eof = true;
    bs->zs.next_in = bs->inbuf;
    bs->zs.avail_in = (uInt) got;
    return true;
}

static bool
start(ByteStream *bs, CbError *err)
{
    bs->inbuf = xmalloc(IN_CHUNK);
    memset(&bs->zs, 0, sizeof bs->zs);
    bs->sha = EVP_MD_CTX_new();
    if (bs->sha == NULL || EVP_DigestInit_ex(bs->sha, EVP_sha256(), NULL) != 1) {
        CB_FAIL(err, CBERR_INTERNAL, "could not initialise SHA-256");
        return false;
    }
    if (!fill_in(bs, err))
        return false;
    /* gzip is recognised by its magic bytes, whatever the file is called */
    if (bs->zs.avail_in < 2 && !bs->src_eof) {
        /* a short first read: gather two bytes */
        size_t have = bs->zs.avail_in;
        ssize_t got = src_read(bs, bs->inbuf + have, IN_CHUNK - have, err);
        if (got < 0)
            return false;
        bs->zs.avail_in = (uInt) (have + (size_t) got);
    }
    bs->gz = bs->zs.avail_in >= 2 && bs->inbuf[0] == 0x1f && bs->inbuf[1] == 0x8b;
    if (bs->gz && inflateInit2(&bs->zs, 15 + 16) != Z_OK) {
        CB_FAIL(err, CBERR_INTERNAL, "could not initialise zlib");
        return false;
    }
    return true;
}

bool
bytestream_open_file(ByteStream *bs, const char *path, CbError *err)
{
    memset(bs, 0, sizeof *bs);
    bs->cd = (iconv_t) -1;
    bs->name = path;
    bs->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (bs->fd < 0) {
        CB_FAIL(err, CBERR_IO, "could not open file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        return false;
    }
    posix_fadvise(bs->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (!start(bs, err)) {
        bytestream_close(bs);
        return false;
    }
    return true;
}

bool
bytestream_open_mem(ByteStream *bs, const char *name, const void *data, size_t len, CbError *err)
{
    memset(bs, 0, sizeof *bs);
    bs->cd = (iconv_t) -1;
    bs->name = name;
    bs->fd = -1;
    bs->mem = data;
    bs->mem_len = len;
    if (!start(bs, err)) {
        bytestream_close(bs);
        return false;
    }
    return true;
}

/* The file's content with gzip undone. */
static ssize_t
decoded_read(ByteStream *bs, void *buf, size_t n, CbError *err)
{
    if (!bs->gz) {
        if (bs->zs.avail_in > 0) {
            size_t k = bs->zs.avail_in < n ? bs->zs.avail_in : n;
            memcpy(buf, bs->zs.next_in, k);
            bs->zs.next_in += k;
            bs->zs.avail_in -= (uInt) k;
            bs->out_total += k;
            return (ssize_t) k;
        }
        if (bs->src_eof)
            return 0;
        ssize_t got = src_read(bs, buf, n, err);
        if (got == 0)
            bs->src_eof = true;
        if (got > 0)
            bs->out_total += (uint64_t) got;
        return got;
    }
    bs->zs.next_out = buf;
    bs->zs.avail_out = (uInt) (n > (1u << 30) ? (1u << 30) : n);
    uInt want = bs->zs.avail_out;
    while (bs->zs.avail_out == want) {
        if (!fill_in(bs, err))
            return -1;
        if (bs->gz_member_done) {
            /* after a complete member: more input means another member */
            if (bs->zs.avail_in == 0 && bs->src_eof)
                return 0;
            if (bs->zs.avail_in == 0)
                continue;
            inflateReset(&bs->zs);
            bs->gz_member_done = false;
        }
        if (bs->zs.avail_in == 0 && bs->src_eof) {
            CB_FAIL(err, CBERR_INPUT, "truncated gzip stream: the file ends before the compressed data does");
            cb_error_at(err, "%s: after %llu uncompressed bytes", bs->name,
                        (unsigned long long) bs->out_total);
            cb_error_hint(err, "the delivery is probably incomplete; ask the agency to send it again");
            return -1;
        }
        uInt before = bs->zs.avail_in;
        int rc = inflate(&bs->zs, Z_NO_FLUSH);
        bs->compressed_in += before - bs->zs.avail_in;
        if (rc == Z_STREAM_END) {
            bs->gz_member_done = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            CB_FAIL(err, CBERR_INPUT, "corrupt gzip data: %s", bs->zs.msg ? bs->zs.msg : "inflate failed");
            cb_error_at(err, "%s: compressed byte %llu", bs->name,
                        (unsigned long long) bs->compressed_in);
            return -1;
        }
    }
    size_t got = want - bs->zs.avail_out;
    bs->out_total += got;
    return (ssize_t) got;
}

bool
bytestream_set_encoding(ByteStream *bs, const char *encoding, CbError *err)
{
    if (encoding == NULL || *encoding == '\0' || strcasecmp(encoding, "UTF-8") == 0 ||
        strcasecmp(encoding, "UTF8") == 0)
        return true;
    bs->cd = iconv_open("UTF-8", encoding);
    if (bs->cd == (iconv_t) -1) {
        CB_FAIL(err, CBERR_INPUT, "unknown text encoding %s", encoding);
        cb_error_at(err, "%s", bs->name);
        return false;
    }
    bs->tbuf = xmalloc(IN_CHUNK);
    return true;
}

ssize_t
bytestream_read(ByteStream *bs, void *buf, size_t n, CbError *err)
{
    if (bs->cd == (iconv_t) -1)
        return decoded_read(bs, buf, n, err);
    char *out = buf;
    size_t outl = n;
    size_t off = 0;   /* bytes of tbuf consumed; moved out once per refill, not per bad byte */
    while (outl >= 8) {
        if (bs->tlen - off < 8 && !bs->teof) {
            memmove(bs->tbuf, bs->tbuf + off, bs->tlen - off);
            bs->tlen -= off;
            off = 0;
            ssize_t got = decoded_read(bs, bs->tbuf + bs->tlen, IN_CHUNK - bs->tlen, err);
            if (got < 0)
                return -1;
            if (got == 0)
                bs->teof = true;
            bs->tlen += (size_t) got;
        }
        if (bs->tlen - off == 0)
            break;
        char *in = bs->tbuf + off;
        size_t inl = bs->tlen - off;
        size_t rc = iconv(bs->cd, &in, &inl, &out, &outl);
        size_t used = bs->tlen - off - inl;
        bool stop = false;
        if (rc == (size_t) -1) {
            if (errno == E2BIG) {
                stop = true;
            } else if ((errno == EILSEQ || (errno == EINVAL && bs->teof)) && outl == 0) {
                /* iconv filled the buffer before it met the bad byte: no room for the
                 * marker, which the next read writes */
                stop = true;
            } else if (errno == EILSEQ || (errno == EINVAL && bs->teof)) {
                /* not valid in the declared encoding: mark it, skip one byte */
                *out++ = (char) 0xFF;
                outl--;
                used++;
                bs->invalid++;
            }
            /* EINVAL before the end: an incomplete character waits for more input */
        }
        off += used;
        if (stop)
            break;
    }
    memmove(bs->tbuf, bs->tbuf + off, bs->tlen - off);
    bs->tlen -= off;
    return (ssize_t) (n - outl);
}

bool
bytestream_sha256(ByteStream *bs, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL || bs->sha == NULL || EVP_MD_CTX_copy_ex(copy, bs->sha) != 1 ||
        EVP_DigestFinal_ex(copy, md, &len) != 1) {
        EVP_MD_CTX_free(copy);
        return false;
    }
    EVP_MD_CTX_free(copy);
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return true;
}

void
bytestream_close(ByteStream *bs)
{
    EVP_MD_CTX_free(bs->sha);
    bs->sha = NULL;
    if (bs->cd != (iconv_t) -1 && bs->cd != (iconv_t) 0)
        iconv_close(bs->cd);
    bs->cd = (iconv_t) -1;
    free(bs->tbuf);
    bs->tbuf = NULL;
    if (bs->gz)
        inflateEnd(&bs->zs);
    if (bs->fd >= 0)
        close(bs->fd);
    free(bs->inbuf);
    bs->fd = -1;
    bs->inbuf = NULL;
    bs->gz = false;
}
