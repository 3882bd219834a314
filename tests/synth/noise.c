/*
 * noise.c — the identity issue's hooks: what makes linking records to
 * persons hard.  At --noise 0 every function here is the identity and draws
 * no random numbers (noise has its own stream per person, so the population
 * is the same at every noise level).  At level L > 0, per record:
 *   - an ID typo: one substituted digit (0.2 % x L) or two adjacent digits
 *     transposed (0.2 % x L), full-width digits (0.2 % x L);
 *   - a missing ID in cremation records (8 % x L): name, sex, age and
 *     address remain;
 *   - traditional / variant characters in names (3 % x L per character that
 *     has one) in every source but the register;
 *   - date slips of a day in the secondary death sources (1 % x L);
 *   - living namesakes of the dead (2 % x L of living persons take the name
 *     of a recently dead person of the same sex and about the same age).
 * Every record whose ID differs from the true one is written to
 * truth/hidden_links.csv (file, record, true id_number).
 */
#include "synth.h"

#include <string.h>

bool noise_id(Gen *g, Rng *nr, const char *true_id, char *out, bool may_drop)
{
	memcpy(out, true_id, 19);
	if (g->noise <= 0)
		return false;
	const double L = g->noise;
	if (may_drop && rng_chance(nr, 0.08 * L)) {
		out[0] = 0;
		return true;
	}
	double u = rng_unit(nr);
	if (u < 0.002 * L) {
		int i = (int)rng_below(nr, 17);
		char c = out[i];
		do
			out[i] = (char)('0' + rng_below(nr, 10));
		while (out[i] == c);
		return true;
	}
	if (u < 0.004 * L) {
		int i = (int)rng_below(nr, 17);
		if (out[i] == out[i + 1])
			return false;
		char c = out[i];
		out[i] = out[i + 1];
		out[i + 1] = c;
		return true;
	}
	if (u < 0.006 * L) {
		/* full-width digits (U+FF10..U+FF19) and X (U+FF38) */
		char buf[64];
		size_t n = 0;
		for (int i = 0; i < 18; i++) {
			buf[n++] = (char)0xEF;
			if (true_id[i] == 'X') {
				buf[n++] = (char)0xBC;
				buf[n++] = (char)0xB8;
			} else {
				buf[n++] = (char)0xBC;
				buf[n++] = (char)(0x90 + (true_id[i] - '0'));
			}
		}
		buf[n] = 0;
		memcpy(out, buf, n + 1);
		return true;
	}
	return false;
}

void noise_name(Gen *g, Rng *nr, const char *name, char *out, size_t cap)
{
	if (g->noise <= 0) {
		size_t n = strlen(name);
		if (n >= cap)
			n = cap - 1;
		memcpy(out, name, n);
		out[n] = 0;
		return;
	}
	double p = 0.03 * g->noise;
	names_variant(out, cap, name, nr, p > 1 ? 1 : p);
}

int32_t noise_date(Gen *g, Rng *nr, int32_t z, int32_t max)
{
	if (g->noise <= 0 || z == NO_DATE)
		return z;
	if (!rng_chance(nr, 0.01 * g->noise))
		return z;
	int32_t v = z + (rng_chance(nr, 0.5) ? 1 : -1);
	return v > max ? max : v;
}

void noise_remember_dead(Gen *g, const Person *p)
{
	if (g->noise <= 0 || p->death == NO_DATE)
		return;
	int k = g->dead_ring_n % 16;
	g->dead_ring[k].surname = p->surname;
	g->dead_ring[k].given = p->given;
	g->dead_ring[k].sex = p->sex;
	g->dead_ring[k].year = date_year(p->birth);
	g->dead_ring_n++;
}

void noise_namesake(Gen *g, Rng *nr, Person *p)
{
	if (g->noise <= 0 || p->death != NO_DATE || p->scenario || g->dead_ring_n == 0)
		return;
	if (!rng_chance(nr, 0.02 * g->noise))
		return;
	int n = g->dead_ring_n < 16 ? g->dead_ring_n : 16;
	int y = date_year(p->birth);
	for (int k = 0; k < n; k++) {
		if (g->dead_ring[k].sex == p->sex && g->dead_ring[k].year >= y - 3 && g->dead_ring[k].year <= y + 3) {
			p->surname = g->dead_ring[k].surname;
			p->given = g->dead_ring[k].given;
			return;
		}
	}
}

void noise_link(Gen *g, int src, uint64_t record, const char *true_id)
{
	if (!g->hidden)
		return;
	fprintf(g->hidden, "%s,%llu,%s\n", g->sinks[src].file, (unsigned long long)record, true_id);
	g->hidden_rows++;
}
