/*
 * test_vec.c
 *     Unit tests for Vec (engine/arena.c) across the size where a vector leaves malloc's memory
 *     for a mapping of its own (8 MB, in huge pages where the system gives them): its items
 *     kept through every step of growth by vec_push and vec_reserve, for an item size that
 *     does not divide the sizes involved; vectors freed from either side of the line; a
 *     reserve that does not grow leaves the items where they are; xmap_huge's tables zeroed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "arena.h"

typedef struct Item {
    uint64_t n;
    uint32_t check;
    uint8_t  tail[12];   /* 24 bytes: no power of two */
} Item;

static void
fill(Item *it, uint64_t n)
{
    it->n = n;
    it->check = (uint32_t) (n * 2654435761u);
    memset(it->tail, (int) (n & 0xFF), sizeof it->tail);
}

static void
check_items(const Vec *v, size_t count)
{
    assert_int_equal(v->len, count);
    for (size_t i = 0; i < count; i++) {
        const Item *it = &VEC_AT(v, Item, i);
        assert_int_equal(it->n, i);
        assert_int_equal(it->check, (uint32_t) (i * 2654435761u));
        assert_int_equal(it->tail[0], (uint8_t) (i & 0xFF));
        assert_int_equal(it->tail[11], (uint8_t) (i & 0xFF));
    }
}

/* Pushed one at a time from empty to 48 MB: every doubling (below and above 8 MB) keeps them. */
static void
test_push_across(void **state)
{
    (void) state;
    Vec v;
    vec_init(&v, sizeof(Item));
    size_t n = ((size_t) 48 << 20) / sizeof(Item);
    for (size_t i = 0; i < n; i++) {
        Item *it = vec_push(&v);
        assert_int_equal(it->n, 0);   /* vec_push zeroes the new item */
        fill(it, i);
        if (i == 300000 || i == n / 2)   /* partway: the ones so far */
            check_items(&v, i + 1);
    }
    check_items(&v, n);
    vec_free(&v);
    assert_null(v.data);
    assert_int_equal(v.cap, 0);
}

/* Reserved in jumps: from a small vector straight past the line, then to much more, then
 * less (no change); and one that starts above it. */
static void
test_reserve_jumps(void **state)
{
    (void) state;
    Vec v;
    vec_init(&v, sizeof(Item));
    for (size_t i = 0; i < 1000; i++)
        fill(vec_push(&v), i);
    vec_reserve(&v, ((size_t) 9 << 20) / sizeof(Item) + 7);
    check_items(&v, 1000);
    size_t big = ((size_t) 100 << 20) / sizeof(Item) + 3;
    vec_reserve(&v, big);
    assert_int_equal(v.cap, big);
    check_items(&v, 1000);
    void *at = v.data;
    vec_reserve(&v, 2000);
    assert_ptr_equal(v.data, at);
    assert_int_equal(v.cap, big);
    for (size_t i = 1000; i < big; i++)   /* every byte of the mapping can be written */
        fill(vec_push(&v), i);
    assert_int_equal(v.cap, big);
    check_items(&v, big);
    vec_free(&v);

    Vec w;
    vec_init(&w, sizeof(Item));
    vec_reserve(&w, ((size_t) 20 << 20) / sizeof(Item));
    for (size_t i = 0; i < 10; i++)
        fill(vec_push(&w), i);
    check_items(&w, 10);
    vec_free(&w);
}

/* A table of its own mapping: zeroed, every byte writable, for sizes below, at and above 2 MB. */
static void
test_map_huge(void **state)
{
    (void) state;
    const size_t sizes[] = {1, 4096, (size_t) 2 << 20, ((size_t) 5 << 20) + 3};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *p = xmap_huge(sizes[k]);
        assert_int_equal((uintptr_t) p % ((uintptr_t) 2 << 20), 0);
        for (size_t i = 0; i < sizes[k]; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xA5, sizes[k]);
        assert_int_equal(p[sizes[k] - 1], 0xA5);
        xunmap_huge(p, sizes[k]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_across),
        cmocka_unit_test(test_reserve_jumps),
        cmocka_unit_test(test_map_huge),
    };
    return cmocka_run_group_tests_name("vec", tests, NULL, NULL);
}
