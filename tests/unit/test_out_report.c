/*
 * test_out_report.c
 *     Unit tests for the nightly report (engine/out_report.c): one self-contained HTML file
 *     (no script, nothing fetched from elsewhere), inline SVG charts, the coverage per
 *     township from the register's enrolments and the lists, the outreach cohort of a month
 *     ago from history, staffing, trend, list counts, rejects per agency, timings, and
 *     byte-identical output for the same input.  Rendering in Chromium is tested end to end
 *     (tests/run-tests.sh, section outputs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "out_fixture.h"
#include "out_report.h"

static Fixture fx;
static char dir[64];
static OutHistory hist;
static const OutTiming timings[] = {{"读取", 1.25}, {"规则", 0.5}, {"输出", 0.25}};

static int
setup(void **state)
{
    (void) state;
    fx_build(&fx, true);
    fx_tmpdir(dir, sizeof dir, "test_out_report");
    out_history_init(&hist);
    /* two earlier nights */
    const char *nights[] = {"2026-10-28", "2026-11-27"};
    for (int i = 0; i < 2; i++) {
        OutTrendPoint *p = vec_push(&hist.trend);
        p->asof = fx_day(nights[i]);
        snprintf(p->list, sizeof p->list, "unenrolled_eligible");
        p->rows = 9 - i;
        p->new_rows = 2;
        p = vec_push(&hist.trend);
        p->asof = fx_day(nights[i]);
        snprintf(p->list, sizeof p->list, "deceased_beneficiaries");
        p->rows = 1;
        p->new_rows = 1 - i;
    }
    /* a month ago: 王丽 (still listed), 郑美玉 (enrolled since), 崔顺子 (enrolled), someone gone */
    hist.cohort_asof = fx_day("2026-10-28");
    const int people[] = {4, 10, 5};
    for (int i = 0; i < 3; i++) {
        OutCohortMember *m = vec_push(&hist.cohort);
        m->key = idnum_key(fx_ids[people[i]]);
        snprintf(m->township, sizeof m->township, "%.9s", fx_people[people[i]].division);
    }
    OutCohortMember *gone = vec_push(&hist.cohort);
    gone->key = 22240119990101001ull;
    snprintf(gone->township, sizeof gone->township, "222401001");
    OutFeedbackCount *c = vec_push(&hist.feedback);
    snprintf(c->township, sizeof c->township, "222401001");
    snprintf(c->outcome, sizeof c->outcome, "已联系");
    c->n = 3;
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    out_history_free(&hist);
    fx_rmdir(dir);
    fx_free(&fx);
    return 0;
}

static char *
write_report(const char *d, const OutHistory *h)
{
    OutAlertCounts ac = {.confirmed = 1, .to_verify = 1, .fresh_confirmed = 1, .fresh_to_verify = 1};
    OutReportInput in = {.st = &fx.st, .ls = &fx.ls, .lc = &fx.lc, .pl = &fx.pl, .ri = &fx.ri, .hist = h,
                         .alerts = &ac, .timings = timings, .ntimings = 3, .staff_per = 6000};
    CbError err = {0};
    assert_true(out_report_write(d, &in, &err));
    char name[64], path[256];
    out_report_file_name(fx.ri.asof, name, sizeof name);
    assert_string_equal(name, "report_20261128.html");
    snprintf(path, sizeof path, "%s/%s", d, name);
    size_t len;
    return (char *) fx_slurp(path, &len);
}

static void
test_self_contained(void **state)
{
    (void) state;
    char *html = write_report(dir, &hist);
    assert_non_null(html);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "@import"));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, " src="));
    assert_null(strstr(html, "href="));
    /* the only URL is the SVG namespace name */
    for (const char *p = strstr(html, "http"); p; p = strstr(p + 1, "http"))
        assert_true(strncmp(p, "http://www.w3.org/2000/svg", 26) == 0 || strncmp(p, "http-equiv", 10) == 0);
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "</html>"));
    free(html);
}

