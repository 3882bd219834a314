/* Unit tests for the evaluation of rule expressions (engine/rules_eval.c): date arithmetic
 * with month-end clamping, ages and the 29 February rule, money in fen, none, aggregates over
 * a person's facts, text functions, evidence, the context reused from person to person, and
 * a list's rows in its order (one in person order as they come, another sorted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

static const char *rules_text =
    "define tax_collection.recent = date within 12 months before asof\n"
    "list e \"eval\"\n"
    "  column d1 = asof + 3 months\n"
    "  column d2 = 2024-02-29 - 1 years\n"
    "  column d3 = first_day(month_of(asof))\n"
    "  column d4 = last_day(2024-02)\n"
    "  column m1 = month_of(asof) + 1 month\n"
    "  column m2 = month_of(2026-12-31) + 1 month\n"
    "  column a1 = age(asof)\n"
    "  column a2 = age(2008-02-29, 2026-02-28)\n"
    "  column a3 = age(2008-02-29, 2026-03-01)\n"
    "  column b1 = birthday(2008-02-29, 18 years)\n"
    "  column b2 = birthday(60 years)\n"
    "  column money = $base + $months * 138.50 yuan\n"
    "list f \"more\"\n"
    "  column s = sum(amount of tax_collection where recent)\n"
    "  column n = count(tax_collection)\n"
    "  column nd = count(distinct type of tax_collection)\n"
    "  column j = join(distinct(type of tax_collection), \"|\")\n"
    "  column mx = max(date of tax_collection)\n"
    "  column none1 = max(date of certification)\n"
    "  column c1 = coalesce(max(date of certification), 2000-01-01)\n"
    "  column g = greatest(max(date of certification), 2001-01-01, 1999-01-01)\n"
    "  column t1 = substr(\"延吉市河南街道\", 4, 2)\n"
    "  column t2 = length(\"延吉市\")\n"
    "  column t3 = to_int(\"0042\")\n"
    "  column t4 = to_int(\"4x\")\n"
    "  column ce = ceil(7 / 2)\n"
    "  column fl = floor(7 / 2)\n"
    "  column i1 = if any(tax_collection where amount > 500 yuan) then \"big\" else \"small\"\n"
    "  column w1 = 2025-11-30 within 12 months before asof\n"
    "  column w2 = 2025-12-01 within 12 months before asof\n"
    "  column w3 = 2027-02-28 within 3 months after asof\n"
    "  column cn = max(date of certification) < asof\n"
    "  column isn = max(date of certification) is none\n"
    "  column bt = 250 between 200 and 399\n"
    "  column ng = -(2 * 3 months)\n"
    "  column yr = year_of(2026-05)\n"
    "  column dd = 2026-03-01 - 2026-02-01\n"
    "  column lt = earliest(tax_collection).type\n"
    "  column ins = earliest(tax_collection).type in (personal, donor)\n"
    "  column twice = n + n\n";

static const char *params_text = "base = 1200 yuan\nmonths = 10 months\n";

typedef struct Fixture {
    RuleSet *rs;
    Store    st;
    ListSet  ls;
    RefData  rd;
} Fixture;

static Fact *
add_fact(Store *st, PersonKey key, FactKind kind, Day d1, Day d2, int code, int64_t amount)
{
    Fact *f = vec_push(&st->facts);
    f->person = key;
    f->kind = (uint16_t) kind;
    f->d1 = d1;
    f->d2 = d2;
    f->code = (uint16_t) code;
    f->amount = amount;
    f->file = 1;
    f->record = st->facts.len;
    return f;
}

/* A person of the register in village 222401005011, active: the ID number's first 17 digits. */
static const Person *
add_person(Store *st, const char *id17, Day birth, uint64_t record)
{
    Person *p = vec_push(&st->persons);
    char id[19];
    memcpy(id, id17, 17);
    id[17] = idnum_check_digit(id17);
    id[18] = '\0';
    p->key = idnum_key(id);
    p->birth = birth;
    p->cancel_date = DAY_NONE;
    p->division = "222401005011";
    p->status = REG_ACTIVE;
    p->cancel_reason = 0xFF;
    p->sex = 0xFF;
    p->record = record;
    return p;
}

