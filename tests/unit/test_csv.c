/*
 * test_csv.c
 *     Unit tests for the delimited-text reader (connectors/csv.c) and the byte
 *     stream under it (connectors/bytestream.c), through connectors/reader.h:
 *     RFC 4180 quoting, line endings, BOM, blank lines, positions (record
 *     number, line, byte offset), raw text, malformed records (READ_BAD, and
 *     reading goes on), gzip (plain, concatenated members, truncated, corrupt),
 *     a large input and the SHA-256 of the raw file.
 *
 * Compressed inputs are made here with zlib's deflateInit2 (windowBits 31 =
 * gzip wrapper) and expected digests with OpenSSL EVP, independently of the
 * code under test.
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

#include <openssl/evp.h>
#include <zlib.h>

#include "reader.h"
#include "reader_int.h"
#include "time_limit.h"

/* ------------------------------------------------------------ helpers */

static const CsvOptions comma = {',', '"', 0};

static Reader *
open_mem(const void *data, size_t len, const CsvOptions *opt)
{
	CbError		err;
	Reader	   *r;

	memset(&err, 0, sizeof err);
	r = reader_open_csv_mem("test.csv", data, len, opt, &err);
	if (r == NULL)
		fail_msg("reader_open_csv_mem failed: %s", err.message);
	return r;
}

static Reader *
open_str(const char *s)
{
	return open_mem(s, strlen(s), &comma);
}

/* Reads the next record and asserts its status. */
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

/* Asserts that field i of rec is exactly the NUL-terminated want. */
static void
field_is(const Record *rec, int i, const char *want)
{
	assert_true(i < rec->nfields);
	if (rec->fields[i].len != strlen(want) ||
		memcmp(rec->fields[i].p, want, rec->fields[i].len) != 0)
		fail_msg("field %d is \"%.*s\" (%u bytes), want \"%s\"", i,
				 (int) rec->fields[i].len, rec->fields[i].p, rec->fields[i].len, want);
}

/* Asserts that the record has exactly the given fields (NULL-terminated list). */
static void
fields_are(const Record *rec, const char *const *want)
{
	int			n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(rec->nfields, n);
	for (int i = 0; i < n; i++)
		field_is(rec, i, want[i]);
}

#define FIELDS(rec, ...) fields_are((rec), (const char *const[]) {__VA_ARGS__, NULL})

static void
raw_is(const Record *rec, const char *want)
{
	if (rec->raw_len != strlen(want) || memcmp(rec->raw, want, rec->raw_len) != 0)
		fail_msg("raw is \"%.*s\", want \"%s\"", (int) rec->raw_len, rec->raw, want);
}

static void
pos_is(const Record *rec, uint64_t record_no, uint64_t line_no, uint64_t byte_offset)
{
	assert_int_equal(rec->record_no, record_no);
	assert_int_equal(rec->line_no, line_no);
	assert_int_equal(rec->byte_offset, byte_offset);
}

/* gzip-compresses data at `level` into a malloc'ed buffer (one member), with the header fields
 * of `h` when it is not NULL. */
static unsigned char *
gzip_level(const void *data, size_t len, int level, gz_header *h, size_t *out_len)
{
	z_stream	zs;
	unsigned char *out;
	size_t		cap;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	if (h != NULL)
		assert_int_equal(deflateSetHeader(&zs, h), Z_OK);
	cap = deflateBound(&zs, (uLong) len) + 256;
	out = malloc(cap);
	assert_non_null(out);
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) len;
	zs.next_out = out;
	zs.avail_out = (uInt) cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* gzip-compresses data into a malloc'ed buffer (one member). */
static unsigned char *
gzip(const void *data, size_t len, size_t *out_len)
{
	return gzip_level(data, len, 6, NULL, out_len);
}

/* SHA-256 of data as 64 hex digits. */
static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Reads records until the status is not READ_OK; returns it and the count of OK records. */
static ReadStatus
drain(Reader *r, size_t *nok, CbError *err)
{
	Record		rec;
	ReadStatus	st;

	*nok = 0;
	memset(err, 0, sizeof *err);
	while ((st = reader_next(r, &rec, err)) == READ_OK)
		(*nok)++;
	return st;
}

/* ------------------------------------------------------------ basic shapes */

static void
test_simple_lf(void **state)
{
	Reader	   *r = open_str("a,b,c\n1,2,3\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b", "c");
	pos_is(&rec, 0, 1, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "2", "3");
	pos_is(&rec, 1, 2, 6);
	next_is(r, &rec, READ_EOF);
	next_is(r, &rec, READ_EOF);	/* EOF is sticky */
	reader_close(r);
}

