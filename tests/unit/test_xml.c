/*
 * test_xml.c
 *     Unit tests for the XML reader (connectors/xml.c) through connectors/reader.h:
 *     record paths (absolute and //), namespaces (default and prefixed), fields from
 *     children, grandchildren and attributes, CDATA and entities, absent and empty
 *     fields, positions and raw text, gzip, a GBK document, record size limit, and
 *     hostile input: malformed XML, billion laughs, external entities, deep nesting,
 *     with libxml2 kept off stderr.  Ends with a throughput figure (printed, not
 *     asserted).
 *
 * Compressed inputs are made with zlib's deflateInit2 (windowBits 31), GBK bytes with
 * iconv, independently of the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
xml_spec(const char *record_path, const char *const *names, int nnames)
{
	ReaderSpec	s;

	memset(&s, 0, sizeof s);
	s.format = RF_XML;
	s.record_path = record_path;
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
	r = reader_open_mem(s, "test.xml", data, len, &err);
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
		fail_msg("reader_next: status %d, want %d (reason \"%s\", error \"%s\" at %s)",
				 (int) st, (int) want, st == READ_BAD ? rec->reason : "", err.message,
				 err.input_at);
}

/* Reads until the status is not READ_OK; returns it, the error and the count read. */
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

/* Fields by position; NULL in the list means "absent".  n given explicitly. */
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

/* Converts UTF-8 text to the encoding `to` with iconv; malloc'ed, *out_len bytes. */
static char *
transcode(const char *text, const char *to, size_t *out_len)
{
	iconv_t		cd = iconv_open(to, "UTF-8");
	size_t		inleft = strlen(text),
				cap = inleft * 2 + 16,
				outleft = cap;
	char	   *out = malloc(cap),
			   *in = (char *) text,
			   *o = out;

	assert_true(cd != (iconv_t) -1);
	assert_non_null(out);
	assert_true(iconv(cd, &in, &inleft, &o, &outleft) != (size_t) -1);
	iconv_close(cd);
	*out_len = cap - outleft;
	return out;
}

/* ------------------------------------------------------------ records and fields */

static const char people[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"	/* line 1 */
	"<data>\n"									/* 2 */
	"  <rows>\n"								/* 3 */
	"    <row id=\"1\">\n"						/* 4 */
	"      <name>张三</name>\n"
	"      <addr zip=\"100000\"><city>北京</city><street>长安街 1 号</street></addr>\n"
	"    </row>\n"
	"    <row id=\"2\"><name>李四</name></row>\n"	/* 8 */
	"    <row><name></name><addr/></row>\n"		/* 9 */
	"  </rows>\n"
	"  <row id=\"x\"><name>not a record: wrong path</name></row>\n"
	"</data>\n";

static void
test_absolute_path(void **state)
{
	const char *names[] = {"name", "@id", "addr/city", "addr/@zip", "addr", "missing"};
	ReaderSpec	s = xml_spec("data/rows/row", names, 6);
	Reader	   *r = open_spec(&s, people, strlen(people));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "1", "北京", "100000", "北京长安街 1 号", NULL);
	assert_int_equal(rec.record_no, 1);
	assert_int_equal(rec.line_no, 4);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", "2", NULL, NULL, NULL, NULL);
	assert_int_equal(rec.record_no, 2);
	assert_int_equal(rec.line_no, 8);
	raw_is(&rec, "<row id=\"2\"><name>李四</name></row>");
	next_is(r, &rec, READ_OK);
	/* empty elements are present and empty; a missing attribute is absent */
	FIELDS(&rec, "", NULL, NULL, NULL, "", NULL);
	assert_int_equal(rec.record_no, 3);
	assert_int_equal(rec.line_no, 9);
	raw_is(&rec, "<row><name></name><addr/></row>");
	next_is(r, &rec, READ_EOF);
	next_is(r, &rec, READ_EOF);	/* EOF is sticky */
	assert_int_equal(reader_bytes_in(r), strlen(people));
	reader_close(r);

	/* a leading '/' is the same absolute path */
	s = xml_spec("/data/rows/row", names, 6);
	r = open_spec(&s, people, strlen(people));
	size_t		n;
	CbError		err;

	assert_int_equal(drain(r, &n, &err), READ_EOF);
	assert_int_equal(n, 3);
	reader_close(r);
}

