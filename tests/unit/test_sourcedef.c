/*
 * test_sourcedef.c
 *     Unit tests for connectors/sourcedef.c: parsing a source definition from
 *     a string (every key, the defaults), every kind of error with the exact
 *     "file:line:column" it names (columns count characters, not bytes),
 *     file-name globs, and loading the real definitions in connectors/agencies.
 *
 * The tests are run from the repository root (make), so connectors/agencies is
 * a relative path.
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
#include <unistd.h>

#include "sourcedef.h"

/* ------------------------------------------------------------ helpers */

static void
parse_ok(const char *text, SourceDef *def)
{
	CbError		err;

	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("t.conf", text, strlen(text), def, &err))
		fail_msg("sourcedef_parse failed: %s: %s (hint: %s)", err.input_at, err.message, err.hint);
}

/*
 * Asserts that text fails to parse, at input location `at` ("t.conf:LINE:COL"),
 * with a message containing `msg`.
 */
static void
parse_fails(const char *text, const char *at, const char *msg)
{
	SourceDef	def;
	CbError		err;

	memset(&err, 0, sizeof err);
	if (sourcedef_parse("t.conf", text, strlen(text), &def, &err))
	{
		sourcedef_free(&def);
		fail_msg("sourcedef_parse accepted a definition that should fail with \"%s\"", msg);
	}
	sourcedef_free(&def);
	assert_int_equal(err.kind, CBERR_INPUT);
	if (strcmp(err.input_at, at) != 0 || strstr(err.message, msg) == NULL)
		fail_msg("error at \"%s\": \"%s\"; want at \"%s\": \"...%s...\"", err.input_at,
				 err.message, at, msg);
}

/* Returns the definition's mapping of canonical field `name`, failing if absent. */
static const FieldMap *
field_map(const SourceDef *def, const char *name)
{
	int			fi = factkind_field(def->kind, name);

	assert_true(fi >= 0);
	for (int i = 0; i < def->nfields; i++)
		if (def->fields[i].field == fi)
			return &def->fields[i];
	fail_msg("field %s not mapped", name);
	return NULL;
}

/* A valid register definition; the error cases below are variations of it. */
#define REG_SOURCE \
	"[source]\n" \
	"name = reg\n" \
	"fact = register\n" \
	"files = reg_*.csv\n"
#define REG_FIELDS \
	"[fields]\n" \
	"id_number = 身份证号码 | idnum\n" \
	"division = 区划 | trim\n" \
	"status = 状态 | code(正常:active, 注销:cancelled)\n"

/* ------------------------------------------------------------ valid definitions */

