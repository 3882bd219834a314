/*
 * rules_test — the example cases written in the rule files (`test "..." asof D given ...
 * expect ...`), run against the compiled rule set.
 *
 * Each case builds a small store the way the loader would (a register entry per `given
 * register`, its facts after it; a register cancellation for death is also a police death
 * fact, a payment without a total totals basic + account), evaluates every list on the case's
 * as-of date, and compares the expectations with the rows produced: `expect LIST { col =
 * value }` needs a row with those values, `expect no LIST { ... }` needs none (without braces:
 * no row at all).  Values compare as the list's text: dates 2026-11-28, months 202611, money
 * 1200.00, names as written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

typedef struct CaseState {
    const RuleSet  *rs;
    const TestCase *tc;
    FILE           *out;
    char            why[2048];
    size_t          nwhy;
    bool            failed;
} CaseState;

static void
say(CaseState *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(CaseState *cs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cs->nwhy < sizeof cs->why - 1)
        cs->nwhy += (size_t) vsnprintf(cs->why + cs->nwhy, sizeof cs->why - cs->nwhy, fmt, ap);
    if (cs->nwhy > sizeof cs->why - 1)
        cs->nwhy = sizeof cs->why - 1;
    va_end(ap);
}

static int64_t
money_of(const Token *t)
{
    int64_t v = t->num;
    int s = t->scale;
    while (s < 2) {
        v *= 10;
        s++;
    }
    while (s > 2) {
        v /= 10;
        s--;
    }
    return v;
}

static int
enum_index(RType t, const char *name)
{
    int nv;
    const char *const *vals = rules_enum_values(t, &nv);
    for (int i = 0; i < nv; i++)
        if (strcmp(vals[i], name) == 0)
            return i;
    return -1;
}

/* the value a test gives, as the text a list would show */
static void
expect_text(const TestValue *v, char *buf, size_t n)
{
    const Token *t = &v->value;
    switch (t->kind) {
    case TK_STRING:
        snprintf(buf, n, "%s", t->str);
        break;
    case TK_DATE: {
        char d[11];
        date_format((Day) t->num, d);
        snprintf(buf, n, "%s", d);
        break;
    }
    case TK_MONTH:
        snprintf(buf, n, "%04lld%02lld", (long long) (t->num / 12), (long long) (t->num % 12 + 1));
        break;
    case TK_NUMBER:
        if (v->unit && strcmp(v->unit, "yuan") == 0) {
            int64_t f = money_of(t);
            snprintf(buf, n, "%lld.%02lld", (long long) (f / 100), (long long) (f % 100));
        } else {
            snprintf(buf, n, "%.*s", (int) t->len, t->src);
        }
        break;
    case TK_IDENT:
        snprintf(buf, n, "%s", strcmp(t->str, "none") == 0 ? "" : t->str);
        break;
    default:
        buf[0] = '\0';
    }
}

static uint32_t
file_for(Store *st, int kind, const char *label)
{
    /* one SourceFile per fact kind: files[kind + 1], files[0] is the register */
    uint32_t want = (uint32_t) (kind + 1);
    while (st->files.len <= want) {
        SourceFile *sf = vec_push(&st->files);
        int k = (int) st->files.len - 2;
        char name[300];
        snprintf(name, sizeof name, "%s:%s", label, k < 0 ? "register" : factkind_name((FactKind) k));
        sf->name = arena_strdup(&st->strings, name);
        sf->source = sf->name;
        sf->agency = "example";
        sf->kind = k < 0 ? FK_REGISTER : (FactKind) k;
    }
    return want;
}

