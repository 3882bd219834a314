/*
 * noise.c — the identity issue's hooks: what makes linking records to
 * persons hard.  At --noise 0 every function here is the identity and draws
 * no random numbers (noise has its own stream per person, so the population
 * is the same at every noise level).  At level L > 0, per record:
 *   - an ID typo: one substituted digit (0.2 % x L) or two adjacent digits
 *     transposed (0.2 % x L), full-width digits (0.2 % x L);
 *   - a missing ID in cremation records (8 % x L) and in death certificates
 *     (1 % x L): name, sex, age or birth date and address remain;
 *   - names as another office spells them, the same in every row of one
 *     agency: traditional / variant characters (3 % x L per character that
 *     has one), homophones (0.5 % x L per given-name character that has one:
 *     丽 / 莉), for Korean-Chinese names a character with the same Korean
 *     reading (0.5 % x L: 英 / 永 / 荣 are all 영) and a space after the
 *     surname (1 % x L);
 *   - date slips of a day in the secondary death sources (1 % x L), birth
 *     dates with day and month swapped in death certificates and court
 *     declarations (1 % x L, when the day can be a month);
 *   - living namesakes of the dead (2 % x L of living persons take the name
 *     of a recently dead person of the same sex and about the same age; one
 *     in two of them, when such a dead person was born the same year in the
 *     same community or village, takes that one's name and moves into the
 *     dead person's address);
 *   - deaths of persons not on the register (cremated here, registered
 *     elsewhere; 1 % x L per cremation record): no ID, and one in two is a
 *     namesake of a living register person, born the same year, half of those
 *     living in that person's community or village.
 * Every record whose ID differs from the true one is written to
 * truth/hidden_links.csv (file, record, true id_number); a record of a person
 * not on the register with an empty id_number: it must be linked to nobody.
 */
#include "synth.h"

#include <string.h>

const char NOISE_NOT_ON_REGISTER[19] = "-";

bool noise_id(Gen *g, Rng *nr, const char *true_id, char *out, double drop)
{
	memcpy(out, true_id, 19);
	if (g->noise <= 0)
		return false;
	const double L = g->noise;
	if (drop > 0 && rng_chance(nr, drop * L)) {
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

void noise_name(Gen *g, Rng *vr, const Person *p, char *out, size_t cap)
{
	char buf[96], given[64];
	if (g->noise <= 0) {
		names_full(out, p->surname, p->given);
		return;
	}
	const double L = g->noise;
	bool korean = p->eth == ETH_KOREAN;
	names_respell(given, sizeof given, names_given(p->given), korean, vr, 0.005 * L, 0.005 * L);
	bool space = korean && rng_chance(vr, 0.01 * L);
	snprintf(buf, sizeof buf, "%s%s%s", names_surname(p->surname), space ? " " : "", given);
	double pv = 0.03 * L;
	names_variant(out, cap, buf, vr, pv > 1 ? 1 : pv);
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

int32_t noise_birth(Gen *g, Rng *nr, int32_t birth)
{
	if (g->noise <= 0 || birth == NO_DATE)
		return birth;
	if (!rng_chance(nr, 0.01 * g->noise))
		return birth;
	int y, m, d;
	date_split(birth, &y, &m, &d);
	if (d > 12 || d == m)
		return birth;
	return date_make(y, d, m);
}

static void remember(struct NoiseRing *ring, int *n, const Household *h, const Person *p)
{
	struct NoiseRing *e = &ring[*n % NOISE_RING];
	e->surname = p->surname;
	e->given = p->given;
	e->sex = p->sex;
	e->eth = p->eth;
	e->year = date_year(p->birth);
	e->unit = h->unit;
	memcpy(e->addr, h->addr, sizeof e->addr);
	++*n;
}

void noise_remember(Gen *g, const Household *h, const Person *p)
{
	if (g->noise <= 0)
		return;
	if (p->death != NO_DATE)
		remember(g->dead_ring, &g->dead_ring_n, h, p);
	else if (p->reg_cancel == RAW_NONE && !p->scenario)
		remember(g->live_ring, &g->live_ring_n, h, p);
}

void noise_namesake(Gen *g, Rng *nr, Household *h, Person *p)
{
	if (g->noise <= 0 || p->death != NO_DATE || p->scenario || g->dead_ring_n == 0)
		return;
	if (!rng_chance(nr, 0.02 * g->noise))
		return;
	int n = g->dead_ring_n < NOISE_RING ? g->dead_ring_n : NOISE_RING;
	int y = date_year(p->birth);
	if (rng_chance(nr, 0.5)) {
		/* born the same year in the same unit: the same name at the same address */
		for (int k = 0; k < n; k++) {
			const struct NoiseRing *d = &g->dead_ring[k];
			if (d->sex == p->sex && d->year == y && d->unit == h->unit) {
				p->surname = d->surname;
				p->given = d->given;
				memcpy(h->addr, d->addr, sizeof h->addr);
				return;
			}
		}
	}
	for (int k = 0; k < n; k++) {
		const struct NoiseRing *d = &g->dead_ring[k];
		if (d->sex == p->sex && d->year >= y - 3 && d->year <= y + 3) {
			p->surname = d->surname;
			p->given = d->given;
			return;
		}
	}
}

bool noise_stranger(Gen *g, Rng *nr, Stranger *s)
{
	if (g->noise <= 0 || !rng_chance(nr, 0.01 * g->noise))
		return false;
	const int32_t D = g->asof;
	s->death = D - 5 - (int32_t)rng_below(nr, 1000);
	int n = g->live_ring_n < NOISE_RING ? g->live_ring_n : NOISE_RING;
	int unit = places_unit((int)rng_below(nr, (uint32_t)places_unit_count()));
	if (n > 0 && rng_chance(nr, 0.5)) {
		/* a namesake of a living register person, born the same year */
		const struct NoiseRing *l = &g->live_ring[rng_below(nr, (uint32_t)n)];
		names_full(s->name, l->surname, l->given);
		s->sex = l->sex;
		s->birth = date_make(l->year, 1, 1) + (int32_t)rng_below(nr, 365);
		if (rng_chance(nr, 0.5))
			unit = l->unit;   /* living in the same community or village */
	} else {
		int eth = rng_chance(nr, 0.56) ? ETH_KOREAN : ETH_HAN;
		s->sex = (uint8_t)(1 + rng_below(nr, 2));
		int age = rng_range(nr, 40, 95);
		s->birth = date_add_months(s->death, -12 * age - (int)rng_below(nr, 12));
		names_full(s->name, names_pick_surname(nr, eth),
			   names_pick_given(nr, eth, s->sex, date_year(s->birth)));
	}
	if (s->birth >= s->death)
		s->birth = s->death - 365 * 40;
	places_address(s->addr, sizeof s->addr, unit, nr);
	return true;
}

void noise_link(Gen *g, int src, uint64_t record, const char *true_id)
{
	if (!g->hidden)
		return;
	fprintf(g->hidden, "%s,%llu,%s\n", g->sinks[src].file, (unsigned long long)record,
		strcmp(true_id, NOISE_NOT_ON_REGISTER) == 0 ? "" : true_id);
	g->hidden_rows++;
}
