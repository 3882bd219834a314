/*
 * time_limit.h — the time limits of the unit tests, stretched when the programs run under an
 * instrumentation that slows them down: CANBAO_TEST_TIME_SCALE (tests/lib/checked.sh sets it for
 * make test-valgrind and make test-sanitize) multiplies every limit; unset, the limits hold as
 * written.
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

#endif
