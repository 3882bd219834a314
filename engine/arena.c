#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct ArenaChunk {
    ArenaChunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

static void
oom(size_t n)
{
    fprintf(stderr, "canbao: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *
xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (p == NULL)
        oom(n * m);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/*
 * A vector of VEC_BIG bytes or more lives in a mapping of its own, in transparent huge pages
 * where the system gives them on request (madvise): its memory is first touched 2 MB at a
 * time instead of 4 KB (the facts of a night at M are 2 GB, half a million page faults
 * otherwise), and it grows by mremap, which moves the pages instead of copying them.  (malloc's
 * own large blocks grow by mremap too, but not once part of one is advised: the mapping is
 * split, and realloc copies.)  The mapping's size is the vector's bytes rounded up to 2 MB.
 */
#define VEC_BIG  ((size_t) 8 << 20)
#define HUGE_PAGE ((size_t) 2 << 20)

static size_t
big_size(size_t bytes)
{
    return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* A mapping of size bytes (a multiple of HUGE_PAGE) on a HUGE_PAGE boundary, advised. */
static void *
big_map(size_t size)
{
    void *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        oom(size);
    uintptr_t a = ((uintptr_t) p + HUGE_PAGE - 1) & ~(uintptr_t) (HUGE_PAGE - 1);
    if (a > (uintptr_t) p)
        munmap(p, a - (uintptr_t) p);
    uintptr_t end = (uintptr_t) p + size + HUGE_PAGE;
    if (end > a + size)
        munmap((void *) (a + size), end - (a + size));
    (void) madvise((void *) a, size, MADV_HUGEPAGE);
    return (void *) a;
}

void *
xmap_huge(size_t bytes)
{
    return big_map(big_size(bytes ? bytes : 1));
}

void
xunmap_huge(void *p, size_t bytes)
{
    if (p != NULL)
        munmap(p, big_size(bytes ? bytes : 1));
}

/* The first mapping of a vector that was in malloc's memory: its `used` bytes copied. */
static void *
big_take(void *old, size_t used)
{
    void *p = big_map(big_size(VEC_BIG));
    if (used > 0)
        memcpy(p, old, used);
    free(old);
    return p;
}

/* A vector's mapping of size `from` made `to` bytes (both multiples of HUGE_PAGE). */
static void *
big_grow(void *p, size_t from, size_t to)
{
    if (to <= from)
        return p;
    void *q = mremap(p, from, to, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) {   /* no room to grow or move: a new mapping and a copy */
        q = big_map(to);
        memcpy(q, p, from);
        munmap(p, from);
        return q;
    }
    (void) madvise(q, to, MADV_HUGEPAGE);   /* the part added (the moved part keeps its advice) */
    return q;
}

void
arena_init(Arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : (size_t) 1 << 20;
    a->used_total = 0;
}

void *
arena_alloc(Arena *a, size_t n)
{
    n = (n + 15) & ~(size_t) 15;
    ArenaChunk *c = a->head;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        c = xmalloc(sizeof *c + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    return p;
}

void *
arena_calloc(Arena *a, size_t n)
{
    return memset(arena_alloc(a, n), 0, n);
}

char *
arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(Arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void
arena_reset(Arena *a)
{
    ArenaChunk *c = a->head;
    if (c == NULL)
        return;
    /* keep the oldest chunk (the last in the list), free the others */
    while (c->next != NULL) {
        ArenaChunk *next = c->next;
        free(c);
        c = next;
    }
    c->used = 0;
    a->head = c;
    a->used_total = 0;
}

void
arena_free(Arena *a)
{
    ArenaChunk *c = a->head;
    while (c != NULL) {
        ArenaChunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void
vec_init(Vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void
vec_reserve(Vec *v, size_t cap)
{
    if (cap <= v->cap)
        return;
    size_t old = v->cap * v->elem, bytes = cap * v->elem;
    if (bytes < VEC_BIG)
        v->data = xrealloc(v->data, bytes);
    else if (old < VEC_BIG)
        v->data = big_take(v->data, old);   /* v->cap items at most are in use */
    v->cap = cap;
    if (bytes >= VEC_BIG)
        v->data = big_grow(v->data, old >= VEC_BIG ? big_size(old) : big_size(VEC_BIG), big_size(bytes));
}

void *
vec_push(Vec *v)
{
    if (v->len == v->cap)
        vec_reserve(v, v->cap ? v->cap * 2 : 64);
    void *slot = (char *) v->data + v->len * v->elem;
    memset(slot, 0, v->elem);
    v->len++;
    return slot;
}

void
vec_free(Vec *v)
{
    if (v->cap * v->elem >= VEC_BIG)
        munmap(v->data, big_size(v->cap * v->elem));
    else
        free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}