static int
setup(void **state)
{
    static Fixture fx;
    memset(&fx, 0, sizeof fx);
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {"e.rules", rules_text};
    fx.rs = rules_compile(&src, 1, "p.conf", params_text, NULL, &diags);
    if (fx.rs == NULL) {
        const RuleDiag *d = diags.data;
        fail_msg("%s: %s (%s)", d->where, d->message, d->hint);
    }
    vec_free(&diags);
    store_init(&fx.st);
    for (int i = 0; i < 2; i++) {
        SourceFile *sf = vec_push(&fx.st.files);
        sf->name = i == 0 ? "register.csv" : "tax.csv";
        sf->kind = i == 0 ? FK_REGISTER : FK_TAX_COLLECTION;
    }
    /* person 1 with three collections; person 2 with none (nothing may leak between them) */
    const char *ids[2] = {"22240119661215101", "22240119900101202"};
    Day births[2] = {date_from_ymd(1966, 12, 15), date_from_ymd(1990, 1, 1)};
    for (int i = 0; i < 2; i++) {
        add_person(&fx.st, ids[i], births[i], (uint64_t) i + 1);
    }
    PersonKey k = ((Person *) fx.st.persons.data)[0].key;
    add_fact(&fx.st, k, FK_TAX_COLLECTION, date_from_ymd(2026, 3, 1), DAY_NONE, TAX_PERSONAL, 30000);
    add_fact(&fx.st, k, FK_TAX_COLLECTION, date_from_ymd(2025, 12, 1), DAY_NONE, TAX_COLLECTIVE, 10000);
    add_fact(&fx.st, k, FK_TAX_COLLECTION, date_from_ymd(2025, 11, 30), DAY_NONE, TAX_DONOR, 70000);
    store_group(&fx.st);
    rules_ref_init(fx.rs, &fx.rd);
    rules_eval_all(fx.rs, &fx.st, date_from_ymd(2026, 11, 30), &fx.rd, &fx.ls, false);
    *state = &fx;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *fx = *state;
    lists_free(&fx->ls);
    rules_ref_free(&fx->rd);
    store_free(&fx->st);
    rules_free(fx->rs);
    return 0;
}

static const char *
val(Fixture *fx, int row, const char *col)
{
    const ListOut *lo = &fx->ls.lists[0];
    bool in_e = false;
    for (int c = 0; c < lo->ncols; c++)
        in_e |= strcmp(lo->cols[c], col) == 0;
    if (!in_e || strcmp(col, "rule") == 0)
        lo = &fx->ls.lists[1];
    const ListRow *r = &VEC_AT(&lo->rows, ListRow, row);
    for (int c = 0; c < lo->ncols; c++)
        if (strcmp(lo->cols[c], col) == 0)
            return r->vals[c];
    fail_msg("no column %s", col);
    return NULL;
}

static void
test_dates(void **state)
{
    Fixture *fx = *state;
    assert_int_equal(fx->ls.lists[0].rows.len, 2);
    assert_string_equal(val(fx, 0, "d1"), "2027-02-28");   /* 30 Nov + 3 months, clamped */
    assert_string_equal(val(fx, 0, "d2"), "2023-02-28");
    assert_string_equal(val(fx, 0, "d3"), "2026-11-01");
    assert_string_equal(val(fx, 0, "d4"), "2024-02-29");
    assert_string_equal(val(fx, 0, "m1"), "202612");
    assert_string_equal(val(fx, 0, "m2"), "202701");
    assert_string_equal(val(fx, 0, "yr"), "2026");
    assert_string_equal(val(fx, 0, "dd"), "28");
    assert_string_equal(val(fx, 0, "w1"), "false");   /* D - 12 months itself is outside */
    assert_string_equal(val(fx, 0, "w2"), "true");
    assert_string_equal(val(fx, 0, "w3"), "true");    /* exactly D + 3 months is inside */
}

static void
test_ages(void **state)
{
    Fixture *fx = *state;
    assert_string_equal(val(fx, 0, "a1"), "59");
    assert_string_equal(val(fx, 0, "a2"), "17");      /* 29 Feb: reached on 1 March in a common year */
    assert_string_equal(val(fx, 0, "a3"), "18");
    assert_string_equal(val(fx, 0, "b1"), "2026-03-01");
    assert_string_equal(val(fx, 0, "b2"), "2026-12-15");
    assert_string_equal(val(fx, 1, "a1"), "36");
}

static void
test_money_and_aggregates(void **state)
{
    Fixture *fx = *state;
    assert_string_equal(val(fx, 0, "money"), "2585.00");
    assert_string_equal(val(fx, 0, "s"), "400.00");     /* the donor's 30 Nov 2025 is 12 months back */
    assert_string_equal(val(fx, 0, "n"), "3");
    assert_string_equal(val(fx, 0, "nd"), "3");
    assert_string_equal(val(fx, 0, "j"), "collective|donor|personal");
    assert_string_equal(val(fx, 0, "mx"), "2026-03-01");
    assert_string_equal(val(fx, 0, "i1"), "big");
    assert_string_equal(val(fx, 0, "lt"), "donor");   /* earliest by date */
    assert_string_equal(val(fx, 0, "ins"), "true");
    assert_string_equal(val(fx, 0, "twice"), "6");
    /* the second person: nothing of the first */
    assert_string_equal(val(fx, 1, "s"), "0.00");
    assert_string_equal(val(fx, 1, "n"), "0");
    assert_string_equal(val(fx, 1, "j"), "");
    assert_string_equal(val(fx, 1, "mx"), "");
    assert_string_equal(val(fx, 1, "i1"), "small");
    assert_string_equal(val(fx, 1, "lt"), "");
    assert_string_equal(val(fx, 1, "ins"), "false");
}

