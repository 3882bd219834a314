/*
 * linkage — identity_link(): ID repair and Fellegi-Sunter linkage of the pending records
 * (contract in identity.h).
 *
 * Memory: one arena for the step (normalised names and addresses of the register and of the
 * records, comparison vectors), freed at the end; the facts, rejects and strings it adds go to
 * the store.  Time: near-linear — every register person is visited a fixed number of times
 * (evidence, two blocking passes), every record a fixed number of times per blocking rule, and
 * the comparison work is proportional to the candidate pairs: a block over max_block persons is
 * replaced by finer keys, so a record's candidates do not grow with the register (only a
 * record whose every block is over the cap falls back on the smallest, up to
 * max_fallback_block, and those are counted in the log).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "idrepair.h"
#include "log.h"

/* ---- the model's comparisons ---- */

static const char *const cmp_names[CMP_COUNT] = {
    "name", "sex", "birth_date", "age", "address", "place", "register_death", "sign_of_life",
};

void
identity_model_init(const LinkConfig *c, FsModel *fm)
{
    static const struct {
        int         n;
        const char *lv[FS_MAX_LEVELS];
    } L[CMP_COUNT] = {
        {4, {"other", "close", "same_pinyin", "exact"}},
        {2, {"different", "same"}},
        {5, {"other", "same_year", "day_month_swapped", "one_day_off", "exact"}},
        {3, {"other", "off_by_one", "consistent"}},
        {4, {"other", "same_township", "same_village", "exact"}},
        {3, {"other", "same_township", "same_village"}},
        {2, {"not_cancelled_for_death", "cancelled_for_death"}},
        {2, {"alive_after_date", "no_sign_after_date"}},
    };
    memset(fm, 0, sizeof *fm);
    fm->ncomp = CMP_COUNT;
    fm->tf_min = c && c->tf_min > 0 ? c->tf_min : 1e-6;
    for (int k = 0; k < CMP_COUNT; k++) {
        FsComparison *fc = &fm->comp[k];
        fc->name = cmp_names[k];
        fc->nlevels = L[k].n;
        bool have = c != NULL && c->m_start[k][0] > 0.0;
        for (int l = 0; l < L[k].n; l++) {
            fc->level[l] = L[k].lv[l];
            fc->m[l] = have ? c->m_start[k][l] : 1.0 / L[k].n;
            fc->u[l] = 1.0 / L[k].n;
        }
    }
    fm->comp[CMP_NAME].tf[3] = true;   /* exact: the name's frequency */
    fm->comp[CMP_NAME].tf[2] = true;   /* same pinyin: the pinyin's frequency */
}

const char *
identity_decision_name(LinkDecision d)
{
    static const char *const names[LD_COUNT] = {"exact", "repaired", "probable", "to_verify",
                                                "reviewed", "no_match", "ambiguous"};
    return (unsigned) d < LD_COUNT ? names[d] : "unknown";
}

LinkDecision
identity_decide(const LinkConfig *c, const double *w, int n, LinkChoice *o)
{
    o->best = o->second = -1;
    o->p_best = o->q_best = 0.0;
    o->margin = INFINITY;
    if (n <= 0)
        return LD_NO_MATCH;
    for (int i = 0; i < n; i++) {
        if (o->best < 0 || w[i] > w[o->best]) {
            o->second = o->best;
            o->best = i;
        } else if (o->second < 0 || w[i] > w[o->second]) {
            o->second = i;
        }
    }
    double wb = w[o->best], rel = 0.0;
    for (int i = 0; i < n; i++)
        rel += exp2(w[i] - wb);
    /* one record is one person at most: p_i = 2^w_i / (1 + sum_j 2^w_j) */
    o->p_best = 1.0 / (exp2(-wb) + rel);
    o->q_best = 1.0 / (1.0 + exp2(-wb));
    if (o->second >= 0)
        o->margin = wb - w[o->second];
    if (o->p_best >= c->link_probability && o->margin >= c->link_margin)
        return LD_PROBABLE;
    if (o->q_best >= c->review_probability)
        return LD_TO_VERIFY;
    return LD_NO_MATCH;
}

/* ---- evidence and comparison ---- */

static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static uint64_t
hash_n(const char *s, size_t n, uint64_t tag)
{
    uint64_t h = 0xCBF29CE484222325ull ^ tag;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) s[i];
        h *= 0x100000001B3ull;
    }
    return h ? h : 1;
}

void
identity_evidence(NameNorm *nn, Arena *arena, IdEvidence *ev, const char *name, uint8_t sex,
                  Day birth, int age, Day date, const char *address, const char *division)
{
    char buf[NAMES_MAX], py[NAMES_MAX * 4];
    memset(ev, 0, sizeof *ev);
    ev->last_seen = DAY_NONE;
    ev->sex = sex;
    ev->birth = birth;
    ev->age = age;
    ev->date = date;
    if (name && *name && names_normalise(nn, name, strlen(name), buf, sizeof buf) > 0) {
        ev->name = arena_strdup(arena, buf);
        ev->name_h = names_hash(buf);
        size_t k = 1;
        while (k < 4 && buf[k] && ((unsigned char) buf[k] & 0xC0) == 0x80)
            k++;
        char first[8];
        memcpy(first, buf, k);
        first[k] = '\0';
        /* the surname by its sound: variant and homophone characters meet */
        ev->surname_h = names_pinyin(nn, first, py, sizeof py) > 0 ? hash_n(py, strlen(py), 0x5E)
                                                                   : hash_n(buf, k, 0x5E);
        if (names_pinyin(nn, buf, py, sizeof py) > 0) {
            ev->pinyin = arena_strdup(arena, py);
            ev->pinyin_h = names_hash(py);
        }
    }
    if (address && *address && names_address(nn, address, strlen(address), buf, sizeof buf) > 0) {
        names_address_parts(buf, &ev->addr);
        /* exact: the same address from the township on (a province or city prefix or not) */
        ev->addr_h = ev->addr.local ? ev->addr.local : names_hash(buf);
    }
    if (division) {
        size_t dl = strlen(division);
        if (dl >= 12 && all_digits(division, 12))
            ev->div_village = hash_n(division, 12, 0xD1);
        if (dl >= 9 && all_digits(division, 9))
            ev->div_township = hash_n(division, 9, 0xD2);
    }
}

static bool
day_month_swapped(Day a, Day b)
{
    int ya, ma, da, yb, mb, db;
    date_to_ymd(a, &ya, &ma, &da);
    date_to_ymd(b, &yb, &mb, &db);
    return ya == yb && ma == db && da == mb && ma != da;
}

static int
year_of(Day d)
{
    int y;
    date_to_ymd(d, &y, NULL, NULL);
    return y;
}

static bool
has_place(const IdEvidence *e)
{
    return e->addr_h || e->div_village || e->div_township || e->addr.township || e->addr.village;
}

void
identity_compare(const LinkConfig *c, const IdEvidence *r, const IdEvidence *p, uint8_t g[CMP_COUNT])
{
    /* name */
    if (r->name == NULL || p->name == NULL)
        g[CMP_NAME] = FS_NULL;
    else if (r->name_h == p->name_h && strcmp(r->name, p->name) == 0)
        g[CMP_NAME] = 3;
    else if (r->pinyin && p->pinyin && r->pinyin_h == p->pinyin_h && strcmp(r->pinyin, p->pinyin) == 0)
        g[CMP_NAME] = 2;
    else
        g[CMP_NAME] = names_jaro_winkler(r->name, p->name) >= c->name_close - 1e-9 ? 1 : 0;
    /* sex */
    g[CMP_SEX] = r->sex > 1 || p->sex > 1 ? FS_NULL : r->sex == p->sex ? 1 : 0;
    /* birth date */
    if (r->birth == DAY_NONE || p->birth == DAY_NONE)
        g[CMP_BIRTH] = FS_NULL;
    else if (r->birth == p->birth)
        g[CMP_BIRTH] = 4;
    else if (r->birth - p->birth == 1 || p->birth - r->birth == 1)
        g[CMP_BIRTH] = 3;
    else if (day_month_swapped(r->birth, p->birth))
        g[CMP_BIRTH] = 2;
    else
        g[CMP_BIRTH] = year_of(r->birth) == year_of(p->birth) ? 1 : 0;
    /* age at the record's date (only when the record has no birth date) */
    if (r->birth != DAY_NONE || r->age < 0 || r->date == DAY_NONE || p->birth == DAY_NONE) {
        g[CMP_AGE] = FS_NULL;
    } else {
        int a = date_age(p->birth, r->date);
        g[CMP_AGE] = a < 0 ? 0 : a == r->age ? 2 : (a - r->age == 1 || r->age - a == 1) ? 1 : 0;
    }
    /* address or division: a record's address with a street and number compares at four levels
     * (address), one that names only a village or township, or a division code, at three
     * (place); each has its own m, as "same village" is all the second can say */
    g[CMP_ADDRESS] = g[CMP_PLACE] = FS_NULL;
    if (has_place(r) && has_place(p)) {
        uint8_t lv;
        if (r->addr_h && r->addr_h == p->addr_h)
            lv = 3;
        else if ((r->div_village && r->div_village == p->div_village) ||
                 (r->addr.village && r->addr.village == p->addr.village))
            lv = 2;
        else if ((r->div_township && r->div_township == p->div_township) ||
                 (r->addr.township && r->addr.township == p->addr.township))
            lv = 1;
        else
            lv = 0;
        if (r->addr_h && r->addr.detail)
            g[CMP_ADDRESS] = lv;
        else
            g[CMP_PLACE] = lv > 2 ? 2 : lv;
    }
    /* a death record and a person the police already cancelled for death */
    g[CMP_REGISTER_DEATH] = c->register_death && r->is_death ? (p->dead ? 1 : 0) : FS_NULL;
    /* a death record and a person who showed a sign of life after its date */
    if (!r->is_death || c->sign_of_life == 0 || !p->seen_known || r->date == DAY_NONE)
        g[CMP_SIGN_OF_LIFE] = FS_NULL;
    else
        g[CMP_SIGN_OF_LIFE] = p->last_seen != DAY_NONE && p->last_seen > r->date + c->sign_of_life_grace ? 0 : 1;
}

