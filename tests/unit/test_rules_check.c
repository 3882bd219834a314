/* Unit tests for the rule checker (engine/rules_check.c): unknown fact kinds and fields, type
 * and unit errors, parameters missing, unused or of the wrong type, and the other mistakes a
 * rule writer makes, each reported at its line and column with what was expected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rules_int.h"
#include "sourcedef.h"

/* compiles one rule file with a parameters file; expects success */
static RuleSet *
compile_ok(const char *rules, const char *params)
{
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {"r.rules", rules};
    RuleSet *rs = rules_compile(&src, 1, "p.conf", params, NULL, &diags);
    if (rs == NULL) {
        const RuleDiag *d = diags.data;
        fail_msg("unexpected error %s: %s (%s)", diags.len ? d->where : "?", diags.len ? d->message : "?",
                 diags.len ? d->hint : "");
    }
    vec_free(&diags);
    return rs;
}

/* expects the first problem at where, its message containing msg and its hint containing hint */
static void
check_error(const char *rules, const char *params, const char *where, const char *msg, const char *hint)
{
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {"r.rules", rules};
    CbError err;
    RuleSet *rs = rules_compile(&src, 1, "p.conf", params, &err, &diags);
    if (rs != NULL)
        fail_msg("no error for: %s", rules);
    assert_true(diags.len >= 1);
    const RuleDiag *d = diags.data;
    if (strcmp(d->where, where) != 0 || strstr(d->message, msg) == NULL || (hint && strstr(d->hint, hint) == NULL))
        fail_msg("wanted %s: %s (%s), got %s: %s (%s)", where, msg, hint ? hint : "", d->where, d->message, d->hint);
    assert_int_equal(err.kind, CBERR_INPUT);
    vec_free(&diags);
}

static void
test_kinds_and_fields(void **state)
{
    (void) state;
    check_error("define a = any(deaths)", "", "r.rules:1:16", "unknown fact kind deaths", "did you mean death?");
    check_error("define a = any(death where death_day <= asof)", "", "r.rules:1:28", "unknown name death_day",
                "did you mean death_date?");
    check_error("define a = register.birthday", "", "r.rules:1:12", "unknown register field birthday",
                "did you mean register.birth_date?");
    check_error("define a = earliest(resident_pension).state", "", "r.rules:1:12",
                "unknown field state of resident_pension", "status");
    check_error("define a = any(pension_payment where account > 0 yuan)", "", "r.rules:1:38",
                "field account of pension_payment is not kept", NULL);
    check_error("define a = any(register)", "", "r.rules:1:12", "register is the person's own entry", NULL);
    check_error("define a = active_on asof", "", "r.rules:1:12", "active_on needs a fact in scope", NULL);
    check_error("define a = any(death where active_on asof)", "", "r.rules:1:28", "death has no start and end dates",
                NULL);
    check_error("define a = undefined_thing", "", "r.rules:1:12", "unknown name undefined_thing", NULL);
    check_error("define a = agee(asof)", "", "r.rules:1:12", "unknown function agee", "did you mean age?");
}

static void
test_types_and_units(void **state)
{
    (void) state;
    check_error("define a = age(asof) >= 16", "", "r.rules:1:12", "cannot compare years with a plain number",
                "16 years");
    check_error("define a = age(asof) >= $min_age", "min_age = 16 months\n", "r.rules:1:12",
                "cannot compare years with months", NULL);
    check_error("define a = asof + 3", "", "r.rules:1:12", "cannot compute a date + a plain number", "3 months");
    check_error("define a = 100 yuan * 2 yuan", "", "r.rules:1:12", "cannot compute money (yuan) * money (yuan)",
                NULL);
    check_error("define a = register.division under 222401", "", "r.rules:1:12", "under compares text with text",
                NULL);
    check_error("define a = earliest(resident_pension).status == recieving", "", "r.rules:1:49",
                "unknown value recieving of resident_pension.status", "contributing, receiving, suspended or terminated");
    check_error("define a = earliest(resident_pension).status == none", "", "r.rules:1:12",
                "compare with none using is", "is none");
    check_error("define a = not age(asof)", "", "r.rules:1:16", "must be a condition", NULL);
    check_error("define a = if true then 1 else asof", "", "r.rules:1:12", "if gives a plain number or a date", NULL);
    check_error("define a = sum(death_date of death)", "", "r.rules:1:16", "cannot sum a date", NULL);
    check_error("define a = month_of(2026-05)", "", "r.rules:1:21", "month_of cannot take a calendar month", NULL);
    check_error("define a = x within 3 months before asof", "", "r.rules:1:12", "unknown name x", NULL);
    check_error("define a = asof within 3 yuan before asof", "", "r.rules:1:24", "within needs a duration", NULL);
}

