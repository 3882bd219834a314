/*
 * test_linkage.c
 *     Unit tests for identity resolution: the ID repairer against a register (substitution,
 *     transposition, ambiguity, a disagreeing name), the scorer and its decisions (two
 *     namesakes with the same name, sex and birth date are "to verify"), comparison levels,
 *     EM convergence on synthetic pairs with known m and u, and rules/linkage.conf errors.
 *
 * identity_link runs on a small store built here: a register of 2,000 invented persons (so
 * that u and the term frequencies are realistic) and pending records as load.c leaves them.
 * The linkage parameters are the shipped rules/linkage.conf (tests run from the top folder;
 * CANBAO_RULES overrides).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract.h"
#include "fsmodel.h"
#include "identity.h"
#include "idrepair.h"

static const char *
rules_dir(void)
{
	const char *d = getenv("CANBAO_RULES");

	return d ? d : "rules";
}

/* ---- a small world ---- */

typedef struct World {
	Store		st;
	LoadReport	rep;
	IdentityResult res;
} World;

static World w;

enum { F_REG, F_DEATH, F_CLAIM };

static void
valid_id(const char *first17, char out[19])
{
	memcpy(out, first17, 17);
	out[17] = idnum_check_digit(first17);
	out[18] = '\0';
}

static PersonKey
add_person(const char *id, const char *name, uint8_t sex, Day birth, const char *addr, bool dead)
{
	Person	   *p = vec_push(&w.st.persons);

	p->key = idnum_key(id);
	assert_true(store_person_set_text(&w.st, p, name, NULL, addr, NULL, NULL));
	p->sex = sex;
	p->birth = birth;
	p->division = "222401005006";
	p->status = dead ? REG_CANCELLED : REG_ACTIVE;
	p->cancel_reason = dead ? CANCEL_DEATH : 0xFF;
	p->cancel_date = dead ? date_from_ymd(2026, 1, 1) : DAY_NONE;
	p->file = F_REG;
	p->record = w.st.persons.len;
	return p->key;
}

static void
world_init(void)
{
	static const char *const sur[] = {"金", "李", "朴", "崔", "郑", "姜", "张", "赵", "尹", "韩", "王", "刘"};
	static const char *const giv[] = {"哲洙", "英浩", "顺子", "英姬", "成龙", "美兰", "敏俊", "秀贤",
		"建国", "秀英", "志强", "丽", "浩然", "欣怡", "光明", "春花", "东明", "玉兰", "永福", "淑珍"};

	memset(&w, 0, sizeof w);
	store_init(&w.st);
	vec_init(&w.rep.pending, sizeof(PendingRecord));
	SourceFile *f = vec_push(&w.st.files);
	f->source = "police_register";
	f->name = "police_register.csv";
	f->kind = FK_REGISTER;
	f = vec_push(&w.st.files);
	f->source = "civil_cremation";
	f->name = "civil_cremation.csv";
	f->kind = FK_DEATH;
	f = vec_push(&w.st.files);
	f->source = "medical_claims";
	f->name = "medical_claims.csv";
	f->kind = FK_MEDICAL_CLAIM;
	/* 2,000 invented persons: names repeat as in a real city, birth dates and addresses spread */
	uint64_t	s = 12345;
	for (int i = 0; i < 2000; i++) {
		char		name[32],
					first[18],
					id[19],
					addr[128];
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		int			y = 1930 + (int) ((s >> 33) % 70),
					m = 1 + (int) ((s >> 20) % 12),
					d = 1 + (int) ((s >> 8) % 28);
		uint8_t		sex = (uint8_t) (i % 2);

		snprintf(name, sizeof name, "%s%s", sur[(s >> 40) % 12], giv[(s >> 45) % 20]);
		snprintf(first, sizeof first, "222401%04d%02d%02d%02d%d", y, m, d, i % 100, (i / 100) * 2 % 10 + (sex == SEX_MALE));
		valid_id(first, id);
		snprintf(addr, sizeof addr, "延吉市河南街道新丰社区白川街%d号", i + 1);
		add_person(id, name, sex, date_from_ymd(y, m, d), addr, i % 40 == 0);
	}
}

static void
world_free(void)
{
	identity_result_free(&w.res);
	vec_free(&w.rep.pending);
	store_free(&w.st);
}

/* A pending record, as load.c leaves it. */
static PendingRecord *
pend(int file, const char *id_chars, IdnumStatus status, const char *name, uint8_t sex, Day birth,
	 int age, const char *addr)
{
	PendingRecord *pr = vec_push(&w.rep.pending);
	SourceFile *sf = &VEC_AT(&w.st.files, SourceFile, file);

	sf->read++;
	pr->file = (uint32_t) file;
	pr->fact.kind = (uint16_t) sf->kind;
	pr->fact.file = (uint16_t) file;
	pr->fact.record = sf->read;
	pr->fact.d1 = date_from_ymd(2026, 3, 1);
	pr->fact.d2 = DAY_NONE;
	pr->hash = 1000 + w.rep.pending.len;
	pr->raw = "raw";
	pr->id_chars = id_chars;
	pr->id_status = (uint8_t) status;
	pr->linkable = sf->kind == FK_DEATH;
	pr->name = name;
	pr->sex = sex;
	pr->birth = birth;
	pr->age = (int16_t) age;
	pr->date = pr->fact.d1;
	pr->address = addr;
	return pr;
}