/* ---- small hash map: 64-bit key → 64-bit value ---- */

typedef struct U64Map {
    uint64_t *keys, *vals;
    size_t    mask, len;
} U64Map;

static inline uint64_t
mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    return k;
}

static void
map_init(U64Map *m, size_t n)
{
    size_t c = 64;
    while (c < n * 2)
        c <<= 1;
    m->keys = xcalloc(c, sizeof(uint64_t));
    m->vals = xcalloc(c, sizeof(uint64_t));
    m->mask = c - 1;
    m->len = 0;
}

static void
map_free(U64Map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Slot of key (inserted with value 0 when absent and insert is true); NULL when absent. */
static uint64_t *
map_slot(U64Map *m, uint64_t key, bool insert)
{
    if (key == 0)
        key = 0x9E3779B97F4A7C15ull;
    if (insert && (m->len + 1) * 2 > m->mask + 1) {
        U64Map big;
        map_init(&big, m->mask + 1);
        for (size_t i = 0; i <= m->mask; i++)
            if (m->keys[i]) {
                size_t h = mix64(m->keys[i]) & big.mask;
                while (big.keys[h])
                    h = (h + 1) & big.mask;
                big.keys[h] = m->keys[i];
                big.vals[h] = m->vals[i];
                big.len++;
            }
        map_free(m);
        *m = big;
    }
    size_t h = mix64(key) & m->mask;
    while (m->keys[h]) {
        if (m->keys[h] == key)
            return &m->vals[h];
        h = (h + 1) & m->mask;
    }
    if (!insert)
        return NULL;
    m->keys[h] = key;
    m->vals[h] = 0;
    m->len++;
    return &m->vals[h];
}

static uint64_t
map_get(const U64Map *m, uint64_t key, uint64_t dflt)
{
    uint64_t *v = map_slot((U64Map *) m, key, false);
    return v ? *v : dflt;
}

/* ---- the step's state ---- */

typedef struct Pair {
    uint32_t rec;       /* index into Ctx.set */
    uint32_t person;
    uint32_t rules;     /* bit per EM session (rule and level) that proposed it */
} Pair;

struct Blocker;

typedef struct Ctx {
    Store                 *st;
    LoadReport            *rep;
    const IdentityOptions *opt;
    IdentityResult        *res;
    LinkConfig             cf;
    NameNorm              *nn;
    Arena                  arena;
    /* register */
    size_t                 np;
    IdEvidence            *pev;
    U64Map                 pidx;          /* person key → index + 1 */
    U64Map                 name_tf, pinyin_tf;
    /* records */
    IdEvidence            *rev;           /* per pending record (those that need it) */
    bool                  *has_rev;
    uint32_t              *set;           /* pending indexes in the linkage set */
    size_t                 nset;
    bool                  *needs_prob;    /* per pending record: decided by the scorer */
    /* pairs */
    Pair                  *pairs;
    size_t                 npairs;
    uint8_t               *gamma;         /* npairs x CMP_COUNT */
    size_t                *first;         /* per set index: first pair (pairs sorted by rec) */
    struct Blocker        *blocker;       /* during block() */
    double                 log_prior;
    /* reviewers' decisions */
    Vec                    decisions;     /* ReviewDecision */
    U64Map                 dec_idx;       /* record key hash → first index + 1 (sorted) */
    FILE                  *ex;            /* explain output or NULL */
    int64_t                ex_pending;    /* pending index of the record to explain, -1 */
    TextBuf                text;          /* a candidate's text, read back (store_person_text) */
} Ctx;

static const Person *
person_at(const Ctx *c, size_t i)
{
    return &VEC_AT(&c->st->persons, Person, i);
}

static const SourceFile *
file_of(const Ctx *c, uint32_t f)
{
    return &VEC_AT(&c->st->files, SourceFile, f);
}

static PendingRecord *
pending_at(const Ctx *c, size_t i)
{
    return &VEC_AT(&c->rep->pending, PendingRecord, i);
}

static double
tf_of(const Ctx *c, const IdEvidence *r, const uint8_t *g)
{
    if (g[CMP_NAME] == 3)
        return (double) map_get(&c->name_tf, r->name_h, 1) / (double) c->np;
    if (g[CMP_NAME] == 2)
        return (double) map_get(&c->pinyin_tf, r->pinyin_h, 1) / (double) c->np;
    return 0.0;
}

static double
pair_weight(const Ctx *c, const IdEvidence *r, const uint8_t *g)
{
    double tf[CMP_COUNT] = {0};
    tf[CMP_NAME] = tf_of(c, r, g);
    return c->log_prior + fs_weight(&c->res->model, g, tf);
}

static void
format_id(PersonKey k, char out[19])
{
    idnum_format(k, out);
}

/* ---- reviewers' decisions ---- */

static uint64_t
decision_hash(const char *source, uint64_t record_hash)
{
    return mix64(names_hash(source) ^ mix64(record_hash));
}

static int
cmp_decision(const void *a, const void *b)
{
    const ReviewDecision *x = a, *y = b;
    uint64_t hx = decision_hash(x->source, x->record_hash), hy = decision_hash(y->source, y->record_hash);
    if (hx != hy)
        return hx < hy ? -1 : 1;
    return (x->decided_at > y->decided_at) - (x->decided_at < y->decided_at);
}

static void
index_decisions(Ctx *c)
{
    size_t n = c->decisions.len;
    ReviewDecision *d = c->decisions.data;
    if (n > 1)
        qsort(d, n, sizeof *d, cmp_decision);
    map_init(&c->dec_idx, n + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t *v = map_slot(&c->dec_idx, decision_hash(d[i].source, d[i].record_hash), true);
        if (*v == 0)
            *v = i + 1;
    }
}

/* The decisions about pending record pr: the person a reviewer said it is (latest "same"), and
 * whether candidate k was declared a different person. */
typedef struct Decided {
    PersonKey same;
    size_t    from, to;     /* range in the sorted decisions */
} Decided;

static Decided
decided_for(const Ctx *c, const PendingRecord *pr)
{
    Decided dd = {PERSON_KEY_NONE, 0, 0};
    if (c->decisions.len == 0)
        return dd;
    const char *src = file_of(c, pr->file)->source;
    uint64_t h = decision_hash(src, pr->hash);
    uint64_t i = map_get(&c->dec_idx, h, 0);
    if (i == 0)
        return dd;
    const ReviewDecision *d = c->decisions.data;
    size_t k = i - 1;
    dd.from = k;
    while (k < c->decisions.len && decision_hash(d[k].source, d[k].record_hash) == h) {
        if (strcmp(d[k].source, src) == 0 && d[k].record_hash == pr->hash && d[k].same)
            dd.same = d[k].candidate;   /* sorted by time: the latest wins */
        k++;
    }
    dd.to = k;
    return dd;
}

static bool
declared_different(const Ctx *c, const PendingRecord *pr, const Decided *dd, PersonKey key)
{
    const ReviewDecision *d = c->decisions.data;
    const char *src = file_of(c, pr->file)->source;
    bool diff = false;
    for (size_t k = dd->from; k < dd->to; k++)
        if (d[k].candidate == key && d[k].record_hash == pr->hash && strcmp(d[k].source, src) == 0)
            diff = !d[k].same;   /* the latest decision about this candidate */
    return diff;
}

/* ---- outcomes ---- */

static void
add_link_row(Ctx *c, const PendingRecord *pr, PersonKey key, LinkDecision d, double w, double second)
{
    LinkRow *lr = vec_push(&c->res->links);
    lr->file = pr->file;
    lr->record = pr->fact.record;
    lr->key = key;
    lr->decision = (uint8_t) d;
    lr->id_status = pr->id_status;
    lr->weight = w;
    lr->second = second;
}

static void
accept(Ctx *c, PendingRecord *pr, PersonKey key, LinkQuality q)
{
    Fact f = pr->fact;
    f.person = key;
    f.link = (uint8_t) q;
    store_add_fact(c->st, &f);
    VEC_AT(&c->st->files, SourceFile, pr->file).accepted++;
}

static void
reject(Ctx *c, PendingRecord *pr, const char *reason)
{
    Reject *rj = vec_push(&c->st->rejects);
    rj->file = pr->file;
    rj->record_no = pr->fact.record;
    rj->line_no = pr->line_no;
    rj->byte_offset = pr->byte_offset;
    rj->reason = arena_strdup(&c->st->strings, reason);
    rj->raw = pr->raw ? pr->raw : "";
    VEC_AT(&c->st->files, SourceFile, pr->file).rejected++;
}

static void
add_review(Ctx *c, const PendingRecord *pr, LinkDecision outcome, int rank, PersonKey cand,
           double w, double p, const char *levels)
{
    ReviewRow *rr = vec_push(&c->res->reviews);
    rr->file = pr->file;
    rr->record = pr->fact.record;
    rr->record_hash = pr->hash;
    rr->outcome = (uint8_t) outcome;
    rr->rank = rank;
    rr->candidate = cand;
    rr->weight = w;
    rr->probability = p;
    rr->levels = levels;
    if (cand != PERSON_KEY_NONE) {
        uint64_t i = map_get(&c->pidx, cand, 0);
        if (i) {
            PersonText t;
            store_person_text(c->st, person_at(c, i - 1), &c->text, &t);
            rr->candidate_name = t.name ? arena_strdup(&c->res->arena, t.name) : NULL;
        }
    }
}

/* JSON of a pair's levels and weights, in the result's arena. */
static const char *
levels_json(Ctx *c, const IdEvidence *r, const uint8_t *g)
{
    char buf[1024];
    size_t o = 0;
    const FsModel *fm = &c->res->model;
    double tf = tf_of(c, r, g);
    buf[o++] = '{';
    for (int k = 0; k < CMP_COUNT; k++) {
        if (g[k] == FS_NULL)
            continue;
        o += (size_t) snprintf(buf + o, sizeof buf - o, "%s\"%s\":{\"level\":\"%s\",\"weight\":%.3f}",
                               o > 1 ? "," : "", fm->comp[k].name, fm->comp[k].level[g[k]],
                               fs_level_weight(fm, k, g[k], k == CMP_NAME ? tf : 0.0));
        if (o >= sizeof buf - 2)
            return NULL;
    }
    buf[o++] = '}';
    buf[o] = '\0';
    return arena_strdup(&c->res->arena, buf);
}

/* ---- explain-match output ---- */

static void
explain_person(const Ctx *c, size_t pi)
{
    const Person *p = person_at(c, pi);
    TextBuf tb = {0};
    PersonText t;
    store_person_text(c->st, p, &tb, &t);
    char id[19], b[11] = "";
    format_id(p->key, id);
    if (p->birth != DAY_NONE)
        date_format(p->birth, b);
    fprintf(c->ex, "%s %s, %s, born %s, %s%s, %s %s\n", id, t.name ? t.name : "(no name)",
            p->sex == SEX_MALE ? "male" : p->sex == SEX_FEMALE ? "female" : "sex unknown",
            b[0] ? b : "?", p->status == REG_ACTIVE ? "active" : "cancelled",
            p->status != REG_ACTIVE && p->cancel_reason == CANCEL_DEATH ? " (death)" : "",
            p->division ? p->division : "", t.address ? t.address : "");
    textbuf_free(&tb);
}

static void
explain_record(const Ctx *c, const PendingRecord *pr, const IdEvidence *r)
{
    const SourceFile *sf = file_of(c, pr->file);
    char key[160], d[11];
    identity_record_key(sf->source, pr->hash, key);
    fprintf(c->ex, "record %s:%llu (source %s, fact %s; stable key %s)\n", sf->name,
            (unsigned long long) pr->fact.record, sf->source, factkind_name(sf->kind), key);
    char id[19] = "";
    if (pr->resolved && pr->fact.person != PERSON_KEY_NONE)
        format_id(pr->fact.person, id);
    fprintf(c->ex, "  ID number as written: %s (%s)\n", pr->id_chars ? pr->id_chars : id[0] ? id : "(none)",
            pr->id_status == IDNUM_OK ? "valid" : pr->id_status == IDNUM_EMPTY ? "missing"
                                                : idnum_status_text(pr->id_status));
    if (r == NULL)
        return;
    fprintf(c->ex, "  name: %s -> %s (pinyin %s)\n", pr->name ? pr->name : "(none)",
            r->name ? r->name : "(none)", r->pinyin ? r->pinyin : "-");
    fprintf(c->ex, "  sex: %s", r->sex == SEX_MALE ? "male" : r->sex == SEX_FEMALE ? "female" : "(none)");
    if (r->birth != DAY_NONE) {
        date_format(r->birth, d);
        fprintf(c->ex, "   birth date: %s", d);
    }
    if (r->age >= 0 && r->date != DAY_NONE) {
        date_format(r->date, d);
        fprintf(c->ex, "   age: %d at %s", r->age, d);
    }
    fprintf(c->ex, "\n  address: %s   division: %s\n", pr->address ? pr->address : "(none)",
            pr->division ? pr->division : "(none)");
}

static void
explain_pair(const Ctx *c, const IdEvidence *r, const uint8_t *g, double w, double p, int rank,
             size_t pi)
{
    const FsModel *fm = &c->res->model;
    fprintf(c->ex, "\n  candidate %d: ", rank);
    explain_person(c, pi);
    fprintf(c->ex, "    %-16s %-26s %10s %10s %9s\n", "comparison", "level", "m", "u / tf", "weight");
    fprintf(c->ex, "    %-16s %-26s %10s %10s %+9.2f\n", "prior", "", "", "", c->log_prior);
    double tf = tf_of(c, r, g);
    for (int k = 0; k < CMP_COUNT; k++) {
        const FsComparison *fc = &fm->comp[k];
        if (g[k] == FS_NULL) {
            fprintf(c->ex, "    %-16s %-26s %10s %10s %+9.2f\n", fc->name, "(not comparable)", "", "", 0.0);
            continue;
        }
        bool tfd = fc->tf[g[k]] && k == CMP_NAME && tf > 0;
        double u = tfd ? (tf > fm->tf_min ? tf : fm->tf_min) : fc->u[g[k]];
        fprintf(c->ex, "    %-16s %-26s %10.6f %10.6f%s %+8.2f\n", fc->name, fc->level[g[k]], fc->m[g[k]],
                u, tfd ? "*" : " ", fs_level_weight(fm, k, g[k], k == CMP_NAME ? tf : 0.0));
    }
    fprintf(c->ex, "    %-16s %-26s %10s %10s %+9.2f   probability %.6f\n", "total", "", "", "", w, p);
}

/* ---- register ---- */

static void
build_register(Ctx *c)
{
    c->np = c->st->persons.len;
    c->pev = arena_alloc(&c->arena, sizeof(IdEvidence) * (c->np ? c->np : 1));
    map_init(&c->pidx, c->np + 1);
    map_init(&c->name_tf, 1024);
    map_init(&c->pinyin_tf, 1024);
    progress_begin("identity", "register names");
    TextBuf tb = {.ahead = 1u << 20};   /* the persons in register order: the file read through */
    for (size_t i = 0; i < c->np; i++) {
        const Person *p = person_at(c, i);
        IdEvidence *e = &c->pev[i];
        PersonText t;
        store_person_text(c->st, p, &tb, &t);
        identity_evidence(c->nn, &c->arena, e, t.name, p->sex, p->birth, -1, DAY_NONE, t.address,
                          p->division);
        e->dead = p->status == REG_CANCELLED && p->cancel_reason == CANCEL_DEATH;
        *map_slot(&c->pidx, p->key, true) = i + 1;
        if (e->name)
            ++*map_slot(&c->name_tf, e->name_h, true);
        if (e->pinyin)
            ++*map_slot(&c->pinyin_tf, e->pinyin_h, true);
        if ((i & 0xFFFF) == 0)
            progress_update(i);
    }
    textbuf_free(&tb);
    progress_end(c->np);
}

static void
record_evidence(Ctx *c, size_t i)
{
    PendingRecord *pr = pending_at(c, i);
    IdEvidence *e = &c->rev[i];
    identity_evidence(c->nn, &c->arena, e, pr->name, pr->sex, pr->birth, pr->age,
                      pr->date != DAY_NONE ? pr->date : c->opt->asof, pr->address, pr->division);
    e->is_death = pr->fact.kind == FK_DEATH;
    c->has_rev[i] = true;
}

/* ---- ID repair ---- */

/* A register person agrees with a record when no field the two have compares at a level that
 * is evidence against the same person: the name at repair_name's level or better, the same sex,
 * the birth date exact, a day off or with day and month swapped, the age consistent or off by
 * one.  name_level: the name's comparison level (0 when either has no name). */
static bool
agrees(const Ctx *c, const IdEvidence *r, const IdEvidence *p, int *name_level)
{
    uint8_t g[CMP_COUNT];
    identity_compare(&c->cf, r, p, g);
    *name_level = g[CMP_NAME] == FS_NULL ? 0 : g[CMP_NAME];
    if (g[CMP_NAME] != FS_NULL && g[CMP_NAME] < c->cf.repair_name_level)
        return false;
    if (g[CMP_SEX] == 0)
        return false;
    if (g[CMP_BIRTH] != FS_NULL && g[CMP_BIRTH] < 2)
        return false;
    if (g[CMP_AGE] == 0)
        return false;
    return true;
}

/* Returns true when the record is decided here (linked or rejected); false sends it on to the
 * probabilistic linkage. */
static bool
repair_one(Ctx *c, size_t i)
{
    PendingRecord *pr = pending_at(c, i);
    const IdEvidence *r = &c->rev[i];
    bool explain = c->ex && (int64_t) i == c->ex_pending;
    Decided dd = decided_for(c, pr);
    char reason[512];
    if (dd.same != PERSON_KEY_NONE && map_get(&c->pidx, dd.same, 0)) {
        accept(c, pr, dd.same, c->cf.reviewed_repaired ? LINK_REPAIRED : LINK_PROBABLE);
        add_link_row(c, pr, dd.same, LD_REVIEWED, NAN, NAN);
        add_review(c, pr, LD_REVIEWED, 1, dd.same, NAN, NAN, NULL);
        c->res->stats.reviewed++;
        if (explain) {
            char id[19];
            format_id(dd.same, id);
            fprintf(c->ex, "\n  a reviewer decided: same person as %s\ndecision: reviewed -> %s\n", id, id);
        }
        return true;
    }
    if (pr->id_chars == NULL || !c->cf.repair)
        return false;
    PersonKey cand[IDREPAIR_MAX], fit[IDREPAIR_MAX];
    int n = idrepair_candidates(pr->id_chars, (int) strlen(pr->id_chars), cand, IDREPAIR_MAX), nfit = 0;
    int lvl[IDREPAIR_MAX], best = 0;
    if (explain)
        fprintf(c->ex, "\nID repair: %d valid number%s one typing error away; those on the register:\n",
                n, n == 1 ? "" : "s");
    for (int k = 0; k < n; k++) {
        uint64_t pi = map_get(&c->pidx, cand[k], 0);
        if (pi == 0)
            continue;
        int nl;
        bool ok = agrees(c, r, &c->pev[pi - 1], &nl) && !declared_different(c, pr, &dd, cand[k]);
        if (explain) {
            fprintf(c->ex, "  %s ", ok ? "agrees   " : "disagrees");
            explain_person(c, pi - 1);
        }
        if (ok) {
            lvl[nfit] = nl;
            best = nl > best ? nl : best;
            fit[nfit++] = cand[k];
        }
    }
    if (nfit > 1) {
        /* several agree: those whose name agrees best (an exact name before a close one) */
        int m = 0;
        for (int k = 0; k < nfit; k++)
            if (lvl[k] == best)
                fit[m++] = fit[k];
        if (explain && m < nfit)
            fprintf(c->ex, "  of the %d that agree, %d agree%s on the name as closely as the best\n", nfit, m,
                    m == 1 ? "s" : "");
        nfit = m;
    }
    char shown[19], a[19], b[19];
    snprintf(shown, sizeof shown, "%s", pr->id_chars);
    if (nfit == 1) {
        accept(c, pr, fit[0], LINK_REPAIRED);
        add_link_row(c, pr, fit[0], LD_REPAIRED, NAN, NAN);
        c->res->stats.repaired++;
        if (explain) {
            format_id(fit[0], a);
            fprintf(c->ex, "decision: repaired -> %s\n", a);
        }
        return true;
    }
    if (nfit > 1) {
        format_id(fit[0], a);
        format_id(fit[1], b);
        snprintf(reason, sizeof reason,
                 "ambiguous ID number \"%s\" (%s): %d register persons one typing error away agree "
                 "with the record (%s, %s%s)", shown, idnum_status_text(pr->id_status), nfit, a, b,
                 nfit > 2 ? ", ..." : "");
        reject(c, pr, reason);
        add_link_row(c, pr, PERSON_KEY_NONE, LD_AMBIGUOUS, NAN, NAN);
        for (int k = 0; k < nfit && k < c->cf.review_candidates; k++)
            add_review(c, pr, LD_AMBIGUOUS, k + 1, fit[k], NAN, NAN, NULL);
        c->res->stats.ambiguous++;
        if (explain)
            fprintf(c->ex, "decision: ambiguous (rejected: %s)\n", reason);
        return true;
    }
    if (pr->linkable && r->name)
        return false;   /* no typo fits: link as a record without ID */
    snprintf(reason, sizeof reason,
             "no match for ID number \"%s\" (%s): no register person one typing error away agrees "
             "with the record", shown, idnum_status_text(pr->id_status));
    reject(c, pr, reason);
    add_link_row(c, pr, PERSON_KEY_NONE, LD_NO_MATCH, NAN, NAN);
    add_review(c, pr, LD_NO_MATCH, 0, PERSON_KEY_NONE, NAN, NAN, NULL);
    c->res->stats.no_match++;
    if (explain)
        fprintf(c->ex, "decision: no_match (rejected: %s)\n", reason);
    return true;
}

/* ---- blocking ---- */

/* The comparisons a field conditions on: among the pairs of a key they agree on it, so EM does
 * not learn their m from those pairs. */
static const unsigned field_cmp[BF_COUNT] = {
    [BF_BIRTH_DATE] = 1u << CMP_BIRTH | 1u << CMP_AGE,
    [BF_BIRTH_YEAR] = 1u << CMP_BIRTH | 1u << CMP_AGE,
    [BF_SEX] = 1u << CMP_SEX,
    [BF_NAME] = 1u << CMP_NAME,
    [BF_PINYIN] = 1u << CMP_NAME,
    [BF_SURNAME] = 1u << CMP_NAME,
    [BF_VILLAGE] = 1u << CMP_ADDRESS | 1u << CMP_PLACE,
    [BF_TOWNSHIP] = 1u << CMP_ADDRESS | 1u << CMP_PLACE,
};

/* An EM session: the pairs one rule proposed at one level. */
static int
session_of(int rule, int level)
{
    return rule * BLOCK_MAX_LEVELS + level;
}

static unsigned
session_fields(const BlockRule *br, int level)
{
    unsigned u = 0;
    for (int f = 0; f < br->upto[level]; f++)
        u |= field_cmp[br->field[f]];
    return u;
}

/* Birth years a record may have: its birth date's, or from age at its date (two). */
static int
years_of(const IdEvidence *e, int out[2])
{
    if (e->birth != DAY_NONE) {
        out[0] = year_of(e->birth);
        return 1;
    }
    if (e->age >= 0 && e->date != DAY_NONE) {
        int y = year_of(e->date);
        out[0] = y - e->age;
        out[1] = y - e->age - 1;
        return 2;
    }
    return 0;
}

/* The values of field f for e (0, 1 or 2 of them; never 0).  Division codes and addresses give
 * different values, so that a record with an address meets persons by their address, one with
 * a division code by theirs. */
static int
field_values(int f, const IdEvidence *e, uint64_t out[2])
{
    int n = 0, ys[2], ny;
    switch (f) {
    case BF_BIRTH_DATE:
        if (e->birth != DAY_NONE)
            out[n++] = 0x100000000ull + (uint32_t) e->birth;
        break;
    case BF_BIRTH_YEAR:
        ny = years_of(e, ys);
        for (int y = 0; y < ny; y++)
            out[n++] = 0x200000000ull + (uint64_t) (ys[y] + 10000);
        break;
    case BF_SEX:
        if (e->sex <= 1)
            out[n++] = 1 + e->sex;
        break;
    case BF_NAME:
        if (e->name)
            out[n++] = e->name_h;
        break;
    case BF_PINYIN:
        if (e->pinyin)
            out[n++] = e->pinyin_h;
        break;
    case BF_SURNAME:
        if (e->surname_h)
            out[n++] = e->surname_h;
        break;
    case BF_VILLAGE:
        if (e->div_village)
            out[n++] = e->div_village ^ 0x1111;
        if (e->addr.village)
            out[n++] = e->addr.village ^ 0x2222;
        break;
    case BF_TOWNSHIP:
        if (e->div_township)
            out[n++] = e->div_township ^ 0x3333;
        if (e->addr.township)
            out[n++] = e->addr.township ^ 0x4444;
        break;
    }
    return n;
}

/* The values of a rule's fields for one record or person. */
typedef struct RuleValues {
    int      n[BLOCK_MAX_FIELDS];
    uint64_t v[BLOCK_MAX_FIELDS][2];
} RuleValues;

/*
 * A visitor of the keys of one record or person under one rule, level by level: it is called
 * with each key of level 0 and, when it returns true (the block is over the cap, or, for a
 * record being indexed, always), with the keys of the next level that extend that key.
 */
typedef struct KeyVisit {
    bool    (*fn)(struct KeyVisit *v, uint64_t key, int level);
    struct Ctx *c;
    int       rule;
    uint32_t  who;        /* record (set index) or person index */
} KeyVisit;

static void
walk_level(const BlockRule *br, const RuleValues *rv, int level, uint64_t prefix, KeyVisit *v)
{
    int from = level == 0 ? 0 : br->upto[level - 1], to = br->upto[level];
    for (int f = from; f < to; f++)
        if (rv->n[f] == 0)
            return;   /* the record lacks a field of this level: no key here, none finer */
    int idx[BLOCK_MAX_FIELDS] = {0};
    for (;;) {
        uint64_t k = mix64(prefix ^ (0x9E3779B97F4A7C15ull * (uint64_t) (level + 1)));
        for (int f = from; f < to; f++)
            k = mix64(k ^ (rv->v[f][idx[f]] + 0x632BE59BD9B4E019ull * (uint64_t) (f + 1)));
        if (k == 0)
            k = 1;
        if (v->fn(v, k, level) && level + 1 < br->nlevels)
            walk_level(br, rv, level + 1, k, v);
        int f = from;   /* next combination of the level's values */
        while (f < to && ++idx[f] == rv->n[f])
            idx[f++] = 0;
        if (f == to)
            break;
    }
}

static void
walk_keys(const LinkConfig *cf, int rule, const IdEvidence *e, KeyVisit *v)
{
    const BlockRule *br = &cf->rules[rule];
    RuleValues rv;
    for (int f = 0; f < br->nfields; f++)
        rv.n[f] = field_values(br->field[f], e, rv.v[f]);
    v->rule = rule;
    walk_level(br, &rv, 0, mix64(0xB10C0000ull + (uint64_t) rule), v);
}

/* What blocking knows of one key: register persons with it, and the records that use it. */
typedef struct KeyInfo {
    uint32_t size;        /* register persons (saturating) */
    uint32_t first;       /* records using the block: index + 1 into the sorted KeyRec array */
    uint8_t  level;
    uint8_t  rule;
} KeyInfo;

typedef struct KeyRec {
    uint64_t key;
    uint32_t rec;
    uint16_t rule;
} KeyRec;

/* A record's block under consideration: its finest blocks still over the cap are kept to fall
 * back on when the record gets no candidate from any rule. */
typedef struct Skipped {
    uint32_t rec;
    uint32_t info;        /* index into the KeyInfo array */
} Skipped;

typedef struct Blocker {
    U64Map   idx[BLOCK_MAX_RULES];     /* per rule: key -> KeyInfo index + 1 */
    uint64_t *filter[BLOCK_MAX_RULES]; /* per rule: a bit per key hash, in front of idx */
    uint64_t fmask[BLOCK_MAX_RULES];
    Vec      info;        /* KeyInfo */
    Vec      chosen;      /* KeyRec: the blocks records use */
    Vec      skipped;     /* Skipped */
    Vec      pairs;       /* Pair */
    uint32_t rec_got;     /* decide: the record has a block with candidates */
    bool     rec_skip;    /* decide: the record had a block over the cap */
} Blocker;

static KeyInfo *
info_at(Blocker *b, uint64_t i)
{
    return &VEC_AT(&b->info, KeyInfo, i);
}

/* The KeyInfo index + 1 of a rule's key, 0 when no record has it (most register keys: the
 * filter answers those without touching the larger map). */
static inline uint64_t
block_find(const Blocker *b, int rule, uint64_t key)
{
    uint64_t h = (key >> 17) & b->fmask[rule];
    if (!(b->filter[rule][h >> 6] & (1ull << (h & 63))))
        return 0;
    return map_get(&b->idx[rule], key, 0);
}

/* 1. index every key of every record at every level */
static bool
visit_index(KeyVisit *v, uint64_t key, int level)
{
    Blocker *b = v->c->blocker;
    uint64_t *slot = map_slot(&b->idx[v->rule], key, true);
    if (*slot == 0) {
        KeyInfo *ki = vec_push(&b->info);
        memset(ki, 0, sizeof *ki);
        ki->level = (uint8_t) level;
        ki->rule = (uint8_t) v->rule;
        *slot = b->info.len;
    }
    return true;
}

/* 2. count the register persons of those keys (a person whose key no record has is not
 *    followed to the finer levels: no record can have the finer key either) */
static bool
visit_count(KeyVisit *v, uint64_t key, int level)
{
    (void) level;
    Blocker *b = v->c->blocker;
    uint64_t i = block_find(b, v->rule, key);
    if (i == 0)
        return false;
    KeyInfo *ki = info_at(b, i - 1);
    if (ki->size < UINT32_MAX)
        ki->size++;
    return true;
}

/* 3. a record's blocks: per rule the first level whose block is within the cap */
static bool
visit_decide(KeyVisit *v, uint64_t key, int level)
{
    Ctx *c = v->c;
    Blocker *b = c->blocker;
    uint64_t i = map_get(&b->idx[v->rule], key, 0) - 1;
    KeyInfo *ki = info_at(b, i);
    const BlockRule *br = &c->cf.rules[v->rule];
    if (ki->size <= (uint32_t) c->cf.max_block) {
        KeyRec *kr = vec_push(&b->chosen);
        kr->key = key;
        kr->rec = v->who;
        kr->rule = (uint16_t) v->rule;
        b->rec_got += ki->size > 0;
        return false;
    }
    /* over the cap: refine, when the record has the fields of the next level */
    bool finer = false;
    if (level + 1 < br->nlevels) {
        finer = true;
        RuleValues rv;
        const IdEvidence *e = &c->rev[c->set[v->who]];
        for (int f = br->upto[level]; f < br->upto[level + 1]; f++)
            finer &= field_values(br->field[f], e, rv.v[0]) > 0;
    }
    if (finer) {
        c->res->stats.refined_keys++;
        return true;
    }
    Skipped *sk = vec_push(&b->skipped);
    sk->rec = v->who;
    sk->info = (uint32_t) i;
    b->rec_skip = true;
    return false;
}

/* 4. the pairs: every register person with a key some record uses */
static bool
visit_pairs(KeyVisit *v, uint64_t key, int level)
{
    Ctx *c = v->c;
    Blocker *b = c->blocker;
    uint64_t i = block_find(b, v->rule, key);
    if (i == 0)
        return false;
    const KeyInfo *ki = info_at(b, i - 1);
    if (ki->first) {
        const KeyRec *kr = b->chosen.data;
        uint32_t sess = 1u << session_of(v->rule, level);
        for (size_t x = ki->first - 1; x < b->chosen.len && kr[x].key == key; x++) {
            Pair *p = vec_push(&b->pairs);
            p->rec = kr[x].rec;
            p->person = v->who;
            p->rules = sess;
        }
    }
    return ki->size > (uint32_t) c->cf.max_block;   /* finer keys are used only below such */
}

static int
cmp_keyrec(const void *a, const void *b)
{
    const KeyRec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->rec > y->rec) - (x->rec < y->rec);
}

