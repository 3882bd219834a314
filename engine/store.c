#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "parallel.h"

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
    s->text_fd = -1;
    pthread_mutex_init(&s->text_mu, NULL);
}

void
store_adopt_arena(Store *s, Arena *a)
{
    *(Arena *) vec_push(&s->arenas) = *a;
    arena_init(a, a->chunk_size);
}

static void spill_begin(Store *s);
static void spill_put(struct StoreSpill *sp, const Fact *f, size_t n);
static void spill_free(struct StoreSpill *sp);

void
store_append_facts(Store *s, const Fact *f, size_t n)
{
    if (s->spill == NULL && s->facts_budget > 0 && s->spill_errno == 0 &&
        (s->facts.len + n) * sizeof(Fact) > s->facts_budget)
        spill_begin(s);
    if (s->spill) {
        spill_put(s->spill, f, n);
        return;
    }
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
    if (s->text_map != NULL)
        munmap((void *) s->text_map, s->text_map_len);
    if (s->text_fd >= 0)
        close(s->text_fd);
    spill_free(s->spill);
    pthread_mutex_destroy(&s->text_mu);
    memset(s, 0, sizeof *s);
    s->text_fd = -1;
}

/* ---- temporary files: the persons' text, the facts past the budget ---- */

static const char *
temp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] ? dir : "/tmp";
}

/* An unlinked file in $TMPDIR; -1 with errno. */
static int
temp_file(const char *what)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/canbao-%s-XXXXXX", temp_dir(), what);
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);   /* gone with the process, whatever happens to it */
    return fd;
}

static bool
write_all(int fd, const void *p, size_t n, uint64_t at)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, (const char *) p + done, n - done, (off_t) (at + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return false;
        }
        done += (size_t) w;
    }
    return true;
}

/* ---- persons' text ---- */

static void
put_bytes(Vec *buf, const void *b, size_t n)
{
    if (buf->len + n > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 4096;
        while (cap < buf->len + n)
            cap *= 2;
        vec_reserve(buf, cap);
    }
    memcpy((char *) buf->data + buf->len, b, n);
    buf->len += n;
}

/* Each field: a byte 0 (empty), or a byte 1 and the text with a NUL. */
void
store_text_encode(Vec *buf, const char *const field[4], const size_t len[4])
{
    static const char tag[2] = {0, 1};
    for (int i = 0; i < 4; i++) {
        put_bytes(buf, &tag[field[i] != NULL], 1);
        if (field[i]) {
            put_bytes(buf, field[i], len[i]);
            put_bytes(buf, &tag[0], 1);
        }
    }
}

static bool
text_open(Store *s, CbError *err)
{
    int fd = temp_file("text");
    if (fd < 0) {
        CB_FAIL(err, CBERR_IO, "could not make a temporary file for the register's text: %m");
        cb_error_at(err, "%s", temp_dir());
        cb_error_hint(err, "set TMPDIR to a writable folder with room for about 100 bytes per person");
        return false;
    }
    s->text_fd = fd;
    return true;
}

bool
store_text_append(Store *s, const void *bytes, size_t n, uint64_t *off, CbError *err)
{
    pthread_mutex_lock(&s->text_mu);
    bool ok = s->text_fd >= 0 || text_open(s, err);
    uint64_t at = s->text_size;
    if (ok && !write_all(s->text_fd, bytes, n, at)) {
        ok = CB_FAIL(err, CBERR_IO, "could not write the register's text to a temporary file: %m");
        cb_error_at(err, "%s", temp_dir());
        cb_error_hint(err, "TMPDIR needs room for about 100 bytes per person of the register");
    }
    if (ok)
        s->text_size += n;
    pthread_mutex_unlock(&s->text_mu);
    *off = at;
    return ok;
}

bool
store_person_set_text(Store *s, Person *p, const char *name, const char *household, const char *address,
                      const char *phone, CbError *err)
{
    const char *f[4] = {name, household, address, phone};
    size_t len[4];
    for (int i = 0; i < 4; i++)
        len[i] = f[i] ? strlen(f[i]) : 0;
    Vec buf;
    vec_init(&buf, 1);
    store_text_encode(&buf, f, len);
    p->text_len = (uint32_t) buf.len;
    bool ok = store_text_append(s, buf.data, buf.len, &p->text_off, err);
    vec_free(&buf);
    return ok;
}

static void
text_failed(const Store *s, const Person *p, const char *why)
{
    int *failed = (int *) &s->text_failed;   /* the one field a reader writes */
    if (__atomic_exchange_n(failed, 1, __ATOMIC_RELAXED) == 0)
        log_warn("event=text_read_failed offset=%llu bytes=%u error=\"%s\"",
                  (unsigned long long) p->text_off, p->text_len, why);
}

