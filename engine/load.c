#include "load.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bytestream.h"
#include "extract.h"
#include "fault.h"
#include "manifest.h"
#include "log.h"
#include "text.h"

/*
 * How the reading is shared out.  Every file gets its number (its index in st->files) before
 * anything is read: definition order, and within a source its files in name order, which is
 * the order the files were read in one after another.  The work is cut into tasks: a source's
 * files (read in name order by one thread, so that its duplicates are recognised in record
 * order), and one task for all register sources together (an ID on two register rows is a
 * conflict across them).  Threads take tasks, the largest first; a task writes its persons,
 * rejects and pending records into its sources' own lists and strings into their own arenas,
 * and its facts into the store under a lock, a few thousand at a time.  When all tasks are
 * done the lists are appended to the store in definition order and the arenas handed to it:
 * persons, rejects and pending records come out in file and record order, exactly as one
 * thread reads them.  Facts come in the order the tasks delivered them; store_group() sorts
 * them by (person, kind, date, file, record), which no two facts share.  A failure stops the
 * files after it; the error reported is that of the first failing file in file order, which
 * one thread would have met first.
 */

/* ---- a set of 64-bit keys, and a key → value map (open addressing, 0 = empty) ---- */

typedef struct KeySet {
    uint64_t *keys;
    uint64_t *vals;     /* NULL for a set */
    size_t    mask, len, limit;
    int       shift;    /* 64 - log2(capacity) */
} KeySet;

/* Zeroed memory for a table: a large one in transparent huge pages (xmap_huge), which saves
 * most of the page faults and TLB misses of its random probes. */
static void *
table_alloc(size_t bytes)
{
    return bytes < (4u << 20) ? xcalloc(1, bytes) : xmap_huge(bytes);
}

static void
table_free(void *p, size_t bytes)
{
    if (bytes < (4u << 20))
        free(p);
    else
        xunmap_huge(p, bytes);
}

static void
set_init(KeySet *m, size_t expect, bool with_values)
{
    size_t c = 1024;
    int bits = 10;
    while (c * 7 / 10 < expect && bits < 40) {
        c <<= 1;
        bits++;
    }
    m->keys = table_alloc(c * sizeof(uint64_t));
    m->vals = with_values ? table_alloc(c * sizeof(uint64_t)) : NULL;
    m->mask = c - 1;
    m->limit = c * 7 / 10;
    m->shift = 64 - bits;
    m->len = 0;
}

static void
set_free(KeySet *m)
{
    table_free(m->keys, (m->mask + 1) * sizeof(uint64_t));
    if (m->vals)
        table_free(m->vals, (m->mask + 1) * sizeof(uint64_t));
    memset(m, 0, sizeof *m);
}

/* Keys are record hashes, already mixed: the multiply spreads them over the high bits. */
static inline size_t
slot_of(const KeySet *m, uint64_t key)
{
    return (size_t) ((key * 0x9E3779B97F4A7C15ull) >> m->shift);
}

/* Brings the slot of key into the cache, for a set_put a little later. */
static inline void
set_prefetch(const KeySet *m, uint64_t key)
{
    __builtin_prefetch(&m->keys[slot_of(m, key ? key : 0x9E3779B97F4A7C15ull)], 1);
}

static void
set_grow(KeySet *m)
{
    KeySet big;
    set_init(&big, (m->mask + 1) * 7 / 5, m->vals != NULL);
    for (size_t i = 0; i <= m->mask; i++)
        if (m->keys[i] != 0) {
            size_t h = slot_of(&big, m->keys[i]);
            while (big.keys[h] != 0)
                h = (h + 1) & big.mask;
            big.keys[h] = m->keys[i];
            if (m->vals)
                big.vals[h] = m->vals[i];
            big.len++;
        }
    set_free(m);
    *m = big;
}

/* Inserts key (with val in a map) if absent.  True if it was already there (*val_out = its
 * value in a map). */
static bool
set_put(KeySet *m, uint64_t key, uint64_t val, uint64_t *val_out)
{
    if (key == 0)
        key = 0x9E3779B97F4A7C15ull;
    if (m->len + 1 > m->limit)
        set_grow(m);
    size_t h = slot_of(m, key);
    while (m->keys[h] != 0) {
        if (m->keys[h] == key) {
            if (val_out && m->vals)
                *val_out = m->vals[h];
            return true;
        }
        h = (h + 1) & m->mask;
    }
    m->keys[h] = key;
    if (m->vals)
        m->vals[h] = val;
    m->len++;
    return false;
}

/* ---- what the reading of one source produces, in file and record order ---- */

typedef struct SourceOut {
    Vec      persons;       /* Person */
    Vec      rejects;       /* Reject */
    Vec      pending;       /* PendingRecord */
    Arena    strings;       /* everything they point to */
    Vec      arenas;        /* Arena: more of them (pieces of a file read in pieces) */
    uint64_t bytes;         /* decompressed bytes read */
    Vec      text;          /* bytes: the text of persons[text_from..], not yet in the store's file */
    size_t   text_from;
    KeySet   divisions;     /* hash of a division code → its one copy in strings */
} SourceOut;

/* One claimed file of the delivery, in file order. */
typedef struct FileJob {
    int         def;
    const char *name;
    uint64_t    cost;       /* decompressed bytes, estimated */
    uint64_t    records;    /* its records, estimated; 0: not known (from cost then) */
} FileJob;

typedef struct LoadTask {
    int      defs[64];      /* the definitions read, in definition order */
    int      ndefs;
    uint64_t cost;
} LoadTask;

#define FACT_BUF 4096

typedef struct LoadCtx {
    Store           *st;
    const SourceDef *defs;
    const char      *dir;
    FileJob         *files;
    size_t           nfiles;
    uint32_t         base;        /* the store's number of files[0] */
    size_t          *first_file;  /* per definition: index of its first file in files[] */
    int             *nfiles_def;
    SourceOut       *out;         /* per definition */
    LoadTask        *tasks;
    size_t           ntasks;
    size_t           next_task;   /* under mu */
    uint32_t         fail_at;     /* under mu: the first failing file, UINT32_MAX none */
    CbError         *errs;        /* per file */
    bool             progress;    /* one thread: the live progress line */
    int              nthreads;
    struct Chunk    *queue, *queue_tail;   /* under mu: pieces of files waiting to be parsed */
    int              producers;   /* under mu: files being cut into pieces */
    struct Chunk    *spare;       /* under mu: pieces done with, their lists kept for reuse */
    unsigned char   *spare_bufs[32];   /* under mu: piece buffers to reuse */
    int              nspare_bufs;
    double           cpu[LOAD_MAX_THREADS];   /* each thread's CPU seconds in the load */
    Day              asof;        /* history = latest sources keep the latest facts around it;
                                     DAY_NONE: every fact */
    size_t           register_rows;   /* estimated from the register files' sizes */
    pthread_mutex_t  mu;          /* the task queue, fail_at, the store's facts, the pieces */
    pthread_cond_t   cv;          /* a piece queued or parsed, a producer done */
} LoadCtx;

/* The state of one thread working through one task. */
typedef struct TaskState {
    LoadCtx *cx;
    Fact    *facts;               /* FACT_BUF, appended to the store when full */
    size_t   nfacts;
    KeySet   reg_seen;            /* register: ID → (file << 48 | record) of its accepted row */
    bool     register_task;
    /* a source with history = latest being read: per person the latest fact on or before the
     * as-of date (slot 0) and the latest after it (slot 1), the first in record order among
     * equal dates; the others are superseded.  Facts without a date are kept as they are. */
    bool     latest;
    int32_t  latest_limit;        /* the as-of date in the unit of the kind's d1 */
    KeySet   latest_map[2];       /* person → index + 1 into latest_facts[side] */
    Vec      latest_facts[2];     /* Fact: side 0 on or before the as-of date, 1 after (few) */
    uint64_t superseded;
} TaskState;

/* A definition's fields and properties, looked up once rather than per record. */
typedef struct DefInfo {
    const SourceDef *def;
    const KindSpec  *ks;
    bool             linkable;    /* its id_number is optional: records can be linked by name */
    int              f_id, f_name, f_sex, f_birth, f_age, f_address, f_division, f_total, f_account;
    bool             d1_is_date;  /* the kind's slot d1 holds a date field */
} DefInfo;

