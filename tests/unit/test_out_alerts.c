/*
 * test_out_alerts.c
 *     Unit tests for the suspension alerts (engine/out_alerts.c): confirmed and to-verify in
 *     separate documents, both valid against the published schema/alerts.xsd (libxml2,
 *     xmlSchemaValidateDoc) while a broken document is not, every field an alert must carry,
 *     new / repeated / changed, acknowledged alerts held back, the CSV twins, and
 *     byte-identical files for the same input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "out_alerts.h"
#include "out_fixture.h"

static Fixture fx;
static char dir[64];
static xmlSchemaPtr schema;

static const char *
xsd_path(void)
{
    static const char *const tries[] = {"schema/alerts.xsd", "../schema/alerts.xsd", "../../schema/alerts.xsd"};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (access(tries[i], R_OK) == 0)
            return tries[i];
    const char *home = getenv("CANBAO_HOME");
    static char p[512];
    snprintf(p, sizeof p, "%s/schema/alerts.xsd", home ? home : ".");
    return p;
}

static int
setup(void **state)
{
    (void) state;
    fx_build(&fx, true);
    fx_tmpdir(dir, sizeof dir, "test_out_alerts");
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path());
    schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (schema == NULL) {
        fprintf(stderr, "could not load %s\n", xsd_path());
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    xmlSchemaFree(schema);
    fx_rmdir(dir);
    fx_free(&fx);
    return 0;
}

static const char *
path_in(const char *d, const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", d, name);
    return p[k];
}

static bool quiet;

static void
ignore_error(void *ctx, xmlErrorPtr e)
{
    (void) ctx;
    (void) e;
}

/* 0 when the document is valid (errors printed unless quiet). */
static int
validate_doc(xmlDocPtr doc)
{
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (quiet)
        xmlSchemaSetValidStructuredErrors(vc, ignore_error, NULL);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    return rc;
}

static int
validate_file(const char *path)
{
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (doc == NULL)
        return -1;
    int rc = validate_doc(doc);
    xmlFreeDoc(doc);
    return rc;
}

/* The text of the first node matching xpath (namespace prefix a:), or "" (static buffer). */
static const char *
xpath_text(const char *path, const char *expr)
{
    static char out[512];
    out[0] = '\0';
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST OUT_ALERTS_NS);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (o && o->type == XPATH_NUMBER)
        snprintf(out, sizeof out, "%g", o->floatval);
    else if (o && o->type == XPATH_STRING)
        snprintf(out, sizeof out, "%s", (const char *) o->stringval);
    else if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *s = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        snprintf(out, sizeof out, "%s", (const char *) s);
        xmlFree(s);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

static void
file_name(const char *kind, const char *ext, char *out, size_t n)
{
    out_alerts_file_name(kind, fx.ri.asof, ext, out, n);
}

static void
test_documents_valid(void **state)
{
    (void) state;
    OutAlertCounts c;
    CbError err = {0};
    assert_true(out_alerts_write(dir, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, NULL, &c, &err));
    assert_int_equal(c.confirmed, 1);
    assert_int_equal(c.to_verify, 1);
    assert_int_equal(c.fresh_confirmed, 1);
    char conf[64], verify[64];
    file_name("confirmed", "xml", conf, sizeof conf);
    file_name("to_verify", "xml", verify, sizeof verify);
    assert_string_equal(conf, "alerts_confirmed_20261128.xml");
    assert_int_equal(validate_file(path_in(dir, conf)), 0);
    assert_int_equal(validate_file(path_in(dir, verify)), 0);
}

