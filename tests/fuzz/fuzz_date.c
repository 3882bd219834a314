/*
 * fuzz_date — date and month parsing and date arithmetic (engine/date.c), checked against
 * the contract in engine/date.h.
 *
 * Input: one field's bytes, or two separated by '|' (a birth date and an as-of date for
 * date_age; both are parsed).
 * Checked: every Day is DAY_NONE or within years 1..9999; date_format / date_parse round
 * trips; date_to_ymd / date_from_ymd round trips; surrounding white space (ASCII, U+3000,
 * U+00A0) does not change a result; 8 ASCII digits are YYYYMMDD; a date that is not an Excel
 * serial gives its month through date_parse_month; months round-trip through
 * date_format_month; date_add_months keeps the day when it exists and clamps it otherwise;
 * date_age agrees with date_add_months.
 */
#include "fuzzlib.h"

#include "date.h"

#define DAY_MIN (-719162)    /* 0001-01-01 */
#define DAY_MAX 2932896      /* 9999-12-31 */

static size_t
sp_len(const unsigned char *s, size_t n, size_t i)
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
sp_len_before(const unsigned char *s, size_t end)
{
    unsigned char b = s[end - 1];
    if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\v' || b == '\f')
        return 1;
    if (end >= 3 && s[end - 3] == 0xE3 && s[end - 2] == 0x80 && b == 0x80)
        return 3;
    if (end >= 2 && s[end - 2] == 0xC2 && b == 0xA0)
        return 2;
    return 0;
}

static void
trimmed(const unsigned char *s, size_t n, size_t *from, size_t *to)
{
    size_t a = 0, b = n, k;
    while (a < b && (k = sp_len(s, b, a)) > 0)
        a += k;
    while (b > a && (k = sp_len_before(s + a, b - a)) > 0)
        b -= k;
    *from = a;
    *to = b;
}

static void
check_day(Day day, const char *what)
{
    if (day == DAY_NONE)
        return;
    FUZZ_CHECK(day >= DAY_MIN && day <= DAY_MAX, "%s gave day %d, outside years 1..9999", what, day);
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    FUZZ_CHECK(date_valid_ymd(y, m, d), "%s: day %d is %d-%d-%d", what, day, y, m, d);
    FUZZ_CHECK(date_from_ymd(y, m, d) == day, "%s: date_from_ymd(date_to_ymd(%d)) differs", what, day);
    char buf[11];
    date_format(day, buf);
    FUZZ_CHECK(strlen(buf) == 10, "%s: date_format(%d) = \"%s\"", what, day, buf);
    FUZZ_CHECK(date_parse(buf, 10) == day, "%s: \"%s\" does not parse back to %d", what, buf, day);
    FUZZ_CHECK(date_month_of(day) == y * 12 + m - 1, "%s: date_month_of(%d)", what, day);
}

static void
check_month(int32_t month, const char *what)
{
    if (month == -1)
        return;
    FUZZ_CHECK(month >= 12 && month <= 9999 * 12 + 11, "%s gave month %d", what, month);
    char buf[8];
    date_format_month(month, buf);
    FUZZ_CHECK(strlen(buf) == 7, "%s: date_format_month(%d) = \"%s\"", what, month, buf);
    FUZZ_CHECK(date_parse_month(buf, 7) == month, "%s: \"%s\" does not parse back", what, buf);
}

