/*
 * identity — tie every record that did not come with a usable ID number to a person of the
 * household register, or reject it with a reason: ID repair, then probabilistic linkage.
 *
 * load_delivery() leaves such records pending (load.h: LoadReport.pending) together with
 * training copies of the records of kinds that can be linked without an ID (deaths).  After
 * every file is loaded, the register is complete and identity_link() resolves them:
 *
 *   1. ID repair: an ID that fails its check digit (or has an impossible birth date or region)
 *      is compared with the register numbers one substituted character or one swap of adjacent
 *      characters away (idrepair.h) that agree with the record's name (same normalised form,
 *      same pinyin or close, as repair_name says), sex, birth date and age when the record has
 *      them (no field at a level that is evidence against the same person).  Exactly one (or,
 *      of several, exactly one whose name agrees best): the fact is linked LINK_REPAIRED.
 *      Several: a reject "ambiguous ID number".  None: the record goes on to step 2 when its
 *      kind can be linked without ID, else a reject.
 *   2. Probabilistic linkage (Fellegi-Sunter): candidate persons from blocking rules; per pair
 *      a comparison vector (name exact / same pinyin / close, sex, birth date exact / ±1 day /
 *      day and month swapped / same year, age at the record's date, address exact / village /
 *      township (an address naming only a village, or a division code, is compared as a place:
 *      village / township, with m of its own), and for deaths whether the register already
 *      cancelled the person for death and whether the person showed a sign of life after the
 *      death's date: a medical claim or a proof-of-life certification linked by ID number, as
 *      sign_of_life says); u from random pairs, m by EM on the run's own records,
 *      term-frequency adjusted names.
 *      The best candidate is *probable* (linked) when its probability is at least
 *      link_probability and it leads the second by link_margin bits; *to verify* (linked, put
 *      up for clerical review) when its own probability reaches review_probability; otherwise
 *      the record is a reject "no match".  Both probable and to-verify facts carry
 *      LINK_PROBABLE: they are to-verify evidence only (POLICY.md list 2).
 *   3. Reviewers' decisions (canbao.match_review, `canbao review`) read at the start override
 *      the scores: "same person" links the record to that person, "different" removes the
 *      candidate.
 *
 * Every pending record ends as exactly one fact or one reject, and the file counts are
 * updated, so that for every file records read = accepted + duplicates + rejected again.
 * Parameters and thresholds come from rules/linkage.conf (linkconf.c).  The result lists what
 * happened to each record (links.csv) and the pairs to review (PostgreSQL).
 */
#ifndef CANBAO_IDENTITY_H
#define CANBAO_IDENTITY_H

#include <libpq-fe.h>
#include <stdio.h>

#include "arena.h"
#include "cberror.h"
#include "date.h"
#include "fsmodel.h"
#include "load.h"
#include "names.h"
#include "store.h"

/* ---- parameters (rules/linkage.conf) ---- */

/* The fields blocking keys are made of: a record and a register person are a candidate pair
 * when they agree on every field of one key. */
typedef enum {
    BF_BIRTH_DATE,   /* birth date */
    BF_BIRTH_YEAR,   /* birth year (a record with an age instead: both years it allows) */
    BF_SEX,
    BF_NAME,         /* normalised name */
    BF_PINYIN,       /* pinyin of the normalised name */
    BF_SURNAME,      /* pinyin of the name's first character */
    BF_VILLAGE,      /* village, from the 12-digit division code and from the address */
    BF_TOWNSHIP,     /* township, from the division code and from the address */
    BF_COUNT
} BlockField;

#define BLOCK_MAX_RULES  8
#define BLOCK_MAX_FIELDS 6
#define BLOCK_MAX_LEVELS 4       /* a rule's own key and up to three refinements */

/*
 * A blocking rule (Splink's and fastLink's blocking rules, with a cap on the block size): its
 * key at level 0 is the conjunction of field[0 .. upto[0]); a block (the register persons
 * sharing a key) larger than max_block is not used as it is but refined: level l's key adds
 * the fields up to upto[l].  A record takes, per rule, the first level whose block is not
 * over the cap; a record whose every block is over it still gets the smallest of its finest
 * blocks.  Candidate pairs are the union over the rules, each pair once.
 */
typedef struct BlockRule {
    uint8_t nfields, nlevels;
    uint8_t field[BLOCK_MAX_FIELDS];
    uint8_t upto[BLOCK_MAX_LEVELS];
} BlockRule;

/* The name of a blocking field ("birth_date" ...); the rule as text ("birth_date+sex>township")
 * up to level `level` (-1: all levels) into out. */
const char *identity_block_field_name(int f);
void identity_block_rule_text(const BlockRule *r, int level, char *out, size_t cap);

