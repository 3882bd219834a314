/*
 * test_idnum.c
 *     Unit tests for engine/idnum.c: normalisation, validation, 15-digit
 *     upgrade, check digits, person keys, birth date and sex.
 *
 * Expected check digits were computed independently of the code under test
 * (a Python one-liner applying the MOD 11-2 weights), and expected day
 * numbers with Python's datetime.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "date.h"
#include "idnum.h"

/* Normalises the NUL-terminated s into out and returns the status. */
static IdnumStatus
norm(const char *s, char out[19])
{
	memset(out, '#', 19);
	return idnum_normalise(s, strlen(s), out);
}

/* Asserts that s normalises to IDNUM_OK and to the 18 characters want. */
static void
assert_ok(const char *s, const char *want)
{
	char out[19];

	assert_int_equal(norm(s, out), IDNUM_OK);
	assert_string_equal(out, want);
}

/* Asserts that s normalises to status. */
static void
assert_status(const char *s, IdnumStatus status)
{
	char out[19];

	assert_int_equal(norm(s, out), status);
	assert_true(memchr(out, '\0', 19) != NULL);
}

/* ------------------------------------------------------------ valid forms */

static void
test_valid_x_check_digit(void **state)
{
	(void) state;
	assert_ok("11010519491231002X", "11010519491231002X");
	assert_ok("44030419900307123X", "44030419900307123X");
}

static void
test_valid_digit_check_digit(void **state)
{
	(void) state;
	assert_ok("222401198512030412", "222401198512030412");
	assert_ok("320102199901010016", "320102199901010016");
	assert_ok("530102198001010015", "530102198001010015");
}

static void
test_lower_case_x(void **state)
{
	(void) state;
	assert_ok("11010519491231002x", "11010519491231002X");
}

static void
test_full_width(void **state)
{
	(void) state;
	/* full-width digits and full-width capital X (U+FF38) */
	assert_ok("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X");
	/* full-width small x (U+FF58) */
	assert_ok("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X");
	/* mixed ASCII and full-width */
	assert_ok("2224０１1985１２０３0412", "222401198512030412");
}

static void
test_spaces(void **state)
{
	(void) state;
	assert_ok("  222401198512030412 ", "222401198512030412");
	assert_ok("\t222401198512030412\r\n", "222401198512030412");
	/* U+3000 ideographic space around and inside */
	assert_ok("　11010519491231002X　", "11010519491231002X");
	assert_ok("110105　19491231　002X", "11010519491231002X");
	/* inner ASCII spaces, as in "110105 19491231 002X" */
	assert_ok("110105 19491231 002X", "11010519491231002X");
	assert_ok("1101 0519 4912 3100 2x", "11010519491231002X");
	/* no-break space */
	assert_ok("\xC2\xA0" "222401198512030412", "222401198512030412");
}

static void
test_length_argument_respected(void **state)
{
	char out[19];

	(void) state;
	/* only the first 18 bytes are read; the rest is not even looked at */
	assert_int_equal(idnum_normalise("11010519491231002Xgarbage", 18, out), IDNUM_OK);
	assert_string_equal(out, "11010519491231002X");
}

/* -------------------------------------------------------- 15-digit numbers */

static void
test_upgrade_15(void **state)
{
	(void) state;
	assert_ok("130503670401001", "130503196704010016");
	assert_ok("222401751130512", "222401197511305125");
	assert_ok("440301991231002", "440301199912310024");
	assert_ok(" 130503 670401 001 ", "130503196704010016");
	assert_ok("１３０５０３６７０４０１００１", "130503196704010016");
}

static void
test_upgrade_15_invalid(void **state)
{
	char out[19];

	(void) state;
	/* 1975-02-30 */
	assert_int_equal(norm("222401750230512", out), IDNUM_BAD_DATE);
	assert_string_equal(out, "222401197502305123");
	/* 1900-02-29: 1900 is not a leap year */
	assert_status("222401000229512", IDNUM_BAD_DATE);
	/* no check digit in a 15-digit number, so no X */
	assert_status("13050367040100X", IDNUM_BAD_CHAR);
	assert_status("13050367040100x", IDNUM_BAD_CHAR);
	/* bad region */
	assert_status("000000670401001", IDNUM_BAD_REGION);
}

/* ----------------------------------------------------------- check digits */

