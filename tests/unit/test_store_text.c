/*
 * test_store_text.c
 *     Unit tests for the persons' text kept in the store's file (store_person_set_text,
 *     store_text_append, store_person_text): every field reads back byte for byte, an empty
 *     field stays apart from an empty string, in any order and with any read-ahead (also one
 *     shorter than the person's text); two threads appending at once get their own bytes; a
 *     folder that cannot hold the file and a file that cannot be read back are errors, never
 *     a list with names missing.  Through the file's mapping (store_text_map) the same fields
 *     come back; a file larger than the bound is not mapped, and text appended after the
 *     mapping is still read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define NP 600

/* A random field: absent, empty, a few characters (Chinese among them), or long. */
static char *
random_field(void)
{
    static const char *const parts[] = {"金", "顺", "女", "延吉市", "河南街", "510号", "A", "7", ",", "\"", " "};
    switch (next_rand() % 6) {
    case 0: return NULL;
    case 1: return strdup("");
    default: break;
    }
    size_t n = next_rand() % 7 == 0 ? 20000 : 1 + next_rand() % 12, len = 0;
    char *s = malloc(n * 12 + 1);
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[next_rand() % (sizeof parts / sizeof *parts)];
        memcpy(s + len, p, strlen(p));
        len += strlen(p);
    }
    s[len] = '\0';
    return s;
}

typedef struct Want {
    char *f[4];
} Want;

static void
check(const PersonText *t, const Want *w)
{
    const char *got[4] = {t->name, t->household, t->address, t->phone};
    for (int i = 0; i < 4; i++) {
        if (w->f[i] == NULL) {
            assert_null(got[i]);
        } else {
            assert_non_null(got[i]);
            assert_string_equal(got[i], w->f[i]);
        }
    }
}

static void
test_round_trip(void **state)
{
    (void) state;
    Store s;
    store_init(&s);
    Want *want = calloc(NP, sizeof *want);
    for (int i = 0; i < NP; i++) {
        for (int k = 0; k < 4; k++)
            want[i].f[k] = random_field();
        Person *p = vec_push(&s.persons);
        assert_true(store_person_set_text(&s, p, want[i].f[0], want[i].f[1], want[i].f[2], want[i].f[3], NULL));
    }
    const Person *ps = s.persons.data;
    /* in register order, read ahead by less than one person's text and by more */
    size_t aheads[] = {0, 64, 4096, 1u << 20};
    for (size_t a = 0; a < sizeof aheads / sizeof *aheads; a++) {
        TextBuf tb = {.ahead = aheads[a]};
        for (int i = 0; i < NP; i++) {
            PersonText t;
            store_person_text(&s, &ps[i], &tb, &t);
            check(&t, &want[i]);
        }
        textbuf_free(&tb);
    }
    /* at random, with copies that outlive the buffer */
    TextBuf tb = {0};
    Arena a;
    arena_init(&a, 1 << 16);
    PersonText copies[50];
    int which[50];
    for (int r = 0; r < 50; r++) {
        which[r] = (int) (next_rand() % NP);
        store_person_text_copy(&s, &ps[which[r]], &tb, &a, &copies[r]);
    }
    for (int r = 0; r < 50; r++)
        check(&copies[r], &want[which[r]]);
    textbuf_free(&tb);
    arena_free(&a);
    assert_true(store_text_ok(&s, NULL));
    for (int i = 0; i < NP; i++)
        for (int k = 0; k < 4; k++)
            free(want[i].f[k]);
    free(want);
    store_free(&s);
}

