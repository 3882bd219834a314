/*
 * scenario.c — the boundary cases every run contains, so that every list of
 * SPEC.md is non-empty even at a few thousand persons and every edge of its
 * rules is exercised: a 16th birthday on D (and on D + 1), 29 February
 * births, a 60th birthday exactly at D + 3 months (and one day later, and on
 * D), a death on the last day of a month, a sentence ending on D, deaths
 * known to one source only, double enrolment, a subsidy above the top tier...
 *
 * Scenario k is armed once (k + 1) / (K + 1) of the persons are generated
 * and taken by the next fitting person in Yanji, so the cases spread over
 * the townships.  The truth is computed from the rows written as always:
 * a scenario only makes sure the rows exist.
 */
#include "synth.h"

#include <string.h>

typedef enum {
	SC_AGE16_TODAY, SC_AGE16_TOMORROW, SC_LEAP_YOUNG, SC_LEAP_OLD,
	SC_AGE60_AT_D3, SC_AGE60_AFTER_D3, SC_AGE60_ON_D,
	SC_DEATH_MONTH_END, SC_DEATH_OLD_UNSEEN, SC_DEATH_POLICE_ONLY, SC_DEATH_CIVIL_ONLY,
	SC_DEATH_COURT, SC_DEATH_MEDICAL_CONTRIB, SC_DEATH_CONTRIB_CONFIRMED,
	SC_PRISON_UNENROLLED, SC_PRISON_LIFE, SC_PRISON_END_D_UNENROLLED, SC_PRISON_RECEIVER,
	SC_PRISON_RESUME, SC_PRISON_RESUME_D, SC_DOUBLE_EMPLOYEE, SC_DOUBLE_INSTITUTION,
	SC_SUBSIDY_ABOVE, SC_COLLECTION_NO_ENROL, SC_NO_COLLECTION, SC_PROOF_DUE,
	SC_ABSENT_UNENROLLED, SC_GOV_PAID_UNENROLLED, SC_EMPLOYMENT_SIGNAL,
	SC_COUNT
} ScenarioId;

typedef struct ScenarioDef {
	const char *name;
	int lo, hi;             /* ages (before any change) of a fitting person */
	bool village;
} ScenarioDef;

static const ScenarioDef DEFS[SC_COUNT] = {
	[SC_AGE16_TODAY] = { "16th birthday on D", 15, 17, false },
	[SC_AGE16_TOMORROW] = { "16th birthday on D+1", 15, 17, false },
	[SC_LEAP_YOUNG] = { "born 29 February, 16-19", 15, 20, false },
	[SC_LEAP_OLD] = { "born 29 February, contributor 56-59", 55, 59, false },
	[SC_AGE60_AT_D3] = { "60th birthday exactly D+3 months", 57, 61, false },
	[SC_AGE60_AFTER_D3] = { "60th birthday D+3 months+1 day", 57, 61, false },
	[SC_AGE60_ON_D] = { "60th birthday on D", 57, 61, false },
	[SC_DEATH_MONTH_END] = { "receiver died on the last day of a month", 62, 90, false },
	[SC_DEATH_OLD_UNSEEN] = { "receiver died 27 months ago, still paid", 62, 90, false },
	[SC_DEATH_POLICE_ONLY] = { "receiver, police cancellation only", 62, 90, false },
	[SC_DEATH_CIVIL_ONLY] = { "receiver, cremation record only", 62, 90, false },
	[SC_DEATH_COURT] = { "receiver declared dead by the court", 62, 90, false },
	[SC_DEATH_MEDICAL_CONTRIB] = { "contributor, in-hospital death only", 45, 59, false },
	[SC_DEATH_CONTRIB_CONFIRMED] = { "contributor, certificate and police", 45, 59, false },
	[SC_PRISON_UNENROLLED] = { "eligible, unenrolled, in prison", 20, 50, false },
	[SC_PRISON_LIFE] = { "eligible, unenrolled, life sentence", 25, 55, false },
	[SC_PRISON_END_D_UNENROLLED] = { "eligible, unenrolled, released on D", 20, 50, false },
	[SC_PRISON_RECEIVER] = { "receiver in prison", 61, 75, false },
	[SC_PRISON_RESUME] = { "suspended receiver released before D", 61, 75, false },
	[SC_PRISON_RESUME_D] = { "suspended receiver released on D", 61, 75, false },
	[SC_DOUBLE_EMPLOYEE] = { "contributor with employee pension", 30, 55, false },
	[SC_DOUBLE_INSTITUTION] = { "contributor on institution staff", 30, 55, false },
	[SC_SUBSIDY_ABOVE] = { "collective + donor above the top tier", 30, 59, true },
	[SC_COLLECTION_NO_ENROL] = { "collection without enrolment", 30, 55, false },
	[SC_NO_COLLECTION] = { "contributor without collection", 30, 55, false },
	[SC_PROOF_DUE] = { "receiver without sign of life", 65, 85, false },
	[SC_ABSENT_UNENROLLED] = { "eligible, unenrolled, abroad", 25, 55, false },
	[SC_GOV_PAID_UNENROLLED] = { "eligible, unenrolled, disability grade 1", 25, 55, false },
	[SC_EMPLOYMENT_SIGNAL] = { "eligible, unenrolled, provident fund", 25, 55, false },
};

