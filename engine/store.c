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

/* Sorts one bundle (a person's facts, usually a dozen): insertion sort, qsort when large. */
static void
sort_bundle(Fact *f, size_t n)
{
    if (n > 48) {
        qsort(f, n, sizeof *f, cmp_fact);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        if (cmp_fact(&f[i - 1], &f[i]) <= 0)
            continue;
        Fact t = f[i];
        size_t j = i;
        while (j > 0 && cmp_fact(&f[j - 1], &t) > 0) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = t;
    }
}

/* Persons sorted by key and indexed; then the facts put in person order by a counting sort
 * (each fact's bucket looked up once, the facts scattered to their buckets in their order) and
 * each bundle sorted on its own.  The same order as sorting all facts by cmp_fact, the facts
 * about ID numbers not on the register after every bundle, in O(n) moves instead of
 * O(n log n); the loops have independent iterations, so the cache misses overlap. */
void
store_group(Store *s)
{
    if (s->persons.len > 1)
        qsort(s->persons.data, s->persons.len, sizeof(Person), cmp_person);

    size_t cap = 16;
    while (cap < s->persons.len * 2)
        cap <<= 1;
    free(s->index);
    s->index = xcalloc(cap, sizeof(uint32_t));
    s->index_mask = cap - 1;
    Person *ps = s->persons.data;
    size_t np = s->persons.len;
    /* key and index side by side: one cache miss per lookup instead of two */
    struct Slot {
        PersonKey key;
        uint64_t  idx;   /* person index + 1, 0 = empty */
    } *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < np; i++) {
        uint64_t h = hash_key(ps[i].key) & s->index_mask;
        while (s->index[h] != 0)
            h = (h + 1) & s->index_mask;
        s->index[h] = (uint32_t) i + 1;
        slots[h].key = ps[i].key;
        slots[h].idx = i + 1;
        ps[i].fact_first = 0;
        ps[i].fact_count = 0;
    }

    /* bucket of each fact: its person's index, np for a person not on the register */
    const Fact *fs = s->facts.data;
    size_t nf = s->facts.len;
    enum { AHEAD = 16 };
    uint32_t *bucket = xmalloc((nf ? nf : 1) * sizeof *bucket);
    size_t *next = xcalloc(np + 2, sizeof *next);   /* counts, then each bucket's next slot */
    for (size_t i = 0; i < nf; i++) {
        if (i + AHEAD < nf)
            __builtin_prefetch(&slots[hash_key(fs[i + AHEAD].person) & s->index_mask]);
        uint64_t h = hash_key(fs[i].person) & s->index_mask;
        while (slots[h].idx != 0 && slots[h].key != fs[i].person)
            h = (h + 1) & s->index_mask;
        uint32_t b = slots[h].idx ? (uint32_t) (slots[h].idx - 1) : (uint32_t) np;
        bucket[i] = b;
        next[b + 1]++;
    }
    free(slots);
    for (size_t b = 0; b <= np; b++)
        next[b + 1] += next[b];
    for (size_t b = 0; b < np; b++) {
        ps[b].fact_first = (uint32_t) next[b];
        ps[b].fact_count = (uint32_t) (next[b + 1] - next[b]);
    }
    s->unlinked = next[np + 1] - next[np];
    Fact *out = xmalloc((nf ? nf : 1) * sizeof *out);
    for (size_t i = 0; i < nf; i++)
        out[next[bucket[i]]++] = fs[i];
    free(next);
    free(bucket);
    free(s->facts.data);
    s->facts.data = out;
    s->facts.cap = nf ? nf : 1;
    for (size_t b = 0; b < np; b++)
        sort_bundle(out + ps[b].fact_first, ps[b].fact_count);
    if (s->unlinked > 1)
        qsort(out + (nf - s->unlinked), s->unlinked, sizeof *out, cmp_fact);
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