/* The comparisons, in comparison-vector order. */
enum {
    CMP_NAME, CMP_SEX, CMP_BIRTH, CMP_AGE,
    CMP_ADDRESS,          /* a record's address with a street and number (4 levels) */
    CMP_PLACE,            /* a record's address that names only a village or township, or its
                             division code (3 levels: "same village" is all it can say) */
    CMP_REGISTER_DEATH, CMP_SIGN_OF_LIFE, CMP_COUNT
};

typedef struct LinkConfig {
    char     path[512];
    char     opencc_config[256];
    bool     repair;
    int      repair_name_level;      /* repair: the weakest name level that agrees (3 exact,
                                        2 same pinyin, 1 close) */
    BlockRule rules[BLOCK_MAX_RULES];   /* blocking */
    int      nrules;
    int      max_block;              /* largest block used without refining it */
    int      max_fallback;           /* largest block a record whose every block is over
                                        max_block still gets its candidates from */
    double   name_close;             /* Jaro-Winkler threshold of level "close" */
    double   prior;                  /* share of records whose person is on the register */
    double   link_probability;
    double   link_margin;            /* bits */
    double   review_probability;
    int      review_candidates;
    bool     register_death;
    uint32_t sign_of_life;           /* bit per FactKind whose records, linked by ID number, show
                                        that their person lived on their date */
    int      sign_of_life_grace;     /* days after a death record's date such a record may carry
                                        (a claim settled after a death in hospital) */
    double   tf_min;
    long     u_pairs;
    int      em_iterations;
    double   em_tolerance;
    long     em_min_pairs;
    long     em_max_records;         /* training records sampled for EM (the records to decide
                                        are always in) */
    uint64_t seed;
    bool     reviewed_repaired;      /* a reviewer's "same": LINK_REPAIRED, else LINK_PROBABLE */
    double   m_start[CMP_COUNT][FS_MAX_LEVELS];   /* weakest level first */
} LinkConfig;

/* Reads rules/linkage.conf; every key must be known and present once (file:line:column). */
bool linkconf_load(const char *path, LinkConfig *c, CbError *err);
bool linkconf_parse(const char *path, const char *text, LinkConfig *c, CbError *err);

/* The model's comparisons with their level names and the start values of m (u = 0). */
void identity_model_init(const LinkConfig *c, FsModel *fm);

/* ---- the evidence of one record or one register person, in comparable form ---- */

typedef struct IdEvidence {
    const char  *name;          /* normalised (names_normalise), NULL when unknown */
    const char  *pinyin;
    uint64_t     name_h, pinyin_h;
    uint64_t     surname_h;     /* first character of the normalised name */
    uint8_t      sex;           /* SEX_MALE / SEX_FEMALE, 0xFF unknown */
    Day          birth;         /* DAY_NONE unknown */
    int          age;           /* completed years at `date`, -1 unknown */
    Day          date;          /* the record's date (age is counted to it) */
    uint64_t     addr_h;        /* normalised address, 0 unknown */
    AddressParts addr;
    uint64_t     div_village, div_township;  /* from a 12-digit division code, 0 unknown */
    bool         dead;          /* register: cancelled for death */
    bool         seen_known;    /* register: last_seen was looked up (candidates and the u sample) */
    Day          last_seen;     /* register: the latest sign of life, DAY_NONE none */
    bool         is_death;      /* record: a death record */
} IdEvidence;

/* Fills ev from raw values (any may be NULL / DAY_NONE / -1 / 0xFF); strings go to arena. */
void identity_evidence(NameNorm *nn, Arena *arena, IdEvidence *ev, const char *name, uint8_t sex,
                       Day birth, int age, Day date, const char *address, const char *division);

/* Comparison vector of record r against person p (gamma[CMP_COUNT], FS_NULL where unknown). */
void identity_compare(const LinkConfig *c, const IdEvidence *r, const IdEvidence *p,
                      uint8_t gamma[CMP_COUNT]);

/* ---- decisions ---- */

typedef enum {
    LD_EXACT,        /* a valid ID number (written differently: full width, 15 digits ...) */
    LD_REPAIRED,     /* one typing error away from exactly one agreeing register number */
    LD_PROBABLE,     /* probabilistic link above the upper threshold with a clear margin */
    LD_TO_VERIFY,    /* probabilistic link between thresholds or with a close second */
    LD_REVIEWED,     /* a reviewer said "same person" */
    LD_NO_MATCH,     /* reject */
    LD_AMBIGUOUS,    /* reject: several register numbers one typing error away agree */
    LD_COUNT
} LinkDecision;

const char *identity_decision_name(LinkDecision d);