static void
test_crlf(void **state)
{
	Reader	   *r = open_str("a,b\r\n1,\"2\"\r\n,\r\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b");
	pos_is(&rec, 0, 1, 0);
	raw_is(&rec, "a,b");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "2");	/* CRLF after a closing quote */
	pos_is(&rec, 1, 2, 5);
	raw_is(&rec, "1,\"2\"");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "");		/* empty last field before CRLF */
	pos_is(&rec, 2, 3, 12);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_quoted_delimiters(void **state)
{
	Reader	   *r = open_str("\"a,b\",c,\",\"\n\"x\",\"\",\"y,z,\"\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a,b", "c", ",");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "x", "", "y,z,");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_escaped_quotes(void **state)
{
	Reader	   *r = open_str("\"he said \"\"hi\"\"\",\"\"\"\"\n\"\"\"\"\"\",x\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "he said \"hi\"", "\"");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "\"\"", "x");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* Embedded newlines (LF and CRLF) stay in the value and are counted as lines. */
static void
test_embedded_newlines(void **state)
{
	const char *r0 = "id,text\n";
	const char *r1 = "1,\"line one\nline two\"\n";
	const char *r2 = "2,\"a\r\nb\r\nc\"\r\n";
	const char *r3 = "3,end\n";
	char		buf[256];
	Reader	   *r;
	Record		rec;

	(void) state;
	snprintf(buf, sizeof buf, "%s%s%s%s", r0, r1, r2, r3);
	r = open_str(buf);
	next_is(r, &rec, READ_OK);
	pos_is(&rec, 0, 1, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "line one\nline two");
	pos_is(&rec, 1, 2, 8);
	raw_is(&rec, "1,\"line one\nline two\"");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "2", "a\r\nb\r\nc");
	pos_is(&rec, 2, 4, 8 + 22);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "3", "end");
	pos_is(&rec, 3, 7, 8 + 22 + 13);
	assert_int_equal(strlen(r1), 22);
	assert_int_equal(strlen(r2), 13);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(buf));
	reader_close(r);
}