static void
test_mapped(void **state)
{
    (void) state;
    Store s;
    store_init(&s);
    assert_false(store_text_map(&s, 1u << 30));   /* no file yet */
    Want *want = calloc(NP + 1, sizeof *want);
    for (int i = 0; i < NP; i++) {
        for (int k = 0; k < 4; k++)
            want[i].f[k] = random_field();
        Person *p = vec_push(&s.persons);
        assert_true(store_person_set_text(&s, p, want[i].f[0], want[i].f[1], want[i].f[2], want[i].f[3], NULL));
    }
    assert_false(store_text_map(&s, (size_t) s.text_size - 1));   /* larger than allowed */
    assert_null(s.text_map);
    assert_true(store_text_map(&s, (size_t) s.text_size));
    assert_non_null(s.text_map);
    /* one more after the mapping: past its end, read from the file */
    for (int k = 0; k < 4; k++)
        want[NP].f[k] = random_field();
    Person *last = vec_push(&s.persons);
    assert_true(store_person_set_text(&s, last, want[NP].f[0], want[NP].f[1], want[NP].f[2], want[NP].f[3], NULL));
    assert_true(last->text_off + last->text_len > s.text_map_len);
    const Person *ps = s.persons.data;
    TextBuf tb = {0};
    for (int r = 0; r < 3 * NP; r++) {
        int i = r < NP + 1 ? r : (int) (next_rand() % (NP + 1));
        PersonText t;
        store_person_text(&s, &ps[i], &tb, &t);
        check(&t, &want[i]);
        if (i < NP && t.name)   /* found where it lies, not copied */
            assert_true(t.name >= s.text_map && t.name < s.text_map + s.text_map_len);
    }
    textbuf_free(&tb);
    assert_true(store_text_ok(&s, NULL));
    for (int i = 0; i <= NP; i++)
        for (int k = 0; k < 4; k++)
            free(want[i].f[k]);
    free(want);
    store_free(&s);
}

typedef struct Appender {
    Store   *s;
    int      tag;
    uint64_t off[200];
} Appender;

static void *
append_many(void *arg)
{
    Appender *ap = arg;
    char buf[300];
    for (int i = 0; i < 200; i++) {
        memset(buf, 'a' + ap->tag, sizeof buf);
        snprintf(buf, 16, "%d:%d", ap->tag, i);
        if (!store_text_append(ap->s, buf, sizeof buf, &ap->off[i], NULL))
            return NULL;
    }
    return ap;
}

static void
test_two_threads(void **state)
{
    (void) state;
    Store s;
    store_init(&s);
    Appender ap[2] = {{.s = &s, .tag = 0}, {.s = &s, .tag = 1}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, append_many, &ap[t]), 0);
    for (int t = 0; t < 2; t++) {
        void *r;
        pthread_join(th[t], &r);
        assert_ptr_equal(r, &ap[t]);
    }
    assert_int_equal(s.text_size, 2 * 200 * 300);
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < 200; i++) {
            char got[300], want[16];
            assert_int_equal(pread(s.text_fd, got, sizeof got, (off_t) ap[t].off[i]), (ssize_t) sizeof got);
            snprintf(want, sizeof want, "%d:%d", t, i);
            assert_string_equal(got, want);
            assert_int_equal(got[299], 'a' + t);
        }
    }
    store_free(&s);
}

static void
test_no_folder(void **state)
{
    (void) state;
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", "/nonexistent-canbao-folder/sub", 1);
    Store s;
    store_init(&s);
    Person p = {0};
    CbError err = {0};
    assert_false(store_person_set_text(&s, &p, "金", NULL, NULL, NULL, &err));
    assert_int_equal(err.kind, CBERR_IO);
    assert_non_null(strstr(err.message, "temporary file"));
    assert_non_null(strstr(err.input_at, "/nonexistent-canbao-folder/sub"));
    assert_non_null(strstr(err.hint, "TMPDIR"));
    store_free(&s);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
}

static void
test_unreadable(void **state)
{
    (void) state;
    Store s;
    store_init(&s);
    Person p[3] = {{0}};
    for (int i = 0; i < 3; i++)
        assert_true(store_person_set_text(&s, &p[i], "金顺女", "100000000", "延吉市", "13036216486", NULL));
    /* the file is cut short behind the store's back */
    assert_int_equal(ftruncate(s.text_fd, (off_t) p[1].text_off), 0);
    TextBuf tb = {0};
    PersonText t;
    store_person_text(&s, &p[0], &tb, &t);
    assert_string_equal(t.name, "金顺女");
    assert_true(store_text_ok(&s, NULL));
    store_person_text(&s, &p[2], &tb, &t);
    assert_null(t.name);
    assert_null(t.phone);
    CbError err = {0};
    assert_false(store_text_ok(&s, &err));
    assert_int_equal(err.kind, CBERR_IO);
    textbuf_free(&tb);
    store_free(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_mapped),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_no_folder),
        cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
