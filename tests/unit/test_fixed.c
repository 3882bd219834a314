/*
 * test_fixed.c
 *     Unit tests for the fixed-width reader (connectors/fixed.c) through
 *     connectors/reader.h: columns by bytes and by characters (Chinese text),
 *     trimming of spaces and U+3000, short lines (absent or cut fields), CRLF, BOM,
 *     blank lines, positions, over-long lines with bounded memory, NUL bytes, GBK
 *     through the byte stream, gzip.  Ends with a throughput figure (printed, not
 *     asserted).
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
#include <time.h>

#include <zlib.h>

#include "reader.h"
#include "reader_int.h"
#include "time_limit.h"

/* ------------------------------------------------------------ helpers */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static ReaderSpec
fixed_spec(const FixedColumn *cols, int ncols, bool chars)
{
	ReaderSpec	s;

	memset(&s, 0, sizeof s);
	s.format = RF_FIXED;
	s.columns = cols;
	s.ncolumns = ncols;
	s.fixed_chars = chars;
	return s;
}

static Reader *
open_spec(const ReaderSpec *s, const void *data, size_t len)
{
	CbError		err;
	Reader	   *r;

	memset(&err, 0, sizeof err);
	r = reader_open_mem(s, "test.txt", data, len, &err);
	if (r == NULL)
		fail_msg("reader_open_mem failed: %s (%s)", err.message, err.input_at);
	return r;
}

static void
next_is(Reader *r, Record *rec, ReadStatus want)
{
	CbError		err;
	ReadStatus	st;

	memset(&err, 0, sizeof err);
	st = reader_next(r, rec, &err);
	if (st != want)
		fail_msg("reader_next: status %d, want %d (reason \"%s\", error \"%s\")",
				 (int) st, (int) want, st == READ_BAD ? rec->reason : "", err.message);
}

static void
field_is(const Record *rec, int i, const char *want)
{
	assert_true(i < rec->nfields);
	if (want == NULL)
	{
		if (rec->fields[i].p != NULL)
			fail_msg("field %d is \"%.*s\", want absent", i, (int) rec->fields[i].len,
					 rec->fields[i].p);
		return;
	}
	if (rec->fields[i].p == NULL)
		fail_msg("field %d is absent, want \"%s\"", i, want);
	if (rec->fields[i].len != strlen(want) ||
		memcmp(rec->fields[i].p, want, rec->fields[i].len) != 0)
		fail_msg("field %d is \"%.*s\" (%u bytes), want \"%s\"", i,
				 (int) rec->fields[i].len, rec->fields[i].p, rec->fields[i].len, want);
}

static void
fields_are(const Record *rec, int n, const char *const *want)
{
	assert_int_equal(rec->nfields, n);
	for (int i = 0; i < n; i++)
		field_is(rec, i, want[i]);
}

#define NARGS(...) ((int) (sizeof((const char *[]) {__VA_ARGS__}) / sizeof(const char *)))
#define FIELDS(rec, ...) fields_are((rec), NARGS(__VA_ARGS__), (const char *const[]) {__VA_ARGS__})

static void
pos_is(const Record *rec, uint64_t record_no, uint64_t line_no, uint64_t byte_offset)
{
	assert_int_equal(rec->record_no, record_no);
	assert_int_equal(rec->line_no, line_no);
	assert_int_equal(rec->byte_offset, byte_offset);
}

static void
raw_is(const Record *rec, const char *want)
{
	if (rec->raw_len != strlen(want) || memcmp(rec->raw, want, rec->raw_len) != 0)
		fail_msg("raw is \"%.*s\", want \"%s\"", (int) rec->raw_len, rec->raw, want);
}

/* ------------------------------------------------------------ bytes */

