#include "bytestream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

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
    if (bs->avail_in > 0 || bs->src_eof)
        return true;
    ssize_t got = src_read(bs, bs->inbuf, IN_CHUNK, err);
    if (got < 0)
        return false;
    if (got == 0)
        bs->src_eof = true;
    bs->next_in = bs->inbuf;
    bs->avail_in = (size_t) got;
    return true;
}

/*
 * A gzip member's header (RFC 1952 2.3) is read here, byte by byte as the input comes; igzip
 * then inflates the deflate data and checks the trailer (ISAL_GZIP_NO_HDR_VER).  igzip 2.30's
 * own header readers could not be used: in its all-in-one mode (ISAL_GZIP) it keeps the header
 * record on its stack for one call, so a header cut by the end of an input buffer is resumed
 * with its flags uninitialised (valgrind showed it, and a test failed with "incorrect data
 * check"); isal_read_gzip_header leaves data bytes in the bit buffer, which the next
 * isal_inflate hands back by moving next_in before the input it was given (the fuzzer found
 * it), out of the buffer when it was refilled in between.
 */
enum { HDR_FIXED, HDR_XLEN, HDR_EXTRA, HDR_NAME, HDR_COMMENT, HDR_HCRC, HDR_DONE };
enum { GZ_FTEXT = 1, GZ_FHCRC = 2, GZ_FEXTRA = 4, GZ_FNAME = 8, GZ_FCOMMENT = 16 };

/* The state after the fixed part or an optional field: the next field the flags announce. */
static int
header_next(ByteStream *bs, int after)
{
    unsigned flg = bs->hdr_fixed[3];
    if (after < HDR_XLEN && (flg & GZ_FEXTRA)) {
        bs->hdr_need = 2;
        return HDR_XLEN;
    }
    if (after < HDR_NAME && (flg & GZ_FNAME))
        return HDR_NAME;
    if (after < HDR_COMMENT && (flg & GZ_FCOMMENT))
        return HDR_COMMENT;
    if (after < HDR_HCRC && (flg & GZ_FHCRC)) {
        bs->hdr_need = 2;
        return HDR_HCRC;
    }
    return HDR_DONE;
}

/* Takes header bytes from the input; NULL when the header is whole or wants more input, else
 * what is wrong with it (in zlib's words). */
static const char *
header_take(ByteStream *bs)
{
    while (bs->hdr_state != HDR_DONE && bs->avail_in > 0) {
        unsigned char c = *bs->next_in;
        bool field_end = false;
        switch (bs->hdr_state) {
        case HDR_FIXED: {
            unsigned at = 10 - bs->hdr_need;
            bs->hdr_fixed[at] = c;
            /* checked as they come, so that a few bytes of garbage after the last member are
             * called what they are, not a member cut short */
            if ((at == 0 && c != 0x1f) || (at == 1 && c != 0x8b))
                return "incorrect header check";
            if (at == 2 && c != 8)
                return "unknown compression method";
            if (at == 3 && (c & 0xE0))
                return "unknown header flags set";
            field_end = --bs->hdr_need == 0;
            break;
        }
        case HDR_XLEN:
        case HDR_HCRC:
            bs->hdr_word |= (uint16_t) (c << (bs->hdr_need == 2 ? 0 : 8));
            field_end = --bs->hdr_need == 0;
            break;
        case HDR_EXTRA:
            field_end = --bs->hdr_need == 0;
            break;
        case HDR_NAME:
        case HDR_COMMENT:
            field_end = c == 0;
            break;
        }
        if (bs->hdr_state == HDR_HCRC) {
            if (field_end && bs->hdr_word != (bs->hdr_crc & 0xFFFF))
                return "header crc mismatch";
        } else {
            bs->hdr_crc = (uint32_t) crc32(bs->hdr_crc, &c, 1);
        }
        bs->next_in++;
        bs->avail_in--;
        bs->compressed_in++;
        if (!field_end)
            continue;
        switch (bs->hdr_state) {
        case HDR_FIXED:
            bs->hdr_state = header_next(bs, HDR_FIXED);
            break;
        case HDR_XLEN:
            bs->hdr_need = bs->hdr_word;
            bs->hdr_word = 0;
            bs->hdr_state = bs->hdr_need > 0 ? HDR_EXTRA : header_next(bs, HDR_EXTRA);
            break;
        default:
            bs->hdr_state = header_next(bs, bs->hdr_state);
            break;
        }
        if (bs->hdr_state == HDR_HCRC)
            bs->hdr_word = 0;
    }
    return NULL;
}

/* Ready for a gzip member: its header first. */
static void
member_start(ByteStream *bs)
{
    isal_inflate_init(bs->zs);
    bs->zs->crc_flag = ISAL_GZIP_NO_HDR_VER;
    bs->hdr_state = HDR_FIXED;
    bs->hdr_need = 10;
    bs->hdr_word = 0;
    bs->hdr_crc = (uint32_t) crc32(0L, Z_NULL, 0);
}

