/*
 * test_xlsx.c
 *     Unit tests for the XLSX reader (connectors/xlsx.c), through connectors/reader.h:
 *     cell types (shared strings, rich text, numbers as written, dates, booleans, formulas
 *     with cached values, inline strings, errors), gaps and widths, sheet selection, the
 *     1904 date system, limits, gzip-wrapped workbooks, and damaged inputs (truncated,
 *     corrupt entry, zip bombs, ZIP64, not a zip at all).
 *
 * Workbooks are written by libxlsxwriter, as an agency's export would be; workbooks with
 * shapes libxlsxwriter does not produce (cells without references, inline strings, error
 * cells, phonetic runs, ZIP64, lying sizes) are zipped by hand here, with zlib.  A 200k-row
 * sheet is read at the end and its throughput printed (not asserted).
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
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>
#include <zlib.h>

#include "reader.h"
#include "reader_int.h"
#include "time_limit.h"

/* ------------------------------------------------------------ helpers */

static char tmpdir[64];
static char made[32][128];		/* files to remove at the end */
static int	nmade;

/* A path in the test's private directory (remembered for removal). */
static const char *
tmp_path(const char *name)
{
	assert_true(nmade < 32);
	snprintf(made[nmade], sizeof made[nmade], "%s/%s", tmpdir, name);
	return made[nmade++];
}

static int
setup(void **state)
{
	(void) state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_xlsx.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void) state;
	for (int i = 0; i < nmade; i++)
		unlink(made[i]);
	rmdir(tmpdir);
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf;
	long		n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t) n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static void
