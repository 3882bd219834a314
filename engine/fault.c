#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int fault_armed_point_ = -1;
static uint64_t g_at = 1;         /* fire on this pass */
static atomic_uint_fast64_t g_count;   /* the readers count records in several threads */
static bool g_pause;

static const char *const point_names[FAULT_NPOINTS] = {
    "parse", "link", "copy", "before_commit", "after_commit", "publish"};

static volatile sig_atomic_t g_cancel;

bool
fault_init(CbError *err)
{
    fault_armed_point_ = -1;
    atomic_store(&g_count, 0);
    g_at = 1;
    g_pause = false;
    const char *v = getenv("CANBAO_FAULT");
    if (v == NULL || *v == '\0')
        return true;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *parts[4] = {NULL, NULL, NULL, NULL};
    int np = 0;
    for (char *s = buf, *tok; np < 4 && (tok = strsep(&s, ":")) != NULL;)
        parts[np++] = tok;
    int point = -1;
    for (int i = 0; i < FAULT_NPOINTS; i++)
        if (strcmp(parts[0], point_names[i]) == 0)
            point = i;
    bool ok = point >= 0 && np <= 3 && strlen(v) < sizeof buf;
    for (int i = 1; ok && i < np && i < 3; i++) {
        char *endp;
        if (strcmp(parts[i], "kill") == 0) {
            g_pause = false;
        } else if (strcmp(parts[i], "pause") == 0) {
            g_pause = true;
        } else if (i == 1 && parts[i][0] >= '1' && parts[i][0] <= '9') {
            unsigned long long n = strtoull(parts[i], &endp, 10);
            ok = *endp == '\0' && n > 0;
            g_at = n;
        } else {
            ok = false;
        }
    }
    if (!ok) {
        CB_FAIL(err, CBERR_USAGE, "CANBAO_FAULT=%s is not a fault point", v);
        cb_error_hint(err, "POINT[:N][:kill|pause] with POINT one of parse, link, copy, before_commit, "
                           "after_commit, publish (a test hook: leave it unset in production)");
        return false;
    }
    if (g_pause) {
        /* SIGUSR1 ends the pause; blocked from now on so that it is never the default action */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
    }
    fault_armed_point_ = point;
    log_warn("event=fault_armed point=%s n=%llu action=%s note=\"CANBAO_FAULT is a test hook\"",
             point_names[point], (unsigned long long) g_at, g_pause ? "pause" : "kill");
    return true;
}

bool
fault_armed(void)
{
    return fault_armed_point_ >= 0;
}

void
fault_fire_(FaultPoint p)
{
    if (atomic_fetch_add(&g_count, 1) + 1 != g_at)
        return;
    if (!g_pause) {
        /* stderr is unbuffered: the line is out before the process is gone */
        fprintf(stderr, "canbao: fault injected: SIGKILL at %s:%llu\n", point_names[p],
                (unsigned long long) g_at);
        raise(SIGKILL);
        _exit(137);   /* not reached */
    }
    log_warn("event=fault_pause point=%s n=%llu pid=%ld note=\"waiting for SIGUSR1\"", point_names[p],
             (unsigned long long) g_at, (long) getpid());
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    struct timespec step = {0, 100 * 1000 * 1000};
    for (int i = 0; i < 6000 && !g_cancel; i++)
        if (sigtimedwait(&set, NULL, &step) == SIGUSR1)
            break;
    log_warn("event=fault_resume point=%s", point_names[p]);
}

/* ---- cancellation ---- */

static void
on_signal(int sig)
{
    if (g_cancel == sig) {
        /* the second time: the operator means it */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_cancel = sig;
}

void
cancel_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    g_cancel = 0;
}

bool
cancel_requested(void)
{
    return g_cancel != 0;
}

int
cancel_signal(void)
{
    return (int) g_cancel;
}

bool
cancel_check(const char *where, CbError *err)
{
    if (!g_cancel)
        return true;
    CB_FAIL(err, CBERR_CANCELLED, "cancelled by %s before %s", g_cancel == SIGINT ? "SIGINT" : "SIGTERM",
            where);
    return false;
}

bool
cancel_sleep(double seconds)
{
    double end = clock_now() + seconds;
    while (!g_cancel) {
        double left = end - clock_now();
        if (left <= 0)
            return true;
        if (left > 0.1)
            left = 0.1;
        struct timespec ts = {0, (long) (left * 1e9)};
        nanosleep(&ts, NULL);
    }
    return false;
}
