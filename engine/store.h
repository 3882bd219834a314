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

#include <stdint.h>

#include "arena.h"
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

/* A person on the household register. */
typedef struct Person {
    PersonKey   key;
    Day         birth;
    Day         cancel_date;
    const char *name;
    const char *household;
    const char *division;     /* 12-digit village / community code */
    const char *address;
    const char *phone;
    uint8_t     sex;          /* SEX_MALE / SEX_FEMALE, 0xFF unknown */
    uint8_t     status;       /* REG_ACTIVE / REG_CANCELLED */
    uint8_t     cancel_reason;/* CANCEL_*, 0xFF none */
    uint32_t    file;
    uint64_t    record;
    uint32_t    fact_first;   /* after grouping: this person's facts */
    uint32_t    fact_count;
} Person;

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
} Store;

void          store_init(Store *s);
void          store_free(Store *s);
/* Takes over the memory of arena a (strings that persons, facts' rejects and pending records
 * point to); a is left empty.  Not thread-safe: call from one thread. */
void          store_adopt_arena(Store *s, Arena *a);
/* Appends n facts at once (one copy; the vector grows by doubling). */
void          store_append_facts(Store *s, const Fact *f, size_t n);
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
static inline const Fact *store_facts(const Store *s, const Person *p)
{
    return (const Fact *) s->facts.data + p->fact_first;
}

#endif
