#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    v->data = xrealloc(v->data, cap * v->elem);
    v->cap = cap;
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
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}
