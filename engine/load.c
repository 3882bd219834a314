#include "load.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extract.h"
#include "fault.h"
#include "manifest.h"
#include "log.h"
#include "text.h"

/* ---- a growable set of 64-bit hashes / a key → value map (open addressing) ---- */

typedef struct HashMap {
    uint64_t *keys;     /* 0 = empty (keys are made non-zero) */
    uint64_t *vals;
    size_t    mask, len;
} HashMap;

static void
map_init(HashMap *m, size_t cap)
{
    size_t c = 1024;
    while (c < cap * 2)
        c <<= 1;
    m->keys = xcalloc(c, sizeof(uint64_t));
    m->vals = xcalloc(c, sizeof(uint64_t));
    m->mask = c - 1;
    m->len = 0;
}

static void
map_free(HashMap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static inline uint64_t
mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    return k;
}

/* Inserts key if absent.  Returns true if it was already there (*val_out = its value). */
static bool
map_put(HashMap *m, uint64_t key, uint64_t val, uint64_t *val_out)
{
    if (key == 0)
        key = 0x9E3779B97F4A7C15ull;
    if ((m->len + 1) * 2 > m->mask + 1) {
        HashMap big;
        map_init(&big, m->mask + 1);
        for (size_t i = 0; i <= m->mask; i++)
            if (m->keys[i] != 0) {
                size_t h = mix(m->keys[i]) & big.mask;
                while (big.keys[h] != 0)
                    h = (h + 1) & big.mask;
                big.keys[h] = m->keys[i];
                big.vals[h] = m->vals[i];
                big.len++;
            }
        map_free(m);
        *m = big;
    }
    size_t h = mix(key) & m->mask;
    while (m->keys[h] != 0) {
        if (m->keys[h] == key) {
            if (val_out)
                *val_out = m->vals[h];
            return true;
        }
        h = (h + 1) & m->mask;
    }
    m->keys[h] = key;
    m->vals[h] = val;
    m->len++;
    return false;
}

/* ---- rejects ---- */

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
add_reject(Store *st, uint32_t file, const CanonRecord *r)
{
    Reject *rj = vec_push(&st->rejects);
    rj->file = file;
    rj->record_no = r->record_no;
    rj->line_no = r->line_no;
    rj->byte_offset = r->byte_offset;
    rj->reason = arena_strdup(&st->strings, r->reason);
    rj->raw = safe_raw(&st->strings, r->raw, r->raw_len);
}

/* ---- records to persons and facts ---- */

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

static const char *
text_or_null(Arena *a, const CanonValue *v)
{
    return v->present ? arena_strndup(a, v->text, v->len) : NULL;
}

/* A register record: a person (and, for a cancellation for death, a police death fact).
 * Returns false with a reason in r when the record conflicts with an earlier one. */