static void
link_all_with(const char *dir)
{
	IdentityOptions opt = {.rules_dir = dir, .asof = date_from_ymd(2026, 11, 28)};
	CbError		err;

	if (!identity_link(&w.st, &w.rep, &opt, &w.res, &err))
		fail_msg("identity_link: %s: %s", err.input_at, err.message);
	/* nothing lost: every pending record became one fact or one reject */
	const SourceFile *sf = w.st.files.data;
	for (size_t i = 1; i < w.st.files.len; i++)
		assert_int_equal(sf[i].read, sf[i].accepted + sf[i].rejected);
}

static void
link_all(void)
{
	link_all_with(rules_dir());
}

/* The shipped linkage.conf with some values replaced, in a folder of its own (removed by
 * rules_rm): key = value lines of `over` replace the shipped ones. */
static char rules_tmp[512];

static const char *
rules_with(const char *over)
{
	char		path[600],
				line[256];
	const char *tmp = getenv("TMPDIR");
	FILE	   *in,
			   *out;

	snprintf(rules_tmp, sizeof rules_tmp, "%s/canbao-linkconf-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(rules_tmp));
	snprintf(path, sizeof path, "%s/linkage.conf", rules_dir());
	in = fopen(path, "r");
	assert_non_null(in);
	snprintf(path, sizeof path, "%s/linkage.conf", rules_tmp);
	out = fopen(path, "w");
	assert_non_null(out);
	while (fgets(line, sizeof line, in)) {
		char		key[64];
		const char *o;
		bool		replaced = false;

		if (sscanf(line, "%63[a-z_] =", key) == 1)
			for (o = over; (o = strstr(o, key)) != NULL; o++)
				if ((o == over || o[-1] == '\n') && o[strlen(key)] == ' ') {
					fprintf(out, "%.*s\n", (int) strcspn(o, "\n"), o);
					replaced = true;
					break;
				}
		if (!replaced)
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	return rules_tmp;
}

static void
rules_rm(void)
{
	char		path[600];

	snprintf(path, sizeof path, "%s/linkage.conf", rules_tmp);
	unlink(path);
	rmdir(rules_tmp);
}

/* A fact of kind k linked by ID number to person key on day d. */
static void
add_fact(PersonKey key, FactKind k, Day d)
{
	Fact	   *f = vec_push(&w.st.facts);

	memset(f, 0, sizeof *f);
	f->person = key;
	f->kind = (uint16_t) k;
	f->d1 = d;
	f->d2 = DAY_NONE;
	f->link = LINK_EXACT;
	f->file = F_CLAIM;
	f->record = w.st.facts.len;
}

static const LinkRow *
link_of(int file, uint64_t record)
{
	const LinkRow *lr = w.res.links.data;

	for (size_t i = 0; i < w.res.links.len; i++)
		if (lr[i].file == (uint32_t) file && lr[i].record == record)
			return &lr[i];
	fail_msg("no link row for %d:%llu", file, (unsigned long long) record);
	return NULL;
}

static const Fact *
fact_of(int file, uint64_t record)
{
	const Fact *f = w.st.facts.data;

	for (size_t i = 0; i < w.st.facts.len; i++)
		if (f[i].file == file && f[i].record == record)
			return &f[i];
	return NULL;
}

static const Reject *
reject_of(int file, uint64_t record)
{
	const Reject *r = w.st.rejects.data;

	for (size_t i = 0; i < w.st.rejects.len; i++)
		if (r[i].file == (uint32_t) file && r[i].record_no == record)
			return &r[i];
	return NULL;
}

/* ---- ID repair ---- */

static void
test_repair(void **state)
{
	char		a[19],
				b[19],
				sub[19],
				swp[19],
				amb[19],
				vary[19];

	(void) state;
	world_init();
	/* A: 金哲洙, and B, his namesake born the same day, whose number differs from A's in one
	 * sequence digit and the check character */
	valid_id("22240119610316351", a);
	valid_id("22240119610316451", b);
	PersonKey	ka = add_person(a, "金哲洙", SEX_MALE, date_from_ymd(1961, 3, 16), "延吉市进学街道丹英社区民安路1号", false);
	PersonKey	kb = add_person(b, "金哲洙", SEX_MALE, date_from_ymd(1961, 3, 16), "延吉市北山街道光新社区友谊路2号", false);

	/* one substituted digit (the region): repaired to A */
	memcpy(sub, a, 19);
	sub[3] = '9';
	pend(F_CLAIM, sub, IDNUM_BAD_CHECK, "金哲洙", 0xFF, DAY_NONE, -1, NULL);
	/* two neighbouring digits swapped (the birth month): repaired to A */
	memcpy(swp, a, 19);
	swp[10] = a[11];
	swp[11] = a[10];
	pend(F_CLAIM, swp, IDNUM_BAD_DATE, "金哲洙", 0xFF, DAY_NONE, -1, NULL);
	/* A's 17 digits with B's check character: one error away from both, both agree */
	memcpy(amb, a, 17);
	amb[17] = b[17];
	amb[18] = '\0';
	assert_false(idnum_is_valid(amb));
	pend(F_CLAIM, amb, IDNUM_BAD_CHECK, "金哲洙", 0xFF, DAY_NONE, -1, NULL);
	/* the same typo with another person's name: nobody agrees */
	pend(F_CLAIM, sub, IDNUM_BAD_CHECK, "李英姬", 0xFF, DAY_NONE, -1, NULL);
	/* a variant character (喆 for 哲, same pinyin) still agrees */
	memcpy(vary, a, 19);
	vary[5] = a[5] == '1' ? '7' : '1';
	pend(F_CLAIM, vary, IDNUM_BAD_CHECK, "金喆洙", SEX_MALE, date_from_ymd(1961, 3, 16), -1, NULL);
	/* one error from A and from C, 金哲浩 (a close name, as a Korean name written by its
	 * Korean reading is): both agree, A's name best: repaired to A */
	char		c[19],
				amb2[19];
	valid_id("22240119610316551", c);
	add_person(c, "金哲浩", SEX_MALE, date_from_ymd(1961, 3, 16), "延吉市新兴街道杏林社区人民路3号", false);
	memcpy(amb2, a, 17);
	amb2[17] = c[17];
	amb2[18] = '\0';
	assert_false(idnum_is_valid(amb2));
	pend(F_CLAIM, amb2, IDNUM_BAD_CHECK, "金哲洙", 0xFF, DAY_NONE, -1, NULL);
	/* the same with the close name written: C's name is the exact one now */
	pend(F_CLAIM, amb2, IDNUM_BAD_CHECK, "金哲浩", 0xFF, DAY_NONE, -1, NULL);
	link_all();

	assert_int_equal(link_of(F_CLAIM, 1)->decision, LD_REPAIRED);
	assert_true(fact_of(F_CLAIM, 1)->person == ka);
	assert_int_equal(fact_of(F_CLAIM, 1)->link, LINK_REPAIRED);
	assert_int_equal(link_of(F_CLAIM, 2)->decision, LD_REPAIRED);
	assert_true(fact_of(F_CLAIM, 2)->person == ka);
	assert_int_equal(link_of(F_CLAIM, 3)->decision, LD_AMBIGUOUS);
	assert_null(fact_of(F_CLAIM, 3));
	assert_non_null(strstr(reject_of(F_CLAIM, 3)->reason, "ambiguous ID number"));
	assert_non_null(strstr(reject_of(F_CLAIM, 3)->reason, "2 register persons"));
	assert_int_equal(link_of(F_CLAIM, 4)->decision, LD_NO_MATCH);
	assert_non_null(strstr(reject_of(F_CLAIM, 4)->reason, "no register person one typing error away"));
	assert_int_equal(link_of(F_CLAIM, 5)->decision, LD_REPAIRED);
	assert_true(fact_of(F_CLAIM, 5)->person == ka);
	assert_int_equal(link_of(F_CLAIM, 6)->decision, LD_REPAIRED);
	assert_true(fact_of(F_CLAIM, 6)->person == ka);
	assert_int_equal(link_of(F_CLAIM, 7)->decision, LD_REPAIRED);
	assert_true(fact_of(F_CLAIM, 7)->person == idnum_key(c));
	(void) kb;
	/* the ambiguous record is put up for review with both candidates */
	int			nrev = 0;
	const ReviewRow *rr = w.res.reviews.data;
	for (size_t i = 0; i < w.res.reviews.len; i++)
		nrev += rr[i].record == 3 && rr[i].file == F_CLAIM && rr[i].outcome == LD_AMBIGUOUS;
	assert_int_equal(nrev, 2);
	world_free();
}

/* ---- the scorer ---- */

static void
test_namesakes_to_verify(void **state)
{
	char		a[19],
				b[19];

	(void) state;
	world_init();
	/* two living namesakes: same name, sex and birth date, different homes */
	valid_id("22240119600702292", a);
	valid_id("22242419600702982", b);
	add_person(a, "李英淑", SEX_FEMALE, date_from_ymd(1960, 7, 2), "延吉市公园街道月光社区长白山路80号", false);
	add_person(b, "李英淑", SEX_FEMALE, date_from_ymd(1960, 7, 2), "延吉市依兰镇英城村2组45号", false);
	/* a cremation record without ID that fits both equally */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "李英淑", SEX_FEMALE, date_from_ymd(1960, 7, 2), -1, NULL);
	/* the same record with one of the homes: that one is clearly the person */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "李英淑", SEX_FEMALE, date_from_ymd(1960, 7, 2), -1,
		 "延吉市依兰镇英城村2组45号");
	/* in traditional characters, with age instead of birth date */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "李英淑", SEX_FEMALE, DAY_NONE, 65, "延吉市依蘭鎮英城村2組45號");
	/* nobody like this on the register */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "欧阳修", SEX_MALE, date_from_ymd(1907, 8, 1), -1, NULL);
	link_all();

	const LinkRow *l = link_of(F_DEATH, 1);
	assert_int_equal(l->decision, LD_TO_VERIFY);
	assert_true(fabs(l->weight - l->second) < 1e-9);
	assert_int_equal(fact_of(F_DEATH, 1)->link, LINK_PROBABLE);

	l = link_of(F_DEATH, 2);
	assert_int_equal(l->decision, LD_PROBABLE);
	assert_true(fact_of(F_DEATH, 2)->person == idnum_key(b));
	assert_int_equal(fact_of(F_DEATH, 2)->link, LINK_PROBABLE);

	l = link_of(F_DEATH, 3);
	assert_int_equal(l->decision, LD_PROBABLE);
	assert_true(fact_of(F_DEATH, 3)->person == idnum_key(b));

	assert_int_equal(link_of(F_DEATH, 4)->decision, LD_NO_MATCH);
	assert_non_null(strstr(reject_of(F_DEATH, 4)->reason, "no match"));

	/* every probabilistic outcome is stored for review, with per-comparison weights */
	bool		seen = false;
	const ReviewRow *rr = w.res.reviews.data;
	for (size_t i = 0; i < w.res.reviews.len; i++)
		if (rr[i].file == F_DEATH && rr[i].record == 1) {
			assert_int_equal(rr[i].outcome, LD_TO_VERIFY);
			assert_non_null(strstr(rr[i].levels, "\"name\":{\"level\":\"exact\""));
			seen = true;
		}
	assert_true(seen);
	world_free();
}