static void
test_bytes(void **state)
{
	/* id 0-17, name 18-29 (12 bytes: 4 Chinese characters), sex 30, date 31-38 */
	static const FixedColumn cols[] = {{0, 18}, {18, 12}, {30, 1}, {31, 8}};
	static const char data[] =
		"222401199003070011张三丰   120230105\n"
		"22240119900307002X  李四    2199901\r\n"	/* date cut off at the line end */
		"222401199003070038王五\n"						/* ends inside name: cut; sex, date absent */
		"\n"
		"2224011990030700\n"						/* ends inside id */
		"  \t  \r\n"								/* blank */
		"222401199003070046　赵六　    1";			/* U+3000 trimmed, no final LF */
	ReaderSpec	s = fixed_spec(cols, 4, false);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;
	uint64_t	off = 0;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070011", "张三丰", "1", "20230105");
	pos_is(&rec, 1, 1, 0);
	raw_is(&rec, "222401199003070011张三丰   120230105");
	off += strlen("222401199003070011张三丰   120230105\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "22240119900307002X", "李四", "2", "199901");
	pos_is(&rec, 2, 2, off);
	raw_is(&rec, "22240119900307002X  李四    2199901");
	off += strlen("22240119900307002X  李四    2199901\r\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070038", "王五", NULL, NULL);
	pos_is(&rec, 3, 3, off);
	off += strlen("222401199003070038王五\n") + 1;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "2224011990030700", NULL, NULL, NULL);
	pos_is(&rec, 4, 5, off);
	off += strlen("2224011990030700\n") + strlen("  \t  \r\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070046", "赵六", "", "1");
	pos_is(&rec, 5, 7, off);
	next_is(r, &rec, READ_EOF);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(data));
	reader_close(r);
}

/* ------------------------------------------------------------ characters */

static void
test_chars(void **state)
{
	/* positions in characters: id 0-17, name 18-21, addr 22-29, flag 30 */
	static const FixedColumn cols[] = {{0, 18}, {18, 4}, {22, 8}, {30, 1}, {40, 5}};
	static const char data[] =
		"\xEF\xBB\xBF"
		"222401199003070011张三丰 吉林省延吉市河南街Y\r\n"
		"22240119900307002X欧阳娜娜延边州　　　　　N\n"
		"222401199003070038李四\n"
		"222401199003070046王\xF0\x9F\x98\x80五 abcdefghZ         extra\n";	/* a 4-byte character */
	ReaderSpec	s = fixed_spec(cols, 5, true);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070011", "张三丰", "吉林省延吉市河南", "街", NULL);
	pos_is(&rec, 1, 1, 3);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "22240119900307002X", "欧阳娜娜", "延边州", "N", NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070038", "李四", NULL, NULL, NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "222401199003070046", "王\xF0\x9F\x98\x80五", "abcdefgh", "Z", "extra");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* The byte stream transcodes GBK before the reader counts characters. */
static void
test_gbk_chars(void **state)
{
	static const FixedColumn cols[] = {{0, 3}, {3, 2}};
	static const char utf8[] = "张三丰李四\n王五 赵六\n";
	iconv_t		cd = iconv_open("GBK", "UTF-8");
	char		gbk[64],
			   *in = (char *) utf8,
			   *out = gbk;
	size_t		inleft = strlen(utf8),
				outleft = sizeof gbk;
	ReaderSpec	s = fixed_spec(cols, 2, true);
	Record		rec;

	(void) state;
	assert_true(cd != (iconv_t) -1);
	assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t) -1);
	iconv_close(cd);
	s.encoding = "GBK";

	Reader	   *r = open_spec(&s, gbk, sizeof gbk - outleft);

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三丰", "李四");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "王五", "赵六");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* ------------------------------------------------------------ bad lines */

static void
test_long_and_nul(void **state)
{
	static const FixedColumn cols[] = {{0, 4}, {4, 4}};
	char		data[256];
	ReaderSpec	s = fixed_spec(cols, 2, false);
	Record		rec;

	(void) state;
	s.max_record_bytes = 10;
	memcpy(data, "aaaabbbbcc\r\n"		/* 10 bytes: fine */
		   "aaaabbbbccd\n"				/* 11: too long */
		   "aa\0abbbb\n"				/* NUL */
		   "xxxxyyyy\n", 12 + 12 + 9 + 9);
	Reader	   *r = open_spec(&s, data, 12 + 12 + 9 + 9);

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "aaaa", "bbbb");
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "longer than the limit of 10 bytes"));
	pos_is(&rec, 2, 2, 12);
	raw_is(&rec, "aaaabbbbccd");
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "NUL"));
	pos_is(&rec, 3, 3, 24);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "xxxx", "yyyy");
	pos_is(&rec, 4, 4, 33);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* A 50 MB line with the default limit, and lines across the 1 MiB read buffer. */