spit(const char *path, const void *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static Reader *
open_sheet(const char *path, const char *sheet)
{
	ReaderSpec	spec;
	CbError		err;
	Reader	   *r;

	memset(&spec, 0, sizeof spec);
	memset(&err, 0, sizeof err);
	spec.format = RF_XLSX;
	spec.sheet = sheet;
	r = reader_open(&spec, path, &err);
	if (r == NULL)
		fail_msg("reader_open failed: %s: %s (%s)", err.input_at, err.message, err.detail);
	return r;
}

/* Opens a workbook that must be refused; returns the error. */
static CbError
open_fails(const char *path, const char *sheet)
{
	ReaderSpec	spec;
	CbError		err;
	Reader	   *r;

	memset(&spec, 0, sizeof spec);
	memset(&err, 0, sizeof err);
	spec.format = RF_XLSX;
	spec.sheet = sheet;
	r = reader_open(&spec, path, &err);
	if (r != NULL)
	{
		reader_close(r);
		fail_msg("reader_open accepted %s", path);
	}
	assert_int_equal(err.kind, CBERR_INPUT);
	return err;
}

static Reader *
open_mem(const void *data, size_t len, size_t max_record_bytes)
{
	ReaderSpec	spec;
	CbError		err;
	Reader	   *r;

	memset(&spec, 0, sizeof spec);
	memset(&err, 0, sizeof err);
	spec.format = RF_XLSX;
	spec.max_record_bytes = max_record_bytes;
	r = reader_open_mem(&spec, "hand.xlsx", data, len, &err);
	if (r == NULL)
		fail_msg("reader_open_mem failed: %s (%s)", err.message, err.detail);
	return r;
}

static CbError
open_mem_fails(const void *data, size_t len)
{
	ReaderSpec	spec;
	CbError		err;
	Reader	   *r;

	memset(&spec, 0, sizeof spec);
	memset(&err, 0, sizeof err);
	spec.format = RF_XLSX;
	r = reader_open_mem(&spec, "hand.xlsx", data, len, &err);
	if (r != NULL)
	{
		reader_close(r);
		fail_msg("reader_open_mem accepted the workbook");
	}
	assert_int_equal(err.kind, CBERR_INPUT);
	return err;
}

static void
contains(const char *s, const char *want)
{
	if (strstr(s, want) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, want);
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
	if (rec->fields[i].len != strlen(want) ||
		memcmp(rec->fields[i].p, want, rec->fields[i].len) != 0)
		fail_msg("field %d is \"%.*s\" (%u bytes), want \"%s\"", i,
				 (int) rec->fields[i].len, rec->fields[i].p, rec->fields[i].len, want);
}

static void
fields_are(const Record *rec, const char *const *want)
{
	int			n = 0;

	while (want[n] != NULL)
		n++;
	if (rec->nfields != n)
		fail_msg("record has %d fields, want %d (raw \"%.*s\")", rec->nfields, n,
				 (int) rec->raw_len, rec->raw);
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
pos_is(const Record *rec, uint64_t record_no, uint64_t line_no)
{
	assert_int_equal(rec->record_no, record_no);
	assert_int_equal(rec->line_no, line_no);
}

/* ------------------------------------------------------------ zips made by hand */

typedef struct Buf
{
	unsigned char *p;
	size_t		len,
				cap;
} Buf;

static void
buf_add(Buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put16(Buf *b, unsigned v)
{
	unsigned char c[2] = {(unsigned char) v, (unsigned char) (v >> 8)};

	buf_add(b, c, 2);
}

static void
put32(Buf *b, uint32_t v)
{
	put16(b, v & 0xFFFF);
	put16(b, v >> 16);
}

static void
put64(Buf *b, uint64_t v)
{
	put32(b, (uint32_t) v);
	put32(b, (uint32_t) (v >> 32));
}

/* Raw deflate (no zlib or gzip wrapper), as zip method 8 stores it. */
static unsigned char *
deflate_raw(const void *data, size_t len, size_t *out_len)
{
	z_stream	zs;
	unsigned char *out;
	size_t		cap;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
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

/* A zip entry: its content (compressed here), or precompressed data with declared values. */
typedef struct ZPart
{
	const char *name;
	const void *data;
	size_t		len;
	int			method;			/* 0 stored, 8 deflate */
	/* when cdata is set: the compressed bytes and what the directory declares */
	const unsigned char *cdata;
	size_t		clen;
	uint64_t	usize;
	uint32_t	crc;
} ZPart;

/* Builds a zip archive; with zip64, sizes and offsets live in ZIP64 fields and records. */
static unsigned char *
zip_build(const ZPart *parts, int n, bool zip64, size_t *out_len)
{
	Buf			b = {0},
				cd = {0};

	for (int i = 0; i < n; i++)
	{
		const ZPart *p = &parts[i];
		unsigned char *owned = NULL;
		const unsigned char *c;
		size_t		clen;
		uint64_t	usize;
		uint32_t	crc;
		uint64_t	off = b.len;
		size_t		nl = strlen(p->name);

		if (p->cdata)
		{
			c = p->cdata;
			clen = p->clen;
			usize = p->usize;
			crc = p->crc;
		}
		else
		{
			crc = (uint32_t) crc32(0L, (const Bytef *) p->data, (uInt) p->len);
			usize = p->len;
			if (p->method == 8)
				c = owned = deflate_raw(p->data, p->len, &clen);
			else
			{
				c = p->data;
				clen = p->len;
			}
		}
		/* local header */
		put32(&b, 0x04034b50);
		put16(&b, zip64 ? 45 : 20);
		put16(&b, 0);
		put16(&b, (unsigned) p->method);
		put16(&b, 0);
		put16(&b, 0x21);
		put32(&b, crc);
		put32(&b, zip64 ? 0xFFFFFFFFu : (uint32_t) clen);
		put32(&b, zip64 ? 0xFFFFFFFFu : (uint32_t) usize);
		put16(&b, (unsigned) nl);
		put16(&b, zip64 ? 20 : 0);
		buf_add(&b, p->name, nl);
		if (zip64)
		{
			put16(&b, 1);
			put16(&b, 16);
			put64(&b, usize);
			put64(&b, clen);
		}
		buf_add(&b, c, clen);
		/* central directory entry */
		put32(&cd, 0x02014b50);
		put16(&cd, zip64 ? 45 : 20);
		put16(&cd, zip64 ? 45 : 20);
		put16(&cd, 0);
		put16(&cd, (unsigned) p->method);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, zip64 ? 0xFFFFFFFFu : (uint32_t) clen);
		put32(&cd, zip64 ? 0xFFFFFFFFu : (uint32_t) usize);
		put16(&cd, (unsigned) nl);
		put16(&cd, zip64 ? 28 : 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, 0);
		put32(&cd, zip64 ? 0xFFFFFFFFu : (uint32_t) off);
		buf_add(&cd, p->name, nl);
		if (zip64)
		{
			put16(&cd, 1);
			put16(&cd, 24);
			put64(&cd, usize);
			put64(&cd, clen);
			put64(&cd, off);
		}
		free(owned);
	}

	uint64_t	cd_off = b.len;

	buf_add(&b, cd.p, cd.len);
	if (zip64)
	{
		uint64_t	z64 = b.len;

		put32(&b, 0x06064b50);
		put64(&b, 44);
		put16(&b, 45);
		put16(&b, 45);
		put32(&b, 0);
		put32(&b, 0);
		put64(&b, (uint64_t) n);
		put64(&b, (uint64_t) n);
		put64(&b, cd.len);
		put64(&b, cd_off);
		put32(&b, 0x07064b50);
		put32(&b, 0);
		put64(&b, z64);
		put32(&b, 1);
	}
	put32(&b, 0x06054b50);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, zip64 ? 0xFFFF : (unsigned) n);
	put16(&b, zip64 ? 0xFFFF : (unsigned) n);
	put32(&b, zip64 ? 0xFFFFFFFFu : (uint32_t) cd.len);
	put32(&b, zip64 ? 0xFFFFFFFFu : (uint32_t) cd_off);
	put16(&b, 0);
	free(cd.p);
	*out_len = b.len;
	return b.p;
}

#define MAIN_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static const char hand_rels[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
"<Relationship Id=\"rId1\" Type=\"" REL_NS "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
"<Relationship Id=\"rId2\" Type=\"" REL_NS "worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/>"
"<Relationship Id=\"rId3\" Type=\"" REL_NS "sharedStrings\" Target=\"sharedStrings.xml\"/>"
"<Relationship Id=\"rId4\" Type=\"" REL_NS "styles\" Target=\"./styles.xml\"/>"
"</Relationships>";

/*
 * A workbook zipped by hand: sheet1 holds `rows` (the inside of <sheetData>); the shared
 * strings, styles and workbook properties are optional; `sheets` replaces the sheet list.
 * No _rels/.rels: the reader then looks for xl/workbook.xml.
 */
static unsigned char *
hand_book(const char *rows, const char *sst, const char *styles, const char *wbpr,
		  const char *sheets, int method, size_t *len)
{
	char	   *wb,
			   *sh;
	ZPart		parts[6];
	int			n = 0;
	unsigned char *zip;
	size_t		wl = 1024 + (wbpr ? strlen(wbpr) : 0) + (sheets ? strlen(sheets) : 0);
	size_t		sl = 512 + strlen(rows);

	wb = malloc(wl);
	sh = malloc(sl);
	assert_non_null(wb);
	assert_non_null(sh);
	snprintf(wb, wl,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
			 "<workbook " MAIN_NS ">%s<sheets>%s</sheets></workbook>",
			 wbpr ? wbpr : "",
			 sheets ? sheets : "<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>");
	snprintf(sh, sl,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
			 "<worksheet " MAIN_NS "><sheetData>%s</sheetData></worksheet>", rows);
	parts[n++] = (ZPart) {"xl/workbook.xml", wb, strlen(wb), method, NULL, 0, 0, 0};
	parts[n++] = (ZPart) {"xl/_rels/workbook.xml.rels", hand_rels, strlen(hand_rels), method,
		NULL, 0, 0, 0};
	parts[n++] = (ZPart) {"xl/worksheets/sheet1.xml", sh, strlen(sh), method, NULL, 0, 0, 0};
	if (sst)
		parts[n++] = (ZPart) {"xl/sharedStrings.xml", sst, strlen(sst), method, NULL, 0, 0, 0};
	if (styles)
		parts[n++] = (ZPart) {"xl/styles.xml", styles, strlen(styles), method, NULL, 0, 0, 0};
	zip = zip_build(parts, n, false, len);
	free(wb);
	free(sh);
	return zip;
}

/* ------------------------------------------------------------ workbooks by libxlsxwriter */

static void
check_ok(lxw_error e)
{
	if (e != LXW_NO_ERROR)
		fail_msg("libxlsxwriter: %s", lxw_strerror(e));
}

/* The agency-style workbook most tests read: Chinese text, IDs as text, numbers, dates. */
static const char *
write_people(const char *name)
{
	const char *path = tmp_path(name);
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws;
	lxw_format *ymd,
			   *cn,
			   *builtin14,
			   *stamp;
	lxw_datetime d1 = {1990, 3, 7, 0, 0, 0},
				d2 = {2000, 2, 29, 0, 0, 0},
				t2 = {2023, 1, 5, 14, 30, 0},
				t3 = {2023, 1, 6, 0, 0, 0};
	const char *head[] = {"公民身份号码", "姓名", "出生日期", "月收入", "手机号码", "登记日期"};

	assert_non_null(wb);
	ws = workbook_add_worksheet(wb, "人员");
	ymd = workbook_add_format(wb);
	format_set_num_format(ymd, "yyyy-mm-dd");
	cn = workbook_add_format(wb);
	format_set_num_format(cn, "yyyy\"年\"m\"月\"d\"日\"");
	builtin14 = workbook_add_format(wb);
	format_set_num_format_index(builtin14, 14);
	stamp = workbook_add_format(wb);
	format_set_num_format(stamp, "yyyy-mm-dd hh:mm");
	for (int c = 0; c < 6; c++)
		check_ok(worksheet_write_string(ws, 0, (lxw_col_t) c, head[c], NULL));
	check_ok(worksheet_write_string(ws, 1, 0, "110101199003070011", NULL));
	check_ok(worksheet_write_string(ws, 1, 1, "张三", NULL));
	check_ok(worksheet_write_datetime(ws, 1, 2, &d1, ymd));
	check_ok(worksheet_write_number(ws, 1, 3, 3500.5, NULL));
	check_ok(worksheet_write_number(ws, 1, 4, 13900000000.0, NULL));
	check_ok(worksheet_write_number(ws, 1, 5, 45000, builtin14));
	check_ok(worksheet_write_string(ws, 2, 0, "11010119900307001X", NULL));
	check_ok(worksheet_write_string(ws, 2, 1, "阿依古丽·买买提", NULL));
	check_ok(worksheet_write_datetime(ws, 2, 2, &d2, cn));
	check_ok(worksheet_write_number(ws, 2, 3, 0, NULL));
	check_ok(worksheet_write_number(ws, 2, 4, 13800138000.0, NULL));
	check_ok(worksheet_write_datetime(ws, 2, 5, &t2, stamp));
	check_ok(worksheet_write_string(ws, 3, 0, "220101195001010012", NULL));
	check_ok(worksheet_write_string(ws, 3, 1, "张三", NULL));	/* a shared string again */
	check_ok(worksheet_write_datetime(ws, 3, 2, &t3, ymd));
	check_ok(worksheet_write_datetime(ws, 3, 5, &t3, stamp));	/* midnight: no time */
	check_ok(workbook_close(wb));
	return path;
}

static void
read_people(Reader *r)
{
	Record		rec;

	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "公民身份号码", "姓名", "出生日期", "月收入", "手机号码", "登记日期");
	pos_is(&rec, 0, 1);
	assert_int_equal(rec.byte_offset, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "110101199003070011", "张三", "1990-03-07", "3500.5", "13900000000",
		   "2023-03-15");
	pos_is(&rec, 1, 2);
	raw_is(&rec, "110101199003070011\t张三\t1990-03-07\t3500.5\t13900000000\t2023-03-15");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "11010119900307001X", "阿依古丽·买买提", "2000-02-29", "0", "13800138000",
		   "2023-01-05 14:30:00");
	pos_is(&rec, 2, 3);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "220101195001010012", "张三", "2023-01-06", "", "", "2023-01-06");
	pos_is(&rec, 3, 4);
	next_is(r, &rec, READ_EOF);
	next_is(r, &rec, READ_EOF);	/* EOF is sticky */
}

