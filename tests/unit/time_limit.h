/*
 * time_limit.h — the time limits and the amounts of work of the unit tests, stretched or
 * reduced when the programs run under an instrumentation that slows them down:
 * CANBAO_TEST_TIME_SCALE (tests/lib/checked.sh sets it for make test-valgrind and make
 * test-sanitize) multiplies every limit, CANBAO_TEST_WORK_SCALE (test_work) reduces the rounds
 * of the tests that repeat themselves; unset, both hold as written.
 */
#ifndef CANBAO_TEST_TIME_LIMIT_H
#define CANBAO_TEST_TIME_LIMIT_H

#include <stdlib.h>

static inline double
time_limit(double seconds)
{
	const char *s = getenv("CANBAO_TEST_TIME_SCALE");
	double		f = s ? atof(s) : 1.0;

	return f > 1.0 ? seconds * f : seconds;
}

/* How many rounds or records a test that repeats itself makes, of N as written: under valgrind,
 * which runs a program 20 to 50 times slower, CANBAO_TEST_WORK_SCALE (0.1 there, set by
 * tests/lib/checked.sh) scales N down, to LEAST at the fewest: enough for every path to be taken
 * many times, where memory errors show; the suite run plainly and under the sanitizers makes
 * every round.  Unset, N. */
static inline size_t
test_work(size_t n, size_t least)
{
	const char *s = getenv("CANBAO_TEST_WORK_SCALE");
	double		f = s ? atof(s) : 1.0;
	size_t		w;

	if (!(f > 0.0) || f >= 1.0)
		return n;
	w = (size_t) ((double) n * f);
	return w < least ? (least < n ? least : n) : w;
}

#endif