static bool
build(CaseState *cs, Store *st, RefData *rd)
{
    const RuleSet *rs = cs->rs;
    const TestCase *tc = cs->tc;
    const RuleFile *rf = &((const RuleFile *) rs->files.data)[tc->file];
    const Person *last = NULL;
    size_t last_index = 0;
    int npersons = 0;
    for (size_t gi = 0; gi < tc->given.len; gi++) {
        const TestGiven *g = &((const TestGiven *) tc->given.data)[gi];
        if (g->what == -1) {
            Person p;
            memset(&p, 0, sizeof p);
            p.birth = DAY_NONE;
            p.cancel_date = DAY_NONE;
            p.sex = 0xFF;
            p.cancel_reason = 0xFF;
            p.status = REG_ACTIVE;
            p.division = "222401001001";
            const char *name = "示例", *household = "000000001", *address = NULL, *phone = NULL;
            const char *id = NULL;
            for (int i = 0; i < g->nvals; i++) {
                const TestValue *v = &g->vals[i];
                const char *f = v->name;
                RType et = {.t = T_ENUM, .kind = FK_REGISTER, .field = (int8_t) factkind_field(FK_REGISTER, f)};
                if (strcmp(f, "id_number") == 0)
                    id = v->value.str;
                else if (strcmp(f, "birth_date") == 0)
                    p.birth = (Day) v->value.num;
                else if (strcmp(f, "cancel_date") == 0)
                    p.cancel_date = (Day) v->value.num;
                else if (strcmp(f, "name") == 0)
                    name = v->value.str;
                else if (strcmp(f, "household") == 0)
                    household = v->value.str;
                else if (strcmp(f, "division") == 0)
                    p.division = arena_strdup(&st->strings, v->value.str);
                else if (strcmp(f, "address") == 0)
                    address = v->value.str;
                else if (strcmp(f, "phone") == 0)
                    phone = v->value.str;
                else if (strcmp(f, "sex") == 0)
                    p.sex = (uint8_t) enum_index(et, v->value.str);
                else if (strcmp(f, "status") == 0)
                    p.status = (uint8_t) enum_index(et, v->value.str);
                else if (strcmp(f, "cancel_reason") == 0)
                    p.cancel_reason = (uint8_t) enum_index(et, v->value.str);
            }
            char idbuf[19];
            if (id) {
                idnum_normalise(id, strlen(id), idbuf);
            } else {
                if (p.birth == DAY_NONE) {
                    say(cs, "  %s:%d: a register entry needs birth_date or id_number\n", rf->path, g->line);
                    return false;
                }
                int y, m, d;
                date_to_ymd(p.birth, &y, &m, &d);
                char first17[18];
                snprintf(first17, sizeof first17, "222401%04d%02d%02d%03d", y, m, d, 101 + 2 * npersons);
                memcpy(idbuf, first17, 17);
                idbuf[17] = idnum_check_digit(first17);
                idbuf[18] = '\0';
            }
            p.key = idnum_key(idbuf);
            if (p.birth == DAY_NONE)
                p.birth = idnum_birth_day(idbuf);
            p.file = file_for(st, -1, rf->name);
            p.record = (uint64_t) g->line;
            CbError terr = {0};
            if (!store_person_set_text(st, &p, name, household, address, phone, &terr)) {
                say(cs, "  %s:%d: %s\n", rf->path, g->line, terr.message);
                return false;
            }
            Person *pp = vec_push(&st->persons);
            *pp = p;
            last_index = st->persons.len - 1;
            last = pp;
            npersons++;
            if (p.status == REG_CANCELLED && p.cancel_reason == CANCEL_DEATH && p.cancel_date != DAY_NONE) {
                Fact *f = vec_push(&st->facts);
                f->person = p.key;
                f->d1 = p.cancel_date;
                f->d2 = DAY_NONE;
                f->kind = FK_DEATH;
                f->code = EV_POLICE;
                f->file = (uint16_t) p.file;
                f->record = p.record;
            }
        } else if (g->what >= 0) {
            last = &VEC_AT(&st->persons, Person, last_index);
            Fact f;
            memset(&f, 0, sizeof f);
            f.person = last->key;
            f.d1 = f.d2 = DAY_NONE;
            f.code = 0xFFFF;
            f.kind = (uint16_t) g->what;
            f.file = (uint16_t) file_for(st, g->what, rf->name);
            f.record = (uint64_t) g->line;
            bool have_total = false, have_evidence = false;
            int64_t account = 0;
            for (int i = 0; i < g->nvals; i++) {
                const TestValue *v = &g->vals[i];
                if (g->what == FK_PENSION_PAYMENT && strcmp(v->name, "account") == 0) {
                    account = money_of(&v->value);
                    continue;
                }
                int slot;
                RType t;
                rules_kind_field(g->what, v->name, &slot, &t);
                int64_t val = 0;
                switch (t.t) {
                case T_DATE: case T_MONTH: case T_INT: val = v->value.num; break;
                case T_MONEY: val = money_of(&v->value); break;
                case T_ENUM: val = enum_index(t, v->value.str); break;
                default: break;
                }
                if (t.t == T_ENUM && t.field == FIELD_EVIDENCE)
                    have_evidence = true;
                switch (slot) {
                case FS_D1: f.d1 = (Day) val; break;
                case FS_D2: f.d2 = (Day) val; break;
                case FS_CODE: f.code = (uint16_t) val; break;
                case FS_AMOUNT: f.amount = val; break;
                case FS_AMOUNT2: f.amount2 = val; have_total = true; break;
                case FS_LINK: f.link = (uint8_t) val; break;
                default: break;
                }
            }
            if (g->what == FK_PENSION_PAYMENT && !have_total)
                f.amount2 = f.amount + account;
            if (g->what == FK_DEATH && !have_evidence) {
                say(cs, "  %s:%d: a death needs evidence = police, health, civil, court or medical\n", rf->path,
                    g->line);
                return false;
            }
            *(Fact *) vec_push(&st->facts) = f;
        } else {
            int ti = -100 - g->what;
            const RefDecl *r = rref(rs, ti);
            RefRow *row = vec_push(&rd->tables[ti].rows);
            row->record = (uint64_t) g->line;
            row->vals = arena_calloc(&rd->arena, sizeof(char *) * (size_t) r->nfields);
            for (int i = 0; i < g->nvals; i++)
                for (int f = 0; f < r->nfields; f++)
                    if (strcmp(r->fields[f], g->vals[i].name) == 0)
                        row->vals[f] = arena_strdup(&rd->arena, g->vals[i].value.str);
        }
    }
    (void) last;
    return true;
}

