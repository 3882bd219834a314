/*
 * truth.c — the lists of POLICY.md, stated once more, independently of the
 * engine, on what the extracts say.
 *
 * Input is one Bundle per person: the canonical facts of every clean row
 * written for that person (the register row, death evidence, enrolment,
 * payments, spells, claims, collections ...).  Nothing of the generator's
 * hidden state is visible here: a death no agency reported is no death, a
 * prison term no extract shows is no prison term.  The rules follow
 * tests/synth/SPEC.md word for word; where SPEC.md says "(parameter)", the
 * value is a named constant below.
 */
#include "truth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- parameters (POLICY.md) ---------------- */
#define CITY_PREFIX "222401"           /* division under which registration counts */
#define MIN_AGE 16                     /* Art. 3 */
#define BENEFIT_AGE 60
#define APPROACH_MONTHS 3              /* list 6 */
#define ABSENT_MONTHS 24               /* list 1 flag possibly_absent */
#define PROOF_MONTHS 12                /* list 7 */
#define EMPLOYMENT_MONTHS 3            /* list 1 flag employment_signal (provident fund) */
#define RECON_MONTHS 12                /* list 8 */
#define FUNERAL_BASE_CENTS 120000      /* Art. 26: 1200 yuan */
#define FUNERAL_MONTHS 10              /* Art. 26: 10 x the basic pension */
#define TOP_TIER_CENTS 200000          /* Art. 27: highest contribution tier, 2000 yuan */
#define SERVICE_OBJECTS_PER_STAFF 6000 /* Art. 16 */
#define SEVERE_GRADE 2                 /* disability grades 1-2 are severe */
/* authoritative death evidence: police, health, court */
#define AUTHORITATIVE ((1u << EV_POLICE) | (1u << EV_HEALTH) | (1u << EV_COURT))

enum {
	L_UNENROLLED, L_UNENROLLED_PRISON, L_DECEASED_BEN, L_DECEASED_CONTRIB, L_PRISON,
	L_DOUBLE, L_APPROACH, L_PROOF, L_RECON, L_STAFFING, L_COUNT
};

static const struct { const char *name, *header; } LISTS[L_COUNT] = {
	[L_UNENROLLED] = { "unenrolled_eligible", "id_number,township,village,household,flags" },
	[L_UNENROLLED_PRISON] = { "unenrolled_in_prison", "id_number,township,release_date" },
	[L_DECEASED_BEN] = { "deceased_beneficiaries",
			     "id_number,death_date,sources,confidence,months_paid_after_death,overpaid,funeral_subsidy" },
	[L_DECEASED_CONTRIB] = { "deceased_contributors", "id_number,death_date,sources,confidence" },
	[L_PRISON] = { "prison_suspension", "id_number,action,from_month" },
	[L_DOUBLE] = { "double_enrolment", "id_number,scheme" },
	[L_APPROACH] = { "approaching_benefit_age", "id_number,birthday60" },
	[L_PROOF] = { "proof_of_life_due", "id_number,last_sign_of_life" },
	[L_RECON] = { "contribution_reconciliation", "id_number,case,year,amount" },
	[L_STAFFING] = { "township_staffing", "township,service_objects,township_staff,villages" },
};

static const char *const EVIDENCE_NAME[EV_COUNT] = { "civil", "court", "health", "medical", "police" };

typedef struct Lines {
	char *buf;
	size_t len, cap;
	size_t *off;
	size_t n, ncap;
} Lines;

typedef struct Town {
	char code[10];
	long objects;
	int villages;
} Town;

struct Truth {
	int32_t asof;
	Lines l[L_COUNT];
	Town town[256];
	int ntown;
	bool oom;
};

Truth *truth_new(int32_t asof)
{
	Truth *t = calloc(1, sizeof *t);
	if (t)
		t->asof = asof;
	return t;
}

void truth_free(Truth *t)
{
	if (!t)
		return;
	for (int i = 0; i < L_COUNT; i++) {
		free(t->l[i].buf);
		free(t->l[i].off);
	}
	free(t);
}

int truth_list_count(void) { return L_COUNT; }
const char *truth_list_name(int i) { return LISTS[i].name; }

size_t truth_list_rows(const Truth *t, int i)
{
	return i == L_STAFFING ? (size_t)t->ntown : t->l[i].n;
}

