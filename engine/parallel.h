/*
 * parallel — one step shared out over the run's threads.
 */
#ifndef CANBAO_PARALLEL_H
#define CANBAO_PARALLEL_H

#include <stddef.h>

/* Runs fn on each of the n parts (part t at (char *) parts + t * size): part 0 on the calling
 * thread, the others on threads of their own (on the calling thread, in order, when a thread
 * cannot be started); returns when all are done. */
void par_run(void *(*fn)(void *), void *parts, size_t size, int n);

#endif
