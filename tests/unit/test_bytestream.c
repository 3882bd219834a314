/*
 * test_bytestream.c
 *     Unit tests for transcoding in the byte stream (connectors/bytestream.c).  GBK and
 *     GB18030 text is transcoded buffer by buffer, a character cut at a buffer's end waiting for
 *     the next; whatever the input -- valid two- and four-byte characters, trail bytes below
 *     0x80, lone lead bytes, bytes no character starts with, an incomplete character at the
 *     end -- and whatever the sizes of the reads, the bytes that come out must be those of iconv
 *     given all of the input at once, with each byte it refuses marked 0xFF and skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bytestream.h"

#define MAX_IN 6000

/* The reference: iconv over the whole input, a refused or unfinished byte marked and skipped. */
static size_t
reference(const char *enc, const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
	iconv_t		cd = iconv_open("UTF-8", enc);
	char	   *ip = (char *) in,
			   *op = (char *) out;
	size_t		il = n,
				ol = cap;

	assert_true(cd != (iconv_t) -1);
	while (il > 0)
	{
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t) -1)
			break;
		assert_true(errno == EILSEQ || errno == EINVAL);
		assert_true(ol > 0);
		*op++ = (char) 0xFF;
		ol--;
		ip++;
		il--;
	}
	iconv_close(cd);
	return cap - ol;
}

/* Random text: ASCII, two-byte characters (some with a trail byte below 0x80), four-byte
 * GB18030 characters, and bytes that start none. */
static size_t
random_text(unsigned char *s, size_t max)
{
	size_t		n = 0,
				want = (size_t) (rand() % (int) (max - 8));

	while (n < want)
	{
		int			k = rand() % 10;

		if (k < 4)
		{
			int			run = 1 + rand() % 40;

			for (int i = 0; i < run && n < want; i++)
				s[n++] = (unsigned char) (rand() % 4 == 0 ? "0123456789,\n-:"[rand() % 14] : 0x20 + rand() % 0x5F);
		}
		else if (k < 7)
		{
			s[n++] = (unsigned char) (0x81 + rand() % 0x7E);
			s[n++] = (unsigned char) (0x40 + rand() % 0xBF);	/* 0x40..0xFE: some below 0x80 */
		}
		else if (k < 8)
		{
			s[n++] = (unsigned char) (0x81 + rand() % 0x7E);
			s[n++] = (unsigned char) (0x30 + rand() % 10);
			s[n++] = (unsigned char) (0x81 + rand() % 0x7E);
			s[n++] = (unsigned char) (0x30 + rand() % 10);
		}
		else if (k < 9)
		{
			static const unsigned char odd[] = {0x80, 0xFF, 0x81, 0xFE, 0x7F, 0x00, 0x30};

			s[n++] = odd[rand() % (int) sizeof odd];
		}
		else
		{
			s[n++] = (unsigned char) (0x81 + rand() % 0x7E);	/* a lead byte alone */
		}
	}
	return n;
}

static void
test_transcoding_agrees(void **state)
{
	static unsigned char in[MAX_IN],
				want[MAX_IN * 4 + 16],
				got[MAX_IN * 4 + 16];
	const char *encs[] = {"GBK", "GB18030"};

	(void) state;
	srand(20261130);
	for (int round = 0; round < 600; round++)
	{
		const char *enc = encs[round % 2];
		size_t		n = random_text(in, MAX_IN);

		if (round % 7 == 0 && n > 0)
			in[n - 1] = 0xB0;	/* ends inside a character */
		size_t		want_len = reference(enc, in, n, want, sizeof want);

		CbError		err;
		ByteStream	bs;

		memset(&err, 0, sizeof err);
		assert_true(bytestream_open_mem(&bs, "test.txt", in, n, &err));
		assert_true(bytestream_set_encoding(&bs, enc, &err));
		size_t		got_len = 0;

		for (;;)
		{
			/* reads of every size, down to the eight bytes a read needs at least */
			size_t		ask = round % 3 == 0 ? sizeof got - got_len : (size_t) (8 + rand() % 64);
			ssize_t		r;

			if (ask > sizeof got - got_len)
				ask = sizeof got - got_len;
			r = bytestream_read(&bs, got + got_len, ask, &err);
			assert_true(r >= 0);
			if (r == 0)
				break;
			got_len += (size_t) r;
		}
		bytestream_close(&bs);
		if (got_len != want_len || memcmp(got, want, want_len) != 0)
		{
			size_t		at = 0;

			while (at < got_len && at < want_len && got[at] == want[at])
				at++;
			fail_msg("%s, round %d, %zu bytes in: %zu bytes out, iconv %zu; first difference at %zu",
					 enc, round, n, got_len, want_len, at);
		}
	}
}

/* Lines of a tax extract in GBK, read 4 KiB at a time: the text iconv gives, nothing marked. */
static void
test_mostly_ascii(void **state)
{
	static const unsigned char line[] = "322240120240000000001,\xbd\xaa\xcb\xb3\xc5\xae,222401198401078069,800.00,2024-03-21\n";
	size_t		len = sizeof line - 1,
				reps = 20000,
				n = len * reps;
	unsigned char *in = malloc(n),
			   *want = malloc(n * 2),
			   *got = malloc(n * 2);
	size_t		got_len = 0;
	CbError		err;
	ByteStream	bs;

	(void) state;
	assert_non_null(in);
	assert_non_null(want);
	assert_non_null(got);
	for (size_t i = 0; i < reps; i++)
		memcpy(in + i * len, line, len);
	size_t		want_len = reference("GBK", in, n, want, n * 2);

	memset(&err, 0, sizeof err);
	assert_true(bytestream_open_mem(&bs, "tax.csv", in, n, &err));
	assert_true(bytestream_set_encoding(&bs, "gbk", &err));
	for (ssize_t r; (r = bytestream_read(&bs, got + got_len, 4096, &err)) > 0;)
		got_len += (size_t) r;
	assert_int_equal(bs.invalid, 0);
	bytestream_close(&bs);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_non_null(memmem(got, got_len, "\xe5\xa7\x9c\xe9\xa1\xba\xe5\xa5\xb3", 9));	/* 姜顺女 */
	free(in);
	free(want);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcoding_agrees),
		cmocka_unit_test(test_mostly_ascii),
	};

	return cmocka_run_group_tests_name("byte stream transcoding", tests, NULL, NULL);
}
