/* Unit tests for rules/parameters.conf parsing (engine/params.c): typed values with units;
 * which parameters must exist is the rule checker's business (test_rules_check.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "params.h"

static const char *good =
    "# comment\n"
    "city_division = \"222401\"   # a text\n"
    "min_age = 16 years   # Art. 3\n"
    "government_paid = disability, tekun\n"
    "severe_disability = 2\n"
    "employment_window = 3 months\n"
    "grace = 30 days\n"
    "funeral_expense = 1200.50 yuan\n"
    "tier = 2000 yuan\n"
    "authoritative = police\n";

static void
test_good(void **state)
{
    (void) state;
    Params p;
    CbError err;
    assert_true(params_parse("p.conf", good, &p, &err));
    assert_int_equal(p.n, 9);
    Param *d = params_find(&p, "city_division");
    assert_non_null(d);
    assert_int_equal(d->kind, PARAM_TEXT);
    assert_string_equal(d->text, "222401");
    Param *a = params_find(&p, "min_age");
    assert_int_equal(a->kind, PARAM_NUMBER);
    assert_int_equal(a->unit, UNIT_YEARS);
    assert_int_equal(a->value, 16);
    assert_int_equal(a->line, 3);
    assert_int_equal(a->col, 11);
    Param *g = params_find(&p, "government_paid");
    assert_int_equal(g->kind, PARAM_NAMES);
    assert_int_equal(g->nnames, 2);
    assert_string_equal(g->names[0], "disability");
    assert_string_equal(g->names[1], "tekun");
    assert_int_equal(g->name_col[1], 31);
    assert_int_equal(params_find(&p, "severe_disability")->unit, UNIT_NONE);
    assert_int_equal(params_find(&p, "severe_disability")->value, 2);
    assert_int_equal(params_find(&p, "employment_window")->unit, UNIT_MONTHS);
    assert_int_equal(params_find(&p, "grace")->unit, UNIT_DAYS);
    assert_int_equal(params_find(&p, "funeral_expense")->value, 120050);
    assert_int_equal(params_find(&p, "tier")->value, 200000);
    assert_int_equal(params_find(&p, "authoritative")->nnames, 1);
    assert_null(params_find(&p, "nothing"));
    params_free(&p);
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
    assert_int_equal(err.kind, CBERR_INPUT);
    if (strstr(err.input_at, where) == NULL || strstr(err.message, msg) == NULL)
        fail_msg("wanted %s: %s, got %s: %s", where, msg, err.input_at, err.message);
}

static void
test_errors(void **state)
{
    (void) state;
    expect_error("min_age", "min_age = 16 weeks", "p.conf:3:14", "wrong unit \"weeks\"");
    expect_error("min_age", "min_age = 16.5 years", "p.conf:3:11", "whole number");
    expect_error("min_age", "min_age = 16 years old", "p.conf:3:20", "unexpected text");
    expect_error("min_age", "min_age 16 years", "p.conf:3:9", "missing '='");
    expect_error("min_age", "min_age =", "p.conf:3:10", "empty value");
    expect_error("min_age", "1min = 3", "p.conf:3:1", "expected a parameter name");
    expect_error("government_paid", "government_paid = disability,, tekun", "p.conf:4:30", "missing name");
    expect_error("government_paid", "government_paid = disability; tekun", "p.conf:4:29", "unexpected character");
    expect_error("government_paid", "government_paid = dibao, dibao", "p.conf:4:26", "listed twice");
    expect_error("funeral_expense", "funeral_expense = 1200.505 yuan", "p.conf:8:26", "too many decimals");
    expect_error("city_division", "city_division = \"222401", "p.conf:2:17", "unterminated text");
    expect_error("city_division", "city_division = \"222401\"\ncity_division = \"222402\"", "p.conf:3:1",
                 "set twice");
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