static DefInfo
def_info(const SourceDef *def)
{
    DefInfo d = {.def = def, .ks = factkind_spec(def->kind)};
    FactKind k = def->kind;
    d.f_id = factkind_field(k, "id_number");
    d.linkable = d.f_id >= 0 && !d.ks->fields[d.f_id].required;
    d.f_name = factkind_field(k, "name");
    d.f_sex = factkind_field(k, "sex");
    d.f_birth = factkind_field(k, "birth_date");
    d.f_age = factkind_field(k, "age");
    d.f_address = factkind_field(k, "address");
    d.f_division = factkind_field(k, "division");
    d.f_total = k == FK_PENSION_PAYMENT ? factkind_field(k, "total") : -1;
    d.f_account = k == FK_PENSION_PAYMENT ? factkind_field(k, "account") : -1;
    for (int i = 0; d.ks->fields[i].name; i++)
        if (d.ks->fields[i].slot == SLOT_D1 && d.ks->fields[i].type == FT_DATE)
            d.d1_is_date = true;
    return d;
}

static inline const CanonValue *
value(const CanonRecord *r, int field)
{
    return field >= 0 && r->v[field].present ? &r->v[field] : NULL;
}

/* ---- records to persons, facts, rejects ---- */

/* Raw text for the database and CSV: valid UTF-8, other bytes written as \xNN. */
static const char *
safe_raw(Arena *a, const char *raw, size_t n)
{
    char *out = arena_alloc(a, n * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char_len((const unsigned char *) raw + i, n - i);
        if (k > 0) {
            memcpy(out + o, raw + i, k);
            o += k;
            i += k;
        } else {
            o += (size_t) snprintf(out + o, 5, "\\x%02X", (unsigned char) raw[i]);
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static void
add_reject(Vec *rejects, Arena *strings, uint32_t file, const CanonRecord *r)
{
    Reject *rj = vec_push(rejects);
    rj->file = file;
    rj->record_no = r->record_no;
    rj->line_no = r->line_no;
    rj->byte_offset = r->byte_offset;
    rj->reason = arena_strdup(strings, r->reason);
    rj->raw = safe_raw(strings, r->raw, r->raw_len);
}

/* Facts go to the store a few thousand at a time. */
static void
flush_facts(TaskState *ts)
{
    if (ts->nfacts == 0)
        return;
    pthread_mutex_lock(&ts->cx->mu);
    store_append_facts(ts->cx->st, ts->facts, ts->nfacts);
    pthread_mutex_unlock(&ts->cx->mu);
    ts->nfacts = 0;
}

static inline Fact *
new_fact(TaskState *ts)
{
    if (ts->nfacts == FACT_BUF)
        flush_facts(ts);
    Fact *f = &ts->facts[ts->nfacts++];
    memset(f, 0, sizeof *f);
    return f;
}

/* An accepted plain fact: to the store, or (history = latest) kept if it is its person's
 * latest so far on its side of the as-of date. */
static inline void
keep_fact(TaskState *ts, const Fact *f)
{
    if (!ts->latest || f->d1 == DAY_NONE) {
        *new_fact(ts) = *f;
        return;
    }
    int side = f->d1 > ts->latest_limit;
    uint64_t at;
    if (!set_put(&ts->latest_map[side], f->person, ts->latest_facts[side].len + 1, &at)) {
        *(Fact *) vec_push(&ts->latest_facts[side]) = *f;
        return;
    }
    Fact *k = &VEC_AT(&ts->latest_facts[side], Fact, at - 1);
    ts->superseded++;
    if (f->d1 > k->d1)
        *k = *f;
}

/* persons: how many the source may have on or before the as-of date (an estimate: the map
 * and the list are sized for them, rather than grown from 1,024 by copies). */
static void
latest_begin(TaskState *ts, const SourceDef *def, Day asof, size_t persons)
{
    ts->latest = def->history == HISTORY_LATEST && asof != DAY_NONE;
    if (!ts->latest)
        return;
    ts->latest_limit = factkind_d1_type(def->kind) == FT_MONTH ? date_month_of(asof) : asof;
    for (int side = 0; side < 2; side++) {
        set_init(&ts->latest_map[side], side == 0 ? persons : 1024, true);
        vec_init(&ts->latest_facts[side], sizeof(Fact));
    }
    vec_reserve(&ts->latest_facts[0], persons);
    ts->superseded = 0;
}

/* The kept facts to the store (their order does not matter: store_group sorts). */
/* ... and nothing when the source failed (the load fails). */
static void
latest_end(TaskState *ts, const SourceDef *def, bool ok)
{
    if (!ts->latest)
        return;
    size_t kept = 0, persons = ts->latest_facts[0].len;
    for (int side = 0; ok && side < 2; side++) {
        const Fact *lf = ts->latest_facts[side].data;
        for (size_t i = 0; i < ts->latest_facts[side].len; i++) {
            *new_fact(ts) = lf[i];
            kept++;
            if (side == 1 && !set_put(&ts->latest_map[0], lf[i].person, 0, NULL))
                persons++;   /* a person with facts after the as-of date only */
        }
    }
    if (ok) {
        flockfile(stderr);
        log_info("event=history source=%s history=latest persons=%zu kept=%zu superseded=%llu", def->name,
                 persons, kept, (unsigned long long) ts->superseded);
        funlockfile(stderr);
    }
    for (int side = 0; side < 2; side++) {
        set_free(&ts->latest_map[side]);
        vec_free(&ts->latest_facts[side]);
    }
    ts->latest = false;
}

typedef struct RegFields {
    int id, name, sex, birth, household, division, address, phone, status, reason, cancel;
} RegFields;

static RegFields
reg_fields(void)
{
    RegFields f = {
        .id = factkind_field(FK_REGISTER, "id_number"),
        .name = factkind_field(FK_REGISTER, "name"),
        .sex = factkind_field(FK_REGISTER, "sex"),
        .birth = factkind_field(FK_REGISTER, "birth_date"),
        .household = factkind_field(FK_REGISTER, "household"),
        .division = factkind_field(FK_REGISTER, "division"),
        .address = factkind_field(FK_REGISTER, "address"),
        .phone = factkind_field(FK_REGISTER, "phone"),
        .status = factkind_field(FK_REGISTER, "status"),
        .reason = factkind_field(FK_REGISTER, "cancel_reason"),
        .cancel = factkind_field(FK_REGISTER, "cancel_date"),
    };
    return f;
}

/* The value slot of key in a map, made (0) when key is new. */
static uint64_t *
set_value_slot(KeySet *m, uint64_t key)
{
    if (key == 0)
        key = 0x9E3779B97F4A7C15ull;
    if (m->len + 1 > m->limit)
        set_grow(m);
    size_t h = slot_of(m, key);
    while (m->keys[h] != 0 && m->keys[h] != key)
        h = (h + 1) & m->mask;
    if (m->keys[h] == 0) {
        m->keys[h] = key;
        m->vals[h] = 0;
        m->len++;
    }
    return &m->vals[h];
}

/* A division code: thousands of persons share each, so one copy of it (as far as a C string
 * goes, as every reader takes it). */
static const char *
division_of(SourceOut *so, const CanonValue *v)
{
    if (!v->present)
        return NULL;
    size_t n = strnlen(v->text, v->len);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char) v->text[i]) * 0x100000001b3ull;
    uint64_t *slot = set_value_slot(&so->divisions, h);
    const char *d = (const char *) (uintptr_t) *slot;
    if (d != NULL && strlen(d) == n && memcmp(d, v->text, n) == 0)
        return d;
    char *copy = arena_strndup(&so->strings, v->text, n);
    if (d == NULL)
        *slot = (uint64_t) (uintptr_t) copy;   /* else another code of the same hash: not shared */
    return copy;
}

#define TEXT_FLUSH (1u << 20)

/* The text of the persons read since the last call goes to the store's file; their offsets
 * become the file's. */
static bool
text_flush(Store *st, SourceOut *so, CbError *err)
{
    if (so->text.len == 0)
        return true;
    uint64_t base;
    if (!store_text_append(st, so->text.data, so->text.len, &base, err))
        return false;
    for (size_t i = so->text_from; i < so->persons.len; i++)
        VEC_AT(&so->persons, Person, i).text_off += base;
    so->text_from = so->persons.len;
    so->text.len = 0;
    return true;
}

/* A register record: a person (and, for a cancellation for death, a police death fact).
 * Returns false with a reason in r when an earlier register row has the same ID. */
static bool
add_person(TaskState *ts, SourceOut *so, uint32_t file, CanonRecord *r, const RegFields *f)
{
    PersonKey key = (PersonKey) r->v[f->id].num;
    uint64_t prev;
    if (set_put(&ts->reg_seen, key, (uint64_t) file << 48 | r->record_no, &prev)) {
        const SourceFile *sf = &VEC_AT(&ts->cx->st->files, SourceFile, prev >> 48);
        snprintf(r->reason, sizeof r->reason,
                 "second register entry for ID number %s with different content (first: %s record %llu)",
                 r->v[f->id].text, sf->name, (unsigned long long) (prev & 0xFFFFFFFFFFFFull));
        return false;
    }
    Person *p = vec_push(&so->persons);
    p->key = key;
    if (r->v[f->birth].present) {
        p->birth = (Day) r->v[f->birth].num;
    } else {
        char id[19];
        idnum_format(key, id);
        p->birth = idnum_birth_day(id);   /* the register left it empty: the ID number's */
    }
    p->cancel_date = r->v[f->cancel].present ? (Day) r->v[f->cancel].num : DAY_NONE;
    p->division = division_of(so, &r->v[f->division]);
    /* name, household, address, phone: into the text buffer, offsets local to it until flushed */
    const int tf[4] = {f->name, f->household, f->address, f->phone};
    const char *tz[4];
    size_t tl[4];
    for (int i = 0; i < 4; i++) {
        const CanonValue *v = &r->v[tf[i]];
        tz[i] = v->present ? v->text : NULL;
        tl[i] = v->present ? strnlen(v->text, v->len) : 0;   /* as far as a C string goes */
    }
    p->text_off = so->text.len;
    store_text_encode(&so->text, tz, tl);
    p->text_len = (uint32_t) (so->text.len - p->text_off);
    p->sex = r->v[f->sex].present ? (uint8_t) r->v[f->sex].num : 0xFF;
    p->status = (uint8_t) r->v[f->status].num;
    p->cancel_reason = r->v[f->reason].present ? (uint8_t) r->v[f->reason].num : 0xFF;
    p->file = file;
    p->record = r->record_no;
    if (p->status == REG_CANCELLED && p->cancel_reason == CANCEL_DEATH && p->cancel_date != DAY_NONE) {
        Fact *d = new_fact(ts);
        d->person = key;
        d->d1 = p->cancel_date;
        d->d2 = DAY_NONE;
        d->kind = FK_DEATH;
        d->code = EV_POLICE;
        d->file = (uint16_t) file;
        d->record = r->record_no;
    }
    return true;
}

static void
fill_fact(Fact *f, const DefInfo *di, uint32_t file, const CanonRecord *r)
{
    const KindSpec *ks = di->ks;
    const SourceDef *def = di->def;
    f->d1 = f->d2 = DAY_NONE;
    f->code = 0xFFFF;
    f->kind = (uint16_t) def->kind;
    f->file = (uint16_t) file;
    f->sub = (uint8_t) r->sub;
    f->record = r->record_no;
    for (int i = 0; ks->fields[i].name; i++) {
        const CanonValue *v = &r->v[i];
        if (!v->present)
            continue;
        switch (ks->fields[i].slot) {
        case SLOT_PERSON: f->person = (PersonKey) v->num; break;
        case SLOT_D1: f->d1 = (Day) v->num; break;
        case SLOT_D2: f->d2 = (Day) v->num; break;
        case SLOT_CODE: f->code = (uint16_t) (v->num < 0 || v->num > 0xFFFE ? 0xFFFE : v->num); break;
        case SLOT_AMOUNT: f->amount = v->num; break;
        case SLOT_AMOUNT2: f->amount2 = v->num; break;
        case SLOT_NONE: break;
        }
    }
    if (def->kind == FK_DEATH)
        f->code = (uint16_t) def->evidence;
    if (di->f_total >= 0 && !r->v[di->f_total].present) {
        /* a payment's total is basic + personal-account part when the ledger leaves it empty */
        const CanonValue *acc = &r->v[di->f_account];
        f->amount2 = f->amount + (acc->present ? acc->num : 0);
    }
}

/* Keeps a record for identity_link: unresolved (its ID is missing or fails its check; counted
 * as accepted or rejected once linkage has decided) or resolved (a fact already, kept as
 * training data or to list a rewritten ID in links.csv). */
static void
add_pending(Vec *pending, Arena *strings, const DefInfo *di, const Extract *ex, uint32_t file,
            const CanonRecord *r, bool resolved)
{
    PendingRecord *pr = vec_push(pending);
    fill_fact(&pr->fact, di, file, r);
    pr->file = file;
    pr->line_no = r->line_no;
    pr->byte_offset = r->byte_offset;
    pr->hash = extract_record_key(ex, r);
    pr->id_status = r->id_status;
    pr->resolved = resolved;
    pr->rewritten = resolved && r->id_rewritten;
    pr->linkable = di->linkable;
    pr->sex = 0xFF;
    pr->age = -1;
    pr->birth = pr->date = DAY_NONE;
    if (!resolved)
        pr->raw = safe_raw(strings, r->raw, r->raw_len);
    const CanonValue *v = value(r, di->f_id);
    if (v != NULL && r->id_status != IDNUM_OK)
        pr->id_chars = arena_strndup(strings, v->text, v->len);
    if (resolved && !pr->linkable)
        return;   /* only listed: no evidence needed */
    if ((v = value(r, di->f_name)) != NULL)
        pr->name = arena_strndup(strings, v->text, v->len);
    if ((v = value(r, di->f_sex)) != NULL)
        pr->sex = (uint8_t) v->num;
    if ((v = value(r, di->f_birth)) != NULL)
        pr->birth = (Day) v->num;
    if ((v = value(r, di->f_age)) != NULL && v->num >= 0 && v->num < 200)
        pr->age = (int16_t) v->num;
    if ((v = value(r, di->f_address)) != NULL)
        pr->address = arena_strndup(strings, v->text, v->len);
    if ((v = value(r, di->f_division)) != NULL)
        pr->division = arena_strndup(strings, v->text, v->len);
    if (di->d1_is_date)
        pr->date = pr->fact.d1;
}

/* ---- one file ---- */

/* A plain fact waiting for its duplicate check. */
typedef struct RingFact {
    Fact     fact;
    uint64_t hash;
} RingFact;

#define RING 8u

static inline void
ring_drain(TaskState *ts, const RingFact *rf, KeySet *dups, SourceFile *sf)
{
    if (set_put(dups, rf->hash, 1, NULL)) {
        sf->duplicates++;
    } else {
        keep_fact(ts, &rf->fact);
        sf->accepted++;
    }
}

/* True when an earlier file (in file order) has failed: this one is not needed. */
static bool
stopped_before(LoadCtx *cx, uint32_t file_no)
{
    pthread_mutex_lock(&cx->mu);
    bool stop = cx->fail_at < file_no;
    pthread_mutex_unlock(&cx->mu);
    return stop;
}

static void
note_failure(LoadCtx *cx, uint32_t file_no)
{
    pthread_mutex_lock(&cx->mu);
    if (file_no < cx->fail_at)
        cx->fail_at = file_no;
    pthread_mutex_unlock(&cx->mu);
}

/* Reads file file_no into its source's output.  False when the file cannot be read to its end
 * (err filled), or when an earlier file failed meanwhile (err left empty). */
static bool
read_file(TaskState *ts, uint32_t file_no, KeySet *dups, CbError *err)
{
    LoadCtx *cx = ts->cx;
    const FileJob *fj = &cx->files[file_no];
    const SourceDef *def = &cx->defs[fj->def];
    SourceOut *so = &cx->out[fj->def];
    uint32_t fno = cx->base + file_no;   /* in the store */
    if (!cancel_check("reading the delivery", err))
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cx->dir, fj->name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        CB_FAIL(err, CBERR_IO, "could not stat extract: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    double t0 = clock_now();
    Extract *ex = extract_open(def, path, err);
    if (ex == NULL)
        return false;
    /* the entry was made before the threads started; only this thread writes it */
    SourceFile *sf = &VEC_AT(&cx->st->files, SourceFile, fno);
    sf->size = (uint64_t) sb.st_size;

    DefInfo di = def_info(def);
    RegFields rf = reg_fields();
    CanonRecord rec;
    if (cx->progress)
        progress_begin("read", fj->name);
    bool row_accepted = false;   /* a split row: one of its records became a fact */
    RingFact ring[RING];
    unsigned ring_head = 0, nring = 0;
    ExtStatus es;
    while ((es = extract_next(ex, &rec, err)) != EXT_EOF) {
        if (es == EXT_ERROR) {
            extract_close(ex);
            return false;
        }
        bool first = rec.sub <= 1, last = rec.sub == rec.nsub;   /* of a row's records */
        if (first) {
            sf->read++;
            fault_hit(FAULT_PARSE);
            row_accepted = false;
            if ((sf->read & 0x3FFF) == 0) {
                if (cx->progress)
                    progress_update(sf->read);
                if (!cancel_check("the end of reading the delivery", err) || stopped_before(cx, file_no)) {
                    extract_close(ex);
                    return false;
                }
            }
        }
        if (es == EXT_OK && rec.nsub == 0 && def->kind != FK_REGISTER && rec.id_status == IDNUM_OK &&
            !rec.id_rewritten && !(di.linkable && value(&rec, di.f_name))) {
            /* a plain fact, the bulk of a delivery: its duplicate check waits for a few more
             * records, so that its slot of the set is in the cache by then */
            if (nring == RING)
                ring_drain(ts, &ring[(ring_head - nring) % RING], dups, sf);
            else
                nring++;
            RingFact *rfct = &ring[ring_head++ % RING];
            memset(&rfct->fact, 0, sizeof rfct->fact);
            fill_fact(&rfct->fact, &di, fno, &rec);
            rfct->hash = rec.hash;
            set_prefetch(dups, rec.hash);
            continue;
        }
        for (; nring > 0; nring--)   /* in record order before anything else */
            ring_drain(ts, &ring[(ring_head - nring) % RING], dups, sf);
        if (es == EXT_REJECT) {   /* always a whole row */
            sf->rejected++;
            add_reject(&so->rejects, &so->strings, fno, &rec);
            continue;
        }
        if (def->kind == FK_REGISTER)   /* the person's slot fetched while the set's is */
            set_prefetch(&ts->reg_seen, (uint64_t) rec.v[rf.id].num);
        if (set_put(dups, rec.hash, 1, NULL)) {
            if (last && !row_accepted)
                sf->duplicates++;
            else if (last)
                sf->accepted++;
        } else if (def->kind == FK_REGISTER) {   /* never split */
            if (add_person(ts, so, fno, &rec, &rf)) {
                sf->accepted++;
                if (so->text.len >= TEXT_FLUSH && !text_flush(cx->st, so, err)) {
                    extract_close(ex);
                    return false;
                }
            } else {
                sf->rejected++;
                add_reject(&so->rejects, &so->strings, fno, &rec);
            }
        } else if (rec.id_status != IDNUM_OK) {   /* never split (extract.h) */
            add_pending(&so->pending, &so->strings, &di, ex, fno, &rec, false);   /* counted by identity_link */
        } else {
            fill_fact(new_fact(ts), &di, fno, &rec);
            row_accepted = true;
            if (last)
                sf->accepted++;
            if (rec.id_rewritten || (di.linkable && value(&rec, di.f_name)))
                add_pending(&so->pending, &so->strings, &di, ex, fno, &rec, true);
        }
    }
    for (; nring > 0; nring--)
        ring_drain(ts, &ring[(ring_head - nring) % RING], dups, sf);
    if (!text_flush(cx->st, so, err)) {
        extract_close(ex);
        return false;
    }
    if (cx->progress) {
        progress_end(sf->read);
    } else {
        flockfile(stderr);   /* one line, whatever the other threads log */
        log_info("event=stage_done stage=read what=\"%s\" records=%llu seconds=%.3f", fj->name,
                 (unsigned long long) sf->read, clock_now() - t0);
        funlockfile(stderr);
    }
    so->bytes += extract_bytes(ex);
    if (!extract_sha256(ex, sf->sha256)) {
        extract_close(ex);
        return CB_FAIL(err, CBERR_INTERNAL, "could not compute SHA-256 of %s", fj->name);
    }
    extract_close(ex);
    return true;
}

/* ---- a large line-format file in pieces ---- */

/*
 * A large fixed-width or JSON Lines file is cut into pieces of about CHUNK_BYTES after a line
 * end by the thread that owns it (the producer: it inflates, hashes and cuts, in order); any
 * idle thread parses a piece into its own lists (phase A: records, relative numbers); the
 * producer merges the parsed pieces in order (phase B: duplicates, counts, absolute record and
 * line numbers, facts to the store), exactly as one thread reading the file would.  A line
 * longer than the record limit that does not end within a piece is cut to limit + 2 bytes (the
 * reader rejects it as too long, the same as a whole one) and its rest skipped.  Only UTF-8
 * files (a piece is not transcoded) and not the register (its conflicts need every row).  The producer
 * asks the stream for READ_STEP bytes at a time, like the line reader, so that an error names
 * the same position.
 */
#define READ_STEP (1u << 20)
static size_t chunk_bytes = 4u << 20;        /* a piece, at most */
static size_t chunk_min_file = 16u << 20;    /* smaller files are read whole by one thread */

void
load_set_piece_bytes(size_t bytes)
{
    chunk_bytes = bytes ? bytes : 4u << 20;
    chunk_min_file = bytes ? 0 : 16u << 20;
}

enum { E_REJECT, E_FACT, E_FACT_PENDING, E_PENDING };

typedef struct ChunkEntry {
    uint64_t hash;
    uint32_t idx;        /* into the piece's facts or rejects */
    uint32_t pidx;       /* into its pending records (E_PENDING, E_FACT_PENDING) */
    uint16_t sub, nsub;
    uint8_t  what;       /* E_* */
} ChunkEntry;

typedef struct Chunk {
    struct Chunk  *next;          /* in the queue of pieces to parse */
    const SourceDef *def;
    const char    *name;
    uint32_t       fno;
    unsigned char *data;          /* freed once parsed */
    size_t         len;
    uint64_t       offset;        /* of data[0] in the stream */
    bool           at_start;
    uint32_t       file_no;       /* in the load's order */
    uint64_t       lines_before;  /* line ends skipped before the piece (a cut long line's) */
    int            state;         /* CH_QUEUED, CH_PARSING, CH_DONE (under mu) */
    bool           failed;
    CbError        err;
    Vec            entries, facts, pending, rejects;
    Arena          strings;
    uint64_t       rows, records, lines;
} Chunk;

enum { CH_QUEUED, CH_PARSING, CH_DONE };

/* True for a file read in pieces when there are threads to share them. */
static bool
chunked(const LoadCtx *cx, const FileJob *fj)
{
    const SourceDef *def = &cx->defs[fj->def];
    return cx->nthreads > 1 && (def->format == RF_JSONL || def->format == RF_FIXED) &&
           def->encoding == ENC_UTF8 && def->kind != FK_REGISTER &&
           def->max_record_bytes + 5 <= chunk_bytes && fj->cost >= chunk_min_file;
}

/* Piece buffers and pieces are reused rather than freed and allocated again: memory touched
 * once, and no heap left fragmented by hundreds of large blocks freed in other threads. */
static unsigned char *
buffer_get(LoadCtx *cx)
{
    pthread_mutex_lock(&cx->mu);
    unsigned char *b = cx->nspare_bufs > 0 ? cx->spare_bufs[--cx->nspare_bufs] : NULL;
    pthread_mutex_unlock(&cx->mu);
    return b ? b : xmalloc(chunk_bytes + READ_STEP);
}

static void
buffer_put(LoadCtx *cx, unsigned char *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&cx->mu);
    if (cx->nspare_bufs < (int) (sizeof cx->spare_bufs / sizeof cx->spare_bufs[0])) {
        cx->spare_bufs[cx->nspare_bufs++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&cx->mu);
    free(b);
}

static Chunk *
chunk_new(LoadCtx *cx)
{
    pthread_mutex_lock(&cx->mu);
    Chunk *c = cx->spare;
    if (c != NULL)
        cx->spare = c->next;
    pthread_mutex_unlock(&cx->mu);
    if (c == NULL) {
        c = xcalloc(1, sizeof *c);
        vec_init(&c->entries, sizeof(ChunkEntry));
        vec_init(&c->facts, sizeof(Fact));
        vec_init(&c->pending, sizeof(PendingRecord));
        vec_init(&c->rejects, sizeof(Reject));
    }
    Vec entries = c->entries, facts = c->facts, pending = c->pending, rejects = c->rejects;
    memset(c, 0, sizeof *c);
    c->entries = entries;
    c->facts = facts;
    c->pending = pending;
    c->rejects = rejects;
    c->entries.len = c->facts.len = c->pending.len = c->rejects.len = 0;
    arena_init(&c->strings, 64 * 1024);
    return c;
}

/* Phase A: the records of piece c into its own lists. */
static void
parse_chunk(LoadCtx *cx, Chunk *c)
{
    Extract *ex = extract_open_chunk(c->def, c->name, c->data, c->len, c->offset, c->at_start, &c->err);
    if (ex == NULL) {
        c->failed = true;
        goto done;
    }
    DefInfo di = def_info(c->def);
    CanonRecord rec;
    ExtStatus es;
    while ((es = extract_next(ex, &rec, &c->err)) != EXT_EOF) {
        if (es == EXT_ERROR) {
            c->failed = true;
            break;
        }
        if (rec.sub <= 1) {
            c->rows++;
            fault_hit(FAULT_PARSE);
            if ((c->rows & 0x3FFF) == 0 &&
                (!cancel_check("the end of reading the delivery", &c->err) || stopped_before(cx, c->file_no))) {
                c->failed = true;
                break;
            }
        }
        c->records = rec.record_no;
        ChunkEntry *e = vec_push(&c->entries);
        e->sub = rec.sub;
        e->nsub = rec.nsub;
        e->hash = rec.hash;
        if (es == EXT_REJECT) {
            e->what = E_REJECT;
            e->idx = (uint32_t) c->rejects.len;
            add_reject(&c->rejects, &c->strings, c->fno, &rec);
        } else if (rec.id_status != IDNUM_OK) {
            e->what = E_PENDING;
            e->pidx = (uint32_t) c->pending.len;
            add_pending(&c->pending, &c->strings, &di, ex, c->fno, &rec, false);
        } else {
            e->idx = (uint32_t) c->facts.len;
            fill_fact(vec_push(&c->facts), &di, c->fno, &rec);
            e->what = E_FACT;
            if (rec.id_rewritten || (di.linkable && value(&rec, di.f_name))) {
                e->what = E_FACT_PENDING;
                e->pidx = (uint32_t) c->pending.len;
                add_pending(&c->pending, &c->strings, &di, ex, c->fno, &rec, true);
            }
        }
    }
    /* the piece's lines, for the next piece's line numbers: the reader has passed every line
     * end of a piece it read to the end (counting them again took 3 % of reading M) */
    c->lines = extract_line_ends(ex);
    extract_close(ex);
done:
    buffer_put(cx, c->data);
    c->data = NULL;
}

/* Takes a queued piece (of file fno only, when fno != UINT32_MAX), under mu. */
static Chunk *
take_chunk(LoadCtx *cx, uint32_t fno)
{
    for (Chunk **pp = &cx->queue; *pp != NULL; pp = &(*pp)->next)
        if (fno == UINT32_MAX || (*pp)->fno == fno) {
            Chunk *c = *pp;
            *pp = c->next;
            if (cx->queue_tail == c) {
                cx->queue_tail = NULL;
                for (Chunk *q = cx->queue; q != NULL; q = q->next)
                    cx->queue_tail = q;
            }
            c->state = CH_PARSING;
            return c;
        }
    return NULL;
}

/* Parses a piece taken from the queue and says so, the lock not held. */
static void
parse_taken(LoadCtx *cx, Chunk *c)
{
    parse_chunk(cx, c);
    pthread_mutex_lock(&cx->mu);
    c->state = CH_DONE;
    pthread_cond_broadcast(&cx->cv);
    pthread_mutex_unlock(&cx->mu);
}

/* The state of a file read in pieces, for its producer. */
typedef struct Pieces {
    Chunk  **chunks;              /* in order; NULL once merged (and reused) */
    size_t   n, cap, merged;
    bool     failed;              /* a piece failed: nothing more is merged */
    CbError  err;                 /* why */
    uint64_t records, line;       /* before the next piece to merge: records, its first line */
    bool     row_accepted;
} Pieces;

static void
chunk_free(Chunk *c)
{
    free(c->data);
    vec_free(&c->entries);
    vec_free(&c->facts);
    vec_free(&c->pending);
    vec_free(&c->rejects);
    arena_free(&c->strings);
    free(c);
}

/* A piece done with: its buffer and lists kept for the next. */
static void
chunk_release(LoadCtx *cx, Chunk *c)
{
    buffer_put(cx, c->data);
    c->data = NULL;
    arena_free(&c->strings);
    pthread_mutex_lock(&cx->mu);
    c->next = cx->spare;
    cx->spare = c;
    pthread_mutex_unlock(&cx->mu);
}

/* Phase B: piece c's records in order, as read_file treats them. */
static void
merge_chunk(TaskState *ts, Pieces *pc, Chunk *c, SourceOut *so, SourceFile *sf, KeySet *dups)
{
    const ChunkEntry *e = c->entries.data;
    size_t n = c->entries.len;
    pc->line += c->lines_before;
    uint64_t rec0 = pc->records, line0 = pc->line - 1;
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n && e[i + 8].what != E_REJECT)
            set_prefetch(dups, e[i + 8].hash);
        bool first = e[i].sub <= 1, last = e[i].sub == e[i].nsub;
        if (first) {
            sf->read++;
            pc->row_accepted = false;
        }
        if (e[i].what == E_REJECT) {
            Reject *rj = vec_push(&so->rejects);
            *rj = VEC_AT(&c->rejects, Reject, e[i].idx);
            rj->record_no += rec0;
            rj->line_no += line0;
            sf->rejected++;
            continue;
        }
        if (set_put(dups, e[i].hash, 1, NULL)) {
            if (last && !pc->row_accepted)
                sf->duplicates++;
            else if (last)
                sf->accepted++;
            continue;
        }
        if (e[i].what == E_PENDING || e[i].what == E_FACT_PENDING) {
            PendingRecord *pr = vec_push(&so->pending);
            *pr = VEC_AT(&c->pending, PendingRecord, e[i].pidx);
            pr->fact.record += rec0;
            pr->line_no += line0;
        }
        if (e[i].what == E_PENDING)
            continue;   /* counted by identity_link */
        Fact f = VEC_AT(&c->facts, Fact, e[i].idx);
        f.record += rec0;
        if (e[i].what == E_FACT_PENDING || e[i].nsub > 0)
            *new_fact(ts) = f;   /* as read_file: only plain facts are kept or superseded */
        else
            keep_fact(ts, &f);
        pc->row_accepted = true;
        if (last)
            sf->accepted++;
    }
    pc->records += c->records;
    pc->line += c->lines;
    if (c->strings.head != NULL)
        *(Arena *) vec_push(&so->arenas) = c->strings;   /* rejects and pending point into it */
    arena_init(&c->strings, 1);
}

