/* Unit tests for the rule language's lexer and parser (engine/rules_lex.c, rules_parse.c):
 * tokens with their lines and columns, and syntax errors that say where and what was expected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rules_int.h"

/* ---- lexer */

static RuleSet *
lex(const char *text, Vec *toks, Vec *diags, bool *ok)
{
    RuleSet *rs = rules_new();
    rs->diags = diags;
    uint16_t f = rules_add_file(rs, "t.rules", text);
    vec_init(toks, sizeof(Token));
    *ok = rules_lex(rs, f, toks);
    return rs;
}

static void
test_tokens(void **state)
{
    (void) state;
    Vec toks, diags;
    vec_init(&diags, sizeof(RuleDiag));
    bool ok;
    RuleSet *rs = lex("define x = asof + 3 months # comment\n"
                      "  \"延吉市\" $min_age 1200.50 2026-11-28 2026-02 <= != == >\n",
                      &toks, &diags, &ok);
    assert_true(ok);
    const Token *t = toks.data;
    assert_int_equal(toks.len, 17);
    assert_int_equal(t[0].kind, TK_IDENT);
    assert_string_equal(t[0].str, "define");
    assert_int_equal(t[3].kind, TK_IDENT);   /* asof is a name to the lexer */
    assert_int_equal(t[3].col, 12);
    assert_int_equal(t[4].kind, TK_PUNCT);
    assert_int_equal(t[4].punct, '+');
    assert_int_equal(t[5].kind, TK_NUMBER);
    assert_int_equal(t[5].num, 3);
    /* line 2: the text, then a parameter whose column counts characters, not bytes */
    assert_int_equal(t[7].kind, TK_STRING);
    assert_string_equal(t[7].str, "延吉市");
    assert_int_equal(t[7].line, 2);
    assert_int_equal(t[7].col, 3);
    assert_int_equal(t[8].kind, TK_PARAM);
    assert_string_equal(t[8].str, "min_age");
    assert_int_equal(t[8].col, 9);
    assert_int_equal(t[9].kind, TK_NUMBER);
    assert_int_equal(t[9].num, 120050);
    assert_int_equal(t[9].scale, 2);
    assert_int_equal(t[10].kind, TK_DATE);
    assert_int_equal(t[10].num, date_from_ymd(2026, 11, 28));
    assert_int_equal(t[11].kind, TK_MONTH);
    assert_int_equal(t[11].num, 2026 * 12 + 1);
    assert_int_equal(t[12].punct, PU_LE);
    assert_int_equal(t[13].punct, PU_NE);
    assert_int_equal(t[14].punct, PU_EQ);
    assert_int_equal(t[15].punct, '>');
    assert_int_equal(t[16].kind, TK_EOF);
    vec_free(&toks);
    vec_free(&diags);
    rules_free(rs);
}

/* the first diagnostic of lexing text */
static void
lex_error(const char *text, const char *where, const char *msg, const char *hint)
{
    Vec toks, diags;
    vec_init(&diags, sizeof(RuleDiag));
    bool ok;
    RuleSet *rs = lex(text, &toks, &diags, &ok);
    assert_false(ok);
    assert_true(diags.len >= 1);
    const RuleDiag *d = diags.data;
    if (strcmp(d->where, where) != 0 || strstr(d->message, msg) == NULL || (hint && strstr(d->hint, hint) == NULL))
        fail_msg("%s: wanted %s: %s (%s), got %s: %s (%s)", text, where, msg, hint ? hint : "", d->where, d->message,
                 d->hint);
    vec_free(&toks);
    vec_free(&diags);
    rules_free(rs);
}

static void
test_lex_errors(void **state)
{
    (void) state;
    lex_error("define a =\n  \"open", "t.rules:2:3", "unterminated text", "closing");
    lex_error("define a = 16years", "t.rules:1:14", "unexpected letter after a number", "16 years");
    lex_error("define a = 2026-02-30", "t.rules:1:12", "invalid date", "YYYY-MM-DD");
    lex_error("define a = 2026-13", "t.rules:1:12", "invalid month", NULL);
    lex_error("define a = b @ c", "t.rules:1:14", "unexpected character '@'", NULL);
    lex_error("define 年龄 = 1", "t.rules:1:8", "unexpected character '年'", "Chinese text goes in \"quotes\"");
    lex_error("define a = !b", "t.rules:1:12", "unexpected character '!'", "!=");
    lex_error("define a = $", "t.rules:1:12", "'$' without a name", NULL);
    lex_error("define a = \"x\\q\"", "t.rules:1:14", "unknown escape", NULL);
}

/* ---- parser: errors through rules_compile */

static const char *params_text = "";

static void
parse_error(const char *text, const char *where, const char *msg, const char *hint)
{
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {"r.rules", text};
    CbError err;
    RuleSet *rs = rules_compile(&src, 1, "p.conf", params_text, &err, &diags);
    assert_null(rs);
    assert_true(diags.len >= 1);
    const RuleDiag *d = diags.data;
    if (strcmp(d->where, where) != 0 || strstr(d->message, msg) == NULL || (hint && strstr(d->hint, hint) == NULL))
        fail_msg("wanted %s: %s (%s), got %s: %s (%s)", where, msg, hint ? hint : "", d->where, d->message, d->hint);
    /* the CbError carries the first problem as well */
    assert_int_equal(err.kind, CBERR_INPUT);
    assert_string_equal(err.input_at, where);
    vec_free(&diags);
}