/* Sorts pairs by (record, person) with two stable LSD radix passes of 16 bits per key half. */
static void
sort_pairs(Pair *ps, size_t n)
{
    if (n < 2)
        return;
    Pair *tmp = xmalloc(n * sizeof(Pair));
    size_t *cnt = xmalloc(65537 * sizeof(size_t));
    Pair *src = ps, *dst = tmp;
    for (int pass = 0; pass < 4; pass++) {
        memset(cnt, 0, 65537 * sizeof(size_t));
        for (size_t i = 0; i < n; i++) {
            uint32_t k = pass < 2 ? src[i].person : src[i].rec;
            cnt[((k >> (16 * (pass & 1))) & 0xFFFF) + 1]++;
        }
        for (size_t d = 1; d <= 65536; d++)
            cnt[d] += cnt[d - 1];
        for (size_t i = 0; i < n; i++) {
            uint32_t k = pass < 2 ? src[i].person : src[i].rec;
            dst[cnt[(k >> (16 * (pass & 1))) & 0xFFFF]++] = src[i];
        }
        Pair *t = src;
        src = dst;
        dst = t;
    }
    /* four passes: the result is back in ps */
    free(cnt);
    free(tmp);
}

static void
block(Ctx *c)
{
    Blocker b;
    memset(&b, 0, sizeof b);
    vec_init(&b.info, sizeof(KeyInfo));
    vec_init(&b.chosen, sizeof(KeyRec));
    vec_init(&b.skipped, sizeof(Skipped));
    vec_init(&b.pairs, sizeof(Pair));
    for (int r = 0; r < c->cf.nrules; r++)
        map_init(&b.idx[r], c->nset * 4 + 64);
    c->blocker = &b;
    KeyVisit v = {.c = c};
    IdentityStats *st = &c->res->stats;

    v.fn = visit_index;
    for (size_t s = 0; s < c->nset; s++)
        for (int r = 0; r < c->cf.nrules; r++) {
            v.who = (uint32_t) s;
            walk_keys(&c->cf, r, &c->rev[c->set[s]], &v);
        }
    for (int r = 0; r < c->cf.nrules; r++) {
        size_t bits = 1 << 16;
        while (bits < b.idx[r].len * 16)
            bits <<= 1;
        b.filter[r] = xcalloc(bits / 64, sizeof(uint64_t));
        b.fmask[r] = bits - 1;
        for (size_t j = 0; j <= b.idx[r].mask; j++)
            if (b.idx[r].keys[j]) {
                uint64_t h = (b.idx[r].keys[j] >> 17) & b.fmask[r];
                b.filter[r][h >> 6] |= 1ull << (h & 63);
            }
    }
    v.fn = visit_count;
    for (size_t i = 0; i < c->np; i++)
        for (int r = 0; r < c->cf.nrules; r++) {
            v.who = (uint32_t) i;
            walk_keys(&c->cf, r, &c->pev[i], &v);
        }
    v.fn = visit_decide;
    for (size_t s = 0; s < c->nset; s++) {
        size_t sk0 = b.skipped.len;
        b.rec_got = 0;
        b.rec_skip = false;
        for (int r = 0; r < c->cf.nrules; r++) {
            v.who = (uint32_t) s;
            walk_keys(&c->cf, r, &c->rev[c->set[s]], &v);
        }
        if (b.rec_got == 0 && b.rec_skip) {
            /* every block of the record is over the cap, even its finest: the smallest of
             * them, unless it is over max_fallback too */
            Skipped *sk = &VEC_AT(&b.skipped, Skipped, sk0), *best = NULL;
            for (size_t k = 0; k < b.skipped.len - sk0; k++)
                if (best == NULL || info_at(&b, sk[k].info)->size < info_at(&b, best->info)->size)
                    best = &sk[k];
            uint32_t sz = info_at(&b, best->info)->size;
            if (sz <= (uint32_t) c->cf.max_fallback) {
                KeyRec *kr = vec_push(&b.chosen);
                kr->key = best->info;      /* its KeyInfo index, turned into the key below */
                kr->rec = (uint32_t) s | 0x80000000u;
                kr->rule = info_at(&b, best->info)->rule;
                best->rec = UINT32_MAX;    /* used: not skipped */
                st->fallback_records++;
                st->fallback_pairs += sz;
            }
        }
    }
    /* the fallback blocks were recorded by info index: look their keys up */
    if (st->fallback_records) {
        uint64_t *keyof = xcalloc(b.info.len, sizeof(uint64_t));
        for (int r = 0; r < c->cf.nrules; r++)
            for (size_t j = 0; j <= b.idx[r].mask; j++)
                if (b.idx[r].keys[j])
                    keyof[b.idx[r].vals[j] - 1] = b.idx[r].keys[j];
        KeyRec *kr = b.chosen.data;
        for (size_t x = 0; x < b.chosen.len; x++)
            if (kr[x].rec & 0x80000000u) {
                kr[x].rec &= 0x7FFFFFFFu;
                kr[x].key = keyof[kr[x].key];
            }
        free(keyof);
    }
    {
        const Skipped *sk = b.skipped.data;
        for (size_t k = 0; k < b.skipped.len; k++)
            if (sk[k].rec != UINT32_MAX) {
                st->skipped_blocks++;
                st->skipped_pairs += info_at(&b, sk[k].info)->size;
            }
    }
    if (b.chosen.len > 1)
        qsort(b.chosen.data, b.chosen.len, sizeof(KeyRec), cmp_keyrec);
    {
        /* one entry per (key, record); the first record of each key in its KeyInfo */
        KeyRec *kr = b.chosen.data;
        size_t u = 0;
        for (size_t x = 0; x < b.chosen.len; x++)
            if (u == 0 || kr[u - 1].key != kr[x].key || kr[u - 1].rec != kr[x].rec)
                kr[u++] = kr[x];
        b.chosen.len = u;
        for (size_t x = 0; x < u; x++)
            if (x == 0 || kr[x - 1].key != kr[x].key)
                info_at(&b, map_get(&b.idx[kr[x].rule], kr[x].key, 0) - 1)->first = (uint32_t) x + 1;
    }
    v.fn = visit_pairs;
    for (size_t i = 0; i < c->np; i++)
        for (int r = 0; r < c->cf.nrules; r++) {
            v.who = (uint32_t) i;
            walk_keys(&c->cf, r, &c->pev[i], &v);
        }
    /* one pair per (record, person), with every rule and level that proposed it */
    Pair *ps = b.pairs.data;
    sort_pairs(ps, b.pairs.len);
    size_t u = 0;
    for (size_t j = 0; j < b.pairs.len; j++) {
        if (u > 0 && ps[u - 1].rec == ps[j].rec && ps[u - 1].person == ps[j].person)
            ps[u - 1].rules |= ps[j].rules;
        else
            ps[u++] = ps[j];
    }
    c->pairs = ps;
    c->npairs = u;
    st->candidate_pairs = u;
    for (int r = 0; r < c->cf.nrules; r++) {
        map_free(&b.idx[r]);
        free(b.filter[r]);
    }
    vec_free(&b.info);
    vec_free(&b.chosen);
    vec_free(&b.skipped);
    c->blocker = NULL;
    c->first = xcalloc(c->nset + 1, sizeof(size_t));
    size_t j = 0;
    for (size_t s = 0; s <= c->nset; s++) {
        while (j < u && ps[j].rec < s)
            j++;
        c->first[s] = j;
    }
}