static void
test_anywhere_path(void **state)
{
	const char *names[] = {"name", "@id"};
	ReaderSpec	s = xml_spec("//row", names, 2);
	Reader	   *r = open_spec(&s, people, strlen(people));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "1");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", "2");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", NULL);
	next_is(r, &rec, READ_OK);	/* //row also matches data/row */
	FIELDS(&rec, "not a record: wrong path", "x");
	assert_int_equal(rec.record_no, 4);
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	/* //rows/row: the last two names at any depth */
	s = xml_spec("//rows/row", names, 2);
	r = open_spec(&s, people, strlen(people));
	size_t		n;
	CbError		err;

	assert_int_equal(drain(r, &n, &err), READ_EOF);
	assert_int_equal(n, 3);
	reader_close(r);
}

/* Chinese element names, records at different depths, a record inside a record is content. */
static void
test_anywhere_chinese(void **state)
{
	static const char doc[] =
		"<根>\n"
		"<批次><记录><姓名>王五</姓名><身份证号>110101199003070011</身份证号></记录></批次>\n"
		"<记录><姓名>赵六</姓名><记录><姓名>内层</姓名></记录></记录>\n"
		"<其他><深><记录 编号=\"7\"><姓名>孙七</姓名></记录></深></其他>\n"
		"</根>\n";
	const char *names[] = {"姓名", "身份证号", "@编号", "记录/姓名"};
	ReaderSpec	s = xml_spec("//记录", names, 4);
	Reader	   *r = open_spec(&s, doc, strlen(doc));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "王五", "110101199003070011", NULL, NULL);
	assert_int_equal(rec.line_no, 2);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "赵六", NULL, NULL, "内层");
	assert_int_equal(rec.line_no, 3);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "孙七", NULL, "7", NULL);
	assert_int_equal(rec.record_no, 3);
	assert_int_equal(rec.line_no, 4);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_namespaces(void **state)
{
	static const char doc[] =
		"<?xml version=\"1.0\"?>\n"
		"<d:data xmlns:d=\"urn:data\" xmlns=\"urn:default\" xmlns:p=\"urn:person\">\n"
		"<p:row p:id=\"1\" kind=\"a\"><p:name>甲</p:name><addr p:zip=\"1\"><city>c1</city></addr></p:row>\n"
		"<row id=\"2\" xmlns=\"urn:other\"><name>乙</name><p:addr zip=\"2\"><p:city>c2</p:city></p:addr></row>\n"
		"<x:row xmlns:x=\"urn:x\" x:id=\"3\"><x:name>丙</x:name></x:row>\n"
		"</d:data>\n";
	const char *names[] = {"name", "@id", "@kind", "addr/city", "addr/@zip"};
	ReaderSpec	s = xml_spec("data/row", names, 5);
	Reader	   *r = open_spec(&s, doc, strlen(doc));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "甲", "1", "a", "c1", "1");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "乙", "2", NULL, "c2", "2");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "丙", "3", NULL, NULL, NULL);
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	/* a prefix written in the definition is ignored as well */
	const char *pnames[] = {"p:name", "@p:id"};

	s = xml_spec("//d:row", pnames, 2);
	r = open_spec(&s, doc, strlen(doc));
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "甲", "1");
	reader_close(r);
}