int scenario_count(void) { return SC_COUNT; }
const char *scenario_name(int s) { return DEFS[s].name; }

/* Birth date "years" years before z, valid even across 29 February. */
static int32_t years_before(int32_t z, int years)
{
	int y, m, d;
	date_split(z, &y, &m, &d);
	y -= years;
	if (!date_valid(y, m, d))
		d = date_days_in_month(y, m);
	return date_make(y, m, d);
}

static void set_birth(Gen *g, Person *p, int32_t b)
{
	p->birth = b;
	p->age = date_age(b, g->asof);
}

/* The latest 29 February that gives an age in [lo, hi] on D; false if none. */
static bool leap_birth(Gen *g, int lo, int hi, int32_t *out)
{
	int y = date_year(g->asof);
	for (int by = y - lo; by >= y - hi - 1; by--) {
		if (!date_is_leap(by))
			continue;
		int32_t b = date_make(by, 2, 29);
		int a = date_age(b, g->asof);
		if (a >= lo && a <= hi) {
			*out = b;
			return true;
		}
	}
	return false;
}

void scenario_pick(Gen *g, Household *h, Person *p)
{
	(void)h;
	if (p->out_of_city)
		return;
	for (int s = 0; s < SC_COUNT; s++) {
		if (g->scenario_done & (1u << s))
			continue;
		/* spread over the first 90 % of persons: the last units are outside Yanji */
		uint64_t arm = (uint64_t)(s + 1) * (uint64_t)g->persons * 9 / 10 / (SC_COUNT + 1);
		if (g->st.persons < arm)
			break;
		const ScenarioDef *d = &DEFS[s];
		if (p->age < d->lo || p->age > d->hi || (d->village && !p->rural))
			continue;
		const int32_t D = g->asof;
		int32_t b = NO_DATE;
		switch (s) {
		case SC_AGE16_TODAY: b = years_before(D, 16); break;
		case SC_AGE16_TOMORROW: b = years_before(D + 1, 16); break;
		case SC_LEAP_YOUNG:
			if (!leap_birth(g, 16, 19, &b))
				continue;
			break;
		case SC_LEAP_OLD:
			if (!leap_birth(g, 56, 59, &b))
				continue;
			break;
		case SC_AGE60_AT_D3: b = years_before(date_add_months(D, 3), 60); break;
		case SC_AGE60_AFTER_D3: b = years_before(date_add_months(D, 3) + 1, 60); break;
		case SC_AGE60_ON_D: b = years_before(D, 60); break;
		default: break;
		}
		if (b != NO_DATE)
			set_birth(g, p, b);
		p->scenario = (uint8_t)(s + 1);
		g->scenario_done |= 1u << s;
		g->st.scenarios_applied++;
		return;
	}
}

/* ---------------- overrides ---------------- */