static void
test_huge_line(void **state)
{
	static const FixedColumn cols[] = {{0, 3}, {100, 5}};
	size_t		len = 50 * 1000 * 1000,
				n = 0;
	char	   *data = malloc(len + 4 * 1024 * 1024);
	ReaderSpec	s = fixed_spec(cols, 2, true);
	Record		rec;

	(void) state;
	assert_non_null(data);
	memset(data, 'x', len);
	n = len;
	data[n++] = '\n';
	/* lines of 900 000 bytes: some lie across a buffer refill */
	for (int k = 0; k < 4; k++)
	{
		memset(data + n, 'a' + k, 900000);
		memcpy(data + n + 100, "VALUE", 5);
		n += 900000;
		data[n++] = '\n';
	}

	Reader	   *r = open_spec(&s, data, n);
	double		t0 = now();

	next_is(r, &rec, READ_BAD);
	printf("    50 MB fixed-width line rejected in %.3f s\n", now() - t0);
	assert_non_null(strstr(rec.reason, "longer than the limit of 1048576 bytes"));
	assert_int_equal(rec.raw_len, READER_RAW_MAX);
	for (int k = 0; k < 4; k++)
	{
		char		want[4] = {(char) ('a' + k), (char) ('a' + k), (char) ('a' + k), 0};

		next_is(r, &rec, READ_OK);
		FIELDS(&rec, want, "VALUE");
		pos_is(&rec, (uint64_t) k + 2, (uint64_t) k + 2, len + 1 + (uint64_t) k * 900001);
	}
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(data);
}

/* Columns far past any line, and a gzip'd file. */
static void
test_far_columns_gzip(void **state)
{
	static const FixedColumn cols[] = {{0, 2}, {999999, 10}, {2, 4000000}};
	static const char text[] = "ab cd \nef\n";
	z_stream	zs;
	unsigned char gz[256];
	Record		rec;

	(void) state;
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *) text;
	zs.avail_in = (uInt) strlen(text);
	zs.next_out = gz;
	zs.avail_out = sizeof gz;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	for (int chars = 0; chars < 2; chars++)
	{
		ReaderSpec	s = fixed_spec(cols, 3, chars);
		Reader	   *r = open_spec(&s, gz, zs.total_out);

		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "ab", NULL, "cd");
		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "ef", NULL, NULL);
		next_is(r, &rec, READ_EOF);
		reader_close(r);
	}
}

static void
test_bad_spec(void **state)
{
	ReaderSpec	s = fixed_spec(NULL, -1, false);
	CbError		err;

	(void) state;
	memset(&err, 0, sizeof err);
	/* the constructor directly */
	assert_null(fixed_reader_new(&s, "t.txt", "", 0, &err));
	assert_non_null(strstr(err.message, "columns"));
}

/* ------------------------------------------------------------ throughput */

static void
test_throughput(void **state)
{
	static const FixedColumn bytes_cols[] = {{0, 18}, {18, 12}, {30, 1}, {31, 8}, {39, 30}};
	static const FixedColumn char_cols[] = {{0, 18}, {18, 4}, {22, 1}, {23, 8}, {31, 10}};
	size_t		n = 0,
				nrec = 0;
	char	   *data = malloc(52 * 1024 * 1024 + 4096);

	(void) state;
	/* 50 MiB of records (4 MiB under valgrind: several reader buffers still) */
	const size_t want = test_work(50 * 1024 * 1024, 4 * 1024 * 1024);

	while (n < want)
	{
		n += (size_t) sprintf(data + n, "2224011990%08zu张三丰      119900307吉林省延吉市河南街道%4zu号\n",
							  nrec, nrec % 1000);
		nrec++;
	}
	for (int chars = 0; chars < 2; chars++)
	{
		ReaderSpec	s = fixed_spec(chars ? char_cols : bytes_cols, 5, chars);
		Reader	   *r = open_spec(&s, data, n);
		Record		rec;
		size_t		got = 0;
		CbError		err;
		ReadStatus	st;
		double		t0 = now();

		memset(&err, 0, sizeof err);
		while ((st = reader_next(r, &rec, &err)) == READ_OK)
			got++;
		double		t = now() - t0;

		assert_int_equal(st, READ_EOF);
		assert_int_equal(got, nrec);
		printf("    fixed (%s): %.1f MB, %zu records in %.3f s: %.1f MB/s\n",
			   chars ? "characters" : "bytes", n / 1e6, nrec, t, n / 1e6 / t);
		reader_close(r);
	}
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_chars),
		cmocka_unit_test(test_gbk_chars),
		cmocka_unit_test(test_long_and_nul),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_far_columns_gzip),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests_name("fixed-width reader", tests, NULL, NULL);
}
