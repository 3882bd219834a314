/*
 * test_extract.c
 *     Unit tests for connectors/extract.c: binding a source definition (parsed
 *     here from a string) to an in-memory extract file.  Header resolution,
 *     field count checks, every transform, required fields, text encodings
 *     (UTF-8 validation, GBK decoding), positional columns, positions and raw
 *     text of rejects, whole-file errors, and the record hash.
 *
 * GBK inputs are made here from UTF-8 with iconv(3), gzip inputs with zlib;
 * expected ID numbers and day numbers were worked out independently (Python).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "extract.h"
#include "idnum.h"
#include "text.h"

/* 2023-01-05 as a day number and 2023-01 as a month number. */
#define D_2023_01_05 19362
#define M_2023_01 24276

/* ------------------------------------------------------------ definitions */

/* Register source by header names; the column order in the files differs. */
static const char reg_def[] =
	"[source]\n"
	"name = reg\n"
	"fact = register\n"
	"files = reg_*.csv\n"
	"[fields]\n"
	"id_number     = 公民身份号码 | idnum\n"
	"name          = 姓名 | name\n"
	"sex           = 性别 | code(男:male, 女:female)\n"
	"birth_date    = 出生日期 | date\n"
	"ethnicity     = 民族 | default(汉)\n"
	"household     = 户号 | trim\n"
	"division      = 行政区划代码 | trim\n"
	"status        = 户籍状态 | code(正常:active, 注销:cancelled)\n"
	"cancel_reason = 注销原因 | code(死亡:death, 迁出:moved_out, *:other)\n";

/* The header of reg files: an extra column (备注), other order. */
#define REG_HEADER "姓名,公民身份号码,性别,出生日期,民族,户号,行政区划代码,户籍状态,注销原因,备注\n"

static const char pay_def[] =
	"[source]\n"
	"name = pay\n"
	"fact = pension_payment\n"
	"files = pay.csv\n"
	"[fields]\n"
	"id_number = 身份证号 | idnum\n"
	"month     = 月份 | month\n"
	"basic     = 基础养老金 | money\n"
	"total     = 合计 | default(0) | money\n";

static const char dis_def[] =
	"[source]\n"
	"name = dis\n"
	"fact = disability\n"
	"files = dis.csv\n"
	"[fields]\n"
	"id_number = 身份证号 | idnum\n"
	"grade     = 等级 | code(一级:1, 二级:2, 三级:3, 四级:4) | int\n"
	"start_date = 发证日期 | date\n";

static const char dis_int_def[] =
	"[source]\n"
	"name = dis2\n"
	"fact = disability\n"
	"files = dis.csv\n"
	"[fields]\n"
	"id_number = 身份证号 | idnum\n"
	"grade     = 等级 | int\n";

static const char pos_def[] =
	"[source]\n"
	"name = pos\n"
	"fact = register\n"
	"files = pos.csv\n"
	"header = no\n"
	"delimiter = \"|\"\n"
	"[fields]\n"
	"name      = 1 | name\n"
	"id_number = 2 | idnum\n"
	"division  = 4 | trim\n"
	"status    = 3 | code(1:active, 2:cancelled)\n";

static const char gbk_def[] =
	"[source]\n"
	"name = gbk\n"
	"fact = register\n"
	"files = gbk.csv\n"
	"encoding = gbk\n"
	"[fields]\n"
	"id_number = 身份证号 | idnum\n"
	"name      = 姓名 | name\n"
	"division  = 区划 | trim\n"
	"status    = 状态 | code(正常:active, 注销:cancelled)\n";

/* ID numbers (check digits computed independently). */
#define ID1 "11010519491231002X"
#define ID1_KEY 11010519491231002ULL
#define ID2 "222401198503150017"
#define ID3 "222401199001010027"

/* ------------------------------------------------------------ helpers */

typedef struct Fixture
{
	SourceDef	def;
	Extract    *ex;
	CanonRecord rec;
} Fixture;

static Fixture fx;

static void
load_def(const char *text)
{
	CbError		err;

	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("t.conf", text, strlen(text), &fx.def, &err))
		fail_msg("definition: %s: %s", err.input_at, err.message);
}

static void
open_data(const void *data, size_t len)
{
	CbError		err;

	memset(&err, 0, sizeof err);
	fx.ex = extract_open_mem(&fx.def, "data.csv", data, len, &err);
	if (fx.ex == NULL)
		fail_msg("extract_open_mem: %s: %s", err.input_at, err.message);
}

/* Parses definition `def` and opens `data` (a C string) with it. */
static void
start(const char *def, const char *data)
{
	load_def(def);
	open_data(data, strlen(data));
}