/* Every [source] key and every transform. */
static void
test_valid_all_keys(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF# 卫健委 death registrations\n"			/* 1 */
		"[source]   # the source\n"							/* 2 */
		"name      = health_death\n"							/* 3 */
		"agency    = 卫健委\n"									/* 4 */
		"fact      = death\n"									/* 5 */
		"evidence  = health\n"									/* 6 */
		"files     = death_*.csv, \"death_*.csv.gz\" ,x?.txt\n"	/* 7 */
		"format    = csv\n"										/* 8 */
		"encoding  = GB18030\n"									/* 9 */
		"header    = yes\n"										/* 10 */
		"delimiter = \"\\t\"\n"									/* 11 */
		"quote     = \"'\"\n"									/* 12 */
		"required  = yes\n"										/* 13 */
		"max_record_bytes = 4096\r\n"							/* 14 */
		"\n"													/* 15 */
		"; another comment style\n"								/* 16 */
		"[fields]\n"											/* 17 */
		"id_number  = 身份证号 | trim | idnum\n"					/* 18 */
		"name       = 姓名 | name\n"								/* 19 */
		"sex        = \"性 别\" | code(男:male, 女:female, \"*\":female)\n"	/* 20 */
		"birth_date = 出生日期 | default(19000101) | date\n"		/* 21 */
		"  death_date = 死亡日期|date\n";							/* 22 */
	SourceDef	def;
	const FieldMap *fm;

	(void) state;
	parse_ok(text, &def);
	assert_string_equal(def.path, "t.conf");
	assert_string_equal(def.name, "health_death");
	assert_string_equal(def.agency, "卫健委");
	assert_int_equal(def.kind, FK_DEATH);
	assert_int_equal(def.evidence, EV_HEALTH);
	assert_int_equal(def.nglobs, 3);
	assert_string_equal(def.globs[0], "death_*.csv");
	assert_string_equal(def.globs[1], "death_*.csv.gz");
	assert_string_equal(def.globs[2], "x?.txt");
	assert_int_equal(def.format, RF_CSV);
	assert_int_equal(def.encoding, ENC_GB18030);
	assert_true(def.header);
	assert_int_equal(def.delimiter, '\t');
	assert_int_equal(def.quote, '\'');
	assert_true(def.required);
	assert_int_equal(def.max_record_bytes, 4096);
	assert_int_equal(def.nfields, 5);

	fm = field_map(&def, "id_number");
	assert_string_equal(fm->column, "身份证号");
	assert_int_equal(fm->nxf, 2);
	assert_int_equal(fm->xf[0].op, XF_TRIM);
	assert_int_equal(fm->xf[1].op, XF_IDNUM);
	assert_int_equal(fm->line, 18);

	fm = field_map(&def, "name");
	assert_string_equal(fm->column, "姓名");
	assert_int_equal(fm->nxf, 1);
	assert_int_equal(fm->xf[0].op, XF_NAME);

	fm = field_map(&def, "sex");
	assert_string_equal(fm->column, "性 别");
	assert_int_equal(fm->nxf, 1);
	assert_int_equal(fm->xf[0].op, XF_CODE);
	assert_int_equal(fm->xf[0].ncodes, 3);
	assert_string_equal(fm->xf[0].codes[0].from, "男");
	assert_string_equal(fm->xf[0].codes[0].to, "male");
	assert_string_equal(fm->xf[0].codes[1].from, "女");
	assert_string_equal(fm->xf[0].codes[1].to, "female");
	assert_null(fm->xf[0].codes[2].from);	/* the * default */
	assert_string_equal(fm->xf[0].codes[2].to, "female");

	fm = field_map(&def, "birth_date");
	assert_int_equal(fm->nxf, 2);
	assert_int_equal(fm->xf[0].op, XF_DEFAULT);
	assert_string_equal(fm->xf[0].arg, "19000101");
	assert_int_equal(fm->xf[1].op, XF_DATE);

	fm = field_map(&def, "death_date");
	assert_string_equal(fm->column, "死亡日期");
	assert_int_equal(fm->nxf, 1);
	assert_int_equal(fm->xf[0].op, XF_DATE);
	assert_int_equal(fm->line, 22);

	assert_string_equal(xform_name(XF_MONEY), "money");
	assert_string_equal(xform_name(XF_DEFAULT), "default");
	sourcedef_free(&def);
}

static void
test_defaults(void **state)
{
	SourceDef	def;

	(void) state;
	parse_ok(REG_SOURCE REG_FIELDS, &def);
	assert_string_equal(def.name, "reg");
	assert_string_equal(def.agency, "reg");	/* agency defaults to the name */
	assert_int_equal(def.kind, FK_REGISTER);
	assert_int_equal(def.evidence, EV_COUNT);
	assert_int_equal(def.format, RF_CSV);
	assert_int_equal(def.encoding, ENC_UTF8);
	assert_true(def.header);
	assert_int_equal(def.delimiter, ',');
	assert_int_equal(def.quote, '"');
	assert_false(def.required);
	assert_int_equal(def.max_record_bytes, 1 << 20);
	assert_int_equal(def.nfields, 3);
	sourcedef_free(&def);
}