/* p's bytes into tb (read with pread unless tb holds them already); false when they could not
 * be read (logged once). */
static bool
text_read(const Store *s, const Person *p, TextBuf *tb)
{
    if (p->text_off < tb->at || p->text_off + p->text_len > tb->at + tb->len) {
        size_t want = p->text_len > tb->ahead ? p->text_len : tb->ahead;
        if (want > tb->cap) {
            free(tb->data);
            tb->data = xmalloc(want);
            tb->cap = want;
        }
        tb->at = p->text_off;
        tb->len = 0;
        while (tb->len < want) {
            ssize_t r = s->text_fd < 0 ? 0 : pread(s->text_fd, tb->data + tb->len, want - tb->len,
                                                    (off_t) (tb->at + tb->len));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                text_failed(s, p, strerror(errno));
                tb->len = 0;
                return false;
            }
            if (r == 0)
                break;
            tb->len += (size_t) r;
        }
        if (tb->len < p->text_len) {
            text_failed(s, p, "the file ends early");
            tb->len = 0;
            return false;
        }
    }
    return true;
}

bool
store_text_map(Store *s, size_t most)
{
    if (s->text_map != NULL || s->text_fd < 0 || s->text_size == 0 || s->text_size > most)
        return s->text_map != NULL;
    void *m = mmap(NULL, (size_t) s->text_size, PROT_READ, MAP_SHARED, s->text_fd, 0);
    if (m == MAP_FAILED) {   /* read as before */
        log_warn("event=text_map_failed bytes=%llu error=\"%s\"", (unsigned long long) s->text_size,
                 strerror(errno));
        return false;
    }
    s->text_map = m;
    s->text_map_len = (size_t) s->text_size;
    return true;
}

void
store_person_text(const Store *s, const Person *p, TextBuf *tb, PersonText *t)
{
    memset(t, 0, sizeof *t);
    if (p->text_len == 0)
        return;
    const char *c, *end;
    if (s->text_map != NULL && p->text_off + p->text_len <= s->text_map_len) {
        c = s->text_map + p->text_off;
        end = c + p->text_len;
    } else {
        if (!text_read(s, p, tb))
            return;
        c = tb->data + (p->text_off - tb->at);
        end = c + p->text_len;
    }
    const char **f[4] = {&t->name, &t->household, &t->address, &t->phone};
    for (int i = 0; i < 4 && c < end; i++) {
        if (*c++ == 0)
            continue;
        const char *z = memchr(c, 0, (size_t) (end - c));
        if (z == NULL)
            break;
        *f[i] = c;
        c = z + 1;
    }
}

void
store_person_text_copy(const Store *s, const Person *p, TextBuf *tb, Arena *a, PersonText *t)
{
    store_person_text(s, p, tb, t);
    const char **f[4] = {&t->name, &t->household, &t->address, &t->phone};
    for (int i = 0; i < 4; i++)
        if (*f[i])
            *f[i] = arena_strdup(a, *f[i]);
}

bool
store_text_ok(const Store *s, CbError *err)
{
    if (__atomic_load_n(&s->text_failed, __ATOMIC_RELAXED) == 0)
        return true;
    return CB_FAIL(err, CBERR_IO, "could not read the register's text back from its temporary file "
                   "(event=text_read_failed in the log)");
}

void
textbuf_free(TextBuf *tb)
{
    free(tb->data);
    memset(tb, 0, sizeof *tb);
}

/* Deterministic order within a bundle: kind, first date, file, record, member of a split
 * record (no two facts of a run share file, record and member). */
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
    if (x->record != y->record)
        return x->record < y->record ? -1 : 1;
    return (x->sub > y->sub) - (x->sub < y->sub);
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

/* key and index side by side: one cache miss per lookup instead of two */
typedef struct Slot {
    PersonKey key;
    uint64_t  idx;   /* person index + 1, 0 = empty */
} Slot;

/* One thread's share of the grouping: a range of the facts (their buckets looked up), then a
 * range of the persons (their bundles sorted). */
typedef struct GroupPart {
    const Slot *slots;      /* NULL: the store's index (4 bytes a slot instead of 16) */
    const uint32_t *index;
    uint64_t    mask;
    Fact       *facts;
    uint32_t   *bucket;
    size_t      f0, f1;     /* facts [f0, f1) */
    size_t      np;
    size_t     *next;       /* np + 2: this part's counts, then its next slot in each bucket */
    Person     *ps;
    size_t      p0, p1;     /* persons [p0, p1) */
    int         phase;
} GroupPart;

