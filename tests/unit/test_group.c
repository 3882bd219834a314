/*
 * test_group.c
 *     Unit tests for store_group (the counting sort that puts the facts in person order): on
 *     random stores, the order is the one a full sort by (person, kind, first date, file,
 *     record) gives, facts about persons not on the register come after every bundle and are
 *     counted, every bundle points at its own facts, and 1, 2, 3 and 16 threads give the same
 *     bytes; the facts are sorted where they are (no second array of them).  The persons come
 *     in key order (a radix sort), whole, equal keys in the order they came.  No two facts of a
 *     run tie on every key (file, record and member tell them apart), nor do the random ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "time_limit.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* n persons with distinct keys, m facts: most about them, some about unknown keys; small
 * value ranges so that the order rests on every key down to the member of a split record. */
static void
make_store(Store *s, size_t n, size_t m)
{
    store_init(s);
    for (size_t i = 0; i < n; i++) {
        Person *p = vec_push(&s->persons);
        p->key = (next_rand() % 1000000007ULL) * 1000 + i;   /* distinct */
    }
    const Person *ps = s->persons.data;
    for (size_t i = 0; i < m; i++) {
        Fact *f = vec_push(&s->facts);
        f->person = next_rand() % 10 == 0 ? 5 + (next_rand() % 7) * 1000 + 999 * 1000000ULL
                                          : ps[next_rand() % n].key;
        f->kind = (uint16_t) (next_rand() % 4);
        f->d1 = (Day) (next_rand() % 3);
        f->file = (uint16_t) (next_rand() % 2);
        f->record = next_rand() % 3 * 1000000 + i / 2;   /* few values, but unique with sub */
        f->sub = (uint8_t) (i % 2);
    }
}