/* The comparison vector of every candidate pair. */
static void
compare_pairs(Ctx *c)
{
    c->gamma = xmalloc((c->npairs ? c->npairs : 1) * CMP_COUNT);
    for (size_t k = 0; k < c->npairs; k++)
        identity_compare(&c->cf, &c->rev[c->set[c->pairs[k].rec]], &c->pev[c->pairs[k].person],
                         c->gamma + k * CMP_COUNT);
}

/* ---- estimation ---- */

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* u of the sign-of-life comparison comes from the first pairs of the u sample only: the persons
 * whose signs of life are looked up besides the candidates (a proportion; this many suffice). */
#define U_SIGN_PAIRS 200000L

/*
 * The latest sign of life (a record of a sign_of_life kind, linked by ID number) of the
 * candidate persons and of the persons of the first U_SIGN_PAIRS pairs of the u sample: one
 * pass over those facts, a bitmap in front of the hash lookup.
 */
typedef struct SeenScan {
    Ctx            *c;
    const U64Map   *want;
    const uint64_t *filter;
} SeenScan;

enum { FILTER_BITS = 1 << 24 };

static void
seen_facts(void *arg, const Fact *f, size_t n)
{
    SeenScan *sc = arg;
    Ctx *c = sc->c;
    for (size_t i = 0; i < n; i++) {
        if (!(c->cf.sign_of_life & (1u << f[i].kind)) || f[i].d1 == DAY_NONE ||
            (f[i].link != LINK_EXACT && f[i].link != LINK_REPAIRED))
            continue;
        uint64_t h = mix64(f[i].person) & (FILTER_BITS - 1);
        if (!(sc->filter[h >> 6] & (1ull << (h & 63))))
            continue;
        uint64_t pi = map_get(sc->want, f[i].person, 0);
        if (pi == 0)
            continue;
        IdEvidence *e = &c->pev[pi - 1];
        if (e->last_seen == DAY_NONE || f[i].d1 > e->last_seen)
            e->last_seen = f[i].d1;
    }
}

