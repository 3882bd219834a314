/*
 * sink.c — one extract file: rows of named fields written as UTF-8 CSV with a
 * header row and RFC 4180 quoting, through a large private buffer.
 *
 * The sink also plants the rows every correct reader must reject or fold:
 * after each clean row, with probability 1/2000 each, a malformed row (wrong
 * column count, an impossible ID, an impossible date) and an exact duplicate
 * of a recent clean row; a file of 200 or more clean rows gets at least one
 * of each (appended on close).  Only the clean row's facts reach the truth;
 * the caller adds them after sink_end().
 *
 * Field values are kept raw until sink_end() so that a later issue can swap
 * the CSV formatting for XML, JSON Lines or fixed width in one place.
 */
#include "synth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CAP (1u << 20)
#define INJECT_RATE 2000u
#define INJECT_MIN_ROWS 200u

bool sink_open(Sink *s, const SinkSpec *spec, const char *dir, const char *tag,
	       uint64_t seed, int index, bool inject)
{
	char path[4096];
	memset(s, 0, sizeof *s);
	s->spec = spec;
	snprintf(s->file, sizeof s->file, "%s_%s.csv", spec->stem, tag);
	if (strcmp(spec->stem, "ref_divisions") == 0)
		snprintf(s->file, sizeof s->file, "%s.csv", spec->stem);
	snprintf(path, sizeof path, "%s/%s", dir, s->file);
	s->f = fopen(path, "wb");
	if (!s->f) {
		fprintf(stderr, "synth: could not create \"%s\": %s\n", path, strerror(errno));
		return false;
	}
	s->out = malloc(OUT_CAP);
	if (!s->out) {
		fclose(s->f);
		s->f = NULL;
		return false;
	}
	s->out_cap = OUT_CAP;
	rng_seed(&s->rng, seed, STREAM_SINK, (uint64_t)index);
	s->inject = inject;
	/* header row */
	sink_begin(s);
	for (int i = 0; i < spec->ncols; i++)
		sink_str(s, spec->cols[i]);
	s->nf = spec->ncols;
	/* written below without counting or injection */
	char line[SINK_ROW_MAX];
	size_t n = 0;
	for (int i = 0; i < s->nf; i++) {
		if (i)
			line[n++] = ',';
		size_t len = (size_t)(s->off[i + 1] - s->off[i]);
		memcpy(line + n, s->row + s->off[i], len);
		n += len;
	}
	line[n++] = '\n';
	memcpy(s->out, line, n);
	s->out_len = n;
	return true;
}

static void flush(Sink *s)
{
	if (s->out_len && !s->failed) {
		if (fwrite(s->out, 1, s->out_len, s->f) != s->out_len) {
			fprintf(stderr, "synth: could not write \"%s\": %s\n", s->file, strerror(errno));
			s->failed = true;
		}
	}
	s->out_len = 0;
}

