/*
 * sink.c — one extract file, in the format its agency delivers.
 *
 * Emitters hand over raw field values (text, dates, months, amounts); the
 * sink formats them as the SinkSpec says:
 *   CSV     any delimiter, RFC 4180 quoting (or every field quoted), optional
 *           UTF-8 BOM, CRLF, header row or none;
 *   XML     a document head, one record per template (${N} = column N,
 *           escaped) and a tail;
 *   JSONL   one object per line from a template (${N} = column N as a JSON
 *           string, number or null);
 *   fixed   columns padded to widths in bytes or characters, amounts
 *           right-aligned;
 *   XLSX    through libxlsxwriter: a named sheet (after a notes sheet, when
 *           asked), a bold header row, text cells in the text format "@" (so
 *           IDs stay text), dates as Excel serial numbers with a date
 *           format, amounts as numbers; streamed (constant_memory, inline
 *           strings), or as Excel writes it (a shared-string table) for
 *           specs that ask for it up to a number of persons; past
 *           Sink.part_rows records, further workbooks name_D_2.xlsx, ...;
 * then, for the text formats, transcodes to GBK or GB18030 (iconv) and
 * gzip-compresses (zlib) when asked.  Transcoding, compression and writing
 * of a gzip sink run in a worker thread of their own, fed 1 MiB at a time,
 * so that deflate overlaps the generation; the bytes are the same as when
 * done inline.
 *
 * The sink also plants the records every correct reader must reject or fold.
 * After each clean record, with probability 1/2000 each, a malformed record
 * derived from it, and a duplicate: the same record again (byte-identical in
 * the text formats, the same cells in XLSX) after 0 to 31 further clean
 * records.  A malformed record is one of the kinds its format allows,
 * uniformly:
 *   MK_COUNT     wrong number of fields (CSV only: a field more or less;
 *                header-less CSV: the last, mapped, field missing);
 *   MK_ID        an ID number no reader may accept (12345, letters; in XLSX
 *                also the real ID typed as a number, 2.224011990010112E+17);
 *   MK_DATE      an impossible date or month in a required date column,
 *                different in every malformed record of the file;
 *   MK_ENCODING  GBK / GB18030 files: a field's last character cut in half
 *                (a lone lead byte before the delimiter or the padding);
 *   MK_JSON      JSON Lines: a line that is no JSON object (cut short, a
 *                trailing comma, NaN for an amount).
 * XML documents stay well-formed: only values are bad.  A file of 50 or more
 * clean records gets at least one malformed record of every kind its format
 * allows and one duplicate (appended on close).  Only the clean record's
 * facts reach the truth; the caller adds them after sink_end().  With noise,
 * an injected copy of a record whose ID is garbled gets its hidden link too
 * (Sink.links, written by the caller).
 */
#include "synth.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xlsxwriter.h>
#include <zlib.h>

#define OUT_CAP (1u << 20)
#define REC_MAX (32u << 10)               /* bytes one formatted record may take */
#define INJECT_RATE 2000u
#define INJECT_MIN_ROWS 50u
#define MAX_SEGS 96

enum { MK_COUNT, MK_ID, MK_DATE, MK_ENCODING, MK_JSON, MK_N };

/* A template piece: literal text, or a column / the as-of date / the record count. */
typedef struct Seg {
	const char *lit;
	size_t len;
	int col;                                /* >= 0 column; -1 literal; -2 ${D}; -3 ${R} */
} Seg;

typedef struct Template {
	Seg seg[MAX_SEGS];
	int n;
} Template;

struct SinkImpl {
	FILE *f;
	char *buf;                              /* formatted UTF-8 text waiting */
	size_t len;
	char asof[11];
	Template head, rec, tail;
	/* transcoding: UTF-8 -> GBK / GB18030 (bytes not valid UTF-8 pass unchanged) */
	bool conv;
	iconv_t cd;
	char *tbuf;
	size_t tcap;
	/* gzip */
	bool gz;
	z_stream z;
	unsigned char *zbuf;
	/* errors seen in the output layers (the worker's, read after join) */
	int io_errno;
	bool io_failed;
	bool unmappable;
	/* worker thread of a gzip sink */
	bool threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *jbuf;
	size_t jlen;
	bool jready, jlast;
	/* xlsx; where its further parts go */
	char dir[4096], stem_tag[128];
	int32_t day;
	bool shared;
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *f_head, *f_date, *f_money, *f_text;
	uint32_t xrow;
	char cell[SINK_ROW_MAX + 1];
};

/* ---------------------------------------------------------------- values */

static size_t field_len(const SinkRow *r, int i) { return (size_t)(r->off[i + 1] - r->off[i]); }
static const char *field(const SinkRow *r, int i) { return r->text + r->off[i]; }

void sink_begin(Sink *s)
{
	s->row.nf = 0;
	s->row.off[0] = 0;
	s->row_overflow = false;
}

