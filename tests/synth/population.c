/*
 * population.c — households and lives.
 *
 * pop_household() composes one household of a community or village: size,
 * members' ages (a north-east Chinese age pyramid: ageing, few children),
 * sex, ethnicity (over half Korean-Chinese), names, relations, phones, and
 * the household-level benefits (低保, registered poor household).
 *
 * pop_life() gives one member everything the agencies may know of as of D:
 * death and how fast each agency learns of it, register cancellations,
 * school, work and the employee / institution pension, the resident pension
 * with its payments, prison, disability, extreme poverty, employee medical
 * cover, enterprise rosters, provident fund, and the propensities that drive
 * medical claims, contributions and certifications at emission time.
 *
 * The shares are written next to each draw; README.md summarises them.
 */
#include "synth.h"

#include <string.h>

/* ---------------- age pyramid (Yanji register, per 5-year group, %) ---------------- */

static const double PYRAMID5[21] = {
	2.6, 3.2, 3.6, 3.8, 4.6, 5.2, 6.4, 6.6, 6.4, 7.6, /* 0-4 ... 45-49 */
	8.8, 9.0, 7.6, 6.6, 4.8, 3.9, 2.6, 1.4, 0.5, 0.12, 0.02 /* 50-54 ... 100-104 */
};

#define MAX_AGE 104

static double g_cum[MAX_AGE + 2];
static bool g_cum_ready;

static void pyramid_init(void)
{
	if (g_cum_ready)
		return;
	g_cum[0] = 0;
	for (int a = 0; a <= MAX_AGE; a++)
		g_cum[a + 1] = g_cum[a] + PYRAMID5[a / 5];
	g_cum_ready = true;
}