static void *
group_part(void *arg)
{
    GroupPart *g = arg;
    enum { AHEAD = 16 };
    if (g->phase == 0 && g->slots == NULL) {
        /* the same through the index: a second cache miss per fact, but no table of 16 bytes
         * a slot beside the facts (a pass of spilled facts, where memory is the point) */
        for (size_t i = g->f0; i < g->f1; i++) {
            if (i + AHEAD < g->f1)
                __builtin_prefetch(&g->index[hash_key(g->facts[i + AHEAD].person) & g->mask]);
            uint64_t h = hash_key(g->facts[i].person) & g->mask;
            while (g->index[h] != 0 && g->ps[g->index[h] - 1].key != g->facts[i].person)
                h = (h + 1) & g->mask;
            uint32_t b = g->index[h] ? g->index[h] - 1 : (uint32_t) g->np;
            g->bucket[i] = b;
            g->next[b]++;
        }
    } else if (g->phase == 0) {
        /* each fact's bucket: its person's index, np for a person not on the register */
        for (size_t i = g->f0; i < g->f1; i++) {
            if (i + AHEAD < g->f1)
                __builtin_prefetch(&g->slots[hash_key(g->facts[i + AHEAD].person) & g->mask]);
            uint64_t h = hash_key(g->facts[i].person) & g->mask;
            while (g->slots[h].idx != 0 && g->slots[h].key != g->facts[i].person)
                h = (h + 1) & g->mask;
            uint32_t b = g->slots[h].idx ? (uint32_t) (g->slots[h].idx - 1) : (uint32_t) g->np;
            g->bucket[i] = b;
            g->next[b]++;
        }
    } else {
        for (size_t b = g->p0; b < g->p1; b++)
            sort_bundle(g->facts + g->ps[b].fact_first, g->ps[b].fact_count);
    }
    return NULL;
}

/* Runs one phase on every part (parallel.h). */
static void
group_phase(GroupPart *parts, int n, int phase)
{
    for (int t = 0; t < n; t++)
        parts[t].phase = phase;
    par_run(group_part, parts, sizeof *parts, n);
}

/*
 * The facts put in bucket order where they are (in_place), in two steps that stay in the
 * cache.  First into coarse buckets (bucket >> shift, at most 256 of them: contiguous ranges of
 * buckets) by an American flag sort: a fact out of place is swapped into the next free slot of
 * its coarse bucket, and the fact found there carried on, until one for the bucket being
 * filled comes back; every fact moves once, and 256 write positions stay in the cache.  Then
 * each coarse bucket (a few MB) is scattered to its buckets through a scratch array of its
 * size and copied back, the coarse buckets shared out over the threads.  Beside the facts:
 * their bucket numbers and one coarse bucket per thread.  The order within a bucket differs
 * from the facts' order, which the bundles' sort undoes.
 */
#define COARSE_MAX 256

typedef struct InPlacePart {
    Fact           *f;
    const uint32_t *bucket;
    size_t         *next;      /* each bucket's next slot (starts at the bucket's start) */
    const size_t   *cstart;    /* coarse bucket c: facts [cstart[c], cstart[c + 1]) */
    size_t          c0, c1;    /* this part's coarse buckets */
} InPlacePart;

/* The size of the largest of the ranges [start[c], start[c + 1]) for c in [c0, c1), at least 1. */
static size_t
largest_range(const size_t *start, size_t c0, size_t c1)
{
    size_t most = 1;
    for (size_t c = c0; c < c1; c++)
        if (start[c + 1] - start[c] > most)
            most = start[c + 1] - start[c];
    return most;
}

static void *
in_place_part(void *arg)
{
    InPlacePart *g = arg;
    Fact *scratch = xmalloc(largest_range(g->cstart, g->c0, g->c1) * sizeof *scratch);
    for (size_t c = g->c0; c < g->c1; c++) {
        size_t a = g->cstart[c], z = g->cstart[c + 1];
        for (size_t i = a; i < z; i++)
            scratch[g->next[g->bucket[i]]++ - a] = g->f[i];
        memcpy(g->f + a, scratch, (z - a) * sizeof *scratch);
    }
    free(scratch);
    return NULL;
}

