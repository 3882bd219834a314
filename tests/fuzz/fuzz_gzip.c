/*
 * fuzz_gzip — the gzip framing under every reader (connectors/bytestream.c): gzip is recognised
 * by its magic bytes and undone transparently, member after member; a truncated or corrupt
 * stream must be READ_ERROR, never a crash, a hang or unbounded memory.
 *
 * Input: the file as delivered (no spec line), read with the CSV reader and default options:
 * the committed seeds are real .csv.gz files (single and multi-member, truncated, corrupt).
 * The reader must hash and count the compressed bytes, not the inflated ones.
 *
 * Then a second opinion: the byte stream inflates with ISA-L's igzip, and zlib inflates the
 * same input member after member, as the reader did before igzip.  Where zlib reads the whole
 * input, the byte stream must give the same bytes; where zlib fails, the byte stream must fail
 * too.  Reading stops at 8 MiB of output on both sides.
 */
#include "fuzzlib.h"

#include <zlib.h>

#include "bytestream.h"

#define OUT_MAX ((size_t) 8 << 20)

/* zlib's reading of a gzip file: true when every member is whole and checked. */
static bool
zlib_inflate_all(const uint8_t *data, size_t size, unsigned char *out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return false;
    zs.next_in = (Bytef *) data;
    zs.avail_in = (uInt) size;
    *out_len = 0;
    bool ok = false;
    for (;;) {
        zs.next_out = out + *out_len;
        zs.avail_out = (uInt) (OUT_MAX - *out_len);
        int rc = inflate(&zs, Z_NO_FLUSH);
        *out_len = OUT_MAX - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) {
                ok = true;
                break;
            }
            inflateReset(&zs);   /* another member */
            continue;
        }
        if (rc != Z_OK || zs.avail_out == 0 || zs.avail_in == 0)
            break;   /* corrupt, output full, or the input ends inside a member */
    }
    inflateEnd(&zs);
    return ok;
}

static void
compare_with_zlib(const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b)
        return;
    static unsigned char *want, *got;   /* allocated once: 2 x 8 MiB per input is slow under ASan */
    if (want == NULL) {
        want = malloc(OUT_MAX);
        got = malloc(OUT_MAX);
        FUZZ_CHECK(want != NULL && got != NULL, "out of memory");
    }
    size_t want_len = 0, got_len = 0;
    bool zlib_ok = zlib_inflate_all(data, size, want, &want_len);

    CbError err;
    memset(&err, 0, sizeof err);
    ByteStream bs;
    bool ok = bytestream_open_mem(&bs, "fuzz.input", data, size, &err);
    FUZZ_CHECK(ok, "bytestream_open_mem failed: %s", err.message);
    bool failed = false, full = false;
    for (;;) {
        if (got_len == OUT_MAX) {
            full = true;
            break;
        }
        ssize_t n = bytestream_read(&bs, got + got_len, OUT_MAX - got_len, &err);
        if (n < 0) {
            failed = true;
            FUZZ_CHECK(err.message[0] != '\0', "a failed read without a message");
            break;
        }
        if (n == 0)
            break;
        got_len += (size_t) n;
    }
    bytestream_close(&bs);
    if (!full && want_len < OUT_MAX) {
        FUZZ_CHECK(zlib_ok == !failed, "zlib %s the input, the byte stream %s (%s)",
                   zlib_ok ? "reads" : "rejects", failed ? "rejects it" : "reads it",
                   failed ? err.message : "no error");
        if (zlib_ok)
            FUZZ_CHECK(got_len == want_len && memcmp(got, want, want_len) == 0,
                       "the byte stream gave %zu bytes, zlib %zu, or other bytes", got_len,
                       want_len);
    }
    /* whatever came out before an error must be what zlib gave up to there */
    size_t common = got_len < want_len ? got_len : want_len;
    FUZZ_CHECK(memcmp(got, want, common) == 0, "the byte stream's bytes differ from zlib's");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ReaderSpec spec = {.format = RF_CSV};
    fuzz_read_all(&spec, data, size, false);
    compare_with_zlib(data, size);
    return 0;
}