static void make_alive(Person *p)
{
	p->death = p->ev_health = p->ev_civil = p->ev_medical = p->ev_court = NO_DATE;
	p->reg_cancel = RAW_NONE;
	p->cancel_date = NO_DATE;
	p->abroad = false;
}

/* No school, job, job-linked records or prison: the scenario adds what it needs. */
static void clear_work(Person *p)
{
	pop_spell_clear(p, SP_STUDENT);
	pop_spell_clear(p, SP_EMP_PENSION);
	pop_spell_clear(p, SP_INST_PENSION);
	pop_spell_clear(p, SP_EMP_MEDICAL);
	pop_spell_clear(p, SP_ROSTER);
	pop_spell_clear(p, SP_PROVIDENT);
	pop_spell_clear(p, SP_PRISON);
}

static void clear_rp(Person *p)
{
	p->rp = RP_NONE;
	p->rp_start = p->rp_change = NO_DATE;
	p->rp_benefit_ym = p->rp_last_paid_ym = 0;
	p->rp_gap_from = p->rp_gap_to = 0;
	p->tax_mode = TAX_NORMAL;
}

static void set_contributing(Gen *g, Person *p)
{
	clear_rp(p);
	p->rp = RP_CONTRIB;
	int32_t launch = date_make(2009, 10, 1), b16 = date_birthday(p->birth, 16);
	p->rp_start = (b16 > launch ? b16 : launch) + 200;
	if (p->rp_start > g->asof)
		p->rp_start = g->asof;
	p->rp_tier = 300;
	p->pay_persist = 100;
}

static void set_receiving(Gen *g, Person *p)
{
	clear_rp(p);
	p->rp = RP_RECEIV;
	int32_t launch = date_make(2009, 10, 1), b60 = date_birthday(p->birth, 60);
	p->rp_start = b60 - 2000 > launch ? b60 - 2000 : launch;
	p->rp_benefit_ym = ym_add(date_ym(b60 > p->rp_start ? b60 : p->rp_start), 1);
	p->rp_last_paid_ym = g->paid_ym;
	p->rp_tier = 200;
	p->rp_account = 4321;
	p->cert_mode = 1;
}

static void set_death(Person *p, int32_t dd)
{
	make_alive(p);
	p->death = dd;
}

static int add_prison(Gen *g, Person *p, int32_t start, int32_t end, int sub)
{
	int k = pop_spell_add(p, SP_PRISON, start, end);
	if (k >= 0) {
		p->sp[k].sub = (uint8_t)sub;
		p->sp[k].sub2 = end != NO_DATE && end <= g->asof;
		p->sp[k].extra = 3;
		p->sp[k].court = start >= date_add_months(g->asof, -36);
	}
	return k;
}

