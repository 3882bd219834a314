/*
 * dates.c — calendar arithmetic on day numbers, formatting of dates, months
 * and money, the random-number seeding, and the per-person fact bundle.
 */
#include "synth.h"

#include <stdlib.h>
#include <string.h>

/* ---------------- random numbers ---------------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(Rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t st = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	st = splitmix64(&st) ^ (index * 0x9e3779b97f4a7c15ULL + stream);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&st);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

/* ---------------- calendar (proleptic Gregorian) ---------------- */

int32_t date_make(int y, int m, int d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int)doe - 719468;
}

void date_split(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	const int era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int yy = (int)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
	const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (mm <= 2);
	*m = (int)mm;
	*d = (int)dd;
}

bool date_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && date_is_leap(y))
		return 29;
	return dim[m - 1];
}

bool date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= date_days_in_month(y, m);
}

int date_year(int32_t z)
{
	int y, m, d;
	date_split(z, &y, &m, &d);
	return y;
}

int32_t date_add_months(int32_t z, int n)
{
	int y, m, d;
	date_split(z, &y, &m, &d);
	int t = y * 12 + (m - 1) + n;
	y = t >= 0 ? t / 12 : -((-t + 11) / 12);
	m = t - y * 12 + 1;
	int dim = date_days_in_month(y, m);
	return date_make(y, m, d > dim ? dim : d);
}

int32_t date_birthday(int32_t birth, int years)
{
	int y, m, d;
	date_split(birth, &y, &m, &d);
	y += years;
	if (m == 2 && d == 29 && !date_is_leap(y))
		return date_make(y, 3, 1);
	return date_make(y, m, d);
}

int date_age(int32_t birth, int32_t on)
{
	int by, bm, bd, y, m, d;
	date_split(birth, &by, &bm, &bd);
	date_split(on, &y, &m, &d);
	int age = y - by;
	if (m < bm || (m == bm && d < bd))
		age--;
	return age;
}

int date_ym(int32_t z)
{
	int y, m, d;
	date_split(z, &y, &m, &d);
	return y * 100 + m;
}

int ym_add(int ym, int n)
{
	int t = (ym / 100) * 12 + (ym % 100 - 1) + n;
	return (t / 12) * 100 + t % 12 + 1;
}

int32_t ym_first(int ym) { return date_make(ym / 100, ym % 100, 1); }

int32_t ym_last(int ym)
{
	return date_make(ym / 100, ym % 100, date_days_in_month(ym / 100, ym % 100));
}

/* ---------------- formatting without printf ---------------- */

static char *put_uint(char *p, unsigned long v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

size_t date_format(char *buf, int32_t z, DateStyle st)
{
	int y, m, d;
	char *p = buf;
	if (z == NO_DATE) {
		*p = 0;
		return 0;
	}
	date_split(z, &y, &m, &d);
	switch (st) {
	case DS_YMD8:
		p = put_uint(p, (unsigned long)y, 4);
		p = put_uint(p, (unsigned long)m, 2);
		p = put_uint(p, (unsigned long)d, 2);
		break;
	case DS_ISO:
		p = put_uint(p, (unsigned long)y, 4);
		*p++ = '-';
		p = put_uint(p, (unsigned long)m, 2);
		*p++ = '-';
		p = put_uint(p, (unsigned long)d, 2);
		break;
	case DS_SLASH:
		p = put_uint(p, (unsigned long)y, 4);
		*p++ = '/';
		p = put_uint(p, (unsigned long)m, 1);
		*p++ = '/';
		p = put_uint(p, (unsigned long)d, 1);
		break;
	case DS_CN:
		p = put_uint(p, (unsigned long)y, 4);
		p = put_str(p, "年");
		p = put_uint(p, (unsigned long)m, 1);
		p = put_str(p, "月");
		p = put_uint(p, (unsigned long)d, 1);
		p = put_str(p, "日");
		break;
	}
	*p = 0;
	return (size_t)(p - buf);
}

size_t month_format(char *buf, int ym, MonthStyle st)
{
	char *p = buf;
	if (ym <= 0) {
		*p = 0;
		return 0;
	}
	p = put_uint(p, (unsigned long)(ym / 100), 4);
	if (st == MS_DASH)
		*p++ = '-';
	p = put_uint(p, (unsigned long)(ym % 100), 2);
	*p = 0;
	return (size_t)(p - buf);
}

size_t money_format(char *buf, int64_t cents)
{
	char *p = buf;
	if (cents == NO_MONEY) {
		*p = 0;
		return 0;
	}
	if (cents < 0) {
		*p++ = '-';
		cents = -cents;
	}
	p = put_uint(p, (unsigned long)(cents / 100), 1);
	*p++ = '.';
	p = put_uint(p, (unsigned long)(cents % 100), 2);
	*p = 0;
	return (size_t)(p - buf);
}

bool date_parse_iso(const char *s, int32_t *out)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (!date_valid(y, m, d) || y < 1900)
		return false;
	*out = date_make(y, m, d);
	return true;
}

/* ---------------- the fact bundle ---------------- */

void bundle_reset(Bundle *b, const char *id)
{
	memcpy(b->id, id, 19);
	memset(&b->reg, 0, sizeof b->reg);
	b->n = 0;
	b->overflow = false;
}

void bundle_add(Bundle *b, int kind, int code, int32_t d1, int32_t d2,
		int64_t a1, int64_t a2, int64_t a3)
{
	if (b->n >= BUNDLE_MAX) {
		b->overflow = true;
		return;
	}
	Fact *f = &b->f[b->n++];
	f->kind = (uint8_t)kind;
	f->code = (uint8_t)code;
	f->d1 = d1;
	f->d2 = d2;
	f->a1 = a1;
	f->a2 = a2;
	f->a3 = a3;
}
