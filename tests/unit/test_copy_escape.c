/*
 * test_copy_escape.c
 *     Unit tests for db_copy_escape (engine/db.c), the text COPY sends for a field: every
 *     backslash, tab, newline and carriage return escaped, every other byte as it is.  The
 *     escaper takes eight bytes at a time while none needs an escape, so each special byte is
 *     tried at every position of fields of every length around and across eight bytes, and
 *     the result compared with a byte-by-byte reference.  The digits of an integer field
 *     (text_int, engine/text.c, also the rules' and the workbooks') are snprintf's "%lld".
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

#include "db.h"
#include "text.h"

/* The format's rule, one byte at a time. */
static size_t
reference(char *out, const char *s, size_t n)
{
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		switch (s[i])
		{
			case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
			case '\t': out[o++] = '\\'; out[o++] = 't'; break;
			case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
			case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
			default: out[o++] = s[i];
		}
	}
	return o;
}

static void
same_as_reference(const char *s, size_t n)
{
	char		got[128], want[128];

	assert_true(n <= 64);
	memset(got, 0x55, sizeof got);
	size_t		g = db_copy_escape(got, s, n);
	size_t		w = reference(want, s, n);

	assert_int_equal(g, w);
	assert_memory_equal(got, want, w);
	assert_int_equal((unsigned char) got[g], 0x55);	/* nothing written past the end */
}

static void
test_plain_text(void **state)
{
	(void) state;
	const char *t = "222401198401078069 姜顺女 延吉市依兰镇卫生院 abcdefghijklmnop";
	char		out[160];

	for (size_t n = 0; n <= 64 && n <= strlen(t); n++)
		same_as_reference(t, n);
	assert_int_equal(db_copy_escape(out, t, strlen(t)), strlen(t));
	assert_memory_equal(out, t, strlen(t));
}

static void
test_each_special_byte_everywhere(void **state)
{
	(void) state;
	const char	specials[] = {'\\', '\t', '\n', '\r', 0x01, 0x0B, 0x0C, 0x0E, 0x1F, '[', ']', 0x7F};
	char		buf[40];

	for (size_t k = 0; k < sizeof specials; k++)
		for (size_t n = 1; n <= 33; n++)
			for (size_t at = 0; at < n; at++)
			{
				memset(buf, 'a', sizeof buf);
				buf[at] = specials[k];
				same_as_reference(buf, n);
			}
}

static void
test_escapes_spelled_out(void **state)
{
	(void) state;
	char		out[64];
	const char *in = "a\\b\tc\nd\re\\\\";
	size_t		n = db_copy_escape(out, in, strlen(in));

	assert_int_equal(n, 17);
	assert_memory_equal(out, "a\\\\b\\tc\\nd\\re\\\\\\\\", 17);
}

static void
test_random_fields(void **state)
{
	(void) state;
	const char	alphabet[] = "ab\\\t\n\r\x01\x0d\x0e\xe5\xbb\xb6 09";
	char		buf[64];
	unsigned	seed = 12345;

	for (int round = 0; round < 20000; round++)
	{
		size_t		n = (size_t) (seed = seed * 1103515245u + 12345u) % 65;

		for (size_t i = 0; i < n; i++)
			buf[i] = alphabet[(seed = seed * 1103515245u + 12345u) >> 16 & 15];
		same_as_reference(buf, n);
	}
}

/* text_int against snprintf: the ends of the range, around the powers of ten, at random */
static void
test_integers(void **state)
{
	(void) state;
	int64_t		v[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1, 4294967296LL};
	uint64_t	seed = 88172645463325252ULL;

	for (size_t i = 0; i < sizeof v / sizeof v[0] + 2000; i++)
	{
		int64_t		x;
		char		got[TEXT_INT_MAX], want[32];

		if (i < sizeof v / sizeof v[0])
			x = v[i];
		else if (i < sizeof v / sizeof v[0] + 40)
		{
			int			k = (int) (i - sizeof v / sizeof v[0]) / 2;
			int64_t		p = 1;

			for (int j = 0; j < k % 19; j++)
				p *= 10;
			x = (k % 2 ? -p : p) - (int64_t) (i % 2);
		}
		else
		{
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			x = (int64_t) (seed >> (seed % 60));
			if (seed & 1)
				x = -x;
		}
		snprintf(want, sizeof want, "%lld", (long long) x);
		assert_int_equal(text_int(got, x), strlen(want));
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_each_special_byte_everywhere),
		cmocka_unit_test(test_escapes_spelled_out),
		cmocka_unit_test(test_random_fields),
		cmocka_unit_test(test_integers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
