/*
 * test_date.c
 *     Unit tests for engine/date.c: day numbers, parsing of every accepted
 *     spelling, Excel serials, month parsing, ages, month arithmetic and
 *     formatting.
 *
 * Expected day numbers were computed independently with Python:
 * (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

/* Day numbers used below (Python, see header). */
#define D_2023_01_05 19362
#define D_2023_03_15 19431
#define D_1900_01_01 (-25567)
#define D_1900_02_28 (-25509)
#define D_1900_03_01 (-25508)
#define D_2000_02_29 11016
#define D_2024_02_29 19782
#define D_2023_02_28 19416
#define D_2008_02_29 13938
#define D_0001_01_01 (-719162)
#define D_9999_12_31 2932896

static Day
parse(const char *s)
{
	return date_parse(s, strlen(s));
}

static int32_t
parse_month(const char *s)
{
	return date_parse_month(s, strlen(s));
}

/* Asserts that day is y-m-d. */
static void
assert_ymd(Day day, int y, int m, int d)
{
	int yy, mm, dd;

	date_to_ymd(day, &yy, &mm, &dd);
	assert_int_equal(yy, y);
	assert_int_equal(mm, m);
	assert_int_equal(dd, d);
}

/* ------------------------------------------------------------ day numbers */

static void
test_from_ymd(void **state)
{
	(void) state;
	assert_int_equal(date_from_ymd(1970, 1, 1), 0);
	assert_int_equal(date_from_ymd(1969, 12, 31), -1);
	assert_int_equal(date_from_ymd(2023, 1, 5), D_2023_01_05);
	assert_int_equal(date_from_ymd(1900, 3, 1), D_1900_03_01);
	assert_int_equal(date_from_ymd(2000, 2, 29), D_2000_02_29);
	assert_int_equal(date_from_ymd(2024, 2, 29), D_2024_02_29);
	assert_int_equal(date_from_ymd(1600, 2, 29), -135081);
	assert_int_equal(date_from_ymd(1, 1, 1), D_0001_01_01);
	assert_int_equal(date_from_ymd(9999, 12, 31), D_9999_12_31);
}

static void
test_invalid_ymd(void **state)
{
	(void) state;
	assert_int_equal(date_from_ymd(2023, 2, 30), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 2, 29), DAY_NONE);  /* common year */
	assert_int_equal(date_from_ymd(1900, 2, 29), DAY_NONE);  /* century, not leap */
	assert_int_equal(date_from_ymd(2100, 2, 29), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 13, 1), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 0, 1), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 1, 0), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 4, 31), DAY_NONE);
	assert_int_equal(date_from_ymd(2023, 1, 32), DAY_NONE);
	assert_int_equal(date_from_ymd(0, 1, 1), DAY_NONE);
	assert_int_equal(date_from_ymd(10000, 1, 1), DAY_NONE);
	assert_false(date_valid_ymd(2023, 2, 29));
	assert_true(date_valid_ymd(2000, 2, 29));
	assert_true(date_valid_ymd(2023, 12, 31));
}

/*
 * Walks every representable day and checks that the calendar advances by
 * exactly one day each time, with month lengths and leap years worked out
 * here independently of date.c.
 */
static void
test_every_day(void **state)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 1, m = 1, d = 1;
	Day day;

	(void) state;
	for (day = D_0001_01_01; day <= D_9999_12_31; day++)
	{
		int yy, mm, dd;
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int mlen = (m == 2 && leap) ? 29 : len[m - 1];

		date_to_ymd(day, &yy, &mm, &dd);
		if (yy != y || mm != m || dd != d || date_from_ymd(y, m, d) != day)
			fail_msg("day %d: got %d-%d-%d, want %d-%d-%d", (int) day, yy, mm, dd, y, m, d);
		if (++d > mlen)
		{
			d = 1;
			if (++m > 12)
			{
				m = 1;
				y++;
			}
		}
	}
	assert_int_equal(y, 10000);
}

static void
test_to_ymd_none(void **state)
{
	int y = 7, m = 7, d = 7;

	(void) state;
	date_to_ymd(DAY_NONE, &y, &m, &d);
	assert_int_equal(y, 0);
	assert_int_equal(m, 0);
	assert_int_equal(d, 0);
	date_to_ymd(D_9999_12_31 + 1, &y, &m, &d);
	assert_int_equal(y, 0);
	date_to_ymd(D_2023_01_05, &y, NULL, NULL);
	assert_int_equal(y, 2023);
}