/* libc's memcpy: GCC would inline a slow `rep movsq` for these short values */
static void *(*const volatile copy)(void *, const void *, size_t) = memcpy;

static void put_value(Sink *s, const char *v, size_t n, int kind, int64_t num)
{
	SinkRow *r = &s->row;
	size_t at = r->off[r->nf];
	if (r->nf >= SINK_MAX_COLS || at + n >= SINK_ROW_MAX - 64) {
		s->row_overflow = true;
		n = 0;
	}
	if (r->nf >= SINK_MAX_COLS)
		return;
	copy(r->text + at, v, n);
	r->kind[r->nf] = (uint8_t)kind;
	r->num[r->nf] = num;
	r->nf++;
	r->off[r->nf] = (uint16_t)(at + n);
}

void sink_strn(Sink *s, const char *v, size_t n) { put_value(s, v, n, VK_TEXT, 0); }
void sink_str(Sink *s, const char *v) { put_value(s, v, strlen(v), VK_TEXT, 0); }
void sink_empty(Sink *s) { put_value(s, "", 0, VK_TEXT, 0); }

void sink_date(Sink *s, int32_t z, DateStyle st)
{
	char b[32];
	size_t n = date_format(b, z, st);
	put_value(s, b, n, n ? VK_DATE : VK_TEXT, z);
}

void sink_datetime(Sink *s, int32_t z, int secs)
{
	char b[48];
	size_t n = date_format(b, z, DS_ISO);
	if (n) {
		int t[3] = { secs / 3600 % 24, secs / 60 % 60, secs % 60 };
		for (int k = 0; k < 3; k++) {
			b[n++] = k ? ':' : ' ';
			b[n++] = (char)('0' + t[k] / 10);
			b[n++] = (char)('0' + t[k] % 10);
		}
	}
	put_value(s, b, n, VK_TEXT, z);
}

void sink_month(Sink *s, int ym, MonthStyle st)
{
	char b[16];
	size_t n = month_format(b, ym, st);
	put_value(s, b, n, n ? VK_MONTH : VK_TEXT, ym);
}

void sink_money(Sink *s, int64_t cents)
{
	char b[32];
	size_t n = money_format(b, cents);
	put_value(s, b, n, n ? VK_MONEY : VK_TEXT, cents);
}

