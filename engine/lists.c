#include "lists.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

enum { L_UNENROLLED, L_UNENROLLED_PRISON, L_DECEASED_BENEFICIARIES, L_COUNT };

static void
define(ListSet *ls, int id, const char *name, const char *title, const char *const *cols)
{
    ListOut *l = &ls->lists[id];
    l->name = name;
    l->title = title;
    l->rule = name;
    for (l->ncols = 0; cols[l->ncols] != NULL; l->ncols++)
        l->cols[l->ncols] = cols[l->ncols];
    vec_init(&l->rows, sizeof(ListRow));
}

/* ---- per-person facts ---- */

static bool
active_on(const Fact *f, Day d)
{
    return (f->d1 == DAY_NONE || f->d1 <= d) && (f->d2 == DAY_NONE || f->d2 >= d);
}

/* The first day of a month number (y*12+m-1): a monthly record is dated there. */
static Day
month_first_day(int32_t month)
{
    return date_from_ymd(month / 12, month % 12 + 1, 1);
}

/* In prison on D: type prison (or none), start <= D, released after D (the release day is
 * already outside). */
static bool
in_prison_on(const Fact *f, Day d)
{
    return f->kind == FK_PRISON && f->code != PRISON_COMMUNITY && f->d1 != DAY_NONE &&
           f->d1 <= d && (f->d2 == DAY_NONE || f->d2 > d);
}

/* Latest day on or before D on which the fact shows the person alive, or DAY_NONE. */
static Day
sign_of_life(const Fact *f, Day asof)
{
    Day d = DAY_NONE;
    switch ((FactKind) f->kind) {
    case FK_MEDICAL_CLAIM:
    case FK_TAX_COLLECTION:
    case FK_CERTIFICATION:
        d = f->d1;
        break;
    case FK_PROVIDENT_FUND:
        d = month_first_day(f->d1);
        break;
    case FK_EMPLOYEE_MEDICAL:
    case FK_ENTERPRISE_ROSTER:
        if (f->d1 != DAY_NONE && f->d1 > asof)
            return DAY_NONE;
        d = f->d2 == DAY_NONE ? asof : f->d2;
        break;
    default:
        return DAY_NONE;
    }
    if (d != DAY_NONE && d > asof)
        d = asof;
    return d;
}

typedef struct Facts {
    const Person *p;
    const Fact   *f;
    uint32_t      n;
} Facts;

static const Fact *
latest_of(const Facts *b, FactKind k)
{
    const Fact *best = NULL;
    for (uint32_t i = 0; i < b->n; i++)
        if (b->f[i].kind == k)
            best = &b->f[i];      /* facts are ordered by start date within a kind */
    return best;
}

static const Fact *
active_of(const Facts *b, FactKind k, Day d)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (b->f[i].kind == k && active_on(&b->f[i], d))
            return &b->f[i];
    return NULL;
}

/* ---- rows ---- */

static char *
fmt(Arena *a, const char *f, ...) __attribute__((format(printf, 2, 3)));

static char *
fmt(Arena *a, const char *f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return arena_strdup(a, buf);
}

static char *
fmt_day(Arena *a, Day d)
{
    char b[11];
    date_format(d, b);
    return arena_strdup(a, b);
}

static char *
fmt_money(Arena *a, int64_t fen)
{
    return fmt(a, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long) (fen < 0 ? -fen : fen) / 100,
               (long long) (fen < 0 ? -fen : fen) % 100);
}

static ListRow *
new_row(ListSet *ls, int list, const Person *p)
{
    ListRow *r = vec_push(&ls->lists[list].rows);
    r->key = p->key;
    r->village = p->division;
    r->township = p->division ? arena_strndup(&ls->arena, p->division, strlen(p->division) >= 9 ? 9 : strlen(p->division)) : NULL;
    r->household = p->household;
    r->vals = arena_calloc(&ls->arena, sizeof(char *) * (size_t) ls->lists[list].ncols);
    r->ev = arena_alloc(&ls->arena, sizeof(EvRef) * ROW_MAX_EVIDENCE);
    char id[19];
    idnum_format(p->key, id);
    r->vals[0] = arena_strdup(&ls->arena, id);
    r->vals[1] = p->name ? p->name : "";
    /* the register record is evidence of every row */
    r->ev[r->nev++] = (EvRef){.file = p->file, .kind = FK_REGISTER, .record = p->record};
    return r;
}

static void
add_ev(ListRow *r, const Fact *f)
{
    if (r->nev < ROW_MAX_EVIDENCE)
        r->ev[r->nev++] = (EvRef){.file = f->file, .kind = f->kind, .record = f->record};
}

/* ---- the lists ---- */

