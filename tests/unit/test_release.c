/*
 * test_release.c
 *     Unit tests for nightly operations: engine/release.c (the sealed release folder and its
 *     SHA256SUMS, tampering found, the output link switched and pruned), engine/fault.c
 *     (CANBAO_FAULT parsing, cancellation) and the max_age key of source definitions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "release.h"
#include "sourcedef.h"

static char g_root[256];

static int
setup(void **state)
{
    (void) state;
    snprintf(g_root, sizeof g_root, "%s/canbao-release-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(g_root) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void) state;
    release_remove_tree(g_root);
    return 0;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void
test_run_id(void **state)
{
    (void) state;
    assert_int_equal(release_run_id("2026-11-28_run42"), 42);
    assert_int_equal(release_run_id("2026-11-28_run1"), 1);
    assert_int_equal(release_run_id("2026-11-28_run"), -1);
    assert_int_equal(release_run_id("2026-11-28_run4x"), -1);
    assert_int_equal(release_run_id("legacy-123"), -1);
    assert_int_equal(release_run_id(".staging-4"), -1);
    assert_int_equal(release_run_id("2026-11-28_run99999999999999999999"), -1);
}

/* sealed: SHA256SUMS lists every file; a changed byte, a missing or an extra file is found */
static void
test_seal_verify(void **state)
{
    (void) state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/set", g_root);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "b.csv", "id\n1\n");
    write_file(dir, "a.csv", "abc");
    int n = 0;
    uint64_t bytes = 0;
    CbError err = {0};
    assert_true(release_seal(dir, 2, &n, &bytes, &err));
    assert_int_equal(n, 2);
    assert_int_equal(bytes, 8);
    char m[600], line[200];
    snprintf(m, sizeof m, "%s/SHA256SUMS", dir);
    FILE *f = fopen(m, "r");
    assert_non_null(f);
    /* sha256sum's format, sorted by name; sha256("abc") is the FIPS 180-2 example */
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.csv\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line + 64, "  b.csv\n");
    fclose(f);
    assert_true(release_verify(dir, &err));

    write_file(dir, "a.csv", "abd");
    assert_false(release_verify(dir, &err));
    assert_non_null(strstr(err.message, "checksum mismatch"));
    write_file(dir, "a.csv", "abc");
    assert_true(release_verify(dir, &err));
    write_file(dir, "c.csv", "more");
    assert_false(release_verify(dir, &err));
    assert_non_null(strstr(err.message, "3 files in the folder, 2 in its checksum manifest"));
    char p[600];
    snprintf(p, sizeof p, "%s/c.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/b.csv", dir);
    unlink(p);
    assert_false(release_verify(dir, &err));
    assert_non_null(strstr(err.message, "missing"));
}

static char *
slurp_manifest(const char *dir)
{
    char m[600];
    snprintf(m, sizeof m, "%s/SHA256SUMS", dir);
    FILE *f = fopen(m, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_int_equal(unlink(m), 0);
    return strdup(buf);
}

/* sealed on one thread or several: the same manifest, files and bytes; a file that cannot be
 * read fails the seal, naming it, whatever the threads */
static void
test_seal_threads(void **state)
{
    (void) state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/many", g_root);
    assert_int_equal(mkdir(dir, 0755), 0);
    uint64_t want_bytes = 0;
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%02d.csv", (i * 17) % 40);
        size_t len = (size_t) (i * i * 97 % 70000);
        char *text = malloc(len + 1);
        assert_non_null(text);
        for (size_t k = 0; k < len; k++)
            text[k] = (char) ('a' + (k * 7 + (size_t) i) % 26);
        text[len] = '\0';
        write_file(dir, name, text);
        want_bytes += len;
        free(text);
    }
    char *one = NULL;
    for (int threads = 1; threads <= 5; threads += 2) {
        int n = 0;
        uint64_t bytes = 0;
        CbError err = {0};
        assert_true(release_seal(dir, threads, &n, &bytes, &err));
        assert_int_equal(n, 40);
        assert_int_equal(bytes, want_bytes);
        assert_true(release_verify(dir, &err));
        char *got = slurp_manifest(dir);
        if (one == NULL)
            one = got;
        else {
            assert_string_equal(got, one);
            free(got);
        }
    }
    assert_non_null(strstr(one, "  f00.csv\n"));
    assert_non_null(strstr(one, "  f39.csv\n"));
    free(one);
    /* a file that is not there when it is read (a dangling link): the seal fails and says which */
    char target[600], link[600];
    snprintf(target, sizeof target, "%s/gone.csv", g_root);
    snprintf(link, sizeof link, "%s/f20b.csv", dir);
    assert_int_equal(symlink(target, link), 0);
    for (int threads = 1; threads <= 3; threads += 2) {
        CbError err = {0};
        assert_false(release_seal(dir, threads, NULL, NULL, &err));
        assert_non_null(strstr(err.input_at, "f20b.csv"));
    }
}