static bool
row_matches(const ListOut *lo, const ListRow *row, const TestExpect *e)
{
    for (int i = 0; i < e->nvals; i++) {
        int ci = -1;
        for (int k = 0; k < lo->ncols; k++)
            if (strcmp(lo->cols[k], e->vals[i].name) == 0)
                ci = k;
        char want[512];
        expect_text(&e->vals[i], want, sizeof want);
        if (ci < 0 || strcmp(row->vals[ci], want) != 0)
            return false;
    }
    return true;
}

static void
show_rows(CaseState *cs, const ListOut *lo)
{
    if (lo->rows.len == 0) {
        say(cs, "       %s has no row\n", lo->name);
        return;
    }
    for (size_t r = 0; r < lo->rows.len && r < 5; r++) {
        const ListRow *row = &VEC_AT(&lo->rows, ListRow, r);
        say(cs, "       %s row:", lo->name);
        for (int k = 0; k < lo->ncols; k++)
            if (strcmp(lo->cols[k], "rule") != 0 && strcmp(lo->cols[k], "rule_version") != 0)
                say(cs, " %s=%s", lo->cols[k], row->vals[k]);
        say(cs, "\n");
    }
}

static bool
run_case(const RuleSet *rs, const TestCase *tc, FILE *out)
{
    CaseState cs = {.rs = rs, .tc = tc, .out = out};
    const RuleFile *rf = &((const RuleFile *) rs->files.data)[tc->file];
    Store st;
    store_init(&st);
    vec_reserve(&st.persons, 4);   /* never NULL arrays, also for an example without persons */
    vec_reserve(&st.facts, 16);
    RefData rd;
    rules_ref_init(rs, &rd);
    ListSet ls;
    memset(&ls, 0, sizeof ls);
    bool ok = build(&cs, &st, &rd);
    if (ok) {
        store_group(&st);
        rules_eval_all(rs, &st, tc->asof, &rd, &ls, false);
        for (size_t ei = 0; ei < tc->expect.len; ei++) {
            const TestExpect *e = &((const TestExpect *) tc->expect.data)[ei];
            const ListOut *lo = &ls.lists[e->list_idx];
            int hits = 0;
            for (size_t r = 0; r < lo->rows.len; r++)
                hits += row_matches(lo, &VEC_AT(&lo->rows, ListRow, r), e);
            bool good = e->no ? hits == 0 : hits > 0;
            if (!good) {
                ok = false;
                say(&cs, "    %s:%d: expected %s%s", rf->path, e->line, e->no ? "no row in " : "a row in ", e->list);
                if (e->nvals) {
                    say(&cs, " with");
                    for (int i = 0; i < e->nvals; i++) {
                        char want[512];
                        expect_text(&e->vals[i], want, sizeof want);
                        say(&cs, " %s=%s", e->vals[i].name, want);
                    }
                }
                say(&cs, "\n");
                show_rows(&cs, lo);
            }
        }
    }
    fprintf(out, "%s %s:%d: %s\n", ok ? "ok    " : "FAILED", rf->path, tc->line, tc->name);
    if (!ok)
        fputs(cs.why, out);
    lists_free(&ls);
    rules_ref_free(&rd);
    store_free(&st);
    return ok;
}

int
rules_run_tests(const RuleSet *rs, FILE *out, int *passed)
{
    int failed = 0;
    *passed = 0;
    for (size_t i = 0; i < rs->tests.len; i++) {
        if (run_case(rs, &((const TestCase *) rs->tests.data)[i], out))
            (*passed)++;
        else
            failed++;
    }
    return failed;
}