typedef struct Death {
    Day      date;          /* earliest credible */
    unsigned evidence;      /* bit per Evidence */
    const Fact *facts[16];
    int      nfacts;
} Death;

static bool
death_of(const Facts *b, Day asof, Death *d)
{
    memset(d, 0, sizeof *d);
    d->date = DAY_NONE;
    for (uint32_t i = 0; i < b->n; i++) {
        const Fact *f = &b->f[i];
        if (f->kind != FK_DEATH || f->d1 == DAY_NONE || f->d1 > asof)
            continue;
        if (b->p->birth != DAY_NONE && f->d1 < b->p->birth)
            continue;   /* not credible: before birth */
        if (d->date == DAY_NONE || f->d1 < d->date)
            d->date = f->d1;
        d->evidence |= 1u << f->code;
        if (d->nfacts < 16)
            d->facts[d->nfacts++] = f;
    }
    return d->date != DAY_NONE;
}

static void
list_unenrolled(ListSet *ls, const Params *prm, Day asof, const Facts *b, const Death *death)
{
    const Person *p = b->p;
    if (p->status != REG_ACTIVE || p->division == NULL ||
        strncmp(p->division, prm->division, strlen(prm->division)) != 0)
        return;
    int age = date_age(p->birth, asof);
    if (p->birth == DAY_NONE || age < prm->min_age)
        return;
    if (active_of(b, FK_STUDENT, asof) || active_of(b, FK_INSTITUTION_PENSION, asof) ||
        active_of(b, FK_EMPLOYEE_PENSION, asof) || death->date != DAY_NONE)
        return;
    const Fact *rp = latest_of(b, FK_RESIDENT_PENSION);
    if (rp != NULL && rp->code != RP_TERMINATED)
        return;

    const Fact *prisons[8];
    int nprison = 0;
    Day release = DAY_NONE;
    bool life = false;
    for (uint32_t i = 0; i < b->n; i++)
        if (in_prison_on(&b->f[i], asof)) {
            if (nprison < 8)
                prisons[nprison++] = &b->f[i];
            if (b->f[i].d2 == DAY_NONE)
                life = true;
            else if (release == DAY_NONE || b->f[i].d2 > release)
                release = b->f[i].d2;
        }
    if (nprison > 0) {
        ListRow *r = new_row(ls, L_UNENROLLED_PRISON, p);
        r->vals[2] = r->township;
        r->vals[3] = life ? "" : fmt_day(&ls->arena, release);
        for (int i = 0; i < nprison; i++)
            add_ev(r, prisons[i]);
        if (rp)
            add_ev(r, rp);
        return;
    }

    ListRow *r = new_row(ls, L_UNENROLLED, p);
    const Fact *why[8];
    int nwhy = 0;
    char flags[128] = "";
    /* flags in alphabetical order: age60, employment_signal, government_paid, possibly_absent */
    if (age >= prm->flag_age)
        strcat(flags, "age60;");
    const Fact *emp = active_of(b, FK_EMPLOYEE_MEDICAL, asof);
    if (emp == NULL)
        emp = active_of(b, FK_ENTERPRISE_ROSTER, asof);
    if (emp == NULL) {
        Day from = date_add_months(asof, -prm->employment_window);
        for (uint32_t i = 0; i < b->n; i++)
            if (b->f[i].kind == FK_PROVIDENT_FUND) {
                Day d = sign_of_life(&b->f[i], asof);
                if (d != DAY_NONE && d > from)
                    emp = &b->f[i];
            }
    }
    if (emp != NULL) {
        strcat(flags, "employment_signal;");
        why[nwhy++] = emp;
    }
    const Fact *gov = NULL;
    for (uint32_t i = 0; i < b->n && gov == NULL; i++) {
        const Fact *f = &b->f[i];
        if (!active_on(f, asof))
            continue;
        if ((f->kind == FK_DISABILITY && prm->gov_disability && f->code != 0xFFFF &&
             f->code >= 1 && f->code <= prm->severe_disability) ||
            (f->kind == FK_DIBAO && prm->gov_dibao) || (f->kind == FK_TEKUN && prm->gov_tekun) ||
            (f->kind == FK_POOR_HOUSEHOLD && prm->gov_poor))
            gov = f;
    }
    if (gov != NULL) {
        strcat(flags, "government_paid;");
        why[nwhy++] = gov;
    }
    Day last = DAY_NONE;
    for (uint32_t i = 0; i < b->n; i++) {
        Day d = sign_of_life(&b->f[i], asof);
        if (d != DAY_NONE && (last == DAY_NONE || d > last))
            last = d;
    }
    if (last == DAY_NONE || last <= date_add_months(asof, -prm->absent_after))
        strcat(flags, "possibly_absent;");
    size_t fl = strlen(flags);
    if (fl > 0)
        flags[fl - 1] = '\0';
    r->vals[2] = r->township;
    r->vals[3] = r->village;
    r->vals[4] = r->household ? r->household : "";
    r->vals[5] = arena_strdup(&ls->arena, flags);
    if (rp)
        add_ev(r, rp);
    for (int i = 0; i < nwhy; i++)
        add_ev(r, why[i]);
}