static void
test_bom_skipped(void **state)
{
	Reader	   *r = open_str("\xEF\xBB\xBFname,x\n1,2\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "name", "x");
	pos_is(&rec, 0, 1, 3);
	raw_is(&rec, "name,x");
	next_is(r, &rec, READ_OK);
	pos_is(&rec, 1, 2, 10);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* A BOM that is not at the start is data. */
static void
test_bom_only_at_start(void **state)
{
	Reader	   *r = open_str("a\n\xEF\xBB\xBF" "b\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "\xEF\xBB\xBF" "b");
	reader_close(r);
}

static void
test_blank_lines_skipped(void **state)
{
	/* lines: 1 "", 2 "", 3 a,b, 4 "", 5 "\r", 6 "", 7 c,d, 8 "" */
	Reader	   *r = open_str("\n\na,b\n\n\r\n\nc,d\n\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b");
	pos_is(&rec, 0, 3, 2);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "c", "d");
	pos_is(&rec, 1, 7, 10);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_empty_inputs(void **state)
{
	Reader	   *r;
	Record		rec;

	(void) state;
	r = open_mem("", 0, &comma);
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_str("\n\r\n\n");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_str("\xEF\xBB\xBF");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_tab_delimiter(void **state)
{
	const CsvOptions tab = {'\t', '"', 0};
	const char *s = "a\tb,c\t\"d\te\"\n\t\n";
	Reader	   *r = open_mem(s, strlen(s), &tab);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b,c", "d\te");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_last_record_without_newline(void **state)
{
	Reader	   *r;
	Record		rec;

	(void) state;
	r = open_str("a,b\nc,d");
	next_is(r, &rec, READ_OK);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "c", "d");
	pos_is(&rec, 1, 2, 4);
	raw_is(&rec, "c,d");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_str("x,\"y\"");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "x", "y");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_str("x,");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "x", "");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* ------------------------------------------------------------ malformed records */

static void
test_unterminated_quote_at_eof(void **state)
{
	Reader	   *r = open_str("a,b\n1,\"open\nmore\nstill\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "unterminated"));
	pos_is(&rec, 1, 2, 4);
	raw_is(&rec, "1,\"open\nmore\nstill");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_char_after_closing_quote(void **state)
{
	Reader	   *r = open_str("\"ab\"c,d\nx,y\n1,\"q\" \n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "after a closing quote"));
	pos_is(&rec, 0, 1, 0);
	raw_is(&rec, "\"ab\"c,d");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "x", "y");
	pos_is(&rec, 1, 2, 8);
	next_is(r, &rec, READ_BAD);	/* a space after the quote is a character too */
	pos_is(&rec, 2, 3, 12);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_record_too_long(void **state)
{
	const CsvOptions small = {',', '"', 64};
	char		buf[1024];
	char		x64[65], x65[66];
	Reader	   *r;
	Record		rec;

	(void) state;
	memset(x64, 'x', 64);
	x64[64] = '\0';
	memset(x65, 'y', 65);
	x65[65] = '\0';
	/* 64 bytes of field data is the limit: OK; 65 is too long; a quoted field with
	 * embedded newlines that is too long still counts its lines */
	snprintf(buf, sizeof buf, "%s\n%s\nok,1\n\"%s\n%s\"\nafter,2\n", x64, x65, x64, x64);
	r = open_mem(buf, strlen(buf), &small);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, x64);
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "longer than the limit of 64 bytes"));
	pos_is(&rec, 1, 2, 65);
	raw_is(&rec, x65);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "ok", "1");
	pos_is(&rec, 2, 3, 65 + 66);
	next_is(r, &rec, READ_BAD);
	pos_is(&rec, 3, 4, 65 + 66 + 5);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "after", "2");
	pos_is(&rec, 4, 6, 65 + 66 + 5 + 1 + 64 + 1 + 64 + 2);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* Many fields: READER_MAX_FIELDS is fine, one more is READ_BAD, the next record is read. */
static void
test_too_many_fields(void **state)
{
	size_t		cap = 4 * (READER_MAX_FIELDS + 1) + 64;
	char	   *buf = malloc(cap);
	size_t		n = 0;
	Reader	   *r;
	Record		rec;

	(void) state;
	assert_non_null(buf);
	for (int i = 0; i < READER_MAX_FIELDS; i++)
		n += (size_t) snprintf(buf + n, cap - n, "%s%d", i ? "," : "", i % 10);
	buf[n++] = '\n';
	for (int i = 0; i < READER_MAX_FIELDS + 1; i++)
		n += (size_t) snprintf(buf + n, cap - n, "%s%d", i ? "," : "", i % 10);
	n += (size_t) snprintf(buf + n, cap - n, "\nlast,1\n");

	r = open_mem(buf, n, &comma);
	next_is(r, &rec, READ_OK);
	assert_int_equal(rec.nfields, READER_MAX_FIELDS);
	field_is(&rec, 0, "0");
	field_is(&rec, READER_MAX_FIELDS - 1, "3");	/* 1023 % 10 */
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "more than 1024 fields"));
	assert_int_equal(rec.line_no, 2);
	assert_int_equal(rec.raw_len, READER_RAW_MAX);	/* raw text is capped */
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "last", "1");
	pos_is(&rec, 2, 3, (uint64_t) (n - strlen("last,1\n")));
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(buf);
}

static void
test_nul_byte(void **state)
{
	static const char data[] = "a,b\0c\nd,e\n";
	Reader	   *r = open_mem(data, sizeof data - 1, &comma);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_BAD);
	assert_non_null(strstr(rec.reason, "NUL"));
	pos_is(&rec, 0, 1, 0);
	assert_int_equal(rec.raw_len, 5);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "d", "e");
	pos_is(&rec, 1, 2, 6);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* Positions keep counting across bad records. */
static void
test_positions_across_bad_records(void **state)
{
	Reader	   *r = open_str("h1,h2\r\n\"x\"y,1\r\n\r\nok,2\r\n\"unterminated,3\r\n");
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	pos_is(&rec, 0, 1, 0);
	next_is(r, &rec, READ_BAD);
	pos_is(&rec, 1, 2, 7);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "ok", "2");
	pos_is(&rec, 2, 4, 7 + 8 + 2);
	next_is(r, &rec, READ_BAD);
	pos_is(&rec, 3, 5, 7 + 8 + 2 + 6);
	raw_is(&rec, "\"unterminated,3");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_raw_capture(void **state)
{
	char		big[READER_RAW_MAX + 200 + 16];
	Reader	   *r;
	Record		rec;

	(void) state;
	/* a quote that does not open the field is an ordinary character */
	r = open_str("1, \"a \"\"b\"\"\" ,\"c\nd\"\r\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", " \"a \"\"b\"\"\" ", "c\nd");
	raw_is(&rec, "1, \"a \"\"b\"\"\" ,\"c\nd\"");
	reader_close(r);

	r = open_str("1,\"a \"\"b\"\"\",\"c\nd\"\r\n2\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "a \"b\"", "c\nd");
	raw_is(&rec, "1,\"a \"\"b\"\"\",\"c\nd\"");
	next_is(r, &rec, READ_OK);
	raw_is(&rec, "2");
	reader_close(r);

	/* a long record: raw is the first READER_RAW_MAX bytes, the field is whole */
	memset(big, 'z', READER_RAW_MAX + 200);
	big[READER_RAW_MAX + 200] = '\0';
	strcat(big, "\n");
	r = open_str(big);
	next_is(r, &rec, READ_OK);
	assert_int_equal(rec.fields[0].len, READER_RAW_MAX + 200);
	assert_int_equal(rec.raw_len, READER_RAW_MAX);
	assert_memory_equal(rec.raw, big, READER_RAW_MAX);
	reader_close(r);
}

