/*
 * test_split.c
 *     Unit tests for the split() transform: a cell that holds several values (the member IDs of
 *     a poverty-registered household) becomes one record per value.  The definition checks
 *     (file:line:column), the records extract hands out (pairs of values, the shared fields,
 *     the row's position, sub-indexes), rows that are rejected as a whole, and what load makes
 *     of them: one record read per row, one fact per value with the row's record number and its
 *     sub-index, rows counted accepted / duplicate / rejected, the same whatever the threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "load.h"
#include "log.h"
#include "sourcedef.h"
#include "store.h"

/* Valid ID numbers (check digits computed independently), one a typing error away from ID2,
 * and one no repair can save. */
#define ID1 "11010519491231002X"
#define ID2 "222401198503150017"
#define ID3 "222401199001010027"
#define ID2_TYPO "222401198503150018"
#define ID_BAD "12345"

static const char POVERTY_DEF[] =
	"[source]\n"
	"name = poverty\n"
	"fact = poor_household\n"
	"files = poverty_*.csv\n"
	"[fields]\n"
	"id_number  = 成员证件号码 | split(;、,) | idnum\n"
	"name       = 成员姓名 | split(;、,) | name\n"
	"start_date = 纳入日期 | date\n"
	"end_date   = 退出日期 | date\n";

static const char HEADER[] = "户编号,成员姓名,成员证件号码,纳入日期,退出日期\n";

/* ------------------------------------------------------------ helpers */

typedef struct Fixture
{
	SourceDef	def;
	Extract    *ex;
	CanonRecord rec;
	char	   *data;
} Fixture;

static Fixture fx;

static void
start(const char *def, const char *rows)
{
	CbError		err;
	size_t		n = strlen(HEADER) + strlen(rows);

	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("poverty.conf", def, strlen(def), &fx.def, &err))
		fail_msg("definition: %s: %s", err.input_at, err.message);
	fx.data = malloc(n + 1);
	assert_non_null(fx.data);
	snprintf(fx.data, n + 1, "%s%s", HEADER, rows);
	fx.ex = extract_open_mem(&fx.def, "poverty_1.csv", fx.data, n, &err);
	if (fx.ex == NULL)
		fail_msg("extract_open_mem: %s: %s", err.input_at, err.message);
}

static int
teardown(void **state)
{
	(void) state;
	extract_close(fx.ex);
	sourcedef_free(&fx.def);
	free(fx.data);
	memset(&fx, 0, sizeof fx);
	return 0;
}

static ExtStatus
next(void)
{
	CbError		err;

	memset(&err, 0, sizeof err);
	return extract_next(fx.ex, &fx.rec, &err);
}

static const CanonValue *
val(const char *name)
{
	int			fi = factkind_field(fx.def.kind, name);

	assert_true(fi >= 0);
	return &fx.rec.v[fi];
}

/* The next record is OK, value sub of nsub, with this ID and name. */
static void
next_member(int sub, int nsub, uint64_t record_no, const char *id, const char *name)
{
	ExtStatus	st = next();

	if (st != EXT_OK)
		fail_msg("status %d, reason \"%s\"", (int) st, fx.rec.reason);
	assert_int_equal(fx.rec.sub, sub);
	assert_int_equal(fx.rec.nsub, nsub);
	assert_int_equal(fx.rec.record_no, record_no);
	assert_string_equal(val("id_number")->text, id);
	assert_string_equal(val("name")->text, name);
	assert_true(val("start_date")->present);
}

static void
next_reject(const char *part1, const char *part2)
{
	ExtStatus	st = next();

	if (st != EXT_REJECT)
		fail_msg("status %d, want a reject with \"%s\"", (int) st, part1);
	if (strstr(fx.rec.reason, part1) == NULL || (part2 && strstr(fx.rec.reason, part2) == NULL))
		fail_msg("reason \"%s\", want \"...%s...%s...\"", fx.rec.reason, part1, part2 ? part2 : "");
	assert_int_equal(fx.rec.sub, 0);
}

