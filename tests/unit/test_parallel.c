/* Unit tests for engine/parallel.c: par_each over its items, and par_start/par_wait, one task
 * beside the calling thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <time.h>

#include "parallel.h"

typedef struct Slow {
    atomic_int done;   /* set by the task as its last step */
    int        calls;
} Slow;

static void *
slow_task(void *arg)
{
    Slow *s = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    s->calls++;
    atomic_store(&s->done, 1);
    return NULL;
}

static void
test_task_waited_for(void **state)
{
    (void) state;
    Slow s = {0};
    ParTask t = {0};
    par_start(&t, slow_task, &s);
    par_wait(&t);
    /* par_wait returned: the task has finished, exactly once */
    assert_int_equal(atomic_load(&s.done), 1);
    assert_int_equal(s.calls, 1);
    par_wait(&t);   /* a second wait returns at once */
    assert_int_equal(s.calls, 1);
}

static void
test_task_never_started(void **state)
{
    (void) state;
    ParTask t = {0};
    par_wait(&t);   /* a zeroed task is done: returns at once */
    assert_false(t.running);
}

static bool
mark(void *arg, size_t i)
{
    atomic_int *seen = arg;
    atomic_fetch_add(&seen[i], 1);
    return true;
}

static void
test_each_once(void **state)
{
    (void) state;
    atomic_int seen[100] = {0};
    assert_true(par_each(100, 2, mark, seen));
    for (int i = 0; i < 100; i++)
        assert_int_equal(atomic_load(&seen[i]), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_waited_for),
        cmocka_unit_test(test_task_never_started),
        cmocka_unit_test(test_each_once),
    };
    return cmocka_run_group_tests_name("parallel", tests, NULL, NULL);
}