/* Merges the parsed pieces that are next in order (none after a failed one); a merged piece
 * goes back to the pool at once. */
static void
merge_ready(TaskState *ts, Pieces *pc, SourceOut *so, SourceFile *sf, KeySet *dups)
{
    while (!pc->failed) {
        pthread_mutex_lock(&ts->cx->mu);
        bool ready = pc->merged < pc->n && pc->chunks[pc->merged]->state == CH_DONE;
        pthread_mutex_unlock(&ts->cx->mu);
        if (!ready)
            return;
        Chunk *c = pc->chunks[pc->merged];
        pc->chunks[pc->merged++] = NULL;
        if (c->failed) {
            pc->failed = true;
            pc->err = c->err;
        } else {
            merge_chunk(ts, pc, c, so, sf, dups);
        }
        chunk_release(ts->cx, c);
    }
}

/* Parses this file's queued pieces itself (or, after a failure, drops them), merges what is
 * ready; returns when at most `keep` pieces of the file wait in the queue, or with `all` when
 * every piece is merged or dropped and none is in another thread's hands. */
static void
drain_pieces(TaskState *ts, Pieces *pc, uint32_t fno, SourceOut *so, SourceFile *sf, KeySet *dups,
             bool all, size_t keep, bool failed)
{
    LoadCtx *cx = ts->cx;
    for (;;) {
        merge_ready(ts, pc, so, sf, dups);
        pthread_mutex_lock(&cx->mu);
        size_t queued = 0;
        for (Chunk *q = cx->queue; q != NULL; q = q->next)
            queued += q->fno == fno;
        if (!all && queued <= keep) {
            pthread_mutex_unlock(&cx->mu);
            return;
        }
        Chunk *c = queued ? take_chunk(cx, fno) : NULL;
        if (c != NULL && (failed || pc->failed)) {   /* not needed any more */
            c->failed = true;
            c->state = CH_DONE;
            pthread_mutex_unlock(&cx->mu);
            buffer_put(cx, c->data);
            pthread_mutex_lock(&cx->mu);
            c->data = NULL;
            pthread_mutex_unlock(&cx->mu);
            continue;
        }
        if (c != NULL) {
            pthread_mutex_unlock(&cx->mu);
            parse_taken(cx, c);
            continue;
        }
        bool busy = false, waiting = false;
        for (size_t i = pc->merged; i < pc->n; i++) {
            busy |= pc->chunks[i]->state == CH_PARSING;
            waiting |= pc->chunks[i]->state != CH_DONE;
        }
        if (!busy && (!waiting || pc->failed)) {
            pthread_mutex_unlock(&cx->mu);
            if (!pc->failed && pc->merged < pc->n)
                continue;   /* done but not merged yet */
            return;
        }
        pthread_cond_wait(&cx->cv, &cx->mu);
        pthread_mutex_unlock(&cx->mu);
    }
}