/* An age in [lo, hi] drawn from the pyramid. */
static int sample_age(Rng *r, int lo, int hi)
{
	if (lo < 0)
		lo = 0;
	if (hi > MAX_AGE)
		hi = MAX_AGE;
	if (hi <= lo)
		return lo;
	double u = g_cum[lo] + rng_unit(r) * (g_cum[hi + 1] - g_cum[lo]);
	int a = lo, b = hi;
	while (a < b) {
		int mid = (a + b) / 2;
		if (g_cum[mid + 1] <= u)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

static int clamp_age(int a) { return a < 0 ? 0 : a > MAX_AGE ? MAX_AGE : a; }

/* A birth date giving exactly `age` completed years on D. */
static int32_t birth_for_age(Rng *r, int32_t D, int age)
{
	int32_t hi = date_add_months(D, -12 * age);
	int32_t lo = date_add_months(D, -12 * (age + 1)) + 1;
	int32_t b = hi - (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
	if (date_age(b, D) != age)
		b = hi;
	return b;
}

/* ---------------- spells ---------------- */

int pop_spell_add(Person *p, int kind, int32_t start, int32_t end)
{
	if (p->nspells >= SPELL_MAX)
		return -1;
	Spell *s = &p->sp[p->nspells];
	memset(s, 0, sizeof *s);
	s->kind = (uint8_t)kind;
	s->start = start;
	s->end = end;
	return p->nspells++;
}

void pop_spell_clear(Person *p, int kind)
{
	int k = 0;
	for (int i = 0; i < p->nspells; i++)
		if (p->sp[i].kind != kind)
			p->sp[k++] = p->sp[i];
	p->nspells = k;
}

bool pop_spell_active(const Person *p, int kind, int32_t on)
{
	for (int i = 0; i < p->nspells; i++) {
		const Spell *s = &p->sp[i];
		if (s->kind == kind && s->start <= on && (s->end == NO_DATE || s->end >= on))
			return true;
	}
	return false;
}

/* Resident-scheme basic pension (基础养老金) per month, cents: the national
 * minimum plus Jilin's addition, raised every January; more from 70 and 80. */
int64_t pop_basic_cents(int year, int age)
{
	int yuan = 138 + 20 * (year - 2024);
	if (yuan < 118)
		yuan = 118;
	if (yuan > 260)
		yuan = 260;
	if (age >= 80)
		yuan += 10;
	else if (age >= 70)
		yuan += 5;
	return (int64_t)yuan * 100;
}

/* ---------------- households ---------------- */

typedef struct Slot { int age, sex, rel, line; } Slot; /* line: 0 head's surname, 1 own, 2 children's */

static int sample_size(Rng *r)
{
	static const int W[6] = { 22, 36, 26, 10, 5, 1 }; /* 1..6 persons, % (about 2.4 on average) */
	int total = 0;
	for (int i = 0; i < 6; i++)
		total += W[i];
	int x = (int)rng_below(r, (uint32_t)total);
	for (int i = 0; i < 6; i++) {
		if (x < W[i])
			return i + 1;
		x -= W[i];
	}
	return 1;
}

static int add_slot(Slot *s, int n, int age, int sex, int rel, int line)
{
	s[n].age = clamp_age(age);
	s[n].sex = sex;
	s[n].rel = rel;
	s[n].line = line;
	return n + 1;
}

static int child_rel(int sex) { return sex == 1 ? REL_SON : REL_DAUGHTER; }

/* Head and spouse: returns n; *mother_age gets the wife's age. */
static int couple(Rng *r, Slot *s, int n, int head_age, int *mother_age)
{
	int head_sex = rng_chance(r, 0.75) ? 1 : 2;
	int gap = rng_range(r, 0, 5) - 1;               /* husband 1-2 years older on average */
	int husband = head_sex == 1 ? head_age : head_age + gap;
	int wife = head_sex == 1 ? head_age - gap : head_age;
	if (wife < 20)
		wife = 20;
	if (husband < 20)
		husband = 20;
	n = add_slot(s, n, head_sex == 1 ? husband : wife, head_sex, REL_HEAD, 0);
	n = add_slot(s, n, head_sex == 1 ? wife : husband, 3 - head_sex, REL_SPOUSE, 1);
	*mother_age = wife;
	return n;
}

static int compose(Rng *r, int size, Slot *s)
{
	int n = 0, mother = 0;
	double u = rng_unit(r);
	switch (size) {
	case 1: {
		int a = sample_age(r, 18, MAX_AGE);
		if (a < 60 && rng_chance(r, 0.45))     /* elderly living alone are many */
			a = sample_age(r, 60, MAX_AGE);
		int sex = a >= 65 ? (rng_chance(r, 0.65) ? 2 : 1) : (rng_chance(r, 0.55) ? 1 : 2);
		n = add_slot(s, n, a, sex, REL_HEAD, 0);
		break;
	}
	case 2:
		if (u < 0.62) {
			n = couple(r, s, n, sample_age(r, 24, 95), &mother);
		} else if (u < 0.85) {
			int a = sample_age(r, 38, 90);
			int sex = rng_chance(r, 0.6) ? 2 : 1;
			n = add_slot(s, n, a, sex, REL_HEAD, 0);
			int cs = rng_chance(r, 0.5) ? 1 : 2;
			n = add_slot(s, n, a - rng_range(r, 22, 36), cs, child_rel(cs), 0);
		} else {
			int a = sample_age(r, 28, 60);
			int sex = rng_chance(r, 0.6) ? 1 : 2;
			n = add_slot(s, n, a, sex, REL_HEAD, 0);
			int ps = rng_chance(r, 0.35) ? 1 : 2;
			n = add_slot(s, n, a + rng_range(r, 22, 35), ps, ps == 1 ? REL_FATHER : REL_MOTHER,
				     ps == 1 ? 0 : 1);
		}
		break;
	case 3:
		if (u < 0.75) {
			n = couple(r, s, n, sample_age(r, 28, 62), &mother);
			int cs = rng_chance(r, 0.51) ? 1 : 2;
			n = add_slot(s, n, mother - rng_range(r, 22, 35), cs, child_rel(cs), 2);
		} else {
			n = couple(r, s, n, sample_age(r, 28, 58), &mother);
			int ps = rng_chance(r, 0.3) ? 1 : 2;
			n = add_slot(s, n, s[0].age + rng_range(r, 22, 35), ps,
				     ps == 1 ? REL_FATHER : REL_MOTHER, ps == 1 ? 0 : 1);
		}
		break;
	case 4:
		if (u < 0.55) {
			n = couple(r, s, n, sample_age(r, 30, 58), &mother);
			int c1 = mother - rng_range(r, 22, 34);
			int cs = rng_chance(r, 0.51) ? 1 : 2;
			n = add_slot(s, n, c1, cs, child_rel(cs), 2);
			cs = rng_chance(r, 0.51) ? 1 : 2;
			n = add_slot(s, n, c1 - rng_range(r, 1, 8), cs, child_rel(cs), 2);
		} else {
			n = couple(r, s, n, sample_age(r, 30, 58), &mother);
			int cs = rng_chance(r, 0.51) ? 1 : 2;
			n = add_slot(s, n, mother - rng_range(r, 22, 35), cs, child_rel(cs), 2);
			int ps = rng_chance(r, 0.3) ? 1 : 2;
			n = add_slot(s, n, s[0].age + rng_range(r, 22, 35), ps,
				     ps == 1 ? REL_FATHER : REL_MOTHER, ps == 1 ? 0 : 1);
		}
		break;
	default: {
		/* three generations: grandparents head, son and daughter-in-law, grandchildren */
		n = couple(r, s, n, sample_age(r, 52, 85), &mother);
		int son = mother - rng_range(r, 22, 32);
		if (son < 20)
			son = 20;
		n = add_slot(s, n, son, 1, REL_SON, 2);
		n = add_slot(s, n, son + rng_range(r, -4, 1), 2, REL_DIL, 1);
		int gc = son - rng_range(r, 22, 32);
		for (int k = 4; k < size; k++) {
			int gs = rng_chance(r, 0.51) ? 1 : 2;
			n = add_slot(s, n, gc, gs, gs == 1 ? REL_GRANDSON : REL_GRANDDAUGHTER, 3);
			gc -= rng_range(r, 1, 6);
		}
		break;
	}
	}
	for (int i = 0; i < n; i++)
		s[i].age = clamp_age(s[i].age);
	return n;
}

static int pick_ethnicity(Rng *r, bool village)
{
	double u = rng_unit(r);
	double korean = village ? 0.70 : 0.55;
	if (u < korean)
		return ETH_KOREAN;
	u -= korean;
	if (u < 0.02)
		return ETH_MANCHU;
	if (u < 0.027)
		return ETH_HUI;
	if (u < 0.030)
		return ETH_MONGOL;
	return ETH_HAN;
}

static void make_phone(Rng *r, char *out, int age)
{
	double p = age < 16 ? 0.05 : age >= 75 ? 0.55 : age >= 60 ? 0.72 : 0.82;
	out[0] = 0;
	if (!rng_chance(r, p))
		return;
	if (rng_chance(r, 0.1)) {
		snprintf(out, 16, "0433-%d%06u", rng_range(r, 2, 8), rng_below(r, 1000000));
		return;
	}
	static const char *const PFX[] = { "13", "15", "18", "17", "19", "13", "15", "18" };
	snprintf(out, 16, "%s%d%08u", PFX[rng_below(r, 8)], rng_range(r, 0, 9), rng_below(r, 100000000));
}

void pop_household(Gen *g, Household *h, int unit, int max_size, uint64_t hh_index)
{
	Rng r;
	rng_seed(&r, g->seed, STREAM_HOUSEHOLD, hh_index);
	pyramid_init();
	memset(h, 0, sizeof *h);
	const Division *u = places_get(unit);
	bool village = u->level == LV_VILLAGE;
	h->unit = unit;
	h->number = 100000000u + (uint32_t)(hh_index * 7 % 900000000u);
	places_address(h->addr, sizeof h->addr, unit, &r);

	Slot s[HH_MAX];
	int size = sample_size(&r);
	int n = compose(&r, size, s);
	if (n > max_size)
		n = max_size;
	h->size = n;

	int eth = pick_ethnicity(&r, village);
	uint16_t head_surname = names_pick_surname(&r, eth);
	uint16_t child_surname = head_surname;
	/* the children carry the father's surname */
	for (int i = 0; i < n; i++)
		if (s[i].rel == REL_SPOUSE && s[i].sex == 1)
			child_surname = names_pick_surname(&r, eth), s[i].line = 2;
	for (int i = 0; i < n; i++) {
		Person *p = &h->m[i];
		p->sex = (uint8_t)s[i].sex;
		p->relation = (uint8_t)s[i].rel;
		p->age = s[i].age;
		p->birth = birth_for_age(&r, g->asof, p->age);
		/* spouses and in-laws: 8 % intermarriage */
		bool inlaw = s[i].rel == REL_SPOUSE || s[i].rel == REL_DIL || s[i].rel == REL_MOTHER;
		p->eth = (uint8_t)(inlaw && rng_chance(&r, 0.08) ? (eth == ETH_KOREAN ? ETH_HAN : ETH_KOREAN) : eth);
		switch (s[i].line) {
		case 0: p->surname = head_surname; break;
		case 2: p->surname = child_surname; break;
		case 3: p->surname = child_surname; break;
		default: p->surname = names_pick_surname(&r, p->eth); break;
		}
		/* a grandchild carries the son's surname, which is the head's when the head is male */
		if (s[i].line == 3)
			p->surname = s[0].sex == 1 ? head_surname : child_surname;
		if (s[i].rel == REL_SON && s[0].sex == 1)
			p->surname = head_surname;
		p->given = names_pick_given(&r, p->eth, p->sex, date_year(p->birth));
		make_phone(&r, p->phone, p->age);
		p->out_of_city = !places_in_city(unit);
		p->rural = village;
	}

	/* 低保: household level */
	int oldest = 0;
	for (int i = 0; i < n; i++)
		if (h->m[i].age > oldest)
			oldest = h->m[i].age;
	double pd = village ? 0.040 : 0.022;
	if (oldest >= 70 && n <= 2)
		pd *= 2;
	if (!h->m[0].out_of_city && rng_chance(&r, pd)) {
		h->dibao = true;
		h->dibao_urban = !village;
		h->dibao_start = g->asof - (int32_t)rng_below(&r, 3650) - 20;
		h->dibao_end = rng_chance(&r, 0.25)
			       ? h->dibao_start + (int32_t)rng_below(&r, (uint32_t)(g->asof - h->dibao_start))
			       : NO_DATE;
		h->dibao_cents = (int64_t)(village ? rng_range(&r, 300, 460) : rng_range(&r, 450, 690)) * 100;
	}
	/* registered poor (脱贫户) and monitored (监测户) households */
	double pp = village ? 0.07 : 0.004;
	if (!h->m[0].out_of_city && rng_chance(&r, pp)) {
		h->poor = true;
		if (rng_chance(&r, 0.85)) {
			h->poor_kind = 0;
			h->poor_start = date_make(2014 + rng_range(&r, 0, 2), rng_range(&r, 3, 12), rng_range(&r, 1, 28));
			h->poor_end = rng_chance(&r, 0.25)
				      ? date_make(2021 + rng_range(&r, 0, 3), rng_range(&r, 1, 12), rng_range(&r, 1, 28))
				      : NO_DATE;
		} else {
			h->poor_kind = 1;
			h->poor_start = date_make(2021 + rng_range(&r, 0, 3), rng_range(&r, 1, 12), rng_range(&r, 1, 28));
			h->poor_end = rng_chance(&r, 0.3) ? h->poor_start + rng_range(&r, 200, 700) : NO_DATE;
		}
		if (h->poor_start > g->asof)
			h->poor_start = g->asof - 30;
		if (h->poor_end != NO_DATE && h->poor_end >= g->asof)
			h->poor_end = NO_DATE;
	}
}

/* ---------------- lives ---------------- */

/* Annual probability of death by age (Jilin life table, rounded). */
static double mortality(int a)
{
	if (a < 15) return 0.0002;
	if (a < 30) return 0.0005;
	if (a < 45) return 0.0012;
	if (a < 55) return 0.003;
	if (a < 60) return 0.006;
	if (a < 65) return 0.009;
	if (a < 70) return 0.014;
	if (a < 75) return 0.024;
	if (a < 80) return 0.042;
	if (a < 85) return 0.075;
	if (a < 90) return 0.13;
	return 0.22;
}

/* Which agencies know of the death by D, and when they learnt it. */
static void death_sources(Gen *g, Person *p, Rng *r)
{
	const int32_t D = g->asof;
	const int32_t dd = p->death;
	p->ev_health = p->ev_civil = p->ev_medical = p->ev_court = NO_DATE;
	if (p->age >= 25 && rng_chance(r, 0.004)) {
		/* missing for years, declared dead by the court (民法典 第46条) */
		p->ev_court = dd;
		p->missing_since = dd - 4 * 365 - (int32_t)rng_below(r, 1500);
		if (rng_chance(r, 0.6) && dd + 40 <= D) {
			p->reg_cancel = RAW_DEATH;
			p->cancel_date = dd + rng_range(r, 15, 40);
		}
		return;
	}
	double ph = p->abroad ? 0.05 : 0.90, pc = p->abroad ? 0.05 : 0.86;
	bool hospital = !p->abroad && rng_chance(r, p->age >= 60 ? 0.45 : 0.35);
	if (rng_chance(r, ph)) {
		int32_t issue = dd + (int32_t)rng_below(r, 3);
		if (issue <= D)
			p->ev_health = issue;
	}
	if (hospital && rng_chance(r, 0.92)) {
		int32_t settle = dd + (int32_t)rng_below(r, 25);
		if (settle <= D)
			p->ev_medical = settle;
	}
	if (rng_chance(r, pc)) {
		int32_t crem = dd + rng_range(r, 1, 4);
		if (crem <= D)
			p->ev_civil = crem;
	}
	/* police cancellation: often weeks late, sometimes not done yet */
	double u = rng_unit(r);
	int delay = u < 0.45 ? rng_range(r, 3, 30) : u < 0.75 ? rng_range(r, 31, 120)
		    : u < 0.85 ? rng_range(r, 121, 400) : -1;
	if (p->abroad && delay > 0)
		delay += 200;
	if (delay > 0 && dd + delay <= D) {
		p->reg_cancel = RAW_DEATH;
		p->cancel_date = dd + delay;
	}
}

/* Resident-scheme enrolment for a person outside the employee and
 * institution pensions. */
static void resident_pension(Gen *g, Person *p, Rng *r, bool double_enrolled)
{
	const int32_t D = g->asof;
	const int32_t launch = date_make(2009, 10, 1);
	int a = p->age;
	int32_t b16 = date_birthday(p->birth, 16), b60 = date_birthday(p->birth, 60);
	if (a < 60) {
		double pe = a <= 22 ? 0.30 : p->rural ? 0.86 : 0.70;
		if (p->abroad)
			pe = 0.45;
		if (double_enrolled)
			pe = 1;
		if (!rng_chance(r, pe)) {
			if (a >= 25 && rng_chance(r, 0.04)) {
				/* enrolled once, terminated (moved to the employee scheme or left) */
				p->rp = RP_TERM;
				int32_t lo = b16 > launch ? b16 : launch;
				if (lo >= D - 60)
					lo = D - 400;
				p->rp_start = lo + (int32_t)rng_below(r, (uint32_t)(D - 60 - lo));
				p->rp_change = p->rp_start + (int32_t)rng_below(r, (uint32_t)(D - p->rp_start));
				p->rp_reason = 3;
				p->rp_tier = 200;
			}
			return;
		}
		p->rp = RP_CONTRIB;
		int32_t lo = b16 > launch ? b16 : launch;
		if (lo > D)
			lo = D;
		uint32_t span = (uint32_t)(D - lo + 1);
		uint32_t early = span < 3 * 365 ? span : 3 * 365;
		p->rp_start = lo + (int32_t)(rng_chance(r, 0.55) ? rng_below(r, early) : rng_below(r, span));
		static const int TIERS[] = { 100, 200, 200, 200, 300, 300, 400, 500, 500, 600, 800, 1000, 1000, 1500, 2000 };
		p->rp_tier = TIERS[rng_below(r, sizeof TIERS / sizeof TIERS[0])];
		p->pay_persist = p->abroad ? 10 : rng_chance(r, 0.08) ? 5 : 92;
		return;
	}
	/* 60 and over */
	double pr = 0.91;
	if (double_enrolled)
		pr = 1;
	if (!rng_chance(r, pr)) {
		if (rng_chance(r, 0.15)) {
			p->rp = RP_TERM;
			p->rp_start = launch + (int32_t)rng_below(r, 2000);
			p->rp_change = p->rp_start + (int32_t)rng_below(r, (uint32_t)(D - p->rp_start));
			p->rp_reason = 5;
			p->rp_tier = 100;
		}
		return;
	}
	/* turned 60 lately and not applied yet: still contributing */
	if (b60 > D - 90 && rng_chance(r, 0.3)) {
		p->rp = RP_CONTRIB;
		p->rp_start = (b16 > launch ? b16 : launch) + (int32_t)rng_below(r, 1000);
		p->rp_tier = 300;
		p->pay_persist = 80;
		return;
	}
	p->rp = RP_RECEIV;
	if (b60 < launch + 180) {
		/* 60 or over when the scheme started: basic pension without contributions */
		p->rp_start = launch + (int32_t)rng_below(r, 900);
		p->rp_benefit_ym = ym_add(date_ym(p->rp_start), 1);
		p->rp_account = (int64_t)rng_range(r, 0, 600);
	} else {
		int32_t lo = b16 > launch ? b16 : launch;
		int32_t hi = b60 - 30;
		if (hi <= lo)
			hi = lo + 1;
		p->rp_start = lo + (int32_t)(rng_chance(r, 0.6) ? rng_below(r, (uint32_t)((hi - lo) < 1000 ? hi - lo : 1000))
						      : rng_below(r, (uint32_t)(hi - lo)));
		p->rp_benefit_ym = ym_add(date_ym(b60), 1);
		int years = date_year(b60) - date_year(p->rp_start);
		if (years < 0)
			years = 0;
		int tier = rng_chance(r, 0.7) ? rng_range(r, 1, 3) * 100 : rng_range(r, 4, 20) * 100;
		p->rp_tier = tier;
		p->rp_account = (int64_t)years * tier * 112 / 139 + rng_range(r, 0, 300);
	}
	p->rp_last_paid_ym = g->paid_ym;
	if (rng_chance(r, 0.015)) {
		/* suspended: did not certify in time */
		p->rp = RP_SUSP;
		p->rp_reason = 0;
		p->rp_change = D - rng_range(r, 20, 700);
		if (p->rp_change < ym_first(p->rp_benefit_ym))
			p->rp_change = ym_first(p->rp_benefit_ym) + 40;
		if (p->rp_change > D)
			p->rp_change = D;
		p->rp_last_paid_ym = ym_add(date_ym(p->rp_change), -1);
	}
}

/* What the pension office has done about a death it may have heard of. */
static void resident_after_death(Gen *g, Person *p, Rng *r)
{
	const int32_t D = g->asof;
	if (p->death == NO_DATE || p->rp == RP_NONE || p->rp == RP_TERM)
		return;
	if (p->rp_start > p->death) {
		p->rp = RP_NONE;
		return;
	}
	int32_t known = NO_DATE;
	if (p->reg_cancel == RAW_DEATH)
		known = p->cancel_date;
	if (known == NO_DATE && p->ev_civil != NO_DATE && rng_chance(r, 0.1))
		known = p->ev_civil;        /* some families report the death themselves */
	if (known != NO_DATE) {
		int32_t done = known + rng_range(r, 20, 75);
		if (done <= D) {
			int d;
			int y, m;
			date_split(done, &y, &m, &d);
			p->rp = RP_TERM;
			p->rp_reason = 2;
			p->rp_change = done;
			int last = d >= 10 ? date_ym(done) : ym_add(date_ym(done), -1);
			if (last < date_ym(p->death))
				last = date_ym(p->death);
			if (last < p->rp_last_paid_ym || p->rp_last_paid_ym == 0)
				p->rp_last_paid_ym = last;
			return;
		}
	}
	/* not known to the office: receiving goes on, paid every month */
}

static int32_t random_between(Rng *r, int32_t lo, int32_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

static void prison(Gen *g, Person *p, Rng *r)
{
	const int32_t D = g->asof;
	int a = p->age;
	if (a < 18 || a > 75)
		return;
	double pp = p->sex == 1 ? (a <= 50 ? 0.007 : 0.0025) : 0.0009;
	if (!rng_chance(r, pp))
		return;
	int32_t earliest = date_birthday(p->birth, 18);
	double u = rng_unit(r);
	int k;
	if (u < 0.55) {
		/* in prison on D; 4 % for life */
		int term = rng_range(r, 8, 120);
		int32_t start = D - (int32_t)rng_below(r, (uint32_t)(term * 30 - 20)) - 10;
		if (start < earliest)
			start = earliest;
		int32_t end = date_add_months(start, term);
		if (end <= D)
			end = D + rng_range(r, 10, 400);
		bool life = rng_chance(r, 0.04);
		k = pop_spell_add(p, SP_PRISON, start, life ? NO_DATE : end);
		if (k < 0)
			return;
		p->sp[k].sub = life ? 2 : 0;
	} else if (u < 0.72) {
		/* community correction (suspended sentence), current or over */
		int32_t start = D - (int32_t)rng_below(r, 3 * 365);
		if (start < earliest)
			start = earliest;
		int32_t end = date_add_months(start, rng_range(r, 12, 48));
		k = pop_spell_add(p, SP_PRISON, start, end);
		if (k < 0)
			return;
		p->sp[k].sub = 1;
		p->sp[k].sub2 = end <= D;
	} else {
		/* released on or before D (in the last three years) */
		int32_t end = D - (int32_t)rng_below(r, 3 * 365);
		int term = rng_range(r, 6, 96);
		int32_t start = date_add_months(end, -term);
		if (start < earliest)
			start = earliest;
		if (start >= end)
			return;
		k = pop_spell_add(p, SP_PRISON, start, end);
		if (k < 0)
			return;
		p->sp[k].sub = 0;
		p->sp[k].sub2 = 1;
	}
	Spell *s = &p->sp[k];
	s->extra = rng_below(r, 64);
	/* the court extract holds judgements of the last three years; earlier
	 * sentences are known from the justice roster only */
	s->court = s->start >= date_add_months(D, -36);
}

void pop_life(Gen *g, Household *h, Person *p, Rng *r)
{
	const int32_t D = g->asof;
	const int a = p->age;
	p->death = p->ev_health = p->ev_civil = p->ev_medical = p->ev_court = NO_DATE;
	p->missing_since = NO_DATE;
	p->cancel_date = NO_DATE;
	p->rp_start = p->rp_change = NO_DATE;
	p->nspells = 0;

	/* living abroad (mostly Korean-Chinese working in South Korea) */
	if (!p->out_of_city) {
		double pa = 0;
		if (a >= 20 && a <= 59)
			pa = p->eth == ETH_KOREAN ? 0.15 : 0.03;
		else if (a >= 60 && a <= 79)
			pa = p->eth == ETH_KOREAN ? 0.03 : 0.004;
		p->abroad = rng_chance(r, pa);
	}

	/* death in the last three years */
	if (rng_chance(r, 3 * mortality(a))) {
		int32_t dd = D - (int32_t)rng_below(r, 1095);
		if (dd <= p->birth)
			dd = random_between(r, p->birth + 1, D);
		if (dd > p->birth)
			p->death = dd;
	}
	if (p->death != NO_DATE) {
		death_sources(g, p, r);
	} else if (rng_chance(r, 0.012)) {
		p->reg_cancel = RAW_MOVED;           /* moved the registration away */
		p->cancel_date = D - (int32_t)rng_below(r, 1095);
	} else if (p->sex == 1 && a >= 18 && a <= 22 && rng_chance(r, 0.01)) {
		p->reg_cancel = RAW_MILITARY;
		p->cancel_date = D - (int32_t)rng_below(r, 700);
	} else if (a >= 25 && a <= 70 && rng_chance(r, 0.002)) {
		p->reg_cancel = RAW_EMIGRATED;
		p->cancel_date = D - (int32_t)rng_below(r, 1095);
	}
	if (p->cancel_date != NO_DATE && p->cancel_date <= p->birth)
		p->cancel_date = p->birth + 1;

	/* medical claims per year x10, by age, times a personal factor */
	int base = a < 16 ? 10 : a < 40 ? 12 : a < 60 ? 25 : a < 70 ? 50 : a < 80 ? 80 : 100;
	double u = rng_unit(r);
	double p0 = a >= 60 ? 0.06 : 0.12;
	double mult = u < p0 ? 0 : u < p0 + 0.30 ? 0.5 : u < p0 + 0.62 ? 1 : u < p0 + 0.86 ? 2 : 4;
	int cf = (int)(base * mult);
	p->claim_factor = (uint8_t)(p->abroad ? 0 : p->out_of_city ? cf / 3 : cf > 255 ? 255 : cf);

	if (p->out_of_city)
		return;             /* Yanji's agencies know little else of them */

	prison(g, p, r);
	bool in_prison = pop_spell_active(p, SP_PRISON, D) && p->sp[0].sub != 1;

	/* school: education bureau student status (学籍) */
	bool student = false;
	if (a >= 15 && a <= 24 && !in_prison) {
		static const double PS[10] = { 0.93, 0.92, 0.90, 0.75, 0.58, 0.55, 0.52, 0.42, 0.18, 0.10 };
		if (rng_chance(r, PS[a - 15] * (p->abroad ? 0.3 : 1))) {
			int stage = a <= 18 ? (rng_chance(r, 0.78) ? 0 : 1) : a <= 22 ? (rng_chance(r, 0.7) ? 2 : 3) : 4;
			int years = stage == 2 ? 4 : 3;
			int y, m, d;
			date_split(D, &y, &m, &d);
			int sy = y - (m >= 9 ? 0 : 1) - (int)rng_below(r, (uint32_t)years);
			int32_t start = date_make(sy, 9, 1);
			int32_t end = date_make(sy + years, 7, 1);
			if (end < D)
				end = date_make(y + 1, 7, 1);
			int k = pop_spell_add(p, SP_STUDENT, start, end);
			if (k >= 0) {
				p->sp[k].sub = (uint8_t)stage;
				p->sp[k].extra = rng_below(r, 64);
				if (rng_chance(r, 0.02)) {      /* dropped out */
					p->sp[k].end = random_between(r, start + 30, D - 1);
					p->sp[k].sub2 = 2;
				}
				student = p->sp[k].end >= D;
			}
		}
	}
	if (!student && a >= 18 && a <= 29 && rng_chance(r, 0.45)) {
		/* graduated in the last five years */
		int y, m, d;
		date_split(D, &y, &m, &d);
		int gy = y - (int)rng_below(r, 5) - (m >= 7 ? 0 : 1);
		int32_t end = date_make(gy, 7, 1);
		int stage = a <= 20 ? 0 : 2;
		int32_t start = date_make(gy - (stage == 2 ? 4 : 3), 9, 1);
		if (end < D && start > date_birthday(p->birth, 14)) {
			int k = pop_spell_add(p, SP_STUDENT, start, end);
			if (k >= 0) {
				p->sp[k].sub = (uint8_t)stage;
				p->sp[k].sub2 = 1;
				p->sp[k].extra = rng_below(r, 64);
			}
		}
	}

	/* work: institution staff (机关事业单位) and enterprise employees */
	int formal = 0;   /* 1 institution, 2 employee, 0 none */
	if (!student && !in_prison && a >= 18) {
		double pi = p->rural ? 0.04 : 0.085, pe = p->rural ? 0.14 : a >= 60 ? 0.30 : 0.36;
		if (p->abroad) {
			pi *= 0.1;
			pe *= 0.2;
		}
		double w = rng_unit(r);
		int32_t job_start = date_birthday(p->birth, rng_range(r, 19, 28)) + (int32_t)rng_below(r, 300);
		if (job_start > D - 30)
			job_start = D - (int32_t)rng_below(r, 300) - 30;
		if (w < pi) {
			formal = 1;
			int32_t reform = date_make(2014, 10, 1);     /* institution pension reform */
			int k = pop_spell_add(p, SP_INST_PENSION, job_start > reform ? job_start : reform, NO_DATE);
			if (k >= 0) {
				p->sp[k].extra = rng_below(r, 64);
				p->sp[k].sub = (uint8_t)(job_start < reform);
				if (a < 60 && rng_chance(r, 0.03)) {
					p->sp[k].end = random_between(r, p->sp[k].start + 200, D - 20);
					formal = 0;
				}
			}
		} else if (w < pi + pe) {
			formal = 2;
			int k = pop_spell_add(p, SP_EMP_PENSION, job_start, NO_DATE);
			if (k >= 0)
				p->sp[k].extra = rng_below(r, 64);
		} else if (a >= 22 && rng_chance(r, 0.22)) {
			/* once employed, contributions ended */
			int32_t end = random_between(r, job_start + 365, D - 30);
			if (end > job_start) {
				int k = pop_spell_add(p, SP_EMP_PENSION, job_start, end);
				if (k >= 0)
					p->sp[k].extra = rng_below(r, 64);
			}
		}
	}

	/* employee medical cover follows the job; flexible workers buy it alone */
	for (int i = 0, n = p->nspells; i < n; i++) {
		Spell *s = &p->sp[i];
		if (s->kind != SP_EMP_PENSION && s->kind != SP_INST_PENSION)
			continue;
		double pm = s->kind == SP_INST_PENSION ? 0.97 : 0.90;
		if (rng_chance(r, pm)) {
			/* employee medical insurance started in 2000 */
			int32_t st = s->start > date_make(2000, 1, 1) ? s->start : date_make(2000, 1, 1) + (int32_t)rng_below(r, 1500);
			if (s->end != NO_DATE && s->end <= st)
				continue;
			int k = pop_spell_add(p, SP_EMP_MEDICAL, st, s->end);
			if (k >= 0)
				p->sp[k].extra = s->extra;
		}
	}
	if (formal == 0 && !student && !in_prison && !p->abroad && a >= 18 && a < 60 && rng_chance(r, 0.06)) {
		int k = pop_spell_add(p, SP_EMP_MEDICAL, D - (int32_t)rng_below(r, 2500) - 10, NO_DATE);
		if (k >= 0) {
			p->sp[k].sub = 1;  /* 灵活就业 */
			p->sp[k].extra = rng_below(r, 64);
		}
	}
	/* industry & IT enterprise rosters */
	if (a >= 18 && a < 60 && !in_prison && !p->abroad) {
		double pr = formal == 2 ? 0.35 : formal == 0 && !student ? 0.012 : 0;
		if (rng_chance(r, pr)) {
			int32_t st = D - (int32_t)rng_below(r, 2500) - 10;
			int32_t en = rng_chance(r, 0.1) ? random_between(r, st + 60, D - 1) : NO_DATE;
			int k = pop_spell_add(p, SP_ROSTER, st, en);
			if (k >= 0)
				p->sp[k].extra = rng_below(r, 64);
		}
	}
	/* housing provident fund */
	if (a >= 18 && a < 60 && !in_prison && !p->abroad) {
		double pf = formal == 1 ? 0.95 : formal == 2 ? 0.45 : !student ? 0.015 : 0;
		if (rng_chance(r, pf)) {
			int32_t st = D - (int32_t)rng_below(r, 3000) - 10;
			int32_t en = rng_chance(r, 0.05) ? random_between(r, D - 330, D - 1) : NO_DATE;
			int k = pop_spell_add(p, SP_PROVIDENT, st, en);
			if (k >= 0)
				p->sp[k].extra = (uint32_t)rng_range(r, 2200, 9500);   /* contribution base, yuan */
		}
	}

	/* disability certificates (残疾人证) */
	{
		double pdis = a < 16 ? 0.01 : a < 45 ? 0.025 : a < 60 ? 0.05 : a < 75 ? 0.08 : 0.14;
		if (rng_chance(r, pdis)) {
			static const int GRADE_W[4] = { 12, 23, 30, 35 };
			int x = (int)rng_below(r, 100), grade = 1;
			while (x >= GRADE_W[grade - 1]) {
				x -= GRADE_W[grade - 1];
				grade++;
			}
			bool expired = rng_chance(r, 0.10);
			int32_t issue = expired ? D - 3650 - (int32_t)rng_below(r, 700) - 1 : D - (int32_t)rng_below(r, 3650);
			if (issue < p->birth + 30)
				issue = p->birth + 30 + (int32_t)rng_below(r, 60);
			if (issue > D)
				issue = D;
			int valid_years = a < 16 ? 5 : 10;
			int32_t end = date_add_months(issue, 12 * valid_years) - 1;
			if (!expired && date_age(p->birth, issue) >= 60 && rng_chance(r, 0.5))
				end = NO_DATE;              /* 长期 for the elderly */
			if (expired && end >= D)
				end = D - 1 - (int32_t)rng_below(r, 300);
			int k = pop_spell_add(p, SP_DISABILITY, issue, end);
			if (k >= 0) {
				p->sp[k].sub = (uint8_t)grade;
				p->sp[k].sub2 = (uint8_t)rng_below(r, 7);
			}
		}
	}
	/* extreme poverty (特困): elderly or severely disabled, living alone */
	if (h->size == 1 && (a >= 60 || pop_spell_active(p, SP_DISABILITY, D))) {
		if (rng_chance(r, a >= 60 ? 0.05 : 0.10)) {
			int32_t st = D - (int32_t)rng_below(r, 3000) - 5;
			int32_t en = rng_chance(r, 0.1) ? random_between(r, st + 100, D - 1) : NO_DATE;
			int k = pop_spell_add(p, SP_TEKUN, st, en);
			if (k >= 0)
				p->sp[k].sub = (uint8_t)rng_chance(r, 0.3);  /* 集中供养 */
			h->dibao = false;                                  /* 特困 and 低保 exclude each other */
		}
	}

	/* the resident pension */
	bool double_enrolled = false;
	if (formal && a >= 18 && rng_chance(r, formal == 2 ? 0.02 : 0.006))
		double_enrolled = true;
	if (a >= 16 && !student && (formal == 0 || double_enrolled))
		resident_pension(g, p, r, double_enrolled);
	if (p->reg_cancel == RAW_MOVED && p->rp != RP_NONE && p->rp != RP_TERM && rng_chance(r, 0.7)) {
		p->rp = RP_TERM;
		p->rp_reason = 4;
		p->rp_change = p->cancel_date + rng_range(r, 10, 90);
		if (p->rp_change > D)
			p->rp_change = D;
		if (p->rp_start >= p->rp_change)
			p->rp_start = p->rp_change - 400;
		p->rp_last_paid_ym = date_ym(p->rp_change);
	}
	/* a receiver in prison: suspended by the office, or not yet */
	for (int i = 0; i < p->nspells; i++) {
		Spell *s = &p->sp[i];
		if (s->kind != SP_PRISON || s->sub == 1 || p->rp != RP_RECEIV)
			continue;
		int32_t noticed = s->start + rng_range(r, 30, 120);
		if (noticed > D || !rng_chance(r, 0.6))
			continue;
		bool released = s->end != NO_DATE && s->end <= D;
		p->rp_gap_from = ym_add(date_ym(noticed), 0);
		if (released && rng_chance(r, 0.5)) {
			/* resumed after release */
			p->rp_gap_to = date_ym(s->end);
		} else {
			p->rp = RP_SUSP;
			p->rp_reason = 1;
			p->rp_change = noticed;
			p->rp_last_paid_ym = ym_add(date_ym(noticed), -1);
			p->rp_gap_from = p->rp_gap_to = 0;
		}
	}
	resident_after_death(g, p, r);

	/* nothing starts after death */
	if (p->death != NO_DATE) {
		int k = 0;
		for (int i = 0; i < p->nspells; i++)
			if (p->sp[i].start <= p->death)
				p->sp[k++] = p->sp[i];
		p->nspells = k;
	}

	/* government-paid contribution groups */
	p->gov_paid = h->dibao || h->poor || pop_spell_active(p, SP_TEKUN, D);
	for (int i = 0; i < p->nspells; i++)
		if (p->sp[i].kind == SP_DISABILITY && p->sp[i].sub <= 2)
			p->gov_paid = true;
	p->tax_mode = TAX_NORMAL;
	if (p->rp == RP_NONE && a >= 18 && a < 60 && !p->abroad && rng_chance(r, 0.002))
		p->tax_mode = TAX_STRAY;            /* paid without a recorded enrolment */
	if (p->rp != RP_NONE && rng_chance(r, 0.0003))
		p->tax_mode = TAX_ABOVE_TIER;

	/* proof-of-life certification (receivers) */
	if (p->rp == RP_RECEIV || p->rp == RP_SUSP) {
		bool quiet = p->claim_factor == 0;
		double x = rng_unit(r);
		p->cert_mode = quiet ? (x < 0.65 ? 1 : x < 0.80 ? 2 : 0) : (x < 0.25 ? 1 : 0);
		if (p->rp == RP_SUSP && p->rp_reason == 0)
			p->cert_mode = 0;
	}
}