static void
test_parameters(void **state)
{
    (void) state;
    check_error("define a = age(asof) >= $nope", "", "r.rules:1:25", "parameter $nope is not set", "p.conf");
    check_error("define a = age(asof) >= 16 years", "# header\nextra = 3 months\n", "p.conf:2:1",
                "parameter extra is not used by any rule", "use $extra");
    check_error("define a = any(death where evidence in $auth)", "auth = police, rumour\n", "p.conf:1:16",
                "rumour in $auth is not a value of death.evidence", "police, health, civil, court, medical or township");
    check_error("define a = (dibao in $g and any(dibao)) or (tekun in $g and any(tekun))", "g = dibao, tekun, orphans\n",
                "p.conf:1:19", "orphans in $g is not tested by any rule", NULL);
    check_error("define a = $g", "g = dibao\n", "r.rules:1:12", "$g is a list of names", "value in $name");
    check_error("define a = any(death where evidence in $n)", "n = 3\n", "r.rules:1:28", "$n is not a list of names",
                "p.conf:1:5");
    check_error("define a = age(asof) >= 16 years", "min_age = 16 weeks\n", "p.conf:1:14", "wrong unit \"weeks\"",
                "years, months, days or yuan");
}

static void
test_declarations(void **state)
{
    (void) state;
    check_error("define a = b\ndefine b = a", "", "r.rules:1:8", "definition a refers to itself", NULL);
    check_error("define a = 1\ndefine a = 2", "", "r.rules:2:8", "a is defined twice", "first defined at r.rules:1:8");
    check_error("define age = 1", "", "r.rules:1:8", "age is a built-in name", NULL);
    check_error("list x \"t\"\n  column a\n  row when true { }", "", "r.rules:3:3", "column a has no value in this row",
                NULL);
    check_error("list x \"t\"\n  column a = b + 1\n  column b = a", "", "r.rules:2:10", "column a depends on itself",
                NULL);
    check_error("list x \"t\"\n  where 1", "", "r.rules:2:9", "the list's where must be a condition", NULL);
    check_error("list x \"t\"\n  column a = earliest(death)", "", "r.rules:2:10", "column a is a death fact", NULL);
    check_error("list x \"t\"\n  column n = count(persons where true)", "", "r.rules:2:14",
                "persons cannot be counted here", NULL);
    check_error("reference d \"t\" files \"d*.csv\" field code = \"代码\"\n"
                "list x \"t\"\n  for each r in d\n  column n = count(persons where register.status == active)",
                "", "r.rules:4:14", "count(persons) needs a term PERSON_VALUE == ROW_VALUE", NULL);
    check_error("list x \"t\"\n  for each r in nowhere", "", "r.rules:2:17", "unknown reference list nowhere", NULL);
    check_error("list x \"t\"\n  where listed(y)\nlist y \"t\"\n  where listed(x)", "", "r.rules:1:6",
                "depends on itself through listed()", NULL);
    check_error("list x \"t\"\ntest \"e\" asof 2026-01-01\n  given register birth_date = 1990-01-01\n  expect z",
                "", "r.rules:4:10", "unknown list z", NULL);
    check_error("list x \"t\"\ntest \"e\" asof 2026-01-01\n  given death death_date = 2020-01-01", "", "r.rules:3:9",
                "given death before any given register", NULL);
    check_error("list x \"t\"\ntest \"e\" asof 2026-01-01\n  given register birth_date = \"1990\"", "",
                "r.rules:3:31", "birth_date of register must be a date", "2026-11-28");
}

/* a valid set compiles, with parameters folded to constants and enum values resolved */
static void
test_good(void **state)
{
    (void) state;
    RuleSet *rs = compile_ok("define live = earliest(resident_pension).status in (contributing, receiving)\n"
                             "define adult = age(asof) >= $min_age\n"
                             "define auth = any(death where evidence in $auth and link == exact)\n"
                             "list x \"t\"\n  where live and adult and not auth\n",
                             "min_age = 16 years\nauth = police, health\n");
    assert_int_equal(rs->params.n, 2);
    assert_true(rs->params.items[0].used);
    assert_int_equal(rs->nmemo, 3);
    assert_int_equal(rs->norder, 1);
    /* the where is three terms joined by and */
    assert_int_equal(rlist(rs, 0)->nconj, 3);
    /* columns: id_number, then rule and rule_version */
    assert_int_equal(rlist(rs, 0)->ncols, 3);
    assert_string_equal(rlist(rs, 0)->cols[2].name, "rule_version");
    assert_int_equal(strlen(rules_version(rs)), 64);
    rules_free(rs);
}

/* history = latest: the aggregates the kept facts answer pass, the others are refused at
 * their position, naming the source */
static void
history_case(const SourceDef *defs, const char *rules, const char *where)
{
    RuleSet *rs = compile_ok(rules, "w = 3 months\n");
    CbError err;
    memset(&err, 0, sizeof err);
    bool ok = rules_check_history(rs, defs, 2, &err);
    if (where == NULL && !ok)
        fail_msg("refused %s: %s: %s", rules, err.input_at, err.message);
    if (where != NULL && ok)
        fail_msg("accepted %s", rules);
    if (where != NULL && (strcmp(err.input_at, where) != 0 || strstr(err.message, "keeps only the latest") == NULL ||
                          err.kind != CBERR_INPUT))
        fail_msg("%s: wanted %s, got %s: %s", rules, where, err.input_at, err.message);
    rules_free(rs);
}

