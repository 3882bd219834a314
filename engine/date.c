/*
 * date.c
 *     Calendar dates as day numbers (see date.h for the contracts).
 *
 * Conversions use Howard Hinnant's days_from_civil / civil_from_days
 * algorithms (http://howardhinnant.github.io/date_algorithms.html), which
 * are exact for the proleptic Gregorian calendar.  Parsing works on a
 * (pointer, length) cursor and never reads past the length.
 */
#include "date.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Day numbers of 0001-01-01 and 9999-12-31. */
#define DAY_MIN (-719162)
#define DAY_MAX 2932896

/* Excel's serial 0 is 1899-12-31 up to serial 59; from 61 on, 1899-12-30. */
#define EXCEL_EPOCH_LOW  (-25568)
#define EXCEL_EPOCH_HIGH (-25569)
#define EXCEL_FAKE_LEAP  60
#define EXCEL_SERIAL_MAX 2958465L

/* UTF-8 spellings of the characters the parsers know. */
#define U8_NIAN  "\xE5\xB9\xB4" /* 年 */
#define U8_YUE   "\xE6\x9C\x88" /* 月 */
#define U8_RI    "\xE6\x97\xA5" /* 日 */
#define U8_FEN   "\xE4\xBB\xBD" /* 份 */
#define U8_IDSP  "\xE3\x80\x80" /* U+3000 ideographic space */
#define U8_NBSP  "\xC2\xA0"     /* U+00A0 no-break space */

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && is_leap(y)) ? 29 : len[m - 1];
}

/* Hinnant's days_from_civil; the caller guarantees a valid date. */
static Day
days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t) y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */

	return (Day) (era * 146097 + doe - 719468);
}

/* Hinnant's civil_from_days. */
static void
civil_from_days(Day day, int *y, int *m, int *d)
{
	int64_t z = (int64_t) day + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int dd = (int) (doy - (153 * mp + 2) / 5 + 1);
	int mm = (int) (mp < 10 ? mp + 3 : mp - 9);

	*y = (int) (yoe + era * 400 + (mm <= 2));
	*m = mm;
	*d = dd;
}

bool
date_valid_ymd(int y, int m, int d)
{
	if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX)
		return false;
	if (m < 1 || m > 12)
		return false;
	return d >= 1 && d <= days_in_month(y, m);
}

Day
date_from_ymd(int y, int m, int d)
{
	if (!date_valid_ymd(y, m, d))
		return DAY_NONE;
	return days_from_civil(y, m, d);
}

void
date_to_ymd(Day day, int *y, int *m, int *d)
{
	int yy = 0, mm = 0, dd = 0;

	if (day != DAY_NONE && day >= DAY_MIN && day <= DAY_MAX)
		civil_from_days(day, &yy, &mm, &dd);
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
}

/* ---------------------------------------------------------------- parsing */

/* A read cursor over s[pos..len). */
typedef struct
{
	const char *s;
	size_t len;
	size_t pos;
} Cursor;