static void
test_cdata_and_entities(void **state)
{
	static const char doc[] =
		"<rows><row a=\"x &amp; y &lt;&#x4E2D;&#22269;&quot;\">"
		"<t>A &amp; B &lt; C &gt; D &apos;&quot; &#x4E2D;&#22269; &#x1F600;</t>"
		"<c><![CDATA[<not> & markup]]></c>"
		"<m>one<![CDATA[ two ]]>three<!-- comment --><i>four</i></m>"
		"</row></rows>";
	const char *names[] = {"t", "c", "m", "@a"};
	ReaderSpec	s = xml_spec("rows/row", names, 4);
	Reader	   *r = open_spec(&s, doc, strlen(doc));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "A & B < C > D '\" 中国 \xF0\x9F\x98\x80", "<not> & markup",
		   "one two threefour", "x & y <中国\"");
	/* raw is a reconstruction: text escaped again */
	assert_non_null(strstr(rec.raw, "<t>A &amp; B &lt; C &gt; D"));
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* The first occurrence of a repeated element is the value; "." is the record's own text. */
static void
test_repeated_and_self(void **state)
{
	static const char doc[] =
		"<r><row><p>first</p><p>second</p><q k=\"1\"/><q k=\"2\"/><q><z>deep</z></q></row>"
		"<row>  plain text  </row></r>";
	const char *names[] = {"p", "q/@k", ".", "q/z"};
	ReaderSpec	s = xml_spec("r/row", names, 4);
	Reader	   *r = open_spec(&s, doc, strlen(doc));
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "first", "1", "firstseconddeep", "deep");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, NULL, NULL, "  plain text  ", NULL);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* raw: at most READER_RAW_MAX bytes, not cutting a UTF-8 character. */
static void
test_raw_truncated(void **state)
{
	char	   *doc = malloc(20000);
	size_t		n = 0;
	const char *names[] = {"v"};
	ReaderSpec	s = xml_spec("r/row", names, 1);
	Record		rec;

	(void) state;
	n += (size_t) sprintf(doc + n, "<r><row><v>x");
	for (int i = 0; i < 2000; i++)
		n += (size_t) sprintf(doc + n, "中");
	n += (size_t) sprintf(doc + n, "</v></row></r>");
	Reader	   *r = open_spec(&s, doc, n);

	next_is(r, &rec, READ_OK);
	assert_int_equal(rec.fields[0].len, 1 + 2000 * 3);
	assert_true(rec.raw_len <= READER_RAW_MAX);
	assert_true(rec.raw_len > READER_RAW_MAX - 4);
	assert_memory_equal(rec.raw, "<row><v>x中", strlen("<row><v>x中"));
	/* ends on a whole character */
	assert_int_equal((rec.raw_len - strlen("<row><v>x")) % 3, 0);
	reader_close(r);
	free(doc);
}

static void
test_gzip(void **state)
{
	const char *names[] = {"name", "@id"};
	ReaderSpec	s = xml_spec("data/rows/row", names, 2);
	size_t		glen;
	unsigned char *gz = gzip(people, strlen(people), &glen);
	Reader	   *r = open_spec(&s, gz, glen);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三", "1");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", "2");
	next_is(r, &rec, READ_OK);
	next_is(r, &rec, READ_EOF);
	assert_int_equal(reader_bytes_in(r), strlen(people));
	reader_close(r);

	/* truncated gzip: a READ_ERROR from the byte stream, not a parse error */
	r = open_spec(&s, gz, glen - 10);
	size_t		n;
	CbError		err;

	assert_int_equal(drain(r, &n, &err), READ_ERROR);
	assert_non_null(strstr(err.message, "gzip"));
	reader_close(r);
	free(gz);
}

static void
test_gbk_declared(void **state)
{
	static const char utf8[] =
		"<?xml version=\"1.0\" encoding=\"GBK\"?>\n"
		"<数据><记录 类型=\"户籍\"><姓名>张三丰</姓名><住址>吉林省延吉市</住址></记录></数据>\n";
	const char *names[] = {"姓名", "住址", "@类型"};
	ReaderSpec	s = xml_spec("数据/记录", names, 3);
	size_t		glen;
	char	   *gbk = transcode(utf8, "GBK", &glen);
	Record		rec;

	(void) state;
	assert_true(glen < strlen(utf8));	/* really GBK: two bytes per character */
	Reader	   *r = open_spec(&s, gbk, glen);

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三丰", "吉林省延吉市", "户籍");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	/* gzip'd GBK */
	size_t		zlen;
	unsigned char *gz = gzip(gbk, glen, &zlen);

	r = open_spec(&s, gz, zlen);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "张三丰", "吉林省延吉市", "户籍");
	reader_close(r);
	free(gz);
	free(gbk);

	/* no declaration: the spec's encoding says GBK */
	static const char bare[] = "<数据><记录><姓名>李四</姓名></记录></数据>";

	gbk = transcode(bare, "GB18030", &glen);
	s.encoding = "GB18030";
	r = open_spec(&s, gbk, glen);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "李四", NULL, NULL);
	reader_close(r);
	free(gbk);

	/* an unknown encoding is refused when opening */
	CbError		err;

	s.encoding = "NO-SUCH-ENCODING";
	memset(&err, 0, sizeof err);
	assert_null(reader_open_mem(&s, "t.xml", bare, strlen(bare), &err));
	assert_non_null(strstr(err.message, "NO-SUCH-ENCODING"));
}