/* ---- blocking: blocks over max_block are refined, a record whose every block is over it
 * falls back on the smallest, and what is skipped is counted ---- */

static void
test_block_cap(void **state)
{
	static const char *const addr[] = {
		"延吉市河南街道新丰社区白川街1号", "延吉市北山街道光新社区友谊路2号", "延吉市公园街道月光社区长白山路3号",
		"延吉市新兴街道杏林社区人民路4号", "延吉市进学街道丹英社区民安路5号", "延吉市依兰镇英城村2组6号",
	};
	char		id[19],
				first[18];
	PersonKey	key[6];

	(void) state;
	world_init();
	/* six namesakes born the same day, in six townships */
	for (int i = 0; i < 6; i++) {
		snprintf(first, sizeof first, "2224011950050577%d", i);
		valid_id(first, id);
		key[i] = add_person(id, "朴英姬", SEX_FEMALE, date_from_ymd(1950, 5, 5), addr[i], i == 2);
	}
	/* 1: with the address of the third: its blocks of six are refined by township */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "朴英姬", SEX_FEMALE, date_from_ymd(1950, 5, 5), -1, addr[2]);
	/* 2: no address: every block is over the cap, even the finest it has: it falls back on
	 * the smallest, and is a namesake tie to verify, not a reject */
	pend(F_DEATH, NULL, IDNUM_EMPTY, "朴英姬", SEX_FEMALE, date_from_ymd(1950, 5, 5), -1, NULL);
	link_all_with(rules_with("max_block = 2\nmax_fallback_block = 50\n"));
	rules_rm();

	assert_true(w.res.stats.refined_keys > 0);
	assert_int_equal(w.res.stats.fallback_records, 1);
	assert_true(w.res.stats.fallback_pairs >= 6);
	const LinkRow *l = link_of(F_DEATH, 1);
	assert_int_equal(l->decision, LD_PROBABLE);
	assert_true(l->key == key[2]);
	l = link_of(F_DEATH, 2);
	assert_int_equal(l->decision, LD_TO_VERIFY);
	/* the six were its candidates: all up for review (three stored) */
	int			n = 0;
	const ReviewRow *rr = w.res.reviews.data;
	for (size_t i = 0; i < w.res.reviews.len; i++)
		n += rr[i].file == F_DEATH && rr[i].record == 2 && rr[i].candidate != PERSON_KEY_NONE;
	assert_int_equal(n, 3);
	world_free();

	/* the same with a fallback cap below the smallest block: the pairs are skipped, counted,
	 * and the record is a reject that says so */
	world_init();
	for (int i = 0; i < 6; i++) {
		snprintf(first, sizeof first, "2224011950050577%d", i);
		valid_id(first, id);
		add_person(id, "朴英姬", SEX_FEMALE, date_from_ymd(1950, 5, 5), addr[i], false);
	}
	pend(F_DEATH, NULL, IDNUM_EMPTY, "朴英姬", SEX_FEMALE, date_from_ymd(1950, 5, 5), -1, NULL);
	link_all_with(rules_with("max_block = 2\nmax_fallback_block = 3\n"));
	rules_rm();
	assert_int_equal(w.res.stats.fallback_records, 0);
	assert_true(w.res.stats.skipped_blocks >= 3);
	assert_true(w.res.stats.skipped_pairs >= 18);
	assert_int_equal(link_of(F_DEATH, 1)->decision, LD_NO_MATCH);
	assert_non_null(strstr(reject_of(F_DEATH, 1)->reason, "no match"));
	world_free();
}