/* ------------------------------------------------------------ cell values */

static void
test_strings_numbers_dates(void **state)
{
	const char *path = write_people("people.xlsx");
	Reader	   *r = open_sheet(path, NULL);
	char		sha[65];

	(void) state;
	read_people(r);
	assert_true(reader_file_bytes(r) > 0);
	assert_true(reader_sha256(r, sha));
	assert_int_equal(strlen(sha), 64);
	reader_close(r);
}

static void
test_date_styled_numbers(void **state)
{
	const char *path = tmp_path("serials.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
	lxw_format *ymd = workbook_add_format(wb),
			   *hm = workbook_add_format(wb),
			   *elapsed = workbook_add_format(wb),
			   *yuan = workbook_add_format(wb),
			   *thousands = workbook_add_format(wb),
			   *month = workbook_add_format(wb),
			   *hidden_time = workbook_add_format(wb);
	Reader	   *r;
	Record		rec;

	(void) state;
	format_set_num_format(ymd, "[$-804]yyyy/m/d;@");
	format_set_num_format(hm, "hh:mm:ss");
	format_set_num_format(elapsed, "[h]:mm");
	format_set_num_format(yuan, "#,##0.00\"元\";[Red]-#,##0.00\"元\"");
	format_set_num_format(thousands, "#,##0");
	format_set_num_format(month, "yyyy\"年\"m\"月\"");
	format_set_num_format(hidden_time, "yyyy-mm-dd");
	check_ok(worksheet_write_string(ws, 0, 0, "值", NULL));
	double		serials[] = {1, 59, 60, 61, 45000, -1};

	for (int i = 0; i < 6; i++)
		check_ok(worksheet_write_number(ws, (lxw_row_t) (1 + i), 0, serials[i], ymd));
	check_ok(worksheet_write_number(ws, 7, 0, 0.75, hm));
	check_ok(worksheet_write_number(ws, 8, 0, 1.5, elapsed));
	check_ok(worksheet_write_number(ws, 9, 0, 12.5, yuan));
	check_ok(worksheet_write_number(ws, 10, 0, 1234567, thousands));
	check_ok(worksheet_write_number(ws, 11, 0, 44927, month));
	check_ok(worksheet_write_number(ws, 12, 0, 45000.75, hidden_time));
	check_ok(workbook_close(wb));

	const char *want[] = {"值", "1900-01-01", "1900-02-28", "60", "1900-03-01", "2023-03-15", "-1",
		"18:00:00", "1.5", "12.5", "1234567", "2023-01-01", "2023-03-15"};

	r = open_sheet(path, NULL);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
	{
		next_is(r, &rec, READ_OK);
		FIELDS(&rec, want[i]);
	}
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_empty_cells_and_widths(void **state)
{
	const char *path = tmp_path("gaps.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
	lxw_format *yellow = workbook_add_format(wb);
	Reader	   *r;
	Record		rec;

	(void) state;
	format_set_bg_color(yellow, LXW_COLOR_YELLOW);
	for (int c = 0; c < 5; c++)
	{
		char		h[8];

		snprintf(h, sizeof h, "h%c", (char) ('1' + c));
		check_ok(worksheet_write_string(ws, 0, (lxw_col_t) c, h, NULL));
	}
	/* row 2: gap in the middle, nothing at the end */
	check_ok(worksheet_write_string(ws, 1, 0, "a", NULL));
	check_ok(worksheet_write_string(ws, 1, 2, "c", NULL));
	check_ok(worksheet_write_blank(ws, 1, 8, yellow));	/* formatted, no value */
	/* row 3: only formatted blanks: not a record */
	check_ok(worksheet_write_blank(ws, 2, 0, yellow));
	check_ok(worksheet_write_blank(ws, 2, 1, yellow));
	/* row 5: only the last column; row 4 does not exist */
	check_ok(worksheet_write_string(ws, 4, 4, "e", NULL));
	/* row 7: wider than the header */
	for (int c = 0; c < 7; c++)
		check_ok(worksheet_write_number(ws, 6, (lxw_col_t) c, c, NULL));
	/* row 8: an empty string is no value */
	check_ok(worksheet_write_string(ws, 7, 1, "", NULL));
	check_ok(worksheet_write_string(ws, 8, 0, "last", NULL));
	check_ok(workbook_close(wb));

	r = open_sheet(path, NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "h1", "h2", "h3", "h4", "h5");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "", "c", "", "");
	pos_is(&rec, 1, 2);
	raw_is(&rec, "a\t\tc\t\t");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "", "", "", "e");
	pos_is(&rec, 2, 5);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "0", "1", "2", "3", "4", "5", "6");
	pos_is(&rec, 3, 7);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "last", "", "", "", "");
	pos_is(&rec, 4, 9);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_rich_text_and_spaces(void **state)
{
	const char *path = tmp_path("rich.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
	lxw_format *bold = workbook_add_format(wb),
			   *red = workbook_add_format(wb);
	lxw_rich_string_tuple f1 = {bold, "红色"},
				f2 = {NULL, "文字"},
				f3 = {red, " 前"},
				f4 = {NULL, "后 "};
	lxw_rich_string_tuple *rich1[] = {&f1, &f2, NULL};
	lxw_rich_string_tuple *rich2[] = {&f3, &f4, NULL};
	Reader	   *r;
	Record		rec;

	(void) state;
	format_set_bold(bold);
	format_set_font_color(red, LXW_COLOR_RED);
	check_ok(worksheet_write_string(ws, 0, 0, "备注", NULL));
	check_ok(worksheet_write_rich_string(ws, 1, 0, rich1, NULL));
	check_ok(worksheet_write_rich_string(ws, 2, 0, rich2, NULL));
	check_ok(worksheet_write_string(ws, 3, 0, "  两端空格  ", NULL));
	check_ok(worksheet_write_string(ws, 4, 0, "a&b<c>\"d\"", NULL));
	check_ok(worksheet_write_string(ws, 5, 0, "第一行\n第二行", NULL));
	check_ok(workbook_close(wb));

	r = open_sheet(path, NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "备注");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "红色文字");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, " 前后 ");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "  两端空格  ");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a&b<c>\"d\"");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "第一行\n第二行");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_booleans_and_formulas(void **state)
{
	const char *path = tmp_path("formulas.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
	Reader	   *r;
	Record		rec;

	(void) state;
	check_ok(worksheet_write_string(ws, 0, 0, "是否", NULL));
	check_ok(worksheet_write_string(ws, 0, 1, "公式", NULL));
	check_ok(worksheet_write_string(ws, 0, 2, "文本公式", NULL));
	check_ok(worksheet_write_boolean(ws, 1, 0, 1, NULL));
	check_ok(worksheet_write_formula_num(ws, 1, 1, "=1+1", NULL, 2));
	check_ok(worksheet_write_formula_str(ws, 1, 2, "=\"ab\"&\"c\"", NULL, "abc"));
	check_ok(worksheet_write_boolean(ws, 2, 0, 0, NULL));
	check_ok(worksheet_write_formula_num(ws, 2, 1, "=SUM(1.5,2)", NULL, 3.5));
	check_ok(workbook_close(wb));

	r = open_sheet(path, NULL);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "是否", "公式", "文本公式");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "TRUE", "2", "abc");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "FALSE", "3.5", "");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