/* Money, month and int transforms on the kinds that have such fields; positions. */
static void
test_typed_fields_and_positions(void **state)
{
	SourceDef	def;
	const FieldMap *fm;

	(void) state;
	parse_ok("[source]\nname = pay\nfact = pension_payment\nfiles = pay.csv\n"
			 "header = no\nencoding = gbk\nrequired = false\n"
			 "[fields]\n"
			 "id_number = 2 | idnum\n"
			 "month = 1 | month\n"
			 "basic = 3 | money\n"
			 "total = 10 | default(0) | money\n", &def);
	assert_false(def.header);
	assert_int_equal(def.encoding, ENC_GBK);
	fm = field_map(&def, "id_number");
	assert_null(fm->column);
	assert_int_equal(fm->position, 2);
	fm = field_map(&def, "total");
	assert_int_equal(fm->position, 10);
	assert_int_equal(fm->xf[1].op, XF_MONEY);
	sourcedef_free(&def);

	parse_ok("[source]\nname = dis\nfact = disability\nfiles = d.csv\n"
			 "[fields]\nid_number = 证号 | idnum\ngrade = 等级 | code(一级:1, 二级:2) | int\n", &def);
	fm = field_map(&def, "grade");
	assert_int_equal(fm->xf[0].op, XF_CODE);
	assert_int_equal(fm->xf[1].op, XF_INT);
	sourcedef_free(&def);
}

/* ------------------------------------------------------------ errors */

static void
test_error_unknown_key(void **state)
{
	(void) state;
	parse_fails("[source]\nname = reg\n  colour = red\n", "t.conf:3:3", "unknown key in [source]");
}

static void
test_error_unknown_section(void **state)
{
	(void) state;
	parse_fails(REG_SOURCE " [feilds]\n", "t.conf:5:2", "unknown section");
	/* a BOM is not a character of line 1 */
	parse_fails("\xEF\xBB\xBF[sourc]\n", "t.conf:1:1", "unknown section");
}

static void
test_error_unknown_fact_kind(void **state)
{
	(void) state;
	parse_fails("[source]\nname = reg\nfact = regster\n", "t.conf:3:8", "unknown fact kind");
	parse_fails("[source]\nname = reg\nfact =   户籍\n", "t.conf:3:10", "unknown fact kind");
}

static void
test_error_unknown_field(void **state)
{
	(void) state;
	parse_fails(REG_SOURCE "[fields]\nid_number = 身份证号码 | idnum\n  gender = 性别 | code(男:male)\n",
				"t.conf:7:3", "unknown field \"gender\" for fact kind register");
}

/* The column is counted in characters: 身份证号码 is 5 columns, not 15 bytes. */
static void
test_error_unknown_transform(void **state)
{
	(void) state;
	parse_fails(REG_SOURCE "[fields]\nid_number = 身份证号码 | idnum | upper\n",
				"t.conf:6:29", "unknown transform");
	parse_fails(REG_SOURCE "[fields]\nid_number = 身份证号码 |\n",
				"t.conf:6:20", "unknown transform");
}