/* ---- a sign of life after the death tells namesakes apart; a person not on the register is
 * no one's death ---- */

static void
test_sign_of_life(void **state)
{
	char		a[19],
				b[19],
				c[19];

	(void) state;
	world_init();
	/* half the register has a medical claim in September 2026 (so that being seen alive after a
	 * death is common among random pairs, as in a real register) */
	const Person *ps = w.st.persons.data;
	for (size_t i = 0; i < w.st.persons.len; i += 2)
		add_fact(ps[i].key, FK_MEDICAL_CLAIM, date_from_ymd(2026, 9, 1));
	/* two namesakes, same name, sex and birth date, same village: one was at the doctor's in
	 * October 2026, after the death recorded in March */
	valid_id("22240119520809302", a);
	valid_id("22240119520809304", b);
	PersonKey	ka = add_person(a, "崔顺姬", SEX_FEMALE, date_from_ymd(1952, 8, 9), "延吉市依兰镇英城村2组45号", false);
	PersonKey	kb = add_person(b, "崔顺姬", SEX_FEMALE, date_from_ymd(1952, 8, 9), "延吉市依兰镇英城村3组12号", false);
	add_fact(ka, FK_MEDICAL_CLAIM, date_from_ymd(2026, 10, 20));
	pend(F_DEATH, NULL, IDNUM_EMPTY, "崔顺姬", SEX_FEMALE, DAY_NONE, 73, "延吉市依兰镇英城村");
	/* a person not on the register, cremated here: a namesake of a living person of another
	 * age and township is nobody */
	valid_id("22240119800101502", c);
	add_person(c, "许美善", SEX_FEMALE, date_from_ymd(1980, 1, 1), "延吉市北山街道光新社区友谊路9号", false);
	pend(F_DEATH, NULL, IDNUM_EMPTY, "许美善", SEX_FEMALE, DAY_NONE, 62, "龙井市东盛涌镇仁化村1组3号");
	link_all();

	const LinkRow *l = link_of(F_DEATH, 1);
	assert_true(l->decision == LD_PROBABLE || l->decision == LD_TO_VERIFY);
	assert_true(l->key == kb);			/* not the one seen alive */
	assert_true(l->second < l->weight - 4.0);
	/* the review rows say why: the other was seen alive */
	bool		seen = false;
	const ReviewRow *rr = w.res.reviews.data;
	for (size_t i = 0; i < w.res.reviews.len; i++)
		if (rr[i].file == F_DEATH && rr[i].record == 1 && rr[i].candidate == ka)
			seen = strstr(rr[i].levels, "\"sign_of_life\":{\"level\":\"alive_after_date\"") != NULL;
	assert_true(seen);
	assert_int_equal(link_of(F_DEATH, 2)->decision, LD_NO_MATCH);
	assert_null(fact_of(F_DEATH, 2));
	world_free();

	/* without the comparison the two namesakes are a tie, to verify */
	world_init();
	ka = add_person(a, "崔顺姬", SEX_FEMALE, date_from_ymd(1952, 8, 9), "延吉市依兰镇英城村2组45号", false);
	add_person(b, "崔顺姬", SEX_FEMALE, date_from_ymd(1952, 8, 9), "延吉市依兰镇英城村3组12号", false);
	add_fact(ka, FK_MEDICAL_CLAIM, date_from_ymd(2026, 10, 20));
	pend(F_DEATH, NULL, IDNUM_EMPTY, "崔顺姬", SEX_FEMALE, DAY_NONE, 73, "延吉市依兰镇英城村");
	link_all_with(rules_with("sign_of_life = none\n"));
	rules_rm();
	l = link_of(F_DEATH, 1);
	assert_int_equal(l->decision, LD_TO_VERIFY);
	assert_true(fabs(l->weight - l->second) < 1e-9);
	world_free();
}