/* ------------------------------------------------------------ sheets */

static const char *
write_two_sheets(void)
{
	const char *path = tmp_path("two.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *s1 = workbook_add_worksheet(wb, "说明");
	lxw_worksheet *s2 = workbook_add_worksheet(wb, "数据");

	check_ok(worksheet_write_string(s1, 0, 0, "本表由民政局导出", NULL));
	check_ok(worksheet_write_string(s2, 0, 0, "编号", NULL));
	check_ok(worksheet_write_string(s2, 0, 1, "姓名", NULL));
	check_ok(worksheet_write_number(s2, 1, 0, 1, NULL));
	check_ok(worksheet_write_string(s2, 1, 1, "王五", NULL));
	check_ok(workbook_close(wb));
	return path;
}

static void
test_sheet_by_name(void **state)
{
	const char *path = write_two_sheets();
	Reader	   *r;
	Record		rec;

	(void) state;
	r = open_sheet(path, "数据");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "编号", "姓名");
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "王五");
	next_is(r, &rec, READ_EOF);
	reader_close(r);

	r = open_sheet(path, NULL);	/* the first sheet */
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "本表由民政局导出");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
}

static void
test_missing_sheet(void **state)
{
	const char *path = write_two_sheets();
	CbError		err = open_fails(path, "不存在");

	(void) state;
	contains(err.message, "不存在");
	contains(err.detail, "\"说明\"");
	contains(err.detail, "\"数据\"");
	contains(err.input_at, "two.xlsx");
}

static void
test_hidden_first_sheet(void **state)
{
	const char *sheets =
		"<sheet name=\"lookup\" sheetId=\"1\" state=\"hidden\" r:id=\"rId1\"/>"
		"<sheet name=\"main\" sheetId=\"2\" r:id=\"rId2\"/>";
	ZPart		parts[4];
	size_t		len;
	unsigned char *zip;
	char		wb[1024];
	Reader	   *r;
	Record		rec;
	const char *s1 = "<worksheet " MAIN_NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\">"
		"<is><t>hidden</t></is></c></row></sheetData></worksheet>";
	const char *s2 = "<worksheet " MAIN_NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\">"
		"<is><t>visible</t></is></c></row></sheetData></worksheet>";

	(void) state;
	snprintf(wb, sizeof wb, "<workbook " MAIN_NS "><sheets>%s</sheets></workbook>", sheets);
	parts[0] = (ZPart) {"xl/workbook.xml", wb, strlen(wb), 8, NULL, 0, 0, 0};
	parts[1] = (ZPart) {"xl/_rels/workbook.xml.rels", hand_rels, strlen(hand_rels), 8, NULL, 0, 0, 0};
	parts[2] = (ZPart) {"xl/worksheets/sheet1.xml", s1, strlen(s1), 8, NULL, 0, 0, 0};
	parts[3] = (ZPart) {"xl/worksheets/sheet2.xml", s2, strlen(s2), 8, NULL, 0, 0, 0};
	zip = zip_build(parts, 4, false, &len);
	r = open_mem(zip, len, 0);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "visible");
	reader_close(r);
	free(zip);
}