uint32_t
bytestream_crc32(uint32_t crc, const void *buf, size_t len)
{
    crc = crc32_gzip_refl(crc, buf, len);
    bytestream_clear_upper();   /* its AVX-512 variant, on the CPUs that have one, as igzip above */
    return crc;
}

const char *
bytestream_inflate_why(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:
        return "invalid block";
    case ISAL_INVALID_SYMBOL:
        return "invalid code";
    case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
        return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check";
    case ISAL_NEED_DICT:
        return "a preset dictionary is required";
    default:
        return "inflate failed";
    }
}

static bool
start(ByteStream *bs, CbError *err)
{
    bs->inbuf = xmalloc(IN_CHUNK);
    bs->sha = EVP_MD_CTX_new();
    if (bs->sha == NULL || EVP_DigestInit_ex(bs->sha, EVP_sha256(), NULL) != 1) {
        CB_FAIL(err, CBERR_INTERNAL, "could not initialise SHA-256");
        return false;
    }
    if (!fill_in(bs, err))
        return false;
    /* gzip is recognised by its magic bytes, whatever the file is called */
    if (bs->avail_in < 2 && !bs->src_eof) {
        /* a short first read: gather two bytes */
        size_t have = bs->avail_in;
        ssize_t got = src_read(bs, bs->inbuf + have, IN_CHUNK - have, err);
        if (got < 0)
            return false;
        bs->avail_in = have + (size_t) got;
    }
    bs->gz = bs->avail_in >= 2 && bs->inbuf[0] == 0x1f && bs->inbuf[1] == 0x8b;
    if (bs->gz) {
        bs->zs = xcalloc(1, sizeof *bs->zs);
        member_start(bs);
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

static ssize_t
truncated(ByteStream *bs, CbError *err)
{
    CB_FAIL(err, CBERR_INPUT, "truncated gzip stream: the file ends before the compressed data does");
    cb_error_at(err, "%s: after %llu uncompressed bytes", bs->name,
                (unsigned long long) bs->out_total);
    cb_error_hint(err, "the delivery is probably incomplete; ask the agency to send it again");
    return -1;
}

static ssize_t
corrupt(ByteStream *bs, const char *why, CbError *err)
{
    CB_FAIL(err, CBERR_INPUT, "corrupt gzip data: %s", why);
    cb_error_at(err, "%s: compressed byte %llu", bs->name, (unsigned long long) bs->compressed_in);
    return -1;
}

/* The file's content with gzip undone. */
static ssize_t
decoded_read(ByteStream *bs, void *buf, size_t n, CbError *err)
{
    if (!bs->gz) {
        if (bs->avail_in > 0) {
            size_t k = bs->avail_in < n ? bs->avail_in : n;
            memcpy(buf, bs->next_in, k);
            bs->next_in += k;
            bs->avail_in -= k;
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
    struct inflate_state *zs = bs->zs;
    uint32_t want = n > (1u << 30) ? (1u << 30) : (uint32_t) n;
    zs->next_out = buf;
    zs->avail_out = want;
    while (zs->avail_out == want) {
        if (!fill_in(bs, err))
            return -1;
        if (bs->gz_member_done) {
            /* after a complete member: more input means another member */
            if (bs->avail_in == 0 && bs->src_eof)
                return 0;
            if (bs->avail_in == 0)
                continue;
            member_start(bs);
            zs->next_out = buf;
            zs->avail_out = want;
            bs->gz_member_done = false;
        }
        if (bs->hdr_state != HDR_DONE) {
            const char *why = header_take(bs);
            if (why != NULL)
                return corrupt(bs, why, err);
            if (bs->hdr_state != HDR_DONE) {   /* the header goes on in the next input */
                if (bs->avail_in == 0 && bs->src_eof)
                    return truncated(bs, err);
                continue;
            }
        }
        zs->next_in = (uint8_t *) bs->next_in;
        zs->avail_in = (uint32_t) bs->avail_in;
        int rc = isal_inflate(zs);
        bytestream_clear_upper();
        if (zs->avail_in > bs->avail_in)   /* never expected: igzip handed back more than given */
            return corrupt(bs, "inflate handed back input it was not given", err);
        size_t used = bs->avail_in - zs->avail_in;
        bs->compressed_in += used;
        bs->next_in += used;
        bs->avail_in -= used;
        if (rc != ISAL_DECOMP_OK)
            return corrupt(bs, bytestream_inflate_why(rc), err);
        if (zs->block_state == ISAL_BLOCK_FINISH) {
            bs->gz_member_done = true;
        } else if (used == 0 && zs->avail_out == want && bs->avail_in == 0 && bs->src_eof) {
            return truncated(bs, err);   /* all input given and nothing more comes out */
        } else if (used == 0 && zs->avail_out == want && bs->avail_in > 0) {
            /* never expected of igzip; without it a stuck stream would loop here */
            return corrupt(bs, "inflate made no progress", err);
        }
    }
    size_t got = want - zs->avail_out;
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
    free(bs->zs);
    bs->zs = NULL;
    if (bs->fd >= 0)
        close(bs->fd);
    free(bs->inbuf);
    bs->fd = -1;
    bs->inbuf = NULL;
    bs->gz = false;
}