static void
test_decide(void **state)
{
	LinkConfig	c = {.link_probability = 0.99, .link_margin = 6, .review_probability = 0.5};
	LinkChoice	ch;
	double		same[] = {20, 20},
				clear[] = {20, 5},
				low[] = {-5},
				close2[] = {3, 20, 17};

	(void) state;
	assert_int_equal(identity_decide(&c, same, 2, &ch), LD_TO_VERIFY);
	assert_true(ch.p_best < 0.51 && ch.margin == 0.0);
	assert_int_equal(identity_decide(&c, clear, 2, &ch), LD_PROBABLE);
	assert_int_equal(ch.best, 0);
	assert_int_equal(identity_decide(&c, low, 1, &ch), LD_NO_MATCH);
	assert_int_equal(identity_decide(&c, NULL, 0, &ch), LD_NO_MATCH);
	assert_int_equal(identity_decide(&c, close2, 3, &ch), LD_TO_VERIFY);
	assert_int_equal(ch.best, 1);
	assert_int_equal(ch.second, 2);
	assert_true(fabs(ch.margin - 3.0) < 1e-12);
}

static void
test_compare_levels(void **state)
{
	LinkConfig	c = {.name_close = 0.8, .register_death = true};
	NameNorm   *nn;
	CbError		err;
	Arena		a;
	IdEvidence	r,
				p;
	uint8_t		g[CMP_COUNT];
	Day			d = date_from_ymd(2026, 3, 1);

	(void) state;
	nn = names_open("hk2s.json", &err);
	assert_non_null(nn);
	arena_init(&a, 4096);
	identity_evidence(nn, &a, &p, "金哲洙", SEX_MALE, date_from_ymd(1950, 4, 7), -1, DAY_NONE,
					  "延吉市依兰镇英城村2组45号", "222401101207");
	p.dead = true;

	identity_evidence(nn, &a, &r, "金哲洙", SEX_MALE, date_from_ymd(1950, 4, 7), -1, d,
					  "延吉市依兰镇英城村2组45号", NULL);
	r.is_death = true;
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_NAME], 3);
	assert_int_equal(g[CMP_SEX], 1);
	assert_int_equal(g[CMP_BIRTH], 4);
	assert_int_equal(g[CMP_AGE], FS_NULL);		/* the birth date says it all */
	assert_int_equal(g[CMP_ADDRESS], 3);
	assert_int_equal(g[CMP_REGISTER_DEATH], 1);

	identity_evidence(nn, &a, &r, "金喆洙", SEX_FEMALE, date_from_ymd(1950, 4, 8), -1, d,
					  "延吉市依兰镇英城村", NULL);
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_NAME], 2);			/* same pinyin */
	assert_int_equal(g[CMP_SEX], 0);
	assert_int_equal(g[CMP_BIRTH], 3);			/* a day off */
	assert_int_equal(g[CMP_ADDRESS], FS_NULL);	/* the address names the village and no more: */
	assert_int_equal(g[CMP_PLACE], 2);			/* a place, in the same village */
	assert_int_equal(g[CMP_REGISTER_DEATH], FS_NULL);	/* not a death record */

	identity_evidence(nn, &a, &r, "金哲浩", 0xFF, date_from_ymd(1950, 7, 4), -1, d,
					  "延吉市依兰镇东明村", NULL);
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_NAME], 1);			/* close */
	assert_int_equal(g[CMP_SEX], FS_NULL);
	assert_int_equal(g[CMP_BIRTH], 2);			/* day and month swapped */
	assert_int_equal(g[CMP_PLACE], 1);			/* same township */

	identity_evidence(nn, &a, &r, "李英姬", SEX_MALE, date_from_ymd(1950, 12, 30), -1, d,
					  "延吉市北山街道光新社区", NULL);
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_NAME], 0);
	assert_int_equal(g[CMP_BIRTH], 1);			/* same year */
	assert_int_equal(g[CMP_PLACE], 0);

	/* age only: 75 on 2026-03-01 for a man born 1950-04-07 is consistent, 76 one off */
	identity_evidence(nn, &a, &r, "金哲洙", SEX_MALE, DAY_NONE, 75, d, NULL, "222401101207");
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_AGE], 2);
	assert_int_equal(g[CMP_BIRTH], FS_NULL);
	assert_int_equal(g[CMP_PLACE], 2);			/* the division code: same village */
	assert_int_equal(g[CMP_ADDRESS], FS_NULL);
	identity_evidence(nn, &a, &r, "金哲洙", SEX_MALE, DAY_NONE, 76, d, NULL, NULL);
	identity_compare(&c, &r, &p, g);
	assert_int_equal(g[CMP_AGE], 1);
	assert_int_equal(g[CMP_ADDRESS], FS_NULL);
	assert_int_equal(g[CMP_PLACE], FS_NULL);
	arena_free(&a);
	names_close(nn);
}