/* Append one NUL-terminated line (without newline). */
static void add_line(Truth *t, int list, const char *s)
{
	Lines *l = &t->l[list];
	size_t n = strlen(s) + 1;
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1 << 16;
		while (cap < l->len + n)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b) {
			t->oom = true;
			return;
		}
		l->buf = b;
		l->cap = cap;
	}
	if (l->n == l->ncap) {
		size_t ncap = l->ncap ? l->ncap * 2 : 1024;
		size_t *o = realloc(l->off, ncap * sizeof *o);
		if (!o) {
			t->oom = true;
			return;
		}
		l->off = o;
		l->ncap = ncap;
	}
	memcpy(l->buf + l->len, s, n);
	l->off[l->n++] = l->len;
	l->len += n;
}

void truth_add_division(Truth *t, const char *code, const char *level)
{
	if (strncmp(code, CITY_PREFIX, strlen(CITY_PREFIX)) != 0)
		return;
	if (strcmp(level, "乡镇") == 0 && strlen(code) == 9 && t->ntown < 256) {
		Town *tw = &t->town[t->ntown++];
		memcpy(tw->code, code, 10);
		tw->objects = 0;
		tw->villages = 0;
		return;
	}
	if (strcmp(level, "村") == 0 && strlen(code) == 12) {
		int num = atoi(code + 9);
		if (num < 200 || num > 399)
			return;
		for (int i = 0; i < t->ntown; i++)
			if (strncmp(t->town[i].code, code, 9) == 0)
				t->town[i].villages++;
	}
}

/* ---------------- fact predicates ---------------- */

/* active_on D: start <= D and (no end or end >= D), both ends inclusive. */
static bool active_on(const Fact *f, int32_t D)
{
	return f->d1 != NO_DATE && f->d1 <= D && (f->d2 == NO_DATE || f->d2 >= D);
}

static bool any_active(const Bundle *b, int kind, int32_t D)
{
	for (int i = 0; i < b->n; i++)
		if (b->f[i].kind == kind && active_on(&b->f[i], D))
			return true;
	return false;
}

/* In prison on D: a prison record of type prison with start <= D and no end
 * or an end (the release date) after D: on the release day the person is out. */
static bool in_prison_on(const Fact *f, int32_t D)
{
	return f->kind == FK_PRISON && f->code == PT_PRISON && f->d1 != NO_DATE && f->d1 <= D &&
	       (f->d2 == NO_DATE || f->d2 > D);
}

/* The latest day on or before D this fact shows the person alive, or NO_DATE. */
static int32_t sign_of_life(const Fact *f, int32_t D)
{
	switch (f->kind) {
	case FK_CLAIM:
	case FK_TAX:
	case FK_CERT:
		return f->d1 <= D ? f->d1 : NO_DATE;
	case FK_PROVIDENT: {
		int32_t z = ym_first(f->d1);       /* a month counts from its first day */
		return z <= D ? z : NO_DATE;
	}
	case FK_ROSTER:
	case FK_EMP_MEDICAL:
		if (f->d1 == NO_DATE || f->d1 > D)
			return NO_DATE;
		if (f->d2 == NO_DATE || f->d2 >= D)
			return D;
		return f->d2 >= f->d1 ? f->d2 : NO_DATE;
	default:
		return NO_DATE;
	}
}

/* "within N months before D": z > D - N months and z <= D. */
static bool within(int32_t z, int32_t D, int months)
{
	return z != NO_DATE && z <= D && z > date_add_months(D, -months);
}

static void fmt_date(char *buf, int32_t z) { date_format(buf, z, DS_ISO); }

/* ---------------- the lists for one person ---------------- */