/* ------------------------------------------------------------ gzip */

static void
test_gzip_transparent(void **state)
{
	const char *plain = "\xEF\xBB\xBFh1,h2\n1,\"a\nb\"\n2,c\n";
	size_t		glen;
	unsigned char *gz = gzip(plain, strlen(plain), &glen);
	Reader	   *r = open_mem(gz, glen, &comma);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "h1", "h2");
	pos_is(&rec, 0, 1, 3);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "a\nb");
	pos_is(&rec, 1, 2, 9);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "2", "c");
	pos_is(&rec, 2, 4, 17);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(plain));
	assert_int_equal(reader_file_bytes(r), glen);
	reader_close(r);
	free(gz);
}

/* Two gzip members back to back (as `cat a.gz b.gz`), split in the middle of a record. */
static void
test_gzip_two_members(void **state)
{
	const char *p1 = "a,b\n1,";
	const char *p2 = "2\n3,4\n";
	size_t		l1, l2;
	unsigned char *g1 = gzip(p1, strlen(p1), &l1);
	unsigned char *g2 = gzip(p2, strlen(p2), &l2);
	unsigned char *both = malloc(l1 + l2);
	Reader	   *r;
	Record		rec;

	(void) state;
	assert_non_null(both);
	memcpy(both, g1, l1);
	memcpy(both + l1, g2, l2);
	r = open_mem(both, l1 + l2, &comma);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "2");
	pos_is(&rec, 1, 2, 4);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "3", "4");
	pos_is(&rec, 2, 3, 8);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_file_bytes(r), l1 + l2);
	reader_close(r);
	free(both);
	free(g1);
	free(g2);
}

/* Builds n records "i,name_i,<quoted>" of varied content into a malloc'ed buffer. */
static char *
make_records(size_t n, size_t *len)
{
	size_t		cap = n * 64 + 64;
	char	   *buf = malloc(cap);
	size_t		o = 0;

	assert_non_null(buf);
	o += (size_t) snprintf(buf + o, cap - o, "id,name,note\n");
	for (size_t i = 0; i < n; i++)
	{
		if (i % 1000 == 7)
			o += (size_t) snprintf(buf + o, cap - o, "%zu,name_%zu,\"two\nlines %zu\"\r\n", i, i * 7919 % 100003, i);
		else
			o += (size_t) snprintf(buf + o, cap - o, "%zu,name_%zu,\"x,%zu\"\n", i, i * 7919 % 100003, i * i % 9973);
	}
	*len = o;
	return buf;
}

static void
test_gzip_truncated(void **state)
{
	size_t		len, glen, nok;
	char	   *plain = make_records(20000, &len);
	unsigned char *gz = gzip(plain, len, &glen);
	Reader	   *r;
	CbError		err;
	ReadStatus	st;

	(void) state;
	r = open_mem(gz, glen / 2, &comma);
	st = drain(r, &nok, &err);
	assert_int_equal(st, READ_ERROR);
	assert_int_equal(err.kind, CBERR_INPUT);
	assert_non_null(strstr(err.message, "truncated"));
	assert_non_null(strstr(err.input_at, "test.csv"));
	assert_true(nok < 20000);
	reader_close(r);

	/* cut inside the gzip header: nothing comes out, still an error */
	r = open_mem(gz, 6, &comma);
	st = drain(r, &nok, &err);
	assert_int_equal(st, READ_ERROR);
	assert_non_null(strstr(err.message, "truncated"));
	assert_int_equal(nok, 0);
	reader_close(r);

	/* cut just before the trailer's last byte */
	r = open_mem(gz, glen - 1, &comma);
	st = drain(r, &nok, &err);
	assert_int_equal(st, READ_ERROR);
	assert_non_null(strstr(err.message, "truncated"));
	reader_close(r);

	free(gz);
	free(plain);
}