static void
test_error_code_value_not_allowed(void **state)
{
	SourceDef	def;
	CbError		err;
	const char *text = REG_SOURCE "[fields]\nid_number = 证号 | idnum\nstatus = 状态 | code(正常:alive)\n";

	(void) state;
	parse_fails(text, "t.conf:7:23", "unknown value \"alive\" for field status");
	assert_false(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
	sourcedef_free(&def);
	assert_non_null(strstr(err.hint, "active, cancelled"));
	/* the column is that of the value, not of the space before it */
	parse_fails(REG_SOURCE "[fields]\nid_number = 证号 | idnum\nstatus = 状态 | code(正常:active,注销: dead)\n",
				"t.conf:7:34", "unknown value \"dead\" for field status");
}

static void
test_error_missing_required_field(void **state)
{
	SourceDef	def;
	CbError		err;
	const char *text = REG_SOURCE "[fields]\nid_number = 证号 | idnum\nstatus = 状态 | code(正常:active)\n";

	(void) state;
	/* nothing to point at: the end of the definition (its last line) */
	parse_fails(text, "t.conf:7:1", "required field division of fact kind register is not mapped");
	assert_false(sourcedef_parse("t.conf", text, strlen(text), &def, &err));
	sourcedef_free(&def);
	assert_non_null(strstr(err.hint, "division"));
}

static void
test_error_wrong_type_transform(void **state)
{
	(void) state;
	parse_fails("[source]\nname = pay\nfact = pension_payment\nfiles = p.csv\n[fields]\n"
				"id_number = 证号 | idnum\nmonth = 月份 | month\n"
				"basic = 基本养老金 | date\n",
				"t.conf:8:17", "transform date gives a date, but field basic is money");
	parse_fails(REG_SOURCE "[fields]\nid_number = 证号 | money\n",
				"t.conf:6:18", "transform money gives money, but field id_number is an ID number");
	/* code() must come before a typed transform */
	parse_fails("[source]\nname = dis\nfact = disability\nfiles = d.csv\n[fields]\n"
				"id_number = 证号 | idnum\ngrade = 等级 | int | code(一级:1)\n",
				"t.conf:7:20", "code() after a typed transform");
}

static void
test_error_code_field_without_table(void **state)
{
	(void) state;
	parse_fails(REG_SOURCE "[fields]\nid_number = 证号 | idnum\nsex = 性别 | trim\n",
				"t.conf:7:7", "a code field needs a code table");
}

static void
test_error_missing_equals(void **state)
{
	(void) state;
	parse_fails("[source]\nname reg\n", "t.conf:2:9", "missing '='");
	parse_fails(REG_SOURCE "[fields]\nid_number 身份证\n", "t.conf:6:14", "missing '='");
}

static void
test_error_unterminated_quote(void **state)
{
	(void) state;
	parse_fails("[source]\nname = \"reg\n", "t.conf:2:8", "unterminated quoted string");
	parse_fails(REG_SOURCE "[fields]\nid_number = 身份 | code(\"甲:x)\n",
				"t.conf:6:23", "unterminated quoted string");
}

static void
test_error_fields_before_fact(void **state)
{
	(void) state;
	parse_fails("[source]\nname = reg\n[fields]\nid_number = 证号 | idnum\n",
				"t.conf:3:1", "[fields] before the fact kind is known");
	parse_fails("# comment\nname = reg\n", "t.conf:2:1", "setting outside a section");
}

static void
test_error_death_without_evidence(void **state)
{
	(void) state;
	parse_fails("[source]\nname = d\nfact = death\nfiles = d.csv\n[fields]\n"
				"id_number = 证号 | idnum\ndeath_date = 日期 | date\n",
				"t.conf:7:1", "death source without evidence kind");
	parse_fails(REG_SOURCE "evidence = police\n" REG_FIELDS, "t.conf:9:1",
				"evidence is only for fact = death");
	parse_fails("[source]\nname = d\nfact = death\nevidence = hearsay\n", "t.conf:4:12",
				"unknown evidence");
}

static void
test_error_duplicate_field(void **state)
{
	(void) state;
	parse_fails(REG_SOURCE "[fields]\nid_number = 证号 | idnum\n  id_number = 证件 | idnum\n",
				"t.conf:7:3", "field mapped twice");
}

static void
test_error_missing_source_keys(void **state)
{
	(void) state;
	parse_fails("[source]\nname = reg\nfact = register\n[fields]\nid_number = a | idnum\n"
				"division = b\nstatus = c | code(x:active)\n",
				"t.conf:7:1", "definition claims no files");
	parse_fails("[source]\nfact = register\n", "t.conf:2:1", "definition has no name");
	parse_fails("[source]\nname = x\n", "t.conf:2:1", "definition has no fact kind");
}

/* The remaining checks, each with its exact location. */
static void
test_error_other_checks(void **state)
{
	static const struct
	{
		const char *text;
		const char *at;
		const char *msg;
	}			cases[] = {
		{"[source]\nname = bad-name\n", "t.conf:2:8", "bad source name"},
		{"[source\n", "t.conf:1:1", "unterminated section header"},
		{"[source]\nfiles = a.csv,,b.csv\n", "t.conf:2:15", "empty file pattern"},
		{REG_SOURCE "delimiter = ;;\n", "t.conf:5:13", "bad character"},
		{REG_SOURCE "quote = \",\"\n" REG_FIELDS, "t.conf:9:1",
		 "delimiter and quote are the same character"},
		{REG_SOURCE "header = maybe\n", "t.conf:5:10", "bad value"},
		{REG_SOURCE "max_record_bytes = 10\n", "t.conf:5:20", "bad record size limit"},
		{REG_SOURCE "encoding = big5\n", "t.conf:5:12", "unknown encoding"},
		{REG_SOURCE "format = parquet\n", "t.conf:5:10", "unknown format"},
		{REG_SOURCE "[source]\n", "t.conf:5:1", "second [source] section"},
		{REG_SOURCE "[fields] x\n", "t.conf:5:10", "unexpected text after section header"},
		{REG_SOURCE REG_FIELDS "[fields]\n", "t.conf:9:1", "second [fields] section"},
		{REG_SOURCE "[fields]\nstatus = 状态 | code()\n", "t.conf:6:20", "empty code table"},
		{REG_SOURCE "[fields]\nstatus = 状态 | code(正常:active, 正常:cancelled)\n", "t.conf:6:31",
		 "code listed twice"},
		{REG_SOURCE "[fields]\nstatus = 状态 | code(正常)\n", "t.conf:6:22", "code entry without ':'"},
		{REG_SOURCE "[fields]\nstatus = 状态 | code(正常:)\n", "t.conf:6:23",
		 "empty canonical value"},
		{REG_SOURCE "[fields]\ndivision = 区划 | default\n", "t.conf:6:24",
		 "missing '(' after transform"},
		{REG_SOURCE "[fields]\ndivision = 区划 | default(x\n", "t.conf:6:26", "missing ')'"},
		{REG_SOURCE "[fields]\ndivision = | trim\n", "t.conf:6:12", "missing source column"},
		{REG_SOURCE "header = no\n[fields]\nid_number = 0 | idnum\n", "t.conf:7:13",
		 "bad column position"},
		{REG_SOURCE "[fields]\ndivision = 区划 | trim x\n", "t.conf:6:22",
		 "unexpected text after field mapping"},
		{REG_SOURCE "[fields]\ndivision = a | trim | trim | trim | trim | trim | trim | trim | trim | trim\n",
		 "t.conf:6:72", "too many transforms"},
		/* CRLF line ends do not change lines or columns */
		{"[source]\r\nname = reg\r\nfact = regster\r\n", "t.conf:3:8", "unknown fact kind"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		parse_fails(cases[i].text, cases[i].at, cases[i].msg);
}

static void
test_error_nul_byte(void **state)
{
	static const char text[] = "[source]\nna\0me = x\n";
	SourceDef	def;
	CbError		err;

	(void) state;
	assert_false(sourcedef_parse("t.conf", text, sizeof text - 1, &def, &err));
	sourcedef_free(&def);
	assert_string_equal(err.input_at, "t.conf:2:1");
	assert_non_null(strstr(err.message, "NUL byte"));
}

/* ------------------------------------------------------------ globs, directories */

static void
test_claims(void **state)
{
	SourceDef	def;

	(void) state;
	parse_ok("[source]\nname = reg\nfact = register\n"
			 "files = police_register_*.csv, police_register_*.csv.gz, 死亡_20??????.csv, [ab]x.csv\n"
			 REG_FIELDS, &def);
	assert_int_equal(def.nglobs, 4);
	assert_true(sourcedef_claims(&def, "police_register_20240101.csv"));
	assert_true(sourcedef_claims(&def, "police_register_.csv"));
	assert_true(sourcedef_claims(&def, "police_register_20240101.csv.gz"));
	assert_true(sourcedef_claims(&def, "死亡_20240101.csv"));
	assert_true(sourcedef_claims(&def, "ax.csv"));
	assert_true(sourcedef_claims(&def, "bx.csv"));
	assert_false(sourcedef_claims(&def, "cx.csv"));
	assert_false(sourcedef_claims(&def, "死亡_2024010.csv"));	/* ? is one character */
	assert_false(sourcedef_claims(&def, "police_register_20240101.csv.bak"));
	assert_false(sourcedef_claims(&def, "Police_register_20240101.csv"));
	assert_false(sourcedef_claims(&def, "x_police_register_1.csv"));
	assert_false(sourcedef_claims(&def, ""));
	sourcedef_free(&def);
}

static void
test_load_real_definitions(void **state)
{
	SourceDef  *defs = NULL;
	int			n = 0;
	CbError		err;
	bool		found_register = false;

	(void) state;
	memset(&err, 0, sizeof err);
	if (!sourcedefs_load_dir("connectors/agencies", &defs, &n, &err))
		fail_msg("loading connectors/agencies: %s: %s (hint: %s)", err.input_at, err.message, err.hint);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++)
	{
		assert_non_null(defs[i].name);
		assert_true(defs[i].nglobs >= 1);
		assert_true(defs[i].nfields >= 1);
		assert_non_null(strstr(defs[i].path, "connectors/agencies/"));
		if (i > 0)
			assert_true(strcmp(defs[i - 1].path, defs[i].path) < 0);	/* sorted */
		if (strcmp(defs[i].name, "police_register") == 0)
		{
			found_register = true;
			assert_int_equal(defs[i].kind, FK_REGISTER);
			assert_true(sourcedef_claims(&defs[i], "police_register_20240101.csv.gz"));
		}
	}
	assert_true(found_register);
	sourcedefs_free(defs, n);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_file(const char *dir, const char *name)
{
	char		path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static void
test_load_dir_errors(void **state)
{
	char		dir[] = "/tmp/canbao_sourcedef_XXXXXX";
	SourceDef  *defs = NULL;
	int			n = -1;
	CbError		err;

	(void) state;
	assert_false(sourcedefs_load_dir("connectors/no_such_folder", &defs, &n, &err));
	assert_int_equal(err.kind, CBERR_IO);
	assert_null(defs);
	assert_int_equal(n, 0);

	assert_non_null(mkdtemp(dir));
	/* no *.conf at all */
	write_file(dir, "readme.txt", "not a definition\n");
	assert_false(sourcedefs_load_dir(dir, &defs, &n, &err));
	assert_non_null(strstr(err.message, "no connector definitions"));

	/* two files defining the same source name */
	write_file(dir, "a.conf", REG_SOURCE REG_FIELDS);
	write_file(dir, "b.conf", REG_SOURCE REG_FIELDS);
	assert_false(sourcedefs_load_dir(dir, &defs, &n, &err));
	assert_non_null(strstr(err.message, "defined twice"));
	assert_non_null(strstr(err.input_at, "b.conf"));

	/* one good, one bad: the error names the bad file, line and column */
	write_file(dir, "b.conf", "[source]\nname = other\nfact = regster\n");
	assert_false(sourcedefs_load_dir(dir, &defs, &n, &err));
	assert_non_null(strstr(err.input_at, "/b.conf:3:8"));

	/* both good */
	write_file(dir, "b.conf", "[source]\nname = other\nfact = certification\nfiles = c.csv\n"
			   "[fields]\nid_number = 证号 | idnum\ndate = 日期 | date\n");
	assert_true(sourcedefs_load_dir(dir, &defs, &n, &err));
	assert_int_equal(n, 2);
	assert_string_equal(defs[0].name, "reg");
	assert_string_equal(defs[1].name, "other");
	sourcedefs_free(defs, n);

	remove_file(dir, "a.conf");
	remove_file(dir, "b.conf");
	remove_file(dir, "readme.txt");
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_all_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_typed_fields_and_positions),
		cmocka_unit_test(test_error_unknown_key),
		cmocka_unit_test(test_error_unknown_section),
		cmocka_unit_test(test_error_unknown_fact_kind),
		cmocka_unit_test(test_error_unknown_field),
		cmocka_unit_test(test_error_unknown_transform),
		cmocka_unit_test(test_error_code_value_not_allowed),
		cmocka_unit_test(test_error_missing_required_field),
		cmocka_unit_test(test_error_wrong_type_transform),
		cmocka_unit_test(test_error_code_field_without_table),
		cmocka_unit_test(test_error_missing_equals),
		cmocka_unit_test(test_error_unterminated_quote),
		cmocka_unit_test(test_error_fields_before_fact),
		cmocka_unit_test(test_error_death_without_evidence),
		cmocka_unit_test(test_error_duplicate_field),
		cmocka_unit_test(test_error_missing_source_keys),
		cmocka_unit_test(test_error_other_checks),
		cmocka_unit_test(test_error_nul_byte),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_load_real_definitions),
		cmocka_unit_test(test_load_dir_errors),
	};

	return cmocka_run_group_tests_name("sourcedef", tests, NULL, NULL);
}