static void
test_history(void **state)
{
    (void) state;
    static const char claims[] = "[source]\nname = claims\nfact = medical_claim\nfiles = c_*\nformat = jsonl\n"
                                 "history = latest\n[fields]\nid_number = id | idnum\ndate = t | date\n";
    static const char fund[] = "[source]\nname = fund\nfact = provident_fund\nfiles = f_*\nformat = jsonl\n"
                               "history = latest\n[fields]\nid_number = id | idnum\nmonth = m | month\n";
    SourceDef defs[2];
    CbError err;
    memset(&err, 0, sizeof err);
    assert_true(sourcedef_parse("claims.conf", claims, strlen(claims), &defs[0], &err));
    assert_true(sourcedef_parse("fund.conf", fund, strlen(fund), &defs[1], &err));
    /* answered by the latest facts on each side of the as-of date */
    history_case(defs, "define a = max(date of medical_claim where date <= asof)\nlist x \"t\"\n  where a is none\n"
                       "  flag y when $w > 1 month", NULL);
    history_case(defs, "define a = any(provident_fund where first_day(month) within $w before asof)\n"
                       "define b = none(medical_claim)\n"
                       "define c = max(first_day(month) of provident_fund where first_day(month) <= asof and "
                       "first_day(month) within $w before asof)\n"
                       "define d = max(date of medical_claim)\n"
                       "list x \"t\"\n  where a and b and c is none and d is none", NULL);
    /* needing the other records */
    history_case(defs, "define a = count(medical_claim) > 1\nlist x \"t\"\n  where a and $w > 1 month", "r.rules:1:12");
    history_case(defs, "define a = max(amount of medical_claim) > 0 yuan\nlist x \"t\"\n  where a and $w > 1 month",
                 "r.rules:1:12");
    history_case(defs, "define a = any(medical_claim where date < asof)\nlist x \"t\"\n  where a and $w > 1 month",
                 "r.rules:1:12");
    history_case(defs, "define a = any(medical_claim where date >= asof)\nlist x \"t\"\n  where a and $w > 1 month",
                 "r.rules:1:12");
    history_case(defs, "define a = any(medical_claim where date <= asof or amount > 0 yuan)\nlist x \"t\"\n"
                       "  where a and $w > 1 month", "r.rules:1:12");
    history_case(defs, "define a = min(first_day(month) of provident_fund)\nlist x \"t\"\n  where a is none and $w > 1 month",
                 "r.rules:1:12");
    history_case(defs, "list x \"t\"\n  where $w > 1 month and earliest(medical_claim) is none", "r.rules:2:26");
    /* a span of the fact's own: an older claim may be inside its window when the latest is not */
    history_case(defs, "define a = any(medical_claim where date within (if amount >= 10000 yuan then 24 months "
                       "else $w) before asof)\nlist x \"t\"\n  where a", "r.rules:1:12");
    /* history = latest needs a date, and takes all or latest */
    static const char nodate[] = "[source]\nname = s\nfact = prison\nfiles = p_*\nformat = jsonl\nhistory = newest\n"
                                 "[fields]\nid_number = id | idnum\n";
    SourceDef bad;
    assert_false(sourcedef_parse("p.conf", nodate, strlen(nodate), &bad, &err));
    assert_non_null(strstr(err.message, "bad history"));
    assert_string_equal(err.input_at, "p.conf:6:11");
    sourcedef_free(&bad);
    int nodated = 0;
    for (int k = 0; k < FK_COUNT; k++) {
        char text[400];
        snprintf(text, sizeof text, "[source]\nname = s\nfact = %s\nfiles = p_*\nformat = jsonl\nhistory = latest\n"
                 "[fields]\nid_number = id | idnum\n", factkind_name((FactKind) k));
        memset(&err, 0, sizeof err);
        bool ok = sourcedef_parse("p.conf", text, strlen(text), &bad, &err);
        if (k == FK_RESIDENT_PENSION) {   /* the report counts every live enrolment */
            assert_false(ok);
            assert_non_null(strstr(err.message, "not for resident_pension"));
            sourcedef_free(&bad);
            continue;
        }
        bool refused = !ok && strstr(err.message, "history = latest needs a date") != NULL;
        if (refused != (factkind_d1_type((FactKind) k) < 0))
            fail_msg("fact = %s, history = latest: %s", factkind_name((FactKind) k), ok ? "accepted" : err.message);
        if (refused)
            assert_string_equal(err.input_at, "p.conf:6:1");
        nodated += refused;
        sourcedef_free(&bad);
    }
    assert_true(nodated > 0 && nodated < FK_COUNT);
    sourcedef_free(&defs[0]);
    sourcedef_free(&defs[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_fields),
        cmocka_unit_test(test_types_and_units),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_declarations),
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests_name("rules_check", tests, NULL, NULL);
}
