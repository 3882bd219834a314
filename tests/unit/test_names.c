/*
 * test_names.c
 *     Unit tests for engine/names.c: the name normaliser (NFKC, spaces, middle dots,
 *     traditional and variant characters), pinyin, Jaro-Winkler and address parts.
 *
 * Real cases from agency extracts: 劉國明 / 刘国明, full-width letters and ideographic
 * spaces, a Uyghur name written with five different middle dots, compatibility ideographs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "names.h"

static NameNorm *nn;

static int
setup(void **state)
{
	CbError		err;

	(void) state;
	nn = names_open("hk2s.json", &err);
	if (nn == NULL)
		fail_msg("names_open: %s", err.message);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	names_close(nn);
	return 0;
}

static const char *
norm(const char *s)
{
	static char out[NAMES_MAX];

	assert_true(names_normalise(nn, s, strlen(s), out, sizeof out) >= 0);
	return out;
}

static void
test_traditional(void **state)
{
	(void) state;
	assert_string_equal(norm("劉國明"), "刘国明");
	assert_string_equal(norm("刘国明"), "刘国明");
	assert_string_equal(norm("鄭秀英"), "郑秀英");
	assert_string_equal(norm("趙麗華"), "赵丽华");
	assert_string_equal(norm("張建國"), "张建国");
	assert_string_equal(norm("韓順子"), "韩顺子");
	assert_string_equal(norm("盧鳳蘭"), "卢凤兰");
	assert_string_equal(norm("嚴東輝"), "严东辉");
	/* variant forms that OpenCC's HK table maps as well */
	assert_string_equal(norm("衞"), "卫");
	assert_string_equal(norm("峯"), "峰");
	/* simplified names stay as they are */
	assert_string_equal(norm("金哲洙"), "金哲洙");
	assert_string_equal(norm("朴英姬"), "朴英姬");
}

static void
test_width_and_spaces(void **state)
{
	(void) state;
	/* ideographic space, ASCII spaces and a tab inside, no-break space around */
	assert_string_equal(norm("金\xE3\x80\x80哲 洙"), "金哲洙");
	assert_string_equal(norm(" 李\t英 姬\xC2\xA0"), "李英姬");
	/* full-width Latin letters and digits become ASCII, letters upper case */
	assert_string_equal(norm("\xEF\xBC\xAC\xEF\xBD\x89 \xEF\xBC\xAD\xEF\xBD\x89\xEF\xBD\x8E\xEF\xBD\x87"), "LIMING");
	assert_string_equal(norm("王\xEF\xBC\x92"), "王2");
	/* zero-width space and soft hyphen are invisible */
	assert_string_equal(norm("金\xE2\x80\x8B英\xC2\xAD姬"), "金英姬");
	/* a CJK compatibility ideograph (U+F9DC) is the unified one (U+9686 隆) */
	assert_string_equal(norm("金\xEF\xA7\x9C"), "金隆");
}

static void
test_middle_dots(void **state)
{
	static const char *const spellings[] = {
		"阿依古丽·买买提",				/* U+00B7 */
		"阿依古丽•买买提",				/* U+2022 */
		"阿依古丽‧买买提",				/* U+2027 */
		"阿依古丽・买买提",				/* U+30FB */
		"阿依古丽\xEF\xBD\xA5买买提",	/* U+FF65 half-width katakana middle dot */
		"阿依古丽.买买提",
		"阿依古丽．买买提",				/* U+FF0E */
		"阿依古丽 · 买买提",
		"阿依古丽··买买提",				/* doubled */
		"·阿依古丽·买买提·",			/* at the ends */
		"阿依古麗·買買提",				/* and in traditional characters */
	};

	(void) state;
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
		assert_string_equal(norm(spellings[i]), "阿依古丽·买买提");
}

