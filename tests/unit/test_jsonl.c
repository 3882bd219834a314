/*
 * test_jsonl.c
 *     Unit tests for the JSON Lines reader (connectors/jsonl.c) through
 *     connectors/reader.h: value kinds (strings, numbers, true/false, null, objects
 *     and arrays as JSON text), escapes and surrogate pairs, nested keys, positions
 *     (BOM, CRLF, blank lines), invalid lines as READ_BAD with reading going on, the
 *     nesting limit, duplicate keys, over-long lines (a 100 MB one included) with
 *     bounded memory, lines across the 1 MiB read buffer, gzip and GBK.  Ends with a
 *     throughput figure (printed, not asserted).
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
jsonl_spec(const char *const *names, int nnames)
{
	ReaderSpec	s;

	memset(&s, 0, sizeof s);
	s.format = RF_JSONL;
	s.names = names;
	s.nnames = nnames;
	return s;
}

static Reader *
open_spec(const ReaderSpec *s, const void *data, size_t len)
{
	CbError		err;
	Reader	   *r;

	memset(&err, 0, sizeof err);
	r = reader_open_mem(s, "test.jsonl", data, len, &err);
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

/* Next record must be READ_BAD with a reason containing want. */
static void
bad_is(Reader *r, Record *rec, const char *want)
{
	next_is(r, rec, READ_BAD);
	if (strstr(rec->reason, want) == NULL)
		fail_msg("reason \"%s\", want it to contain \"%s\"", rec->reason, want);
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

static unsigned char *
gzip(const void *data, size_t len, size_t *out_len)
{
	z_stream	zs;
	unsigned char *out;
	size_t		cap;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, (uLong) len) + 64;
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

/* ------------------------------------------------------------ values */

static void
test_value_kinds(void **state)
{
	static const char data[] =
		"{\"name\": \"张三\", \"age\": 42, \"score\": -1.5e+3, \"ok\": true, \"no\": false,"
		" \"gone\": null, \"tags\": [1, \"a\", {\"x\": []}], \"addr\": {\"city\": \"延吉\", \"zip\": 133000}}\n"
		"{\"addr\": {\"city\": null}, \"name\": \"\", \"tags\": [], \"age\": 0}\n"
		"{\"addr\": \"not an object\", \"ok\": {}}\n";
	const char *names[] = {"name", "age", "score", "ok", "no", "gone", "tags", "addr", "addr/city",
	"addr/zip", "missing"};
	ReaderSpec	s = jsonl_spec(names, 11);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "42", "-1.5e+3", "true", "false", NULL, "[1, \"a\", {\"x\": []}]",
		   "{\"city\": \"延吉\", \"zip\": 133000}", "延吉", "133000", NULL);
	pos_is(&rec, 1, 1, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "0", NULL, NULL, NULL, NULL, "[]", "{\"city\": null}", NULL, NULL, NULL);
	pos_is(&rec, 2, 2, (uint64_t) (strchr(data, '\n') - data + 1));
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, NULL, NULL, NULL, "{}", NULL, NULL, NULL, "not an object", NULL, NULL, NULL);
	next_is(r, &rec, READ_EOF);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(data));
	reader_close(r);
}

static void
test_escapes(void **state)
{
	static const char data[] =
		"{\"s\": \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\", \"u\": \"\\u00e9\\u4E2D\\u0041\", "
		"\"pair\": \"\\ud83d\\ude00!\", \"raw\": \"中\xF0\x9F\x98\x80\", \"k\\u0065y\": \"v\"}\n";
	const char *names[] = {"s", "u", "pair", "raw", "key"};
	ReaderSpec	s = jsonl_spec(names, 5);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "q\" b\\ s/ \b\f\n\r\t", "\xC3\xA9中A", "\xF0\x9F\x98\x80!", "中\xF0\x9F\x98\x80", "v");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_nested_keys(void **state)
{
	static const char data[] =
		"{\"a\": {\"b\": {\"c\": \"deep\", \"d\": [1]}, \"e\": 1}, \"a/b\": \"slash key\", \"x\": {\"a\": {\"b\": 9}}}\n";
	const char *names[] = {"a/b/c", "a/b/d", "a/e", "a/b", "x/a/b", "a/b/c/d", "b"};
	ReaderSpec	s = jsonl_spec(names, 7);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "deep", "[1]", "1", "{\"c\": \"deep\", \"d\": [1]}", "9", NULL, NULL);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/*
 * The reader remembers the keys of the last good line (its shape) and does not look up again
 * the keys of a line that repeat it.  Lines that follow the shape, leave it, come back to it,
 * stop short of it, go past it, or fail after leaving it (which must not leave a shape with
 * a key twice behind), and shapes too large to keep.
 */