/* ------------------------------------------------------------ shapes made by hand */

static void
test_cells_without_references(void **state)
{
	/* rows and cells without r follow each other; r jumps leave gaps */
	const char *rows =
		"<row><c t=\"inlineStr\"><is><t>a</t></is></c><c t=\"inlineStr\"><is><t>b</t></is></c>"
		"<c t=\"inlineStr\"><is><t>c</t></is></c></row>"
		"<row><c><v>1</v></c><c r=\"C2\"><v>3</v></c></row>"
		"<row r=\"5\"><c r=\"B5\"><v>x</v></c><c><v>y</v></c></row>"
		"<row><c><v>6</v></c></row>"
		"<row r=\"9\"/>"
		"<row r=\"10\"><c r=\"A10\" s=\"0\"/></row>";
	size_t		len;
	unsigned char *zip = hand_book(rows, NULL, NULL, NULL, NULL, 8, &len);
	Reader	   *r = open_mem(zip, len, 0);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "a", "b", "c");
	pos_is(&rec, 0, 1);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "1", "", "3");
	pos_is(&rec, 1, 2);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "x", "y");
	pos_is(&rec, 2, 5);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "6", "", "");
	pos_is(&rec, 3, 6);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(zip);
}

static void
test_string_kinds(void **state)
{
	const char *sst =
		"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"4\">"
		"<si><t>平</t></si>"
		"<si><r><rPr><b/></rPr><t xml:space=\"preserve\">富 </t></r><r><t>文本</t></r></si>"
		"<si><t>山田</t><rPh sb=\"0\" eb=\"2\"><t>ヤマダ</t></rPh></si>"
		"<si><t>line_x000D__x000A_two_x005F_x0041_</t></si>"
		"<si/>"
		"</sst>";
	const char *rows =
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
		"<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c>"
		"<c r=\"E1\" t=\"s\"><v>4</v></c><c r=\"F1\" t=\"inlineStr\"><is><r><t>内</t></r>"
		"<r><t xml:space=\"preserve\"> 联</t></r></is></c>"
		"<c r=\"G1\" t=\"str\"><f>A1&amp;\"x\"</f><v>平x</v></c>"
		"<c r=\"H1\" t=\"d\"><v>2023-01-05T00:00:00Z</v></c>"
		"<c r=\"I1\" t=\"d\"><v>2023-01-05T08:30:00</v></c>"
		"<c r=\"J1\" t=\"b\"><v>1</v></c></row>";
	size_t		len;
	unsigned char *zip = hand_book(rows, sst, NULL, NULL, NULL, 8, &len);
	Reader	   *r = open_mem(zip, len, 0);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "平", "富 文本", "山田", "line\r\ntwo_x0041_", "", "内 联", "平x",
		   "2023-01-05", "2023-01-05T08:30:00", "TRUE");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(zip);
}

static void
test_error_cells_and_bad_indexes(void **state)
{
	const char *sst = "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		"<si><t>h</t></si><si><t>ok</t></si></sst>";
	const char *rows =
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>0</v></c></row>"
		"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c><c r=\"B2\" t=\"e\"><v>#N/A</v></c></row>"
		"<row r=\"3\"><c r=\"A3\" t=\"s\"><v>7</v></c></row>"
		"<row r=\"4\"><c r=\"A4\" t=\"s\"><v>1</v></c><c r=\"B4\" t=\"s\"><v>1</v></c></row>";
	size_t		len;
	unsigned char *zip = hand_book(rows, sst, NULL, NULL, NULL, 8, &len);
	Reader	   *r = open_mem(zip, len, 0);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	next_is(r, &rec, READ_BAD);
	contains(rec.reason, "B2");
	contains(rec.reason, "#N/A");
	FIELDS(&rec, "ok", "#N/A");
	pos_is(&rec, 1, 2);
	next_is(r, &rec, READ_BAD);
	contains(rec.reason, "A3");
	contains(rec.reason, "shared string");
	pos_is(&rec, 2, 3);
	next_is(r, &rec, READ_OK);	/* reading goes on */
	FIELDS(&rec, "ok", "ok");
	pos_is(&rec, 3, 4);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(zip);
}

static void
test_date1904_and_custom_styles(void **state)
{
	const char *styles =
		"<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		"<numFmts count=\"3\"><numFmt numFmtId=\"164\" formatCode=\"yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;\"/>"
		"<numFmt numFmtId=\"165\" formatCode=\"0.00&quot;d&quot;\"/>"
		"<numFmt numFmtId=\"166\" formatCode=\"[Red]0.0_m\"/></numFmts>"
		"<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
		"<cellXfs count=\"5\"><xf numFmtId=\"0\"/><xf numFmtId=\"164\"><alignment/></xf>"
		"<xf numFmtId=\"165\"/><xf numFmtId=\"166\"/><xf numFmtId=\"31\"/></cellXfs>"
		"</styleSheet>";
	const char *rows =
		"<row r=\"1\"><c r=\"A1\"><v>0</v></c><c r=\"B1\" s=\"1\"><v>0</v></c>"
		"<c r=\"C1\" s=\"1\"><v>43538</v></c><c r=\"D1\" s=\"2\"><v>43538</v></c>"
		"<c r=\"E1\" s=\"3\"><v>43538</v></c><c r=\"F1\" s=\"4\"><v>43538.25</v></c>"
		"<c r=\"G1\" s=\"99\"><v>43538</v></c></row>";
	size_t		len;
	unsigned char *zip = hand_book(rows, NULL, styles, "<workbookPr date1904=\"1\"/>", NULL, 8,
								   &len);
	Reader	   *r = open_mem(zip, len, 0);
	Record		rec;

	(void) state;
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "0", "1904-01-01", "2023-03-15", "43538", "43538", "2023-03-15", "43538");
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(zip);
}

