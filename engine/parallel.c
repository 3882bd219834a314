#include "parallel.h"

#include <pthread.h>
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