static void
test_line_shapes(void **state)
{
	static const char data[] =
		"{\"a\": 1, \"b\": \"x\", \"o\": {\"k\": 5}, \"c\": true}\n"
		"{\"a\": 2, \"b\": \"y\", \"o\": {\"k\": 6}, \"c\": false}\n"
		"{\"a\": 3, \"c\": 4, \"x\": nope}\n"				/* leaves the shape, then bad */
		"{\"a\": 3, \"c\": 4, \"x\": 5, \"c\": 6}\n"	/* the shape's keys and the bad line's */
		"{\"a\": 1, \"b\": 2, \"c\": 3}\n"
		"{\"a\": 1, \"b\": 2, \"c\": 3, \"a\": 4}\n"		/* past the shape, a key again */
		"{\"a\": 1, \"b\": 2, \"a\": 3}\n"
		"{\"a\": 9, \"b\": 8}\n"							/* short of the shape */
		"{\"c\": 7, \"b\": 6, \"a\": 5}\n"					/* another order */
		"{\"c\": 7, \"b\": 6, \"a\": 5, \"o\": {\"k\": \"deep\"}}\n"
		"{\"c\": 7, \"b\": 6, \"a\": 5, \"o\": {\"k\": \"deeper\", \"k\": 1}}\n"
		"{\"c\": 7, \"b\": 6, \"a\": 5, \"o\": {\"k\": \"deepest\"}}\n"
		"{\"c\": 7, \"b\": 6, \"a\": 5, \"o\": 1, \"c\": 2}\n";
	const char *names[] = {"a", "b", "o/k", "c", "o"};
	ReaderSpec	s = jsonl_spec(names, 5);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "x", "5", "true", "{\"k\": 5}");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "2", "y", "6", "false", "{\"k\": 6}");
	bad_is(r, &rec, "a value expected");
	bad_is(r, &rec, "key \"c\" appears twice");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "2", NULL, "3", NULL);
	bad_is(r, &rec, "byte column 26: key \"a\" appears twice");
	bad_is(r, &rec, "byte column 18: key \"a\" appears twice");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "9", "8", NULL, NULL, NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "5", "6", NULL, "7", NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "5", "6", "deep", "7", "{\"k\": \"deep\"}");
	bad_is(r, &rec, "key \"k\" appears twice");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "5", "6", "deepest", "7", "{\"k\": \"deepest\"}");
	bad_is(r, &rec, "key \"c\" appears twice");
	pos_is(&rec, 13, 13, strlen(data) - strlen("{\"c\": 7, \"b\": 6, \"a\": 5, \"o\": 1, \"c\": 2}\n"));
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* Shapes of more keys, or longer keys, than the reader keeps: read the ordinary way. */
static void
test_large_shapes(void **state)
{
	enum { KEYS = 40 };
	static char data[16384];
	char		big[2][700];
	const char *names[] = {"k35", "k0"};
	ReaderSpec	s = jsonl_spec(names, 2);
	Record		rec;
	size_t		o = 0;

	(void) state;
	for (int line = 0; line < 4; line++)
	{
		for (int k = 0; k < KEYS; k++)
			o += (size_t) snprintf(data + o, sizeof data - o, "%s\"k%d\": %d", k ? ", " : "{",
								   line == 3 && k == KEYS - 1 ? 0 : k, line * 100 + k);
		o += (size_t) snprintf(data + o, sizeof data - o, "}\n");
	}
	Reader	   *r = open_spec(&s, data, o);

	for (int line = 0; line < 3; line++)
	{
		char		want[16];

		next_is(r, &rec, READ_OK);
		snprintf(want, sizeof want, "%d", line * 100 + 35);
		field_is(&rec, 0, want);
	}
	bad_is(r, &rec, "key \"k0\" appears twice");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	/* two keys of 600 bytes: more key text than a shape holds */
	for (int i = 0; i < 2; i++)
	{
		memset(big[i], 'a' + i, 600);
		big[i][600] = '\0';
	}
	o = 0;
	for (int line = 0; line < 3; line++)
		o += (size_t) snprintf(data + o, sizeof data - o, "{\"%s\": 1, \"%s\": 2, \"k0\": %d%s}\n", big[0],
							   big[1], line, line == 2 ? ", \"k0\": 9" : "");
	r = open_spec(&s, data, o);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, NULL, "0");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, NULL, "1");
	bad_is(r, &rec, "key \"k0\" appears twice");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* ------------------------------------------------------------ positions */

