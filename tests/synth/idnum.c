/*
 * idnum.c — GB 11643-1999 citizen ID numbers: six digits of the place of
 * issue, the birth date, a three-digit sequence (odd for men, even for
 * women) and the MOD 11-2 check character.
 *
 * Uniqueness by construction: a counter per (place, birth day, sex) hands out
 * sequence numbers in a scrambled order; when a place runs out for a day
 * (only at province scale), the next place in the table is used.
 */
#include "synth.h"

#include <stdlib.h>
#include <string.h>

static const char *const PLACES[] = {
	"222401",                                                    /* 延吉市 */
	"222402", "222403", "222404", "222405", "222406", "222424", "222426", /* rest of Yanbian */
	"220102", "220202", "220581", "230103", "210102", "370102", "110105", "120101",
};

#define NPLACES ((int)(sizeof PLACES / sizeof PLACES[0]))

int idnum_place_count(void) { return NPLACES; }
const char *idnum_place_code(int place) { return PLACES[place]; }
int idnum_place_of_county(int county) { return county; /* counties 0-7 are places 0-7 */ }

bool idnum_init(IdTable *t, int32_t first_day, int32_t last_day)
{
	t->nplaces = NPLACES;
	t->day0 = first_day;
	t->ndays = last_day - first_day + 1;
	t->next = calloc((size_t)t->nplaces * (size_t)t->ndays * 2, sizeof *t->next);
	return t->next != NULL;
}

void idnum_free(IdTable *t)
{
	free(t->next);
	t->next = NULL;
}

char idnum_check(const char *first17)
{
	static const int W[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char MAP[11] = { '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2' };
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (first17[i] - '0') * W[i];
	return MAP[sum % 11];
}

bool idnum_issue(IdTable *t, int place, int32_t birth, int sex, char out[19])
{
	long day = birth - t->day0;
	if (day < 0 || day >= t->ndays)
		return false;
	int cap = sex == 1 ? 500 : 499;
	for (int k = 0; k < t->nplaces; k++) {
		int pl = (place + k) % t->nplaces;
		uint16_t *c = &t->next[((size_t)pl * (size_t)t->ndays + (size_t)day) * 2 + (size_t)(sex - 1)];
		if (*c >= cap)
			continue;
		uint32_t off = (uint32_t)(pl * 7919 + day * 104729) % (uint32_t)cap;
		uint32_t s = ((uint32_t)*c * 263u + off) % (uint32_t)cap;
		(*c)++;
		int seq = sex == 1 ? (int)(2 * s + 1) : (int)(2 * s + 2);
		int y, m, d;
		date_split(birth, &y, &m, &d);
		memcpy(out, PLACES[pl], 6);
		char *p = out + 6;
		p[0] = (char)('0' + y / 1000);
		p[1] = (char)('0' + y / 100 % 10);
		p[2] = (char)('0' + y / 10 % 10);
		p[3] = (char)('0' + y % 10);
		p[4] = (char)('0' + m / 10);
		p[5] = (char)('0' + m % 10);
		p[6] = (char)('0' + d / 10);
		p[7] = (char)('0' + d % 10);
		p[8] = (char)('0' + seq / 100);
		p[9] = (char)('0' + seq / 10 % 10);
		p[10] = (char)('0' + seq % 10);
		out[17] = idnum_check(out);
		out[18] = 0;
		return true;
	}
	return false;
}