/*
 * Every cut of a three-member gzip file, and every single byte changed: the inflater (igzip)
 * must end each with the records of whole members and a clear error, or read it all; never a
 * crash, a hang or records that were not in the file.
 */
static void
test_gzip_every_cut_and_flip(void **state)
{
	size_t		len[3], glen[3], total = 0, bounds[4] = {0};
	char	   *plain[3];
	unsigned char *gz[3], *all;
	size_t		nrec[3] = {40, 1, 300};

	(void) state;
	for (int m = 0; m < 3; m++)
	{
		plain[m] = make_records(nrec[m], &len[m]);
		gz[m] = gzip(plain[m], len[m], &glen[m]);
		total += glen[m];
		bounds[m + 1] = total;
	}
	all = malloc(total);
	assert_non_null(all);
	for (int m = 0; m < 3; m++)
		memcpy(all + bounds[m], gz[m], glen[m]);

	for (size_t cut = 2; cut <= total; cut++)
	{
		Reader	   *r = open_mem(all, cut, &comma);
		size_t		nok;
		CbError		err;
		ReadStatus	st = drain(r, &nok, &err);
		int			whole = -1;

		for (int m = 1; m <= 3; m++)
			if (cut == bounds[m])
				whole = m;
		if (whole > 0)
		{
			/* a cut between members is a complete gzip file: every record of those members */
			size_t		want = 0;

			for (int m = 0; m < whole; m++)
				want += nrec[m] + 1;	/* each member repeats the header line */
			if (st != READ_EOF)
				fail_msg("cut %zu (after member %d): status %d: %s", cut, whole, (int) st, err.message);
			assert_int_equal(nok, want);
		}
		else
		{
			if (st != READ_ERROR)
				fail_msg("cut %zu of %zu: status %d, %zu records", cut, total, (int) st, nok);
			assert_int_equal(err.kind, CBERR_INPUT);
			assert_true(strstr(err.message, "truncated gzip") || strstr(err.message, "corrupt gzip"));
		}
		reader_close(r);
	}

	/* every byte of the first two members changed (past the magic bytes, without which the
	 * file is read as plain text): an error, or exactly the original records */
	for (size_t at = 2; at < bounds[2]; at++)
	{
		unsigned char *bad = malloc(total);
		Reader	   *r;
		Record		rec;
		CbError		err;
		ReadStatus	st;
		size_t		nok = 0,
					nbad = 0;
		size_t		want = nrec[0] + nrec[1] + nrec[2] + 3;

		assert_non_null(bad);
		memcpy(bad, all, total);
		bad[at] ^= 0x24;
		r = open_mem(bad, total, &comma);
		memset(&err, 0, sizeof err);
		while ((st = reader_next(r, &rec, &err)) == READ_OK || st == READ_BAD)
			*(st == READ_OK ? &nok : &nbad) += 1;
		if (st == READ_ERROR)
			assert_int_equal(err.kind, CBERR_INPUT);
		else if (st == READ_EOF)
		{
			/* only bytes that carry no data may change unseen: the header's time, flags, OS */
			if (nok != want || nbad != 0)
				fail_msg("byte %zu changed: %zu records read, %zu bad, %zu in the file", at, nok, nbad, want);
		}
		else
			fail_msg("byte %zu changed: status %d", at, (int) st);
		reader_close(r);
		free(bad);
	}
	for (int m = 0; m < 3; m++)
	{
		free(gz[m]);
		free(plain[m]);
	}
	free(all);
}

/* A gzip member at level `level` whose header carries a file name, a comment, an extra field
 * and a header CRC, as `gzip` and other tools may write them. */
static unsigned char *
gzip_named(const void *data, size_t len, int level, size_t *out_len)
{
	gz_header	h;
	static unsigned char extra[] = "AB\x04\x00xyzw";

	memset(&h, 0, sizeof h);
	h.name = (Bytef *) "si_resident_payment_20261128.csv";
	h.comment = (Bytef *) "exported by the agency";
	h.extra = extra;
	h.extra_len = 8;
	h.hcrc = 1;
	h.time = 1764288000;
	return gzip_level(data, len, level, &h, out_len);
}