void scenario_apply(Gen *g, Household *h, Person *p, Rng *r)
{
	(void)h;
	(void)r;
	if (!p->scenario)
		return;
	const int32_t D = g->asof;
	switch (p->scenario - 1) {
	case SC_AGE16_TODAY:
	case SC_AGE16_TOMORROW:
	case SC_LEAP_YOUNG:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		break;
	case SC_LEAP_OLD:
	case SC_AGE60_AT_D3:
	case SC_AGE60_AFTER_D3:
	case SC_AGE60_ON_D:
		make_alive(p);
		clear_work(p);
		set_contributing(g, p);
		break;
	case SC_DEATH_MONTH_END:
		clear_work(p);
		set_receiving(g, p);
		set_death(p, ym_last(ym_add(g->asof_ym, -4)));
		p->ev_health = p->death + 1;
		p->ev_civil = p->death + 2;
		break;
	case SC_DEATH_OLD_UNSEEN:
		clear_work(p);
		set_receiving(g, p);
		set_death(p, date_add_months(D, -27));
		p->ev_health = p->death;
		p->ev_civil = p->death + 3;
		break;
	case SC_DEATH_POLICE_ONLY:
		clear_work(p);
		set_receiving(g, p);
		set_death(p, D - 60);
		p->reg_cancel = RAW_DEATH;
		p->cancel_date = p->death + 25;
		break;
	case SC_DEATH_CIVIL_ONLY:
		clear_work(p);
		set_receiving(g, p);
		set_death(p, D - 45);
		p->ev_civil = p->death + 2;
		break;
	case SC_DEATH_COURT:
		clear_work(p);
		set_receiving(g, p);
		set_death(p, D - 100);
		p->ev_court = p->death;
		p->missing_since = p->death - 5 * 365;
		break;
	case SC_DEATH_MEDICAL_CONTRIB:
		clear_work(p);
		set_contributing(g, p);
		set_death(p, D - 30);
		p->ev_medical = p->death + 5;
		break;
	case SC_DEATH_CONTRIB_CONFIRMED:
		clear_work(p);
		set_contributing(g, p);
		set_death(p, D - 200);
		p->ev_health = p->death;
		p->reg_cancel = RAW_DEATH;
		p->cancel_date = p->death + 40;
		break;
	case SC_PRISON_UNENROLLED:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		add_prison(g, p, D - 400, D + 700, 0);
		break;
	case SC_PRISON_LIFE:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		add_prison(g, p, D - 1000, NO_DATE, 2);
		break;
	case SC_PRISON_END_D_UNENROLLED:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		add_prison(g, p, D - 800, D, 0);
		break;
	case SC_PRISON_RECEIVER:
		make_alive(p);
		clear_work(p);
		set_receiving(g, p);
		add_prison(g, p, D - 200, D + 500, 0);
		break;
	case SC_PRISON_RESUME:
	case SC_PRISON_RESUME_D: {
		make_alive(p);
		clear_work(p);
		set_receiving(g, p);
		int32_t start = p->scenario - 1 == SC_PRISON_RESUME ? D - 900 : D - 700;
		int32_t end = p->scenario - 1 == SC_PRISON_RESUME ? D - 60 : D;
		add_prison(g, p, start, end, 0);
		p->rp = RP_SUSP;
		p->rp_reason = 1;
		p->rp_change = start + 60;
		p->rp_last_paid_ym = ym_add(date_ym(p->rp_change), -1);
		break;
	}
	case SC_DOUBLE_EMPLOYEE:
	case SC_DOUBLE_INSTITUTION: {
		make_alive(p);
		clear_work(p);
		set_contributing(g, p);
		int kind = p->scenario - 1 == SC_DOUBLE_EMPLOYEE ? SP_EMP_PENSION : SP_INST_PENSION;
		int k = pop_spell_add(p, kind, D - 1500, NO_DATE);
		if (k >= 0)
			p->sp[k].extra = 5;
		break;
	}
	case SC_SUBSIDY_ABOVE:
		make_alive(p);
		clear_work(p);
		set_contributing(g, p);
		p->tax_mode = TAX_ABOVE_TIER;
		break;
	case SC_COLLECTION_NO_ENROL:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		p->rp = RP_TERM;
		p->rp_reason = 3;
		p->rp_start = D - 2000;
		p->rp_change = D - 100;
		p->rp_tier = 200;
		p->tax_mode = TAX_STRAY;
		break;
	case SC_NO_COLLECTION:
		make_alive(p);
		clear_work(p);
		set_contributing(g, p);
		p->tax_mode = TAX_NONE;
		break;
	case SC_PROOF_DUE:
		make_alive(p);
		clear_work(p);
		set_receiving(g, p);
		p->claim_factor = 0;
		p->cert_mode = 0;
		break;
	case SC_ABSENT_UNENROLLED:
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		p->abroad = true;
		p->claim_factor = 0;
		break;
	case SC_GOV_PAID_UNENROLLED: {
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		pop_spell_clear(p, SP_DISABILITY);
		int k = pop_spell_add(p, SP_DISABILITY, D - 800, date_add_months(D - 800, 120) - 1);
		if (k >= 0) {
			p->sp[k].sub = 1;
			p->sp[k].sub2 = 3;
		}
		break;
	}
	case SC_EMPLOYMENT_SIGNAL: {
		make_alive(p);
		clear_work(p);
		clear_rp(p);
		int k = pop_spell_add(p, SP_PROVIDENT, D - 900, NO_DATE);
		if (k >= 0)
			p->sp[k].extra = 4800;
		break;
	}
	default:
		break;
	}
}