static void
test_wrong_check_digit(void **state)
{
	char out[19];

	(void) state;
	assert_int_equal(norm("222401198512030413", out), IDNUM_BAD_CHECK);
	/* out holds the normalised number for a later repair */
	assert_string_equal(out, "222401198512030413");
	assert_int_equal(norm("110105194912310020", out), IDNUM_BAD_CHECK);
	assert_string_equal(out, "110105194912310020");
	assert_int_equal(norm("２２２４０１１９８５１２０３０４１Ｘ", out), IDNUM_BAD_CHECK);
	assert_string_equal(out, "22240119851203041X");
	/* a digit where X belongs */
	assert_int_equal(norm("110105194912310021", out), IDNUM_BAD_CHECK);
	/* two transposed digits */
	assert_int_equal(norm("222401198512030142", out), IDNUM_BAD_CHECK);
}

static void
test_check_digit_function(void **state)
{
	(void) state;
	assert_int_equal(idnum_check_digit("11010519491231002"), 'X');
	assert_int_equal(idnum_check_digit("22240119851203041"), '2');
	assert_int_equal(idnum_check_digit("13050319670401001"), '6');
	assert_int_equal(idnum_check_digit("32010219990101001"), '6');
	assert_int_equal(idnum_check_digit("53010219800101001"), '5');
	assert_int_equal(idnum_check_digit("99240119851203041"), '0');
	assert_int_equal(idnum_check_digit("71000019851203041"), '9');
	assert_int_equal(idnum_check_digit("2224011985120304X"), '\0');
}

/* ------------------------------------------------------------ birth dates */

static void
test_bad_dates(void **state)
{
	(void) state;
	/* all of these carry a correct check digit */
	assert_status("222401198502301231", IDNUM_BAD_DATE); /* Feb 30 */
	assert_status("22240119851301123X", IDNUM_BAD_DATE); /* month 13 */
	assert_status("222401198501001237", IDNUM_BAD_DATE); /* day 0 */
	assert_status("222401202302291234", IDNUM_BAD_DATE); /* Feb 29, 2023 */
	assert_status("222401190002290023", IDNUM_BAD_DATE); /* Feb 29, 1900 */
	assert_status("222401187912311236", IDNUM_BAD_DATE); /* before 1880 */
	assert_status("222401210101011232", IDNUM_BAD_DATE); /* after 2100 */
	/* a bad date is reported before a bad check digit */
	assert_status("222401198502301230", IDNUM_BAD_DATE);
}

static void
test_good_dates(void **state)
{
	(void) state;
	assert_ok("22240120000229002X", "22240120000229002X"); /* Feb 29, 2000 */
	assert_ok("222401202402291231", "222401202402291231"); /* Feb 29, 2024 */
	assert_ok("222401188001011237", "222401188001011237"); /* 1880 */
	assert_ok("222401210012311233", "222401210012311233"); /* 2100 */
}

/* ----------------------------------------------------------------- region */

static void
test_region(void **state)
{
	(void) state;
	assert_status("002401198512030411", IDNUM_BAD_REGION);
	assert_status("012401198512030413", IDNUM_BAD_REGION);
	assert_status("192401198512030411", IDNUM_BAD_REGION);
	assert_status("722401198512030410", IDNUM_BAD_REGION);
	assert_status("992401198512030410", IDNUM_BAD_REGION);
	assert_ok("910000198512030416", "910000198512030416");
	assert_ok("830000198512030416", "830000198512030416");
	assert_ok("820000198512030414", "820000198512030414");
	assert_ok("710000198512030419", "710000198512030419");
	assert_ok("650000198512030412", "650000198512030412");
}

/* ------------------------------------------------------ malformed numbers */

static void
test_bad_length(void **state)
{
	(void) state;
	assert_status("1234", IDNUM_BAD_LENGTH);
	assert_status("2224011985120304", IDNUM_BAD_LENGTH);     /* 16 */
	assert_status("22240119851203041", IDNUM_BAD_LENGTH);    /* 17 */
	assert_status("2224011985120304120", IDNUM_BAD_LENGTH);  /* 19 */
	assert_status("13050367040100", IDNUM_BAD_LENGTH);       /* 14 */
	assert_status("2224011985120304122224011985120304", IDNUM_BAD_LENGTH);
}

static void
test_bad_char(void **state)
{
	(void) state;
	assert_status("22240119851203041A", IDNUM_BAD_CHAR);
	assert_status("X22401198512030412", IDNUM_BAD_CHAR); /* X not last */
	assert_status("2224011985120304X2", IDNUM_BAD_CHAR);
	assert_status("abc", IDNUM_BAD_CHAR);
	assert_status("222401-19851203-0412", IDNUM_BAD_CHAR);
	assert_status("22240119851203041\xff", IDNUM_BAD_CHAR); /* invalid UTF-8 */
	assert_status("22240119851203041\xEF\xBC", IDNUM_BAD_CHAR); /* truncated */
	assert_status("22240119851203041Ａ", IDNUM_BAD_CHAR); /* full-width A */
	assert_status("身份证222401198512030412", IDNUM_BAD_CHAR);
}