static void
test_parse_errors(void **state)
{
    (void) state;
    parse_error("define a = 1 +\ndefine b = 2", "r.rules:2:1", "expected a value, found define", NULL);
    parse_error("list x \"t\"\n  where register.status ==\n", "r.rules:3:1", "expected a value, found end of file",
                NULL);
    parse_error("define a = any(death where death_date <= asof", "r.rules:1:46", "expected ')'", "close the aggregate");
    parse_error("list x \"t\"\n  colum y = 1", "r.rules:2:3", "expected a list clause, found colum",
                "where, column, flag, row");
    parse_error("define a = 1 = 2", "r.rules:1:14", "expected an operator", "comparison is written ==");
    parse_error("define where = 1", "r.rules:1:8", "where is a reserved word", NULL);
    parse_error("define a = if asof then 1", "r.rules:1:26", "expected 'else'", "else is required");
    parse_error("define a = 1 2", "r.rules:1:14", "expected the next declaration", "and, or");
    parse_error("list x\n  where true", "r.rules:2:3", "expected the list's title in quotes", NULL);
    parse_error("define a = sum(amount tax_collection)", "r.rules:1:23", "expected 'of'", "sum(amount of");
    parse_error("define a = x within 3 months asof", "r.rules:1:30", "expected 'before' or 'after'", NULL);
    parse_error("defne a = 1", "r.rules:1:1", "expected define, list, reference or test", NULL);
    parse_error("test \"t\" asof 2026-11-28\n  given register birth_date 1990-01-01", "r.rules:2:29",
                "expected '='", "field = value");
    parse_error("list x \"t\"\n  column a = 1\n  row { b = 2 }", "r.rules:3:9", "no column b in list x", NULL);
}

/* every declaration's errors are reported, not only the first */
static void
test_recovery(void **state)
{
    (void) state;
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {"r.rules", "define a = (1 +\n"
                                 "define b = 2\n"
                                 "list x \"t\" where ==\n"
                                 "define c = 3 3\n"};
    assert_null(rules_compile(&src, 1, "p.conf", "", NULL, &diags));
    assert_int_equal(diags.len, 3);
    const RuleDiag *d = diags.data;
    assert_string_equal(d[0].where, "r.rules:2:1");
    assert_string_equal(d[1].where, "r.rules:3:18");
    assert_string_equal(d[2].where, "r.rules:4:14");
    vec_free(&diags);
}

/* a good file parses into its declarations */
static void
test_parse_good(void **state)
{
    (void) state;
    RuleSet *rs = rules_new();
    uint16_t f = rules_add_file(rs, "g.rules",
                                "define prison.holding = start_date <= asof and (end_date is none or end_date > asof)\n"
                                "define township_of(code) = substr(code, 1, 9)\n"
                                "reference divisions \"区划\" files \"ref_*.csv\" field code = \"代码\"\n"
                                "list l \"标题\"\n"
                                "  where any(prison where holding)\n"
                                "  column a = 1\n"
                                "  flag f when true\n"
                                "  row for each y in distinct(year_of(start_date) of prison) when y > 2020 { a = y }\n"
                                "  group by township_of(register.division)\n"
                                "  order by a\n"
                                "test \"t\" asof 2026-11-28\n"
                                "  given register birth_date = 1990-01-01\n"
                                "  expect no l { a = 1 }\n");
    Vec toks;
    vec_init(&toks, sizeof(Token));
    assert_true(rules_lex(rs, f, &toks));
    assert_true(rules_parse(rs, f, &toks));
    assert_int_equal(rs->defines.len, 2);
    assert_int_equal(rdef(rs, 0)->kind, FK_PRISON);
    assert_string_equal(rdef(rs, 0)->name, "holding");
    assert_int_equal(rdef(rs, 1)->nparams, 1);
    assert_int_equal(rs->refs.len, 1);
    assert_string_equal(rref(rs, 0)->columns[0], "代码");
    assert_int_equal(rs->lists.len, 1);
    const ListDef *l = rlist(rs, 0);
    assert_int_equal(l->ncols, 3);   /* id_number, a, flags */
    assert_string_equal(l->cols[0].name, "id_number");
    assert_true(l->cols[2].flags);
    assert_int_equal(l->nrows, 1);
    assert_string_equal(l->rows[0].var, "y");
    assert_int_equal(l->ngroup, 1);
    assert_int_equal(l->norder, 1);
    assert_int_equal(rs->tests.len, 1);
    /* the where's span is its source text */
    const Node *w = rnode(rs, l->where);
    assert_int_equal(w->line, 5);
    assert_int_equal(w->col, 9);
    assert_int_equal(w->len, strlen("any(prison where holding)"));
    vec_free(&toks);
    rules_free(rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_lex_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_parse_good),
    };
    return cmocka_run_group_tests_name("rules_parse", tests, NULL, NULL);
}