/* ---- EM ---- */

static double
unit(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (double) (*s >> 11) / 9007199254740992.0;
}

static int
draw(uint64_t *s, const double *p, int n)
{
	double		u = unit(s),
				acc = 0;

	for (int l = n - 1; l > 0; l--) {
		acc += p[l];
		if (u < acc)
			return l;
	}
	return 0;
}

static void
synthetic_model(FsModel *fm, double truth_m[3][FS_MAX_LEVELS])
{
	static const double m[3][3] = {{0.02, 0.08, 0.90}, {0.05, 0.95, 0}, {0.10, 0.20, 0.70}};
	static const double u[3][3] = {{0.90, 0.09, 0.01}, {0.50, 0.50, 0}, {0.80, 0.15, 0.05}};
	static const int nl[3] = {3, 2, 3};

	memset(fm, 0, sizeof *fm);
	fm->ncomp = 3;
	fm->tf_min = 1e-6;
	for (int c = 0; c < 3; c++) {
		fm->comp[c].nlevels = nl[c];
		for (int l = 0; l < nl[c]; l++) {
			truth_m[c][l] = m[c][l];
			fm->comp[c].u[l] = u[c][l];
			fm->comp[c].m[l] = 1.0 / nl[c];		/* EM starts from nothing */
		}
	}
}