static void
test_positions(void **state)
{
	static const char data[] =
		"\xEF\xBB\xBF{\"a\":1}\r\n"		/* BOM, line 1, offset 3 */
		"\r\n"							/* blank */
		"   \t \n"						/* blank */
		"{\"a\":2}\r\n"					/* line 4, offset 3+9+2+6 = 20 */
		"\n"
		"{\"a\":3}";					/* line 6, no final LF, offset 20 + 9 + 1 = 30 */
	const char *names[] = {"a"};
	ReaderSpec	s = jsonl_spec(names, 1);
	Reader	   *r = open_spec(&s, data, strlen(data));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1");
	pos_is(&rec, 1, 1, 3);
	raw_is(&rec, "{\"a\":1}");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "2");
	pos_is(&rec, 2, 4, 20);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "3");
	pos_is(&rec, 3, 6, 30);
	raw_is(&rec, "{\"a\":3}");
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(data));
	reader_close(r);
}

/* ------------------------------------------------------------ invalid lines */

/* Each bad line is followed by a good one, which must still be read. */
static void
test_invalid_lines(void **state)
{
	static const struct
	{
		const char *line;
		const char *reason;
	}			cases[] = {
		{"{\"a\": 1} x", "byte column 10: unexpected text after the object"},
		{"{\"a\": 1}{\"a\": 2}", "byte column 9: unexpected text"},
		{"{\"a\": \"open", "byte column 7: unterminated string"},
		{"{\"a\": \"x\\q\"}", "byte column 9: bad escape"},
		{"{\"a\": \"\\u12G4\"}", "bad \\u escape"},
		{"{\"a\": \"\\ud800\"}", "lone high surrogate"},
		{"{\"a\": \"\\ud800\\u0041\"}", "lone high surrogate"},
		{"{\"a\": \"\\udc00\"}", "lone low surrogate"},
		{"{\"a\": \"\\u0000\"}", "NUL"},
		{"{\"a\": \"tab\there\"}", "control character"},
		{"[1, 2]", "byte column 1: a line must hold one JSON object, not an array"},
		{"\"just a string\"", "must hold one JSON object"},
		{"  42", "byte column 3: a line must hold one JSON object"},
		{"{\"a\" 1}", "':' expected"},
		{"{\"a\": 1,}", "a key (a string) expected"},
		{"{a: 1}", "a key (a string) expected"},
		{"{\"a\": 1", "unterminated object"},
		{"{\"a\": [1, 2}", "',' or ']' expected"},
		{"{\"a\": 01}", "',' or '}' expected"},
		{"{\"a\": 1.}", "digits expected after '.'"},
		{"{\"a\": 1e}", "digits expected in the exponent"},
		{"{\"a\": -}", "bad number"},
		{"{\"a\": +1}", "a value expected"},
		{"{\"a\": tru}", "a value expected"},
		{"{\"a\": nul}", "a value expected"},
		{"{\"a\": .5}", "a value expected"},
		{"{\"a\": 1, \"a\": 2}", "byte column 10: key \"a\" appears twice"},
		{"{\"a\": 1, \"\\u0061\": 2}", "key \"a\" appears twice"},
		{"{\"o\": {\"k\": 1, \"k\": 2}}", "key \"k\" appears twice"},
		{"{\"a\": \"x\x01\"}", "control character"},
	};
	const char *names[] = {"a", "o/k"};
	ReaderSpec	s = jsonl_spec(names, 2);
	char		buf[512];
	Record		rec;

	(void) state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		snprintf(buf, sizeof buf, "%s\n{\"a\": \"next\", \"o\": {\"k\": 1}, \"b\": {\"k\": 2}}\n",
				 cases[i].line);
		Reader	   *r = open_spec(&s, buf, strlen(buf));

		char		alone[sizeof rec.reason];

		bad_is(r, &rec, cases[i].reason);
		snprintf(alone, sizeof alone, "%s", rec.reason);
		pos_is(&rec, 1, 1, 0);
		raw_is(&rec, cases[i].line);
		assert_null(rec.fields[0].p);
		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "next", "1");	/* same key in two objects is fine */
		pos_is(&rec, 2, 2, strlen(cases[i].line) + 1);
		next_is(r, &rec, READ_EOF);
		reader_close(r);

		/* the same line after a good one whose keys it starts with (the shape, read by a
		 * shortcut): the same reason, at the same byte column */
		snprintf(buf, sizeof buf, "{\"a\": 0}\n%s\n{\"a\": \"next\"}\n", cases[i].line);
		r = open_spec(&s, buf, strlen(buf));
		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "0", NULL);
		next_is(r, &rec, READ_BAD);
		if (strcmp(rec.reason, alone) != 0)
			fail_msg("\"%s\" after a good line: \"%s\", alone: \"%s\"", cases[i].line, rec.reason,
					 alone);
		assert_null(rec.fields[0].p);
		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "next", NULL);
		reader_close(r);
	}
}