typedef struct LinkChoice {
    int    best, second;         /* indexes into the weights, -1 when none */
    double p_best;               /* one-to-one posterior of the best candidate */
    double q_best;               /* the best candidate's own posterior (pair alone) */
    double margin;               /* bits between best and second (INFINITY without second) */
} LinkChoice;

/* Decides among n candidates with match weights w (bits, prior included). */
LinkDecision identity_decide(const LinkConfig *c, const double *w, int n, LinkChoice *out);

/* ---- the step ---- */

typedef struct LinkRow {
    uint32_t  file;
    uint64_t  record;
    PersonKey key;               /* PERSON_KEY_NONE for a reject */
    uint8_t   decision;          /* LinkDecision */
    uint8_t   id_status;         /* IdnumStatus of the ID as written */
    double    weight, second;    /* bits; NAN when not scored / no second */
} LinkRow;

typedef struct ReviewRow {
    uint32_t    file;
    uint64_t    record;
    uint64_t    record_hash;
    uint8_t     outcome;         /* LinkDecision */
    int         rank;            /* 1 = best; 0 when the record had no candidate */
    PersonKey   candidate;
    const char *candidate_name;
    double      weight, probability;   /* NAN when not scored (ID repair) */
    const char *levels;          /* JSON object: comparison → {level, weight}; NULL if none */
} ReviewRow;

typedef struct IdentityStats {
    uint64_t pending, repaired, ambiguous, probable, to_verify, reviewed, no_match, exact_rewritten;
    uint64_t training_records, candidate_pairs;
    uint64_t refined_keys;       /* record keys over max_block replaced by a finer one */
    uint64_t skipped_blocks;     /* a record's finest blocks still over max_block, not used ... */
    uint64_t skipped_pairs;      /* ... and the pairs they would have made */
    uint64_t fallback_records;   /* records whose every block was over max_block: they got the
                                    smallest of their finest blocks */
    uint64_t fallback_pairs;
    uint64_t explained;          /* explain-match: 1 when the record was found among them */
    double   seconds, cpu_seconds;
} IdentityStats;

typedef struct IdentityResult {
    Vec           links;         /* LinkRow, ordered by file and record */
    Vec           reviews;       /* ReviewRow */
    FsModel       model;         /* as estimated */
    IdentityStats stats;
    Arena         arena;
} IdentityResult;

typedef struct IdentityOptions {
    const char *rules_dir;       /* holds linkage.conf */
    Day         asof;            /* date of a record without its own */
    PGconn     *conn;            /* reviewers' decisions are read from here; NULL: none */
    const char *explain_file;    /* explain-match: the record to explain (file name) ... */
    uint64_t    explain_record;  /* ... and record number */
    FILE       *explain_out;
} IdentityOptions;

/*
 * identity_link
 *     Resolves rep->pending into facts (LINK_REPAIRED / LINK_PROBABLE) and rejects in st,
 *     updating the files' accepted / rejected counts.  Call after load_delivery and before
 *     store_group.  out is initialised here; free it with identity_result_free.  Fails (err
 *     filled) on a bad linkage.conf, a library that cannot be opened, or a database error
 *     reading the decisions.
 */
bool identity_link(Store *st, LoadReport *rep, const IdentityOptions *opt, IdentityResult *out,
                   CbError *err);
void identity_result_free(IdentityResult *r);

/* links.csv in dir: file,record,id_number,decision,weight,second_weight,id_status — one row per
 * record not linked by its ID as written (plain exact links are not listed). */
bool identity_write_links_csv(const char *dir, const Store *st, const IdentityResult *r,
                              CbError *err);

/* Stores the pairs put up for review into canbao.match_review with COPY.  Call inside the run's
 * transaction (pgout_write, between BEGIN and COMMIT). */
bool identity_write_reviews(PGconn *conn, int64_t run_id, const Store *st,
                            const IdentityResult *r, CbError *err);

/* The stable reference of a record across nights: "<source>:<16 hex digits>". */
void identity_record_key(const char *source, uint64_t record_hash, char out[160]);

/* Reviewers' decisions: record key → (candidate, same/different), latest per pair. */
typedef struct ReviewDecision {
    uint64_t  record_hash;       /* of the key's hex part */
    char      source[96];
    PersonKey candidate;
    bool      same;
    double    decided_at;        /* epoch seconds, to pick the latest "same" */
} ReviewDecision;
bool identity_read_decisions(PGconn *conn, Vec *out, CbError *err);

/* The commands `canbao review` and `canbao explain-match` (identity_cli.c); return exit codes. */
int identity_cmd_review(int argc, char **argv);
int identity_cmd_explain(int argc, char **argv);

#endif
