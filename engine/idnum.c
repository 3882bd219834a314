/*
 * idnum.c
 *     Citizen identity numbers (GB 11643-1999); see idnum.h for the contracts.
 *
 * The check digit is ISO 7064 MOD 11-2: the sum of the first 17 digits
 * weighted by 2^(17-i) mod 11 (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), taken
 * mod 11, selects a character of "10X98765432".
 */
#include "idnum.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "date.h"

static const int check_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char check_chars[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};

/* 10^17: keys are strictly below. */
#define KEY_LIMIT UINT64_C(100000000000000000)

const char *
idnum_status_text(IdnumStatus status)
{
	switch (status)
	{
		case IDNUM_OK:
			return "valid";
		case IDNUM_EMPTY:
			return "empty";
		case IDNUM_BAD_LENGTH:
			return "wrong length";
		case IDNUM_BAD_CHAR:
			return "invalid character";
		case IDNUM_BAD_DATE:
			return "invalid birth date";
		case IDNUM_BAD_CHECK:
			return "wrong check digit";
		case IDNUM_BAD_REGION:
			return "invalid region code";
	}
	return "unknown status";
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

char
idnum_check_digit(const char first17[17])
{
	unsigned d16 = (unsigned) ((unsigned char) first17[16] - '0');
#ifdef __SSE2__
	/* the first 16 digits at once: less '0', each at most 9, widened to 16 bits and multiplied
	 * by their weights, the products summed */
	const __m128i nine = _mm_set1_epi8(9), zero = _mm_setzero_si128();
	__m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *) (const void *) first17), _mm_set1_epi8('0'));

	if (d16 > 9 || _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine)) != 0xFFFF)
		return '\0';
	__m128i sum = _mm_add_epi32(
		_mm_madd_epi16(_mm_unpacklo_epi8(d, zero), _mm_setr_epi16(7, 9, 10, 5, 8, 4, 2, 1)),
		_mm_madd_epi16(_mm_unpackhi_epi8(d, zero), _mm_setr_epi16(6, 3, 7, 9, 10, 5, 8, 4)));

	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
	return check_chars[((unsigned) _mm_cvtsi128_si32(sum) + d16 * (unsigned) check_weights[16]) % 11];
#else
	unsigned bad = d16 > 9;
	unsigned sum = d16 * (unsigned) check_weights[16];

	for (int i = 0; i < 16; i++)   /* unsigned: a non-digit may wrap the sum, then not used */
	{
		unsigned d = (unsigned) ((unsigned char) first17[i] - '0');

		bad |= d > 9;
		sum += d * (unsigned) check_weights[i];
	}
	return bad ? '\0' : check_chars[sum % 11];
#endif
}

/*
 * Width of the space character at in[i..len), 0 if it is not one:
 * ASCII white space, U+3000 or U+00A0.
 */
static size_t
space_width(const unsigned char *in, size_t len, size_t i)
{
	unsigned char b = in[i];

	if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\v' || b == '\f')
		return 1;
	if (b == 0xE3 && len - i >= 3 && in[i + 1] == 0x80 && in[i + 2] == 0x80)
		return 3;
	if (b == 0xC2 && len - i >= 2 && in[i + 1] == 0xA0)
		return 2;
	return 0;
}

/*
 * Reads one significant character at in[i..len) into *ch ('0'-'9' or 'X')
 * and returns its width in bytes, or 0 if it is not an accepted character.
 */
static size_t
read_char(const unsigned char *in, size_t len, size_t i, char *ch)
{
	unsigned char b = in[i];

	if (b >= '0' && b <= '9')
	{
		*ch = (char) b;
		return 1;
	}
	if (b == 'X' || b == 'x')
	{
		*ch = 'X';
		return 1;
	}
	if (b == 0xEF && len - i >= 3)
	{
		unsigned char b1 = in[i + 1];
		unsigned char b2 = in[i + 2];

		/* U+FF10..U+FF19 full-width digits: EF BC 90..99 */
		if (b1 == 0xBC && b2 >= 0x90 && b2 <= 0x99)
		{
			*ch = (char) ('0' + (b2 - 0x90));
			return 3;
		}
		/* U+FF38 'Ｘ' EF BC B8, U+FF58 'ｘ' EF BD 98 */
		if ((b1 == 0xBC && b2 == 0xB8) || (b1 == 0xBD && b2 == 0x98))
		{
			*ch = 'X';
			return 3;
		}
	}
	return 0;
}

