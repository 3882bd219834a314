#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "arena.h"

void
par_run(void *(*fn)(void *), void *parts, size_t size, int n)
{
    if (n < 1)
        return;
    pthread_t *th = xmalloc(sizeof *th * (size_t) n);
    bool *started = xcalloc((size_t) n, sizeof *started);
    for (int t = 1; t < n; t++)
        started[t] = pthread_create(&th[t], NULL, fn, (char *) parts + (size_t) t * size) == 0;
    fn(parts);
    for (int t = 1; t < n; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn((char *) parts + (size_t) t * size);
    }
    free(started);
    free(th);
}

typedef struct EachWork {
    size_t        n;
    bool        (*fn)(void *arg, size_t i);
    void         *arg;
    atomic_size_t next;   /* the next i to take */
    atomic_bool   stop;   /* a call failed: take no more */
} EachWork;

typedef struct EachPart {
    EachWork *w;
} EachPart;

static void *
each_part(void *arg)
{
    EachWork *w = ((EachPart *) arg)->w;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n || atomic_load(&w->stop))
            break;
        if (!w->fn(w->arg, i))
            atomic_store(&w->stop, true);
    }
    return NULL;
}

bool
par_each(size_t n, int threads, bool (*fn)(void *arg, size_t i), void *arg)
{
    EachWork w = {.n = n, .fn = fn, .arg = arg};
    atomic_init(&w.next, 0);
    atomic_init(&w.stop, false);
    int nt = threads > 1 ? threads : 1;
    if ((size_t) nt > n)
        nt = n > 0 ? (int) n : 1;
    EachPart *parts = xcalloc((size_t) nt, sizeof *parts);
    for (int t = 0; t < nt; t++)
        parts[t].w = &w;
    par_run(each_part, parts, sizeof *parts, nt);
    free(parts);
    return !atomic_load(&w.stop);
}

void
par_start(ParTask *t, void *(*fn)(void *), void *arg)
{
    t->running = pthread_create(&t->tid, NULL, fn, arg) == 0;
    if (!t->running)
        fn(arg);
}

void
par_wait(ParTask *t)
{
    if (t->running)
        pthread_join(t->tid, NULL);
    t->running = false;
}
