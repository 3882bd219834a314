/*
 * inflate_cmp — zlib streaming inflate against ISA-L's streaming inflate (igzip, what the reader
 * uses) and libdeflate's whole-buffer inflate, side by side on the same gzip files (issue 8).
 *
 *   inflate_cmp [-r RUNS] FILE.gz...
 *
 * For each file and each run, in turn:
 *   zlib        the reader's way: read 256 KiB at a time, inflate into a 1 MiB buffer that is
 *               reused (the parser would consume it), CRC checked by zlib;
 *   libdeflate  read the whole compressed file into memory, allocate the whole output (its size
 *               from the gzip trailer), libdeflate_gzip_decompress_ex member after member; the
 *               time includes the allocation and the first touch of the output, which a reader
 *               of whole buffers pays;
 *   libdeflate, output reused   the same with an output buffer allocated and touched before
 *               the clock starts (the best case: an arena reused from file to file);
 *   igzip       ISA-L, the reader's way too: the same buffers as zlib, the header read first,
 *               then the data with the trailer's CRC-32 and size checked (ISAL_GZIP_NO_HDR_VER),
 *               VZEROUPPER after each call as the reader does.  Its output must equal zlib's
 *               (CRC-32 of all of it, computed by zlib).
 * Prints CPU seconds of each (medians over the runs) and the ratios zlib / libdeflate and
 * zlib / igzip.  Page cache warm (each file is read once before timing).  Not part of the build
 * (libdeflate is not a dependency of canbao; see RESULTS.md for why); with libdeflate-dev
 * installed:
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -o inflate_cmp tests/bench/inflate_cmp.c -lz -ldeflate -lisal
 */
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0)
        return NULL;
    unsigned char *p = malloc((size_t) sb.st_size + 1);
    size_t got = 0;
    while (p && got < (size_t) sb.st_size) {
        ssize_t n = read(fd, p + got, (size_t) sb.st_size - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close(fd);
    *len = got;
    return p;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static unsigned long zlib_crc;   /* CRC-32 of zlib's output, to compare igzip's with */

static unsigned long long
run_zlib(const char *path)
{
    int fd = open(path, O_RDONLY);
    static unsigned char in[256 * 1024], out[1 << 20];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    inflateInit2(&zs, 15 + 16);
    unsigned long long total = 0;
    ssize_t n;
    int rc = Z_OK;
    zlib_crc = crc32(0L, Z_NULL, 0);
    while ((n = read(fd, in, sizeof in)) > 0) {
        zs.next_in = in;
        zs.avail_in = (uInt) n;
        while (zs.avail_in > 0) {
            zs.next_out = out;
            zs.avail_out = sizeof out;
            rc = inflate(&zs, Z_NO_FLUSH);
            total += sizeof out - zs.avail_out;
            zlib_crc = crc32(zlib_crc, out, (uInt) (sizeof out - zs.avail_out));
            if (rc == Z_STREAM_END) {
                if (zs.avail_in == 0)
                    break;
                inflateReset(&zs);
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fprintf(stderr, "zlib: %s: error %d\n", path, rc);
                exit(1);
            }
        }
    }
    inflateEnd(&zs);
    close(fd);
    return total;
}

static unsigned long long
run_igzip(const char *path, unsigned long *crc)
{
    int fd = open(path, O_RDONLY);
    static unsigned char in[256 * 1024], out[1 << 20];
    static struct inflate_state st;
    static struct isal_gzip_header h;
    unsigned long long total = 0;
    bool header = true, done = false;
    ssize_t n;
    *crc = crc32(0L, Z_NULL, 0);
    isal_inflate_init(&st);
    memset(&h, 0, sizeof h);
    isal_gzip_header_init(&h);
    while ((n = read(fd, in, sizeof in)) > 0) {
        st.next_in = in;
        st.avail_in = (uint32_t) n;
        while (st.avail_in > 0) {
            if (done) {   /* another member */
                uint8_t *next = st.next_in;
                uint32_t left = st.avail_in;
                isal_inflate_init(&st);
                st.next_in = next;
                st.avail_in = left;
                memset(&h, 0, sizeof h);
                isal_gzip_header_init(&h);
                header = true;
                done = false;
            }
            if (header) {
                int rc = isal_read_gzip_header(&st, &h);
                __asm__ volatile("vzeroupper" ::: "memory");
                if (rc == ISAL_DECOMP_OK) {
                    header = false;
                    st.crc_flag = ISAL_GZIP_NO_HDR_VER;
                } else if (rc != ISAL_END_INPUT) {
                    fprintf(stderr, "igzip: %s: header error %d\n", path, rc);
                    exit(1);
                }
                continue;
            }
            st.next_out = out;
            st.avail_out = sizeof out;
            int rc = isal_inflate(&st);
            __asm__ volatile("vzeroupper" ::: "memory");
            if (rc != ISAL_DECOMP_OK) {
                fprintf(stderr, "igzip: %s: error %d\n", path, rc);
                exit(1);
            }
            total += sizeof out - st.avail_out;
            *crc = crc32(*crc, out, (uInt) (sizeof out - st.avail_out));
            done = st.block_state == ISAL_BLOCK_FINISH;
        }
    }
    /* output still held back when the input ended */
    while (!done && !header) {
        st.next_out = out;
        st.avail_out = sizeof out;
        if (isal_inflate(&st) != ISAL_DECOMP_OK || st.avail_out == sizeof out)
            break;
        __asm__ volatile("vzeroupper" ::: "memory");
        total += sizeof out - st.avail_out;
        *crc = crc32(*crc, out, (uInt) (sizeof out - st.avail_out));
        done = st.block_state == ISAL_BLOCK_FINISH;
    }
    __asm__ volatile("vzeroupper" ::: "memory");
    close(fd);
    return total;
}

static unsigned long long
run_libdeflate(const char *path, unsigned char *out, size_t out_cap)
{
    size_t len;
    unsigned char *in = slurp(path, &len);
    size_t isize = len >= 4 ? (size_t) in[len - 4] | (size_t) in[len - 3] << 8 |
                                  (size_t) in[len - 2] << 16 | (size_t) in[len - 1] << 24 : 0;
    bool own = out == NULL;
    if (own) {
        out_cap = isize + 1;
        out = malloc(out_cap);
    }
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t in_pos = 0, out_pos = 0;
    while (in_pos < len) {
        size_t in_used, out_got;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(d, in + in_pos, len - in_pos,
                                                                 out + out_pos, out_cap - out_pos,
                                                                 &in_used, &out_got);
        if (r != LIBDEFLATE_SUCCESS) {
            fprintf(stderr, "libdeflate: %s: result %d\n", path, (int) r);
            exit(1);
        }
        in_pos += in_used;
        out_pos += out_got;
    }
    libdeflate_free_decompressor(d);
    free(in);
    if (own)
        free(out);
    return out_pos;
}

int
main(int argc, char **argv)
{
    int runs = 3, first = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        runs = atoi(argv[2]);
        first = 3;
    }
    printf("%-44s %10s %10s %10s %10s %10s %9s %9s\n", "file", "MB out", "zlib s", "ldef s",
           "ldef+buf s", "igzip s", "zlib/ldef", "zlib/igz");
    for (int f = first; f < argc; f++) {
        size_t len;
        free(slurp(argv[f], &len));   /* warm the page cache */
        double tz[32], tl[32], tb[32], ti[32];
        unsigned long icrc = 0, zcrc = 0;
        unsigned long long ni = 0;
        unsigned long long nz = 0, nl = 0;
        size_t cap = 0;
        unsigned char *reuse = NULL;
        for (int r = 0; r < runs && r < 32; r++) {
            double t0 = cpu_now();
            nz = run_zlib(argv[f]);
            double t1 = cpu_now();
            nl = run_libdeflate(argv[f], NULL, 0);
            double t2 = cpu_now();
            if (reuse == NULL) {
                cap = (size_t) nl + 1;
                reuse = malloc(cap);
                memset(reuse, 0, cap);
            }
            double t3 = cpu_now();
            run_libdeflate(argv[f], reuse, cap);
            double t4 = cpu_now();
            zcrc = zlib_crc;
            double t5 = cpu_now();
            ni = run_igzip(argv[f], &icrc);
            double t6 = cpu_now();
            ti[r] = t6 - t5;
            tz[r] = t1 - t0;
            tl[r] = t2 - t1;
            tb[r] = t4 - t3;
        }
        free(reuse);
        if (nz != nl || nz != ni || zcrc != icrc) {
            fprintf(stderr, "%s: zlib %llu bytes, libdeflate %llu, igzip %llu (CRC %s)\n", argv[f],
                    nz, nl, ni, zcrc == icrc ? "equal" : "differs");
            return 1;
        }
        qsort(tz, (size_t) runs, sizeof(double), cmp_d);
        qsort(tl, (size_t) runs, sizeof(double), cmp_d);
        qsort(tb, (size_t) runs, sizeof(double), cmp_d);
        qsort(ti, (size_t) runs, sizeof(double), cmp_d);
        const char *base = strrchr(argv[f], '/');
        printf("%-44s %10.1f %10.3f %10.3f %10.3f %10.3f %9.2f %9.2f\n", base ? base + 1 : argv[f],
               nz / 1e6, tz[runs / 2], tl[runs / 2], tb[runs / 2], ti[runs / 2],
               tz[runs / 2] / tl[runs / 2], tz[runs / 2] / ti[runs / 2]);
    }
    return 0;
}
