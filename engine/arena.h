/*
 * arena — bump allocation by lifetime (a run, a file), released all at once.
 *
 * arena_alloc never returns NULL: when memory is exhausted the process cannot continue a run
 * meaningfully, so it prints a message and aborts (the one place outside main() that ends the
 * process; a run's database work is then rolled back by PostgreSQL).  Memory from an arena is
 * valid until arena_reset or arena_free.  Not thread-safe: one arena per thread.
 */
#ifndef CANBAO_ARENA_H
#define CANBAO_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
    ArenaChunk *head;
    size_t chunk_size;     /* default size of a new chunk */
    size_t used_total;     /* bytes handed out since the last reset */
} Arena;

void  arena_init(Arena *a, size_t chunk_size);
void *arena_alloc(Arena *a, size_t n);                 /* 16-byte aligned, uninitialised */
void *arena_calloc(Arena *a, size_t n);                /* zeroed */
char *arena_strndup(Arena *a, const char *s, size_t n); /* NUL-terminated copy */
char *arena_strdup(Arena *a, const char *s);
void  arena_reset(Arena *a);                           /* keeps the first chunk for reuse */
void  arena_free(Arena *a);

/* Growable array of fixed-size items with an explicit element size; storage is malloc'ed and
 * grows by doubling (amortised O(1) push).  vec_push returns a pointer to the new (zeroed)
 * slot, valid until the next push. */
typedef struct Vec {
    void  *data;
    size_t len, cap, elem;
} Vec;

void  vec_init(Vec *v, size_t elem);
void *vec_push(Vec *v);
void  vec_reserve(Vec *v, size_t cap);
void  vec_free(Vec *v);
#define VEC_AT(v, type, i) (((type *) (v)->data)[i])

/* Fatal out-of-memory report, shared by the allocation wrappers. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Zeroed memory of its own mapping (bytes rounded up to 2 MB, on a 2 MB boundary), advised for
 * transparent huge pages: for large tables and vectors probed or filled all over.  Aborts when
 * there is no memory; xunmap_huge takes the same byte count. */
void *xmap_huge(size_t bytes);
void  xunmap_huge(void *p, size_t bytes);

#endif