/* Reads file file_no in pieces (chunked() said so): the same contract as read_file. */
static bool
read_file_chunked(TaskState *ts, uint32_t file_no, KeySet *dups, CbError *err)
{
    LoadCtx *cx = ts->cx;
    const FileJob *fj = &cx->files[file_no];
    const SourceDef *def = &cx->defs[fj->def];
    SourceOut *so = &cx->out[fj->def];
    uint32_t fno = cx->base + file_no;
    if (!cancel_check("reading the delivery", err))
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cx->dir, fj->name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        CB_FAIL(err, CBERR_IO, "could not stat extract: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    double t0 = clock_now();
    ByteStream bs;
    if (!bytestream_open_file(&bs, path, err))
        return false;
    SourceFile *sf = &VEC_AT(&cx->st->files, SourceFile, fno);
    sf->size = (uint64_t) sb.st_size;
    pthread_mutex_lock(&cx->mu);
    cx->producers++;
    pthread_mutex_unlock(&cx->mu);

    Pieces pc = {.line = 1};
    bool ok = true, eof = false, skipping = false;
    size_t max_line = def->max_record_bytes + 2;   /* longer without a line end: cut */
    size_t keep = (size_t) cx->nthreads * 2;       /* pieces waiting, at most */
    uint64_t pos = 0;                              /* stream offset of buf[0] */
    uint64_t skipped_lines = 0;                    /* before the next piece */
    unsigned char *buf = buffer_get(cx);
    size_t len = 0;
    while (ok && !pc.failed) {
        if (stopped_before(cx, file_no) || !cancel_check("the end of reading the delivery", err)) {
            ok = false;
            break;
        }
        while (len < chunk_bytes && !eof) {
            ssize_t got = bytestream_read(&bs, buf + len, READ_STEP, err);
            if (got < 0) {
                ok = false;
                break;
            }
            eof = got == 0;
            len += (size_t) got;
            if (skipping) {   /* the rest of a cut line, up to its end */
                unsigned char *nl = memchr(buf, '\n', len);
                size_t drop = nl ? (size_t) (nl - buf) + 1 : len;
                memmove(buf, buf + drop, len - drop);
                len -= drop;
                pos += drop;
                if (nl != NULL) {
                    skipping = false;
                    skipped_lines++;
                }
            }
        }
        if (!ok || len == 0)
            break;
        /* the piece: up to its last line end within chunk_bytes; all that is left at the end */
        size_t cut = len, from;
        bool cut_line = false;
        if (!eof || len > chunk_bytes) {
            unsigned char *nl = memrchr(buf, '\n', len < chunk_bytes ? len : chunk_bytes);
            if (nl != NULL) {
                cut = (size_t) (nl - buf) + 1;
            } else {
                /* a line longer than the limit: enough of it to say so (after a BOM) */
                cut = max_line + (pos == 0 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
                cut_line = true;
            }
        }
        from = cut;
        bool dropped_end = false;   /* the cut line's end, dropped after this piece */
        if (cut_line) {   /* its rest is dropped, up to its end */
            unsigned char *nl = memchr(buf + cut, '\n', len - cut);
            from = nl ? (size_t) (nl - buf) + 1 : len;
            skipping = nl == NULL && !eof;
            dropped_end = nl != NULL;
        }
        Chunk *c = chunk_new(cx);
        c->def = def;
        c->name = fj->name;
        c->fno = fno;
        c->file_no = file_no;
        c->offset = pos;
        c->at_start = pos == 0;
        c->lines_before = skipped_lines;
        skipped_lines = dropped_end;
        c->data = buf;
        c->len = cut;
        /* what follows starts the next buffer */
        unsigned char *next = buffer_get(cx);
        memcpy(next, buf + from, len - from);
        pos += from;
        len -= from;
        buf = next;
        if (pc.n == pc.cap) {
            pc.cap = pc.cap ? pc.cap * 2 : 64;
            pc.chunks = xrealloc(pc.chunks, pc.cap * sizeof *pc.chunks);
        }
        pc.chunks[pc.n++] = c;
        pthread_mutex_lock(&cx->mu);
        c->state = CH_QUEUED;
        if (cx->queue_tail)
            cx->queue_tail->next = c;
        else
            cx->queue = c;
        cx->queue_tail = c;
        pthread_cond_broadcast(&cx->cv);
        pthread_mutex_unlock(&cx->mu);
        drain_pieces(ts, &pc, fno, so, sf, dups, false, keep, false);
    }
    buffer_put(cx, buf);
    /* the pieces still queued or in other threads' hands; the rest merged */
    drain_pieces(ts, &pc, fno, so, sf, dups, true, 0, !ok);
    if (pc.failed && ok) {
        ok = false;
        *err = pc.err;
    }
    for (size_t i = pc.merged; i < pc.n; i++)   /* after a failure: those not merged */
        chunk_release(cx, pc.chunks[i]);
    free(pc.chunks);
    pthread_mutex_lock(&cx->mu);
    cx->producers--;
    pthread_cond_broadcast(&cx->cv);
    pthread_mutex_unlock(&cx->mu);
    if (ok) {
        flockfile(stderr);
        log_info("event=stage_done stage=read what=\"%s\" records=%llu seconds=%.3f pieces=%zu",
                 fj->name, (unsigned long long) sf->read, clock_now() - t0, pc.n);
        funlockfile(stderr);
        so->bytes += bs.out_total;
        if (!bytestream_sha256(&bs, sf->sha256))
            ok = CB_FAIL(err, CBERR_INTERNAL, "could not compute SHA-256 of %s", fj->name);
    }
    bytestream_close(&bs);
    return ok;
}

/* (load.h) A source's duplicate set is sized by it: a guess of 256 bytes a record made the sets
 * of five sources at M grow once (rehashing 19.5 M keys in all, 11.7 M of them for the resident
 * payments, 130 bytes a row). */
uint64_t
load_estimate_records(const char *path, uint64_t bytes)
{
    enum { SAMPLE = 1 << 20 };
    gzFile g = gzopen(path, "rb");
    if (g == NULL)
        return 0;
    char *buf = xmalloc(SAMPLE);
    int got = gzread(g, buf, SAMPLE);
    gzclose(g);
    uint64_t lines = 0;
    const char *end = buf + (got > 0 ? got : 0);
    for (const char *p = buf; (p = memchr(p, '\n', (size_t) (end - p))) != NULL; p++)
        lines++;
    free(buf);
    if (got <= 0 || lines == 0)
        return 0;
    return got < SAMPLE ? lines + 1 : (uint64_t) ((double) bytes * (double) lines / got) + 1;
}

/* A file's records: estimated from its lines, else from its size (a register row is about
 * 170 bytes, another record taken as 256). */
static uint64_t
file_records(const FileJob *fj, FactKind kind)
{
    return fj->records ? fj->records : fj->cost / (kind == FK_REGISTER ? 170 : 256);
}

/* Records of a source to expect, for sizing its duplicate set. */
static size_t
expected_records(const LoadCtx *cx, int def)
{
    uint64_t n = 0;
    for (int j = 0; j < cx->nfiles_def[def]; j++)
        n += file_records(&cx->files[cx->first_file[def] + (size_t) j], cx->defs[def].kind);
    return (size_t) (n > (1u << 26) ? (1u << 26) : n);
}

/* The persons a source with history = latest is sized for: its records, but no more than half
 * the register's rows (about 170 bytes each).  The map sized so holds up to 1.4 times that
 * before it grows once (the claims at M: 5.35 M persons of 7 M in 8 M slots, as the growth
 * from 1,024 reached; sized for the whole register, 16 M slots and twice the memory). */
static size_t
expected_persons(const LoadCtx *cx, int def)
{
    size_t n = expected_records(cx, def), half = cx->register_rows / 2;
    return n < half ? n : half;
}

static void
run_task(LoadCtx *cx, const LoadTask *t)
{
    TaskState ts = {.cx = cx, .facts = xmalloc(FACT_BUF * sizeof(Fact))};
    if (cx->defs[t->defs[0]].kind == FK_REGISTER) {
        ts.register_task = true;
        /* sized for the register's records (it grew from 1,024 slots, 1 % of reading it) */
        set_init(&ts.reg_seen, expected_records(cx, t->defs[0]), true);
    }
    bool ok = true;
    for (int d = 0; d < t->ndefs && ok; d++) {
        int k = t->defs[d];
        KeySet dups;
        set_init(&dups, expected_records(cx, k), false);
        latest_begin(&ts, &cx->defs[k], cx->asof, expected_persons(cx, k));
        for (int j = 0; j < cx->nfiles_def[k] && ok; j++) {
            uint32_t file_no = (uint32_t) (cx->first_file[k] + (size_t) j);
            if (stopped_before(cx, file_no)) {
                ok = false;
                break;
            }
            bool read = chunked(cx, &cx->files[file_no])
                            ? read_file_chunked(&ts, file_no, &dups, &cx->errs[file_no])
                            : read_file(&ts, file_no, &dups, &cx->errs[file_no]);
            if (!read) {
                ok = false;
                if (cx->errs[file_no].message[0] != '\0')
                    note_failure(cx, file_no);
            }
        }
        set_free(&dups);
        latest_end(&ts, &cx->defs[k], ok);
    }
    flush_facts(&ts);
    if (ts.register_task)
        set_free(&ts.reg_seen);
    free(ts.facts);
}

/* A thread: pieces of files first (their producers wait for them), then tasks, then, while
 * files are being cut, waits for more pieces. */
typedef struct WorkerArg {
    LoadCtx *cx;
    int      index;
} WorkerArg;

static double
thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
    LoadCtx *cx = ((WorkerArg *) arg)->cx;
    double cpu0 = thread_cpu();
    pthread_mutex_lock(&cx->mu);
    for (;;) {
        Chunk *c = take_chunk(cx, UINT32_MAX);
        if (c != NULL) {
            pthread_mutex_unlock(&cx->mu);
            parse_taken(cx, c);
            pthread_mutex_lock(&cx->mu);
            continue;
        }
        if (cx->next_task < cx->ntasks) {
            size_t i = cx->next_task++;
            pthread_mutex_unlock(&cx->mu);
            run_task(cx, &cx->tasks[i]);
            pthread_mutex_lock(&cx->mu);
            continue;
        }
        if (cx->producers == 0)
            break;
        pthread_cond_wait(&cx->cv, &cx->mu);
    }
    pthread_mutex_unlock(&cx->mu);
    cx->cpu[((WorkerArg *) arg)->index] = thread_cpu() - cpu0;
    return NULL;
}

/* Decompressed size of a file, estimated: its size, or for gzip the size its trailer gives
 * (modulo 4 GiB; at least the compressed size). */
static uint64_t
estimate_bytes(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat sb;
    uint64_t size = fstat(fd, &sb) == 0 ? (uint64_t) sb.st_size : 0;
    unsigned char head[2], tail[4];
    if (size >= 18 && pread(fd, head, 2, 0) == 2 && head[0] == 0x1f && head[1] == 0x8b &&
        pread(fd, tail, 4, (off_t) size - 4) == 4) {
        uint64_t isize = (uint64_t) tail[0] | (uint64_t) tail[1] << 8 | (uint64_t) tail[2] << 16 |
                         (uint64_t) tail[3] << 24;
        /* the trailer holds the size modulo 4 GiB: of a file that may inflate past it (text
         * deflates four- to tenfold), the first candidate at least four times its size (the
         * claims at M, 2.0 GB: 661 MB in the trailer, 13.5 GB in fact, 9.2 GB estimated) */
        while (isize < 4 * size && size > (UINT64_C(1) << 32) / 10)
            isize += UINT64_C(1) << 32;
        if (isize > size)
            size = isize;
    }
    close(fd);
    return size;
}

static int
cmp_task_cost(const void *a, const void *b)
{
    const LoadTask *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->defs[0] > y->defs[0]) - (x->defs[0] < y->defs[0]);
}