static bool
mark_seen(Ctx *c, CbError *err)
{
    if (c->cf.sign_of_life == 0 || c->np == 0)
        return true;
    size_t nu = (size_t) (c->cf.u_pairs < U_SIGN_PAIRS ? c->cf.u_pairs : U_SIGN_PAIRS);
    U64Map want;
    map_init(&want, c->npairs / 2 + nu + 64);
    uint64_t *filter = xcalloc(FILTER_BITS / 64, sizeof(uint64_t));
    uint64_t s = c->cf.seed;
    for (size_t k = 0; k < c->npairs + nu; k++) {
        size_t pi;
        if (k < c->npairs) {
            pi = c->pairs[k].person;
        } else {   /* the same draws as estimate_u's */
            if (c->nset == 0)
                break;
            (void) rng_next(&s);
            pi = rng_next(&s) % c->np;
        }
        PersonKey key = person_at(c, pi)->key;
        *map_slot(&want, key, true) = pi + 1;
        uint64_t h = mix64(key) & (FILTER_BITS - 1);
        filter[h >> 6] |= 1ull << (h & 63);
        c->pev[pi].seen_known = true;
    }
    SeenScan sc = {.c = c, .want = &want, .filter = filter};
    bool ok = store_scan_facts(c->st, seen_facts, &sc, err);
    free(filter);
    map_free(&want);
    return ok;
}

