#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool g_tty;
static bool g_quiet;
static char g_stage[64];
static char g_what[160];
static double g_start, g_last;

double
clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
log_init(bool quiet)
{
    g_tty = isatty(STDERR_FILENO);
    g_quiet = quiet;
}

bool
log_is_tty(void)
{
    return g_tty;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
    if (g_tty) {
        fprintf(stderr, "\r\033[K%s", strcmp(level, "info") == 0 ? "" : "warning: ");
    } else {
        fprintf(stderr, "level=%s ", level);
    }
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
log_info(const char *fmt, ...)
{
    if (g_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("info", fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("warning", fmt, ap);
    va_end(ap);
}

void
progress_begin(const char *stage, const char *what)
{
    snprintf(g_stage, sizeof g_stage, "%s", stage);
    snprintf(g_what, sizeof g_what, "%s", what ? what : "");
    g_start = g_last = clock_now();
}

void
progress_update(uint64_t done)
{
    if (!g_tty || g_quiet)
        return;
    double now = clock_now();
    if (now - g_last < 0.2)
        return;
    g_last = now;
    double el = now - g_start;
    fprintf(stderr, "\r\033[K%s %s: %llu records, %.0f/s", g_stage, g_what,
            (unsigned long long) done, el > 0 ? (double) done / el : 0.0);
}

void
progress_end(uint64_t done)
{
    if (g_quiet)
        return;
    double el = clock_now() - g_start;
    if (g_tty)
        fprintf(stderr, "\r\033[K%s %s: %llu records in %.2f s\n", g_stage, g_what,
                (unsigned long long) done, el);
    else
        fprintf(stderr, "level=info event=stage_done stage=%s what=\"%s\" records=%llu seconds=%.3f\n",
                g_stage, g_what, (unsigned long long) done, el);
}