static void put(Sink *s, const char *p, size_t n)
{
	if (s->out_len + n > s->out_cap)
		flush(s);
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

void sink_begin(Sink *s)
{
	s->row_len = 0;
	s->nf = 0;
	s->off[0] = 0;
	s->row_overflow = false;
}

void sink_strn(Sink *s, const char *v, size_t n)
{
	if (s->nf >= SINK_MAX_COLS || s->row_len + n >= SINK_ROW_MAX / 2) {
		s->row_overflow = true;
		n = 0;
	}
	if (s->nf >= SINK_MAX_COLS)
		return;
	memcpy(s->row + s->row_len, v, n);
	s->row_len += n;
	s->nf++;
	s->off[s->nf] = (uint16_t)s->row_len;
}

void sink_str(Sink *s, const char *v) { sink_strn(s, v, strlen(v)); }
void sink_empty(Sink *s) { sink_strn(s, "", 0); }

void sink_date(Sink *s, int32_t z, DateStyle st)
{
	char b[32];
	sink_strn(s, b, date_format(b, z, st));
}

void sink_month(Sink *s, int ym, MonthStyle st)
{
	char b[16];
	sink_strn(s, b, month_format(b, ym, st));
}

void sink_money(Sink *s, int64_t cents)
{
	char b[32];
	sink_strn(s, b, money_format(b, cents));
}

void sink_int(Sink *s, long v)
{
	char b[24];
	int n = 0;
	bool neg = v < 0;
	unsigned long u = neg ? (unsigned long)(-(v + 1)) + 1 : (unsigned long)v;
	char t[24];
	do {
		t[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t k = 0;
	if (neg)
		b[k++] = '-';
	while (n)
		b[k++] = t[--n];
	sink_strn(s, b, k);
}

/* Format fields (ptr, len) as one CSV line into line; returns its length.
 * A field is quoted when it holds a comma, a quote or a line break. */
static size_t format_line(char *line, size_t cap, const char *const *fp, const size_t *fl, int nf)
{
	size_t n = 0;
	for (int i = 0; i < nf; i++) {
		const char *f = fp[i];
		size_t len = fl[i];
		if (n + 8 >= cap)
			break;                         /* cannot happen: raw rows are capped at half the buffer */
		if (n + 2 * len + 4 >= cap)
			len = (cap - n - 4) / 2;
		if (i)
			line[n++] = ',';
		bool quote = false;
		for (size_t k = 0; k < len; k++) {
			char c = f[k];
			if (c == ',' || c == '"' || c == '\n' || c == '\r') {
				quote = true;
				break;
			}
		}
		if (!quote) {
			memcpy(line + n, f, len);
			n += len;
			continue;
		}
		line[n++] = '"';
		for (size_t k = 0; k < len; k++) {
			if (f[k] == '"')
				line[n++] = '"';
			line[n++] = f[k];
		}
		line[n++] = '"';
	}
	line[n++] = '\n';
	return n;
}

static size_t format_row(const Sink *s, char *line, size_t cap)
{
	const char *fp[SINK_MAX_COLS];
	size_t fl[SINK_MAX_COLS];
	for (int i = 0; i < s->nf; i++) {
		fp[i] = s->row + s->off[i];
		fl[i] = (size_t)(s->off[i + 1] - s->off[i]);
	}
	return format_line(line, cap, fp, fl, s->nf);
}

/* A row that any correct reader rejects, derived from the current row. */
static void write_malformed(Sink *s)
{
	const SinkSpec *sp = s->spec;
	const char *fp[SINK_MAX_COLS + 1];
	size_t fl[SINK_MAX_COLS + 1];
	int nf = s->nf;
	char bad_date[32];
	for (int i = 0; i < nf; i++) {
		fp[i] = s->row + s->off[i];
		fl[i] = (size_t)(s->off[i + 1] - s->off[i]);
	}
	int kind = (int)rng_below(&s->rng, 3);
	if (kind == 1 && sp->id_col < 0)
		kind = 0;
	if (kind == 2 && sp->date_col < 0)
		kind = 0;
	switch (kind) {
	case 0: /* wrong number of columns */
		if (nf > 2 && rng_chance(&s->rng, 0.5)) {
			nf--;
		} else {
			fp[nf] = "多余字段";
			fl[nf] = strlen(fp[nf]);
			nf++;
		}
		break;
	case 1: /* an ID number no reader may accept */
		fp[sp->id_col] = rng_chance(&s->rng, 0.5) ? "12345" : "ABCDEFGHIJKLMNOPQR";
		fl[sp->id_col] = strlen(fp[sp->id_col]);
		break;
	default: { /* an impossible date or month, different in every malformed row of
		    * the file, so that two malformed rows never make an exact duplicate */
		unsigned k = (unsigned)s->malformed;
		int mm = 13 + (int)(k % 87), dd = 32 + (int)(k / 87 % 68);
		if (sp->date_kind == DK_MONTH) {
			int y = 2023 - (int)(k / 87 % 1000);
			snprintf(bad_date, sizeof bad_date, sp->month_style == MS_DASH ? "%04d-%02d" : "%04d%02d", y, mm);
		} else {
			int y = 2023 - (int)(k / (87 * 68) % 1000);
			switch (sp->date_style) {
			case DS_YMD8: snprintf(bad_date, sizeof bad_date, "%04d%02d%02d", y, mm, dd); break;
			case DS_ISO: snprintf(bad_date, sizeof bad_date, "%04d-%02d-%02d", y, mm, dd); break;
			case DS_SLASH: snprintf(bad_date, sizeof bad_date, "%04d/%d/%d", y, mm, dd); break;
			case DS_CN: snprintf(bad_date, sizeof bad_date, "%04d年%d月%d日", y, mm, dd); break;
			}
		}
		fp[sp->date_col] = bad_date;
		fl[sp->date_col] = strlen(bad_date);
		break;
	}
	}
	char line[SINK_ROW_MAX];
	size_t n = format_line(line, sizeof line, fp, fl, nf);
	put(s, line, n);
	s->records++;
	s->malformed++;
}

static void write_duplicate(Sink *s)
{
	if (s->ring_n == 0)
		return;
	int k = (int)rng_below(&s->rng, (uint32_t)s->ring_n);
	put(s, s->ring[k], s->ring_len[k]);
	s->records++;
	s->duplicates++;
}

uint64_t sink_end(Sink *s)
{
	if (s->row_overflow || s->nf != s->spec->ncols) {
		fprintf(stderr, "synth: internal error: row of %d fields for %s (%d columns)\n",
			s->nf, s->file, s->spec->ncols);
		s->failed = true;
	}
	char *slot = s->ring[s->ring_pos];
	size_t n = format_row(s, slot, SINK_ROW_MAX);
	put(s, slot, n);
	s->ring_len[s->ring_pos] = (uint16_t)n;
	s->ring_pos = (s->ring_pos + 1) % SINK_RING;
	if (s->ring_n < SINK_RING)
		s->ring_n++;
	s->records++;
	s->clean++;
	uint64_t rec = s->records;
	if (s->inject) {
		if (rng_below(&s->rng, INJECT_RATE) == 0)
			write_malformed(s);
		if (rng_below(&s->rng, INJECT_RATE) == 0)
			write_duplicate(s);
	}
	return rec;
}

bool sink_close(Sink *s)
{
	if (!s->f)
		return false;
	if (s->inject && s->clean >= INJECT_MIN_ROWS) {
		if (s->malformed == 0)
			write_malformed(s);
		if (s->duplicates == 0)
			write_duplicate(s);
	}
	flush(s);
	if (fclose(s->f) != 0 && !s->failed) {
		fprintf(stderr, "synth: could not close \"%s\": %s\n", s->file, strerror(errno));
		s->failed = true;
	}
	s->f = NULL;
	free(s->out);
	s->out = NULL;
	return !s->failed;
}