static void
estimate_u(Ctx *c)
{
    uint64_t counts[CMP_COUNT][FS_MAX_LEVELS];
    memset(counts, 0, sizeof counts);
    uint64_t s = c->cf.seed;
    uint8_t g[CMP_COUNT];
    for (long k = 0; k < c->cf.u_pairs && c->nset > 0 && c->np > 0; k++) {
        size_t r = rng_next(&s) % c->nset, p = rng_next(&s) % c->np;
        identity_compare(&c->cf, &c->rev[c->set[r]], &c->pev[p], g);
        for (int x = 0; x < CMP_COUNT; x++)
            if (g[x] != FS_NULL && (x != CMP_SIGN_OF_LIFE || k < U_SIGN_PAIRS))
                counts[x][g[x]]++;
    }
    for (int x = 0; x < CMP_COUNT; x++)
        fs_u_from_counts(&c->res->model, x, counts[x]);
}

/*
 * m by EM, one session per blocking rule and level (the pairs the rule proposed with that
 * key), each estimating the comparisons its key does not condition on; a comparison's m is the
 * average of its sessions' estimates weighted by their records.
 */
static void
estimate_m(Ctx *c)
{
    FsModel *fm = &c->res->model;
    double sum[CMP_COUNT][FS_MAX_LEVELS], wsum[CMP_COUNT] = {0};
    memset(sum, 0, sizeof sum);
    uint8_t *g = xmalloc((c->npairs ? c->npairs : 1) * CMP_COUNT);
    uint32_t *grp = xmalloc((c->npairs ? c->npairs : 1) * sizeof(uint32_t));
    for (int rule = 0; rule < c->cf.nrules; rule++)
        for (int lev = 0; lev < c->cf.rules[rule].nlevels; lev++) {
            uint32_t bit = 1u << session_of(rule, lev);
            char name[160];
            identity_block_rule_text(&c->cf.rules[rule], lev, name, sizeof name);
            size_t n = 0, nrec = 0;
            uint32_t last = UINT32_MAX;
            for (size_t k = 0; k < c->npairs; k++)
                if (c->pairs[k].rules & bit) {
                    memcpy(g + n * CMP_COUNT, c->gamma + k * CMP_COUNT, CMP_COUNT);
                    grp[n] = c->pairs[k].rec;
                    n++;
                    if (c->pairs[k].rec != last)
                        nrec++;
                    last = c->pairs[k].rec;
                }
            if (n == 0)
                continue;
            unsigned est = ((1u << CMP_COUNT) - 1) & ~session_fields(&c->cf.rules[rule], lev);
            if ((long) n < c->cf.em_min_pairs) {
                log_info("event=linkage_em rule=%s pairs=%zu note=\"too few pairs to estimate from\"", name, n);
                continue;
            }
            FsModel sess = *fm;
            for (int x = 0; x < CMP_COUNT; x++)
                memcpy(sess.comp[x].m, c->cf.m_start[x], sizeof sess.comp[x].m);
            FsEmResult er;
            double lambda = (double) nrec / (double) n;
            if (!fs_em(&sess, g, grp, n, est, lambda, c->cf.em_iterations, c->cf.em_tolerance, &er))
                continue;
            unsigned seen = 0;
            for (size_t k = 0; k < n; k++)
                for (int x = 0; x < CMP_COUNT; x++)
                    if (g[k * CMP_COUNT + x] != FS_NULL)
                        seen |= 1u << x;
            char ms[512];
            size_t o = 0;
            ms[0] = '\0';
            for (int x = 0; x < CMP_COUNT && o < sizeof ms - 64; x++) {
                if (!(est & seen & (1u << x)))
                    continue;
                o += (size_t) snprintf(ms + o, sizeof ms - o, " m_%s=", fm->comp[x].name);
                for (int l = fm->comp[x].nlevels - 1; l >= 0 && o < sizeof ms - 16; l--)
                    o += (size_t) snprintf(ms + o, sizeof ms - o, "%s%.3f", l == fm->comp[x].nlevels - 1 ? "" : "/",
                                           sess.comp[x].m[l]);
            }
            log_info("event=linkage_em rule=%s pairs=%zu records=%zu iterations=%d converged=%s lambda=%.4f%s",
                     name, n, nrec, er.iterations, er.converged ? "yes" : "no", er.lambda, ms);
            for (int x = 0; x < CMP_COUNT; x++)
                if (est & seen & (1u << x)) {   /* a comparison never compared here says nothing */
                    for (int l = 0; l < fm->comp[x].nlevels; l++)
                        sum[x][l] += (double) nrec * sess.comp[x].m[l];
                    wsum[x] += (double) nrec;
                }
        }
    free(g);
    free(grp);
    for (int x = 0; x < CMP_COUNT; x++) {
        if (wsum[x] <= 0.0) {
            memcpy(fm->comp[x].m, c->cf.m_start[x], sizeof fm->comp[x].m);
            continue;
        }
        for (int l = 0; l < fm->comp[x].nlevels; l++)
            fm->comp[x].m[l] = sum[x][l] / wsum[x];
    }
}

