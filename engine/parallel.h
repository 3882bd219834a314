/*
 * parallel — one step shared out over the run's threads.
 */
#ifndef CANBAO_PARALLEL_H
#define CANBAO_PARALLEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Runs fn on each of the n parts (part t at (char *) parts + t * size): part 0 on the calling
 * thread, the others on threads of their own (on the calling thread, in order, when a thread
 * cannot be started); returns when all are done. */
void par_run(void *(*fn)(void *), void *parts, size_t size, int n);

/* Calls fn(arg, i) for i in [0, n) on up to `threads` threads (at most n), each thread taking
 * the next i as it finishes one.  After a call returns false no i is taken any more (those
 * already taken finish); returns true when every call returned true.  Which thread does which
 * i varies: fn writes only what belongs to its i. */
bool par_each(size_t n, int threads, bool (*fn)(void *arg, size_t i), void *arg);

/* One task beside the calling thread: par_start runs fn(arg) on a thread of its own (at once on
 * the calling thread when none can be started); par_wait returns when it is done (again: at
 * once).  A zeroed ParTask that was never started is done. */
typedef struct ParTask {
    pthread_t tid;
    bool      running;
} ParTask;

void par_start(ParTask *t, void *(*fn)(void *), void *arg);
void par_wait(ParTask *t);

#endif