/* The definition fails at line:column with a message containing want. */
static void
def_fails(const char *text, const char *at, const char *want)
{
	SourceDef	def;
	CbError		err;

	memset(&err, 0, sizeof err);
	if (sourcedef_parse("poverty.conf", text, strlen(text), &def, &err))
	{
		sourcedef_free(&def);
		fail_msg("definition accepted, want an error at %s", at);
	}
	sourcedef_free(&def);
	if (strcmp(err.input_at, at) != 0 || strstr(err.message, want) == NULL)
		fail_msg("error \"%s: %s\", want \"%s: ...%s...\"", err.input_at, err.message, at, want);
}

/* ------------------------------------------------------------ the definition */

static void
test_definition(void **state)
{
	SourceDef	def;
	CbError		err;

	(void) state;
	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("poverty.conf", POVERTY_DEF, strlen(POVERTY_DEF), &def, &err))
		fail_msg("%s: %s", err.input_at, err.message);
	assert_int_equal(def.fields[0].xf[0].op, XF_SPLIT);
	assert_string_equal(def.fields[0].xf[0].arg, ";、,");
	assert_int_equal(def.fields[0].xf[1].op, XF_IDNUM);
	sourcedef_free(&def);

	/* a quoted separator: the space */
	static const char spaced[] =
		"[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
		"id_number = 号码 | split(\" \") | idnum\nstart_date = 日期 | date\n";

	if (!sourcedef_parse("poverty.conf", spaced, strlen(spaced), &def, &err))
		fail_msg("%s: %s", err.input_at, err.message);
	assert_string_equal(def.fields[0].xf[0].arg, " ");
	sourcedef_free(&def);
}

static void
test_definition_errors(void **state)
{
	(void) state;
	def_fails("[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
			  "id_number = 号码 | spilt(;) | idnum\nstart_date = 日期 | date\n",
			  "poverty.conf:6:18", "unknown transform");
	def_fails("[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
			  "id_number = 号码 | trim | split(;) | idnum\nstart_date = 日期 | date\n",
			  "poverty.conf:6:25", "split() after another transform");
	def_fails("[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
			  "id_number = 号码 | split() | idnum\nstart_date = 日期 | date\n",
			  "poverty.conf:6:24", "split() without separators");
	def_fails("[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
			  "id_number = 号码 | split ; | idnum\nstart_date = 日期 | date\n",
			  "poverty.conf:6:24", "missing '('");
	def_fails("[source]\nname = r\nfact = register\nfiles = r.csv\n[fields]\n"
			  "id_number = 号码 | split(;) | idnum\nstatus = 状态 | code(正常:active)\n",
			  "poverty.conf:6:18", "split() in a register definition");
}

/* ------------------------------------------------------------ records */

static void
test_one_record_per_value(void **state)
{
	(void) state;
	start(POVERTY_DEF,
		  "H1,张三;李四、王五," ID1 ";" ID2 "、" ID3 ",2023-01-05,\n"
		  "H2,赵六," ID1 ",2024-02-01,2025-01-01\n"
		  "H3, 张三 ; 李四 ;," ID1 " ;; " ID3 ";,2023-01-05,\n");
	/* row 1: three values, paired in order, the dates shared */
	next_member(1, 3, 1, ID1, "张三");
	int64_t		start1 = val("start_date")->num;
	uint64_t	h1 = fx.rec.hash;

	next_member(2, 3, 1, ID2, "李四");
	assert_int_equal(val("start_date")->num, start1);
	assert_true(fx.rec.hash != h1);
	next_member(3, 3, 1, ID3, "王五");
	assert_int_equal(fx.rec.line_no, 2);
	/* row 2: one value, an ordinary record */
	next_member(0, 0, 2, ID1, "赵六");
	assert_true(val("end_date")->present);
	/* row 3: spaces trimmed, empty values skipped */
	next_member(1, 2, 3, ID1, "张三");
	next_member(2, 2, 3, ID3, "李四");
	assert_int_equal(next(), EXT_EOF);
}