static void
permute_in_place(Fact *f, uint32_t *bucket, size_t *next, size_t nf, size_t nb, int threads)
{
    if (nf == 0)
        return;
    int shift = 0;
    while ((nb - 1) >> shift >= COARSE_MAX)
        shift++;
    size_t nc = ((nb - 1) >> shift) + 1;
    size_t cstart[COARSE_MAX + 1], head[COARSE_MAX];
    for (size_t c = 0; c < nc; c++)
        cstart[c] = next[c << shift];   /* the start of its first bucket */
    cstart[nc] = nf;
    memcpy(head, cstart, nc * sizeof *head);
    for (size_t c = 0; c < nc; c++) {
        while (head[c] < cstart[c + 1]) {
            size_t i = head[c];
            uint32_t d = bucket[i];
            if (d >> shift == c) {
                head[c]++;
                continue;
            }
            Fact cur = f[i];
            do {
                size_t cd = d >> shift, j = head[cd]++;
                while (bucket[j] >> shift == cd)
                    j = head[cd]++;
                /* this coarse bucket's next slots, for when a fact next goes to it (a few
                 * hundred steps on): the chain of swaps then finds them in the cache */
                if (head[cd] + 16 < nf) {
                    __builtin_prefetch(&f[head[cd] + 2], 1);
                    __builtin_prefetch(&bucket[head[cd] + 16], 1);
                }
                Fact t = f[j];
                uint32_t td = bucket[j];
                f[j] = cur;
                bucket[j] = d;
                cur = t;
                d = td;
            } while (d >> shift != c);
            f[i] = cur;
            bucket[i] = d;
            head[c]++;
        }
    }
    if ((size_t) threads > nc)
        threads = (int) nc;
    /* contiguous coarse buckets, about nf / threads facts each (a range of persons can hold
     * twice the facts of another: the old have more) */
    InPlacePart parts[STORE_GROUP_MAX_THREADS];
    size_t c = 0;
    for (int t = 0; t < threads; t++) {
        size_t c0 = c, want = nf * (size_t) (t + 1) / (size_t) threads;
        while (c < nc && (t == threads - 1 || cstart[c + 1] <= want))
            c++;
        parts[t] = (InPlacePart) {.f = f, .bucket = bucket, .next = next, .cstart = cstart,
                                  .c0 = c0, .c1 = c};
    }
    par_run(in_place_part, parts, sizeof *parts, threads);
}

/* A person's key, place on arrival and place in its bucket, for sorting the persons by key. */
typedef struct KeyAt {
    PersonKey key;
    uint32_t  orig;
    uint32_t  pos;
} KeyAt;

/* The buckets [b0, b1) of sort_persons, sorted on one thread. */
typedef struct PersonSortPart {
    Person         *ps;
    const uint32_t *orig;
    const size_t   *start;     /* bucket c: persons [start[c], start[c + 1]) */
    size_t          b0, b1;
} PersonSortPart;

static int
cmp_arrival(const void *x, const void *y)
{
    uint32_t a = ((const KeyAt *) x)->orig, b = ((const KeyAt *) y)->orig;
    return (a > b) - (a < b);
}

/* One bucket's persons [0, m) put in key order, equal keys by their place on arrival: an LSD
 * radix sort of (key, places), a byte a pass (bytes that are the same in every key of the
 * bucket are not a pass), equal keys then put in order of arrival; then the persons gathered in
 * that order into out (m of them) and copied back. */
static void
sort_bucket(Person *ps, const uint32_t *orig, size_t m, KeyAt *a, KeyAt *b, Person *out)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < m; i++) {
        PersonKey k = ps[i].key;
        a[i] = (KeyAt) {k, orig[i], (uint32_t) i};
        for (int d = 0; d < 8; d++)
            count[d][(k >> (8 * d)) & 0xFF]++;
    }
    for (int d = 0; d < 8; d++) {
        if (count[d][(a[0].key >> (8 * d)) & 0xFF] == m)
            continue;
        size_t pos[256], sum = 0;
        for (int c = 0; c < 256; c++) {
            pos[c] = sum;
            sum += count[d][c];
        }
        for (size_t i = 0; i < m; i++)
            b[pos[(a[i].key >> (8 * d)) & 0xFF]++] = a[i];
        KeyAt *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0, r; i < m; i += r) {   /* equal keys (rare): in order of arrival */
        for (r = 1; i + r < m && a[i + r].key == a[i].key; r++)
            ;
        if (r > 1)
            qsort(a + i, r, sizeof *a, cmp_arrival);
    }
    /* place i takes the person at a[i].pos: gathered into out, whose loads do not wait on one
     * another (moving the persons cycle by cycle in place, each load waited on the one before,
     * was half of the sort), then copied back */
    enum { AHEAD = 8 };
    for (size_t i = 0; i < m; i++) {
        if (i + AHEAD < m)
            __builtin_prefetch(&ps[a[i + AHEAD].pos]);
        out[i] = ps[a[i].pos];
    }
    memcpy(ps, out, m * sizeof *ps);
}

static void *
sort_buckets(void *arg)
{
    PersonSortPart *g = arg;
    size_t most = largest_range(g->start, g->b0, g->b1);
    KeyAt *a = xmalloc(most * sizeof *a), *b = xmalloc(most * sizeof *b);
    Person *out = xmalloc(most * sizeof *out);
    for (size_t c = g->b0; c < g->b1; c++)
        if (g->start[c + 1] - g->start[c] > 1)
            sort_bucket(g->ps + g->start[c], g->orig + g->start[c], g->start[c + 1] - g->start[c], a, b, out);
    free(a);
    free(b);
    free(out);
    return NULL;
}