/* ---- scoring and decisions ---- */

typedef struct Cand {
    size_t   pair;       /* index into c->pairs, or SIZE_MAX for a reviewer's choice */
    uint32_t person;
    double   w;
} Cand;

static int
cmp_cand(const void *a, const void *b)
{
    const Cand *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->person > y->person) - (x->person < y->person);
}

static void
score_one(Ctx *c, size_t s)
{
    size_t i = c->set[s];
    PendingRecord *pr = pending_at(c, i);
    const IdEvidence *r = &c->rev[i];
    bool explain = c->ex && (int64_t) i == c->ex_pending;
    Decided dd = decided_for(c, pr);
    size_t n = c->first[s + 1] - c->first[s];
    Cand *cs = xmalloc((n ? n : 1) * sizeof(Cand));
    size_t m = 0;
    for (size_t k = c->first[s]; k < c->first[s + 1]; k++) {
        PersonKey key = person_at(c, c->pairs[k].person)->key;
        if (declared_different(c, pr, &dd, key))
            continue;
        cs[m].pair = k;
        cs[m].person = c->pairs[k].person;
        cs[m].w = pair_weight(c, r, c->gamma + k * CMP_COUNT);
        m++;
    }
    qsort(cs, m, sizeof(Cand), cmp_cand);
    double *w = xmalloc((m ? m : 1) * sizeof(double));
    for (size_t k = 0; k < m; k++)
        w[k] = cs[k].w;
    LinkChoice ch;
    LinkDecision d = identity_decide(&c->cf, w, (int) m, &ch);
    double second = ch.second >= 0 ? w[ch.second] : NAN;
    if (pr->resolved) {
        /* a training record (explain-match only): show what the scorer would say */
        if (explain) {
            fprintf(c->ex, "\nlinked by its valid ID number; the scorer, ignoring the ID, finds %zu candidates:\n", m);
            for (size_t k = 0; k < m && k < 5; k++)
                explain_pair(c, r, c->gamma + cs[k].pair * CMP_COUNT, w[k],
                             exp2(w[k]) / (1.0 + exp2(w[k]) * 1.0), (int) k + 1, cs[k].person);
            fprintf(c->ex, "\nthe scorer's decision would be: %s\n", identity_decision_name(d));
        }
        free(w);
        free(cs);
        return;
    }
    if (explain) {
        fprintf(c->ex, "\nprobabilistic linkage: %zu candidate persons from blocking\n", m);
        double rel = 0.0;
        for (size_t k = 0; k < m; k++)
            rel += exp2(w[k] - (m ? w[0] : 0));
        for (size_t k = 0; k < m && k < 10; k++) {
            double p = 1.0 / (exp2(-w[k]) + rel * exp2(w[0] - w[k]));
            explain_pair(c, r, c->gamma + cs[k].pair * CMP_COUNT, w[k], p, (int) k + 1, cs[k].person);
        }
        if (m > 10)
            fprintf(c->ex, "\n  ... and %zu more candidates\n", m - 10);
    }
    /* a reviewer's "same person" overrides the scores */
    PersonKey chosen = PERSON_KEY_NONE;
    if (dd.same != PERSON_KEY_NONE && map_get(&c->pidx, dd.same, 0)) {
        d = LD_REVIEWED;
        chosen = dd.same;
    } else if (d == LD_PROBABLE || d == LD_TO_VERIFY) {
        chosen = person_at(c, cs[ch.best].person)->key;
    }
    double wb = ch.best >= 0 ? w[ch.best] : NAN;
    char reason[512];
    switch (d) {
    case LD_PROBABLE:
        c->res->stats.probable++;
        break;
    case LD_TO_VERIFY:
        c->res->stats.to_verify++;
        break;
    case LD_REVIEWED:
        c->res->stats.reviewed++;
        break;
    default:
        c->res->stats.no_match++;
        break;
    }
    if (chosen != PERSON_KEY_NONE) {
        accept(c, pr, chosen, d == LD_REVIEWED && c->cf.reviewed_repaired ? LINK_REPAIRED : LINK_PROBABLE);
        add_link_row(c, pr, chosen, d, wb, second);
    } else {
        if (m == 0)
            snprintf(reason, sizeof reason, "no match: no register person shares the blocking keys of "
                                            "this record without a usable ID number");
        else {
            char id[19];
            format_id(person_at(c, cs[0].person)->key, id);
            snprintf(reason, sizeof reason, "no match: best candidate %s has match weight %.1f "
                     "(probability %.3f, below %.2f)", id, wb, ch.q_best, c->cf.review_probability);
        }
        reject(c, pr, reason);
        add_link_row(c, pr, PERSON_KEY_NONE, LD_NO_MATCH, wb, second);
    }
    /* clerical review: every probabilistic outcome with its leading candidates */
    if (d == LD_REVIEWED) {
        add_review(c, pr, d, 1, chosen, NAN, NAN, NULL);
    } else if (m == 0) {
        add_review(c, pr, d, 0, PERSON_KEY_NONE, NAN, NAN, NULL);
    } else {
        double rel = 0.0;
        for (size_t k = 0; k < m; k++)
            rel += exp2(w[k] - w[0]);
        for (size_t k = 0; k < m && (int) k < c->cf.review_candidates; k++) {
            double p = 1.0 / (exp2(-w[k]) + rel * exp2(w[0] - w[k]));
            add_review(c, pr, d, (int) k + 1, person_at(c, cs[k].person)->key, w[k], p,
                       levels_json(c, r, c->gamma + cs[k].pair * CMP_COUNT));
        }
    }
    if (explain) {
        char id[19] = "";
        if (chosen != PERSON_KEY_NONE)
            format_id(chosen, id);
        fprintf(c->ex, "\ndecision: %s%s%s", identity_decision_name(d), id[0] ? " -> " : "", id);
        if (ch.best >= 0)
            fprintf(c->ex, "  (best probability %.6f, own %.6f; margin %s%.2f bits; thresholds: link %.4f "
                    "with margin %.1f bits, review %.2f)", ch.p_best, ch.q_best,
                    ch.second >= 0 ? "" : ">", ch.second >= 0 ? ch.margin : 999.0,
                    c->cf.link_probability, c->cf.link_margin, c->cf.review_probability);
        fprintf(c->ex, "\n");
        if (d == LD_PROBABLE || d == LD_TO_VERIFY || d == LD_REVIEWED)
            fprintf(c->ex, "a probabilistic link is to-verify evidence only: it never confirms a death alone\n");
    }
    free(w);
    free(cs);
}