static void
test_limits(void **state)
{
	char	   *rows = malloc(4096);
	size_t		len;
	unsigned char *zip;
	Reader	   *r;
	Record		rec;
	char		big[201];

	(void) state;
	memset(big, 'x', 200);
	big[200] = '\0';
	/* AMJ is column 1024, AMK 1025 */
	snprintf(rows, 4096,
			 "<row r=\"1\"><c t=\"inlineStr\"><is><t>h</t></is></c></row>"
			 "<row r=\"2\"><c r=\"A2\"><v>1</v></c><c r=\"AMJ2\"><v>2</v></c></row>"
			 "<row r=\"3\"><c r=\"A3\"><v>1</v></c><c r=\"AMK3\"><v>2</v></c></row>"
			 "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t>%s</t></is></c></row>"
			 "<row r=\"5\"><c r=\"A5\"><v>5</v></c><c r=\"XFD5\" s=\"1\"/></row>", big);
	zip = hand_book(rows, NULL, NULL, NULL, NULL, 8, &len);
	r = open_mem(zip, len, 100);
	next_is(r, &rec, READ_OK);
	next_is(r, &rec, READ_OK);
	assert_int_equal(rec.nfields, 1024);
	field_is(&rec, 1023, "2");
	next_is(r, &rec, READ_BAD);
	contains(rec.reason, "beyond column 1024");
	pos_is(&rec, 2, 3);
	next_is(r, &rec, READ_BAD);
	contains(rec.reason, "A4");
	contains(rec.reason, "limit of 100 bytes");
	next_is(r, &rec, READ_OK);		/* a formatted blank far right is no value */
	FIELDS(&rec, "5");
	pos_is(&rec, 4, 5);
	next_is(r, &rec, READ_EOF);
	reader_close(r);
	free(zip);
	free(rows);
}

static void
test_zip64_and_stored(void **state)
{
	const char *wb = "<workbook " MAIN_NS "><sheets>"
		"<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
	const char *sh = "<worksheet " MAIN_NS "><sheetData><row r=\"1\"><c r=\"A1\"><v>42</v></c>"
		"</row></sheetData></worksheet>";
	const char *root = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId1\" Type=\"" REL_NS "officeDocument\" Target=\"/xl/book.xml\"/>"
		"</Relationships>";
	const char *rels = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId1\" Type=\"" REL_NS "worksheet\" Target=\"sheets/s.xml\"/>"
		"</Relationships>";
	ZPart		parts[] = {
		{"_rels/.rels", root, strlen(root), 0, NULL, 0, 0, 0},
		{"xl/book.xml", wb, strlen(wb), 8, NULL, 0, 0, 0},
		{"xl/_rels/book.xml.rels", rels, strlen(rels), 0, NULL, 0, 0, 0},
		{"xl/sheets/s.xml", sh, strlen(sh), 8, NULL, 0, 0, 0},
	};
	Record		rec;

	(void) state;
	for (int zip64 = 0; zip64 <= 1; zip64++)
	{
		size_t		len;
		unsigned char *zip = zip_build(parts, 4, zip64 == 1, &len);
		Reader	   *r = open_mem(zip, len, 0);

		next_is(r, &rec, READ_OK);
		FIELDS(&rec, "42");
		next_is(r, &rec, READ_EOF);
		reader_close(r);
		free(zip);
	}
}

/* ------------------------------------------------------------ damaged and hostile inputs */

static void
test_gzip_wrapped(void **state)
{
	const char *path = write_people("people2.xlsx");
	const char *gz = tmp_path("people2.xlsx.gz");
	size_t		len;
	unsigned char *data = slurp(path, &len);
	gzFile		f = gzopen(gz, "wb9");
	Reader	   *r;

	(void) state;
	assert_non_null(f);
	assert_int_equal(gzwrite(f, data, (unsigned) len), (int) len);
	assert_int_equal(gzclose(f), Z_OK);
	r = open_sheet(gz, "人员");
	read_people(r);
	reader_close(r);
	free(data);
}

static void
test_truncated(void **state)
{
	const char *path = write_people("people3.xlsx");
	const char *cut = tmp_path("cut.xlsx");
	size_t		len;
	unsigned char *data = slurp(path, &len);
	CbError		err;

	(void) state;
	spit(cut, data, len / 2);
	err = open_fails(cut, NULL);
	contains(err.message, "truncated");
	contains(err.input_at, "cut.xlsx");
	assert_true(err.hint[0] != '\0');
	/* only the last bytes missing: the end record is damaged */
	spit(cut, data, len - 5);
	err = open_fails(cut, NULL);
	contains(err.message, "truncated");
	free(data);
}

static void
test_corrupt_entry(void **state)
{
	const char *rows = "<row r=\"1\"><c r=\"A1\"><v>12345</v></c></row>";
	size_t		len;
	unsigned char *zip = hand_book(rows, NULL, NULL, NULL, NULL, 0, &len);
	unsigned char *at = memmem(zip, len, "12345", 5);
	CbError		err;

	(void) state;
	/* a stored entry: a changed byte is caught only by the CRC */
	assert_non_null(at);
	at[2] ^= 0x01;
	err = open_mem_fails(zip, len);
	contains(err.message, "CRC-32");
	contains(err.message, "xl/worksheets/sheet1.xml");
	free(zip);

	/* a deflated entry written by libxlsxwriter: bytes flipped in the middle of its data */
	const char *path = write_people("people4.xlsx");
	const char *bad = tmp_path("flipped.xlsx");
	unsigned char *data = slurp(path, &len);
	const char *name = "xl/worksheets/sheet1.xml";
	unsigned char *lh = memmem(data, len, name, strlen(name));

	assert_non_null(lh);
	lh -= 30;
	assert_int_equal(lh[0], 'P');
	size_t		data_off = (size_t) (lh - data) + 30 + (size_t) (lh[26] | lh[27] << 8) +
		(size_t) (lh[28] | lh[29] << 8);
	size_t		clen = (size_t) lh[18] | (size_t) lh[19] << 8 | (size_t) lh[20] << 16;

	if (clen == 0)				/* sizes in a data descriptor: take a safe spot */
		clen = 64;
	for (size_t i = clen / 3; i < clen / 3 + 8; i++)
		data[data_off + i] ^= 0x5A;
	spit(bad, data, len);
	err = open_fails(bad, NULL);
	contains(err.message, "corrupt xlsx workbook");
	contains(err.message, "sheet1.xml");
	free(data);

	/* the deflated entry intact, its directory entry's CRC-32 one bit off: caught by the CRC
	 * the inflater's output is checked against */
	data = slurp(path, &len);
	unsigned char *cd = memmem(data, len, "PK\1\2", 4);

	while (cd != NULL && memcmp(cd + 46, name, strlen(name)) != 0)
		cd = memmem(cd + 4, len - (size_t) (cd + 4 - data), "PK\1\2", 4);
	assert_non_null(cd);
	assert_int_equal(cd[10], 8);	/* deflated */
	cd[16] ^= 0x01;
	spit(bad, data, len);
	err = open_fails(bad, NULL);
	contains(err.message, "CRC-32");
	contains(err.message, "sheet1.xml");
	cd[16] ^= 0x01;

	/* its compressed size said to be half of what it is: the deflate data ends early */
	uint32_t	csize = (uint32_t) cd[20] | (uint32_t) cd[21] << 8 | (uint32_t) cd[22] << 16 |
		(uint32_t) cd[23] << 24;

	csize /= 2;
	for (int b = 0; b < 4; b++)
		cd[20 + b] = (unsigned char) (csize >> (8 * b));
	spit(bad, data, len);
	err = open_fails(bad, NULL);
	contains(err.message, "ends before its compressed data does");
	contains(err.message, "sheet1.xml");
	free(data);
}