static bool
at_end(const Cursor *c)
{
	return c->pos >= c->len;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Consumes the literal lit (of length n) if it comes next. */
static bool
take_lit(Cursor *c, const char *lit, size_t n)
{
	size_t i;

	if (c->len - c->pos < n)
		return false;
	for (i = 0; i < n; i++)
		if (c->s[c->pos + i] != lit[i])
			return false;
	c->pos += n;
	return true;
}

#define TAKE_U8(c, lit) take_lit((c), (lit), sizeof(lit) - 1)

static bool
take_char(Cursor *c, char ch)
{
	if (at_end(c) || c->s[c->pos] != ch)
		return false;
	c->pos++;
	return true;
}

/*
 * Consumes between min and max decimal digits (as many as there are, up to
 * max) into *out.  Fails, consuming nothing, if fewer than min are present
 * or if more than max follow.
 */
static bool
take_digits(Cursor *c, int min, int max, int *out)
{
	size_t start = c->pos;
	int n = 0;
	int v = 0;

	while (!at_end(c) && is_digit(c->s[c->pos]) && n < max)
	{
		v = v * 10 + (c->s[c->pos] - '0');
		c->pos++;
		n++;
	}
	if (n < min || (!at_end(c) && is_digit(c->s[c->pos])))
	{
		c->pos = start;
		return false;
	}
	*out = v;
	return true;
}

/* Consumes exactly n digits into *out, whatever follows them. */
static bool
take_fixed(Cursor *c, int n, int *out)
{
	int i;
	int v = 0;

	if (c->len - c->pos < (size_t) n)
		return false;
	for (i = 0; i < n; i++)
	{
		if (!is_digit(c->s[c->pos + i]))
			return false;
		v = v * 10 + (c->s[c->pos + i] - '0');
	}
	c->pos += n;
	*out = v;
	return true;
}

/* Length of the white space at s[i..len), 0 if none. */
static size_t
space_len(const char *s, size_t len, size_t i)
{
	unsigned char ch = (unsigned char) s[i];

	if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f')
		return 1;
	if (len - i >= 3 && (unsigned char) s[i] == 0xE3 && (unsigned char) s[i + 1] == 0x80 &&
		(unsigned char) s[i + 2] == 0x80)
		return 3;
	if (len - i >= 2 && ch == 0xC2 && (unsigned char) s[i + 1] == 0xA0)
		return 2;
	return 0;
}

/* Length of the white space ending just before s[end], 0 if none. */
static size_t
space_len_before(const char *s, size_t end)
{
	unsigned char ch = (unsigned char) s[end - 1];

	if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f')
		return 1;
	if (end >= 3 && (unsigned char) s[end - 3] == 0xE3 && (unsigned char) s[end - 2] == 0x80 &&
		ch == 0x80)
		return 3;
	if (end >= 2 && (unsigned char) s[end - 2] == 0xC2 && ch == 0xA0)
		return 2;
	return 0;
}

/* A cursor over s[0..len) with surrounding white space trimmed. */
static Cursor
cursor_trimmed(const char *s, size_t len)
{
	Cursor c = {s, 0, 0};
	size_t start = 0;
	size_t end = len;
	size_t n;

	if (s == NULL)
		return c;
	while (start < end && (n = space_len(s, end, start)) > 0)
		start += n;
	while (end > start && (n = space_len_before(s + start, end - start)) > 0)
		end -= n;
	c.s = s + start;
	c.len = end - start;
	return c;
}

/*
 * Consumes an optional time part: (' ' | 'T') H[H]:MM[:SS[.f+]] [Z | ±HH[:]MM].
 * Succeeds if the cursor is then at the end.
 */
static bool
take_time_to_end(Cursor *c)
{
	int h, mi, sec, tzh, tzm;

	if (at_end(c))
		return true;
	if (!take_char(c, ' ') && !take_char(c, 'T'))
		return false;
	if (!take_digits(c, 1, 2, &h) || h > 23)
		return false;
	if (!take_char(c, ':') || !take_digits(c, 2, 2, &mi) || mi > 59)
		return false;
	if (take_char(c, ':'))
	{
		if (!take_digits(c, 2, 2, &sec) || sec > 60)
			return false;
		if (take_char(c, '.'))
		{
			size_t start = c->pos;

			while (!at_end(c) && is_digit(c->s[c->pos]))
				c->pos++;
			if (c->pos == start)
				return false;
		}
	}
	if (take_char(c, 'Z'))
		return at_end(c);
	if (take_char(c, '+') || take_char(c, '-'))
	{
		if (!take_fixed(c, 2, &tzh) || tzh > 23)
			return false;
		take_char(c, ':');
		if (!take_digits(c, 2, 2, &tzm) || tzm > 59)
			return false;
	}
	return at_end(c);
}

/* An Excel 1900-system serial: 1-5 integer digits, optional ".digits". */
static Day
parse_excel_serial(Cursor c)
{
	long serial = 0;
	int n = 0;

	while (!at_end(&c) && is_digit(c.s[c.pos]))
	{
		if (++n > 5)
			return DAY_NONE;
		serial = serial * 10 + (c.s[c.pos] - '0');
		c.pos++;
	}
	if (n == 0)
		return DAY_NONE;
	if (take_char(&c, '.'))
	{
		size_t start = c.pos;

		while (!at_end(&c) && is_digit(c.s[c.pos]))
			c.pos++;
		if (c.pos == start)
			return DAY_NONE;
	}
	if (!at_end(&c))
		return DAY_NONE;
	if (serial < 1 || serial > EXCEL_SERIAL_MAX || serial == EXCEL_FAKE_LEAP)
		return DAY_NONE;
	if (serial < EXCEL_FAKE_LEAP)
		return (Day) (EXCEL_EPOCH_LOW + serial);
	return (Day) (EXCEL_EPOCH_HIGH + serial);
}

/*
 * A separated (2023-1-5) or Chinese (2023年1月5日) date, followed by an
 * optional time part.
 */
static Day
parse_calendar(Cursor c)
{
	int y, m, d;
	char sep;

	if (!take_digits(&c, 4, 4, &y) || at_end(&c))
		return DAY_NONE;
	sep = c.s[c.pos];
	if (sep == '-' || sep == '/' || sep == '.')
	{
		c.pos++;
		if (!take_digits(&c, 1, 2, &m) || !take_char(&c, sep) || !take_digits(&c, 1, 2, &d))
			return DAY_NONE;
	}
	else if (TAKE_U8(&c, U8_NIAN))
	{
		if (!take_digits(&c, 1, 2, &m) || !TAKE_U8(&c, U8_YUE) || !take_digits(&c, 1, 2, &d) ||
			!TAKE_U8(&c, U8_RI))
			return DAY_NONE;
	}
	else
		return DAY_NONE;
	if (!take_time_to_end(&c))
		return DAY_NONE;
	return date_from_ymd(y, m, d);
}

/* YYYYMMDD, exactly 8 digits, optionally followed by a time part. */
static Day
parse_compact(Cursor c)
{
	int ymd;

	if (!take_digits(&c, 8, 8, &ymd))
		return DAY_NONE;
	if (!take_time_to_end(&c))
		return DAY_NONE;
	return date_from_ymd(ymd / 10000, ymd / 100 % 100, ymd % 100);
}

/* The number of leading digits of c. */
static size_t
leading_digits(Cursor c)
{
	size_t n = 0;

	while (c.pos + n < c.len && is_digit(c.s[c.pos + n]))
		n++;
	return n;
}

/* True when s[from..to) are all ASCII digits. */
static inline bool
all_digits(const char *s, size_t from, size_t to)
{
	unsigned bad = 0;

	for (size_t i = from; i < to; i++)
		bad |= (unsigned) ((unsigned char) s[i] - '0') > 9;
	return bad == 0;
}

static inline int
two_at(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Eight bytes at s that are digits but at the separator bytes (0xFF in seps), which must be
 * those of want: one load, the separators made '0', and a byte less '0' at most 9 exactly when
 * adding 0x46 sets no high bit either (the lowest byte that is not a digit sets one; what it
 * carries or borrows into the bytes above cannot hide it).
 */
static inline bool
digits_between(const char *s, uint64_t seps, uint64_t want)
{
	uint64_t	w;

	memcpy(&w, s, 8);
	if ((w & seps) != want)
		return false;
	w = (w & ~seps) | (UINT64_C(0x3030303030303030) & seps);
	return (((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
			UINT64_C(0x8080808080808080)) == 0;
}

/* YYYY-MM-DD at s: its first eight bytes and its last eight; HH:MM:SS the same way */
#define YMD_OK(s) (digits_between((s), UINT64_C(0xFF0000FF00000000), UINT64_C(0x2D00002D00000000)) && \
				   digits_between((s) + 2, UINT64_C(0x0000FF0000FF0000), UINT64_C(0x00002D00002D0000)))
#define HMS_OK(s) digits_between((s), UINT64_C(0x0000FF0000FF0000), UINT64_C(0x00003A00003A0000))
#else
#define YMD_OK(s) ((s)[4] == '-' && (s)[7] == '-' && all_digits((s), 0, 4) && all_digits((s), 5, 7) && \
				   all_digits((s), 8, 10))
#define HMS_OK(s) ((s)[2] == ':' && (s)[5] == ':' && all_digits((s), 0, 2) && all_digits((s), 3, 5) && \
				   all_digits((s), 6, 8))
#endif

/*
 * The spellings nearly every extract uses, read without the cursor: YYYY-MM-DD, the same
 * followed by " HH:MM:SS", and YYYYMMDD (millions of dates a night).  False for anything else,
 * or a time out of range: the general reader below takes it, and it reads these spellings the
 * same way (a date that does not exist is DAY_NONE by either).
 */
static inline bool
parse_usual(const char *s, size_t len, Day *day)
{
	if (len == 10 || len == 19)
	{
		if (!YMD_OK(s))
			return false;
		if (len == 19 &&
			(s[10] != ' ' || !HMS_OK(s + 11) || two_at(s + 11) > 23 || two_at(s + 14) > 59 ||
			 two_at(s + 17) > 60))
			return false;
		*day = date_from_ymd(two_at(s) * 100 + two_at(s + 2), two_at(s + 5), two_at(s + 8));
		return true;
	}
	if (len == 8 && all_digits(s, 0, 8))
	{
		*day = date_from_ymd(two_at(s) * 100 + two_at(s + 2), two_at(s + 4), two_at(s + 6));
		return true;
	}
	return false;
}

static Day
parse_date(const char *s, size_t len, bool allow_serial)
{
	Cursor c;
	size_t nd;
	Day usual;

	if (s != NULL && parse_usual(s, len, &usual))
		return usual;
	c = cursor_trimmed(s, len);
	if (c.len == 0)
		return DAY_NONE;
	nd = leading_digits(c);
	if (nd == 8)
		return parse_compact(c);
	if (nd == 4)
	{
		Day day = parse_calendar(c);

		if (day != DAY_NONE || !allow_serial)
			return day;
	}
	if (allow_serial && nd >= 1 && nd <= 5)
		return parse_excel_serial(c);
	return DAY_NONE;
}

Day
date_parse(const char *s, size_t len)
{
	return parse_date(s, len, true);
}

int32_t
date_parse_month(const char *s, size_t len)
{
	Cursor c;
	Cursor k;
	int y, m;
	Day day;

	/* the usual spelling, 202301, without the cursor */
	if (s != NULL && len == 6)
	{
		unsigned d[6];
		unsigned bad = 0;

		for (int i = 0; i < 6; i++)
		{
			d[i] = (unsigned) ((unsigned char) s[i] - '0');
			bad |= d[i] > 9;
		}
		if (!bad)
		{
			y = (int) (d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]);
			m = (int) (d[4] * 10 + d[5]);
			goto check;
		}
	}
	c = cursor_trimmed(s, len);
	if (c.len == 0)
		return -1;

	/* 202301 */
	k = c;
	if (take_digits(&k, 6, 6, &y) && at_end(&k))
	{
		m = y % 100;
		y /= 100;
		goto check;
	}

	/* 2023-01, 2023/1, 2023.01, 2023年1月[份] */
	k = c;
	if (take_digits(&k, 4, 4, &y) && !at_end(&k))
	{
		char sep = k.s[k.pos];

		if (sep == '-' || sep == '/' || sep == '.')
		{
			k.pos++;
			if (take_digits(&k, 1, 2, &m) && at_end(&k))
				goto check;
		}
		else if (TAKE_U8(&k, U8_NIAN) && take_digits(&k, 1, 2, &m) && TAKE_U8(&k, U8_YUE))
		{
			TAKE_U8(&k, U8_FEN);
			if (at_end(&k))
				goto check;
		}
	}

	/* any full date */
	day = parse_date(c.s, c.len, false);
	return date_month_of(day);

check:
	if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX || m < 1 || m > 12)
		return -1;
	return (int32_t) y * 12 + (m - 1);
}