static void
test_alert_fields(void **state)
{
    (void) state;
    char conf[64];
    file_name("confirmed", "xml", conf, sizeof conf);
    const char *p = path_in(dir, conf);
    assert_string_equal(xpath_text(p, "string(/a:suspension_alerts/@kind)"), "confirmed");
    assert_string_equal(xpath_text(p, "string(/a:suspension_alerts/@asof)"), "2026-11-28");
    assert_string_equal(xpath_text(p, "string(/a:suspension_alerts/@count)"), "1");
    assert_string_equal(xpath_text(p, "string(/a:suspension_alerts/@new)"), "1");
    assert_string_equal(xpath_text(p, "//a:alert/a:id_number"), fx_ids[8]);
    assert_string_equal(xpath_text(p, "//a:alert/a:name"), "尹秀贤");
    assert_string_equal(xpath_text(p, "//a:alert/a:death_date"), "2026-09-03");
    assert_string_equal(xpath_text(p, "count(//a:alert/a:sources/a:source)"), "2");
    assert_string_equal(xpath_text(p, "string(//a:alert/a:sources/a:source[2]/@code)"), "health");
    assert_string_equal(xpath_text(p, "//a:alert/a:sources/a:source[2]"), "卫健");
    assert_string_equal(xpath_text(p, "//a:alert/a:confidence"), "confirmed");
    assert_string_equal(xpath_text(p, "//a:alert/a:months_overpaid"), "2");
    assert_string_equal(xpath_text(p, "//a:alert/a:overpaid"), "396.00");
    assert_string_equal(xpath_text(p, "//a:alert/a:funeral_subsidy"), "2780.00");
    assert_string_equal(xpath_text(p, "string(//a:alert/@status)"), "new");
    assert_string_equal(xpath_text(p, "string(//a:alert/@asof)"), "2026-11-28");
    assert_string_equal(xpath_text(p, "string(//a:alert/@rule_set_version)"), FX_RULES);
    assert_string_equal(xpath_text(p, "//a:alert/a:township"), "进学街道");
    assert_string_equal(xpath_text(p, "string(//a:alert/a:evidence/a:record[2]/@file)"),
                        "health_death_cert_20261128.csv");
    assert_string_equal(xpath_text(p, "string(//a:alert/a:evidence/a:record[2]/@agency)"), "卫健");
}

static void
test_schema_rejects_broken(void **state)
{
    (void) state;
    char conf[64];
    file_name("confirmed", "xml", conf, sizeof conf);
    xmlDocPtr doc = xmlReadFile(path_in(dir, conf), NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST OUT_ALERTS_NS);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "//a:alert/a:id_number", ctx);
    assert_true(o->nodesetval->nodeNr == 1);
    xmlNodeSetContent(o->nodesetval->nodeTab[0], BAD_CAST "12345");
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    quiet = true;
    assert_int_not_equal(validate_doc(doc), 0);
    quiet = false;
    xmlFreeDoc(doc);
}

static void
test_csv_twins(void **state)
{
    (void) state;
    char csv[64];
    file_name("to_verify", "csv", csv, sizeof csv);
    size_t len;
    unsigned char *b = fx_slurp(path_in(dir, csv), &len);
    assert_non_null(b);
    const char *head = "alert_id,status,asof,rule_set_version,id_number,name,township,township_name,village,"
                       "village_name,death_date,sources,confidence,months_overpaid,overpaid,funeral_subsidy,"
                       "first_detected,evidence\n";
    assert_memory_equal(b, head, strlen(head));
    const char *line = (const char *) b + strlen(head);
    char want[256];
    snprintf(want, sizeof want, "10,new,2026-11-28,%s,%s,姜英浩,222401100,小营镇,222401100201,东兴村,2026-10-20,"
             "civil,to_verify,1,201.00,2790.00,2026-11-28,police_register_20261128.csv:10\n", FX_RULES, fx_ids[9]);
    assert_string_equal(line, want);
    free(b);
}