static void
test_rows_rejected_whole(void **state)
{
	(void) state;
	start(POVERTY_DEF,
		  "H1,张三;李四," ID1 ";" ID2 ";" ID3 ",2023-01-05,\n"     /* 2 names, 3 IDs */
		  "H2,张三;李四," ID1 ";" ID_BAD ",2023-01-05,\n"          /* a bad ID */
		  "H3,张三;李四," ID1 ";" ID2_TYPO ",2023-01-05,\n"        /* one typo away */
		  "H4,张三;李四," ID1 ";" ID2 ",2023-13-05,\n"             /* the shared date */
		  "H5,张三;李四," ID1 ";" ID2 ",2023-01-05,\n");
	next_reject("成员证件号码 has 3 values but 成员姓名 has 2", NULL);
	assert_int_equal(fx.rec.record_no, 1);
	next_reject("value 2 of 2: ", "invalid ID number \"12345\"");
	next_reject("value 2 of 2: ", "fails its check: ID numbers that share a cell are not repaired");
	assert_non_null(strstr(fx.rec.raw, ID2_TYPO));
	next_reject("value 1 of 2: could not parse date \"2023-13-05\"", NULL);
	next_member(1, 2, 5, ID1, "张三");
	next_member(2, 2, 5, ID2, "李四");
	assert_int_equal(next(), EXT_EOF);
}

static void
test_single_value_may_be_repaired(void **state)
{
	(void) state;
	/* one value in the cell: an ordinary record, its ID left to identity resolution */
	start(POVERTY_DEF, "H1,李四," ID2_TYPO ",2023-01-05,\n");
	assert_int_equal(next(), EXT_OK);
	assert_int_equal(fx.rec.sub, 0);
	assert_true(fx.rec.id_status != IDNUM_OK);
	assert_int_equal(next(), EXT_EOF);
}

static void
test_too_many_values(void **state)
{
	char		rows[8192] = "H1,,";

	(void) state;
	for (int i = 0; i <= EXTRACT_MAX_MEMBERS; i++)
		strcat(rows, i ? ";" ID1 : ID1);
	strcat(rows, ",2023-01-05,\n");
	static const char def[] =
		"[source]\nname = p\nfact = poor_household\nfiles = p.csv\n[fields]\n"
		"id_number = 成员证件号码 | split(;) | idnum\nstart_date = 纳入日期 | date\n";

	start(def, rows);
	next_reject("more than 64 values in 成员证件号码", NULL);
}

/* ------------------------------------------------------------ load */

static char tmpdir[256];

static void
write_file(const char *dir, const char *name, const char *text)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
load_setup(void **state)
{
	(void) state;
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_split_XXXXXX", t && *t ? t : P_tmpdir);
	assert_non_null(mkdtemp(tmpdir));
	write_file(tmpdir, "poverty_1.csv",
			   "户编号,成员姓名,成员证件号码,纳入日期,退出日期\n"
			   "H1,张三;李四," ID1 ";" ID2 ",2023-01-05,\n"             /* accepted: 2 facts */
			   "H2,王五," ID3 ",2023-01-05,\n"                          /* accepted: 1 fact */
			   "H3,张三;李四," ID1 ";" ID_BAD ",2023-01-05,\n"          /* rejected */
			   "H1,张三;李四," ID1 ";" ID2 ",2023-01-05,\n"             /* duplicate */
			   "H4,张三;赵六," ID1 ";" ID3 ",2023-01-05,\n");           /* accepted: one new */
	/* a second source, so that two threads have two tasks */
	write_file(tmpdir, "poverty_2.tsv",
			   "成员证件号码\t纳入日期\n" ID1 "\t2022-01-01\n" ID2 "\t2022-01-01\n");
	return 0;
}