static int
cmp_key(const void *x, const void *y)
{
    PersonKey a = *(const PersonKey *) x, b = *(const PersonKey *) y;
    return (a > b) - (a < b);
}

/* The bucket of key k among the 256 that the 255 splitters (ascending) bound: how many of
 * them are below or equal to k, found in eight steps without branches. */
static inline unsigned
split_bucket(const PersonKey split[256], PersonKey k)
{
    unsigned b = 0;
    for (unsigned step = 128; step > 0; step >>= 1)
        b += (k >= split[b + step - 1]) ? step : 0;
    return b;
}

/* The persons put in key order, equal keys in the order they came (stable), the same whatever
 * the number of threads.  qsort moved the 64-byte persons through a merge sort and a
 * permutation of pointers: 11 s for the 24 M persons of a province, on one core.  Here the
 * persons are first dealt in place into 256 buckets (each moved once, by swaps), their places
 * on arrival beside them; then each bucket, a few MB, is sorted on its own (sort_bucket), the
 * buckets shared out over the threads.  The buckets are bounded by keys sampled from the
 * persons (every n/4096-th on arrival, sorted): equal shares of the keys as they are.  Ranges
 * of equal width put 95 % of a city's register into one bucket (its ID numbers begin with
 * its few division codes; the range runs from the lowest province code to the highest), which
 * one thread then sorted in memory far larger than its cache.  Extra memory: 5 bytes a person
 * and, per thread, 96 bytes a person of the largest bucket. */
static void
sort_persons(Store *s, int threads)
{
    size_t n = s->persons.len;
    if (n < 2)
        return;
    Person *ps = s->persons.data;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = ps[i - 1].key <= ps[i].key;
    if (sorted)
        return;
    enum { SAMPLES = 4096 };
    PersonKey sample[SAMPLES], split[256];
    size_t ns = n < SAMPLES ? n : SAMPLES;
    for (size_t i = 0; i < ns; i++)
        sample[i] = ps[i * n / ns].key;
    qsort(sample, ns, sizeof *sample, cmp_key);
    for (size_t c = 0; c < 255; c++)
        split[c] = sample[(c + 1) * ns / 256];
    split[255] = UINT64_MAX;   /* never read: split_bucket's last step looks at split[254] at most */
    size_t start[257] = {0}, head[256];
    uint8_t *bk = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        bk[i] = (uint8_t) split_bucket(split, ps[i].key);
        start[bk[i] + 1]++;
    }
    for (int c = 0; c < 256; c++)
        start[c + 1] += start[c];
    memcpy(head, start, sizeof head);
    uint32_t *orig = xmalloc(n * sizeof *orig);
    for (size_t i = 0; i < n; i++)
        orig[i] = (uint32_t) i;
    for (size_t c = 0; c < 256; c++)
        while (head[c] < start[c + 1]) {
            size_t i = head[c], d = bk[i];
            if (d == c) {
                head[c]++;
                continue;
            }
            size_t j = head[d]++;   /* ps[i] to its bucket; what was there comes to i */
            if (head[d] + 16 < n) {   /* the bucket's next slot, for its next person (as below) */
                __builtin_prefetch(&ps[head[d] + 1], 1);
                __builtin_prefetch(&orig[head[d] + 16], 1);
            }
            Person t = ps[i];
            ps[i] = ps[j];
            ps[j] = t;
            uint32_t o = orig[i];
            orig[i] = orig[j];
            orig[j] = o;
            uint8_t b = bk[i];
            bk[i] = bk[j];
            bk[j] = b;
        }
    free(bk);
    if (threads < 1)
        threads = 1;
    if (threads > STORE_GROUP_MAX_THREADS)
        threads = STORE_GROUP_MAX_THREADS;
    PersonSortPart parts[STORE_GROUP_MAX_THREADS];
    size_t b = 0;
    for (int t = 0; t < threads; t++) {   /* contiguous buckets, about n / threads persons each */
        size_t b0 = b, want = n * (size_t) (t + 1) / (size_t) threads;
        while (b < 256 && (t == threads - 1 || start[b + 1] <= want))
            b++;
        parts[t] = (PersonSortPart) {.ps = ps, .orig = orig, .start = start, .b0 = b0, .b1 = b};
    }
    par_run(sort_buckets, parts, sizeof *parts, threads);
    free(orig);
}