void truth_person(Truth *t, const Bundle *b)
{
	const int32_t D = t->asof;
	const RegisterFact *reg = &b->reg;
	char line[512], d1[32], m1[32], m2[32];

	/* birth: the register's; otherwise the ID number's */
	int32_t birth = NO_DATE;
	if (reg->present && reg->birth != NO_DATE) {
		birth = reg->birth;
	} else {
		int y = atoi((char[5]){ b->id[6], b->id[7], b->id[8], b->id[9], 0 });
		int m = atoi((char[3]){ b->id[10], b->id[11], 0 });
		int d = atoi((char[3]){ b->id[12], b->id[13], 0 });
		if (date_valid(y, m, d))
			birth = date_make(y, m, d);
	}
	if (birth == NO_DATE)
		return;
	const int age = date_age(birth, D);

	/* credible death evidence: dated on or before D and not before birth */
	unsigned sources = 0;
	int32_t death = NO_DATE;
#define CREDIT(code, z)                                                     \
	do {                                                                \
		int32_t z_ = (z);                                           \
		if (z_ != NO_DATE && z_ <= D && z_ >= birth) {              \
			sources |= 1u << (code);                            \
			if (death == NO_DATE || z_ < death)                 \
				death = z_;                                 \
		}                                                           \
	} while (0)
	if (reg->present && !reg->active && reg->reason == CR_DEATH)
		CREDIT(EV_POLICE, reg->cancel_date);
	for (int i = 0; i < b->n; i++)
		if (b->f[i].kind == FK_DEATH)
			CREDIT(b->f[i].code, b->f[i].d1);
#undef CREDIT
	const bool dead = sources != 0;

	/* the enrolment (one snapshot row per enrolled person) */
	const Fact *rp = NULL;
	for (int i = 0; i < b->n && !rp; i++)
		if (b->f[i].kind == FK_RESIDENT)
			rp = &b->f[i];
	const int status = rp ? rp->code : -1;
	const bool live = status == RS_CONTRIBUTING || status == RS_RECEIVING || status == RS_SUSPENDED;

	/* signs of life */
	int32_t last_sign = NO_DATE;
	for (int i = 0; i < b->n; i++) {
		int32_t z = sign_of_life(&b->f[i], D);
		if (z != NO_DATE && (last_sign == NO_DATE || z > last_sign))
			last_sign = z;
	}

	/* prison on D */
	bool prison = false, life_term = false;
	int32_t release = NO_DATE, prison_start = NO_DATE;
	for (int i = 0; i < b->n; i++) {
		const Fact *f = &b->f[i];
		if (!in_prison_on(f, D))
			continue;
		prison = true;
		if (f->d2 == NO_DATE)
			life_term = true;
		else if (release == NO_DATE || f->d2 > release)
			release = f->d2;
		if (prison_start == NO_DATE || f->d1 > prison_start)
			prison_start = f->d1;
	}

	/* 1. eligible but not enrolled (Art. 3) */
	bool listed1 = false;
	const bool in_city = reg->present && strncmp(reg->division, CITY_PREFIX, strlen(CITY_PREFIX)) == 0;
	const bool eligible = reg->present && reg->active && in_city && age >= MIN_AGE &&
			      !any_active(b, FK_STUDENT, D) && !any_active(b, FK_INST_PENSION, D) &&
			      !any_active(b, FK_EMP_PENSION, D) && !dead;
	if (eligible && !live) {
		char township[10];
		memcpy(township, reg->division, 9);
		township[9] = 0;
		listed1 = true;
		if (prison) {
			if (life_term)
				d1[0] = 0;
			else
				fmt_date(d1, release);
			snprintf(line, sizeof line, "%s,%s,%s", b->id, township, d1);
			add_line(t, L_UNENROLLED_PRISON, line);
		} else {
			bool gov = any_active(b, FK_DIBAO, D) || any_active(b, FK_TEKUN, D) || any_active(b, FK_POOR, D);
			for (int i = 0; i < b->n && !gov; i++)
				if (b->f[i].kind == FK_DISABILITY && b->f[i].code <= SEVERE_GRADE && active_on(&b->f[i], D))
					gov = true;
			bool employment = any_active(b, FK_EMP_MEDICAL, D) || any_active(b, FK_ROSTER, D);
			for (int i = 0; i < b->n && !employment; i++)
				if (b->f[i].kind == FK_PROVIDENT && within(ym_first(b->f[i].d1), D, EMPLOYMENT_MONTHS))
					employment = true;
			bool absent = !within(last_sign, D, ABSENT_MONTHS);
			char flags[96] = "";
			/* in byte order: age60; employment_signal; government_paid; possibly_absent */
			if (age >= BENEFIT_AGE)
				strcat(flags, "age60;");
			if (employment)
				strcat(flags, "employment_signal;");
			if (gov)
				strcat(flags, "government_paid;");
			if (absent)
				strcat(flags, "possibly_absent;");
			size_t fl = strlen(flags);
			if (fl)
				flags[fl - 1] = 0;
			snprintf(line, sizeof line, "%s,%s,%s,%s,%s", b->id, township, reg->division, reg->household, flags);
			add_line(t, L_UNENROLLED, line);
		}
	}

	/* 2 and 3. deceased beneficiaries and contributors */
	if (dead && (status == RS_RECEIVING || status == RS_CONTRIBUTING)) {
		char src[64] = "";
		int nsrc = 0;
		for (int e = 0; e < EV_COUNT; e++) {
			if (sources & (1u << e)) {
				if (nsrc++)
					strcat(src, ";");
				strcat(src, EVIDENCE_NAME[e]);
			}
		}
		const char *conf = nsrc >= 2 || (sources & AUTHORITATIVE) ? "confirmed" : "to_verify";
		fmt_date(d1, death);
		if (status == RS_CONTRIBUTING) {
			snprintf(line, sizeof line, "%s,%s,%s,%s", b->id, d1, src, conf);
			add_line(t, L_DECEASED_CONTRIB, line);
		} else {
			const int dm = date_ym(death);
			int months[64], nm = 0;
			int64_t overpaid = 0, death_basic = NO_MONEY;
			for (int i = 0; i < b->n; i++) {
				const Fact *f = &b->f[i];
				if (f->kind != FK_PAYMENT)
					continue;
				if (f->d1 == dm && death_basic == NO_MONEY)
					death_basic = f->a1;
				if (f->d1 <= dm)
					continue;
				overpaid += f->a3 != NO_MONEY ? f->a3 : f->a1 + (f->a2 != NO_MONEY ? f->a2 : 0);
				bool seen = false;
				for (int k = 0; k < nm; k++)
					seen |= months[k] == f->d1;
				if (!seen && nm < 64)
					months[nm++] = f->d1;
			}
			if (death_basic == NO_MONEY)
				death_basic = rp->a2 != NO_MONEY ? rp->a2 : 0;
			money_format(m1, overpaid);
			money_format(m2, FUNERAL_BASE_CENTS + FUNERAL_MONTHS * death_basic);
			snprintf(line, sizeof line, "%s,%s,%s,%s,%d,%s,%s", b->id, d1, src, conf, nm, m1, m2);
			add_line(t, L_DECEASED_BEN, line);
		}
	}

	/* 4. benefit suspension during imprisonment */
	if (status == RS_RECEIVING && prison) {
		month_format(m1, ym_add(date_ym(prison_start), 1), MS_YM6);
		snprintf(line, sizeof line, "%s,suspend,%s", b->id, m1);
		add_line(t, L_PRISON, line);
	} else if (status == RS_SUSPENDED && !prison) {
		int32_t ended = NO_DATE;
		for (int i = 0; i < b->n; i++) {
			const Fact *f = &b->f[i];
			if (f->kind == FK_PRISON && f->code == PT_PRISON && f->d2 != NO_DATE && f->d2 <= D &&
			    (ended == NO_DATE || f->d2 > ended))
				ended = f->d2;
		}
		if (ended != NO_DATE) {
			month_format(m1, ym_add(date_ym(ended), 1), MS_YM6);
			snprintf(line, sizeof line, "%s,resume,%s", b->id, m1);
			add_line(t, L_PRISON, line);
		}
	}

	/* 5. double enrolment */
	if (live && any_active(b, FK_EMP_PENSION, D)) {
		snprintf(line, sizeof line, "%s,employee", b->id);
		add_line(t, L_DOUBLE, line);
	}
	if (live && any_active(b, FK_INST_PENSION, D)) {
		snprintf(line, sizeof line, "%s,institution", b->id);
		add_line(t, L_DOUBLE, line);
	}

	/* 6. approaching benefit age (the dead are not notified) */
	if (status == RS_CONTRIBUTING && !dead) {
		int32_t b60 = date_birthday(birth, BENEFIT_AGE);
		if (b60 > D && b60 <= date_add_months(D, APPROACH_MONTHS)) {
			fmt_date(d1, b60);
			snprintf(line, sizeof line, "%s,%s", b->id, d1);
			add_line(t, L_APPROACH, line);
		}
	}

	/* 7. proof of life due */
	if (status == RS_RECEIVING && !dead && !within(last_sign, D, PROOF_MONTHS)) {
		if (last_sign == NO_DATE)
			d1[0] = 0;
		else
			fmt_date(d1, last_sign);
		snprintf(line, sizeof line, "%s,%s", b->id, d1);
		add_line(t, L_PROOF, line);
	}

	/* 8. contribution reconciliation */
	{
		int64_t sum = 0;
		int n = 0;
		struct { int year; int64_t sum; } yrs[16];
		int ny = 0;
		for (int i = 0; i < b->n; i++) {
			const Fact *f = &b->f[i];
			if (f->kind != FK_TAX || f->d1 == NO_DATE || f->d1 > D)
				continue;
			if (within(f->d1, D, RECON_MONTHS)) {
				sum += f->a1;
				n++;
			}
			if (f->code == TT_COLLECTIVE || f->code == TT_DONOR) {
				int y = date_year(f->d1), k = 0;
				while (k < ny && yrs[k].year != y)
					k++;
				if (k == ny && ny < 16) {
					yrs[ny].year = y;
					yrs[ny].sum = 0;
					ny++;
				}
				if (k < ny)
					yrs[k].sum += f->a1;
			}
		}
		if (n > 0 && !live) {
			money_format(m1, sum);
			snprintf(line, sizeof line, "%s,collection_without_enrolment,,%s", b->id, m1);
			add_line(t, L_RECON, line);
		}
		if (status == RS_CONTRIBUTING && !dead && n == 0) {
			snprintf(line, sizeof line, "%s,enrolled_without_collection,,0.00", b->id);
			add_line(t, L_RECON, line);
		}
		for (int k = 0; k < ny; k++) {
			if (yrs[k].sum > TOP_TIER_CENTS) {
				money_format(m1, yrs[k].sum);
				snprintf(line, sizeof line, "%s,subsidy_above_tier,%d,%s", b->id, yrs[k].year, m1);
				add_line(t, L_RECON, line);
			}
		}
	}

	/* 9. township staffing: service objects by register division */
	if (reg->present && (live || listed1)) {
		for (int i = 0; i < t->ntown; i++) {
			if (strncmp(t->town[i].code, reg->division, 9) == 0) {
				t->town[i].objects++;
				break;
			}
		}
	}
}

