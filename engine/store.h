/*
 * store — the run's facts in memory: persons of the register, facts about them, the files
 * they came from, and the records that were rejected.
 *
 * Loading (load.h) appends; store_group() then sorts the facts by person so that each
 * person's facts form one contiguous bundle, and indexes the persons by key.  After grouping
 * the store is read-only.  Everything is owned by the Store (store_free).
 */
#ifndef CANBAO_STORE_H
#define CANBAO_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "cberror.h"
#include "date.h"
#include "factkind.h"
#include "idnum.h"

/* One extract file of the run, and what became of its records. */
typedef struct SourceFile {
    const char *source;       /* definition name */
    const char *agency;
    FactKind    kind;
    const char *name;         /* file name within the delivery */
    uint64_t    size;
    char        sha256[65];
    uint64_t    read, accepted, duplicates, rejected;
} SourceFile;

typedef struct Reject {
    uint32_t    file;
    uint64_t    record_no, line_no, byte_offset;
    const char *reason;
    const char *raw;
} Reject;

/* A person on the household register.  The division is in memory (every person's rules ask
 * for it); the name, household, address and phone, asked for only by the persons that reach a
 * list, are kept in the store's text file and read back with store_person_text. */
typedef struct Person {
    PersonKey   key;
    uint64_t    record;
    const char *division;     /* 12-digit village / community code */
    uint64_t    text_off;     /* in the store's text file (store_person_text) */
    uint32_t    text_len;
    Day         birth;
    Day         cancel_date;
    uint32_t    file;
    uint32_t    fact_first;   /* after grouping: this person's facts */
    uint32_t    fact_count;
    uint8_t     sex;          /* SEX_MALE / SEX_FEMALE, 0xFF unknown */
    uint8_t     status;       /* REG_ACTIVE / REG_CANCELLED */
    uint8_t     cancel_reason;/* CANCEL_*, 0xFF none */
} Person;

/* A person's text as read back; NULL where the register left a field empty. */
typedef struct PersonText {
    const char *name, *household, *address, *phone;
} PersonText;

/* Where store_person_text reads into: reused from person to person, grown as needed.  With
 * ahead > 0 it reads that many bytes at once and serves the next persons from them (for a walk
 * in register order); 0 reads just the person's bytes. */
typedef struct TextBuf {
    char    *data;
    size_t   cap;
    size_t   ahead;
    uint64_t at;              /* file offset of data[0] */
    size_t   len;             /* bytes of the file held from there */
} TextBuf;

/* A fact about a person: compact and fixed-size; what the slots mean depends on the kind
 * (factkind.c says which canonical field lands where). */
/* How a fact's record was tied to its person. */
typedef enum {
    LINK_EXACT = 0,     /* a valid ID number */
    LINK_REPAIRED,      /* an ID number repaired against the register (one candidate only) */
    LINK_PROBABLE       /* probabilistic match without a usable ID: to verify, never confirmed */
} LinkQuality;

typedef struct Fact {
    PersonKey person;
    Day       d1, d2;         /* DAY_NONE when absent; months as y*12+m-1 */
    int64_t   amount, amount2;/* fen */
    uint16_t  file;
    uint8_t   link;           /* LinkQuality */
    uint8_t   sub;            /* member of a record split by its definition (1-based), 0 when
                                 the record was not split */
    uint16_t  kind;           /* FactKind */
    uint16_t  code;           /* enum index, grade, or Evidence for deaths; 0xFFFF none */
    uint64_t  record;
} Fact;

typedef struct Store {
    Vec      files;           /* SourceFile */
    Vec      rejects;         /* Reject */
    Vec      persons;         /* Person, sorted by key after grouping */
    Vec      facts;           /* Fact, sorted by person after grouping */
    uint32_t *index;          /* open-addressing table: person index + 1, 0 = empty */
    uint64_t  index_mask;
    uint64_t  unlinked;       /* facts whose person is not on the register */
    size_t    released;       /* facts let go by store_release_facts */
    Arena     strings;
    Vec       arenas;         /* Arena: more string arenas (a loader thread's), owned */
    int       text_fd;        /* persons' text: an unlinked file in $TMPDIR, -1 until needed */
    uint64_t  text_size;
    const char *text_map;     /* the file's first text_map_len bytes mapped (store_text_map), or NULL */
    size_t    text_map_len;
    pthread_mutex_t text_mu;
    int       text_failed;    /* a read of the text file failed (atomic; store_text_ok) */
    /* the facts on disk (store_spill_*): NULL while they are all in memory */
    size_t    facts_budget;   /* bytes of facts in memory at most; 0 = no limit */
    struct StoreSpill *spill;
    int       spill_errno;    /* the files could not be made or written: store_spill_ok */
} Store;