static int
load_teardown(void **state)
{
	char		path[512];

	(void) state;
	snprintf(path, sizeof path, "%s/poverty_1.csv", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/poverty_2.tsv", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static int
cmp_fact(const void *a, const void *b)
{
	const Fact *x = a,
			   *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->record != y->record)
		return x->record < y->record ? -1 : 1;
	return (x->sub > y->sub) - (x->sub < y->sub);
}

static void
test_load_counts_rows(void **state)
{
	static const char other[] =
		"[source]\nname = other\nfact = poor_household\nfiles = poverty_*.tsv\ndelimiter = \"\\t\"\n"
		"[fields]\nid_number = 成员证件号码 | idnum\nstart_date = 纳入日期 | date\n";
	SourceDef	defs[2];
	CbError		err;

	(void) state;
	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("poverty.conf", POVERTY_DEF, strlen(POVERTY_DEF), &defs[0], &err) ||
		!sourcedef_parse("other.conf", other, strlen(other), &defs[1], &err))
		fail_msg("%s: %s", err.input_at, err.message);
	for (int threads = 1; threads <= 3; threads++)
	{
		Store		st;
		LoadReport	rep;

		store_init(&st);
		if (!load_delivery_threads(&st, defs, 2, tmpdir, false, threads, &rep, &err))
			fail_msg("load: %s: %s", err.input_at, err.message);
		assert_int_equal(st.files.len, 2);
		const SourceFile *sf = &VEC_AT(&st.files, SourceFile, 0);

		assert_string_equal(sf->name, "poverty_1.csv");
		assert_int_equal(sf->read, 5);		/* rows, not values */
		assert_int_equal(sf->accepted, 3);
		assert_int_equal(sf->duplicates, 1);
		assert_int_equal(sf->rejected, 1);
		assert_int_equal(st.rejects.len, 1);
		assert_int_equal(VEC_AT(&st.rejects, Reject, 0).record_no, 3);
		assert_non_null(strstr(VEC_AT(&st.rejects, Reject, 0).reason, "value 2 of 2"));
		assert_int_equal(VEC_AT(&st.files, SourceFile, 1).accepted, 2);

		/* facts: H1 two, H2 one, H4 one new (its first value is H1's first again), and the
		 * other source's two */
		assert_int_equal(st.facts.len, 4 + 2);
		qsort(st.facts.data, st.facts.len, sizeof(Fact), cmp_fact);
		const Fact *f = st.facts.data;
		static const struct { uint64_t record; int sub; const char *id; } want[] = {
			{1, 1, ID1}, {1, 2, ID2}, {2, 0, ID3}, {5, 2, ID3},
		};

		for (int i = 0; i < 4; i++)
		{
			char		id[19];

			idnum_format(f[i].person, id);
			assert_int_equal(f[i].file, 0);
			assert_int_equal(f[i].record, want[i].record);
			assert_int_equal(f[i].sub, want[i].sub);
			assert_string_equal(id, want[i].id);
		}
		assert_int_equal(f[4].file, 1);
		assert_int_equal(f[4].sub, 0);
		load_report_free(&rep);
		store_free(&st);
	}
	sourcedef_free(&defs[0]);
	sourcedef_free(&defs[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definition),
		cmocka_unit_test(test_definition_errors),
		cmocka_unit_test_teardown(test_one_record_per_value, teardown),
		cmocka_unit_test_teardown(test_rows_rejected_whole, teardown),
		cmocka_unit_test_teardown(test_single_value_may_be_repaired, teardown),
		cmocka_unit_test_teardown(test_too_many_values, teardown),
		cmocka_unit_test_setup_teardown(test_load_counts_rows, load_setup, load_teardown),
	};

	log_init(true);				/* no stage lines from the loads */
	return cmocka_run_group_tests_name("split()", tests, NULL, NULL);
}