static void
test_empty(void **state)
{
	char out[19];

	(void) state;
	assert_int_equal(idnum_normalise(NULL, 0, out), IDNUM_EMPTY);
	assert_string_equal(out, "");
	assert_int_equal(idnum_normalise("222401198512030412", 0, out), IDNUM_EMPTY);
	assert_status("", IDNUM_EMPTY);
	assert_status("   ", IDNUM_EMPTY);
	assert_status("　　", IDNUM_EMPTY);
	assert_status("\t\r\n", IDNUM_EMPTY);
}

static void
test_is_valid(void **state)
{
	(void) state;
	assert_true(idnum_is_valid("11010519491231002X"));
	assert_true(idnum_is_valid("11010519491231002x"));
	assert_true(idnum_is_valid("130503670401001"));
	assert_false(idnum_is_valid("110105194912310020"));
	assert_false(idnum_is_valid(""));
	assert_false(idnum_is_valid(NULL));
}

static void
test_status_text(void **state)
{
	(void) state;
	assert_string_equal(idnum_status_text(IDNUM_BAD_CHECK), "wrong check digit");
	assert_non_null(idnum_status_text(IDNUM_OK));
	assert_non_null(idnum_status_text(IDNUM_EMPTY));
	assert_non_null(idnum_status_text(IDNUM_BAD_LENGTH));
	assert_non_null(idnum_status_text(IDNUM_BAD_CHAR));
	assert_non_null(idnum_status_text(IDNUM_BAD_DATE));
	assert_non_null(idnum_status_text(IDNUM_BAD_REGION));
	assert_string_equal(idnum_status_text((IdnumStatus) 99), "unknown status");
}

/* -------------------------------------------------------------- keys etc. */

static void
test_key_round_trip(void **state)
{
	char out[19];
	static const char *ids[] = {
		"11010519491231002X", "222401198512030412", "130503196704010016",
		"910000198512030416", "22240120000229002X",
	};
	size_t i;

	(void) state;
	assert_true(idnum_key("11010519491231002X") == UINT64_C(11010519491231002));
	assert_true(idnum_key("222401198512030412") == UINT64_C(22240119851203041));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
	{
		idnum_format(idnum_key(ids[i]), out);
		assert_string_equal(out, ids[i]);
	}
	idnum_format(UINT64_C(11010519491231002), out);
	assert_string_equal(out, "11010519491231002X");
	/* zero-padded to 17 digits */
	idnum_format(UINT64_C(1), out);
	assert_int_equal(strlen(out), 18);
	assert_memory_equal(out, "00000000000000001", 17);
}

static void
test_key_none(void **state)
{
	char out[19];

	(void) state;
	assert_true(idnum_key("2224011985120304X2") == PERSON_KEY_NONE);
	assert_true(idnum_key("                  ") == PERSON_KEY_NONE);
	memset(out, '#', sizeof(out));
	idnum_format(PERSON_KEY_NONE, out);
	assert_string_equal(out, "");
	memset(out, '#', sizeof(out));
	idnum_format(UINT64_C(100000000000000000), out);
	assert_string_equal(out, "");
	idnum_format(UINT64_C(99999999999999999), out);
	assert_memory_equal(out, "99999999999999999", 17);
}

/*
 * The key and the check digit are computed eight and sixteen digits at a time: against the
 * definitions digit by digit, for many numbers, and with each position in turn made a
 * character next to the digits ('/', ':', 'X', a byte with its high bit).
 */
static void
test_key_and_check_as_defined(void **state)
{
	static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const unsigned char others[] = {'/', ':', 'X', ' ', 0x80, 0xFF, 0xB9, 0};
	uint64_t	rnd = UINT64_C(0x9E3779B97F4A7C15);
	char		id[19];

	(void) state;
	for (int n = 0; n < 200000; n++)
	{
		PersonKey	want = 0;
		int			sum = 0;

		for (int i = 0; i < 17; i++)
		{
			rnd = rnd * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
			/* runs of 0s and 9s as well as any digit */
			id[i] = (char) ('0' + (n % 3 == 0 ? (int) (rnd >> 60) % 10 : n % 3 == 1 ? 9 * (int) (rnd >> 63) : (int) (rnd >> 33) % 10));
			want = want * 10 + (PersonKey) (id[i] - '0');
			sum += (id[i] - '0') * weights[i];
		}
		id[17] = 'X';
		id[18] = '\0';
		if (idnum_key(id) != want)
			fail_msg("key of %s", id);
		if (idnum_check_digit(id) != "10X98765432"[sum % 11])
			fail_msg("check digit of %.17s", id);
		if (n % 100 == 0)
			for (int i = 0; i < 17; i++)
				for (size_t k = 0; k < sizeof others; k++)
				{
					char		keep = id[i];

					id[i] = (char) others[k];
					if (idnum_key(id) != PERSON_KEY_NONE || idnum_check_digit(id) != '\0')
						fail_msg("position %d as byte 0x%02X taken for a digit", i, others[k]);
					id[i] = keep;
				}
	}
}