/* ------------------------------------------------------------ arithmetic */

int
date_age(Day birth, Day asof)
{
	int by, bm, bd, ay, am, ad;
	int age;

	if (birth == DAY_NONE || asof == DAY_NONE || asof < birth)
		return -1;
	if (birth < DAY_MIN || asof > DAY_MAX)
		return -1;
	civil_from_days(birth, &by, &bm, &bd);
	civil_from_days(asof, &ay, &am, &ad);
	age = ay - by;
	if (am < bm || (am == bm && ad < bd))
		age--;
	return age;
}

Day
date_add_months(Day day, int n)
{
	int y, m, d, last;
	int64_t total;
	int64_t ny;
	int nm;

	if (day == DAY_NONE || day < DAY_MIN || day > DAY_MAX)
		return DAY_NONE;
	civil_from_days(day, &y, &m, &d);
	total = (int64_t) y * 12 + (m - 1) + n;
	ny = total / 12;
	nm = (int) (total % 12) + 1;
	if (ny < DATE_YEAR_MIN || ny > DATE_YEAR_MAX)
		return DAY_NONE;
	last = days_in_month((int) ny, nm);
	if (d > last)
		d = last;
	return days_from_civil((int) ny, nm, d);
}

int32_t
date_month_of(Day day)
{
	int y, m, d;

	if (day == DAY_NONE || day < DAY_MIN || day > DAY_MAX)
		return -1;
	civil_from_days(day, &y, &m, &d);
	return (int32_t) y * 12 + (m - 1);
}

/* -------------------------------------------------------------- formatting */

/* Writes v as exactly width decimal digits at out. */
static void
put_digits(char *out, int v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

void
date_format(Day day, char out[11])
{
	int y, m, d;

	if (day == DAY_NONE || day < DAY_MIN || day > DAY_MAX)
	{
		out[0] = '\0';
		return;
	}
	civil_from_days(day, &y, &m, &d);
	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = '\0';
}

void
date_format_month(int32_t month, char out[8])
{
	if (month < (int32_t) DATE_YEAR_MIN * 12 || month > (int32_t) DATE_YEAR_MAX * 12 + 11)
	{
		out[0] = '\0';
		return;
	}
	put_digits(out, month / 12, 4);
	out[4] = '-';
	put_digits(out + 5, month % 12 + 1, 2);
	out[7] = '\0';
}