static void
test_em_converges(void **state)
{
	FsModel		fm;
	double		tm[3][FS_MAX_LEVELS];
	size_t		n = 40000;
	uint8_t    *g = malloc(n * 3);
	uint64_t	s = 99;
	FsEmResult	er;

	(void) state;
	synthetic_model(&fm, tm);
	/* independent pairs, 25 % matches */
	for (size_t p = 0; p < n; p++) {
		bool		match = unit(&s) < 0.25;
		for (int c = 0; c < 3; c++)
			g[p * 3 + c] = (uint8_t) draw(&s, match ? tm[c] : fm.comp[c].u, fm.comp[c].nlevels);
		if (unit(&s) < 0.1)
			g[p * 3 + 2] = FS_NULL;	/* some missing values */
	}
	/* the first comparison's m must be set apart from u to start: nudge it */
	fm.comp[0].m[2] = 0.5;
	fm.comp[0].m[1] = 0.3;
	fm.comp[0].m[0] = 0.2;
	assert_true(fs_em(&fm, g, NULL, n, 0x7, 0.5, 500, 1e-7, &er));
	assert_true(er.converged);
	assert_true(fabs(er.lambda - 0.25) < 0.02);
	for (int c = 0; c < 3; c++)
		for (int l = 0; l < fm.comp[c].nlevels; l++)
			assert_true(fabs(fm.comp[c].m[l] - tm[c][l]) < 0.02);
	free(g);
}

static void
test_em_one_match_per_record(void **state)
{
	FsModel		fm;
	double		tm[3][FS_MAX_LEVELS];
	size_t		nrec = 6000,
				k = 5,
				n = nrec * k;
	uint8_t    *g = malloc(n * 3);
	uint32_t   *grp = malloc(n * sizeof(uint32_t));
	uint64_t	s = 7;
	FsEmResult	er;

	(void) state;
	synthetic_model(&fm, tm);
	/* five candidates per record, exactly one of them the person */
	for (size_t r = 0; r < nrec; r++)
		for (size_t j = 0; j < k; j++) {
			size_t		p = r * k + j;
			grp[p] = (uint32_t) r;
			for (int c = 0; c < 3; c++)
				g[p * 3 + c] = (uint8_t) draw(&s, j == 0 ? tm[c] : fm.comp[c].u, fm.comp[c].nlevels);
		}
	fm.comp[0].m[2] = 0.5;
	fm.comp[0].m[1] = 0.3;
	fm.comp[0].m[0] = 0.2;
	assert_true(fs_em(&fm, g, grp, n, 0x7, 0.5, 500, 1e-7, &er));
	assert_true(er.converged);
	assert_true(fabs(er.lambda - 0.2) < 0.02);
	for (int c = 0; c < 3; c++)
		for (int l = 0; l < fm.comp[c].nlevels; l++)
			assert_true(fabs(fm.comp[c].m[l] - tm[c][l]) < 0.03);
	/* nothing to estimate: false, model untouched */
	assert_false(fs_em(&fm, g, grp, n, 0, 0.5, 10, 1e-7, &er));
	assert_false(fs_em(&fm, g, grp, 0, 0x7, 0.5, 10, 1e-7, &er));
	free(g);
	free(grp);
}

/* ---- the extract layer hands unusable IDs on to linkage ---- */

static ExtStatus
extract_one(const char *def_text, const char *data, CanonRecord *rec, SourceDef *def, Extract **ex)
{
	CbError		err;

	if (*ex == NULL) {
		if (!sourcedef_parse("t.conf", def_text, strlen(def_text), def, &err))
			fail_msg("definition: %s: %s", err.input_at, err.message);
		*ex = extract_open_mem(def, "data.csv", data, strlen(data), &err);
		if (*ex == NULL)
			fail_msg("extract_open_mem: %s", err.message);
	}
	return extract_next(*ex, rec, &err);
}

static void
test_extract_pass_through(void **state)
{
	static const char death_def[] =
		"[source]\nname = crem\nfact = death\nevidence = civil\nfiles = c.csv\n"
		"[fields]\nid_number = 身份证号码 | idnum\nname = 姓名 | name\n"
		"age = 年龄 | int\naddress = 住址 | trim\ndeath_date = 死亡日期 | date\n";
	static const char death_data[] =
		"身份证号码,姓名,年龄,住址,死亡日期\n"
		",金哲洙,75,延吉市依兰镇英城村2组45号,2026-03-01\n"		/* no ID: linkage */
		",,75,延吉市依兰镇英城村2组45号,2026-03-01\n"			/* no ID, no name: reject */
		"222401196103163486,金哲洙,65,,2026-03-01\n"			/* wrong check digit: repair */
		"12345,金哲洙,65,,2026-03-01\n"						/* garbage: reject */
		"２２２４０１１９６１０３１６３４８５,金哲洙,65,,2026-03-01\n"	/* full width: valid */
		/* full width with spaces and two digits swapped: handed on for repair in ASCII */
		"２２２４０１　１９６１０３６１　３４８５,金哲洙,65,,2026-03-01\n";
	static const char reg_def[] =
		"[source]\nname = reg\nfact = register\nfiles = r.csv\n"
		"[fields]\nid_number = 身份证号码 | idnum\ndivision = 区划 | trim\n"
		"status = 状态 | code(正常:active)\n";
	SourceDef	def;
	Extract    *ex = NULL;
	CanonRecord rec;

	(void) state;
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_OK);
	assert_int_equal(rec.id_status, IDNUM_EMPTY);
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_REJECT);
	assert_non_null(strstr(rec.reason, "missing ID number and no name"));
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_OK);
	assert_int_equal(rec.id_status, IDNUM_BAD_CHECK);
	assert_string_equal(rec.v[0].text, "222401196103163486");
	assert_true(rec.v[0].num == 0);
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_REJECT);
	assert_non_null(strstr(rec.reason, "invalid ID number \"12345\""));
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_OK);
	assert_int_equal(rec.id_status, IDNUM_OK);
	assert_true(rec.id_rewritten);
	assert_int_equal(extract_one(death_def, death_data, &rec, &def, &ex), EXT_OK);
	assert_true(rec.id_status == IDNUM_BAD_DATE || rec.id_status == IDNUM_BAD_CHECK);
	assert_string_equal(rec.v[0].text, "222401196103613485");
	extract_close(ex);
	sourcedef_free(&def);

	/* the register defines the persons: its IDs are never repaired */
	ex = NULL;
	assert_int_equal(extract_one(reg_def, "身份证号码,区划,状态\n222401196103163486,222401001001,正常\n",
								 &rec, &def, &ex), EXT_REJECT);
	assert_non_null(strstr(rec.reason, "wrong check digit"));
	extract_close(ex);
	sourcedef_free(&def);
}