static void
test_lifecycle_status(void **state)
{
    (void) state;
    /* the confirmed one was sent before; the to-verify one was acknowledged: held back */
    LcRow *rows = fx.lc.rows[2];
    LcRow save0 = rows[0], save1 = rows[1];
    rows[0].alert = LC_ALERT_REPEATED;
    rows[0].first_asof = fx_day("2026-11-27");
    rows[1].in_alerts = false;
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_alerts_2");
    OutAlertCounts c;
    CbError err = {0};
    assert_true(out_alerts_write(d2, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, NULL, &c, &err));
    assert_int_equal(c.confirmed, 1);
    assert_int_equal(c.fresh_confirmed, 0);
    assert_int_equal(c.repeated, 1);
    assert_int_equal(c.to_verify, 0);
    assert_int_equal(c.held_back, 1);
    char conf[64], verify[64];
    file_name("confirmed", "xml", conf, sizeof conf);
    file_name("to_verify", "xml", verify, sizeof verify);
    assert_string_equal(xpath_text(path_in(d2, conf), "string(//a:alert/@status)"), "repeated");
    assert_string_equal(xpath_text(path_in(d2, conf), "//a:alert/a:first_detected"), "2026-11-27");
    assert_string_equal(xpath_text(path_in(d2, conf), "string(/a:suspension_alerts/@new)"), "0");
    assert_string_equal(xpath_text(path_in(d2, verify), "string(/a:suspension_alerts/@count)"), "0");
    assert_int_equal(validate_file(path_in(d2, verify)), 0);   /* an empty document is valid */
    /* a confidence word the writer does not know is never confirmed */
    rows[0] = save0;
    rows[1] = save1;
    const char *orig = VEC_AT(&fx.ls.lists[2].rows, ListRow, 0).vals[4];
    VEC_AT(&fx.ls.lists[2].rows, ListRow, 0).vals[4] = "probable";
    assert_true(out_alerts_write(d2, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, NULL, &c, &err));
    assert_int_equal(c.confirmed, 0);
    assert_int_equal(c.to_verify, 2);
    assert_int_equal(validate_file(path_in(d2, verify)), 0);
    VEC_AT(&fx.ls.lists[2].rows, ListRow, 0).vals[4] = orig;
    fx_rmdir(d2);
}

static void
test_byte_identical(void **state)
{
    (void) state;
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_alerts_3");
    CbError err = {0};
    assert_true(out_alerts_write(d2, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, NULL, NULL, &err));
    const char *kinds[] = {"confirmed", "to_verify"}, *exts[] = {"xml", "csv"};
    for (int k = 0; k < 2; k++)
        for (int e = 0; e < 2; e++) {
            char n[64];
            file_name(kinds[k], exts[e], n, sizeof n);
            if (!fx_same_file(path_in(dir, n), path_in(d2, n))) {
                char cmd[1200];
                snprintf(cmd, sizeof cmd, "diff '%s' '%s' | head -20", path_in(dir, n), path_in(d2, n));
                if (system(cmd) != 0)
                    fprintf(stderr, "diff failed\n");
                fail();
            }
        }
    fx_rmdir(d2);
}

static void
test_no_list_still_documents(void **state)
{
    (void) state;
    ListSet empty;
    memset(&empty, 0, sizeof empty);
    snprintf(empty.rule_version, sizeof empty.rule_version, "%s", FX_RULES);
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_alerts_4");
    CbError err = {0};
    OutAlertCounts c;
    assert_true(out_alerts_write(d2, &fx.st, &empty, NULL, &fx.pl, &fx.ri, NULL, &c, &err));
    char conf[64];
    file_name("confirmed", "xml", conf, sizeof conf);
    assert_int_equal(validate_file(path_in(d2, conf)), 0);
    assert_int_equal(c.confirmed + c.to_verify, 0);
    fx_rmdir(d2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents_valid),
        cmocka_unit_test(test_alert_fields),
        cmocka_unit_test(test_schema_rejects_broken),
        cmocka_unit_test(test_csv_twins),
        cmocka_unit_test(test_lifecycle_status),
        cmocka_unit_test(test_byte_identical),
        cmocka_unit_test(test_no_list_still_documents),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