static void
test_record_too_big(void **state)
{
	char		doc[4096];
	const char *names[] = {"v"};
	ReaderSpec	s = xml_spec("r/row", names, 1);
	Record		rec;

	(void) state;
	s.max_record_bytes = 100;
	snprintf(doc, sizeof doc, "<r><row><v>small</v></row><row><v>%0300d</v><w>x</w></row>"
			 "<row><v>after</v></row></r>", 7);
	Reader	   *r = open_spec(&s, doc, strlen(doc));

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "small");
	next_is(r, &rec, READ_BAD);
	assert_int_equal(rec.record_no, 2);
	assert_non_null(strstr(rec.reason, "longer than the limit of 100 bytes"));
	assert_true(rec.raw_len > 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "after");
	assert_int_equal(rec.record_no, 3);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* ------------------------------------------------------------ hostile and broken input */

static void
test_malformed(void **state)
{
	static const char doc[] =
		"<?xml version=\"1.0\"?>\n"
		"<r>\n"
		"<row><v>1</v></row>\n"
		"<row><v>2</w></row>\n"
		"</r>\n";
	const char *names[] = {"v"};
	ReaderSpec	s = xml_spec("r/row", names, 1);
	Reader	   *r = open_spec(&s, doc, strlen(doc));
	Record		rec;
	CbError		err;

	(void) state;
	/* libxml2 parses ahead of the records it hands out, so the error may come before
	 * record 1 does: a malformed file is refused as a whole anyway */
	memset(&err, 0, sizeof err);
	ReadStatus	st = reader_next(r, &rec, &err);

	if (st == READ_OK)
	{
		FIELDS(&rec, "1");
		st = reader_next(r, &rec, &err);
	}
	assert_int_equal(st, READ_ERROR);
	assert_non_null(strstr(err.message, "malformed XML"));
	assert_non_null(strstr(err.message, "mismatch"));
	assert_non_null(strstr(err.input_at, "test.xml: line 4, column"));
	/* the error sticks */
	memset(&err, 0, sizeof err);
	assert_int_equal(reader_next(r, &rec, &err), READ_ERROR);
	assert_non_null(strstr(err.message, "malformed XML"));
	reader_close(r);

	/* not XML at all, an empty file, a document cut short */
	const char *bad[] = {"just text", "", "<r><row><v>1</v></row>"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
	{
		size_t		n;

		r = open_spec(&s, bad[i], strlen(bad[i]));
		assert_int_equal(drain(r, &n, &err), READ_ERROR);
		assert_non_null(strstr(err.message, "malformed XML"));
		reader_close(r);
	}
}

static const char laughs[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE lolz [\n"
	" <!ENTITY lol \"lol\">\n"
	" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	"]>\n"
	"<lolz><row a=\"&lol9;\"><v>&lol9;</v></row></lolz>\n";

/* Runs doc to its end, which must be a READ_ERROR; returns the seconds taken. */
static double
must_fail(const char *doc, size_t len, const char *path, CbError *err, char *seen, size_t seen_cap)
{
	const char *names[] = {"v", "@a"};
	ReaderSpec	s = xml_spec(path, names, 2);
	double		t0 = now();
	Reader	   *r;
	Record		rec;
	ReadStatus	st;
	size_t		k = 0;

	memset(err, 0, sizeof *err);
	r = reader_open_mem(&s, "hostile.xml", doc, len, err);
	if (r != NULL)
	{
		while ((st = reader_next(r, &rec, err)) == READ_OK || st == READ_BAD)
		{
			/* keep whatever came out, to check that nothing leaked into it */
			for (int i = 0; i < rec.nfields; i++)
				if (rec.fields[i].p && k + rec.fields[i].len < seen_cap)
				{
					memcpy(seen + k, rec.fields[i].p, rec.fields[i].len);
					k += rec.fields[i].len;
				}
			if (k + rec.raw_len < seen_cap)
			{
				memcpy(seen + k, rec.raw, rec.raw_len);
				k += rec.raw_len;
			}
		}
		assert_int_equal(st, READ_ERROR);
		reader_close(r);
	}
	seen[k] = '\0';
	return now() - t0;
}

static void
test_billion_laughs(void **state)
{
	CbError		err;
	char		seen[4096];
	double		t;

	(void) state;
	t = must_fail(laughs, strlen(laughs), "lolz/row", &err, seen, sizeof seen);
	printf("    billion laughs refused in %.4f s: %s\n", t, err.message);
	assert_true(t < time_limit(1.0));
	assert_non_null(strstr(err.message, "entity"));
	assert_non_null(strstr(err.message, "refused"));
	assert_null(strstr(seen, "lollol"));
}

/* Copies tmpl into out, each "@@" replaced by value. */
static void
subst(char *out, size_t cap, const char *tmpl, const char *value)
{
	size_t		n = 0;

	for (const char *p = tmpl; *p && n + 1 < cap; p++)
	{
		if (p[0] == '@' && p[1] == '@')
		{
			for (const char *v = value; *v && n + 1 < cap; v++)
				out[n++] = *v;
			p++;
		}
		else
			out[n++] = *p;
	}
	out[n] = '\0';
}

static void
test_external_entities(void **state)
{
	char		secret_path[] = "/tmp/canbao_xxe_XXXXXX";
	int			fd = mkstemp(secret_path);
	static const char marker[] = "TOP-SECRET-canbao-3f9a";
	char		doc[2048];
	CbError		err;
	char		seen[4096];
	double		t;

	(void) state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, marker, strlen(marker)), (ssize_t) strlen(marker));
	close(fd);

	const char *forms[] = {
		/* general external entity in content */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY x SYSTEM \"file://@@\"> ]>\n"
		"<r><row><v>&x;</v></row></r>\n",
		/* the classic */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
		"<r><row><v>&x;</v></row></r><!-- @@ -->\n",
		/* network */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY x SYSTEM \"http://127.0.0.1:9/x\"> ]>\n"
		"<r><row><v>&x;</v></row></r><!-- @@ -->\n",
		/* in an attribute */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY x SYSTEM \"file://@@\"> ]>\n"
		"<r><row a=\"&x;\"><v>1</v></row></r>\n",
		/* parameter entity, pulled into the DTD */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ENTITY % p SYSTEM \"file://@@\"> %p; ]>\n"
		"<r><row><v>1</v></row></r>\n",
		/* external DTD (never loaded) and a reference to an entity it might declare */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"file://@@\">\n"
		"<r><row><v>&x;</v></row></r>\n",
	};

	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
	{
		subst(doc, sizeof doc, forms[i], secret_path);
		t = must_fail(doc, strlen(doc), "r/row", &err, seen, sizeof seen);
		if (i == 0)
			printf("    external entity refused in %.4f s: %s\n", t, err.message);
		assert_true(t < time_limit(1.0));
		assert_non_null(strstr(err.message, "entity"));
		assert_null(strstr(seen, marker));
		assert_null(strstr(seen, "root:"));
		assert_null(strstr(err.message, marker));
		assert_null(strstr(err.detail, marker));
		assert_null(strstr(err.input_at, marker));
	}
	unlink(secret_path);

	/* a DTD without entities is fine (and an external one is not loaded) */
	static const char plain[] =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ELEMENT r ANY> ]>\n<r><row><v>ok</v></row></r>\n";
	const char *names[] = {"v"};
	ReaderSpec	s = xml_spec("r/row", names, 1);
	Reader	   *r = open_spec(&s, plain, strlen(plain));
	Record		rec;

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "ok");
	reader_close(r);
}

