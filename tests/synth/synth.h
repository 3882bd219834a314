/*
 * synth.h — the synthetic Yanji generator: shared types and module contracts.
 *
 * The generator streams one household at a time: it composes the household
 * (population.c), gives every member a life (population.c, scenario.c),
 * writes that member's rows to every agency extract (emit.c, through
 * sink.c) and hands the facts those rows state to the truth (truth.c), which
 * evaluates the policy on them.  Only the current household, the ID sequence
 * table and the truth rows stay in memory, so 24 million persons fit.
 *
 * Everything is deterministic for a seed: every household, person and file
 * draws from its own xoshiro256** stream derived from (seed, stream, index);
 * rand() and the clock are never used.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256**, seeded through splitmix64.            */
/* ------------------------------------------------------------------ */
typedef struct Rng { uint64_t s[4]; } Rng;

/* Seed r with a stream that depends only on (seed, stream, index). */
void rng_seed(Rng *r, uint64_t seed, uint64_t stream, uint64_t index);

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(Rng *r)
{
	uint64_t *s = r->s;
	const uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(Rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], both inclusive; lo <= hi. */
static inline int rng_range(Rng *r, int lo, int hi)
{
	return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static inline double rng_unit(Rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static inline bool rng_chance(Rng *r, double p) { return rng_unit(r) < p; }

/* Streams (the second argument of rng_seed). */
enum { STREAM_HOUSEHOLD = 1, STREAM_PERSON, STREAM_NOISE, STREAM_SINK, STREAM_PLACES };

/* ------------------------------------------------------------------ */
/* Dates: days since 1970-01-01 (int32); months as yyyymm (int).       */
/* ------------------------------------------------------------------ */
#define NO_DATE INT32_MIN

typedef enum { DS_YMD8, DS_ISO, DS_SLASH, DS_CN } DateStyle;  /* 20230105 2023-01-05 2023/1/5 2023年1月5日 */
typedef enum { MS_YM6, MS_DASH } MonthStyle;                  /* 202301 2023-01 */

int32_t date_make(int y, int m, int d);
void date_split(int32_t z, int *y, int *m, int *d);
bool date_is_leap(int y);
int date_days_in_month(int y, int m);
bool date_valid(int y, int m, int d);
int date_year(int32_t z);
/* Same day number n months later (n may be negative), clamped to the month's end. */
int32_t date_add_months(int32_t z, int n);
/* The day a person born on birth completes `years` years (29 Feb -> 1 Mar in common years). */
int32_t date_birthday(int32_t birth, int years);
/* Completed years on `on`. */
int date_age(int32_t birth, int32_t on);
int date_ym(int32_t z);
int ym_add(int ym, int n);
int32_t ym_first(int ym);
int32_t ym_last(int ym);
/* Format into buf (at least 24 bytes); returns the length written (NUL-terminated). */
size_t date_format(char *buf, int32_t z, DateStyle st);
size_t month_format(char *buf, int ym, MonthStyle st);
size_t money_format(char *buf, int64_t cents);            /* 1234.50 */
/* Parse YYYY-MM-DD; false when malformed or impossible. */
bool date_parse_iso(const char *s, int32_t *out);

/* ------------------------------------------------------------------ */
/* Places: Yanji's townships, communities and villages, and the other  */
/* divisions of Yanbian that a few register rows belong to.            */
/* ------------------------------------------------------------------ */
typedef enum { LV_TOWNSHIP, LV_COMMUNITY, LV_VILLAGE } Level;

typedef struct Division {
	char code[13];          /* 9-digit township or 12-digit community / village */
	char name[48];          /* 进学街道, 丹英社区, 五凤村 */
	uint8_t level;          /* Level */
	int township;           /* index of the township (itself for a township) */
	int county;             /* index into the county table */
	double weight;          /* share of the population (units only) */
	bool collective;        /* village collective subsidises contributions */
	int collective_yuan;    /* its yearly subsidy per contributor */
} Division;

/* Build the (seed-independent) division table; idempotent. */
void places_init(void);
int places_count(void);
const Division *places_get(int i);
/* Units (communities and villages) in generation order. */
int places_unit_count(void);
int places_unit(int k);                 /* division index of the k-th unit */
const char *places_county_code(int county);
const char *places_county_name(int county);
bool places_in_city(int div);           /* unit or township under 222401 */
/* The household's address in the unit; buf of at least 160 bytes. */
void places_address(char *buf, size_t cap, int unit, Rng *r);

/* ------------------------------------------------------------------ */
/* Names and ethnicity.                                                */
/* ------------------------------------------------------------------ */
typedef enum { ETH_KOREAN, ETH_HAN, ETH_MANCHU, ETH_HUI, ETH_MONGOL, ETH_COUNT } Ethnicity;

const char *names_ethnicity(int eth);                      /* 朝鲜族 ... */
uint16_t names_pick_surname(Rng *r, int eth);
uint16_t names_pick_given(Rng *r, int eth, int sex, int birth_year);
const char *names_surname(uint16_t code);
const char *names_given(uint16_t code);
/* "金哲洙" into buf (at least 32 bytes); returns length. */
size_t names_full(char *buf, uint16_t surname, uint16_t given);
/* Replace simplified characters by traditional / variant ones, each with
 * probability p; returns true when something changed. */
bool names_variant(char *buf, size_t cap, const char *in, Rng *r, double p);
/* Another office's spelling of a given name: a character with the same Mandarin
 * reading (probability p_homo per character that has one) or, for a
 * Korean-Chinese name, one with the same Korean reading (p_korean). */
bool names_respell(char *buf, size_t cap, const char *given, bool korean, Rng *r, double p_homo, double p_korean);

/* ------------------------------------------------------------------ */
/* GB 11643-1999 citizen ID numbers.                                   */
/* ------------------------------------------------------------------ */
typedef struct IdTable {
	uint16_t *next;         /* [place][day][sex] issued so far */
	int nplaces;
	int32_t day0;
	int ndays;
} IdTable;

bool idnum_init(IdTable *t, int32_t first_day, int32_t last_day);
void idnum_free(IdTable *t);
/* Issue a unique ID for (place, birth, sex 1=male 2=female) into out[19];
 * when the place's sequence for that day is exhausted, the next places are
 * tried.  False only when every place is exhausted for that day. */
bool idnum_issue(IdTable *t, int place, int32_t birth, int sex, char out[19]);
char idnum_check(const char *first17);
int idnum_place_count(void);
const char *idnum_place_code(int place);
int idnum_place_of_county(int county);

/* ------------------------------------------------------------------ */
/* Facts: what one clean extract row says, in canonical form.  The     */
/* emitters hand them to the truth; nothing else reaches it.           */
/* ------------------------------------------------------------------ */
typedef enum {
	FK_DEATH, FK_RESIDENT, FK_PAYMENT, FK_EMP_PENSION, FK_INST_PENSION, FK_STUDENT,
	FK_PRISON, FK_DISABILITY, FK_DIBAO, FK_TEKUN, FK_POOR, FK_PROVIDENT, FK_EMP_MEDICAL,
	FK_CLAIM, FK_ROSTER, FK_TAX, FK_CERT, FK_COUNT
} FactKind;

/* Evidence codes in the byte order of their names (truth sorts by it). */
typedef enum { EV_CIVIL, EV_COURT, EV_HEALTH, EV_MEDICAL, EV_POLICE, EV_COUNT } Evidence;
typedef enum { RS_CONTRIBUTING, RS_RECEIVING, RS_SUSPENDED, RS_TERMINATED } ResidentStatus;
typedef enum { PT_PRISON, PT_COMMUNITY } PrisonType;
typedef enum { TT_PERSONAL, TT_COLLECTIVE, TT_DONOR } TaxType;
typedef enum { CR_NONE, CR_DEATH, CR_MOVED_OUT, CR_OTHER } CancelReason;

#define NO_MONEY INT64_MIN

/*
 * kind      code           d1               d2              a1       a2      a3
 * DEATH     Evidence       death date       -               -        -       -
 * RESIDENT  ResidentStatus start date       benefit yyyymm  monthly  basic   -
 * PAYMENT   -              month yyyymm     -               basic    account total
 * PRISON    PrisonType     start            end             -        -       -
 * DISABILITY grade         start            end             -        -       -
 * PROVIDENT -              month yyyymm     -               amount   -       -
 * CLAIM     -              date             -               amount   -       -
 * TAX       TaxType        date             -               amount   -       -
 * CERT      -              date             -               -        -       -
 * others    -              start            end (NO_DATE)   -        -       -
 */
typedef struct Fact {
	uint8_t kind;
	uint8_t code;
	int32_t d1, d2;
	int64_t a1, a2, a3;
} Fact;

typedef struct RegisterFact {
	bool present;
	bool active;            /* status active (else cancelled) */
	uint8_t reason;         /* CancelReason */
	int32_t birth;
	int32_t cancel_date;
	char division[13];
	char household[16];
} RegisterFact;

#define BUNDLE_MAX 1024

typedef struct Bundle {
	char id[19];            /* the person's true ID number */
	RegisterFact reg;
	int n;
	bool overflow;
	Fact f[BUNDLE_MAX];
} Bundle;

void bundle_reset(Bundle *b, const char *id);
void bundle_add(Bundle *b, int kind, int code, int32_t d1, int32_t d2,
		int64_t a1, int64_t a2, int64_t a3);

/* ------------------------------------------------------------------ */
/* Sinks: one extract file each, in the format its agency delivers     */
/* (CSV, XML, XLSX, fixed width, JSON Lines; UTF-8, GBK or GB18030;    */
/* optionally gzip-compressed).  The injection of malformed and        */
/* duplicate records lives here too.                                   */
/* ------------------------------------------------------------------ */
#define SINK_MAX_COLS 24
#define SINK_ROW_MAX 2048
#define SINK_DUP_SPAN 32                /* a duplicate repeats one of the last 32 records */
#define SINK_XLSX_PART_ROWS 1000000u    /* by default an XLSX source goes on in a further
					   workbook after this many records (a sheet holds
					   1,048,575 below its header) */

typedef enum { DK_NONE, DK_DATE, DK_MONTH } DateKind;
typedef enum { SF_CSV, SF_XML, SF_XLSX, SF_FIXED, SF_JSONL } SinkFormat;
typedef enum { SE_UTF8, SE_GBK, SE_GB18030 } SinkEncoding;
/* What a field value is: XLSX writes dates and amounts as numbers, JSON
 * writes amounts and integers as numbers; every other format writes text. */
typedef enum { VK_TEXT, VK_DATE, VK_MONTH, VK_MONEY, VK_INT, VK_NUMBER } ValueKind;

typedef struct SinkSpec {
	const char *stem;                       /* file: <stem>_<YYYYMMDD>.<ext>[.gz] */
	const char *agency;
	const char *ext;
	int ncols;
	const char *cols[SINK_MAX_COLS];        /* column names: the header of CSV and XLSX */
	int id_col;                             /* column of the ID number, -1 none */
	int date_col;                           /* a required date / month column, -1 none */
	DateKind date_kind;
	DateStyle date_style;
	MonthStyle month_style;
	uint8_t format;                         /* SinkFormat */
	uint8_t encoding;                       /* SinkEncoding (text formats) */
	bool gzip;
	int enc_col;                            /* GBK / GB18030: the (mapped) column in which a
						   malformed record has a character cut in half */
	/* csv */
	char delim;
	bool bom, crlf, quote_all;
	bool no_header;                         /* header-less: the last column must be mapped (a
						   malformed record lacks it) */
	/* xml, jsonl: text with ${N} (column N), ${D} (D as YYYY-MM-DD) and ${R}
	 * (records written, tail only) */
	const char *head, *tmpl, *tail;
	/* fixed */
	uint8_t width[SINK_MAX_COLS];
	bool chars;                             /* widths count characters, else bytes */
	/* xlsx */
	const char *sheet;
	const char *date_numfmt;                /* number format of date cells, or ... */
	int date_numfmt_index;                  /* ... a built-in one */
	const char *const *notes;               /* a first sheet 填表说明 with these lines */
	long shared_upto;                       /* Excel's own layout (a shared-string table, the
						   sheet held in memory) up to this many persons;
						   beyond, and when 0, streamed with inline strings */
} SinkSpec;

/* One record's raw field values. */
typedef struct SinkRow {
	int nf;
	uint16_t off[SINK_MAX_COLS + 1];
	uint8_t kind[SINK_MAX_COLS];            /* ValueKind */
	int64_t num[SINK_MAX_COLS];             /* day, yyyymm, cents or integer */
	char text[SINK_ROW_MAX];
} SinkRow;

typedef struct SinkImpl SinkImpl;               /* sink.c: the file, its format and layers */

typedef struct Sink {
	const SinkSpec *spec;
	char file[128];                         /* name inside extracts/ */
	/* the source's files before the current one (an XLSX source past
	 * SINK_XLSX_PART_ROWS records: name_D.xlsx, name_D_2.xlsx, ...), each
	 * with its counts; records, clean, malformed and duplicates below are
	 * the current file's */
	struct SinkFile { char file[128]; uint64_t records, malformed, duplicates; } *parts;
	int nparts;
	uint64_t part_rows;                     /* XLSX: records per file (set after sink_open) */
	SinkImpl *impl;
	SinkRow row;                            /* the record being built, then the last clean one */
	bool row_overflow;
	SinkRow dup;                            /* a clean record to write again ... */
	int dup_wait;                           /* ... after this many more clean records, -1 none */
	/* noise: the true ID of the record being built when it carries a garbled
	 * one (set by the caller, "" otherwise), and the hidden links of the
	 * injected copies of such records, for the caller to write */
	char row_link[19], dup_link[19];
	struct { uint64_t record; char id[19]; } links[8];
	int nlinks;
	uint64_t records;                       /* data records written, all kinds */
	uint64_t clean, malformed, duplicates;
	uint32_t kinds_done;                    /* malformation kinds injected so far */
	Rng rng;
	bool inject;
	bool failed;
} Sink;

bool sink_open(Sink *s, const SinkSpec *spec, const char *dir, const char *tag, int32_t asof,
	       long persons, uint64_t seed, int index, bool inject);
void sink_begin(Sink *s);
void sink_str(Sink *s, const char *v);
void sink_strn(Sink *s, const char *v, size_t n);
void sink_empty(Sink *s);
void sink_date(Sink *s, int32_t z, DateStyle st);     /* NO_DATE -> empty */
void sink_datetime(Sink *s, int32_t z, int secs);     /* 2023-01-05 08:30:00 */
void sink_month(Sink *s, int ym, MonthStyle st);      /* 0 -> empty */
void sink_money(Sink *s, int64_t cents);              /* NO_MONEY -> empty */
void sink_int(Sink *s, long v);
/* Finish the record, write it, maybe inject a malformed or duplicate record
 * after it.  Returns the 1-based record number of the clean record. */
uint64_t sink_end(Sink *s);
/* Top up the injections (in a file of >= 50 records at least one malformed
 * record of every kind the format allows, and one duplicate), finish the
 * file and close it.  False on an I/O error. */
bool sink_close(Sink *s);

/* ------------------------------------------------------------------ */
/* Persons and households (population.c, scenario.c).                  */
/* ------------------------------------------------------------------ */
typedef enum {
	SP_STUDENT, SP_EMP_PENSION, SP_INST_PENSION, SP_EMP_MEDICAL, SP_ROSTER, SP_PROVIDENT,
	SP_PRISON, SP_DISABILITY, SP_TEKUN
} SpellKind;

typedef struct Spell {
	uint8_t kind;           /* SpellKind */
	uint8_t sub;            /* student stage; prison 0 prison 1 community 2 life; disability grade */
	uint8_t sub2;           /* disability category; student status; prison: released */
	uint8_t court;          /* prison: a criminal judgement is in the court extract */
	int32_t start, end;     /* end NO_DATE = open */
	uint32_t extra;         /* employer / school / crime index; PF base yuan */
} Spell;

#define SPELL_MAX 16

typedef enum {
	REL_HEAD, REL_SPOUSE, REL_SON, REL_DAUGHTER, REL_FATHER, REL_MOTHER,
	REL_DIL, REL_SIL, REL_GRANDSON, REL_GRANDDAUGHTER, REL_OTHER
} Relation;

typedef enum { RAW_NONE, RAW_DEATH, RAW_MOVED, RAW_MILITARY, RAW_EMIGRATED } RawCancel;
typedef enum { RP_NONE = 0, RP_CONTRIB, RP_RECEIV, RP_SUSP, RP_TERM } RpStatus;
typedef enum { TAX_NORMAL, TAX_NONE, TAX_ABOVE_TIER, TAX_STRAY } TaxMode;

typedef struct Person {
	char id[19];
	int32_t birth;
	int age;                /* completed years on D */
	uint8_t sex;            /* 1 male, 2 female */
	uint8_t eth;
	uint8_t relation;
	uint8_t scenario;
	uint16_t surname, given;
	int issue;              /* place index of the ID */
	bool out_of_city;
	bool rural;             /* registered in an administrative village */
	bool abroad;            /* lives abroad: leaves no trace here */
	char phone[16];
	uint64_t index;         /* person number, 0-based */
	/* register */
	uint8_t reg_cancel;     /* RawCancel */
	int32_t cancel_date;
	/* death and what each agency knows of it (NO_DATE = nothing as of D) */
	int32_t death;
	int32_t ev_health;      /* certificate issue date */
	int32_t ev_civil;       /* cremation date */
	int32_t ev_medical;     /* settlement date of the in-hospital death */
	int32_t ev_court;       /* judgement date = declared death date */
	int32_t missing_since;  /* court: disappeared */
	/* resident pension */
	uint8_t rp;             /* RpStatus */
	uint8_t rp_reason;      /* index into the reason table */
	int32_t rp_start;
	int32_t rp_change;      /* suspension / termination date */
	int rp_benefit_ym;      /* 0 none */
	int rp_last_paid_ym;    /* payments for months <= this */
	int rp_gap_from, rp_gap_to; /* no payments in [from, to] (imprisonment) */
	int rp_tier;            /* yuan per year */
	int64_t rp_account;     /* personal-account part per month, cents */
	uint8_t pay_persist;    /* percent chance to pay in a year */
	uint8_t tax_mode;       /* TaxMode */
	/* signs of life */
	uint8_t claim_factor;   /* claims per year x10 */
	uint8_t cert_mode;      /* 0 none, 1 recent, 2 old */
	bool gov_paid;
	int nspells;
	Spell sp[SPELL_MAX];
} Person;

#define HH_MAX 8

typedef struct Household {
	int unit;               /* division index of the community / village */
	uint32_t number;        /* 户号 serial */
	char addr[160];
	int size;
	Person m[HH_MAX];
	bool dibao;
	uint8_t dibao_urban;
	int32_t dibao_start, dibao_end;
	int64_t dibao_cents;
	bool poor;
	uint8_t poor_kind;      /* 0 脱贫户 1 监测户 */
	int32_t poor_start, poor_end;
} Household;

/* ------------------------------------------------------------------ */
/* The generator's run context.                                        */
/* ------------------------------------------------------------------ */
typedef enum {
	SRC_POLICE_REGISTER, SRC_HEALTH_DEATH, SRC_CIVIL_CREMATION, SRC_CIVIL_DIBAO, SRC_CIVIL_TEKUN,
	SRC_COURT_DEATH, SRC_COURT_CRIMINAL, SRC_JUSTICE_CORRECTIONS, SRC_MEDICAL_INSURED,
	SRC_MEDICAL_CLAIMS, SRC_MEDICAL_DEATH, SRC_DISABILITY, SRC_POVERTY, SRC_EDUCATION,
	SRC_PROVIDENT, SRC_INDUSTRY_ROSTER, SRC_TAX, SRC_SI_RESIDENT, SRC_SI_PAYMENT,
	SRC_SI_EMPLOYEE, SRC_SI_INSTITUTION, SRC_SI_CERTIFICATION, SRC_REF_DIVISIONS, SRC_COUNT
} SourceId;

struct Truth;

typedef struct Stats {
	uint64_t persons, households, in_city, out_of_city, korean, male;
	uint64_t age_band[4];   /* 0-15, 16-59, 60-79, 80+ */
	uint64_t dead, dead_known, cancelled_death, moved_out, abroad;
	uint64_t rp[5];
	uint64_t scenarios_applied;
} Stats;

#define NOISE_RING 64

typedef struct Gen {
	/* arguments */
	uint64_t seed;
	int32_t asof;
	int asof_ym;
	int paid_ym;            /* last benefit month paid on or before D (paid on the 10th) */
	long persons;
	double noise;
	uint64_t xlsx_part_rows;                /* --xlsx-part-rows */
	const char *out_dir;
	char tag[9];            /* YYYYMMDD of D */
	/* outputs */
	Sink sinks[SRC_COUNT];
	FILE *hidden;           /* truth/hidden_links.csv, noise > 0 only */
	uint64_t hidden_rows;
	IdTable ids;
	Bundle bundle;
	struct Truth *truth;
	/* serial numbers per source */
	uint64_t serial[SRC_COUNT];
	/* scenarios (scenario.c) */
	uint32_t scenario_done;
	/* living-namesake noise: recently dead persons (name, sex, birth year, home), and recently
	 * seen living ones (whose namesakes from elsewhere may die here) */
	struct NoiseRing { uint16_t surname, given; uint8_t sex, eth; int year; int unit; char addr[160]; }
		dead_ring[NOISE_RING], live_ring[NOISE_RING];
	int dead_ring_n, live_ring_n;
	Stats st;
} Gen;

/* population.c */
/* Compose the next household of unit `unit` with at most `max_size` members. */
void pop_household(Gen *g, Household *h, int unit, int max_size, uint64_t hh_index);
/* Give p its life up to D: death, register, school, work, pensions, benefits. */
void pop_life(Gen *g, Household *h, Person *p, Rng *r);
int pop_spell_add(Person *p, int kind, int32_t start, int32_t end);
void pop_spell_clear(Person *p, int kind);
bool pop_spell_active(const Person *p, int kind, int32_t on);
int64_t pop_basic_cents(int year, int age);

/* scenario.c: the boundary cases every run contains. */
/* Pick a scenario for p (before its ID is issued); may change p's birth. */
void scenario_pick(Gen *g, Household *h, Person *p);
/* Override p's life for its scenario (after pop_life). */
void scenario_apply(Gen *g, Household *h, Person *p, Rng *r);
int scenario_count(void);
const char *scenario_name(int s);

/* emit.c: one emitter per source; each writes the person's rows and adds
 * the facts of its clean rows to g->bundle. */
extern const SinkSpec SOURCES[SRC_COUNT];
bool emit_open(Gen *g);
void emit_person(Gen *g, Household *h, Person *p, Rng *r, Rng *nr);
void emit_ref_divisions(Gen *g);
bool emit_close(Gen *g);

/* noise.c: the identity issue's hooks; all no-ops at noise 0. */
/* Write the ID as this record carries it into out[64]; returns true when it
 * differs from the true ID (then a hidden link is recorded by the caller).
 * drop: the chance per noise level that the record has no ID at all. */
bool noise_id(Gen *g, Rng *nr, const char *true_id, char *out, double drop);
/* p's name as an agency spells it (vr: that agency's stream for p): homophones,
 * Korean readings and spacing, traditional / variant characters. */
void noise_name(Gen *g, Rng *vr, const Person *p, char *out, size_t cap);
/* A date slip of a day or so in a secondary source; never beyond max. */
int32_t noise_date(Gen *g, Rng *nr, int32_t z, int32_t max);
/* A birth date written with day and month swapped (when both can be months). */
int32_t noise_birth(Gen *g, Rng *nr, int32_t birth);
/* A living person may take the name of a recently dead one (and then, at times,
 * the dead one's address too, when born the same year in the same unit). */
void noise_namesake(Gen *g, Rng *nr, Household *h, Person *p);
/* Remember p (after its rows are written) for the namesake noise. */
void noise_remember(Gen *g, const Household *h, const Person *p);
/* A person not on the register whose death a Yanji agency records (registered
 * elsewhere, cremated here): drawn per cremation record; false when none. */
typedef struct Stranger {
	char name[64];
	uint8_t sex;
	int32_t birth, death;
	char addr[160];
} Stranger;
bool noise_stranger(Gen *g, Rng *nr, Stranger *s);
/* The true ID of a record of a person not on the register: hidden_links.csv
 * gets an empty id_number (the right answer is "no match"). */
extern const char NOISE_NOT_ON_REGISTER[19];
void noise_link(Gen *g, int src, uint64_t record, const char *true_id);

#endif