static int
cmp_keys(const Fact *x, const Fact *y)
{
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

static void
check_grouped(const Store *s)
{
    const Person *ps = s->persons.data;
    const Fact *fs = s->facts.data;
    size_t linked = 0;
    for (size_t i = 0; i < s->persons.len; i++) {
        if (i > 0)
            assert_true(ps[i - 1].key < ps[i].key);
        assert_int_equal(ps[i].fact_first, linked);
        const Fact *b = store_facts(s, &ps[i]);
        for (uint32_t k = 0; k < ps[i].fact_count; k++) {
            assert_true(b[k].person == ps[i].key);
            if (k > 0) {
                int c = cmp_keys(&b[k - 1], &b[k]);
                assert_true(c < 0);
            }
        }
        linked += ps[i].fact_count;
        assert_ptr_equal(store_person(s, ps[i].key), &ps[i]);
    }
    assert_int_equal(linked + s->unlinked, s->facts.len);
    for (size_t i = linked; i < s->facts.len; i++)
        assert_null(store_person(s, fs[i].person));
}

static void
test_order_and_threads(void **state)
{
    (void) state;
    const size_t sizes[][2] = {{1, 1}, {3, 0}, {50, 200}, {1000, 150000},
                               {test_work(20000, 2000), test_work(300000, 30000)}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        Store ref;
        uint64_t seed = rng;
        make_store(&ref, sizes[k][0], sizes[k][1]);
        store_group_threads(&ref, 1);
        check_grouped(&ref);
        const int threads[] = {2, 3, 16};
        for (size_t t = 0; t < 3; t++) {
            Store s;
            rng = seed;
            make_store(&s, sizes[k][0], sizes[k][1]);
            const void *before = s.facts.data;
            store_group_threads(&s, threads[t]);
            if (before != NULL)
                assert_ptr_equal(s.facts.data, before);   /* sorted where they are */
            assert_int_equal(s.facts.len, ref.facts.len);
            assert_int_equal(s.unlinked, ref.unlinked);
            if (s.facts.len > 0)
                assert_memory_equal(s.facts.data, ref.facts.data, s.facts.len * sizeof(Fact));
            assert_memory_equal(s.persons.data, ref.persons.data, s.persons.len * sizeof(Person));
            store_free(&s);
        }
        store_free(&ref);
    }
}

typedef struct Sum {
    uint64_t n, x;
} Sum;

static uint64_t
fact_mix(const Fact *f)
{
    return f->person * 0x9E3779B97F4A7C15ull ^ (uint64_t) f->kind << 48 ^ f->record * 31 ^ (uint64_t) f->d1 << 20 ^
           (uint64_t) f->file << 40 ^ f->sub;
}

static void
sum_facts(void *arg, const Fact *f, size_t n)
{
    Sum *s = arg;
    for (size_t i = 0; i < n; i++) {
        s->n++;
        s->x += fact_mix(&f[i]);
    }
}

/* The facts past a small budget on disk: every pass's bundles are the reference's bundles of
 * the persons in it, every person is in one pass, and every fact comes back once. */
static void
test_spill(void **state)
{
    (void) state;
    const size_t sizes[][2] = {{2, 5}, {1000, 150000}, {20000, 300000}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        Store ref, s;
        uint64_t seed = rng;
        make_store(&ref, sizes[k][0], sizes[k][1]);
        rng = seed;
        make_store(&s, sizes[k][0], 0);
        Sum want = {0};
        sum_facts(&want, ref.facts.data, ref.facts.len);
        s.facts_budget = sizes[k][1] * sizeof(Fact) / 5 + sizeof(Fact);
        /* appended in blocks of up to 1,000, as the loader does */
        for (size_t i = 0; i < ref.facts.len; i += 1000)
            store_append_facts(&s, (const Fact *) ref.facts.data + i, ref.facts.len - i < 1000 ? ref.facts.len - i : 1000);
        assert_true(store_spill_ok(&s, NULL));
        assert_non_null(s.spill);
        assert_int_equal(store_fact_count(&s), ref.facts.len);
        Sum seen = {0};
        assert_true(store_scan_facts(&s, sum_facts, &seen, NULL));
        assert_int_equal(seen.n, want.n);
        assert_int_equal(seen.x, want.x);

        store_group_threads(&ref, 2);
        int passes = store_spill_plan(&s, 2);
        assert_true(passes >= (sizes[k][1] > 100 ? 4 : 1));
        assert_true(passes <= STORE_SPILL_BUCKETS);
        size_t np = s.persons.len;
        int *in = calloc(np + 1, sizeof *in);
        uint64_t unlinked = 0, total = 0;
        for (int p = 0; p < passes; p++) {
            assert_true(store_spill_load(&s, p, 2, NULL));
            total += s.facts.len;
            const Person *ps = s.persons.data, *rp = ref.persons.data;
            size_t linked = 0;
            for (size_t i = 0; i < np; i++) {
                assert_true(ps[i].key == rp[i].key);
                if (!store_in_pass(&s, ps[i].key)) {
                    assert_int_equal(ps[i].fact_count, 0);
                    continue;
                }
                in[i]++;
                assert_int_equal(ps[i].fact_count, rp[i].fact_count);
                if (ps[i].fact_count > 0)
                    assert_memory_equal(store_facts(&s, &ps[i]), store_facts(&ref, &rp[i]),
                                        ps[i].fact_count * sizeof(Fact));
                linked += ps[i].fact_count;
            }
            unlinked += s.facts.len - linked;
        }
        for (size_t i = 0; i < np; i++)
            assert_int_equal(in[i], 1);
        assert_int_equal(total, ref.facts.len);
        assert_int_equal(unlinked, ref.unlinked);
        assert_int_equal(s.unlinked, ref.unlinked);
        store_release_facts(&s);
        assert_int_equal(s.released, ref.facts.len);
        free(in);
        store_free(&s);
        store_free(&ref);
    }
}

typedef struct KeyRec {
    PersonKey key;
    uint64_t  record;
} KeyRec;

static int
cmp_keyrec(const void *a, const void *b)
{
    const KeyRec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->record > y->record) - (x->record < y->record);
}