static void
test_birth_and_sex(void **state)
{
	(void) state;
	/* day numbers from Python: (date(y, m, d) - date(1970, 1, 1)).days */
	assert_int_equal(idnum_birth_day("11010519491231002X"), -7306);
	assert_int_equal(idnum_birth_day("222401198512030412"), 5815);
	assert_int_equal(idnum_birth_day("130503196704010016"), -1006);
	assert_int_equal(idnum_birth_day("22240120000229002X"), 11016);
	assert_int_equal(idnum_birth_day("222401198502301231"), DAY_NONE);
	assert_int_equal(idnum_birth_day("222401198X12030412"), DAY_NONE);

	assert_int_equal(idnum_sex("11010519491231002X"), 2); /* 17th digit 2 */
	assert_int_equal(idnum_sex("222401198512030412"), 1); /* 17th digit 1 */
	assert_int_equal(idnum_sex("44030419900307123X"), 1); /* 17th digit 3 */
	assert_int_equal(idnum_sex("222401198512030402"), 2); /* 17th digit 0 */
	assert_int_equal(idnum_sex("2224011985120304X2"), 0);
}

/* Eighteen characters alone take a shortcut past the character loop; with a space in front
 * they go through it.  Both give the same status and the same characters, for random strings
 * of digits, X, x and a few other bytes, and for valid numbers with one character changed. */
static void
test_shortcut_equals_loop(void **state)
{
	(void) state;
	/* and the bytes next to the digits, and high ones, which carry or borrow in the
	 * shortcut's eight-at-a-time digit test */
	static const char alphabet[] = "0123456789012345678901234567890123456789Xx A-\xEF/:\x80\xB9\xBA\xFF";
	uint64_t r = 0x9E3779B97F4A7C15u;
	int valid = 0;

	for (int t = 0; t < 200000; t++)
	{
		char s[20], spaced[21], a[19], b[19];

		for (int k = 0; k < 18; k++)
		{
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			s[k] = alphabet[r % (sizeof alphabet - 1)];
		}
		if (t % 2 == 0)
		{
			/* a valid number (birth in 1900-2027, region 22), now and then one byte changed */
			snprintf(s, sizeof s, "2224%02d%04d%02d%02d%03d", (int) (r % 100), (int) (1900 + (r >> 8) % 128),
					 (int) (1 + (r >> 16) % 12), (int) (1 + (r >> 24) % 28), (int) ((r >> 32) % 1000));
			s[17] = idnum_check_digit(s);
			if (t % 6 == 0)
				s[(r >> 40) % 18] = alphabet[(r >> 48) % (sizeof alphabet - 1)];
		}
		s[18] = '\0';
		spaced[0] = ' ';
		memcpy(spaced + 1, s, 19);
		memset(a, '#', sizeof a);
		memset(b, '#', sizeof b);
		IdnumStatus sa = idnum_normalise(s, 18, a);
		IdnumStatus sb = idnum_normalise(spaced, 19, b);
		if (sa != sb || strcmp(a, b) != 0)
			fail_msg("\"%s\": %d \"%s\" alone, %d \"%s\" after a space", s, (int) sa, a, (int) sb, b);
		valid += sa == IDNUM_OK;
	}
	assert_true(valid > 50000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_x_check_digit),
		cmocka_unit_test(test_valid_digit_check_digit),
		cmocka_unit_test(test_lower_case_x),
		cmocka_unit_test(test_full_width),
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_length_argument_respected),
		cmocka_unit_test(test_upgrade_15),
		cmocka_unit_test(test_upgrade_15_invalid),
		cmocka_unit_test(test_wrong_check_digit),
		cmocka_unit_test(test_check_digit_function),
		cmocka_unit_test(test_bad_dates),
		cmocka_unit_test(test_good_dates),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_bad_char),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_is_valid),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_key_round_trip),
		cmocka_unit_test(test_key_none),
		cmocka_unit_test(test_key_and_check_as_defined),
		cmocka_unit_test(test_birth_and_sex),
		cmocka_unit_test(test_shortcut_equals_loop),
	};

	return cmocka_run_group_tests_name("idnum", tests, NULL, NULL);
}