/* ---------------------------------------------------------------- parsing */

static void
test_parse_formats(void **state)
{
	(void) state;
	assert_int_equal(parse("20230105"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05"), D_2023_01_05);
	assert_int_equal(parse("2023-1-5"), D_2023_01_05);
	assert_int_equal(parse("2023/1/5"), D_2023_01_05);
	assert_int_equal(parse("2023/01/05"), D_2023_01_05);
	assert_int_equal(parse("2023.01.05"), D_2023_01_05);
	assert_int_equal(parse("2023.1.5"), D_2023_01_05);
	assert_int_equal(parse("2023年1月5日"), D_2023_01_05);
	assert_int_equal(parse("2023年01月05日"), D_2023_01_05);
}

static void
test_parse_trim(void **state)
{
	(void) state;
	assert_int_equal(parse("  2023-01-05  "), D_2023_01_05);
	assert_int_equal(parse("\t20230105\r\n"), D_2023_01_05);
	assert_int_equal(parse("　2023年1月5日　"), D_2023_01_05); /* U+3000 */
	assert_int_equal(parse("\xC2\xA0" "2023/1/5"), D_2023_01_05); /* U+00A0 */
	/* the length is respected: no NUL needed */
	assert_int_equal(date_parse("2023-01-05xyz", 10), D_2023_01_05);
	assert_int_equal(date_parse("2023-01-051", 10), D_2023_01_05);
}

static void
test_parse_timestamps(void **state)
{
	(void) state;
	assert_int_equal(parse("2023-01-05 13:45:00"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05T13:45:00"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05T13:45:00Z"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05T13:45:00+08:00"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05T23:45:00-0500"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05 13:45:00.123456"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05 13:45"), D_2023_01_05);
	assert_int_equal(parse("2023/1/5 9:05"), D_2023_01_05);
	assert_int_equal(parse("2023-01-05 00:00:00 "), D_2023_01_05);
	assert_int_equal(parse("20230105 13:45:00"), D_2023_01_05);

	assert_int_equal(parse("2023-01-05 24:00:00"), DAY_NONE);
	assert_int_equal(parse("2023-01-05 13:60"), DAY_NONE);
	assert_int_equal(parse("2023-01-05 13"), DAY_NONE);
	assert_int_equal(parse("2023-01-05T"), DAY_NONE);
	assert_int_equal(parse("2023-01-05 13:45:00."), DAY_NONE);
	assert_int_equal(parse("2023-01-05 13:45:00+8"), DAY_NONE);
	assert_int_equal(parse("2023-02-30 13:45:00"), DAY_NONE);
}

/*
 * YYYY-MM-DD, YYYY-MM-DD HH:MM:SS and YYYYMMDD are read by a short path; the same text with a
 * space before and after it goes the general way.  Both must agree on every year, month, day
 * and time around the edges, and on the spellings next to these that only the general way
 * reads.
 */
static void
test_parse_usual_as_general(void **state)
{
	/* with the bytes next to the digits ('/' and ':'), which the short path's eight-at-a-time
	 * digit test must refuse like any other */
	static const char *const years[] = {"0000", "0001", "1900", "1999", "2000", "2024", "9999", "20x4",
										"20/4", "2:24"};
	static const char *const times[] = {"", " 00:00:00", " 23:59:60", " 24:00:00", " 23:60:00",
										" 23:59:61", " 9:05:00", "T12:00:00", " 12:00:0x", " 12-00-00",
										" 12:0/:00", " 1::00:00", " 12:00:0:", " 12;00:00"};
	static const char *const others[] = {"2024/12/05", "2024.12.05", "2024-1-05", "2024-12-5",
										 "2024-12-05 12:00", "2024-12-05Z", "２０２４-12-05",
										 "2024-12-05 12:00:00Z", "2024120", "202412055", "2024-1205",
										 "2024-12-0/", "2024-1:-05", "2024-12+05", "2024\xB0" "12-05",
										 "2024-12-05\xA0" "12:00:00"};
	char		text[64], padded[80];
	int			n = 0;

	(void) state;
	for (size_t y = 0; y < sizeof years / sizeof years[0]; y++)
		for (int m = 0; m <= 13; m++)
			for (int d = 0; d <= 32; d++)
				for (size_t t = 0; t < sizeof times / sizeof times[0]; t++)
					for (int compact = 0; compact <= 1; compact++)
					{
						if (compact)
							snprintf(text, sizeof text, "%s%02d%02d%s", years[y], m, d, times[t]);
						else
							snprintf(text, sizeof text, "%s-%02d-%02d%s", years[y], m, d, times[t]);
						snprintf(padded, sizeof padded, " %s ", text);
						if (date_parse(text, strlen(text)) != date_parse(padded, strlen(padded)))
							fail_msg("\"%s\": %d, the general way %d", text,
									 (int) date_parse(text, strlen(text)),
									 (int) date_parse(padded, strlen(padded)));
						n += date_parse(text, strlen(text)) != DAY_NONE;
					}
	assert_true(n > 1000);		/* most of these are dates */
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
	{
		snprintf(padded, sizeof padded, " %s ", others[i]);
		assert_int_equal(date_parse(others[i], strlen(others[i])), date_parse(padded, strlen(padded)));
	}
	assert_int_equal(parse("2024-12-05"), parse("2024/12/05"));
	assert_int_equal(parse("2024-02-29 23:59:60"), parse("20240229"));
	assert_int_equal(parse("2023-02-29"), DAY_NONE);
}

static void
test_parse_invalid(void **state)
{
	(void) state;
	assert_int_equal(date_parse(NULL, 0), DAY_NONE);
	assert_int_equal(parse(""), DAY_NONE);
	assert_int_equal(parse("   "), DAY_NONE);
	assert_int_equal(parse("2023-02-30"), DAY_NONE);
	assert_int_equal(parse("2023-13-01"), DAY_NONE);
	assert_int_equal(parse("2023-00-10"), DAY_NONE);
	assert_int_equal(parse("2023-01-00"), DAY_NONE);
	assert_int_equal(parse("20230230"), DAY_NONE);
	assert_int_equal(parse("20231301"), DAY_NONE);
	assert_int_equal(parse("2023年2月30日"), DAY_NONE);
	assert_int_equal(parse("2023年1月5"), DAY_NONE);
	assert_int_equal(parse("2023/01-05"), DAY_NONE);  /* mixed separators */
	assert_int_equal(parse("23-01-05"), DAY_NONE);
	assert_int_equal(parse("02023-01-05"), DAY_NONE);
	assert_int_equal(parse("2023-001-05"), DAY_NONE);
	assert_int_equal(parse("2023-01-005"), DAY_NONE);
	assert_int_equal(parse("05/01/2023"), DAY_NONE);
	assert_int_equal(parse("2023-01-05x"), DAY_NONE);
	assert_int_equal(parse("2023-01"), DAY_NONE);
	assert_int_equal(parse("2023 01 05"), DAY_NONE);
	assert_int_equal(parse("abc"), DAY_NONE);
	assert_int_equal(parse("-1"), DAY_NONE);
	assert_int_equal(parse("1234567"), DAY_NONE);    /* 7 digits: neither */
	assert_int_equal(parse("202301051"), DAY_NONE);  /* 9 digits */
}

static void
test_parse_leap_years(void **state)
{
	(void) state;
	assert_int_equal(parse("2000-02-29"), D_2000_02_29);
	assert_int_equal(parse("20240229"), D_2024_02_29);
	assert_int_equal(parse("1900-02-29"), DAY_NONE);
	assert_int_equal(parse("2100-02-29"), DAY_NONE);
	assert_int_equal(parse("2023-02-29"), DAY_NONE);
	assert_int_equal(parse("2023-02-28"), D_2023_02_28);
}

static void
test_parse_excel(void **state)
{
	(void) state;
	assert_int_equal(parse("1"), D_1900_01_01);
	assert_int_equal(parse("59"), D_1900_02_28);
	assert_int_equal(parse("60"), DAY_NONE); /* Lotus's 1900-02-29 */
	assert_int_equal(parse("61"), D_1900_03_01);
	assert_int_equal(parse("100"), -25469);  /* 1900-04-09 */
	assert_int_equal(parse("45000"), D_2023_03_15);
	assert_int_equal(parse("45000.75"), D_2023_03_15);
	assert_int_equal(parse(" 45000 "), D_2023_03_15);
	assert_int_equal(parse("99999"), 74430); /* 2173-10-13 */
	assert_int_equal(parse("2023"), -23546); /* 4 digits alone: serial, 1905-07-15 */
	assert_int_equal(parse("0"), DAY_NONE);
	assert_int_equal(parse("0.5"), DAY_NONE);
	assert_int_equal(parse("00000"), DAY_NONE);
	assert_int_equal(parse("100000"), DAY_NONE);  /* 6 integer digits */
	assert_int_equal(parse("45000."), DAY_NONE);
	assert_int_equal(parse(".5"), DAY_NONE);
	assert_int_equal(parse("45000.5.5"), DAY_NONE);
	assert_int_equal(parse("45000,5"), DAY_NONE);
	assert_int_equal(parse("-45000"), DAY_NONE);
	/* 8 digits are YYYYMMDD, never a serial */
	assert_int_equal(parse("20230105"), D_2023_01_05);
	assert_int_equal(parse("45000000"), DAY_NONE);
}

/* ----------------------------------------------------------------- months */

static void
test_parse_month(void **state)
{
	const int32_t jan = 2023 * 12;

	(void) state;
	assert_int_equal(parse_month("202301"), jan);
	assert_int_equal(parse_month("2023-01"), jan);
	assert_int_equal(parse_month("2023/1"), jan);
	assert_int_equal(parse_month("2023.01"), jan);
	assert_int_equal(parse_month("2023年1月"), jan);
	assert_int_equal(parse_month("2023年01月份"), jan);
	assert_int_equal(parse_month(" 2023-01 "), jan);
	assert_int_equal(parse_month("2023-01-15"), jan);
	assert_int_equal(parse_month("20230131"), jan);
	assert_int_equal(parse_month("2023年1月5日"), jan);
	assert_int_equal(parse_month("2023-1-31 08:00"), jan);
	assert_int_equal(parse_month("202312"), 2023 * 12 + 11);
	assert_int_equal(parse_month("2024-02-29"), 2024 * 12 + 1);

	assert_int_equal(date_parse_month(NULL, 0), -1);
	assert_int_equal(parse_month(""), -1);
	assert_int_equal(parse_month("202300"), -1);
	assert_int_equal(parse_month("202313"), -1);
	assert_int_equal(parse_month("20230a"), -1);
	assert_int_equal(parse_month("2023/1"), jan);	/* six bytes, not six digits */
	assert_int_equal(parse_month("2023-13"), -1);
	assert_int_equal(parse_month("2023-0"), -1);
	assert_int_equal(parse_month("2023-"), -1);
	assert_int_equal(parse_month("2023年1"), -1);
	assert_int_equal(parse_month("2023"), -1);
	assert_int_equal(parse_month("45000"), -1);  /* no Excel serials */
	assert_int_equal(parse_month("2023-02-30"), -1);
	assert_int_equal(parse_month("2023-001"), -1);
	assert_int_equal(parse_month("abc"), -1);
}

static void
test_month_of_and_format(void **state)
{
	char out[8];

	(void) state;
	assert_int_equal(date_month_of(D_2023_01_05), 2023 * 12);
	assert_int_equal(date_month_of(-1), 1969 * 12 + 11);
	assert_int_equal(date_month_of(DAY_NONE), -1);

	date_format_month(2023 * 12, out);
	assert_string_equal(out, "2023-01");
	date_format_month(2023 * 12 + 11, out);
	assert_string_equal(out, "2023-12");
	date_format_month(12, out);
	assert_string_equal(out, "0001-01");
	date_format_month(-1, out);
	assert_string_equal(out, "");
	date_format_month(10000 * 12, out);
	assert_string_equal(out, "");
}

/* ------------------------------------------------------------------- ages */

static void
test_age(void **state)
{
	Day birth = date_from_ymd(2007, 6, 15);

	(void) state;
	assert_int_equal(date_age(birth, date_from_ymd(2023, 6, 14)), 15);
	assert_int_equal(date_age(birth, date_from_ymd(2023, 6, 15)), 16); /* 16th birthday */
	assert_int_equal(date_age(birth, date_from_ymd(2023, 6, 16)), 16);
	assert_int_equal(date_age(birth, date_from_ymd(2023, 5, 31)), 15);
	assert_int_equal(date_age(birth, date_from_ymd(2023, 12, 31)), 16);
	assert_int_equal(date_age(birth, birth), 0);
	assert_int_equal(date_age(birth, birth + 1), 0);
	assert_int_equal(date_age(birth, birth - 1), -1);
	assert_int_equal(date_age(DAY_NONE, birth), -1);
	assert_int_equal(date_age(birth, DAY_NONE), -1);
	assert_int_equal(date_age(date_from_ymd(1949, 12, 31), date_from_ymd(2023, 1, 1)), 73);
}

static void
test_age_leap_birthday(void **state)
{
	(void) state;
	/* born 2008-02-29; 2023 is a common year */
	assert_int_equal(date_age(D_2008_02_29, date_from_ymd(2023, 2, 28)), 14);
	assert_int_equal(date_age(D_2008_02_29, date_from_ymd(2023, 3, 1)), 15);
	/* 2024 is a leap year */
	assert_int_equal(date_age(D_2008_02_29, date_from_ymd(2024, 2, 28)), 15);
	assert_int_equal(date_age(D_2008_02_29, D_2024_02_29), 16);
	assert_int_equal(date_age(D_2000_02_29, date_from_ymd(2016, 2, 29)), 16);
	assert_int_equal(date_age(D_2000_02_29, date_from_ymd(2017, 2, 28)), 16);
	assert_int_equal(date_age(D_2000_02_29, date_from_ymd(2017, 3, 1)), 17);
}

/* ------------------------------------------------------------ add months */

static void
test_add_months(void **state)
{
	(void) state;
	assert_ymd(date_add_months(date_from_ymd(2023, 1, 31), 1), 2023, 2, 28);
	assert_ymd(date_add_months(date_from_ymd(2024, 1, 31), 1), 2024, 2, 29);
	assert_ymd(date_add_months(date_from_ymd(2023, 3, 31), -1), 2023, 2, 28);
	assert_ymd(date_add_months(date_from_ymd(2023, 5, 31), 1), 2023, 6, 30);
	assert_ymd(date_add_months(date_from_ymd(2023, 12, 31), 2), 2024, 2, 29);
	assert_ymd(date_add_months(date_from_ymd(2023, 1, 15), 12), 2024, 1, 15);
	assert_ymd(date_add_months(date_from_ymd(2023, 1, 15), -13), 2021, 12, 15);
	assert_ymd(date_add_months(date_from_ymd(2023, 11, 30), 3), 2024, 2, 29);
	assert_ymd(date_add_months(D_2024_02_29, 12), 2025, 2, 28);
	assert_ymd(date_add_months(D_2024_02_29, 48), 2028, 2, 29);
	assert_int_equal(date_add_months(D_2023_01_05, 0), D_2023_01_05);
	assert_int_equal(date_add_months(DAY_NONE, 1), DAY_NONE);
	assert_int_equal(date_add_months(D_9999_12_31, 1), DAY_NONE);
	assert_int_equal(date_add_months(D_0001_01_01, -1), DAY_NONE);
	assert_int_equal(date_add_months(D_2023_01_05, -24276), DAY_NONE);
	assert_int_equal(date_add_months(D_2023_01_05, 2147483647), DAY_NONE);
	assert_int_equal(date_add_months(D_2023_01_05, -2147483647 - 1), DAY_NONE);
}

/* ------------------------------------------------------------- formatting */

static void
test_format(void **state)
{
	char out[11];
	Day day;

	(void) state;
	date_format(D_2023_01_05, out);
	assert_string_equal(out, "2023-01-05");
	date_format(0, out);
	assert_string_equal(out, "1970-01-01");
	date_format(D_0001_01_01, out);
	assert_string_equal(out, "0001-01-01");
	date_format(D_9999_12_31, out);
	assert_string_equal(out, "9999-12-31");
	date_format(DAY_NONE, out);
	assert_string_equal(out, "");
	date_format(D_9999_12_31 + 1, out);
	assert_string_equal(out, "");

	/* format and parse are inverse over a wide range */
	for (day = -40000; day <= 60000; day += 7)
	{
		date_format(day, out);
		assert_int_equal(parse(out), day);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_ymd),
		cmocka_unit_test(test_invalid_ymd),
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_to_ymd_none),
		cmocka_unit_test(test_parse_formats),
		cmocka_unit_test(test_parse_trim),
		cmocka_unit_test(test_parse_timestamps),
		cmocka_unit_test(test_parse_usual_as_general),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_leap_years),
		cmocka_unit_test(test_parse_excel),
		cmocka_unit_test(test_parse_month),
		cmocka_unit_test(test_month_of_and_format),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_age_leap_birthday),
		cmocka_unit_test(test_add_months),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("date", tests, NULL, NULL);
}
