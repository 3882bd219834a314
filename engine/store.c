#include "store.h"

#include <stdlib.h>
#include <string.h>

void
store_init(Store *s)
{
    memset(s, 0, sizeof *s);
    vec_init(&s->files, sizeof(SourceFile));
    vec_init(&s->rejects, sizeof(Reject));
    vec_init(&s->persons, sizeof(Person));
    vec_init(&s->facts, sizeof(Fact));
    arena_init(&s->strings, 4 << 20);
    vec_init(&s->arenas, sizeof(Arena));
}

void
store_adopt_arena(Store *s, Arena *a)
{
    *(Arena *) vec_push(&s->arenas) = *a;
    arena_init(a, a->chunk_size);
}

void
store_append_facts(Store *s, const Fact *f, size_t n)
{
    Vec *v = &s->facts;
    if (v->len + n > v->cap) {
        size_t cap = v->cap ? v->cap : 1024;
        while (cap < v->len + n)
            cap *= 2;
        vec_reserve(v, cap);
    }
    memcpy((Fact *) v->data + v->len, f, n * sizeof *f);
    v->len += n;
}

void
store_free(Store *s)
{
    vec_free(&s->files);
    vec_free(&s->rejects);
    vec_free(&s->persons);
    vec_free(&s->facts);
    free(s->index);
    arena_free(&s->strings);
    for (size_t i = 0; i < s->arenas.len; i++)
        arena_free(&VEC_AT(&s->arenas, Arena, i));
    vec_free(&s->arenas);
    memset(s, 0, sizeof *s);
}

static int
cmp_person(const void *a, const void *b)
{
    PersonKey x = ((const Person *) a)->key, y = ((const Person *) b)->key;
    return (x > y) - (x < y);
}

/* Deterministic order within a bundle: kind, first date, file, record. */
static int
cmp_fact(const void *a, const void *b)
{
    const Fact *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->d1 != y->d1)
        return x->d1 < y->d1 ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->record > y->record) - (x->record < y->record);
}

static inline uint64_t
hash_key(PersonKey k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return k;
}

void
store_group(Store *s)
{
    qsort(s->persons.data, s->persons.len, sizeof(Person), cmp_person);
    qsort(s->facts.data, s->facts.len, sizeof(Fact), cmp_fact);

    size_t cap = 16;
    while (cap < s->persons.len * 2)
        cap <<= 1;
    free(s->index);
    s->index = xcalloc(cap, sizeof(uint32_t));
    s->index_mask = cap - 1;
    Person *ps = s->persons.data;
    for (size_t i = 0; i < s->persons.len; i++) {
        uint64_t h = hash_key(ps[i].key) & s->index_mask;
        while (s->index[h] != 0)
            h = (h + 1) & s->index_mask;
        s->index[h] = (uint32_t) i + 1;
        ps[i].fact_first = 0;
        ps[i].fact_count = 0;
    }
    /* attach bundles: both arrays are sorted by key, walk them together */
    const Fact *fs = s->facts.data;
    size_t f = 0;
    s->unlinked = 0;
    for (size_t i = 0; i < s->persons.len; i++) {
        while (f < s->facts.len && fs[f].person < ps[i].key) {
            s->unlinked++;
            f++;
        }
        ps[i].fact_first = (uint32_t) f;
        while (f < s->facts.len && fs[f].person == ps[i].key)
            f++;
        ps[i].fact_count = (uint32_t) f - ps[i].fact_first;
    }
    s->unlinked += s->facts.len - f;
}

const Person *
store_person(const Store *s, PersonKey key)
{
    if (s->index == NULL)
        return NULL;
    uint64_t h = hash_key(key) & s->index_mask;
    const Person *ps = s->persons.data;
    while (s->index[h] != 0) {
        const Person *p = &ps[s->index[h] - 1];
        if (p->key == key)
            return p;
        h = (h + 1) & s->index_mask;
    }
    return NULL;
}
