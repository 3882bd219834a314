/*
 * test_idrepair.c
 *     Unit tests for engine/idrepair.c: which characters of a mistyped ID number can be
 *     repaired, and the valid numbers one substituted character or one swap away.
 *     (Accepting a repair against the register — exactly one agreeing candidate, else
 *     "ambiguous ID" — is tested in test_linkage.c.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "idrepair.h"

/* A valid number: 17 digits and their check character. */
static void
valid(const char *first17, char out[19])
{
	memcpy(out, first17, 17);
	out[17] = idnum_check_digit(first17);
	out[18] = '\0';
}

static PersonKey
key_of(const char *id)
{
	return idnum_key(id);
}

static bool
has(const PersonKey *k, int n, PersonKey want)
{
	for (int i = 0; i < n; i++)
		if (k[i] == want)
			return true;
	return false;
}

static void
assert_sorted_valid(const PersonKey *k, int n)
{
	for (int i = 0; i < n; i++) {
		char id[19];

		idnum_format(k[i], id);
		assert_true(idnum_is_valid(id));
		if (i > 0)
			assert_true(k[i - 1] < k[i]);
	}
}

static void
test_chars(void **state)
{
	char		out[19];

	(void) state;
	assert_int_equal(idrepair_chars("222401196103163486", 18, out), 18);
	assert_string_equal(out, "222401196103163486");
	/* full width, spaces, lower-case x */
	assert_int_equal(idrepair_chars("\xEF\xBC\x92\xEF\xBC\x92" "2401 19610316 348x", 24, out), 18);
	assert_memory_equal(out, "22240119610316348", 17);
	assert_int_equal(out[17], 'X');
	/* an X before the end is kept: a swap may have moved the check character */
	assert_int_equal(idrepair_chars("2224011961031634X8", 18, out), 18);
	assert_int_equal(idrepair_chars("222401610316348", 15, out), 15);
	/* nothing one typing error can fix */
	assert_int_equal(idrepair_chars("", 0, out), 0);
	assert_int_equal(idrepair_chars("12345", 5, out), 0);
	assert_int_equal(idrepair_chars("22240119610316348", 17, out), 0);
	assert_int_equal(idrepair_chars("2224011961031634866", 19, out), 0);
	assert_int_equal(idrepair_chars("ABCDEFGHIJKLMNOPQR", 18, out), 0);
	assert_int_equal(idrepair_chars("22240119610316348-", 18, out), 0);
}

static void
test_substitution(void **state)
{
	char		id[19],
				typo[19];
	PersonKey	k[IDREPAIR_MAX];

	(void) state;
	valid("22240119610316348", id);
	for (int pos = 0; pos < 17; pos++) {
		memcpy(typo, id, 19);
		typo[pos] = typo[pos] == '7' ? '2' : '7';
		int n = idrepair_candidates(typo, 18, k, IDREPAIR_MAX);

		assert_true(n > 0);
		assert_true(has(k, n, key_of(id)));
		assert_sorted_valid(k, n);
	}
	/* a wrong check character: the 17 digits as written are a candidate */
	memcpy(typo, id, 19);
	typo[17] = typo[17] == '0' ? '1' : '0';
	int n = idrepair_candidates(typo, 18, k, IDREPAIR_MAX);
	assert_true(has(k, n, key_of(id)));
}

static void
test_transposition(void **state)
{
	char		id[19],
				typo[19];
	PersonKey	k[IDREPAIR_MAX];

	(void) state;
	valid("22240119610316348", id);
	for (int pos = 0; pos < 17; pos++) {
		if (id[pos] == id[pos + 1])
			continue;
		memcpy(typo, id, 19);
		typo[pos] = id[pos + 1];
		typo[pos + 1] = id[pos];
		if (idnum_is_valid(typo))
			continue;	/* a swap the check digit cannot see (rare) */
		int n = idrepair_candidates(typo, 18, k, IDREPAIR_MAX);

		assert_true(has(k, n, key_of(id)));
		assert_sorted_valid(k, n);
	}
	/* the check character X swapped with the digit before it */
	for (int s = 0; s < 1000; s++) {
		char		first[18];

		snprintf(first, sizeof first, "22240119610316%03d", s);
		valid(first, id);
		if (id[17] != 'X')
			continue;
		memcpy(typo, id, 19);
		typo[16] = 'X';
		typo[17] = id[16];
		int n = idrepair_candidates(typo, 18, k, IDREPAIR_MAX);

		assert_true(has(k, n, key_of(id)));
		return;
	}
	fail_msg("no number with check character X found");
}

static void
test_no_self_and_bounds(void **state)
{
	char		id[19];
	PersonKey	k[IDREPAIR_MAX];

	(void) state;
	/* the check digit sees every single substitution: a valid number has no valid neighbour */
	valid("11010519491231002", id);
	assert_int_equal(idrepair_candidates(id, 18, k, IDREPAIR_MAX), 0);
	/* a number with a wrong check character has many; cap respected */
	id[17] = '0';
	int n = idrepair_candidates(id, 18, k, IDREPAIR_MAX);
	assert_true(n > 3 && n <= IDREPAIR_MAX);
	assert_int_equal(idrepair_candidates(id, 18, k, 3), 3);
	assert_int_equal(idrepair_candidates(id, 17, k, IDREPAIR_MAX), 0);
	/* a 15-digit number with an impossible date: variants upgraded to 18 digits */
	n = idrepair_candidates("110105491331002", 15, k, IDREPAIR_MAX);
	assert_true(n > 0);
	assert_sorted_valid(k, n);
	valid("11010519491231002", id);
	assert_true(has(k, n, key_of(id)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chars),
		cmocka_unit_test(test_substitution),
		cmocka_unit_test(test_transposition),
		cmocka_unit_test(test_no_self_and_bounds),
	};

	return cmocka_run_group_tests_name("idrepair", tests, NULL, NULL);
}