/* The persons in key order, whole (every field moves with its key), equal keys in the order
 * they came, with 1, 2 and 3 threads: against a sort of (key, place) with qsort.  Keys as ID
 * numbers make them (the leading digits shared, so the radix sort skips those bytes), keys
 * that differ only in their low byte, in their high byte, all equal, already in order, in
 * reverse, only 16 keys for thousands of persons, and one division's numbers with a few
 * from all over the country (the buckets are drawn from a sample of the keys). */
static void
test_person_order(void **state)
{
    (void) state;
    enum { SHAPES = 8 };
    const size_t sizes[] = {2, 3, 255, 4097, test_work(200000, 20000)};
    for (int shape = 0; shape < SHAPES; shape++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] * 3; k++) {
            size_t n = sizes[k / 3];
            int threads = 1 + (int) (k % 3);
            if ((shape == 1 || shape == 2 || shape == 3 || shape == 6) && n > 5000)
                continue;   /* few keys for many persons: the index's probes grow with the square
                               (the register never has two persons with one key) */
            Store s;
            store_init(&s);
            KeyRec *want = malloc(n * sizeof *want);
            for (size_t i = 0; i < n; i++) {
                uint64_t r = next_rand();
                PersonKey key;
                switch (shape) {
                case 0:   /* 222401 YYYYMMDD SSS: a county's ID numbers, some twice */
                    key = 22240100000000000ULL + (19400000 + r % 800000) * 1000 +
                          (r >> 24) % (n < 1000 ? 3 : 999) * (r % 5 != 0);
                    break;
                case 1: key = 0x1234560000000000ULL | (r & 0xFF); break;
                case 2: key = (r & 0xFF00000000000000ULL) | 42; break;
                case 3: key = 7; break;
                case 4: key = 1000 + i; break;
                case 5: key = 1000000 - i; break;
                case 6: key = 5000 + r % 16; break;   /* runs of equal keys */
                default:   /* a city's register: one division code, and one in 20 from elsewhere */
                    key = (r % 20 == 0 ? (110000 + (r >> 8) % 550000) * 100000000000ULL
                                       : 22240100000000000ULL) +
                          (19400000 + (r >> 32) % 800000) * 1000 + (r >> 16) % 999;
                    break;
                }
                Person *p = vec_push(&s.persons);
                p->key = key;
                p->record = i;
                p->text_off = key ^ i * 0x9E3779B97F4A7C15ull;   /* travels with the person */
                p->birth = (Day) i;
                want[i] = (KeyRec) {key, i};
            }
            qsort(want, n, sizeof *want, cmp_keyrec);
            store_group_threads(&s, threads);
            const Person *ps = s.persons.data;
            assert_int_equal(s.persons.len, n);
            for (size_t i = 0; i < n; i++) {
                assert_true(ps[i].key == want[i].key);
                assert_int_equal(ps[i].record, want[i].record);
                assert_true(ps[i].text_off == (ps[i].key ^ ps[i].record * 0x9E3779B97F4A7C15ull));
                assert_int_equal(ps[i].birth, (Day) ps[i].record);
            }
            free(want);
            store_free(&s);
        }
}

/* No folder for the files: the facts stay in memory, none lost, and the store says why. */
static void
test_spill_no_folder(void **state)
{
    (void) state;
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", "/nonexistent-canbao-folder", 1);
    Store ref, s;
    uint64_t seed = rng;
    make_store(&ref, 100, 5000);
    rng = seed;
    make_store(&s, 100, 0);
    s.facts_budget = 1000 * sizeof(Fact);
    store_append_facts(&s, ref.facts.data, ref.facts.len);
    CbError err = {0};
    assert_false(store_spill_ok(&s, &err));
    assert_int_equal(err.kind, CBERR_IO);
    assert_non_null(strstr(err.input_at, "/nonexistent-canbao-folder"));
    assert_null(s.spill);
    assert_int_equal(store_fact_count(&s), 5000);
    store_free(&s);
    store_free(&ref);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_threads),
        cmocka_unit_test(test_person_order),
        cmocka_unit_test(test_spill),
        cmocka_unit_test(test_spill_no_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