int
load_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > LOAD_MAX_THREADS ? LOAD_MAX_THREADS : (int) n;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Appends the items of src to dst (same element size) and empties src. */
static void
vec_append(Vec *dst, Vec *src)
{
    if (src->len == 0)
        return;
    if (dst->len == 0 && dst->cap == 0) {   /* take it over */
        free(dst->data);
        *dst = *src;
        vec_init(src, src->elem);
        return;
    }
    vec_reserve(dst, dst->len + src->len);
    memcpy((char *) dst->data + dst->len * dst->elem, src->data, src->len * src->elem);
    dst->len += src->len;
    vec_free(src);
    vec_init(src, dst->elem);
}

/* Reads the claimed files (the manifests checked): tasks shared out over the threads, the
 * outputs then put together in definition order. */
static bool
read_all(Store *st, const SourceDef *defs, int ndefs, const char *dir, char **names, size_t nn,
         const int *owner, const int *nfiles, int threads, Day asof, LoadReport *rep, CbError *err)
{
    LoadCtx cx = {.st = st, .defs = defs, .dir = dir, .fail_at = UINT32_MAX, .asof = asof};
    size_t total = 0;
    for (int k = 0; k < ndefs; k++)
        total += (size_t) nfiles[k];
    if (st->files.len + total >= 0xFFFF)
        return CB_FAIL(err, CBERR_INPUT, "more than 65534 extract files in one delivery");
    /* file numbers: definition order, then name order */
    cx.base = (uint32_t) st->files.len;
    cx.files = xcalloc(total ? total : 1, sizeof *cx.files);
    cx.first_file = xcalloc((size_t) ndefs, sizeof *cx.first_file);
    cx.nfiles_def = xcalloc((size_t) ndefs, sizeof *cx.nfiles_def);
    cx.out = xcalloc((size_t) ndefs, sizeof *cx.out);
    cx.errs = xcalloc(total ? total : 1, sizeof *cx.errs);
    for (int k = 0; k < ndefs; k++) {
        cx.first_file[k] = cx.nfiles;
        cx.nfiles_def[k] = nfiles[k];
        vec_init(&cx.out[k].persons, sizeof(Person));
        vec_init(&cx.out[k].rejects, sizeof(Reject));
        vec_init(&cx.out[k].pending, sizeof(PendingRecord));
        vec_init(&cx.out[k].arenas, sizeof(Arena));
        arena_init(&cx.out[k].strings, 1 << 20);
        vec_init(&cx.out[k].text, 1);
        set_init(&cx.out[k].divisions, 64, true);
        if (nfiles[k] == 0)
            continue;
        for (size_t i = 0; i < nn; i++) {
            if (owner[i] != k)
                continue;
            FileJob *fj = &cx.files[cx.nfiles++];
            fj->def = k;
            fj->name = names[i];
            fj->cost = estimate_bytes(dir, names[i]);
            if (defs[k].format == RF_XLSX)
                fj->cost *= 10;   /* a workbook is zipped XML: many times its size to read */
            if (defs[k].format == RF_CSV || defs[k].format == RF_FIXED || defs[k].format == RF_JSONL) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                fj->records = load_estimate_records(path, fj->cost);
            }
            SourceFile *sf = vec_push(&st->files);
            sf->source = defs[k].name;
            sf->agency = defs[k].agency;
            sf->kind = defs[k].kind;
            sf->name = arena_strdup(&st->strings, names[i]);
        }
    }
    /* tasks: a source each; every register source in one */
    cx.tasks = xcalloc((size_t) ndefs + 1, sizeof *cx.tasks);
    LoadTask *reg = NULL;
    for (int k = 0; k < ndefs; k++) {
        if (nfiles[k] == 0)
            continue;
        LoadTask *t;
        if (defs[k].kind == FK_REGISTER && reg != NULL && reg->ndefs < 64) {
            t = reg;
        } else {
            t = &cx.tasks[cx.ntasks++];
            if (defs[k].kind == FK_REGISTER && reg == NULL)
                reg = t;
        }
        t->defs[t->ndefs++] = k;
        for (int j = 0; j < nfiles[k]; j++) {
            t->cost += cx.files[cx.first_file[k] + (size_t) j].cost;
            if (defs[k].kind == FK_REGISTER)
                cx.register_rows += (size_t) file_records(&cx.files[cx.first_file[k] + (size_t) j], defs[k].kind);
        }
    }
    if (threads < 1)
        threads = load_default_threads();
    if ((size_t) threads > cx.ntasks)
        threads = cx.ntasks > 0 ? (int) cx.ntasks : 1;
    if (threads > 1)   /* the largest first, so that none is left running alone at the end */
        qsort(cx.tasks, cx.ntasks, sizeof *cx.tasks, cmp_task_cost);
    cx.progress = threads == 1;
    cx.nthreads = threads;
    pthread_mutex_init(&cx.mu, NULL);
    pthread_cond_init(&cx.cv, NULL);
    pthread_t tid[LOAD_MAX_THREADS];
    WorkerArg wa[LOAD_MAX_THREADS];
    int started = 0;
    for (int i = 1; i < threads; i++) {
        wa[started + 1] = (WorkerArg) {&cx, started + 1};
        if (pthread_create(&tid[started], NULL, worker, &wa[started + 1]) != 0) {
            log_warn("event=thread_not_started note=\"reading with %d threads\"", started + 1);
            break;
        }
        started++;
    }
    wa[0] = (WorkerArg) {&cx, 0};
    worker(&wa[0]);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (started > 0) {   /* how evenly the threads shared the work */
        char list[LOAD_MAX_THREADS * 8] = "";
        size_t o = 0;
        for (int i = 0; i <= started && o + 16 < sizeof list; i++)
            o += (size_t) snprintf(list + o, sizeof list - o, "%s%.2f", i ? "," : "", cx.cpu[i]);
        log_info("event=read_threads threads=%d cpu_seconds=%s", started + 1, list);
    }
    pthread_mutex_destroy(&cx.mu);
    pthread_cond_destroy(&cx.cv);
    while (cx.spare != NULL) {
        Chunk *c = cx.spare;
        cx.spare = c->next;
        chunk_free(c);
    }
    for (int i = 0; i < cx.nspare_bufs; i++)
        free(cx.spare_bufs[i]);

    bool ok = cx.fail_at == UINT32_MAX;
    if (!ok)
        *err = cx.errs[cx.fail_at];
    /* in definition order: exactly as one thread appends them */
    for (int k = 0; k < ndefs; k++) {
        SourceOut *so = &cx.out[k];
        if (ok) {
            vec_append(&st->persons, &so->persons);
            vec_append(&st->rejects, &so->rejects);
            vec_append(&rep->pending, &so->pending);
            rep->bytes += so->bytes;
        }
        vec_free(&so->persons);
        vec_free(&so->rejects);
        vec_free(&so->pending);
        vec_free(&so->text);
        set_free(&so->divisions);
        store_adopt_arena(st, &so->strings);   /* freed with the store */
        arena_free(&so->strings);
        for (size_t i = 0; i < so->arenas.len; i++)
            store_adopt_arena(st, &VEC_AT(&so->arenas, Arena, i));
        vec_free(&so->arenas);
    }
    free(cx.files);
    free(cx.first_file);
    free(cx.nfiles_def);
    free(cx.out);
    free(cx.errs);
    free(cx.tasks);
    return ok;
}