static void
test_depth_limit(void **state)
{
	char		buf[1024];
	size_t		n = 0;
	const char *names[] = {"a"};
	ReaderSpec	s = jsonl_spec(names, 1);
	Record		rec;

	(void) state;
	/* 64 levels: the line's object and 63 nested arrays */
	n += (size_t) sprintf(buf + n, "{\"a\":");
	for (int i = 0; i < 63; i++)
		buf[n++] = '[';
	for (int i = 0; i < 63; i++)
		buf[n++] = ']';
	n += (size_t) sprintf(buf + n, "}\n{\"a\":");
	for (int i = 0; i < 64; i++)
		buf[n++] = '[';
	for (int i = 0; i < 64; i++)
		buf[n++] = ']';
	n += (size_t) sprintf(buf + n, "}\n{\"a\":\"ok\"}\n");

	Reader	   *r = open_spec(&s, buf, n);

	next_is(r, &rec, READ_OK);
	assert_int_equal(rec.fields[0].len, 126);
	bad_is(r, &rec, "nesting deeper than 64");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "ok");
	reader_close(r);

	/* a nested path through 64 objects */
	char		name[256];
	const char *pname[] = {name};

	n = 0;
	name[0] = '\0';
	for (int i = 0; i < 63; i++)
	{
		n += (size_t) sprintf(buf + n, "{\"k\":");
		strcat(name, i ? "/k" : "k");
	}
	n += (size_t) sprintf(buf + n, "{\"k\":\"bottom\"");
	for (int i = 0; i < 64; i++)
		buf[n++] = '}';
	buf[n++] = '\n';
	strcat(name, "/k");
	s = jsonl_spec(pname, 1);
	r = open_spec(&s, buf, n);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "bottom");
	reader_close(r);
}

/* ------------------------------------------------------------ long lines */

static void
test_long_lines(void **state)
{
	const char *names[] = {"a"};
	ReaderSpec	s = jsonl_spec(names, 1);
	Record		rec;
	char		buf[4096];

	(void) state;
	/* a small limit: exactly at the limit is fine, one more byte is not */
	s.max_record_bytes = 20;
	snprintf(buf, sizeof buf, "{\"a\":\"%s\"}\r\n{\"a\":\"%s\"}\n{\"a\":\"short\"}\n",
			 "012345678901", "0123456789012");
	assert_int_equal(strlen("{\"a\":\"012345678901\"}"), 20);
	Reader	   *r = open_spec(&s, buf, strlen(buf));

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "012345678901");
	bad_is(r, &rec, "longer than the limit of 20 bytes");
	pos_is(&rec, 2, 2, 22);
	raw_is(&rec, "{\"a\":\"0123456789012\"}");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "short");
	pos_is(&rec, 3, 3, 22 + 22);
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	/* lines that straddle the 1 MiB read buffer: valid ones parse, long ones are cut */
	size_t		big = 3 * 1024 * 1024 + 100,
				n = 0;
	char	   *data = malloc(big * 3);

	s.max_record_bytes = 2 * 1024 * 1024;
	for (int k = 0; k < 5; k++)
	{
		size_t		len = k == 2 ? 2500000 : 700000 + (size_t) k * 1000;

		n += (size_t) sprintf(data + n, "{\"a\":\"");
		memset(data + n, 'a' + k, len);
		n += len;
		n += (size_t) sprintf(data + n, "\"}\n");
	}
	r = open_spec(&s, data, n);
	for (int k = 0; k < 5; k++)
	{
		if (k == 2)
		{
			bad_is(r, &rec, "longer than the limit");
			assert_int_equal(rec.raw_len, READER_RAW_MAX);
			continue;
		}
		next_is(r, &rec, READ_OK);
		assert_int_equal(rec.fields[0].len, 700000 + (size_t) k * 1000);
		assert_int_equal(rec.fields[0].p[0], 'a' + k);
		assert_int_equal(rec.fields[0].p[rec.fields[0].len - 1], 'a' + k);
		assert_int_equal(rec.record_no, (uint64_t) k + 1);
	}
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), n);
	reader_close(r);
	free(data);
}

