/* Unit tests for rules/parameters.conf parsing (engine/params.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "factkind.h"
#include "params.h"

static const char *good =
    "# comment\n"
    "division = 222401\n"
    "min_age = 16 years   # Art. 3\n"
    "government_paid = disability, tekun\n"
    "severe_disability = 2\n"
    "employment_window = 3 months\n"
    "absent_after = 24 months\n"
    "flag_age = 60 years\n"
    "authoritative = police, court\n"
    "funeral_expense = 1200.50 yuan\n"
    "funeral_months = 10 months\n";

static void
test_good(void **state)
{
    (void) state;
    Params p;
    CbError err;
    assert_true(params_parse("p.conf", good, &p, &err));
    assert_string_equal(p.division, "222401");
    assert_int_equal(p.min_age, 16);
    assert_true(p.gov_disability);
    assert_false(p.gov_dibao);
    assert_true(p.gov_tekun);
    assert_false(p.gov_poor);
    assert_int_equal(p.severe_disability, 2);
    assert_int_equal(p.absent_after, 24);
    assert_int_equal(p.funeral_expense, 120050);
    assert_int_equal(p.funeral_months, 10);
    assert_int_equal(p.authoritative, (1u << EV_POLICE) | (1u << EV_COURT));
}

/* Replaces the line starting with `key` in good by `line` and expects an error at `where`. */
static void
expect_error(const char *key, const char *line, const char *where, const char *msg)
{
    char text[2048] = "";
    const char *s = good;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = (size_t) (nl - s) + 1;
        if (key && strncmp(s, key, strlen(key)) == 0) {
            if (line) {
                strcat(text, line);
                strcat(text, "\n");
            }
        } else {
            strncat(text, s, n);
        }
        s += n;
    }
    Params p;
    CbError err;
    assert_false(params_parse("p.conf", text, &p, &err));
    assert_non_null(strstr(err.input_at, where));
    assert_non_null(strstr(err.message, msg));
}

static void
test_errors(void **state)
{
    (void) state;
    expect_error("min_age", "min_age = 16 weeks", "p.conf:3:11", "wrong unit");
    expect_error("min_age", "min_age = sixteen years", "p.conf:3:11", "non-negative number");
    expect_error("min_age", "min_age = 16.5 years", "p.conf:3:11", "whole number");
    expect_error("min_age", "min_ag = 16 years", "p.conf:3:1", "unknown parameter");
    expect_error("min_age", "min_age 16 years", "p.conf:3:1", "missing '='");
    expect_error("min_age", NULL, "p.conf", "min_age is not set");
    expect_error("government_paid", "government_paid = disability, orphans", "p.conf:4:31", "unknown group");
    expect_error("authoritative", "authoritative = police, rumour", "p.conf:9:25", "unknown evidence");
    expect_error("division", "division = 222401\ndivision = 222402", "p.conf:3:1", "set twice");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("params", tests, NULL, NULL);
}