/* A zip holding xl/worksheets/sheet1.xml of 100 MB of zeros (16 MB under valgrind), deflated
 * to ~100 kB (1,030 times smaller); with honest_size false the directory claims it inflates to no
 * more than it occupies. */
static unsigned char *
bomb(bool honest_size, size_t *len)
{
	const size_t total = test_work(100, 16) << 20;
	unsigned char *zeros = calloc(1, 1 << 20);
	Buf			c = {0};
	z_stream	zs;
	unsigned char out[1 << 16];
	uint32_t	crc = (uint32_t) crc32(0L, Z_NULL, 0);

	assert_non_null(zeros);
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	for (size_t done = 0; done < total; done += 1 << 20)
	{
		bool		last = done + (1 << 20) >= total;

		crc = (uint32_t) crc32(crc, zeros, 1 << 20);
		zs.next_in = zeros;
		zs.avail_in = 1 << 20;
		do
		{
			zs.next_out = out;
			zs.avail_out = sizeof out;
			deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
			buf_add(&c, out, sizeof out - zs.avail_out);
		} while (zs.avail_out == 0);
	}
	deflateEnd(&zs);
	free(zeros);

	const char *wb = "<workbook " MAIN_NS "><sheets>"
		"<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
	ZPart		parts[] = {
		{"xl/workbook.xml", wb, strlen(wb), 8, NULL, 0, 0, 0},
		{"xl/_rels/workbook.xml.rels", hand_rels, strlen(hand_rels), 8, NULL, 0, 0, 0},
		{"xl/worksheets/sheet1.xml", NULL, 0, 8, c.p, c.len,
		 honest_size ? total : c.len, crc},
	};
	unsigned char *zip = zip_build(parts, 3, false, len);

	free(c.p);
	return zip;
}

static void
test_zip_bomb_ratio(void **state)
{
	size_t		len;
	unsigned char *zip = bomb(true, &len);
	double		t0 = now();
	CbError		err = open_mem_fails(zip, len);
	double		dt = now() - t0;

	(void) state;
	contains(err.message, "zip bomb");
	contains(err.message, "xl/worksheets/sheet1.xml");
	contains(err.detail, "1000 times");
	if (dt > time_limit(1.0))
		fail_msg("rejecting the zip bomb took %.2f s", dt);
	free(zip);
}

static void
test_zip_bomb_lying_size(void **state)
{
	size_t		len;
	unsigned char *zip = bomb(false, &len);
	double		t0 = now();
	CbError		err = open_mem_fails(zip, len);
	double		dt = now() - t0;

	(void) state;
	contains(err.message, "beyond its declared size");
	if (dt > time_limit(1.0))
		fail_msg("rejecting the zip bomb took %.2f s", dt);
	free(zip);
}