/* Two digits at s as a number; the caller has checked they are digits. */
static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool
province_valid(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
		(p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
		p == 81 || p == 82 || p == 83 || p == 91;
}

/* The checks of an 18-character number of digits (and a last X): date, region, check digit. */
static IdnumStatus
idnum_check18(const char out[19])
{
	int y = two_digits(out + 6) * 100 + two_digits(out + 8);
	int m = two_digits(out + 10);
	int d = two_digits(out + 12);

	if (y < IDNUM_YEAR_MIN || y > IDNUM_YEAR_MAX || !date_valid_ymd(y, m, d))
		return IDNUM_BAD_DATE;
	if (out[0] == '0' || !province_valid(two_digits(out)))
		return IDNUM_BAD_REGION;
	if (idnum_check_digit(out) != out[17])
		return IDNUM_BAD_CHECK;
	return IDNUM_OK;
}

/*
 * Eight ASCII digits loaded into a word (the first in its lowest byte): whether they are all
 * digits, and their value.  Every byte less '0' is at most 9 exactly when adding 0x46 sets no
 * high bit either; the value is made two digits, then four, then eight at a time.
 */
static inline bool
eight_digits(uint64_t w)
{
	return (((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
			UINT64_C(0x8080808080808080)) == 0;
}

static inline uint64_t
eight_digits_value(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t mask = UINT64_C(0x000000FF000000FF);
	const uint64_t mul1 = 100 + (UINT64_C(1000000) << 32);
	const uint64_t mul2 = 1 + (UINT64_C(10000) << 32);

	w -= UINT64_C(0x3030303030303030);
	w = w * 10 + (w >> 8);
	return (((w & mask) * mul1) + (((w >> 16) & mask) * mul2)) >> 32;
#else
	unsigned char c[8];
	uint64_t v = 0;

	memcpy(c, &w, 8);
	for (int i = 0; i < 8; i++)
		v = v * 10 + (uint64_t) (c[i] - '0');
	return v;
#endif
}

IdnumStatus
idnum_normalise(const char *in, size_t len, char out[19])
{
	const unsigned char *u = (const unsigned char *) in;
	size_t i = 0;
	size_t n = 0;

	out[0] = '\0';
	if (in == NULL)
		return IDNUM_EMPTY;

	/* the common case, 17 ASCII digits and a digit or X, without the character loop */
	if (len == IDNUM_LEN)
	{
		uint64_t a, b;

		memcpy(&a, u, 8);
		memcpy(&b, u + 8, 8);
		if (eight_digits(a) && eight_digits(b) && (unsigned) (u[16] - '0') <= 9 &&
			((unsigned) (u[17] - '0') <= 9 || u[17] == 'X' || u[17] == 'x'))
		{
			memcpy(out, in, IDNUM_LEN - 1);
			out[17] = u[17] == 'x' ? 'X' : (char) u[17];
			out[18] = '\0';
			return idnum_check18(out);
		}
		i = 0;
	}

	while (i < len)
	{
		size_t w = space_width(u, len, i);
		char ch;

		if (w > 0)
		{
			i += w;
			continue;
		}
		w = read_char(u, len, i, &ch);
		if (w == 0)
		{
			out[n < IDNUM_LEN ? n : IDNUM_LEN] = '\0';
			return IDNUM_BAD_CHAR;
		}
		if (n < IDNUM_LEN)
			out[n] = ch;
		n++;
		i += w;
	}
	out[n < IDNUM_LEN ? n : IDNUM_LEN] = '\0';

	if (n == 0)
		return IDNUM_EMPTY;
	if (n != 15 && n != IDNUM_LEN)
		return IDNUM_BAD_LENGTH;
	for (i = 0; i < n - 1; i++)
		if (out[i] == 'X')
			return IDNUM_BAD_CHAR;

	if (n == 15)
	{
		/* RRRRRR YYMMDD SSS -> RRRRRR 19YYMMDD SSS C */
		if (out[14] == 'X')
			return IDNUM_BAD_CHAR;
		memmove(out + 8, out + 6, 9);
		out[6] = '1';
		out[7] = '9';
		out[17] = idnum_check_digit(out);
		out[18] = '\0';
	}

	return idnum_check18(out);
}

bool
idnum_is_valid(const char *s)
{
	char out[IDNUM_LEN + 1];

	if (s == NULL)
		return false;
	return idnum_normalise(s, strlen(s), out) == IDNUM_OK;
}


PersonKey
idnum_key(const char id18[18])
{
	uint64_t a, b;
	unsigned d16 = (unsigned) ((unsigned char) id18[16] - '0');

	memcpy(&a, id18, 8);
	memcpy(&b, id18 + 8, 8);
	if (d16 > 9 || !eight_digits(a) || !eight_digits(b))
		return PERSON_KEY_NONE;
	return (eight_digits_value(a) * UINT64_C(100000000) + eight_digits_value(b)) * 10 + d16;
}

void
idnum_format(PersonKey key, char out[19])
{
	int i;

	if (key == PERSON_KEY_NONE || key >= KEY_LIMIT)
	{
		out[0] = '\0';
		return;
	}
	for (i = 16; i >= 0; i--)
	{
		out[i] = (char) ('0' + (int) (key % 10));
		key /= 10;
	}
	out[17] = idnum_check_digit(out);
	out[18] = '\0';
}

Day
idnum_birth_day(const char id18[18])
{
	int i;

	for (i = 6; i < 14; i++)
		if (!is_digit(id18[i]))
			return DAY_NONE;
	return date_from_ymd(two_digits(id18 + 6) * 100 + two_digits(id18 + 8), two_digits(id18 + 10),
						 two_digits(id18 + 12));
}

int
idnum_sex(const char id18[18])
{
	if (!is_digit(id18[16]))
		return 0;
	return ((id18[16] - '0') % 2 == 1) ? 1 : 2;
}