static void
make_release(const char *out, int64_t run, const char *content, Release *r)
{
    CbError err = {0};
    assert_true(release_paths(r, out, date_from_ymd(2026, 11, 28), run, &err));
    assert_true(release_begin(r, &err));
    write_file(r->staging, "list.csv", content);
    assert_true(release_seal(r->staging, 1, NULL, NULL, &err));
    assert_true(release_install(r, &err));
    assert_true(release_install(r, &err));   /* done before: nothing to do */
}

/* the output folder is a link switched from one release to the next; old ones are pruned */
static void
test_switch_prune(void **state)
{
    (void) state;
    char out[512], cur[256], p[600], text[16];
    snprintf(out, sizeof out, "%s/lists", g_root);
    assert_int_equal(release_newest_run(out), -1);   /* no releases folder yet */
    /* an output folder from before: moved aside once */
    assert_int_equal(mkdir(out, 0755), 0);
    write_file(out, "old.csv", "old");
    Release r;
    CbError err = {0};
    for (int run = 1; run <= 4; run++) {
        snprintf(text, sizeof text, "run %d", run);
        make_release(out, run, text, &r);
        assert_string_equal(r.name, run == 1 ? "2026-11-28_run1" : r.name);
        assert_true(release_switch(&r, &err));
        release_current(out, cur, sizeof cur);
        assert_string_equal(cur, r.name);
        snprintf(p, sizeof p, "%s/list.csv", out);
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        char got[16] = "";
        assert_non_null(fgets(got, sizeof got, f));
        fclose(f);
        assert_string_equal(got, text);
    }
    struct stat sb;
    assert_int_equal(lstat(out, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(release_newest_run(out), 4);   /* the legacy folder has no number */
    /* keep 2: runs 4 and 3 stay, 2, 1 and the old folder go */
    release_prune(out, 2);
    snprintf(p, sizeof p, "%s.releases/2026-11-28_run3", out);
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s.releases/2026-11-28_run2", out);
    assert_int_not_equal(stat(p, &sb), 0);
    /* the current release is never pruned, even beyond keep */
    make_release(out, 5, "five", &r);   /* installed, not switched: 4 is current */
    assert_int_equal(release_newest_run(out), 5);
    release_prune(out, 1);
    snprintf(p, sizeof p, "%s.releases/2026-11-28_run4", out);
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s.releases/2026-11-28_run3", out);
    assert_int_not_equal(stat(p, &sb), 0);
    /* a staging folder of a run that died is removed by the next run's begin */
    Release r6;
    assert_true(release_paths(&r6, out, date_from_ymd(2026, 11, 29), 6, &err));
    assert_true(release_begin(&r6, &err));
    write_file(r6.staging, "half.csv", "x");
    Release r7;
    assert_true(release_paths(&r7, out, date_from_ymd(2026, 11, 29), 7, &err));
    assert_true(release_begin(&r7, &err));
    assert_int_not_equal(stat(r6.staging, &sb), 0);
    release_discard(&r7);
    assert_int_not_equal(stat(r7.staging, &sb), 0);
}

static void
test_paths(void **state)
{
    (void) state;
    Release r;
    CbError err = {0};
    assert_true(release_paths(&r, "/srv/canbao/lists///", date_from_ymd(2026, 11, 28), 42, &err));
    assert_string_equal(r.out, "/srv/canbao/lists");
    assert_string_equal(r.dir, "/srv/canbao/lists.releases");
    assert_string_equal(r.folder, "/srv/canbao/lists.releases/2026-11-28_run42");
    assert_string_equal(r.staging, "/srv/canbao/lists.releases/.staging-42");
    assert_false(release_paths(&r, "/", date_from_ymd(2026, 11, 28), 1, &err));
    assert_true(release_paths(&r, "rel/out", date_from_ymd(2026, 11, 28), 1, &err));
    assert_true(r.out[0] == '/');
}

static void
test_fault_parse(void **state)
{
    (void) state;
    CbError err = {0};
    unsetenv("CANBAO_FAULT");
    assert_true(fault_init(&err));
    assert_false(fault_armed());
    fault_hit(FAULT_PARSE);   /* unset: nothing happens */
    const char *good[] = {"parse", "parse:30000", "copy:5:kill", "publish:2", "after_commit", NULL};
    for (int i = 0; good[i]; i++) {
        setenv("CANBAO_FAULT", good[i], 1);
        assert_true(fault_init(&err));
        assert_true(fault_armed());
    }
    /* armed at pass 3 of link: passes 1 and 2, and other points, go by */
    setenv("CANBAO_FAULT", "link:3", 1);
    assert_true(fault_init(&err));
    fault_hit(FAULT_LINK);
    fault_hit(FAULT_LINK);
    fault_hit(FAULT_PARSE);
    const char *bad[] = {"nowhere", "parse:0", "parse:x", "parse:1:explode", "parse:1:kill:more", ":3", NULL};
    for (int i = 0; bad[i]; i++) {
        setenv("CANBAO_FAULT", bad[i], 1);
        memset(&err, 0, sizeof err);
        assert_false(fault_init(&err));
        assert_int_equal(err.kind, CBERR_USAGE);
        assert_non_null(strstr(err.message, "is not a fault point"));
    }
    unsetenv("CANBAO_FAULT");
    assert_true(fault_init(&err));
}

static void
test_cancel(void **state)
{
    (void) state;
    CbError err = {0};
    cancel_install();
    assert_false(cancel_requested());
    assert_true(cancel_check("the rules", &err));
    assert_true(cancel_sleep(0.01));
    raise(SIGTERM);
    assert_true(cancel_requested());
    assert_int_equal(cancel_signal(), SIGTERM);
    assert_false(cancel_sleep(5));   /* returns at once */
    assert_false(cancel_check("the rules", &err));
    assert_int_equal(err.kind, CBERR_CANCELLED);
    assert_string_equal(err.message, "cancelled by SIGTERM before the rules");
    signal(SIGTERM, SIG_DFL);
}

static void
test_max_age(void **state)
{
    (void) state;
    static const char head[] = "[source]\nname = h\nfact = death\nevidence = health\nfiles = h_*.csv\n";
    static const char tail[] = "[fields]\nid_number = 身份证号 | idnum\ndeath_date = 死亡日期 | date\n";
    char text[1024];
    SourceDef def;
    CbError err = {0};
    snprintf(text, sizeof text, "%srequired = no\nmax_age = 3 days\n%s", head, tail);
    assert_true(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
    assert_int_equal(def.max_age_days, 3);
    assert_false(def.required);
    sourcedef_free(&def);
    snprintf(text, sizeof text, "%s%s", head, tail);
    assert_true(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
    assert_int_equal(def.max_age_days, 0);
    sourcedef_free(&def);
    const char *bad[] = {"3", "3 weeks", "0 days", "days", "400 days", NULL};
    for (int i = 0; bad[i]; i++) {
        snprintf(text, sizeof text, "%srequired = no\nmax_age = %s\n%s", head, bad[i], tail);
        memset(&err, 0, sizeof err);
        assert_false(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
        assert_string_equal(err.input_at, "t.conf:7:11");
        assert_string_equal(err.message, "bad maximum age");
        sourcedef_free(&def);
    }
    snprintf(text, sizeof text, "%srequired = yes\nmax_age = 2 days\n%s", head, tail);
    assert_false(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
    assert_string_equal(err.input_at, "t.conf:7:1");
    assert_non_null(strstr(err.message, "max_age is for an optional source"));
    sourcedef_free(&def);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_id),
        cmocka_unit_test(test_paths),
        cmocka_unit_test_setup_teardown(test_seal_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_prune, setup, teardown),
        cmocka_unit_test(test_fault_parse),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_max_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