static void
test_not_zip(void **state)
{
	const char *csv = tmp_path("really.csv.xlsx");
	const char *ole = tmp_path("old.xls.xlsx");
	const char *empty = tmp_path("empty.xlsx");
	const char *pk = tmp_path("pk.xlsx");
	CbError		err;

	(void) state;
	spit(csv, "公民身份号码,姓名\n110101199003070011,张三\n", strlen("公民身份号码,姓名\n110101199003070011,张三\n"));
	err = open_fails(csv, NULL);
	contains(err.message, "not a zip archive");
	contains(err.detail, "公民身份号码");
	contains(err.input_at, "really.csv.xlsx");

	spit(ole, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0\0\0\0\0", 16);
	err = open_fails(ole, NULL);
	contains(err.message, "OLE2");
	contains(err.hint, "xlsx");

	spit(empty, "", 0);
	err = open_fails(empty, NULL);
	contains(err.message, "empty");

	spit(pk, "PK\x03\x04garbage", 11);
	err = open_fails(pk, NULL);
	contains(err.message, "truncated");
}

static void
test_hostile_xml(void **state)
{
	const char *lol =
		"<?xml version=\"1.0\"?><!DOCTYPE workbook [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
		"<workbook " MAIN_NS "><sheets><sheet name=\"&b;\" sheetId=\"1\" r:id=\"rId1\"/>"
		"</sheets></workbook>";
	const char *sh = "<worksheet " MAIN_NS "><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c>"
		"</row></sheetData></worksheet>";
	ZPart		parts[] = {
		{"xl/workbook.xml", lol, strlen(lol), 8, NULL, 0, 0, 0},
		{"xl/_rels/workbook.xml.rels", hand_rels, strlen(hand_rels), 8, NULL, 0, 0, 0},
		{"xl/worksheets/sheet1.xml", sh, strlen(sh), 8, NULL, 0, 0, 0},
	};
	size_t		len;
	unsigned char *zip = zip_build(parts, 3, false, &len);
	CbError		err = open_mem_fails(zip, len);

	(void) state;
	contains(err.message, "document type declaration");
	contains(err.message, "xl/workbook.xml");
	free(zip);
}

static void
test_malformed_sheet(void **state)
{
	/*
	 * The rows break off after 3000 good ones: records, then READ_ERROR naming the sheet.
	 * Every row completed before the break is handed out first, the error after them.
	 */
	Buf			rows = {0};
	char		row[96];
	size_t		len;
	unsigned char *zip;
	Reader	   *r;
	Record		rec;
	CbError		err;
	ReadStatus	st;
	int			n = 0;

	(void) state;
	for (int i = 1; i <= 3000; i++)
	{
		snprintf(row, sizeof row, "<row r=\"%d\"><c r=\"A%d\"><v>%d</v></c></row>", i, i, i);
		buf_add(&rows, row, strlen(row));
	}
	{
		const char *broken = "<row r=\"3001\"><c r=\"A3001\"><v>1</v></row>";

		buf_add(&rows, broken, strlen(broken));
	}
	buf_add(&rows, "", 1);
	zip = hand_book((const char *) rows.p, NULL, NULL, NULL, NULL, 8, &len);
	r = open_mem(zip, len, 0);
	memset(&err, 0, sizeof err);
	while ((st = reader_next(r, &rec, &err)) == READ_OK)
		n++;
	assert_int_equal(st, READ_ERROR);
	assert_int_equal(n, 3000);
	contains(err.message, "malformed worksheet \"Sheet1\"");
	contains(err.message, "mismatch");
	contains(err.input_at, "hand.xlsx");
	memset(&err, 0, sizeof err);
	assert_int_equal(reader_next(r, &rec, &err), READ_ERROR);	/* and stays so */
	contains(err.message, "malformed worksheet");
	reader_close(r);
	free(zip);
	free(rows.p);
}

/* The constructor behind reader_open, called directly (as reader.c does) on memory. */
static void
test_constructor_direct(void **state)
{
	const char *rows = "<row r=\"3\"><c r=\"B3\" t=\"inlineStr\"><is><t>direct</t></is></c></row>";
	ReaderSpec	spec = {.format = RF_XLSX};
	CbError		err;
	size_t		len;
	unsigned char *zip = hand_book(rows, NULL, NULL, NULL, NULL, 0, &len);
	Reader	   *r;
	Record		rec;

	(void) state;
	memset(&err, 0, sizeof err);
	r = xlsx_reader_new(&spec, "direct.xlsx", zip, len, &err);
	assert_non_null(r);
	next_is(r, &rec, READ_OK);
	FIELDS(&rec, "", "direct");
	pos_is(&rec, 0, 3);
	next_is(r, &rec, READ_EOF);
	assert_true(reader_bytes_in(r) > 0);
	reader_close(r);
	assert_null(xlsx_reader_new(&spec, "direct.xlsx", "name,age\n", 9, &err));
	contains(err.message, "not a zip archive");
	free(zip);
}

/* ------------------------------------------------------------ throughput */

static void
test_throughput(void **state)
{
	const int	nrows = (int) test_work(200000, 10000);
	const char *path = tmp_path("big.xlsx");
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, "人员");
	lxw_format *ymd = workbook_add_format(wb);
	const char *surnames[] = {"王", "李", "张", "刘", "陈", "杨", "金", "朴"};
	const char *given[] = {"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军"};
	char		id[24],
				name[32];
	Reader	   *r;
	Record		rec;
	ReadStatus	st;
	long		n = 0;
	uint64_t	bytes = 0;
	double		t0,
				t1;
	size_t		flen;
	unsigned char *fdata;

	(void) state;
	format_set_num_format(ymd, "yyyy-mm-dd");
	const char *head[] = {"公民身份号码", "姓名", "性别", "出生日期", "月收入", "地址", "电话"};

	for (int c = 0; c < 7; c++)
		check_ok(worksheet_write_string(ws, 0, (lxw_col_t) c, head[c], NULL));
	for (int i = 1; i <= nrows; i++)
	{
		lxw_datetime d = {1940 + i % 70, 1 + i % 12, 1 + i % 28, 0, 0, 0};

		snprintf(id, sizeof id, "2224011%04d%02d%02d%03d%d", d.year, d.month, d.day, i % 1000,
				 i % 10);
		snprintf(name, sizeof name, "%s%s%s", surnames[i % 8], given[i % 10], given[i / 10 % 10]);
		check_ok(worksheet_write_string(ws, (lxw_row_t) i, 0, id, NULL));
		check_ok(worksheet_write_string(ws, (lxw_row_t) i, 1, name, NULL));
		check_ok(worksheet_write_string(ws, (lxw_row_t) i, 2, i % 2 ? "男" : "女", NULL));
		check_ok(worksheet_write_datetime(ws, (lxw_row_t) i, 3, &d, ymd));
		check_ok(worksheet_write_number(ws, (lxw_row_t) i, 4, 1000 + (i % 9000) * 0.5, NULL));
		check_ok(worksheet_write_string(ws, (lxw_row_t) i, 5, "吉林省延边朝鲜族自治州延吉市", NULL));
		check_ok(worksheet_write_number(ws, (lxw_row_t) i, 6, 13900000000.0 + i, NULL));
	}
	check_ok(workbook_close(wb));
	fdata = slurp(path, &flen);
	free(fdata);

	t0 = now();
	r = open_sheet(path, NULL);
	t1 = now();
	while ((st = reader_next(r, &rec, NULL)) == READ_OK)
	{
		n++;
		for (int c = 0; c < rec.nfields; c++)
			bytes += rec.fields[c].len;
	}
	assert_int_equal(st, READ_EOF);
	assert_int_equal(n, nrows + 1);
	double		dt = now() - t0;

	reader_close(r);
	printf("xlsx throughput: %d rows x 7 columns, file %.1f MB: open %.3f s, total %.3f s, "
		   "%.0f rows/s, %.1f MB/s of field text\n",
		   nrows, (double) flen / 1e6, t1 - t0, dt, (double) n / dt, (double) bytes / 1e6 / dt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_numbers_dates),
		cmocka_unit_test(test_date_styled_numbers),
		cmocka_unit_test(test_empty_cells_and_widths),
		cmocka_unit_test(test_rich_text_and_spaces),
		cmocka_unit_test(test_booleans_and_formulas),
		cmocka_unit_test(test_sheet_by_name),
		cmocka_unit_test(test_missing_sheet),
		cmocka_unit_test(test_hidden_first_sheet),
		cmocka_unit_test(test_cells_without_references),
		cmocka_unit_test(test_string_kinds),
		cmocka_unit_test(test_error_cells_and_bad_indexes),
		cmocka_unit_test(test_date1904_and_custom_styles),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_zip64_and_stored),
		cmocka_unit_test(test_gzip_wrapped),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt_entry),
		cmocka_unit_test(test_zip_bomb_ratio),
		cmocka_unit_test(test_zip_bomb_lying_size),
		cmocka_unit_test(test_not_zip),
		cmocka_unit_test(test_hostile_xml),
		cmocka_unit_test(test_malformed_sheet),
		cmocka_unit_test(test_constructor_direct),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests_name("xlsx reader", tests, setup, teardown);
}