static void
list_deceased_beneficiaries(ListSet *ls, const Params *prm, const Facts *b, const Death *death)
{
    const Fact *rp = latest_of(b, FK_RESIDENT_PENSION);
    if (rp == NULL || rp->code != RP_RECEIVING || death->date == DAY_NONE)
        return;
    ListRow *r = new_row(ls, L_DECEASED_BENEFICIARIES, b->p);
    char sources[64] = "";
    int nsrc = 0;
    const char *names[EV_COUNT];
    for (int e = 0; e < EV_COUNT; e++)
        if (death->evidence & (1u << e))
            names[nsrc++] = evidence_name((Evidence) e);
    /* sorted by name */
    for (int i = 1; i < nsrc; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (int i = 0; i < nsrc; i++) {
        strcat(sources, i ? ";" : "");
        strcat(sources, names[i]);
    }
    bool confirmed = nsrc >= 2 || (death->evidence & prm->authoritative) != 0;
    int32_t mdeath = date_month_of(death->date);
    int64_t overpaid = 0, basic_of_month = -1;
    int months_after = 0;
    int32_t last_month = INT32_MIN;
    for (uint32_t i = 0; i < b->n; i++) {
        const Fact *f = &b->f[i];
        if (f->kind != FK_PENSION_PAYMENT)
            continue;
        if (f->d1 == mdeath && basic_of_month < 0)
            basic_of_month = f->amount;
        if (f->d1 > mdeath) {
            /* payments are ordered by month: count each month once */
            if (f->d1 != last_month)
                months_after++;
            last_month = f->d1;
            overpaid += f->amount2;
            add_ev(r, f);
        }
    }
    if (basic_of_month < 0)
        basic_of_month = rp->amount;
    int64_t funeral = prm->funeral_expense + (int64_t) prm->funeral_months * basic_of_month;
    r->vals[2] = fmt_day(&ls->arena, death->date);
    r->vals[3] = arena_strdup(&ls->arena, sources);
    r->vals[4] = confirmed ? "confirmed" : "to_verify";
    r->vals[5] = fmt(&ls->arena, "%d", months_after);
    r->vals[6] = fmt_money(&ls->arena, overpaid);
    r->vals[7] = fmt_money(&ls->arena, funeral);
    add_ev(r, rp);
    for (int i = 0; i < death->nfacts; i++)
        add_ev(r, death->facts[i]);
}

bool
lists_compute(const Store *st, const Params *prm, Day asof, ListSet *ls, CbError *err)
{
    (void) err;
    memset(ls, 0, sizeof *ls);
    arena_init(&ls->arena, 4 << 20);
    static const char *const c_unenrolled[] = {"id_number", "name", "township", "village", "household", "flags", NULL};
    static const char *const c_prison[] = {"id_number", "name", "township", "release_date", NULL};
    static const char *const c_deceased[] = {"id_number", "name", "death_date", "sources", "confidence",
                                             "months_paid_after_death", "overpaid", "funeral_subsidy", NULL};
    define(ls, L_UNENROLLED, "unenrolled_eligible", "应参未参", c_unenrolled);
    define(ls, L_UNENROLLED_PRISON, "unenrolled_in_prison", "应参未参（服刑人员，释放后联系）", c_prison);
    define(ls, L_DECEASED_BENEFICIARIES, "deceased_beneficiaries", "待遇领取人员死亡", c_deceased);
    ls->n = L_COUNT;

    const Person *ps = st->persons.data;
    progress_begin("rules", "persons");
    for (size_t i = 0; i < st->persons.len; i++) {
        Facts b = {.p = &ps[i], .f = store_facts(st, &ps[i]), .n = ps[i].fact_count};
        Death death;
        death_of(&b, asof, &death);
        list_unenrolled(ls, prm, asof, &b, &death);
        list_deceased_beneficiaries(ls, prm, &b, &death);
        if ((i & 0xFFFF) == 0)
            progress_update(i);
    }
    progress_end(st->persons.len);
    return true;
}

void
lists_free(ListSet *ls)
{
    for (int i = 0; i < ls->n; i++)
        vec_free(&ls->lists[i].rows);
    arena_free(&ls->arena);
    memset(ls, 0, sizeof *ls);
}