static void
test_deep_nesting(void **state)
{
	size_t		levels = 100000;
	char	   *doc = malloc(levels * 7 + 64);
	size_t		n = 0;
	CbError		err;
	char		seen[4096];
	double		t;

	(void) state;
	n += (size_t) sprintf(doc + n, "<r><row><v>1</v></row>");
	for (size_t i = 0; i < levels; i++)
		n += (size_t) sprintf(doc + n, "<a>");
	for (size_t i = 0; i < levels; i++)
		n += (size_t) sprintf(doc + n, "</a>");
	n += (size_t) sprintf(doc + n, "</r>");
	t = must_fail(doc, n, "r/row", &err, seen, sizeof seen);
	printf("    100000-level nesting refused in %.4f s: %s\n", t, err.message);
	assert_true(t < time_limit(1.0));
	assert_non_null(strstr(err.message, "nesting deeper than 256"));

	/* a tighter limit from the spec, inside a record */
	static const char d12[] = "<r><row><a><a><a><a><a><a><a><a><a><a>x</a></a></a></a></a></a>"
		"</a></a></a></a></row></r>";
	const char *names[] = {"v"};
	ReaderSpec	s = xml_spec("r/row", names, 1);
	size_t		nok;

	s.max_depth = 10;
	Reader	   *r = open_spec(&s, d12, strlen(d12));

	assert_int_equal(drain(r, &nok, &err), READ_ERROR);
	assert_non_null(strstr(err.message, "nesting deeper than 10"));
	reader_close(r);
	s.max_depth = 12;
	r = open_spec(&s, d12, strlen(d12));
	assert_int_equal(drain(r, &nok, &err), READ_EOF);
	assert_int_equal(nok, 1);
	reader_close(r);
	free(doc);
}

