/*
 * fuzz_idnum — ID number normalisation (engine/idnum.c), checked against its contract in
 * engine/idnum.h and against a small independent model of the same rules.
 *
 * Input: the field's bytes as they come out of an extract.
 * Checked: the status is one of the enum; out is always NUL-terminated; from IDNUM_BAD_DATE
 * on, out holds 18 characters (17 digits and a digit or X); a valid number normalises to
 * itself, passes idnum_is_valid, survives idnum_key / idnum_format, has a birth day and a sex;
 * a number with only a wrong check digit becomes valid with the computed one; the status
 * agrees with the model (space dropped, full-width digits and x folded, 15 → 18 digits, then
 * EMPTY / BAD_CHAR / BAD_LENGTH / BAD_CHAR / BAD_DATE in that order).
 */
#include "fuzzlib.h"

#include "date.h"
#include "idnum.h"

/* The model: space and folding as idnum.h documents them. */
static size_t
model_space(const unsigned char *s, size_t n, size_t i)
{
    unsigned char b = s[i];
    if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\v' || b == '\f')
        return 1;
    if (n - i >= 3 && b == 0xE3 && s[i + 1] == 0x80 && s[i + 2] == 0x80)
        return 3;
    if (n - i >= 2 && b == 0xC2 && s[i + 1] == 0xA0)
        return 2;
    return 0;
}

static size_t
model_char(const unsigned char *s, size_t n, size_t i, char *ch)
{
    unsigned char b = s[i];
    if (b >= '0' && b <= '9') {
        *ch = (char) b;
        return 1;
    }
    if (b == 'x' || b == 'X') {
        *ch = 'X';
        return 1;
    }
    if (n - i >= 3 && b == 0xEF && s[i + 1] == 0xBC && s[i + 2] >= 0x90 && s[i + 2] <= 0x99) {
        *ch = (char) ('0' + s[i + 2] - 0x90);
        return 3;
    }
    if (n - i >= 3 && b == 0xEF && ((s[i + 1] == 0xBC && s[i + 2] == 0xB8) ||
                                    (s[i + 1] == 0xBD && s[i + 2] == 0x98))) {
        *ch = 'X';
        return 3;
    }
    return 0;
}

/* The model's status up to the date check; IDNUM_OK here means "date fine, region and check
 * digit still to be judged".  digits gets the 18 normalised characters when it gets that far. */
static IdnumStatus
model(const unsigned char *s, size_t n, char digits[19])
{
    char buf[64];
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t w = model_space(s, n, i);
        if (w) {
            i += w;
            continue;
        }
        char ch;
        w = model_char(s, n, i, &ch);
        if (w == 0)
            return IDNUM_BAD_CHAR;
        if (k < sizeof buf)
            buf[k] = ch;
        k++;
        i += w;
    }
    if (k == 0)
        return IDNUM_EMPTY;
    if (k != 15 && k != 18)
        return IDNUM_BAD_LENGTH;
    for (size_t i = 0; i + 1 < k; i++)
        if (buf[i] == 'X')
            return IDNUM_BAD_CHAR;
    if (k == 15) {
        if (buf[14] == 'X')
            return IDNUM_BAD_CHAR;
        memcpy(digits, buf, 6);
        digits[6] = '1';
        digits[7] = '9';
        memcpy(digits + 8, buf + 6, 9);
        digits[17] = idnum_check_digit(digits);
    } else {
        memcpy(digits, buf, 18);
    }
    digits[18] = '\0';
    int y = (digits[6] - '0') * 1000 + (digits[7] - '0') * 100 + (digits[8] - '0') * 10 + (digits[9] - '0');
    int m = (digits[10] - '0') * 10 + (digits[11] - '0');
    int d = (digits[12] - '0') * 10 + (digits[13] - '0');
    if (y < IDNUM_YEAR_MIN || y > IDNUM_YEAR_MAX || !date_valid_ymd(y, m, d))
        return IDNUM_BAD_DATE;
    return IDNUM_OK;
}

static bool
all_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[IDNUM_LEN + 1];
    memset(out, 0x55, sizeof out);
    IdnumStatus st = idnum_normalise((const char *) data, size, out);
    FUZZ_CHECK(st >= IDNUM_OK && st <= IDNUM_BAD_REGION, "status %d", (int) st);
    FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL, "out not NUL-terminated (status %d)", (int) st);
    fuzz_check_cstr(idnum_status_text(st), 64, "idnum_status_text");

    char want[19];
    IdnumStatus ms = model(data, size, want);
    if (ms != IDNUM_OK)
        FUZZ_CHECK(st == ms, "status %d, the model says %d", (int) st, (int) ms);
    else
        FUZZ_CHECK(st == IDNUM_OK || st == IDNUM_BAD_REGION || st == IDNUM_BAD_CHECK,
                   "status %d, the model says the date is fine", (int) st);

    if (st == IDNUM_OK || st == IDNUM_BAD_DATE || st == IDNUM_BAD_REGION || st == IDNUM_BAD_CHECK) {
        FUZZ_CHECK(strlen(out) == IDNUM_LEN, "status %d but out is \"%s\"", (int) st, out);
        FUZZ_CHECK(all_digits(out, 17) && (all_digits(out + 17, 1) || out[17] == 'X'),
                   "out \"%s\" is not 17 digits and a check character", out);
        FUZZ_CHECK(strcmp(out, want) == 0, "out \"%s\", the model says \"%s\"", out, want);
    }

    if (st == IDNUM_OK) {
        FUZZ_CHECK(idnum_check_digit(out) == out[17], "valid \"%s\" with a wrong check digit", out);
        FUZZ_CHECK(idnum_is_valid(out), "\"%s\" valid but idnum_is_valid says no", out);
        char again[IDNUM_LEN + 1];
        FUZZ_CHECK(idnum_normalise(out, IDNUM_LEN, again) == IDNUM_OK && strcmp(again, out) == 0,
                   "\"%s\" does not normalise to itself", out);
        PersonKey key = idnum_key(out);
        FUZZ_CHECK(key != PERSON_KEY_NONE, "no key for \"%s\"", out);
        char fmt[IDNUM_LEN + 1];
        idnum_format(key, fmt);
        FUZZ_CHECK(strcmp(fmt, out) == 0, "idnum_format(idnum_key(\"%s\")) = \"%s\"", out, fmt);
        Day birth = idnum_birth_day(out);
        FUZZ_CHECK(birth != DAY_NONE, "no birth day in \"%s\"", out);
        int y, m, d;
        date_to_ymd(birth, &y, &m, &d);
        FUZZ_CHECK(y >= IDNUM_YEAR_MIN && y <= IDNUM_YEAR_MAX, "birth year %d in \"%s\"", y, out);
        int sex = idnum_sex(out);
        FUZZ_CHECK(sex == ((out[16] - '0') % 2 ? 1 : 2), "sex %d for \"%s\"", sex, out);
    }
    if (st == IDNUM_BAD_CHECK) {
        char fixed[IDNUM_LEN + 1];
        memcpy(fixed, out, sizeof fixed);
        fixed[17] = idnum_check_digit(fixed);
        FUZZ_CHECK(fixed[17] != out[17], "BAD_CHECK but the check digit %c is right", out[17]);
        char again[IDNUM_LEN + 1];
        FUZZ_CHECK(idnum_normalise(fixed, IDNUM_LEN, again) == IDNUM_OK,
                   "\"%s\" with its check digit repaired is still not valid", fixed);
    }
    if (st == IDNUM_BAD_REGION)
        FUZZ_CHECK(!idnum_is_valid(out), "BAD_REGION \"%s\" is valid", out);
    return 0;
}