/* The persons sorted by key and indexed by it, their bundles empty. */
static void
group_persons(Store *s, int threads)
{
    sort_persons(s, threads);
    size_t cap = 16;
    while (cap < s->persons.len * 2)
        cap <<= 1;
    free(s->index);
    s->index = xcalloc(cap, sizeof(uint32_t));
    s->index_mask = cap - 1;
    Person *ps = s->persons.data;
    enum { AHEAD = 16 };
    for (size_t i = 0; i < s->persons.len; i++) {
        if (i + AHEAD < s->persons.len)   /* the slots ahead, so that their misses overlap */
            __builtin_prefetch(&s->index[hash_key(ps[i + AHEAD].key) & s->index_mask], 1);
        uint64_t h = hash_key(ps[i].key) & s->index_mask;
        while (s->index[h] != 0)
            h = (h + 1) & s->index_mask;
        s->index[h] = (uint32_t) i + 1;
        ps[i].fact_first = 0;
        ps[i].fact_count = 0;
    }
}

/* The slots [h0, h1) of the table beside the facts, filled from the store's index: the table's
 * first touch (16 bytes a slot) and the persons' keys, read in hash order, shared out. */
typedef struct SlotPart {
    Slot           *slots;
    const uint32_t *index;
    const Person   *ps;
    size_t          h0, h1;
} SlotPart;

static void *
fill_slots(void *arg)
{
    SlotPart *g = arg;
    enum { AHEAD = 16 };
    for (size_t h = g->h0; h < g->h1; h++) {
        if (h + AHEAD < g->h1 && g->index[h + AHEAD] != 0)
            __builtin_prefetch(&g->ps[g->index[h + AHEAD] - 1].key);
        uint32_t i = g->index[h];
        g->slots[h] = (Slot) {.key = i ? g->ps[i - 1].key : 0, .idx = i};
    }
    return NULL;
}

/* The facts in memory put in person order (above), every person's bundle set (empty for the
 * persons without facts here); returns the number of facts about persons not on the register. */
static uint64_t
group_facts(Store *s, int threads)
{
    if (threads < 1)
        threads = 1;
    if (threads > STORE_GROUP_MAX_THREADS)
        threads = STORE_GROUP_MAX_THREADS;
    if (s->facts.len < (size_t) threads * 4096)
        threads = 1;
    vec_reserve(&s->facts, 1);   /* bundles point into it even when there are no facts */
    Person *ps = s->persons.data;
    size_t np = s->persons.len, cap = s->index_mask + 1;
    Slot *slots = NULL;
    if (s->spill == NULL) {
        slots = xmalloc(cap * sizeof *slots);
        SlotPart sp[STORE_GROUP_MAX_THREADS];
        for (int t = 0; t < threads; t++)
            sp[t] = (SlotPart) {.slots = slots, .index = s->index, .ps = ps,
                                .h0 = cap * (size_t) t / (size_t) threads,
                                .h1 = cap * (size_t) (t + 1) / (size_t) threads};
        par_run(fill_slots, sp, sizeof *sp, threads);
    }

    Fact *fs = s->facts.data;
    size_t nf = s->facts.len;
    uint32_t *bucket = xmalloc((nf ? nf : 1) * sizeof *bucket);
    GroupPart parts[STORE_GROUP_MAX_THREADS];
    for (int t = 0; t < threads; t++)
        parts[t] = (GroupPart) {.slots = slots, .index = s->index, .mask = s->index_mask, .facts = fs,
                                .bucket = bucket, .f0 = nf * (size_t) t / (size_t) threads,
                                .f1 = nf * (size_t) (t + 1) / (size_t) threads, .np = np,
                                .next = xcalloc(np + 2, sizeof(size_t)), .ps = ps};
    group_phase(parts, threads, 0);
    free(slots);
    /* the parts' counts summed; each bucket's start, in part 0's array (its next slot) */
    size_t *start = parts[0].next, at = 0;
    uint64_t unlinked = 0;
    for (size_t b = 0; b <= np; b++) {
        size_t count = 0;
        for (int t = 0; t < threads; t++)
            count += parts[t].next[b];
        start[b] = at;
        if (b < np) {
            ps[b].fact_first = (uint32_t) at;
            ps[b].fact_count = (uint32_t) count;
        } else {
            unlinked = count;
        }
        at += count;
    }
    permute_in_place(fs, bucket, start, nf, np + 1, threads);
    for (int t = 0; t < threads; t++)
        free(parts[t].next);
    free(bucket);
    /* the bundles' sort: contiguous persons, about nf / threads facts each */
    size_t p = 0;
    for (int t = 0; t < threads; t++) {
        size_t want = (nf - unlinked) * (size_t) (t + 1) / (size_t) threads;
        parts[t].p0 = p;
        while (p < np && (t == threads - 1 || (size_t) ps[p].fact_first + ps[p].fact_count <= want))
            p++;
        parts[t].p1 = p;
    }
    group_phase(parts, threads, 1);
    if (unlinked > 1)
        qsort(fs + (nf - unlinked), unlinked, sizeof *fs, cmp_fact);
    return unlinked;
}

