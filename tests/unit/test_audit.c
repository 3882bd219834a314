/*
 * test_audit.c
 *     Unit tests for engine/audit.c: no password survives in a message about a connection
 *     (conninfo keywords, URIs, the exact password wherever libpq quotes it), and nothing else
 *     is masked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "audit.h"

static void
redacts(const char *conninfo, const char *text, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    audit_redact_password(buf, sizeof buf, conninfo);
    assert_string_equal(buf, want);
}

static void
test_keyword(void **state)
{
    (void) state;
    redacts(NULL, "password=S3cret host=db", "password=******** host=db");
    redacts(NULL, "host=db PASSWORD = S3cret dbname=x", "host=db PASSWORD = ******** dbname=x");
    redacts(NULL, "password='a b\\'c' host=db", "password=******** host=db");
    redacts(NULL, "x?password=S3cret&sslmode=require", "x?password=********&sslmode=require");
}

static void
test_uri(void **state)
{
    (void) state;
    redacts(NULL, "invalid URI: \"postgresql://canbao:S3cret@[::1/db\"",
            "invalid URI: \"postgresql://canbao:********@[::1/db\"");
    redacts(NULL, "postgres://u:p@h:5432/db and postgresql://v:q@k/db",
            "postgres://u:********@h:5432/db and postgresql://v:********@k/db");
    /* no password in the URI: nothing to mask */
    redacts(NULL, "postgresql://canbao@db.bureau.internal:5432/canbao", "postgresql://canbao@db.bureau.internal:5432/canbao");
    redacts(NULL, "postgresql://[::1]:5432/canbao", "postgresql://[::1]:5432/canbao");
}

static void
test_exact_password(void **state)
{
    (void) state;
    /* libpq may quote a value alone; the conninfo's password is masked wherever it appears */
    redacts("host=db password=Tr0ub4dor", "missing \"=\" after \"Tr0ub4dor\" in connection info string",
            "missing \"=\" after \"********\" in connection info string");
    redacts("postgresql://u:Tr0ub4dor@db/x", "token Tr0ub4dor, again Tr0ub4dor",
            "token ********, again ********");
}

static void
test_leaves_the_rest(void **state)
{
    (void) state;
    redacts(NULL, "FATAL:  password authentication failed for user \"canbao_nightly\"",
            "FATAL:  password authentication failed for user \"canbao_nightly\"");
    redacts(NULL, "fe_sendauth: no password supplied", "fe_sendauth: no password supplied");
    redacts("host=db", "could not connect to server: Connection refused", "could not connect to server: Connection refused");
}

static void
test_small_buffer(void **state)
{
    (void) state;
    char buf[24];
    snprintf(buf, sizeof buf, "%s", "password=abcdefghijklm");
    audit_redact_password(buf, sizeof buf, NULL);
    assert_null(strstr(buf, "abcdefghijklm"));
    assert_non_null(strstr(buf, "********"));
}

static void
test_has_password(void **state)
{
    (void) state;
    assert_false(audit_conninfo_has_password(NULL));
    assert_false(audit_conninfo_has_password(""));
    assert_false(audit_conninfo_has_password("host=db dbname=canbao user=canbao_nightly"));
    assert_false(audit_conninfo_has_password("host=db password="));
    assert_true(audit_conninfo_has_password("host=db password=x1"));
    assert_true(audit_conninfo_has_password("postgresql://u:secret@db/canbao"));
    assert_false(audit_conninfo_has_password("postgresql://u@db/canbao"));
    assert_true(audit_conninfo_has_password("postgresql://u:secret@[::1/canbao"));   /* malformed */
}

int
main(void)
{
    unsetenv("PGPASSWORD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyword),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_exact_password),
        cmocka_unit_test(test_leaves_the_rest),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_has_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