/*
 * The reader takes the compressed input 256 KiB at a time.  A second member whose header (with
 * name, comment, extra field and header CRC) is cut by that boundary at every offset, and one
 * whose trailer is: every record read, nothing rejected.
 */
static void
test_gzip_member_across_input_buffers(void **state)
{
	const size_t chunk = 256 * 1024;
	size_t		len2, g2len;
	char	   *plain2 = make_records(50, &len2);
	unsigned char *g2 = gzip_named(plain2, len2, 6, &g2len);

	(void) state;
	assert_true(g2len > 80);
	for (size_t k = 1; k <= 80; k++)
	{
		/* member 1, stored (level 0) so that its size can be set to the byte: chunk - k */
		size_t		target = k <= 70 ? chunk - k : chunk - g2len + (k - 70);
		size_t		plen = target - 200,
					g1len = 0;
		unsigned char *g1 = NULL;
		char	   *plain1 = malloc(chunk);
		size_t		rows = 0;

		assert_non_null(plain1);
		for (int tries = 0; tries < 50; tries++)
		{
			/* "id,name,note", rows "1,a,b", a last row padded to make plen bytes */
			size_t		o = (size_t) snprintf(plain1, chunk, "id,name,note\n");

			rows = 0;
			while (o + 6 + 12 <= plen)
			{
				memcpy(plain1 + o, "1,a,b\n", 6);
				o += 6;
				rows++;
			}
			memcpy(plain1 + o, "2,", 2);
			o += 2;
			while (o < plen - 3)
				plain1[o++] = 'p';
			memcpy(plain1 + o, ",c\n", 3);
			o += 3;
			rows++;
			free(g1);
			g1 = gzip_named(plain1, o, 0, &g1len);
			if (g1len == target)
				break;
			plen += target - g1len;	/* unsigned wrap: adds a negative difference too */
		}
		assert_int_equal(g1len, target);

		unsigned char *both = malloc(g1len + g2len);
		Reader	   *r;
		size_t		nok;
		CbError		err;
		ReadStatus	st;

		assert_non_null(both);
		memcpy(both, g1, g1len);
		memcpy(both + g1len, g2, g2len);
		r = open_mem(both, g1len + g2len, &comma);
		st = drain(r, &nok, &err);
		if (st != READ_EOF)
			fail_msg("member 2 at %zu (boundary %zu): status %d: %s", g1len, chunk, (int) st, err.message);
		assert_int_equal(nok, 1 + rows + 51);
		reader_close(r);
		free(both);
		free(g1);
		free(plain1);
	}
	free(g2);
	free(plain2);
}

static void
test_gzip_corrupt(void **state)
{
	const char *plain = "a,b\n1,2\n3,4\n";
	size_t		glen, nok;
	unsigned char *gz = gzip(plain, strlen(plain), &glen);
	unsigned char *bad = malloc(glen);
	Reader	   *r;
	CbError		err;
	ReadStatus	st;

	(void) state;
	assert_non_null(bad);

	/* first deflate byte 0xFF: final block of the reserved type 3 */
	memcpy(bad, gz, glen);
	bad[10] = 0xFF;
	r = open_mem(bad, glen, &comma);
	st = drain(r, &nok, &err);
	assert_int_equal(st, READ_ERROR);
	assert_int_equal(err.kind, CBERR_INPUT);
	assert_non_null(strstr(err.message, "corrupt gzip"));
	assert_int_equal(nok, 0);
	reader_close(r);

	/* wrong CRC-32 in the trailer */
	memcpy(bad, gz, glen);
	bad[glen - 8] ^= 0x55;
	r = open_mem(bad, glen, &comma);
	st = drain(r, &nok, &err);
	assert_int_equal(st, READ_ERROR);
	assert_non_null(strstr(err.message, "corrupt gzip"));
	reader_close(r);

	/* a second "member" that is garbage after a valid one */
	{
		unsigned char *two = malloc(glen + 12);

		assert_non_null(two);
		memcpy(two, gz, glen);
		memcpy(two + glen, "\x1f\x8b\x08\x00garbage!", 12);
		r = open_mem(two, glen + 12, &comma);
		st = drain(r, &nok, &err);
		assert_int_equal(st, READ_ERROR);
		reader_close(r);

		/* four zero bytes after the last member (padding some tools leave): corrupt, named
		 * as such at once, not a member cut short */
		memset(two + glen, 0, 4);
		r = open_mem(two, glen + 4, &comma);
		st = drain(r, &nok, &err);
		assert_int_equal(st, READ_ERROR);
		assert_non_null(strstr(err.message, "corrupt gzip data: incorrect header check"));
		assert_int_equal(nok, 3);
		reader_close(r);
		free(two);
	}

	free(bad);
	free(gz);
}