/* Persons sorted by key and indexed; then the facts put in person order by a counting sort
 * (each fact's bucket looked up once, the facts moved to their buckets in place, as above) and
 * each bundle sorted on its own.  The same order as sorting all facts by cmp_fact, the facts
 * about ID numbers not on the register after every bundle, in O(n) moves instead of
 * O(n log n); the loops have independent iterations, so the cache misses overlap.  With
 * threads, each looks up a contiguous range of the facts, moves a range of coarse buckets and
 * sorts a range of bundles: the result is the same whatever their number. */
void
store_group_threads(Store *s, int threads)
{
    group_persons(s, threads);
    s->unlinked = group_facts(s, threads);
}

void
store_release_facts(Store *s)
{
    s->released = s->spill ? store_fact_count(s) : s->released + s->facts.len;
    vec_free(&s->facts);
    vec_init(&s->facts, sizeof(Fact));
    vec_reserve(&s->facts, 1);
    Person *ps = s->persons.data;
    for (size_t i = 0; i < s->persons.len; i++)
        ps[i].fact_first = ps[i].fact_count = 0;
}

/* ---- facts on disk ---- */

#define SPILL_BUF 1024   /* facts held per bucket before they are written */

struct StoreSpill {
    int      fd[STORE_SPILL_BUCKETS];
    uint64_t count[STORE_SPILL_BUCKETS];       /* facts put in each bucket */
    uint32_t nbuf[STORE_SPILL_BUCKETS];
    Fact    *buf;                              /* SPILL_BUF per bucket */
    int      err;                              /* errno of the first failed write */
    int      npass;
    int      first[STORE_SPILL_BUCKETS + 1];   /* pass k: buckets [first[k], first[k + 1]) */
    int      b0, b1;                           /* the loaded pass's */
};

static void
spill_free(struct StoreSpill *sp)
{
    if (sp == NULL)
        return;
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++)
        if (sp->fd[b] >= 0)
            close(sp->fd[b]);
    free(sp->buf);
    free(sp);
}

static inline int
bucket_of(PersonKey k)
{
    return (int) (hash_key(k) >> 58);   /* 64 buckets: the hash's top bits */
}

static void
spill_flush(struct StoreSpill *sp, int b)
{
    uint32_t n = sp->nbuf[b];
    sp->nbuf[b] = 0;
    if (n == 0 || sp->err)
        return;
    uint64_t at = (sp->count[b] - n) * sizeof(Fact);
    if (!write_all(sp->fd[b], sp->buf + (size_t) b * SPILL_BUF, n * sizeof(Fact), at))
        sp->err = errno;
}

static void
spill_put(struct StoreSpill *sp, const Fact *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int b = bucket_of(f[i].person);
        sp->buf[(size_t) b * SPILL_BUF + sp->nbuf[b]++] = f[i];
        sp->count[b]++;
        if (sp->nbuf[b] == SPILL_BUF)
            spill_flush(sp, b);
    }
}

static void
spill_flush_all(struct StoreSpill *sp)
{
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++)
        spill_flush(sp, b);
}

/* The facts from now on to disk, and those in memory first.  When the files cannot be made,
 * the facts stay in memory and store_spill_ok says why. */
static void
spill_begin(Store *s)
{
    struct StoreSpill *sp = xcalloc(1, sizeof *sp);
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++)
        sp->fd[b] = -1;
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++)
        if ((sp->fd[b] = temp_file("facts")) < 0) {
            s->spill_errno = errno;
            spill_free(sp);
            return;
        }
    sp->buf = xmalloc(STORE_SPILL_BUCKETS * SPILL_BUF * sizeof(Fact));
    sp->b1 = STORE_SPILL_BUCKETS;
    log_info("event=spill facts_in_memory=%zu budget_mb=%zu dir=\"%s\" note=\"the facts go to disk, "
             "by person, and are taken back a part at a time\"",
             s->facts.len, s->facts_budget >> 20, temp_dir());
    s->spill = sp;
    spill_put(sp, s->facts.data, s->facts.len);
    vec_free(&s->facts);
    vec_init(&s->facts, sizeof(Fact));
}

void
store_add_fact(Store *s, const Fact *f)
{
    store_append_facts(s, f, 1);
}

uint64_t
store_fact_count(const Store *s)
{
    if (s->spill == NULL)
        return s->facts.len + s->released;
    uint64_t n = 0;
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++)
        n += s->spill->count[b];
    return n;
}