/* Parses one field and checks everything that depends on it alone. */
static Day
one(const unsigned char *s, size_t n)
{
    char *copy = fuzz_dup(s, n);
    Day day = date_parse(copy, n);
    int32_t month = date_parse_month(copy, n);
    check_day(day, "date_parse");
    check_month(month, "date_parse_month");

    /* surrounding space changes nothing */
    unsigned char *wide = malloc(n + 8);
    wide[0] = ' ';
    memcpy(wide + 1, s, n);
    memcpy(wide + 1 + n, "\xE3\x80\x80", 3);
    memcpy(wide + 4 + n, "\xC2\xA0\t", 3);
    FUZZ_CHECK(date_parse((const char *) wide, n + 7) == day, "surrounding space changes date_parse");
    FUZZ_CHECK(date_parse_month((const char *) wide, n + 7) == month,
               "surrounding space changes date_parse_month");
    free(wide);

    size_t a, b;
    trimmed(s, n, &a, &b);
    bool only_digits_dots = true, only_digits = true;
    for (size_t i = a; i < b; i++) {
        if (s[i] < '0' || s[i] > '9') {
            only_digits = false;
            if (s[i] != '.')
                only_digits_dots = false;
        }
    }
    if (only_digits && b - a == 8) {
        int y = 0, md = 0;
        for (size_t i = a; i < a + 4; i++)
            y = y * 10 + (s[i] - '0');
        for (size_t i = a + 4; i < a + 8; i++)
            md = md * 10 + (s[i] - '0');
        FUZZ_CHECK(day == date_from_ymd(y, md / 100, md % 100), "8 digits are not YYYYMMDD");
    }
    /* a full date that cannot be an Excel serial gives its month */
    if (day != DAY_NONE && !only_digits_dots)
        FUZZ_CHECK(month == date_month_of(day), "date_parse_month %d, month of date_parse %d",
                   month, date_month_of(day));
    free(copy);
    return day;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *bar = memchr(data, '|', size);
    size_t n1 = bar ? (size_t) (bar - data) : size;
    Day d1 = one(data, n1);
    Day d2 = d1;
    if (bar)
        d2 = one(bar + 1, size - n1 - 1);

    /* month arithmetic */
    int n = 0;
    for (size_t i = 0; i < size; i++)
        n = (n * 31 + data[i]) % 240001;
    n -= 120000;
    int months[] = {0, 1, -1, 12, -12, 13, n, n / 1000};
    for (size_t k = 0; k < sizeof months / sizeof months[0]; k++) {
        if (d1 == DAY_NONE)
            break;
        Day r = date_add_months(d1, months[k]);
        check_day(r, "date_add_months");
        int y, m, d, ry, rm, rd;
        date_to_ymd(d1, &y, &m, &d);
        long target = (long) y * 12 + (m - 1) + months[k];
        if (target < 12 || target > 9999L * 12 + 11) {
            FUZZ_CHECK(r == DAY_NONE, "date_add_months past the years gave %d", r);
            continue;
        }
        FUZZ_CHECK(r != DAY_NONE, "date_add_months(%d, %d) gave none", d1, months[k]);
        date_to_ymd(r, &ry, &rm, &rd);
        FUZZ_CHECK((long) ry * 12 + rm - 1 == target, "date_add_months lands in the wrong month");
        if (d <= 28)
            FUZZ_CHECK(rd == d, "date_add_months changed day %d to %d", d, rd);
        else
            FUZZ_CHECK(rd <= d && (rd == d || date_from_ymd(ry, rm, rd + 1) == DAY_NONE),
                       "date_add_months clamped day %d to %d", d, rd);
    }

    /* ages */
    int age = date_age(d1, d2);
    if (d1 == DAY_NONE || d2 == DAY_NONE || d2 < d1) {
        FUZZ_CHECK(age == -1, "date_age %d for none or reversed days", age);
    } else {
        FUZZ_CHECK(age >= 0 && age <= 9999, "date_age %d", age);
        int y, m, d;
        date_to_ymd(d1, &y, &m, &d);
        if (!(m == 2 && d == 29)) {
            Day reached = date_add_months(d1, 12 * age);
            Day next = date_add_months(d1, 12 * (age + 1));
            FUZZ_CHECK(reached != DAY_NONE && reached <= d2, "date_age %d: birthday not reached", age);
            FUZZ_CHECK(next == DAY_NONE || next > d2, "date_age %d: next birthday already reached", age);
        }
    }
    return 0;
}