/* ---- the step ---- */

static int
cmp_link_row(const void *a, const void *b)
{
    const LinkRow *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->record > y->record) - (x->record < y->record);
}

static int
cmp_reject(const void *a, const void *b)
{
    const Reject *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->record_no > y->record_no) - (x->record_no < y->record_no);
}

static void
free_ctx(Ctx *c)
{
    names_close(c->nn);
    map_free(&c->pidx);
    map_free(&c->name_tf);
    map_free(&c->pinyin_tf);
    map_free(&c->dec_idx);
    vec_free(&c->decisions);
    free(c->rev);
    free(c->has_rev);
    free(c->set);
    free(c->needs_prob);
    free(c->pairs);
    free(c->first);
    free(c->gamma);
    arena_free(&c->arena);
    textbuf_free(&c->text);
}

/* CPU seconds of this process: the step's own work, whatever else runs on the machine */
static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

bool
identity_link(Store *st, LoadReport *rep, const IdentityOptions *opt, IdentityResult *out,
              CbError *err)
{
    double t0 = clock_now(), cpu0 = cpu_now();
    memset(out, 0, sizeof *out);
    vec_init(&out->links, sizeof(LinkRow));
    vec_init(&out->reviews, sizeof(ReviewRow));
    arena_init(&out->arena, 1 << 16);
    Ctx c;
    memset(&c, 0, sizeof c);
    c.st = st;
    c.rep = rep;
    c.opt = opt;
    c.res = out;
    c.ex = opt->explain_out;
    c.ex_pending = -1;
    vec_init(&c.decisions, sizeof(ReviewDecision));
    arena_init(&c.arena, 1 << 20);
    bool ok = false;
    char path[4096];
    snprintf(path, sizeof path, "%s/linkage.conf", opt->rules_dir);
    if (!linkconf_load(path, &c.cf, err))
        goto done;
    identity_model_init(&c.cf, &out->model);

    size_t np = rep->pending.len;
    uint64_t unresolved = 0;
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        if (!pr->resolved)
            unresolved++;
        if (c.ex && opt->explain_file && pr->fact.record == opt->explain_record &&
            strcmp(file_of(&c, pr->file)->name, opt->explain_file) == 0)
            c.ex_pending = (int64_t) i;
    }
    out->stats.pending = unresolved;
    out->stats.explained = c.ex_pending >= 0;
    if (unresolved == 0 && c.ex_pending < 0) {
        ok = true;
        goto finish;
    }
    /* ICU's Han-Latin transliterator takes a third of a second to build: only when there is
     * something to link */
    c.nn = names_open(c.cf.opencc_config, err);
    if (c.nn == NULL)
        goto done;
    if (opt->conn && !identity_read_decisions(opt->conn, &c.decisions, err))
        goto done;
    index_decisions(&c);
    build_register(&c);

    c.rev = xcalloc(np ? np : 1, sizeof(IdEvidence));
    c.has_rev = xcalloc(np ? np : 1, sizeof(bool));
    c.needs_prob = xcalloc(np ? np : 1, sizeof(bool));
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        if (!pr->resolved || (pr->linkable && pr->name) || (int64_t) i == c.ex_pending)
            record_evidence(&c, i);
    }
    if (c.ex && c.ex_pending >= 0)
        explain_record(&c, pending_at(&c, (size_t) c.ex_pending), &c.rev[c.ex_pending]);

    /* 1. ID repair (and reviewers' decisions about records with an ID) */
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        if (pr->resolved)
            continue;
        if (pr->id_status != IDNUM_EMPTY && repair_one(&c, i))
            continue;
        if (pr->id_status == IDNUM_EMPTY && decided_for(&c, pr).same != PERSON_KEY_NONE &&
            repair_one(&c, i))
            continue;   /* a reviewer's decision about a record without ID */
        c.needs_prob[i] = true;
    }

    /* 2. probabilistic linkage over the records that need it, trained with the linkable ones */
    c.set = xmalloc((np ? np : 1) * sizeof(uint32_t));
    size_t nprob = 0, ntrain = 0;
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        ntrain += pr->resolved && pr->linkable && c.has_rev[i] && c.rev[i].name;
    }
    /* a deterministic sample of at most em_max_records training records (by record hash) */
    double keep = ntrain > (size_t) c.cf.em_max_records ? (double) c.cf.em_max_records / (double) ntrain : 1.0;
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        bool train = pr->resolved && pr->linkable && c.has_rev[i] && c.rev[i].name &&
                     (keep >= 1.0 || (double) (mix64(pr->hash ^ c.cf.seed) >> 11) < keep * 9007199254740992.0);
        if (c.needs_prob[i] || train || ((int64_t) i == c.ex_pending && pr->resolved && c.rev[i].name)) {
            c.set[c.nset++] = (uint32_t) i;
            nprob += c.needs_prob[i];
            out->stats.training_records += train;
        }
    }
    if (nprob > 0 || (c.ex_pending >= 0 && c.nset > 0)) {
        c.log_prior = log2(c.cf.prior / (double) (c.np ? c.np : 1));
        block(&c);
        if (!mark_seen(&c, err))
            goto done;
        compare_pairs(&c);
        estimate_u(&c);
        estimate_m(&c);
        for (size_t s = 0; s < c.nset; s++)
            if (c.needs_prob[c.set[s]] || (int64_t) c.set[s] == c.ex_pending)
                score_one(&c, s);
    }
    if (c.ex && c.ex_pending >= 0 && pending_at(&c, (size_t) c.ex_pending)->resolved &&
        !c.rev[c.ex_pending].name)
        fprintf(c.ex, "\nlinked by its valid ID number (exact); nothing to score\n");
    ok = true;

finish:
    for (size_t i = 0; i < np; i++) {
        PendingRecord *pr = pending_at(&c, i);
        if (pr->resolved && pr->rewritten) {   /* a valid ID written otherwise */
            add_link_row(&c, pr, pr->fact.person, LD_EXACT, NAN, NAN);
            out->stats.exact_rewritten++;
        }
    }
    if (out->links.len > 1)
        qsort(out->links.data, out->links.len, sizeof(LinkRow), cmp_link_row);
    if (st->rejects.len > 1)
        qsort(st->rejects.data, st->rejects.len, sizeof(Reject), cmp_reject);
    out->stats.seconds = clock_now() - t0;
    out->stats.cpu_seconds = cpu_now() - cpu0;
    log_info("event=linkage pending=%llu repaired=%llu ambiguous=%llu probable=%llu to_verify=%llu "
             "reviewed=%llu no_match=%llu training_records=%llu candidate_pairs=%llu "
             "refined_keys=%llu skipped_blocks=%llu skipped_pairs=%llu fallback_records=%llu "
             "fallback_pairs=%llu seconds=%.2f cpu_seconds=%.2f",
             (unsigned long long) out->stats.pending, (unsigned long long) out->stats.repaired,
             (unsigned long long) out->stats.ambiguous, (unsigned long long) out->stats.probable,
             (unsigned long long) out->stats.to_verify, (unsigned long long) out->stats.reviewed,
             (unsigned long long) out->stats.no_match, (unsigned long long) out->stats.training_records,
             (unsigned long long) out->stats.candidate_pairs,
             (unsigned long long) out->stats.refined_keys, (unsigned long long) out->stats.skipped_blocks,
             (unsigned long long) out->stats.skipped_pairs, (unsigned long long) out->stats.fallback_records,
             (unsigned long long) out->stats.fallback_pairs, out->stats.seconds, out->stats.cpu_seconds);
done:
    free_ctx(&c);
    return ok;
}

void
identity_result_free(IdentityResult *r)
{
    vec_free(&r->links);
    vec_free(&r->reviews);
    arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}