/* A 100 MB line with the default 1 MiB limit: rejected quickly, the next line read. */
static void
test_huge_line(void **state)
{
	size_t		len = 100 * 1000 * 1000,
				n = 0;
	char	   *data = malloc(len + 100);
	const char *names[] = {"a"};
	ReaderSpec	s = jsonl_spec(names, 1);
	Record		rec;

	(void) state;
	assert_non_null(data);
	n += (size_t) sprintf(data + n, "{\"a\":\"");
	memset(data + n, 'x', len);
	n += len;
	n += (size_t) sprintf(data + n, "\"}\n{\"a\":\"after\"}\n");

	Reader	   *r = open_spec(&s, data, n);
	double		t0 = now();

	bad_is(r, &rec, "longer than the limit of 1048576 bytes");
	double		t = now() - t0;

	pos_is(&rec, 1, 1, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "after");
	pos_is(&rec, 2, 2, len + 9);
	printf("    100 MB line rejected in %.3f s\n", t);
	assert_true(t < time_limit(2.0));
	reader_close(r);
	free(data);
}

/* ------------------------------------------------------------ encodings */

static void
test_gzip_and_gbk(void **state)
{
	static const char utf8[] = "{\"姓名\": \"张三\", \"住址\": {\"市\": \"延吉市\"}}\n{\"姓名\": \"李四\"}\n";
	const char *names[] = {"姓名", "住址/市"};
	ReaderSpec	s = jsonl_spec(names, 2);
	Record		rec;
	size_t		glen;
	unsigned char *gz = gzip(utf8, strlen(utf8), &glen);
	Reader	   *r = open_spec(&s, gz, glen);

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "延吉市");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", NULL);
	assert_int_equal(rec.byte_offset, strchr(utf8, '\n') - utf8 + 1);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(gz);

	/* GBK text: the byte stream transcodes it, keys included */
	iconv_t		cd = iconv_open("GBK", "UTF-8");
	char		gbk[256],
			   *in = (char *) utf8,
			   *out = gbk;
	size_t		inleft = strlen(utf8),
				outleft = sizeof gbk;

	assert_true(cd != (iconv_t) -1);
	assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t) -1);
	iconv_close(cd);
	s.encoding = "GBK";
	r = open_spec(&s, gbk, sizeof gbk - outleft);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "延吉市");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", NULL);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_bad_spec(void **state)
{
	const char *names[] = {"a//b"};
	ReaderSpec	s = jsonl_spec(names, 1);
	CbError		err;

	(void) state;
	memset(&err, 0, sizeof err);
	/* the constructor directly, then through the API */
	assert_null(jsonl_reader_new(&s, "t.jsonl", "", 0, &err));
	assert_non_null(strstr(err.message, "a//b"));
	names[0] = "a/";
	assert_null(reader_open_mem(&s, "t.jsonl", "", 0, &err));
	names[0] = "";
	assert_null(reader_open_mem(&s, "t.jsonl", "", 0, &err));
}

/* ------------------------------------------------------------ throughput */

static void
test_throughput(void **state)
{
	size_t		cap = 52 * 1024 * 1024,
				n = 0,
				nrec = 0;
	char	   *data = malloc(cap + 4096);
	const char *names[] = {"id_number", "name", "birth", "addr/city", "seq"};
	ReaderSpec	s = jsonl_spec(names, 5);

	(void) state;
	/* 50 MiB of records (4 MiB under valgrind: several reader buffers still) */
	const size_t want = test_work(50 * 1024 * 1024, 4 * 1024 * 1024);

	while (n < want)
	{
		n += (size_t) sprintf(data + n,
							  "{\"seq\": %zu, \"id_number\": \"2224011990%08zu\", \"name\": \"张三丰\", "
							  "\"birth\": \"1990-03-07\", \"addr\": {\"city\": \"延吉市\", "
							  "\"street\": \"河南街道 %zu 号\"}, \"flags\": [true, null, 1.5]}\n",
							  nrec, nrec, nrec % 1000);
		nrec++;
	}

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
	printf("    jsonl: %.1f MB, %zu records in %.3f s: %.1f MB/s\n", n / 1e6, nrec, t, n / 1e6 / t);
	reader_close(r);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_kinds),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_nested_keys),
		cmocka_unit_test(test_line_shapes),
		cmocka_unit_test(test_large_shapes),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_invalid_lines),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_gzip_and_gbk),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests_name("jsonl reader", tests, NULL, NULL);
}
