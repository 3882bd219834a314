/*
 * inflate — the floor of any engine: one core reading every input file once through zlib's
 * gzread (which inflates .gz files and passes plain files through), doing nothing else.
 *
 *   inflate FILE...        prints: files=N bytes_out=B seconds=S mb_per_s=R
 */
#include <stdio.h>
#include <time.h>
#include <zlib.h>

int
main(int argc, char **argv)
{
    static char buf[1 << 20];
    struct timespec t0, t1;
    unsigned long long total = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i < argc; i++) {
        gzFile f = gzopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "inflate: cannot open %s\n", argv[i]);
            return 1;
        }
        gzbuffer(f, 1 << 20);
        int n;
        while ((n = gzread(f, buf, sizeof buf)) > 0)
            total += (unsigned long long) n;
        if (n < 0) {
            int e;
            fprintf(stderr, "inflate: %s: %s\n", argv[i], gzerror(f, &e));
            return 1;
        }
        gzclose(f);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("files=%d bytes_out=%llu seconds=%.3f mb_per_s=%.1f\n", argc - 1, total, s,
           s > 0 ? (double) total / 1e6 / s : 0.0);
    return 0;
}