void          store_init(Store *s);
void          store_free(Store *s);
/* Takes over the memory of arena a (strings that persons, facts' rejects and pending records
 * point to); a is left empty.  Not thread-safe: call from one thread. */
void          store_adopt_arena(Store *s, Arena *a);
/* Appends n facts at once (one copy; the vector grows by doubling).  Past facts_budget the
 * facts go to disk instead (below); a failure to write them is kept for store_spill_ok.  Not
 * thread-safe: callers hold their own lock. */
void          store_append_facts(Store *s, const Fact *f, size_t n);
void          store_add_fact(Store *s, const Fact *f);
/* Every fact so far, in memory or on disk. */
uint64_t      store_fact_count(const Store *s);
/* Sorts persons and facts, builds the index, attaches bundles, counts unlinked facts. */
void          store_group(Store *s);
/* The same with up to `threads` threads (at most STORE_GROUP_MAX_THREADS); the result does not
 * depend on their number. */
#define STORE_GROUP_MAX_THREADS 16
void          store_group_threads(Store *s, int threads);
/* After the rules: the facts let go (memory for writing the outputs); the persons stay, their
 * bundles emptied.  s->facts.len is kept in s->released. */
void          store_release_facts(Store *s);
const Person *store_person(const Store *s, PersonKey key);   /* NULL if not on the register */

/*
 * Facts that do not fit the memory (facts_budget).  The first time the facts would pass the
 * budget, they go to STORE_SPILL_BUCKETS unlinked files in $TMPDIR, each fact to the bucket of
 * its person (a hash of the key), and so do all later ones.  Then the facts are taken a pass
 * at a time: a pass is a run of buckets whose facts fit the budget together.
 *   store_spill_plan     after the last fact: groups the persons (sorted, indexed, no bundles)
 *                        and cuts the buckets into passes; returns their number (1 in memory).
 *   store_spill_load     reads pass k's facts into s->facts and groups them: the persons of the
 *                        pass get their bundles, every other person an empty one.
 *   store_in_pass        whether a person's facts are those of the loaded pass;
 *   store_pass_of        which pass holds them.
 *   store_scan_facts     hands every fact to fn, a block at a time, in memory or from disk.
 * In memory (no spill), store_group_threads does all at once and every person is in the pass.
 */
#define STORE_SPILL_BUCKETS 64
bool          store_spill_ok(const Store *s, CbError *err);
int           store_spill_plan(Store *s, int threads);
int           store_passes(const Store *s);
bool          store_spill_load(Store *s, int pass, int threads, CbError *err);
bool          store_in_pass(const Store *s, PersonKey key);
int           store_pass_of(const Store *s, PersonKey key);   /* the pass that holds key's facts */
bool          store_scan_facts(const Store *s, void (*fn)(void *arg, const Fact *f, size_t n), void *arg,
                               CbError *err);

/* Persons' text.  store_text_encode appends one person's fields, name, household, address and
 * phone (len[i] bytes at field[i], NULL when empty; no NUL in them), to buf, a Vec of bytes; store_text_append writes n encoded bytes to the text file and gives their
 * offset (thread-safe; the file is made on first use).  store_person_set_text does both for
 * one person. */
void          store_text_encode(Vec *buf, const char *const field[4], const size_t len[4]);
bool          store_text_append(Store *s, const void *bytes, size_t n, uint64_t *off, CbError *err);
bool          store_person_set_text(Store *s, Person *p, const char *name, const char *household,
                                    const char *address, const char *phone, CbError *err);
/* The text file read through a mapping from here on, when it is at most `most` bytes: a
 * person's text is then found where it lies, without a read (a pread per person, in a random
 * order, is what the rules and the workbooks otherwise pay).  Its pages count in the resident
 * size once touched, hence the bound; text appended afterwards is still read with pread.  (The
 * file is the run's own, unlinked, written moments before: a page the disk could not give back
 * would end the run with SIGBUS where pread would have logged it.)  Returns whether it is mapped. */
bool          store_text_map(Store *s, size_t most);
/* Reads p's text into tb; t's strings point into tb until its next use.  When the file cannot
 * be read the fields are NULL, the failure is logged once and store_text_ok turns false: the
 * caller's stage then fails instead of publishing lists with names missing. */
void          store_person_text(const Store *s, const Person *p, TextBuf *tb, PersonText *t);
/* The same, with t's strings copied into a (they outlive tb). */
void          store_person_text_copy(const Store *s, const Person *p, TextBuf *tb, Arena *a, PersonText *t);
bool          store_text_ok(const Store *s, CbError *err);
void          textbuf_free(TextBuf *tb);
static inline const Fact *store_facts(const Store *s, const Person *p)
{
    return (const Fact *) s->facts.data + p->fact_first;
}

#endif