/* libxml2 must not print: run the broken documents with stderr going to a file. */
static void
test_quiet(void **state)
{
	char		path[] = "/tmp/canbao_xml_stderr_XXXXXX";
	int			fd = mkstemp(path);
	int			saved = dup(2);
	CbError		err;
	char		seen[4096];
	struct stat st;

	(void) state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	must_fail(laughs, strlen(laughs), "lolz/row", &err, seen, sizeof seen);
	must_fail("<r><row><v>1</w></row></r>", 27, "r/row", &err, seen, sizeof seen);
	must_fail("<?xml version=\"1.0\" encoding=\"GBK\"?><r><row><v>\x81\x20</v></row></r>", 64,
			  "r/row", &err, seen, sizeof seen);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	assert_int_equal(st.st_size, 0);
}

/* Bad specs are refused by the constructor. */
static void
test_bad_spec(void **state)
{
	const char *names[] = {"a//b"};
	const char *ok[] = {"a"};
	CbError		err;
	ReaderSpec	s;

	(void) state;
	s = xml_spec(NULL, ok, 1);
	memset(&err, 0, sizeof err);
	assert_null(xml_reader_new(&s, "t.xml", "<r/>", 4, &err));
	assert_non_null(strstr(err.message, "path"));
	s = xml_spec("r/row", names, 1);
	assert_null(xml_reader_new(&s, "t.xml", "<r/>", 4, &err));
	assert_non_null(strstr(err.message, "a//b"));
	s = xml_spec("r/", ok, 1);
	assert_null(xml_reader_new(&s, "t.xml", "<r/>", 4, &err));
}

/* ------------------------------------------------------------ throughput */

static void
test_throughput(void **state)
{
	size_t		cap = 52 * 1024 * 1024,
				n = 0;
	char	   *doc = malloc(cap + 4096);
	const char *names[] = {"id_number", "name", "birth", "addr/city", "@seq"};
	ReaderSpec	s = xml_spec("//record", names, 5);
	size_t		nrec = 0;

	(void) state;
	/* 50 MiB of records (4 MiB under valgrind: several reader buffers still) */
	const size_t want = test_work(50 * 1024 * 1024, 4 * 1024 * 1024);

	n += (size_t) sprintf(doc + n, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<export>\n");
	while (n < want)
	{
		n += (size_t) sprintf(doc + n,
							  "  <record seq=\"%zu\"><id_number>2224011990%08zu</id_number>"
							  "<name>张三丰</name><birth>1990-03-07</birth>"
							  "<addr><city>延吉市</city><street>河南街道 %zu 号</street></addr></record>\n",
							  nrec, nrec, nrec % 1000);
		nrec++;
	}
	n += (size_t) sprintf(doc + n, "</export>\n");

	Reader	   *r = open_spec(&s, doc, n);
	double		t0 = now();
	size_t		got;
	CbError		err;

	assert_int_equal(drain(r, &got, &err), READ_EOF);
	double		t = now() - t0;

	assert_int_equal(got, nrec);
	printf("    xml: %.1f MB, %zu records in %.3f s: %.1f MB/s\n", n / 1e6, nrec, t, n / 1e6 / t);
	reader_close(r);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_path),
		cmocka_unit_test(test_anywhere_path),
		cmocka_unit_test(test_anywhere_chinese),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_cdata_and_entities),
		cmocka_unit_test(test_repeated_and_self),
		cmocka_unit_test(test_raw_truncated),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_gbk_declared),
		cmocka_unit_test(test_record_too_big),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_external_entities),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests_name("xml reader", tests, NULL, NULL);
}