static bool
add_person(Store *st, HashMap *seen, uint32_t file, CanonRecord *r, const RegFields *f)
{
    PersonKey key = (PersonKey) r->v[f->id].num;
    uint64_t prev;
    if (map_put(seen, key, st->persons.len, &prev)) {
        const Person *p = &VEC_AT(&st->persons, Person, prev);
        const SourceFile *sf = &VEC_AT(&st->files, SourceFile, p->file);
        snprintf(r->reason, sizeof r->reason,
                 "second register entry for ID number %s with different content (first: %s record %llu)",
                 r->v[f->id].text, sf->name, (unsigned long long) p->record);
        return false;
    }
    Person *p = vec_push(&st->persons);
    p->key = key;
    if (r->v[f->birth].present) {
        p->birth = (Day) r->v[f->birth].num;
    } else {
        char id[19];
        idnum_format(key, id);
        p->birth = idnum_birth_day(id);   /* the register left it empty: the ID number's */
    }
    p->cancel_date = r->v[f->cancel].present ? (Day) r->v[f->cancel].num : DAY_NONE;
    p->name = text_or_null(&st->strings, &r->v[f->name]);
    p->household = text_or_null(&st->strings, &r->v[f->household]);
    p->division = text_or_null(&st->strings, &r->v[f->division]);
    p->address = text_or_null(&st->strings, &r->v[f->address]);
    p->phone = text_or_null(&st->strings, &r->v[f->phone]);
    p->sex = r->v[f->sex].present ? (uint8_t) r->v[f->sex].num : 0xFF;
    p->status = (uint8_t) r->v[f->status].num;
    p->cancel_reason = r->v[f->reason].present ? (uint8_t) r->v[f->reason].num : 0xFF;
    p->file = file;
    p->record = r->record_no;
    if (p->status == REG_CANCELLED && p->cancel_reason == CANCEL_DEATH && p->cancel_date != DAY_NONE) {
        Fact *d = vec_push(&st->facts);
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
fill_fact(Fact *f, const SourceDef *def, uint32_t file, const CanonRecord *r)
{
    const KindSpec *ks = factkind_spec(def->kind);
    f->d1 = f->d2 = DAY_NONE;
    f->code = 0xFFFF;
    f->kind = (uint16_t) def->kind;
    f->file = (uint16_t) file;
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
    if (def->kind == FK_PENSION_PAYMENT && !r->v[factkind_field(FK_PENSION_PAYMENT, "total")].present) {
        /* a payment's total is basic + personal-account part when the ledger leaves it empty */
        const CanonValue *acc = &r->v[factkind_field(FK_PENSION_PAYMENT, "account")];
        f->amount2 = f->amount + (acc->present ? acc->num : 0);
    }
}

static void
add_fact(Store *st, const SourceDef *def, uint32_t file, const CanonRecord *r)
{
    fill_fact(vec_push(&st->facts), def, file, r);
}

/* ---- records for identity resolution (identity.h) ---- */

static const CanonValue *
field_of(FactKind k, const CanonRecord *r, const char *name)
{
    int i = factkind_field(k, name);
    return i >= 0 && r->v[i].present ? &r->v[i] : NULL;
}

/* A kind whose records can be linked without an ID number: its id_number is optional. */
static bool
kind_linkable(FactKind k)
{
    int i = factkind_field(k, "id_number");
    return i >= 0 && !factkind_spec(k)->fields[i].required;
}

/* Keeps a record for identity_link: unresolved (its ID is missing or fails its check; counted
 * as accepted or rejected once linkage has decided) or resolved (a fact already, kept as
 * training data or to list a rewritten ID in links.csv). */
static void
add_pending(Store *st, LoadReport *rep, const SourceDef *def, uint32_t file, const CanonRecord *r,
            bool resolved)
{
    PendingRecord *pr = vec_push(&rep->pending);
    fill_fact(&pr->fact, def, file, r);
    pr->file = file;
    pr->line_no = r->line_no;
    pr->byte_offset = r->byte_offset;
    pr->hash = r->hash;
    pr->id_status = r->id_status;
    pr->resolved = resolved;
    pr->rewritten = resolved && r->id_rewritten;
    pr->linkable = kind_linkable(def->kind);
    pr->sex = 0xFF;
    pr->age = -1;
    pr->birth = pr->date = DAY_NONE;
    if (!resolved)
        pr->raw = safe_raw(&st->strings, r->raw, r->raw_len);
    const CanonValue *v = field_of(def->kind, r, "id_number");
    if (v != NULL && r->id_status != IDNUM_OK)
        pr->id_chars = arena_strndup(&st->strings, v->text, v->len);
    if (resolved && !pr->linkable)
        return;   /* only listed: no evidence needed */
    if ((v = field_of(def->kind, r, "name")) != NULL)
        pr->name = arena_strndup(&st->strings, v->text, v->len);
    if ((v = field_of(def->kind, r, "sex")) != NULL)
        pr->sex = (uint8_t) v->num;
    if ((v = field_of(def->kind, r, "birth_date")) != NULL)
        pr->birth = (Day) v->num;
    if ((v = field_of(def->kind, r, "age")) != NULL && v->num >= 0 && v->num < 200)
        pr->age = (int16_t) v->num;
    if ((v = field_of(def->kind, r, "address")) != NULL)
        pr->address = arena_strndup(&st->strings, v->text, v->len);
    if ((v = field_of(def->kind, r, "division")) != NULL)
        pr->division = arena_strndup(&st->strings, v->text, v->len);
    const KindSpec *ks = factkind_spec(def->kind);
    for (int i = 0; ks->fields[i].name; i++)
        if (ks->fields[i].slot == SLOT_D1 && ks->fields[i].type == FT_DATE)
            pr->date = pr->fact.d1;
}

static bool
load_file(Store *st, const SourceDef *def, const char *dir, const char *name, HashMap *dups,
          HashMap *reg_seen, LoadReport *rep, CbError *err)
{
    if (!cancel_check("reading the delivery", err))
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        CB_FAIL(err, CBERR_IO, "could not stat extract: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    Extract *ex = extract_open(def, path, err);
    if (ex == NULL)
        return false;
    if (st->files.len >= 0xFFFF) {
        extract_close(ex);
        return CB_FAIL(err, CBERR_INPUT, "more than 65534 extract files in one delivery");
    }
    uint32_t file_no = (uint32_t) st->files.len;
    SourceFile *sf = vec_push(&st->files);
    sf->source = def->name;
    sf->agency = def->agency;
    sf->kind = def->kind;
    sf->name = arena_strdup(&st->strings, name);
    sf->size = (uint64_t) sb.st_size;

    RegFields rf = reg_fields();
    CanonRecord rec;
    char what[300];
    snprintf(what, sizeof what, "%s", name);
    progress_begin("read", what);
    ExtStatus es;
    while ((es = extract_next(ex, &rec, err)) != EXT_EOF) {
        if (es == EXT_ERROR) {
            extract_close(ex);
            st->files.len--;
            return false;
        }
        sf = &VEC_AT(&st->files, SourceFile, file_no);
        sf->read++;
        fault_hit(FAULT_PARSE);
        if (es == EXT_REJECT) {
            sf->rejected++;
            add_reject(st, file_no, &rec);
        } else if (map_put(dups, rec.hash, 1, NULL)) {
            sf->duplicates++;
        } else if (def->kind == FK_REGISTER) {
            if (add_person(st, reg_seen, file_no, &rec, &rf)) {
                sf->accepted++;
            } else {
                sf->rejected++;
                add_reject(st, file_no, &rec);
            }
        } else if (rec.id_status != IDNUM_OK) {
            add_pending(st, rep, def, file_no, &rec, false);   /* counted by identity_link */
        } else {
            add_fact(st, def, file_no, &rec);
            sf->accepted++;
            if (rec.id_rewritten || (kind_linkable(def->kind) && field_of(def->kind, &rec, "name")))
                add_pending(st, rep, def, file_no, &rec, true);
        }
        if ((sf->read & 0x3FFF) == 0) {
            progress_update(sf->read);
            if (!cancel_check("the end of reading the delivery", err)) {
                extract_close(ex);
                st->files.len--;
                return false;
            }
        }
    }
    sf = &VEC_AT(&st->files, SourceFile, file_no);
    progress_end(sf->read);
    rep->bytes += extract_bytes(ex);
    if (!extract_sha256(ex, sf->sha256)) {
        extract_close(ex);
        return CB_FAIL(err, CBERR_INTERNAL, "could not compute SHA-256 of %s", name);
    }
    extract_close(ex);
    return true;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

bool
load_delivery(Store *st, const SourceDef *defs, int ndefs, const char *dir, bool require_sources,
              LoadReport *rep, CbError *err)
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

    /* read source by source (definition order), each source's files in name order, so that
     * duplicates are recognised across the files of one source */
    HashMap reg_seen;
    map_init(&reg_seen, 1024);
    for (int k = 0; k < ndefs && ok; k++) {
        if (nfiles[k] == 0)
            continue;
        HashMap dups;
        map_init(&dups, 1024);
        for (size_t i = 0; i < nn && ok; i++)
            if (owner[i] == k)
                ok = load_file(st, &defs[k], dir, names[i], &dups, &reg_seen, rep, err);
        map_free(&dups);
    }
    map_free(&reg_seen);
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