static int
teardown(void **state)
{
	(void) state;
	extract_close(fx.ex);
	sourcedef_free(&fx.def);
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

static void
next_ok(void)
{
	ExtStatus	st = next();

	if (st != EXT_OK)
		fail_msg("record %llu: status %d, reason \"%s\"", (unsigned long long) fx.rec.record_no,
				 (int) st, fx.rec.reason);
}

/* Asserts the next record is rejected with a reason containing every given part. */
static void
next_reject(const char *part1, const char *part2)
{
	ExtStatus	st = next();

	if (st != EXT_REJECT)
		fail_msg("status %d, want a reject with \"%s\"", (int) st, part1);
	if (strstr(fx.rec.reason, part1) == NULL || (part2 && strstr(fx.rec.reason, part2) == NULL))
		fail_msg("reason \"%s\", want \"...%s...%s...\"", fx.rec.reason, part1, part2 ? part2 : "");
}

/* The canonical value of the field named `name` in the current record. */
static const CanonValue *
val(const char *name)
{
	int			fi = factkind_field(fx.def.kind, name);

	assert_true(fi >= 0);
	return &fx.rec.v[fi];
}

static void
text_is(const char *field, const char *want)
{
	const CanonValue *v = val(field);

	if (!v->present)
		fail_msg("field %s is absent, want \"%s\"", field, want);
	if (v->len != strlen(want) || strcmp(v->text, want) != 0)
		fail_msg("field %s is \"%s\" (%u bytes), want \"%s\"", field, v->text, v->len, want);
}

static void
num_is(const char *field, int64_t want)
{
	const CanonValue *v = val(field);

	assert_true(v->present);
	if (v->num != want)
		fail_msg("field %s: num %lld, want %lld", field, (long long) v->num, (long long) want);
}

static void
absent(const char *field)
{
	if (val(field)->present)
		fail_msg("field %s is present (\"%s\"), want absent", field, val(field)->text);
}

/* UTF-8 to GBK with iconv; returns a malloc'ed buffer of *out_len bytes. */
static char *
to_gbk(const char *utf8, size_t *out_len)
{
	iconv_t		cd = iconv_open("GBK", "UTF-8");
	size_t		inl = strlen(utf8), outl = inl * 2 + 1;
	char	   *out = malloc(outl);
	char	   *in = (char *) utf8, *o = out;

	assert_true(cd != (iconv_t) -1);
	assert_non_null(out);
	assert_true(iconv(cd, &in, &inl, &o, &outl) != (size_t) -1);
	assert_int_equal(inl, 0);
	iconv_close(cd);
	*out_len = (size_t) (o - out);
	return out;
}

/* ------------------------------------------------------------ header */

static void
test_header_resolution(void **state)
{
	(void) state;
	/* a BOM, spaces and U+3000 around names, an unused column */
	start(reg_def,
		  "\xEF\xBB\xBF 姓名 ,\t公民身份号码,\xE3\x80\x80性别\xE3\x80\x80,出生日期,民族,户号,"
		  "行政区划代码 ,户籍状态,注销原因,备注\r\n"
		  "张三," ID1 ",女,1949-12-31,,0001,222401,正常,,x\r\n");
	next_ok();
	text_is("name", "张三");
	text_is("id_number", ID1);
	text_is("sex", "female");
	text_is("division", "222401");
	text_is("status", "active");
	assert_int_equal(fx.rec.record_no, 1);
	assert_int_equal(fx.rec.line_no, 2);
	assert_int_equal(next(), EXT_EOF);
}

static void
test_missing_column(void **state)
{
	CbError		err;
	const char *data = "姓名,公民身份号码,性别,出生日期,民族,户号,行政区划代码,注销原因\n";

	(void) state;
	load_def(reg_def);
	memset(&err, 0, sizeof err);
	fx.ex = extract_open_mem(&fx.def, "reg_1.csv", data, strlen(data), &err);
	assert_null(fx.ex);
	assert_int_equal(err.kind, CBERR_INPUT);
	assert_non_null(strstr(err.message, "column \"户籍状态\" (for field status) not found"));
	assert_non_null(strstr(err.input_at, "reg_1.csv"));
	assert_non_null(strstr(err.detail, "行政区划代码"));
}

static void
test_whole_file_errors(void **state)
{
	CbError		err;
	Extract    *ex;

	(void) state;
	load_def(reg_def);
	ex = extract_open_mem(&fx.def, "empty.csv", "", 0, &err);
	assert_null(ex);
	assert_non_null(strstr(err.message, "file is empty"));

	ex = extract_open_mem(&fx.def, "bad.csv", "\"姓名,x\n", strlen("\"姓名,x\n"), &err);
	assert_null(ex);
	assert_non_null(strstr(err.message, "malformed header"));

	/* a column named twice */
	ex = extract_open_mem(&fx.def, "dup.csv", "备注,姓名," REG_HEADER, strlen("备注,姓名," REG_HEADER), &err);
	assert_null(ex);
	assert_non_null(strstr(err.message, "appears twice"));
}

static void
test_field_count_mismatch(void **state)
{
	(void) state;
	start(reg_def, REG_HEADER
		  "张三," ID1 ",女,1949-12-31,,1,222401,正常,\n"		/* 9 fields */
		  "李四," ID2 ",男,1985-03-15,,2,222401,正常,,,\n"	/* 11 fields */
		  "王五," ID3 ",女,1990-01-01,,3,222401,正常,,\n");
	next_reject("expected 10 fields as in the header, found 9", NULL);
	assert_int_equal(fx.rec.record_no, 1);
	next_reject("expected 10 fields as in the header, found 11", NULL);
	assert_int_equal(fx.rec.record_no, 2);
	next_ok();
	text_is("name", "王五");
	assert_int_equal(fx.rec.record_no, 3);
	assert_int_equal(next(), EXT_EOF);
}

/* ------------------------------------------------------------ transforms */

/* One reg record with household = h (other fields fixed). */
static void
reg_with(const char *name, const char *id, const char *sex, const char *birth,
		 const char *eth, const char *household, const char *status, const char *reason)
{
	char		buf[1024];

	snprintf(buf, sizeof buf, REG_HEADER "%s,%s,%s,%s,%s,%s,222401,%s,%s,\n",
			 name, id, sex, birth, eth, household, status, reason);
	start(reg_def, buf);
}

static void
test_trim(void **state)
{
	(void) state;
	/* U+3000 and U+00A0 around, ASCII space and tab; inner space kept */
	reg_with("张三", " " ID1 "\t", "女", "", "",
			 "\xE3\x80\x80 12 3\xC2\xA0\xE3\x80\x80", "正常", "");
	next_ok();
	text_is("household", "12 3");
	text_is("id_number", ID1);
	teardown(NULL);

	/* only spaces: empty, and household is optional */
	reg_with("张三", ID1, "女", "", "", "\xE3\x80\x80 \xE3\x80\x80", "正常", "");
	next_ok();
	absent("household");
}

static void
test_name(void **state)
{
	static const struct
	{
		const char *in;
		const char *want;
	}			cases[] = {
		{" 欧阳 娜娜 ", "欧阳娜娜"},
		{"欧阳\xE3\x80\x80娜\t娜", "欧阳娜娜"},
		{"买买提\xC2\xB7艾力", "买买提\xC2\xB7艾力"},			/* U+00B7 stays */
		{"买买提\xE2\x80\xA2艾力", "买买提\xC2\xB7艾力"},		/* U+2022 bullet */
		{"买买提\xE2\x80\xA7艾力", "买买提\xC2\xB7艾力"},		/* U+2027 hyphenation point */
		{"买买提\xE3\x83\xBB艾力", "买买提\xC2\xB7艾力"},		/* U+30FB katakana middle dot */
		{"买买提\xEF\xBD\xA5艾力", "买买提\xC2\xB7艾力"},		/* U+FF65 half-width */
		{"买买提\xEF\xBC\x8E艾力", "买买提\xC2\xB7艾力"},		/* U+FF0E full-width stop */
		{"买买提\xE2\x88\x99艾力", "买买提\xC2\xB7艾力"},		/* U+2219 bullet operator */
		{"买买提.艾力", "买买提\xC2\xB7艾力"},					/* ASCII full stop */
		{"买买提 · 艾力", "买买提\xC2\xB7艾力"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		reg_with(cases[i].in, ID1, "女", "", "", "1", "正常", "");
		next_ok();
		text_is("name", cases[i].want);
		teardown(NULL);
	}
}

static void
test_idnum(void **state)
{
	static const char *const same[] = {
		ID1,
		"11010519491231002x",
		"\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x90\xEF\xBC\x95"
		"\xEF\xBC\x91\xEF\xBC\x99\xEF\xBC\x94\xEF\xBC\x99\xEF\xBC\x91\xEF\xBC\x92"
		"\xEF\xBC\x93\xEF\xBC\x91\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x92\xEF\xBD\x98",	/* full width */
		"110105 19491231 002X",
		"110105491231002",			/* 15 digits, upgraded */
	};

	(void) state;
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
	{
		reg_with("张三", same[i], "女", "", "", "1", "正常", "");
		next_ok();
		text_is("id_number", ID1);
		num_is("id_number", (int64_t) ID1_KEY);
		teardown(NULL);
	}

	reg_with("张三", "110105194912310021", "女", "", "", "1", "正常", "");
	next_reject("invalid ID number \"110105194912310021\" in 公民身份号码", "wrong check digit");
	teardown(NULL);
	reg_with("张三", "11010519491231", "女", "", "", "1", "正常", "");
	next_reject("公民身份号码", "wrong length");
	teardown(NULL);
	reg_with("张三", "110105194913310025", "女", "", "", "1", "正常", "");
	next_reject("公民身份号码", "invalid birth date");
}

static void
test_date(void **state)
{
	static const char *const spellings[] = {
		"20230105", "2023-01-05", "2023-1-5", "2023/01/05", "2023/1/5", "2023.01.05",
		"2023年1月5日", "2023年01月05日", "2023-01-05 08:30:00", "2023-01-05T08:30:00Z",
		"44931", " 2023-01-05 ",
	};

	(void) state;
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
	{
		reg_with("张三", ID1, "女", spellings[i], "", "1", "正常", "");
		next_ok();
		num_is("birth_date", D_2023_01_05);
		teardown(NULL);
	}
	reg_with("张三", ID1, "女", "2023-02-30", "", "1", "正常", "");
	next_reject("could not parse date \"2023-02-30\" in 出生日期 (field birth_date)", NULL);
	teardown(NULL);
	reg_with("张三", ID1, "女", "05/01/2023", "", "1", "正常", "");
	next_reject("could not parse date", "出生日期");
	teardown(NULL);
	/* empty optional date: absent */
	reg_with("张三", ID1, "女", "", "", "1", "正常", "");
	next_ok();
	absent("birth_date");
}

static void
test_month_and_money(void **state)
{
	(void) state;
	start(pay_def,
		  "身份证号,月份,基础养老金,合计\n"
		  ID1 ",202301,\"1,234.50\",12.3\n"
		  ID1 ",2023-02,¥12,-0.05\n"
		  ID1 ",2023年3月份,0.5,\n"
		  ID1 ",2023-01-15,1234,+7\n"
		  ID1 ",2023-13,1,1\n"
		  ID1 ",202301,12.345,1\n"
		  ID1 ",202301,12a,1\n"
		  ID1 ",202301,,1\n"
		  ID1 ",202301,99999999999999999,1\n"
		  ID1 ",202301,12345678901234567890,1\n"
		  ID1 ",202301,92233720368547758.07,1\n"
		  ID1 ",202301,92233720368547758.08,1\n"
		  ID1 ",202301,00000000000000000000000012.5,1\n");
	next_ok();
	num_is("month", M_2023_01);
	num_is("basic", 123450);
	num_is("total", 1230);
	next_ok();
	num_is("month", M_2023_01 + 1);
	num_is("basic", 1200);
	num_is("total", -5);
	next_ok();
	num_is("month", M_2023_01 + 2);
	num_is("basic", 50);
	num_is("total", 0);			/* default(0) */
	text_is("total", "0");
	next_ok();
	num_is("month", M_2023_01);
	num_is("basic", 123400);
	num_is("total", 700);
	next_reject("could not parse month \"2023-13\" in 月份 (field month)", NULL);
	next_reject("could not parse amount \"12.345\" in 基础养老金 (field basic)", "two decimals");
	next_reject("could not parse amount \"12a\"", NULL);
	next_reject("missing value in 基础养老金 (field basic)", NULL);
	/* fen past 64 bits: whole yuan that overflow when scaled, and digits
	 * that overflow on their own, are refused rather than wrapped */
	next_reject("could not parse amount \"99999999999999999\"", NULL);
	next_reject("could not parse amount \"12345678901234567890\"", NULL);
	next_ok();
	num_is("basic", INT64_C(9223372036854775807));
	next_reject("could not parse amount \"92233720368547758.08\"", NULL);	/* one fen more */
	next_ok();					/* leading zeros are digits, not an overflow */
	num_is("basic", 1250);
	assert_int_equal(next(), EXT_EOF);
}

static void
test_int(void **state)
{
	(void) state;
	start(dis_int_def,
		  "身份证号,等级\n"
		  ID1 ",3\n"
		  ID1 ", 4 \n"
		  ID1 ",-2\n"
		  ID1 ",3a\n"
		  ID1 ",99999999999999999999\n");
	next_ok();
	num_is("grade", 3);
	next_ok();
	num_is("grade", 4);
	next_ok();
	num_is("grade", -2);
	next_reject("could not parse integer \"3a\" in 等级 (field grade)", NULL);
	next_reject("could not parse integer", NULL);
	assert_int_equal(next(), EXT_EOF);
}

/* code(...) then int; code without a default: an unknown code is a reject. */
static void
test_code_then_int(void **state)
{
	(void) state;
	start(dis_def,
		  "身份证号,等级,发证日期\n"
		  ID1 ",二级,20100101\n"
		  ID1 ",五级,20100101\n"
		  ID1 ",,20100101\n");
	next_ok();
	num_is("grade", 2);
	next_reject("unknown code \"五级\" in 等级 (field grade)", NULL);
	next_reject("missing value in 等级 (field grade)", NULL);	/* grade is required */
	assert_int_equal(next(), EXT_EOF);
}

static void
test_code(void **state)
{
	(void) state;
	start(reg_def, REG_HEADER
		  "张三," ID1 ",女,,,1,222401,正常,,\n"
		  "张三," ID1 ",男,,,1,222401,注销,死亡,\n"
		  "张三," ID1 ",,,,1,222401,注销,迁出,\n"
		  "张三," ID1 ",男,,,1,222401,注销,其他原因,\n"
		  "张三," ID1 ",未知,,,1,222401,正常,,\n"
		  "张三," ID1 ",男,,,1,222401,作废,,\n"
		  "张三," ID1 ",男,,,1,222401,,,\n");
	next_ok();
	text_is("sex", "female");
	num_is("sex", 1);
	text_is("status", "active");
	num_is("status", 0);
	absent("cancel_reason");		/* empty: the * default does not apply */
	next_ok();
	text_is("sex", "male");
	num_is("sex", 0);
	num_is("status", 1);
	text_is("cancel_reason", "death");
	num_is("cancel_reason", 0);
	next_ok();
	absent("sex");
	text_is("cancel_reason", "moved_out");
	num_is("cancel_reason", 1);
	next_ok();
	text_is("cancel_reason", "other");	/* * default */
	num_is("cancel_reason", 2);
	next_reject("unknown code \"未知\" in 性别 (field sex)", NULL);
	next_reject("unknown code \"作废\" in 户籍状态 (field status)", NULL);
	next_reject("missing value in 户籍状态 (field status)", NULL);
	assert_int_equal(next(), EXT_EOF);
}

static void
test_default(void **state)
{
	(void) state;
	start(reg_def, REG_HEADER
		  "张三," ID1 ",女,,,1,222401,正常,,\n"
		  "张三," ID1 ",女,, \xE3\x80\x80 ,1,222401,正常,,\n"
		  "张三," ID1 ",女,,回,1,222401,正常,,\n");
	next_ok();
	text_is("ethnicity", "汉");
	next_ok();
	text_is("ethnicity", "汉");		/* trimmed to empty first */
	next_ok();
	text_is("ethnicity", "回");
}

static void
test_required_empty(void **state)
{
	(void) state;
	start(reg_def, REG_HEADER
		  "张三,,女,,,1,222401,正常,,\n"
		  "张三," ID1 ",女,,,1, ,正常,,\n"
		  "," ID1 ",,,,,222401,正常,,\n");
	next_reject("missing value in 公民身份号码 (field id_number)", NULL);
	next_reject("missing value in 行政区划代码 (field division)", NULL);
	next_ok();					/* only optional fields empty */
	absent("name");
	absent("household");
}

static void
test_invalid_utf8(void **state)
{
	(void) state;
	start(reg_def, REG_HEADER
		  "张\xFF三," ID1 ",女,,,1,222401,正常,,\n"
		  "张三," ID1 ",女,,,1,222401,正常\xE5\xB8,,\n"
		  "李四," ID1 ",女,,,1,\xC0\xAF,正常,,\n"
		  "王五," ID1 ",女,,,1,222401,正常,,\n");
	next_reject("byte sequence not valid UTF-8 at character 2 of 姓名", NULL);
	next_reject("byte sequence not valid UTF-8 at character 3 of 户籍状态", NULL);
	next_reject("byte sequence not valid UTF-8 at character 1 of 行政区划代码", NULL);	/* overlong */
	next_ok();
	text_is("name", "王五");
}

static void
test_gbk(void **state)
{
	const char *utf8 =
		"身份证号,姓名,区划,状态\r\n"
		ID1 ",张三·欧阳,延吉市,正常\r\n"
		ID2 ",李四,\"图们市,月晴镇\",注销\r\n";
	size_t		len;
	char	   *gbk = to_gbk(utf8, &len);

	(void) state;
	assert_true(len < strlen(utf8));	/* it really is GBK */
	load_def(gbk_def);
	open_data(gbk, len);
	next_ok();
	text_is("id_number", ID1);
	text_is("name", "张三\xC2\xB7欧阳");
	text_is("division", "延吉市");
	text_is("status", "active");
	next_ok();
	text_is("division", "图们市,月晴镇");
	text_is("status", "cancelled");
	assert_int_equal(next(), EXT_EOF);
	teardown(NULL);
	free(gbk);

	/* an invalid GBK byte after a valid character (张 is 2 bytes in GBK) */
	{
		const char *head = "身份证号,姓名,区划,状态\n" ID1 ",张";
		const char *tail = ",延吉市,正常\n" ID1 ",王五,延吉市,正常\n";
		size_t		hl, tl;
		char	   *h = to_gbk(head, &hl);
		char	   *t = to_gbk(tail, &tl);
		char	   *data = malloc(hl + 1 + tl);

		assert_non_null(data);
		memcpy(data, h, hl);
		data[hl] = '\xFF';
		memcpy(data + hl + 1, t, tl);
		load_def(gbk_def);
		open_data(data, hl + 1 + tl);
		next_reject("byte sequence not valid GBK at character 2 of 姓名", NULL);
		next_ok();
		text_is("name", "王五");
		teardown(NULL);
		free(data);
		free(h);
		free(t);
	}
}

/* Incomplete GBK character at the end of a field. */
static void
test_gbk_truncated_char(void **state)
{
	const char *head = "身份证号,姓名,区划,状态\n" ID1 ",赵";
	size_t		hl, tl;
	char	   *h = to_gbk(head, &hl);
	char	   *t = to_gbk(",延吉市,正常\n", &tl);
	char	   *data = malloc(hl + tl);

	(void) state;
	assert_non_null(data);
	memcpy(data, h, hl - 1);		/* drop the trail byte of 赵 */
	memcpy(data + hl - 1, t, tl);
	load_def(gbk_def);
	open_data(data, hl - 1 + tl);
	next_reject("byte sequence not valid GBK at character 1 of 姓名", NULL);
	assert_int_equal(next(), EXT_EOF);
	free(data);
	free(h);
	free(t);
}

static void
test_no_header_positions(void **state)
{
	(void) state;
	start(pos_def,
		  "张三|" ID1 "|1|222401\n"
		  "李四|" ID2 "|2|222402|extra\n"
		  "王五|" ID3 "|1\n");
	next_ok();
	assert_int_equal(fx.rec.record_no, 1);	/* no header: the first line is record 1 */
	assert_int_equal(fx.rec.line_no, 1);
	text_is("name", "张三");
	text_is("id_number", ID1);
	text_is("status", "active");
	text_is("division", "222401");
	next_ok();
	assert_int_equal(fx.rec.record_no, 2);
	text_is("status", "cancelled");
	next_reject("record has 3 fields, column 4 is missing", NULL);
	assert_int_equal(fx.rec.record_no, 3);
	assert_int_equal(next(), EXT_EOF);
}

/* ------------------------------------------------------------ positions, raw, hash */

static void
test_positions_and_raw(void **state)
{
	(void) state;
	start(reg_def,
		  REG_HEADER
		  "\n"
		  "\"张\n三\"," ID1 ",女,,,1,222401,正常,,\n"
		  "李四," ID2 ",X,,,1,222401,正常,,\n"
		  "\"王五\"x," ID3 ",女,,,1,222401,正常,,\n"
		  "赵六," ID3 ",女,,,1,222401,正常,,\"open\n");
	next_ok();
	assert_int_equal(fx.rec.record_no, 1);
	assert_int_equal(fx.rec.line_no, 3);
	assert_int_equal(fx.rec.byte_offset, strlen(REG_HEADER) + 1);
	text_is("name", "张三");		/* the embedded newline is space to `name` */
	next_reject("unknown code \"X\" in 性别", NULL);
	assert_int_equal(fx.rec.record_no, 2);
	assert_int_equal(fx.rec.line_no, 5);
	assert_int_equal(fx.rec.raw_len, strlen("李四," ID2 ",X,,,1,222401,正常,,"));
	assert_memory_equal(fx.rec.raw, "李四," ID2 ",X,,,1,222401,正常,,", fx.rec.raw_len);
	next_reject("after a closing quote", NULL);		/* the reader's reason */
	assert_int_equal(fx.rec.record_no, 3);
	assert_int_equal(fx.rec.line_no, 6);
	next_reject("unterminated", NULL);
	assert_int_equal(fx.rec.record_no, 4);
	assert_int_equal(next(), EXT_EOF);
	assert_int_equal(extract_bytes(fx.ex), extract_file_bytes(fx.ex));
}

/* gzip is undone below the extract; a truncated one is EXT_ERROR. */
static void
test_gzip(void **state)
{
	const char *plain = REG_HEADER "张三," ID1 ",女,,,1,222401,正常,,\n李四," ID2 ",男,,,1,222401,正常,,\n";
	size_t		plen = strlen(plain);
	uLongf		glen = compressBound(plen) + 64;
	unsigned char *gz = malloc(glen);
	z_stream	zs;
	CbError		err;
	char		sha[65];

	(void) state;
	assert_non_null(gz);
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *) plain;
	zs.avail_in = (uInt) plen;
	zs.next_out = gz;
	zs.avail_out = (uInt) glen;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	glen = zs.total_out;
	deflateEnd(&zs);

	load_def(reg_def);
	open_data(gz, glen);
	next_ok();
	text_is("name", "张三");
	next_ok();
	text_is("name", "李四");
	assert_int_equal(next(), EXT_EOF);
	assert_int_equal(extract_bytes(fx.ex), plen);
	assert_int_equal(extract_file_bytes(fx.ex), glen);
	assert_true(extract_sha256(fx.ex, sha));
	assert_int_equal(strlen(sha), 64);
	teardown(NULL);

	load_def(reg_def);
	open_data(gz, glen - 4);		/* cut into the trailer */
	{
		ExtStatus	st;
		int			nok = 0;

		memset(&err, 0, sizeof err);
		while ((st = extract_next(fx.ex, &fx.rec, &err)) == EXT_OK)
			nok++;
		assert_int_equal(st, EXT_ERROR);
		assert_true(nok <= 2);
		assert_non_null(strstr(err.message, "truncated"));
	}
	free(gz);
}

/* A reason quotes at most 80 (code) or 40 (others) bytes of the value, never half a
 * character: reasons are stored in PostgreSQL, which refuses invalid UTF-8. */
static void
test_reason_is_valid_utf8(void **state)
{
	char		longcode[128] = "";
	char		want[128];
	size_t		bad_at;

	(void) state;
	for (int i = 0; i < 30; i++)
		strcat(longcode, "迁");		/* 90 bytes */
	reg_with("张三", ID1, longcode, "", "", "1", "正常", "");
	assert_int_equal(next(), EXT_REJECT);
	assert_true(utf8_valid(fx.rec.reason, strlen(fx.rec.reason), &bad_at));
	memcpy(want, "unknown code \"", 14);
	memcpy(want + 14, longcode, 78);	/* 26 characters */
	strcpy(want + 14 + 78, "\" in 性别 (field sex)");
	assert_non_null(strstr(fx.rec.reason, want));
	teardown(NULL);

	reg_with("张三", "身份证号码未登记身份证号码未登记", "女", "", "", "1", "正常", "");
	assert_int_equal(next(), EXT_REJECT);
	assert_true(utf8_valid(fx.rec.reason, strlen(fx.rec.reason), &bad_at));
	assert_non_null(strstr(fx.rec.reason, "invalid ID number \"身份证号码未登记身份证号码\" in 公民身份号码"));
	teardown(NULL);

	reg_with("张三", ID1, "女", "二〇二三年一月五日零时零分零秒", "", "1", "正常", "");
	assert_int_equal(next(), EXT_REJECT);
	assert_true(utf8_valid(fx.rec.reason, strlen(fx.rec.reason), &bad_at));
	assert_non_null(strstr(fx.rec.reason, "could not parse date \"二〇二三年一月五日零时零分\" in"));
}

/* Records equal after normalisation hash equal; any canonical difference changes the hash. */
static void
test_hash(void **state)
{
	uint64_t	h[8];

	(void) state;
	start(reg_def, REG_HEADER
		  "张三," ID1 ",女,1949-12-31,,1,222401,正常,,\n"							/* 0 */
		  " 张 三 ,11010519491231002x,女,19491231,汉, 1 ,222401,正常,,other\n"		/* 1 = 0 */
		  "张三," ID1 ",女,1949-12-30,,1,222401,正常,,\n"							/* 2 date */
		  "张三," ID1 ",男,1949-12-31,,1,222401,正常,,\n"							/* 3 sex */
		  "张三," ID1 ",女,1949-12-31,,,222401,正常,,\n"							/* 4 absent */
		  "张三," ID2 ",女,1949-12-31,,1,222401,正常,,\n"							/* 5 id */
		  "张三," ID1 ",女,1949-12-31,,1,222401,正常,死亡,\n"						/* 6 reason */
		  "张四," ID1 ",女,1949-12-31,,1,222401,正常,,\n");						/* 7 name */
	for (int i = 0; i < 8; i++)
	{
		next_ok();
		h[i] = fx.rec.hash;
	}
	assert_int_equal(next(), EXT_EOF);
	assert_true(h[0] == h[1]);
	for (int i = 2; i < 8; i++)
	{
		if (h[i] == h[0])
			fail_msg("record %d hashes like record 0", i);
		for (int j = 2; j < i; j++)
			if (h[i] == h[j])
				fail_msg("records %d and %d hash alike", i, j);
	}
	teardown(NULL);

	/* the same record read again through a new Extract: the same hash */
	start(reg_def, REG_HEADER "张三," ID1 ",女,1949-12-31,,1,222401,正常,,\n");
	next_ok();
	assert_true(fx.rec.hash == h[0]);
}

/* ------------------------------------------------------------ repeated cells */

/* A person's records one after another (claims): the ID number and name mapped once and
 * taken again while the cell's bytes are the same. */
static const char claim_def[] =
	"[source]\n"
	"name = claims\n"
	"fact = medical_claim\n"
	"files = c.csv\n"
	"[fields]\n"
	"id_number = 证件号码 | idnum\n"
	"name      = 姓名 | name\n"
	"date      = 结算时间 | date\n";

#define CLAIM_HEADER "证件号码,姓名,结算时间\n"

/* Everything a record was mapped to. */
typedef struct Mapped
{
	ExtStatus	st;
	uint64_t	hash;
	uint8_t		id_status;
	bool		id_rewritten, id_present, name_present;
	int64_t		id_num, date;
	char		id[40], name[64], reason[200];
} Mapped;

static Mapped
mapped_now(ExtStatus st)
{
	Mapped		m;
	const CanonValue *id = val("id_number"), *name = val("name"), *date = val("date");

	memset(&m, 0, sizeof m);
	m.st = st;
	snprintf(m.reason, sizeof m.reason, "%s", fx.rec.reason);
	if (st != EXT_OK)
		return m;
	m.hash = fx.rec.hash;
	m.id_status = fx.rec.id_status;
	m.id_rewritten = fx.rec.id_rewritten;
	m.id_present = id->present;
	m.name_present = name->present;
	m.id_num = id->num;
	m.date = date->present ? date->num : -1;
	if (id->present)
		snprintf(m.id, sizeof m.id, "%.*s", (int) id->len, id->text);
	if (name->present)
		snprintf(m.name, sizeof m.name, "%.*s", (int) name->len, name->text);
	return m;
}

static void
test_repeated_cells(void **state)
{
	static const char *const rows[] = {
		ID1 ",张三,2023-01-05\n",
		ID1 ",张三,2023-01-06\n",					/* the same ID and name */
		"11010519491231002x,张 三,2023-01-07\n",	/* rewritten, another spelling */
		"11010519491231002x,张 三,2023-01-08\n",	/* ... again: rewritten again */
		ID2 ",张 三,2023-01-09\n",					/* the name's bytes the same */
		ID2 ",李四,2023-13-09\n",					/* a reject among them */
		ID2 ",李四,2023-01-10\n",
		"110105194912310021,李四,2023-01-11\n",		/* wrong check digit: to repair */
		"110105194912310021,李四,2023-01-12\n",
		",王五,2023-01-13\n",						/* no ID (required here) */
		",王五,2023-01-14\n",
		ID3 ",\xFF\xFE,2023-01-15\n",				/* not UTF-8 */
		ID3 ",\xFF\xFE,2023-01-16\n",				/* ... again: rejected again */
		ID3 ",赵六\xE3\x80\x80,2023-01-17\n",
		ID3 ",赵六,2023-01-18\n",					/* the same name, other bytes */
		ID3 ",,2023-01-19\n",						/* empty */
		ID3 ",,2023-01-20\n",
		ID3 ",欧阳娜娜娜娜娜娜,2023-01-21\n",		/* 24 bytes ... */
		ID3 ",欧阳娜娜丽娜娜娜,2023-01-22\n",		/* ... that differ in 12-14 only */
		ID3 ",Annie,2023-01-23\n",					/* 5 bytes ... */
		ID3 ",Anniy,2023-01-24\n",					/* ... that differ in the last only */
	};
	enum { N = sizeof rows / sizeof rows[0] };
	Mapped		all[N];
	char		file[4096];
	size_t		o;

	(void) state;
	o = (size_t) snprintf(file, sizeof file, "%s", CLAIM_HEADER);
	for (int i = 0; i < N; i++)
		o += (size_t) snprintf(file + o, sizeof file - o, "%s", rows[i]);
	start(claim_def, file);
	for (int i = 0; i < N; i++)
		all[i] = mapped_now(next());
	assert_int_equal(next(), EXT_EOF);
	teardown(NULL);

	/* each row alone, in an extract of its own: mapped the same */
	for (int i = 0; i < N; i++)
	{
		Mapped		one;

		snprintf(file, sizeof file, "%s%s", CLAIM_HEADER, rows[i]);
		start(claim_def, file);
		one = mapped_now(next());
		teardown(NULL);
		if (memcmp(&one, &all[i], sizeof one) != 0)
			fail_msg("row %d: in the file status %d id \"%s\" rewritten %d status %u name \"%s\" "
					 "hash %016llx; alone status %d id \"%s\" rewritten %d status %u name \"%s\" hash %016llx",
					 i, (int) all[i].st, all[i].id, all[i].id_rewritten, all[i].id_status, all[i].name,
					 (unsigned long long) all[i].hash, (int) one.st, one.id, one.id_rewritten,
					 one.id_status, one.name, (unsigned long long) one.hash);
	}
	/* and what they are */
	assert_string_equal(all[1].id, ID1);
	assert_false(all[1].id_rewritten);
	assert_true(all[3].id_rewritten);
	assert_string_equal(all[3].id, ID1);
	assert_string_equal(all[3].name, "张三");
	assert_string_equal(all[4].id, ID2);
	assert_false(all[4].id_rewritten);
	assert_int_equal(all[5].st, EXT_REJECT);
	assert_string_equal(all[6].name, "李四");
	assert_int_equal(all[8].id_status, all[7].id_status);
	assert_true(all[8].id_status != IDNUM_OK);
	assert_int_equal(all[10].st, EXT_REJECT);
	assert_non_null(strstr(all[10].reason, "missing value in 证件号码"));
	assert_int_equal(all[12].st, EXT_REJECT);
	assert_string_equal(all[14].name, "赵六");
	assert_true(all[14].hash != all[13].hash);	/* the dates differ */
	assert_false(all[16].name_present);
	assert_int_equal(all[16].date, all[15].date + 1);
	assert_string_equal(all[18].name, "欧阳娜娜丽娜娜娜");
	assert_string_equal(all[20].name, "Anniy");
}

/* utf8_valid character by character, for the test below */
static bool
utf8_valid_slow(const unsigned char *s, size_t n, size_t *bad_at)
{
	for (size_t i = 0; i < n;)
	{
		size_t		k = utf8_char_len(s + i, n - i);

		if (k == 0)
		{
			*bad_at = i;
			return false;
		}
		i += k;
	}
	return true;
}

/*
 * utf8_valid and its short cuts (printable ASCII, most three-byte characters): a NUL, a byte
 * above 0x7F, a control character, a two- or three-byte character or a cut-short one at every
 * place of texts of 1 to 24 bytes, against the character rule, and where it fails.
 */
static void
test_utf8_every_place(void **state)
{
	static const unsigned char odd[][3] = {{0x00}, {0x80}, {0x7F}, {0x01}, {0x1F}, {0xFF},
										   {0xC3, 0xA9}, {0xC3}, {0xE5, 0xBC}, {0xE5, 0xBC, 0xA0}};
	static const size_t oddlen[] = {1, 1, 1, 1, 1, 1, 2, 1, 2, 3};
	unsigned char s[32];

	(void) state;
	for (size_t n = 1; n <= 24; n++)
		for (size_t p = 0; p < n; p++)
			for (size_t o = 0; o < sizeof oddlen / sizeof oddlen[0]; o++)
			{
				size_t		want_at = SIZE_MAX,
							got_at = SIZE_MAX;

				for (size_t i = 0; i < n; i++)
					s[i] = (unsigned char) ('a' + i % 26);
				for (size_t j = 0; j < oddlen[o] && p + j < n; j++)
					s[p + j] = odd[o][j];
				bool		want = utf8_valid_slow(s, n, &want_at);

				if (utf8_valid((const char *) s, n, &got_at) != want || got_at != want_at)
					fail_msg("%zu bytes, odd %zu at %zu: valid %d at %zu, want %d at %zu", n, o, p,
							 !want, got_at, want, want_at);
			}
}

/*
 * utf8_valid takes most three-byte characters without utf8_char_len: every lead byte E0-EF
 * with every two following bytes, alone and between ASCII, against the character rule.
 */
static void
test_utf8_three_bytes(void **state)
{
	unsigned char s[5];
	size_t		bad_at;
	long		valid = 0;

	(void) state;
	for (int c = 0xE0; c <= 0xEF; c++)
		for (int b1 = 0; b1 < 256; b1++)
			for (int b2 = 0; b2 < 256; b2++)
			{
				bool		want;

				s[0] = (unsigned char) c;
				s[1] = (unsigned char) b1;
				s[2] = (unsigned char) b2;
				want = utf8_char_len(s, 3) == 3;
				if (utf8_valid((const char *) s, 3, NULL) != want)
					fail_msg("%02X %02X %02X: valid %d", c, b1, b2, !want);
				valid += want;
				if ((b1 & 0x3F) == 0 || b2 == 0x80)	/* inside text, and cut short */
				{
					memmove(s + 1, s, 3);
					s[0] = 'a';
					s[4] = 'b';
					assert_int_equal(utf8_valid((const char *) s, 5, &bad_at), want);
					if (!want)
						assert_int_equal(bad_at, 1);
					assert_false(utf8_valid((const char *) s, 3, &bad_at));
					assert_int_equal(bad_at, 1);
				}
			}
	/* 16 lead bytes x 64 x 64, less the overlong (E0 80-9F) and the surrogates (ED A0-BF) */
	assert_int_equal(valid, 16 * 64 * 64 - 2 * 32 * 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_header_resolution, teardown),
		cmocka_unit_test_teardown(test_missing_column, teardown),
		cmocka_unit_test_teardown(test_whole_file_errors, teardown),
		cmocka_unit_test_teardown(test_field_count_mismatch, teardown),
		cmocka_unit_test_teardown(test_trim, teardown),
		cmocka_unit_test_teardown(test_name, teardown),
		cmocka_unit_test_teardown(test_idnum, teardown),
		cmocka_unit_test_teardown(test_date, teardown),
		cmocka_unit_test_teardown(test_month_and_money, teardown),
		cmocka_unit_test_teardown(test_int, teardown),
		cmocka_unit_test_teardown(test_code_then_int, teardown),
		cmocka_unit_test_teardown(test_code, teardown),
		cmocka_unit_test_teardown(test_default, teardown),
		cmocka_unit_test_teardown(test_required_empty, teardown),
		cmocka_unit_test_teardown(test_invalid_utf8, teardown),
		cmocka_unit_test_teardown(test_gbk, teardown),
		cmocka_unit_test_teardown(test_gbk_truncated_char, teardown),
		cmocka_unit_test_teardown(test_no_header_positions, teardown),
		cmocka_unit_test_teardown(test_positions_and_raw, teardown),
		cmocka_unit_test_teardown(test_gzip, teardown),
		cmocka_unit_test_teardown(test_reason_is_valid_utf8, teardown),
		cmocka_unit_test_teardown(test_hash, teardown),
		cmocka_unit_test_teardown(test_repeated_cells, teardown),
		cmocka_unit_test(test_utf8_three_bytes),
		cmocka_unit_test(test_utf8_every_place),
	};

	return cmocka_run_group_tests_name("extract", tests, NULL, NULL);
}