void sink_int(Sink *s, long v)
{
	char t[24], b[24];
	int n = 0;
	size_t k = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
	do {
		t[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		b[k++] = '-';
	while (n)
		b[k++] = t[--n];
	put_value(s, b, k, VK_INT, v);
}

/* ---------------------------------------------------------------- templates */

static bool parse_template(Template *t, const char *text, const char *file)
{
	t->n = 0;
	if (!text)
		return true;
	const char *p = text;
	while (*p) {
		const char *d = strstr(p, "${");
		const char *lit_end = d ? d : p + strlen(p);
		if (lit_end > p) {
			if (t->n >= MAX_SEGS)
				goto too_long;
			t->seg[t->n++] = (Seg){ p, (size_t)(lit_end - p), -1 };
		}
		if (!d)
			break;
		const char *close = strchr(d, '}');
		if (!close)
			goto bad;
		int col;
		if (close == d + 3 && d[2] == 'D')
			col = -2;
		else if (close == d + 3 && d[2] == 'R')
			col = -3;
		else {
			char *end;
			long v = strtol(d + 2, &end, 10);
			if (end != close || v < 0 || v >= SINK_MAX_COLS)
				goto bad;
			col = (int)v;
		}
		if (t->n >= MAX_SEGS)
			goto too_long;
		t->seg[t->n++] = (Seg){ NULL, 0, col };
		p = close + 1;
	}
	return true;
bad:
	fprintf(stderr, "synth: internal error: bad placeholder in the template of %s\n", file);
	return false;
too_long:
	fprintf(stderr, "synth: internal error: template of %s too long\n", file);
	return false;
}

/* ---------------------------------------------------------------- output layers */

/* Encodes a valid UTF-8 sequence's length at p (n bytes available), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t k;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		k = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		k = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return k;
}

static void write_raw(SinkImpl *o, const void *p, size_t n)
{
	if (n == 0 || o->io_failed)
		return;
	if (fwrite(p, 1, n, o->f) != n) {
		o->io_failed = true;
		o->io_errno = errno;
	}
}

static void deflate_out(SinkImpl *o, const char *p, size_t n, bool last)
{
	o->z.next_in = (Bytef *)p;
	o->z.avail_in = (uInt)n;
	for (;;) {
		o->z.next_out = o->zbuf;
		o->z.avail_out = OUT_CAP;
		int rc = deflate(&o->z, last ? Z_FINISH : Z_NO_FLUSH);
		write_raw(o, o->zbuf, OUT_CAP - o->z.avail_out);
		if (rc == Z_STREAM_ERROR) {
			o->io_failed = true;
			o->io_errno = EIO;
			return;
		}
		if (last ? rc == Z_STREAM_END : (o->z.avail_in == 0 && o->z.avail_out != 0))
			return;
	}
}

/* Transcodes p[0..n) to the target encoding into tbuf; a byte that is not
 * valid UTF-8 (a deliberately cut character) passes unchanged, a character
 * the target cannot hold is an internal error.  Buffers end at record
 * boundaries, so no character straddles two of them.  Returns the length. */
static size_t transcode(SinkImpl *o, const char *p, size_t n)
{
	char *in = (char *)p, *out = o->tbuf;
	size_t inl = n, outl = o->tcap;
	while (inl > 0) {
		if (iconv(o->cd, &in, &inl, &out, &outl) != (size_t)-1)
			break;
		size_t k = utf8_seq((const unsigned char *)in, inl);
		if (errno == E2BIG || k > 0) {
			o->unmappable = true;             /* cannot happen with the text we write */
			if (errno == E2BIG)
				break;
			in += k;
			inl -= k;
			continue;
		}
		*out++ = *in++;                           /* not UTF-8: passes unchanged */
		outl--;
		inl--;
	}
	return (size_t)(out - o->tbuf);
}

/* Transcode, compress, write: inline or in the worker. */
static void process(SinkImpl *o, const char *p, size_t n, bool last)
{
	if (o->conv) {
		n = transcode(o, p, n);
		p = o->tbuf;
	}
	if (o->gz)
		deflate_out(o, p, n, last);
	else
		write_raw(o, p, n);
}

static void *worker(void *arg)
{
	SinkImpl *o = arg;
	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (!o->jready)
			pthread_cond_wait(&o->cv, &o->mu);
		bool last = o->jlast;
		pthread_mutex_unlock(&o->mu);
		process(o, o->jbuf, o->jlen, last);
		pthread_mutex_lock(&o->mu);
		o->jready = false;
		pthread_cond_broadcast(&o->cv);
		if (last)
			break;
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* Hands the waiting text to the layers below. */
static void flush(Sink *s, bool last)
{
	SinkImpl *o = s->impl;
	if (!o->threaded) {
		process(o, o->buf, o->len, last);
		o->len = 0;
		return;
	}
	pthread_mutex_lock(&o->mu);
	while (o->jready)
		pthread_cond_wait(&o->cv, &o->mu);
	char *t = o->jbuf;
	o->jbuf = o->buf;
	o->jlen = o->len;
	o->jlast = last;
	o->jready = true;
	o->buf = t;
	o->len = 0;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

/* Room for one formatted record at o->buf + o->len. */
static char *reserve(Sink *s)
{
	SinkImpl *o = s->impl;
	if (o->len + REC_MAX > OUT_CAP)
		flush(s, false);
	return o->buf + o->len;
}

/* ---------------------------------------------------------------- formats */

static bool needs_quotes(const SinkSpec *sp, const char *v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == sp->delim || v[k] == '"' || v[k] == '\n' || v[k] == '\r')
			return true;
	return false;
}

static size_t fmt_csv_field(const SinkSpec *sp, char *d, const char *v, size_t n)
{
	size_t o = 0;
	if (!sp->quote_all && !needs_quotes(sp, v, n)) {
		memcpy(d, v, n);
		return n;
	}
	d[o++] = '"';
	for (size_t k = 0; k < n; k++) {
		if (v[k] == '"')
			d[o++] = '"';
		d[o++] = v[k];
	}
	d[o++] = '"';
	return o;
}

static size_t fmt_eol(const SinkSpec *sp, char *d)
{
	if (sp->crlf) {
		d[0] = '\r';
		d[1] = '\n';
		return 2;
	}
	d[0] = '\n';
	return 1;
}

static size_t fmt_csv(const SinkSpec *sp, const SinkRow *r, char *d)
{
	size_t n = 0;
	for (int i = 0; i < r->nf; i++) {
		if (i)
			d[n++] = sp->delim;
		n += fmt_csv_field(sp, d + n, field(r, i), field_len(r, i));
	}
	return n + fmt_eol(sp, d + n);
}

/* Characters (code-point starts; a stray lead byte counts as one) or bytes. */
static size_t units(const SinkSpec *sp, const char *v, size_t n)
{
	if (!sp->chars)
		return n;
	size_t c = 0;
	for (size_t k = 0; k < n; k++)
		c += ((unsigned char)v[k] & 0xC0) != 0x80;
	return c;
}

static size_t fmt_fixed(Sink *s, const SinkRow *r, char *d)
{
	const SinkSpec *sp = s->spec;
	size_t n = 0;
	for (int i = 0; i < r->nf; i++) {
		const char *v = field(r, i);
		size_t len = field_len(r, i), w = sp->width[i], u = units(sp, v, len);
		if (u > w) {
			fprintf(stderr, "synth: internal error: \"%.*s\" wider than column %d (%zu) of %s\n",
				(int)len, v, i + 1, w, s->file);
			s->failed = true;
			len = u = 0;
		}
		bool right = r->kind[i] == VK_MONEY || r->kind[i] == VK_INT;
		if (right) {
			memset(d + n, ' ', w - u);
			n += w - u;
		}
		memcpy(d + n, v, len);
		n += len;
		if (!right) {
			memset(d + n, ' ', w - u);
			n += w - u;
		}
	}
	return n + fmt_eol(sp, d + n);
}

static size_t xml_escape(char *d, const char *v, size_t n)
{
	size_t o = 0;
	for (size_t k = 0; k < n; k++) {
		const char *e = NULL;
		switch (v[k]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&apos;"; break;
		}
		if (e) {
			size_t el = strlen(e);
			memcpy(d + o, e, el);
			o += el;
		} else {
			d[o++] = v[k];
		}
	}
	return o;
}

static size_t json_value(char *d, const SinkRow *r, int i)
{
	const char *v = field(r, i);
	size_t n = field_len(r, i), o = 0;
	if (n == 0) {
		memcpy(d, "null", 4);
		return 4;
	}
	if (r->kind[i] == VK_MONEY || r->kind[i] == VK_INT || r->kind[i] == VK_NUMBER) {
		memcpy(d, v, n);
		return n;
	}
	d[o++] = '"';
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)v[k];
		if (c == '"' || c == '\\') {
			d[o++] = '\\';
			d[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)sprintf(d + o, "\\u%04x", c);
		} else {
			d[o++] = (char)c;
		}
	}
	d[o++] = '"';
	return o;
}

static size_t fmt_template(const Sink *s, const Template *t, const SinkRow *r, char *d)
{
	size_t n = 0;
	for (int k = 0; k < t->n; k++) {
		const Seg *g = &t->seg[k];
		if (g->col == -1) {
			memcpy(d + n, g->lit, g->len);
			n += g->len;
		} else if (g->col == -2) {
			memcpy(d + n, s->impl->asof, 10);
			n += 10;
		} else if (g->col == -3) {
			n += (size_t)sprintf(d + n, "%llu", (unsigned long long)s->records);
		} else if (!r || g->col >= r->nf) {
			continue;                        /* a field the malformed record lost */
		} else if (s->spec->format == SF_JSONL) {
			n += json_value(d + n, r, g->col);
		} else {
			n += xml_escape(d + n, field(r, g->col), field_len(r, g->col));
		}
	}
	return n;
}

/* XLSX: the cells of one row. */
static void xlsx_row(Sink *s, const SinkRow *r)
{
	SinkImpl *o = s->impl;
	lxw_error e = LXW_NO_ERROR;
	if (!o->ws)
		return;                          /* a part that could not be started (reported) */
	for (int i = 0; i < r->nf && e == LXW_NO_ERROR; i++) {
		size_t n = field_len(r, i);
		if (n == 0)
			continue;
		switch (r->kind[i]) {
		case VK_DATE:
			e = worksheet_write_number(o->ws, o->xrow, (lxw_col_t)i, (double)r->num[i] + 25569.0, o->f_date);
			break;
		case VK_MONEY:
			e = worksheet_write_number(o->ws, o->xrow, (lxw_col_t)i, (double)r->num[i] / 100.0, o->f_money);
			break;
		case VK_INT:
			e = worksheet_write_number(o->ws, o->xrow, (lxw_col_t)i, (double)r->num[i], NULL);
			break;
		case VK_NUMBER:
			memcpy(o->cell, field(r, i), n);
			o->cell[n] = 0;
			e = worksheet_write_number(o->ws, o->xrow, (lxw_col_t)i, strtod(o->cell, NULL), NULL);
			break;
		default:
			memcpy(o->cell, field(r, i), n);
			o->cell[n] = 0;
			e = worksheet_write_string(o->ws, o->xrow, (lxw_col_t)i, o->cell, o->f_text);
			break;
		}
	}
	if (e != LXW_NO_ERROR && !s->failed) {
		fprintf(stderr, "synth: could not write row %u of \"%s\": %s\n", o->xrow + 1, s->file,
			lxw_strerror(e));
		s->failed = true;
	}
	o->xrow++;
}

/* One record, whatever the format.  mutate_json: MK_JSON's damage, 1-3. */
static void write_record(Sink *s, const SinkRow *r, int mutate_json)
{
	const SinkSpec *sp = s->spec;
	if (sp->format == SF_XLSX) {
		xlsx_row(s, r);
		s->records++;
		return;
	}
	char *d = reserve(s);
	size_t n;
	switch (sp->format) {
	case SF_CSV: n = fmt_csv(sp, r, d); break;
	case SF_FIXED: n = fmt_fixed(s, r, d); break;
	default: n = fmt_template(s, &s->impl->rec, r, d); break;
	}
	if (sp->format == SF_JSONL) {
		if (mutate_json == 1) {
			/* cut short (a writer that died mid-line), on a character boundary */
			size_t cut = n / 3 + rng_below(&s->rng, (uint32_t)(n / 2));
			while (cut > 1 && ((unsigned char)d[cut] & 0xC0) == 0x80)
				cut--;
			n = cut;
		} else if (mutate_json == 2 && n > 1) {
			d[n - 1] = ',';                  /* a trailing comma */
			d[n++] = '}';
		}
		d[n++] = '\n';
	}
	s->impl->len += n;
	s->records++;
}

/* ---------------------------------------------------------------- open */

static bool fail_open(Sink *s, const char *path, const char *what)
{
	s->failed = true;
	fprintf(stderr, "synth: could not create \"%s\": %s\n", path, what);
	return false;
}

static bool xlsx_open(Sink *s, const char *path, int32_t asof, bool shared)
{
	SinkImpl *o = s->impl;
	const SinkSpec *sp = s->spec;
	lxw_workbook_options opt = { .constant_memory = shared ? LXW_FALSE : LXW_TRUE, .tmpdir = NULL,
				     .use_zip64 = LXW_FALSE };
	o->wb = workbook_new_opt(path, &opt);
	if (!o->wb)
		return fail_open(s, path, "libxlsxwriter could not start the workbook");
	char title[128];
	snprintf(title, sizeof title, "%s", sp->sheet);
	lxw_doc_properties props = {
		.title = title, .author = (char *)sp->agency, .company = (char *)sp->agency,
		.created = (time_t)asof * 86400 + 8 * 3600,     /* the night of D, fixed: same bytes every run */
	};
	workbook_set_properties(o->wb, &props);
	o->f_head = workbook_add_format(o->wb);
	format_set_bold(o->f_head);
	o->f_date = workbook_add_format(o->wb);
	if (sp->date_numfmt)
		format_set_num_format(o->f_date, sp->date_numfmt);
	else
		format_set_num_format_index(o->f_date, (uint8_t)sp->date_numfmt_index);
	o->f_money = workbook_add_format(o->wb);
	format_set_num_format(o->f_money, "0.00");
	o->f_text = workbook_add_format(o->wb);
	format_set_num_format(o->f_text, "@");
	if (sp->notes) {
		lxw_worksheet *ws = workbook_add_worksheet(o->wb, "填表说明");
		if (!ws)
			return fail_open(s, path, "libxlsxwriter could not add a sheet");
		worksheet_set_column(ws, 0, 0, 90, NULL);
		for (int i = 0; sp->notes[i]; i++)
			worksheet_write_string(ws, (lxw_row_t)i, 0, sp->notes[i], i ? NULL : o->f_head);
	}
	o->ws = workbook_add_worksheet(o->wb, sp->sheet);
	if (!o->ws)
		return fail_open(s, path, "libxlsxwriter could not add a sheet");
	for (int i = 0; i < sp->ncols; i++) {
		double w = i == sp->id_col ? 20 : 14;
		worksheet_set_column(o->ws, (lxw_col_t)i, (lxw_col_t)i, w, NULL);
		worksheet_write_string(o->ws, 0, (lxw_col_t)i, sp->cols[i], o->f_head);
	}
	worksheet_freeze_panes(o->ws, 1, 0);
	o->xrow = 1;
	return true;
}

bool sink_open(Sink *s, const SinkSpec *spec, const char *dir, const char *tag, int32_t asof,
	       long persons, uint64_t seed, int index, bool inject)
{
	char path[4096];
	memset(s, 0, sizeof *s);
	s->spec = spec;
	s->dup_wait = -1;
	if (strcmp(spec->stem, "ref_divisions") == 0)
		snprintf(s->file, sizeof s->file, "%s.%s", spec->stem, spec->ext);
	else
		snprintf(s->file, sizeof s->file, "%s_%s.%s%s", spec->stem, tag, spec->ext, spec->gzip ? ".gz" : "");
	snprintf(path, sizeof path, "%s/%s", dir, s->file);
	rng_seed(&s->rng, seed, STREAM_SINK, (uint64_t)index);
	s->inject = inject;
	SinkImpl *o = s->impl = calloc(1, sizeof *o);
	if (!o)
		return fail_open(s, path, "out of memory");
	date_format(o->asof, asof, DS_ISO);
	if (spec->format == SF_XLSX) {
		snprintf(o->dir, sizeof o->dir, "%s", dir);
		snprintf(o->stem_tag, sizeof o->stem_tag, "%s_%s", spec->stem, tag);
		o->day = asof;
		o->shared = persons <= spec->shared_upto;
		return xlsx_open(s, path, asof, o->shared);
	}

	o->f = fopen(path, "wb");
	if (!o->f)
		return fail_open(s, path, strerror(errno));
	o->buf = malloc(OUT_CAP);
	if (!o->buf)
		return fail_open(s, path, "out of memory");
	if (!parse_template(&o->head, spec->head, s->file) || !parse_template(&o->rec, spec->tmpl, s->file) ||
	    !parse_template(&o->tail, spec->tail, s->file))
		return false;
	if (spec->encoding != SE_UTF8) {
		o->cd = iconv_open(spec->encoding == SE_GBK ? "GBK" : "GB18030", "UTF-8");
		if (o->cd == (iconv_t)-1)
			return fail_open(s, path, "iconv cannot convert UTF-8 to GBK / GB18030");
		o->conv = true;
		o->tcap = 2 * OUT_CAP + 64;
		o->tbuf = malloc(o->tcap);
		if (!o->tbuf)
			return fail_open(s, path, "out of memory");
	}
	if (spec->gzip) {
		if (deflateInit2(&o->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return fail_open(s, path, "zlib could not start");
		o->gz = true;
		o->zbuf = malloc(OUT_CAP);
		o->jbuf = malloc(OUT_CAP);
		if (!o->zbuf || !o->jbuf)
			return fail_open(s, path, "out of memory");
		pthread_mutex_init(&o->mu, NULL);
		pthread_cond_init(&o->cv, NULL);
		if (pthread_create(&o->th, NULL, worker, o) != 0)
			return fail_open(s, path, "could not start a thread");
		o->threaded = true;
	}

	/* what comes before the first record */
	char *d = reserve(s);
	size_t n = 0;
	if (spec->format == SF_CSV) {
		if (spec->bom) {
			memcpy(d, "\xEF\xBB\xBF", 3);
			n = 3;
		}
		if (!spec->no_header) {
			for (int i = 0; i < spec->ncols; i++) {
				if (i)
					d[n++] = spec->delim;
				n += fmt_csv_field(spec, d + n, spec->cols[i], strlen(spec->cols[i]));
			}
			n += fmt_eol(spec, d + n);
		}
	} else if (spec->format == SF_XML) {
		n = fmt_template(s, &o->head, NULL, d);
	}
	o->len = n;
	return true;
}

/* ---------------------------------------------------------------- injection */

static bool kind_allowed(const Sink *s, int k)
{
	const SinkSpec *sp = s->spec;
	switch (k) {
	case MK_COUNT: return sp->format == SF_CSV && sp->ncols > 2;
	case MK_ID: return sp->id_col >= 0;
	case MK_DATE: return sp->date_col >= 0;
	case MK_ENCODING: return sp->encoding != SE_UTF8 && sp->enc_col >= 0;
	case MK_JSON: return sp->format == SF_JSONL;
	}
	return false;
}

/* Replaces field i of r by v (kind). */
static void set_field(SinkRow *r, int i, const char *v, size_t n, int kind)
{
	char tail[SINK_ROW_MAX];
	size_t end = r->off[r->nf], at = r->off[i + 1], tl = end - at;
	if (r->off[i] + n + tl >= SINK_ROW_MAX)
		n = 0;
	memcpy(tail, r->text + at, tl);
	memcpy(r->text + r->off[i], v, n);
	memcpy(r->text + r->off[i] + n, tail, tl);
	int delta = (int)n - (int)(at - r->off[i]);
	for (int k = i + 1; k <= r->nf; k++)
		r->off[k] = (uint16_t)(r->off[k] + delta);
	r->kind[i] = (uint8_t)kind;
}

static void bad_date(const Sink *s, char *b, size_t cap)
{
	const SinkSpec *sp = s->spec;
	unsigned k = (unsigned)s->malformed;
	int mm = 13 + (int)(k % 87), dd = 32 + (int)(k / 87 % 68);
	if (sp->date_kind == DK_MONTH) {
		int y = 2023 - (int)(k / 87 % 1000);
		snprintf(b, cap, sp->month_style == MS_DASH ? "%04d-%02d" : "%04d%02d", y, mm);
		return;
	}
	int y = 2023 - (int)(k / (87 * 68) % 1000);
	switch (sp->date_style) {
	case DS_YMD8: snprintf(b, cap, "%04d%02d%02d", y, mm, dd); break;
	case DS_ISO: snprintf(b, cap, "%04d-%02d-%02d", y, mm, dd); break;
	case DS_SLASH: snprintf(b, cap, "%04d/%d/%d", y, mm, dd); break;
	case DS_CN: snprintf(b, cap, "%04d年%d月%d日", y, mm, dd); break;
	}
}

/* An injected copy of a record with a garbled ID: its hidden link. */
static void add_link(Sink *s, const char *id)
{
	if (id[0] && s->nlinks < (int)(sizeof s->links / sizeof s->links[0])) {
		s->links[s->nlinks].record = s->records;
		memcpy(s->links[s->nlinks].id, id, 19);
		s->nlinks++;
	}
}

/* A record that any correct reader rejects, derived from the current one. */
static void write_malformed(Sink *s, int kind)
{
	const SinkSpec *sp = s->spec;
	SinkRow *r = malloc(sizeof *r);
	if (!r) {
		s->failed = true;
		return;
	}
	memcpy(r, &s->row, sizeof *r);
	int json = 0;
	char b[64];
	if (kind == MK_ENCODING && sp->format == SF_FIXED &&
	    units(sp, field(r, sp->enc_col), field_len(r, sp->enc_col)) >= sp->width[sp->enc_col])
		kind = MK_ID;   /* no padding after the cut byte: it would pair with the next column's */
	switch (kind) {
	case MK_COUNT:
		if (sp->no_header || (r->nf > 2 && rng_chance(&s->rng, 0.5))) {
			r->nf--;                          /* header-less: the last column is mapped */
		} else {
			r->off[r->nf + 1] = r->off[r->nf];
			r->nf++;
			set_field(r, r->nf - 1, "多余字段", strlen("多余字段"), VK_TEXT);
		}
		break;
	case MK_ID: {
		int c = sp->id_col;
		const char *v = rng_chance(&s->rng, 0.5) ? "12345" : "ABCDEFGHIJKLMNOPQR";
		if (sp->format == SF_XLSX && rng_chance(&s->rng, 0.5) && field_len(r, c) == 18) {
			/* the ID typed into a number cell: a float, 2.224011990010112E+17 */
			snprintf(b, sizeof b, "%.*s", 18, field(r, c));
			set_field(r, c, b, 18, VK_NUMBER);
			break;
		}
		set_field(r, c, v, strlen(v), VK_TEXT);
		break;
	}
	case MK_DATE:
		bad_date(s, b, sizeof b);
		set_field(r, sp->date_col, b, strlen(b), VK_TEXT);
		break;
	case MK_ENCODING: {
		/* the field's last character cut to its lead byte */
		int c = sp->enc_col;
		size_t n = field_len(r, c);
		memcpy(b, field(r, c), n < 48 ? n : 48);
		n = n < 48 ? n : 48;
		while (n > 0 && ((unsigned char)b[n - 1] & 0xC0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)b[n - 1] >= 0xC0)
			n--;
		b[n++] = (char)(0xB0 + rng_below(&s->rng, 0x48));
		set_field(r, c, b, n, VK_TEXT);
		break;
	}
	case MK_JSON: {
		json = 1 + (int)rng_below(&s->rng, 3);
		if (json == 3) {
			int c = -1;
			for (int i = 0; i < r->nf && c < 0; i++)
				if (r->kind[i] == VK_MONEY)
					c = i;
			if (c >= 0)
				set_field(r, c, "NaN", 3, VK_MONEY);   /* what Python's json.dumps writes */
			else
				json = 2;
		}
		break;
	}
	}
	write_record(s, r, kind == MK_JSON ? (json == 3 ? 0 : json) : 0);
	if (kind != MK_ID)
		add_link(s, s->row_link);
	free(r);
	s->malformed++;
	s->kinds_done |= 1u << kind;
}

/* Copies the clean record just written (only the bytes in use). */
static void save_dup(Sink *s)
{
	const SinkRow *r = &s->row;
	memcpy(s->dup_link, s->row_link, sizeof s->dup_link);
	s->dup.nf = r->nf;
	memcpy(s->dup.off, r->off, sizeof r->off[0] * (size_t)(r->nf + 1));
	memcpy(s->dup.kind, r->kind, sizeof r->kind[0] * (size_t)r->nf);
	memcpy(s->dup.num, r->num, sizeof r->num[0] * (size_t)r->nf);
	memcpy(s->dup.text, r->text, r->off[r->nf]);
}

static void write_duplicate(Sink *s)
{
	write_record(s, &s->dup, 0);
	add_link(s, s->dup_link);
	s->duplicates++;
	s->dup_wait = -1;
}

static int pick_kind(Sink *s)
{
	int allowed[MK_N], n = 0;
	for (int k = 0; k < MK_N; k++)
		if (kind_allowed(s, k))
			allowed[n++] = k;
	return n ? allowed[rng_below(&s->rng, (uint32_t)n)] : -1;
}

/* An XLSX source past Sink.part_rows records, as an agency exports what
 * one sheet cannot hold: the workbook is finished and the source goes on in
 * name_D_2.xlsx (then _3, ...), its records numbered from 1 again.  Only
 * between clean records and with no duplicate waiting, so that a duplicate
 * shares a file with the record it repeats. */
static void xlsx_next_part(Sink *s)
{
	SinkImpl *o = s->impl;
	struct SinkFile *p = realloc(s->parts, sizeof *p * (size_t)(s->nparts + 1));
	if (!p) {
		s->failed = true;
		return;
	}
	s->parts = p;
	p += s->nparts++;
	memcpy(p->file, s->file, sizeof p->file);
	p->records = s->records;
	p->malformed = s->malformed;
	p->duplicates = s->duplicates;
	lxw_error e = workbook_close(o->wb);
	o->wb = NULL;
	o->ws = NULL;
	if (e != LXW_NO_ERROR) {
		fprintf(stderr, "synth: could not write \"%s\": %s\n", s->file, lxw_strerror(e));
		s->failed = true;
		return;
	}
	s->records = s->clean = s->malformed = s->duplicates = 0;
	s->kinds_done = 0;
	snprintf(s->file, sizeof s->file, "%s_%d.%s", o->stem_tag, s->nparts + 1, s->spec->ext);
	char path[4096 + sizeof s->file];
	snprintf(path, sizeof path, "%s/%s", o->dir, s->file);
	xlsx_open(s, path, o->day, o->shared);
}

uint64_t sink_end(Sink *s)
{
	SinkRow *r = &s->row;
	if (s->spec->format == SF_XLSX && s->part_rows && s->records >= s->part_rows && s->dup_wait < 0 &&
	    !s->failed)
		xlsx_next_part(s);
	if (s->row_overflow || r->nf != s->spec->ncols) {
		fprintf(stderr, "synth: internal error: row of %d fields for %s (%d columns)\n",
			r->nf, s->file, s->spec->ncols);
		s->failed = true;
	}
	write_record(s, r, 0);
	s->clean++;
	uint64_t rec = s->records;
	if (s->dup_wait > 0)
		s->dup_wait--;
	else if (s->dup_wait == 0)
		write_duplicate(s);           /* a record of up to SINK_DUP_SPAN records ago */
	if (s->inject) {
		if (rng_below(&s->rng, INJECT_RATE) == 0) {
			int k = pick_kind(s);
			if (k >= 0)
				write_malformed(s, k);
		}
		/* this record comes again after 0 .. SINK_DUP_SPAN - 1 more clean ones */
		if (rng_below(&s->rng, INJECT_RATE) == 0 && s->dup_wait < 0) {
			save_dup(s);
			s->dup_wait = (int)rng_below(&s->rng, SINK_DUP_SPAN);
			if (s->dup_wait == 0)
				write_duplicate(s);
			else
				s->dup_wait--;
		}
	}
	return rec;
}

/* ---------------------------------------------------------------- close */

bool sink_close(Sink *s)
{
	SinkImpl *o = s->impl;
	if (!o)
		return false;
	if (s->dup_wait >= 0)
		write_duplicate(s);           /* one still waiting */
	if (s->inject && s->clean >= INJECT_MIN_ROWS) {
		/* derived from the last clean record, s->row */
		for (int k = 0; k < MK_N; k++)
			if (kind_allowed(s, k) && !(s->kinds_done & (1u << k)))
				write_malformed(s, k);
		if (s->duplicates == 0) {
			save_dup(s);
			write_duplicate(s);
		}
	}
	bool ok = !s->failed;
	if (s->spec->format == SF_XLSX) {
		if (o->wb) {
			lxw_error e = workbook_close(o->wb);
			o->wb = NULL;
			if (e != LXW_NO_ERROR && ok) {
				fprintf(stderr, "synth: could not write \"%s\": %s\n", s->file, lxw_strerror(e));
				ok = false;
			}
		}
	} else if (o->f) {
		if (s->spec->format == SF_XML) {
			char *d = reserve(s);
			o->len += fmt_template(s, &o->tail, NULL, d);
		}
		if (o->buf)
			flush(s, true);
		if (o->threaded)
			pthread_join(o->th, NULL);
		if (o->unmappable && ok) {
			fprintf(stderr, "synth: internal error: a character of \"%s\" has no %s code\n", s->file,
				s->spec->encoding == SE_GBK ? "GBK" : "GB18030");
			ok = false;
		}
		if (o->io_failed && ok) {
			fprintf(stderr, "synth: could not write \"%s\": %s\n", s->file, strerror(o->io_errno));
			ok = false;
		}
		if (fclose(o->f) != 0 && ok) {
			fprintf(stderr, "synth: could not close \"%s\": %s\n", s->file, strerror(errno));
			ok = false;
		}
	}
	if (o->gz)
		deflateEnd(&o->z);
	if (o->conv)
		iconv_close(o->cd);
	if (o->threaded) {
		pthread_mutex_destroy(&o->mu);
		pthread_cond_destroy(&o->cv);
	}
	free(o->buf);
	free(o->jbuf);
	free(o->tbuf);
	free(o->zbuf);
	free(o);
	s->impl = NULL;
	s->failed = !ok;
	return ok;
}