static void
test_figures(void **state)
{
    (void) state;
    char *html = write_report(dir, &hist);
    /* 进学街道: enrolled 3 (尹秀贤, 郑美玉, 张秀英), unenrolled 5 → 37.5% */
    assert_non_null(strstr(html, "<td>222401001</td><td>进学街道</td><td class=\"n\">3</td><td class=\"n\">5</td>"));
    assert_non_null(strstr(html, "37.5%"));
    /* 小营镇: enrolled 2 (崔顺子, 姜英浩), unenrolled 2 → 50.0%; 北山街道 has nothing: – */
    assert_non_null(strstr(html, "<td>222401100</td><td>小营镇</td><td class=\"n\">2</td><td class=\"n\">2</td>"));
    assert_non_null(strstr(html, "<td>222401002</td><td>北山街道</td>"));
    /* another city's township is not in the report */
    assert_null(strstr(html, "新华街道"));
    /* the cohort: 进学街道 3 listed (王丽 still, 郑美玉 enrolled, one gone), 小营镇 1 enrolled */
    assert_non_null(strstr(html, "<tr><td>进学街道</td><td class=\"n\">3</td><td class=\"n\">1</td>"
                                 "<td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">33.3%</td></tr>"));
    assert_non_null(strstr(html, "<tr><td>小营镇</td><td class=\"n\">1</td><td class=\"n\">1</td>"
                                 "<td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">100.0%</td></tr>"));
    /* staffing computed (no township_staffing list): 8 service objects → 1 */
    assert_non_null(strstr(html, "<tr><td>进学街道</td><td class=\"n\">8</td><td class=\"n\">1</td>"));
    /* 小营镇 has three villages (村) in the reference list */
    assert_non_null(strstr(html, "<tr><td>小营镇</td><td class=\"n\">4</td><td class=\"n\">1</td><td class=\"n\">3</td></tr>"));
    /* lists, rejects per agency, timings, feedback */
    assert_non_null(strstr(html, "<code>unenrolled_eligible</code></td><td class=\"n\">7</td><td class=\"n\">7</td>"));
    assert_non_null(strstr(html, "<tr><td>民政</td><td class=\"n\">1</td><td class=\"n\">100</td><td class=\"n\">3</td>"));
    assert_non_null(strstr(html, "<td>读取</td><td class=\"n\">1.25</td><td class=\"n\">62%</td>"));
    assert_non_null(strstr(html, "<th>已联系</th>"));
    /* the trend has the two earlier nights and tonight */
    assert_non_null(strstr(html, ">10-28</text>"));
    assert_non_null(strstr(html, ">11-27</text>"));
    assert_non_null(strstr(html, ">11-28</text>"));
    free(html);
}

static void
test_staffing_from_list(void **state)
{
    (void) state;
    /* a township_staffing list overrides the computed figures */
    static const char *const cols[] = {"township", "service_objects", "township_staff", "villages", NULL};
    ListSet *ls = &fx.ls;
    fx_define(ls, "township_staffing", "乡镇经办人员配备", cols);
    ListOut *l = &ls->lists[ls->n - 1];
    ListRow *r = vec_push(&l->rows);
    r->vals = arena_calloc(&ls->arena, 4 * sizeof(char *));
    r->vals[0] = "222401001";
    r->vals[1] = "12001";
    r->vals[2] = "3";
    r->vals[3] = "0";
    LcRun lc2;
    lifecycle_offline(ls, fx.ri.asof, &lc2);
    OutReportInput in = {.st = &fx.st, .ls = ls, .lc = &lc2, .pl = &fx.pl, .ri = &fx.ri, .staff_per = 6000};
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_report_2");
    CbError err = {0};
    assert_true(out_report_write(d2, &in, &err));
    char path[256];
    snprintf(path, sizeof path, "%s/report_20261128.html", d2);
    size_t len;
    char *html = (char *) fx_slurp(path, &len);
    assert_non_null(strstr(html, "<tr><td>进学街道</td><td class=\"n\">12,001</td><td class=\"n\">3</td>"));
    assert_non_null(strstr(html, "本期 township_staffing 名单"));
    /* without history: said so, not invented */
    assert_non_null(strstr(html, "尚无一个月前的名单"));
    assert_non_null(strstr(html, "尚未收到乡镇反馈"));
    free(html);
    lifecycle_free(&lc2);
    vec_free(&l->rows);
    ls->n--;
    fx_rmdir(d2);
}

static void
test_byte_identical(void **state)
{
    (void) state;
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_report_3");
    char *a = write_report(dir, &hist);
    sleep(1);
    char *b = write_report(d2, &hist);
    assert_string_equal(a, b);
    free(a);
    free(b);
    fx_rmdir(d2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_contained),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_staffing_from_list),
        cmocka_unit_test(test_byte_identical),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