static void
test_bad_input(void **state)
{
	char		out[NAMES_MAX];
	char		big[NAMES_MAX * 3];

	(void) state;
	assert_int_equal(names_normalise(nn, "\xFF\xFE", 2, out, sizeof out), -1);
	memset(big, 'A', sizeof big);
	assert_int_equal(names_normalise(nn, big, sizeof big, out, sizeof out), -1);
	assert_int_equal(names_normalise(nn, "", 0, out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void
test_pinyin(void **state)
{
	char		a[64],
				b[64];

	(void) state;
	assert_int_equal(names_pinyin(nn, "刘国明", a, sizeof a), 10);
	assert_string_equal(a, "liuguoming");
	/* 哲 and its variant 喆 sound alike: the pinyin level links them */
	names_pinyin(nn, norm("金哲洙"), a, sizeof a);
	names_pinyin(nn, norm("金喆洙"), b, sizeof b);
	assert_string_equal(a, b);
	names_pinyin(nn, "阿依古丽·买买提", a, sizeof a);
	assert_string_equal(a, "ayigulimaimaiti");
	names_pinyin(nn, "LIMING", a, sizeof a);
	assert_string_equal(a, "liming");
	assert_int_equal(names_pinyin(nn, "刘国明", a, 4), -1);
}

static void
test_jaro_winkler(void **state)
{
	(void) state;
	assert_true(names_jaro_winkler("金哲洙", "金哲洙") == 1.0);
	assert_true(names_jaro_winkler("", "金哲洙") == 0.0);
	assert_true(names_jaro_winkler("金哲洙", "李英姬") == 0.0);
	/* the textbook value */
	assert_true(fabs(names_jaro_winkler("MARTHA", "MARHTA") - 0.9611) < 0.0001);
	/* one character of three differs, same surname: 0.80 */
	assert_true(fabs(names_jaro_winkler("金哲洙", "金英洙") - 0.80) < 0.001);
	assert_true(names_jaro_winkler("金哲洙", "金英洙") < names_jaro_winkler("金哲洙", "金哲"));
}

static void
test_address_parts(void **state)
{
	AddressParts a,
				b;

	(void) state;
	names_address_parts("延吉市河南街道新丰社区白川街631号8-1-301", &a);
	names_address_parts("延吉市河南街道新丰社区", &b);
	assert_true(a.township != 0 && a.village != 0);
	assert_true(a.township == b.township && a.village == b.village);
	/* the same village name in another township is another village */
	names_address_parts("延吉市北山街道新丰社区", &b);
	assert_true(a.township != b.township && a.village != b.village);
	/* the province and county prefix does not matter */
	names_address_parts("吉林省延边朝鲜族自治州延吉市河南街道新丰社区白川街1号", &b);
	assert_true(a.township == b.township && a.village == b.village);
	/* towns and villages */
	names_address_parts("延吉市依兰镇英城村2组45号", &a);
	names_address_parts("依兰镇英城村", &b);
	assert_true(a.township != 0 && a.township == b.township && a.village == b.village);
	/* 镇 inside a county name is not a town */
	names_address_parts("吉林省镇赉县坦途镇东风村", &a);
	names_address_parts("坦途镇东风村3组", &b);
	assert_true(a.township == b.township && a.village == b.village);
	/* no markers, no parts */
	names_address_parts("延吉市老年公寓", &a);
	assert_true(a.township == 0 && a.village == 0 && a.local == 0 && a.detail);
	assert_true(names_hash("") != 0);

	/* detail: a street and number after the village (or the township), or not */
	names_address_parts("延吉市河南街道新丰社区白川街631号8-1-301", &a);
	assert_true(a.detail);
	names_address_parts("延吉市河南街道新丰社区", &b);
	assert_false(b.detail);
	names_address_parts("延吉市河南街道", &b);
	assert_false(b.detail);
	names_address_parts("延吉市公园街道延吉市老年公寓", &b);
	assert_true(b.township != 0 && b.village == 0 && b.detail);
	/* the address from the township on: equal with or without a province and city prefix */
	names_address_parts("吉林省延边朝鲜族自治州延吉市河南街道新丰社区白川街631号8-1-301", &b);
	assert_true(a.local != 0 && a.local == b.local);
	names_address_parts("河南街道新丰社区白川街631号8-1-301", &b);
	assert_true(a.local == b.local);
	names_address_parts("延吉市河南街道新丰社区白川街631号8-1-302", &b);
	assert_true(a.local != b.local);
}

static void
test_open_fails_clearly(void **state)
{
	CbError		err;

	(void) state;
	assert_null(names_open("no-such-config.json", &err));
	assert_non_null(strstr(err.message, "no-such-config.json"));
	assert_non_null(strstr(err.hint, "/usr/share/opencc"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traditional),
		cmocka_unit_test(test_width_and_spaces),
		cmocka_unit_test(test_middle_dots),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_pinyin),
		cmocka_unit_test(test_jaro_winkler),
		cmocka_unit_test(test_address_parts),
		cmocka_unit_test(test_open_fails_clearly),
	};

	return cmocka_run_group_tests_name("names", tests, setup, teardown);
}