/* Data that starts with 1f but not 8b, or is a single 1f byte, is plain text. */
static void
test_not_gzip(void **state)
{
	Reader	   *r;
	Record		rec;

	(void) state;
	r = open_mem("\x1f", 1, &comma);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "\x1f");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_str("\x1f" "a,b\n");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "\x1f" "a", "b");
	reader_close(r);
}

/* ------------------------------------------------------------ large input, SHA-256 */

static void
check_large(const void *data, size_t len, size_t nrec, size_t plain_len)
{
	Reader	   *r = open_mem(data, len, &comma);
	Record		rec;
	char		want[64];
	uint64_t	line = 2;

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "id", "name", "note");
	for (size_t i = 0; i < nrec; i++)
	{
		next_is(r, &rec, READ_OK);
		if (rec.nfields != 3 || rec.record_no != i + 1 || rec.line_no != line)
			fail_msg("record %zu: %d fields, record_no %llu, line %llu (want line %llu)", i,
					 rec.nfields, (unsigned long long) rec.record_no,
					 (unsigned long long) rec.line_no, (unsigned long long) line);
		snprintf(want, sizeof want, "%zu", i);
		field_is(&rec, 0, want);
		snprintf(want, sizeof want, "name_%zu", i * 7919 % 100003);
		field_is(&rec, 1, want);
		if (i % 1000 == 7)
		{
			snprintf(want, sizeof want, "two\nlines %zu", i);
			line += 2;
		}
		else
		{
			snprintf(want, sizeof want, "x,%zu", i * i % 9973);
			line += 1;
		}
		field_is(&rec, 2, want);
	}
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), plain_len);
	assert_int_equal(reader_file_bytes(r), len);
	reader_close(r);
}

static void
test_large_input(void **state)
{
	const size_t n = test_work(200000, 100000);
	size_t		len, glen;
	char	   *plain = make_records(n, &len);
	unsigned char *gz;

	(void) state;
	assert_true(len > 2 * (1 << 20));	/* several reader buffers (1 MiB) */
	check_large(plain, len, n, len);
	gz = gzip(plain, len, &glen);
	check_large(gz, glen, n, len);
	free(gz);
	free(plain);
}