/* ---- rules/linkage.conf ---- */

static char *
shipped_conf(void)
{
	char		path[512];
	FILE	   *f;
	char	   *buf = calloc(1, 65536);

	snprintf(path, sizeof path, "%s/linkage.conf", rules_dir());
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void
conf_fails(const char *text, const char *at, const char *msg)
{
	LinkConfig	c;
	CbError		err;

	assert_false(linkconf_parse("l.conf", text, &c, &err));
	if (strstr(err.input_at, at) == NULL || strstr(err.message, msg) == NULL)
		fail_msg("got %s: %s", err.input_at, err.message);
}

static void
test_linkconf(void **state)
{
	LinkConfig	c;
	CbError		err;
	char	   *text = shipped_conf(),
				buf[70000];

	(void) state;
	assert_true(linkconf_parse("linkage.conf", text, &c, &err));
	assert_true(c.repair && c.register_death);
	assert_true(c.link_probability > c.review_probability);
	/* the blocking rules as written, with their finer keys */
	assert_true(c.nrules >= 4);
	assert_true(c.max_block > 0 && c.max_fallback >= c.max_block);
	char		rule[160];
	identity_block_rule_text(&c.rules[0], -1, rule, sizeof rule);
	assert_string_equal(rule, "birth_date+sex>surname>township");
	identity_block_rule_text(&c.rules[0], 0, rule, sizeof rule);
	assert_string_equal(rule, "birth_date+sex");
	assert_true(c.em_max_records > 0);
	assert_true(fabs(c.m_start[CMP_NAME][3] - 0.90) < 1e-9);	/* exact is the strongest level */

	snprintf(buf, sizeof buf, "%sfrobnicate = 1\n", text);
	conf_fails(buf, "l.conf:", "unknown linkage parameter \"frobnicate\"");
	snprintf(buf, sizeof buf, "%sprior = 0.5\n", text);
	conf_fails(buf, "l.conf:", "prior is set twice");
	conf_fails("repair = yes\n", "l.conf", "is missing");
	conf_fails("repair = maybe\n", "l.conf:1:10", "expected yes or no");
	conf_fails("link_margin = 6 nats\n", "l.conf:1:17", "unexpected \"nats\"");
	conf_fails("blocking = birth_date+sex, by_phone\n", "l.conf:1:28", "unknown blocking field \"by_phone\"");
	conf_fails("blocking = name+name\n", "l.conf:1:17", "appears twice");
	conf_fails("blocking = name > \n", "l.conf:1:18", "expected a blocking field");
	conf_fails("blocking = name, \n", "l.conf:1:17", "expected a blocking rule");
	conf_fails("blocking = sex > name > pinyin > surname > village\n", "l.conf:1:", "more than 3 finer keys");
	conf_fails("blocking = sex ; name\n", "l.conf:1:16", "unexpected \";\"");
	conf_fails("max_block = 0\n", "l.conf:1:13", "at least 1");
	conf_fails("m_sex = 0.5\n", "l.conf:1:9", "m_sex takes 2 probabilities");
	conf_fails("m_sex = 0.5, 0.6\n", "l.conf:1:9", "add up to 1.100");
	conf_fails("prior = 1.5\n", "l.conf:1:9", "between 0 and 1");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_namesakes_to_verify),
		cmocka_unit_test(test_block_cap),
		cmocka_unit_test(test_sign_of_life),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_compare_levels),
		cmocka_unit_test(test_em_converges),
		cmocka_unit_test(test_em_one_match_per_record),
		cmocka_unit_test(test_extract_pass_through),
		cmocka_unit_test(test_linkconf),
	};

	return cmocka_run_group_tests_name("linkage", tests, NULL, NULL);
}