bool
load_delivery(Store *st, const SourceDef *defs, int ndefs, const char *dir, bool require_sources,
              LoadReport *rep, CbError *err)
{
    return load_delivery_threads(st, defs, ndefs, dir, require_sources, 0, rep, err);
}

bool
load_delivery_threads(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                      bool require_sources, int threads, LoadReport *rep, CbError *err)
{
    return load_delivery_asof(st, defs, ndefs, dir, require_sources, threads, DAY_NONE, rep, err);
}

bool
load_delivery_asof(Store *st, const SourceDef *defs, int ndefs, const char *dir,
                   bool require_sources, int threads, Day asof, LoadReport *rep, CbError *err)
{
    memset(rep, 0, sizeof *rep);
    vec_init(&rep->pending, sizeof(PendingRecord));
    double t0 = clock_now();
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open extracts folder: %m");
        cb_error_at(err, "%s", dir);
        return false;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 64;
            names = xrealloc(names, cap * sizeof(char *));
        }
        names[nn++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (nn > 1)
        qsort(names, nn, sizeof(char *), cmp_name);

    int *owner = xcalloc(nn ? nn : 1, sizeof(int));
    int *nfiles = xcalloc((size_t) ndefs, sizeof(int));
    bool ok = true;
    for (size_t i = 0; i < nn && ok; i++) {
        owner[i] = -1;
        for (int k = 0; k < ndefs; k++) {
            if (!sourcedef_claims(&defs[k], names[i]))
                continue;
            if (owner[i] >= 0) {
                ok = CB_FAIL(err, CBERR_INPUT, "file %s is claimed by two sources: %s and %s",
                             names[i], defs[owner[i]].name, defs[k].name);
                cb_error_hint(err, "make the files patterns of %s and %s disjoint",
                              defs[owner[i]].path, defs[k].path);
                break;
            }
            owner[i] = k;
            nfiles[k]++;
        }
        for (int k = 0; k < ndefs && ok && owner[i] < 0; k++)
            if ((defs[k].manifest && fnmatch(defs[k].manifest, names[i], 0) == 0) ||
                (defs[k].signature && fnmatch(defs[k].signature, names[i], 0) == 0))
                owner[i] = -2;   /* a source's manifest or signature */
        if (ok && owner[i] == -1) {
            rep->unclaimed = xrealloc(rep->unclaimed, sizeof(char *) * (size_t) (rep->nunclaimed + 1));
            rep->unclaimed[rep->nunclaimed++] = xstrdup(names[i]);
        }
    }
    for (int k = 0; k < ndefs && ok; k++) {
        if (nfiles[k] > 0)
            continue;
        if (defs[k].required && require_sources) {
            ok = CB_FAIL(err, CBERR_INPUT, "required source %s (%s) delivered no file",
                         defs[k].name, defs[k].agency);
            cb_error_at(err, "%s", dir);
            cb_error_detail(err, "no file matches the patterns of %s", defs[k].path);
        } else {
            rep->missing_optional = xrealloc(rep->missing_optional,
                                             sizeof(char *) * (size_t) (rep->nmissing_optional + 1));
            rep->missing_optional[rep->nmissing_optional++] = xstrdup(defs[k].name);
        }
    }

    /* manifests and signatures, before any record is read */
    for (int k = 0; k < ndefs && ok; k++) {
        if (nfiles[k] == 0 || defs[k].manifest == NULL)
            continue;
        char **mine = xcalloc((size_t) nfiles[k], sizeof(char *));
        int nm = 0;
        for (size_t i = 0; i < nn; i++)
            if (owner[i] == k)
                mine[nm++] = names[i];
        CbError verr;
        if (!manifest_verify(&defs[k], dir, names, (int) nn, mine, nm, &verr)) {
            if (defs[k].required) {
                *err = verr;
                char msg[sizeof verr.message];
                snprintf(msg, sizeof msg, "required source %s stopped: %s", defs[k].name, verr.message);
                snprintf(err->message, sizeof err->message, "%s", msg);
                ok = false;
            } else {
                char line[2048];
                snprintf(line, sizeof line, "%s: %s%s%s", defs[k].name, verr.input_at,
                         verr.input_at[0] ? ": " : "", verr.message);
                rep->stopped = xrealloc(rep->stopped, sizeof(char *) * (size_t) (rep->nstopped + 1));
                rep->stopped[rep->nstopped++] = xstrdup(line);
                for (size_t i = 0; i < nn; i++)
                    if (owner[i] == k)
                        owner[i] = -3;   /* not read */
                nfiles[k] = 0;
            }
        }
        free(mine);
    }

    if (ok)
        ok = read_all(st, defs, ndefs, dir, names, nn, owner, nfiles, threads, asof, rep, err);
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(owner);
    free(nfiles);
    rep->seconds = clock_now() - t0;
    return ok;
}

void
load_report_free(LoadReport *rep)
{
    for (int i = 0; i < rep->nunclaimed; i++)
        free(rep->unclaimed[i]);
    for (int i = 0; i < rep->nmissing_optional; i++)
        free(rep->missing_optional[i]);
    for (int i = 0; i < rep->nstopped; i++)
        free(rep->stopped[i]);
    free(rep->stopped);
    free(rep->unclaimed);
    free(rep->missing_optional);
    vec_free(&rep->pending);
    memset(rep, 0, sizeof *rep);
}