bool
store_spill_ok(const Store *s, CbError *err)
{
    int e = s->spill_errno ? s->spill_errno : s->spill ? s->spill->err : 0;
    if (e == 0)
        return true;
    CB_FAIL(err, CBERR_IO, "could not keep the facts that do not fit the memory budget in temporary files: %s",
            strerror(e));
    cb_error_at(err, "%s", temp_dir());
    cb_error_hint(err, "set TMPDIR to a folder with room for 48 bytes per fact, or give --memory more");
    return false;
}

int
store_spill_plan(Store *s, int threads)
{
    if (s->spill == NULL) {
        store_group_threads(s, threads);
        return 1;
    }
    struct StoreSpill *sp = s->spill;
    spill_flush_all(sp);
    group_persons(s, threads);
    s->unlinked = 0;
    uint64_t most = s->facts_budget / sizeof(Fact), in_pass = 0;
    sp->npass = 0;
    for (int b = 0; b < STORE_SPILL_BUCKETS; b++) {
        if (b == 0 || (in_pass > 0 && in_pass + sp->count[b] > most)) {
            sp->first[sp->npass++] = b;
            in_pass = 0;
        }
        in_pass += sp->count[b];
    }
    sp->first[sp->npass] = STORE_SPILL_BUCKETS;
    sp->b0 = sp->b1 = 0;
    log_info("event=spill_plan facts=%llu passes=%d", (unsigned long long) store_fact_count(s), sp->npass);
    return sp->npass;
}

int
store_passes(const Store *s)
{
    return s->spill ? s->spill->npass : 1;
}

static bool
read_all(int fd, void *p, size_t n, uint64_t at)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(fd, (char *) p + done, n - done, (off_t) (at + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;   /* shorter than written */
            return false;
        }
        done += (size_t) r;
    }
    return true;
}

bool
store_spill_load(Store *s, int pass, int threads, CbError *err)
{
    struct StoreSpill *sp = s->spill;
    if (sp == NULL)
        return true;   /* all in memory, grouped by store_spill_plan */
    if (!store_spill_ok(s, err))
        return false;
    uint64_t n = 0;
    for (int b = sp->first[pass]; b < sp->first[pass + 1]; b++)
        n += sp->count[b];
    s->facts.len = 0;
    vec_reserve(&s->facts, n ? n : 1);   /* the last pass's memory, reused */
    for (int b = sp->first[pass]; b < sp->first[pass + 1]; b++) {
        if (!read_all(sp->fd[b], (Fact *) s->facts.data + s->facts.len, sp->count[b] * sizeof(Fact), 0)) {
            CB_FAIL(err, CBERR_IO, "could not read back the facts kept in a temporary file: %m");
            cb_error_at(err, "%s", temp_dir());
            return false;
        }
        s->facts.len += sp->count[b];
    }
    sp->b0 = sp->first[pass];
    sp->b1 = sp->first[pass + 1];
    s->unlinked += group_facts(s, threads);
    return true;
}

bool
store_in_pass(const Store *s, PersonKey key)
{
    if (s->spill == NULL)
        return true;
    int b = bucket_of(key);
    return b >= s->spill->b0 && b < s->spill->b1;
}

int
store_pass_of(const Store *s, PersonKey key)
{
    if (s->spill == NULL)
        return 0;
    int b = bucket_of(key), k = 0;
    while (k + 1 < s->spill->npass && s->spill->first[k + 1] <= b)
        k++;
    return k;
}

bool
store_scan_facts(const Store *s, void (*fn)(void *arg, const Fact *f, size_t n), void *arg, CbError *err)
{
    fn(arg, s->facts.data, s->facts.len);
    struct StoreSpill *sp = s->spill;
    if (sp == NULL)
        return true;
    enum { BLOCK = 16384 };
    Fact *blk = xmalloc(BLOCK * sizeof *blk);
    bool ok = store_spill_ok(s, err);
    for (int b = 0; ok && b < STORE_SPILL_BUCKETS; b++) {
        uint64_t on_disk = sp->count[b] - sp->nbuf[b];
        for (uint64_t i = 0; ok && i < on_disk; i += BLOCK) {
            size_t k = on_disk - i < BLOCK ? (size_t) (on_disk - i) : BLOCK;
            if (!read_all(sp->fd[b], blk, k * sizeof *blk, i * sizeof(Fact))) {
                ok = CB_FAIL(err, CBERR_IO, "could not read back the facts kept in a temporary file: %m");
                cb_error_at(err, "%s", temp_dir());
                break;
            }
            fn(arg, blk, k);
        }
        if (ok)
            fn(arg, sp->buf + (size_t) b * SPILL_BUF, sp->nbuf[b]);   /* not written yet */
    }
    free(blk);
    return ok;
}

void
store_group(Store *s)
{
    store_group_threads(s, 1);
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