/* ---------------- writing ---------------- */

static const char *g_sort_base;

static int cmp_line(const void *a, const void *b)
{
	return strcmp(g_sort_base + *(const size_t *)a, g_sort_base + *(const size_t *)b);
}

static int cmp_town(const void *a, const void *b)
{
	return strcmp(((const Town *)a)->code, ((const Town *)b)->code);
}

bool truth_write(Truth *t, const char *dir)
{
	if (t->oom) {
		fprintf(stderr, "synth: out of memory while collecting the truth\n");
		return false;
	}
	bool ok = true;
	static char buf[1 << 20];
	for (int i = 0; i < L_COUNT; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.csv", dir, LISTS[i].name);
		FILE *f = fopen(path, "wb");
		if (!f) {
			fprintf(stderr, "synth: could not create \"%s\": %s\n", path, strerror(errno));
			return false;
		}
		setvbuf(f, buf, _IOFBF, sizeof buf);
		fprintf(f, "%s\n", LISTS[i].header);
		if (i == L_STAFFING) {
			qsort(t->town, (size_t)t->ntown, sizeof t->town[0], cmp_town);
			for (int k = 0; k < t->ntown; k++) {
				const Town *tw = &t->town[k];
				long staff = (tw->objects + SERVICE_OBJECTS_PER_STAFF - 1) / SERVICE_OBJECTS_PER_STAFF;
				if (staff < 1)
					staff = 1;
				fprintf(f, "%s,%ld,%ld,%d\n", tw->code, tw->objects, staff, tw->villages);
			}
		} else {
			Lines *l = &t->l[i];
			g_sort_base = l->buf;
			if (l->n)
				qsort(l->off, l->n, sizeof l->off[0], cmp_line);
			for (size_t k = 0; k < l->n; k++) {
				fputs(l->buf + l->off[k], f);
				fputc('\n', f);
			}
		}
		if (ferror(f) | (fclose(f) != 0)) {
			fprintf(stderr, "synth: could not write \"%s\"\n", path);
			ok = false;
		}
	}
	return ok;
}