static void
test_sha256(void **state)
{
	size_t		len, glen, nok;
	char	   *plain = make_records(50000, &len);
	unsigned char *gz = gzip(plain, len, &glen);
	char		want[65], got[65];
	Reader	   *r;
	CbError		err;

	(void) state;
	sha256_hex(plain, len, want);
	r = open_mem(plain, len, &comma);
	assert_int_equal(drain(r, &nok, &err), READ_EOF);
	assert_true(reader_sha256(r, got));
	assert_string_equal(got, want);
	assert_true(reader_sha256(r, got));	/* asking twice gives the same */
	assert_string_equal(got, want);
	reader_close(r);

	/* of the compressed file's bytes, not of the text */
	sha256_hex(gz, glen, want);
	r = open_mem(gz, glen, &comma);
	assert_int_equal(drain(r, &nok, &err), READ_EOF);
	assert_int_equal(nok, 50001);
	assert_true(reader_sha256(r, got));
	assert_string_equal(got, want);
	reader_close(r);

	/* the empty input */
	sha256_hex("", 0, want);
	assert_string_equal(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	r = open_mem("", 0, &comma);
	assert_int_equal(drain(r, &nok, &err), READ_EOF);
	assert_true(reader_sha256(r, got));
	assert_string_equal(got, want);
	reader_close(r);

	free(gz);
	free(plain);
}

/* One reading of data: every record's status, position, raw text and fields, as text. */
static char *
read_all_records(const char *data, size_t len, const CsvOptions *opt, size_t *out_len)
{
	size_t		cap = 4096 + len * 8, n = 0;
	char	   *out = malloc(cap);
	Reader	   *r = open_mem(data, len, opt);
	Record		rec;
	CbError		err;
	ReadStatus	st;

	assert_non_null(out);
	memset(&rec, 0, sizeof rec);	/* at READ_EOF the reader leaves rec as it was */
	for (;;) {
		memset(&err, 0, sizeof err);
		st = reader_next(r, &rec, &err);
		if (n + 4096 + rec.raw_len > cap) {
			cap = cap * 2 + rec.raw_len;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		n += (size_t) snprintf(out + n, cap - n, "st=%d", (int) st);
		if (st == READ_EOF || st == READ_ERROR)
			break;
		n += (size_t) snprintf(out + n, cap - n, " rec=%llu line=%llu off=%llu nf=%d reason=%s raw=",
							   (unsigned long long) rec.record_no, (unsigned long long) rec.line_no,
							   (unsigned long long) rec.byte_offset, rec.nfields,
							   st == READ_BAD ? rec.reason : "");
		memcpy(out + n, rec.raw, rec.raw_len);
		n += rec.raw_len;
		for (int i = 0; st == READ_OK && i < rec.nfields; i++) {
			if (n + 16 + rec.fields[i].len > cap) {
				cap = cap * 2 + rec.fields[i].len;
				out = realloc(out, cap);
				assert_non_null(out);
			}
			out[n++] = '|';
			memcpy(out + n, rec.fields[i].p, rec.fields[i].len);
			n += rec.fields[i].len;
		}
		out[n++] = '\n';
	}
	reader_close(r);
	*out_len = n;
	return out;
}

/* The zero-copy path for plain records and the byte-by-byte path agree on every input: random
 * records over the bytes that matter (delimiter, quote, CR, LF, NUL, text), with small record
 * limits so that over-long records occur. */
static void
test_fast_path_agrees(void **state)
{
	static const char alphabet[] = {'a', 'b', ',', ',', '"', '"', '\r', '\n', '\n', '\0', 'x', ';'};
	uint64_t	seed = 0x9E3779B97F4A7C15ull;
	char		buf[512];

	(void) state;
	int			rounds = (int) test_work(20000, 2000);

	for (int round = 0; round < rounds; round++) {
		size_t		len = 0, want;
		CsvOptions	opt = {round % 3 == 0 ? ';' : ',', '"', (size_t) (round % 5 == 0 ? 6 + round % 17 : 0)};

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		want = (size_t) (seed >> 33) % sizeof buf;
		while (len < want) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly plain records, so that both paths are taken */
			if ((seed >> 60) < 10) {
				int			k = (int) (seed >> 40) % 4;
				const char *plain[] = {"ab,cd\n", "\"a,b\",c\r\n", "x,\"y\nz\"\n", ",,\n"};

				size_t		pl = strlen(plain[k]);

				if (len + pl > sizeof buf)
					break;
				memcpy(buf + len, plain[k], pl);
				len += pl;
			} else {
				buf[len++] = alphabet[(seed >> 35) % sizeof alphabet];
			}
		}
		if (round % 7 == 0 && len >= 3) {
			buf[0] = (char) 0xEF;
			buf[1] = (char) 0xBB;
			buf[2] = (char) 0xBF;
		}
		size_t		n_fast, n_slow;

		csv_reader_fast_path(true);
		char	   *fast = read_all_records(buf, len, &opt, &n_fast);

		csv_reader_fast_path(false);
		char	   *slow = read_all_records(buf, len, &opt, &n_slow);

		csv_reader_fast_path(true);
		if (n_fast != n_slow || memcmp(fast, slow, n_fast) != 0)
			fail_msg("round %d: the two paths differ\nfast:\n%.*s\nslow:\n%.*s", round,
					 (int) n_fast, fast, (int) n_slow, slow);
		free(fast);
		free(slow);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_lf),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_quoted_delimiters),
		cmocka_unit_test(test_escaped_quotes),
		cmocka_unit_test(test_embedded_newlines),
		cmocka_unit_test(test_bom_skipped),
		cmocka_unit_test(test_bom_only_at_start),
		cmocka_unit_test(test_blank_lines_skipped),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_tab_delimiter),
		cmocka_unit_test(test_last_record_without_newline),
		cmocka_unit_test(test_unterminated_quote_at_eof),
		cmocka_unit_test(test_char_after_closing_quote),
		cmocka_unit_test(test_record_too_long),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_positions_across_bad_records),
		cmocka_unit_test(test_raw_capture),
		cmocka_unit_test(test_gzip_transparent),
		cmocka_unit_test(test_gzip_two_members),
		cmocka_unit_test(test_gzip_truncated),
		cmocka_unit_test(test_gzip_corrupt),
		cmocka_unit_test(test_gzip_every_cut_and_flip),
		cmocka_unit_test(test_gzip_member_across_input_buffers),
		cmocka_unit_test(test_not_gzip),
		cmocka_unit_test(test_large_input),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_fast_path_agrees),
	};

	return cmocka_run_group_tests_name("csv reader", tests, NULL, NULL);
}