static void
test_none_and_text(void **state)
{
    Fixture *fx = *state;
    assert_string_equal(val(fx, 0, "none1"), "");
    assert_string_equal(val(fx, 0, "c1"), "2000-01-01");
    assert_string_equal(val(fx, 0, "g"), "2001-01-01");
    assert_string_equal(val(fx, 0, "cn"), "false");   /* a comparison with none is false */
    assert_string_equal(val(fx, 0, "isn"), "true");
    assert_string_equal(val(fx, 0, "t1"), "河南");
    assert_string_equal(val(fx, 0, "t2"), "3");
    assert_string_equal(val(fx, 0, "t3"), "42");
    assert_string_equal(val(fx, 0, "t4"), "");
    assert_string_equal(val(fx, 0, "ce"), "4");
    assert_string_equal(val(fx, 0, "fl"), "3");
    assert_string_equal(val(fx, 0, "bt"), "true");
    assert_string_equal(val(fx, 0, "ng"), "-6");
}

static void
test_evidence(void **state)
{
    Fixture *fx = *state;
    const ListRow *r0 = &VEC_AT(&fx->ls.lists[1].rows, ListRow, 0);
    const ListRow *r1 = &VEC_AT(&fx->ls.lists[1].rows, ListRow, 1);
    /* the register record first, then the three collections the aggregates matched */
    assert_int_equal(r0->nev, 4);
    assert_int_equal(r0->ev[0].kind, FK_REGISTER);
    assert_int_equal(r0->ev[0].record, 1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(r0->ev[i].kind, FK_TAX_COLLECTION);
    assert_int_equal(r1->nev, 1);
    /* rows carry the rule and the rule set's version */
    assert_string_equal(val(fx, 0, "rule"), "e.rules:f");
    assert_int_equal(strlen(val(fx, 0, "rule_version")), 64);
}

/* the evaluation context is reused: evaluating many persons allocates no per-person memory */
static void
test_context_reuse(void **state)
{
    Fixture *fx = *state;
    ListSet ls;
    rules_lists_init(fx->rs, &ls);
    EvalCtx c;
    rules_ctx_init(&c, fx->rs, &fx->st, date_from_ymd(2026, 11, 30), &fx->rd, &ls);
    const Person *ps = fx->st.persons.data;
    rules_ctx_person(&c, &ps[0]);
    rules_eval_person(&c);
    size_t cap_wit = c.capwit, cap_pool = c.cappool;
    for (int i = 0; i < 1000; i++) {
        rules_ctx_person(&c, &ps[i % 2]);
        rules_eval_person(&c);
    }
    assert_int_equal(c.capwit, cap_wit);
    assert_int_equal(c.cappool, cap_pool);
    assert_int_equal(ls.lists[0].rows.len, 1001);
    assert_int_equal(ls.lists[1].rows.len, 1001);
    rules_ctx_done(&c);
    lists_free(&ls);
}

/* A rule set of one file, compiled (or the test fails with its first diagnostic). */
static RuleSet *
compile_text(const char *name, const char *text)
{
    Vec diags;
    vec_init(&diags, sizeof(RuleDiag));
    RuleSource src = {name, text};
    RuleSet *rs = rules_compile(&src, 1, "p.conf", "", NULL, &diags);
    if (rs == NULL) {
        const RuleDiag *d = diags.data;
        fail_msg("%s: %s (%s)", d->where, d->message, d->hint);
    }
    vec_free(&diags);
    return rs;
}

/* n persons on the register, given out of key order (person i has number (i * step) mod n, step
 * prime to n), with 0-3 tax collections each (also not in key order); grouped. */
static void
tax_store(Store *st, int n, int step)
{
    store_init(st);
    for (int i = 0; i < 2; i++) {
        SourceFile *sf = vec_push(&st->files);
        sf->name = i == 0 ? "register.csv" : "tax.csv";
        sf->kind = i == 0 ? FK_REGISTER : FK_TAX_COLLECTION;
    }
    for (int i = 0; i < n; i++) {
        char id17[18];
        snprintf(id17, sizeof id17, "222401197%08d", (int) (((long) i * step) % n));
        const Person *p = add_person(st, id17, date_from_ymd(1970, 1, 1), (uint64_t) i + 1);
        for (int k = 0; k < (i * 5) % 4; k++)
            add_fact(st, p->key, FK_TAX_COLLECTION, date_from_ymd(2026, 1, 1 + k), DAY_NONE,
                     TAX_PERSONAL, 100);
    }
    store_group(st);
}

/* A list in person order (by ID number) is left as it comes; one ordered by another column is
 * sorted, equal lines in person order: over twelve persons given out of key order, on one and
 * on two threads. */
static void
test_list_order(void **state)
{
    (void) state;
    static const char *text =
        "list byid \"by ID\"\n"
        "  column n = count(tax_collection)\n"
        "  order by id_number, n\n"
        "list byn \"by count\"\n"
        "  column n = count(tax_collection)\n"
        "  order by n, id_number\n";
    RuleSet *rs = compile_text("o.rules", text);
    for (int threads = 1; threads <= 2; threads++) {
        enum { N = 12 };
        Store st;
        tax_store(&st, N, 7);
        RefData rd;
        rules_ref_init(rs, &rd);
        ListSet ls;
        rules_eval_all_threads(rs, &st, date_from_ymd(2026, 11, 30), &rd, &ls, false, threads);
        const ListOut *byid = &ls.lists[0], *byn = &ls.lists[1];
        int nc = -1;
        for (int c = 0; c < byn->ncols; c++)
            if (strcmp(byn->cols[c], "n") == 0)
                nc = c;
        assert_true(nc >= 0);
        assert_int_equal(byid->rows.len, N);
        assert_int_equal(byn->rows.len, N);
        bool moved = false;
        for (size_t r = 1; r < N; r++) {
            const ListRow *a = &VEC_AT(&byid->rows, ListRow, r - 1), *b = &VEC_AT(&byid->rows, ListRow, r);
            assert_true(a->key < b->key);
            const ListRow *x = &VEC_AT(&byn->rows, ListRow, r - 1), *y = &VEC_AT(&byn->rows, ListRow, r);
            int c = strcmp(x->vals[nc], y->vals[nc]);
            assert_true(c < 0 || (c == 0 && x->key < y->key));
            moved |= x->key > y->key;   /* the count's order is not person order */
        }
        assert_true(moved);
        lists_free(&ls);
        rules_ref_free(&rd);
        store_free(&st);
    }
    rules_free(rs);
}

/* The person pass in blocks taken by the threads as they go: 1, 2, 3 and 5 threads give the
 * same rows in the same order, for 9,001 persons with 0-3 rows each in a list whose order
 * (the count alone) ties across persons, so that only the order the blocks were joined in
 * breaks the ties (person order, as one thread makes it). */
static void
test_blocks_joined_in_order(void **state)
{
    (void) state;
    static const char *text =
        "list rows \"one row, two with two collections or more\"\n"
        "  column n = count(tax_collection)\n"
        "  column k = none\n"
        "  row when count(tax_collection) > 0 { k = 1 }\n"
        "  row when count(tax_collection) > 1 { k = 2 }\n"
        "  order by n\n";
    RuleSet *rs = compile_text("b.rules", text);
    enum { N = 9001 };
    PersonKey *want = NULL;
    size_t nwant = 0;
    const int threads[] = {1, 2, 3, 5};
    for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
        Store st;
        tax_store(&st, N, 7919);
        RefData rd;
        rules_ref_init(rs, &rd);
        ListSet ls;
        rules_eval_all_threads(rs, &st, date_from_ymd(2026, 11, 30), &rd, &ls, false, threads[ti]);
        const ListOut *lo = &ls.lists[0];
        if (ti == 0) {
            nwant = lo->rows.len;
            want = malloc(nwant * sizeof *want);
            for (size_t r = 0; r < nwant; r++)
                want[r] = VEC_AT(&lo->rows, ListRow, r).key;
            assert_true(nwant > N);   /* persons with several rows */
        } else {
            assert_int_equal(lo->rows.len, nwant);
            for (size_t r = 0; r < nwant; r++)
                assert_true(VEC_AT(&lo->rows, ListRow, r).key == want[r]);
        }
        lists_free(&ls);
        rules_ref_free(&rd);
        store_free(&st);
    }
    free(want);
    rules_free(rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_ages),
        cmocka_unit_test(test_money_and_aggregates),
        cmocka_unit_test(test_none_and_text),
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_context_reuse),
        cmocka_unit_test(test_list_order),
        cmocka_unit_test(test_blocks_joined_in_order),
    };
    return cmocka_run_group_tests_name("rules_eval", tests, setup, teardown);
}
