/*
 * out_fixture.h
 *     A small night for the output writers' unit tests (test_out_*.c): a reference list of
 *     places, a register of a few households in two townships, the lists a run would give
 *     (unenrolled_eligible, approaching_benefit_age, deceased_beneficiaries), facts for the
 *     coverage figures, and an offline lifecycle.  Everything in one Fixture, freed by fx_free.
 */
#ifndef OUT_FIXTURE_H
#define OUT_FIXTURE_H

/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "factkind.h"
#include "idnum.h"
#include "lifecycle.h"
#include "lists.h"
#include "out_common.h"
#include "reader.h"
#include "store.h"

#define FX_RULES "3f1c0e5a9b7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"
#define FX_LONG_VILLAGE "一个名字特别特别特别长的行政村用于测试工作表名称截断功能的村庄第二组"

typedef struct Fixture {
    Store      st;
    ListSet    ls;
    OutPlaces  pl;
    OutRunInfo ri;
    LcRun      lc;
} Fixture;

/* An 18-character ID with its check digit: region 222401, birth yyyymmdd, sequence. */
static void
fx_id(const char *birth8, int seq, char out[19])
{
    char first[18];
    snprintf(first, sizeof first, "222401%s%03d", birth8, seq);
    memcpy(out, first, 17);
    out[17] = idnum_check_digit(first);
    out[18] = '\0';
}

typedef struct FxPerson {
    const char *birth8;
    int         seq;
    const char *name;
    const char *household;
    const char *division;
    const char *phone;
    const char *address;
    int         enrolment;   /* -1 none, else RP_* */
} FxPerson;

/* Persons: index → what they are in the lists below. */
static const FxPerson fx_people[] = {
    /* 0-2: one household of 丹英社区, unenrolled */
    {"19700315", 11, "金哲洙", "100000001", "222401001001", "13904330001", "延吉市进学街道丹英社区局子街1号", -1},
    {"19720520", 22, "朴英姬", "100000001", "222401001001", "13904330002", "延吉市进学街道丹英社区局子街1号", -1},
    {"20050101", 31, "金敏俊", "100000001", "222401001001", NULL, "延吉市进学街道丹英社区局子街1号", -1},
    /* 3: another household of 丹英社区, unenrolled */
    {"19600101", 13, "李建国", "100000002", "222401001001", "04332510000", "延吉市进学街道丹英社区局子街2号", -1},
    /* 4: 民昌社区, unenrolled, no phone or address */
    {"19900808", 24, "王丽", "100000010", "222401001002", NULL, NULL, -1},
    /* 5: 小营镇 东兴村, contributor reaching 60 */
    {"19670115", 26, "崔顺子", "200000001", "222401100201", "13804330005", "延吉市小营镇东兴村3组7号", RP_CONTRIBUTING},
    /* 6: 小营镇, the village with a very long name, unenrolled */
    {"19850303", 28, "赵美兰", "200000002", "222401100202", NULL, "延吉市小营镇长名村1组1号", -1},
    /* 7: 小营镇, a second village called 东兴村, unenrolled */
    {"19880404", 17, "韩成龙", "200000003", "222401100203", "13804330007", NULL, -1},
    /* 8-9: receivers who died */
    {"19450606", 19, "尹秀贤", "100000003", "222401001001", NULL, NULL, RP_RECEIVING},
    {"19400707", 15, "姜英浩", "200000004", "222401100201", NULL, NULL, RP_RECEIVING},
    /* 10-11: enrolled, on no list (coverage) */
    {"19750505", 35, "郑美玉", "100000004", "222401001001", NULL, NULL, RP_CONTRIBUTING},
    {"19500202", 37, "张秀英", "100000005", "222401001002", NULL, NULL, RP_RECEIVING},
};
#define FX_NPEOPLE ((int) (sizeof fx_people / sizeof fx_people[0]))

static char fx_ids[FX_NPEOPLE][19];

static Day
fx_day(const char *s)
{
    return date_parse(s, strlen(s));
}

static void
fx_define(ListSet *ls, const char *name, const char *title, const char *const *cols)
{
    ListOut *l = &ls->lists[ls->n++];
    l->name = name;
    l->title = title;
    l->rule = name;
    for (l->ncols = 0; cols[l->ncols]; l->ncols++)
        l->cols[l->ncols] = cols[l->ncols];
    vec_init(&l->rows, sizeof(ListRow));
}

static ListRow *
fx_row(Fixture *fx, int list, int person, const char *const *vals)
{
    ListOut *l = &fx->ls.lists[list];
    ListRow *r = vec_push(&l->rows);
    const FxPerson *p = &fx_people[person];
    r->key = idnum_key(fx_ids[person]);
    r->village = p->division;
    r->township = arena_strndup(&fx->ls.arena, p->division, 9);
    r->household = p->household;
    r->vals = arena_calloc(&fx->ls.arena, sizeof(char *) * (size_t) l->ncols);
    r->vals[0] = fx_ids[person];
    for (int c = 1; c < l->ncols; c++)
        r->vals[c] = vals[c - 1] ? vals[c - 1] : "";
    r->ev = arena_alloc(&fx->ls.arena, sizeof(EvRef) * 8);
    r->ev[r->nev++] = (EvRef){.file = 0, .kind = FK_REGISTER, .record = (uint64_t) person + 1};
    return r;
}

static void
fx_file(Store *st, const char *source, const char *agency, FactKind kind, const char *name)
{
    SourceFile *sf = vec_push(&st->files);
    sf->source = source;
    sf->agency = agency;
    sf->kind = kind;
    sf->name = name;
    sf->read = 100;
    sf->accepted = 97;
    sf->rejected = 3;
}

static void
fx_build(Fixture *fx, bool with_lifecycle)
{
    memset(fx, 0, sizeof *fx);
    /* places */
    out_places_init(&fx->pl);
    out_places_add(&fx->pl, "222401001", "进学街道", "乡镇", "222401");
    out_places_add(&fx->pl, "222401001001", "丹英社区", "社区", "222401001");
    out_places_add(&fx->pl, "222401001002", "民昌社区", "社区", "222401001");
    out_places_add(&fx->pl, "222401001003", "园辉社区", "社区", "222401001");
    out_places_add(&fx->pl, "222401002", "北山街道", "乡镇", "222401");
    out_places_add(&fx->pl, "222401002001", "白川社区", "社区", "222401002");
    out_places_add(&fx->pl, "222401100", "小营镇", "乡镇", "222401");
    out_places_add(&fx->pl, "222401100201", "东兴村", "村", "222401100");
    out_places_add(&fx->pl, "222401100202", FX_LONG_VILLAGE, "村", "222401100");
    out_places_add(&fx->pl, "222401100203", "东兴村", "村", "222401100");
    out_places_add(&fx->pl, "222402001", "新华街道", "乡镇", "222402");
    out_places_sort(&fx->pl);

    /* register and facts */
    store_init(&fx->st);
    fx_file(&fx->st, "police_register", "公安", FK_REGISTER, "police_register_20261128.csv");
    fx_file(&fx->st, "civil_dibao", "民政", FK_DIBAO, "civil_dibao_20261128.csv");
    fx_file(&fx->st, "health_death_cert", "卫健", FK_DEATH, "health_death_cert_20261128.csv");
    fx_file(&fx->st, "si_resident_enrolment", "社保局", FK_RESIDENT_PENSION, "si_resident_enrolment_20261128.csv");
    for (int i = 0; i < FX_NPEOPLE; i++) {
        const FxPerson *fp = &fx_people[i];
        fx_id(fp->birth8, fp->seq, fx_ids[i]);
        Person *p = vec_push(&fx->st.persons);
        p->key = idnum_key(fx_ids[i]);
        p->birth = date_parse(fp->birth8, 8);
        p->cancel_date = DAY_NONE;
        assert_true(store_person_set_text(&fx->st, p, fp->name, fp->household, fp->address, fp->phone, NULL));
        p->division = fp->division;
        p->sex = (uint8_t) (fp->seq % 2 == 1 ? SEX_MALE : SEX_FEMALE);
        p->status = REG_ACTIVE;
        p->cancel_reason = 0xFF;
        p->record = (uint64_t) i + 1;
        if (fp->enrolment >= 0) {
            Fact *f = vec_push(&fx->st.facts);
            f->person = p->key;
            f->kind = FK_RESIDENT_PENSION;
            f->code = (uint16_t) fp->enrolment;
            f->d1 = f->d2 = DAY_NONE;
            f->file = 3;
            f->record = (uint64_t) i + 1;
        }
    }
    store_group(&fx->st);

    /* lists */
    arena_init(&fx->ls.arena, 64 << 10);
    snprintf(fx->ls.rule_version, sizeof fx->ls.rule_version, "%s", FX_RULES);
    static const char *const c_un[] = {"id_number", "name", "township", "village", "household", "flags", NULL};
    /* age, rule and rule_version as the real list has them: the workbook's hints leave them out */
    static const char *const c_age[] = {"id_number", "birthday60", "age", "rule", "rule_version", NULL};
    static const char *const c_dead[] = {"id_number", "name", "death_date", "sources", "confidence",
                                         "months_paid_after_death", "overpaid", "funeral_subsidy", NULL};
    fx_define(&fx->ls, "unenrolled_eligible", "应参未参", c_un);
    fx_define(&fx->ls, "approaching_benefit_age", "即将达到待遇领取年龄", c_age);
    fx_define(&fx->ls, "deceased_beneficiaries", "待遇领取人员死亡", c_dead);
    /* unenrolled, deliberately not in household order */
    static const struct { int person; const char *flags; } un[] = {
        {4, ""}, {3, "age60;possibly_absent"}, {1, "government_paid"}, {0, "employment_signal"},
        {2, ""}, {6, ""}, {7, "possibly_absent"},
    };
    for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
        const FxPerson *p = &fx_people[un[i].person];
        const char *v[] = {p->name, NULL, p->division, p->household, un[i].flags};
        ListRow *r = fx_row(fx, 0, un[i].person, v);
        r->vals[2] = r->township;
        if (un[i].person == 1)
            r->ev[r->nev++] = (EvRef){.file = 1, .kind = FK_DIBAO, .record = 42};
    }
    {
        const char *v[] = {"2027-01-15", "59", "approaching_benefit_age.rules:approaching_benefit_age", FX_RULES};
        fx_row(fx, 1, 5, v);
    }
    {
        const char *v[] = {"尹秀贤", "2026-09-03", "civil;health", "confirmed", "2", "396.00", "2780.00"};
        ListRow *r = fx_row(fx, 2, 8, v);
        r->ev[r->nev++] = (EvRef){.file = 2, .kind = FK_DEATH, .record = 7};
        const char *w[] = {"姜英浩", "2026-10-20", "civil", "to_verify", "1", "201.00", "2790.00"};
        fx_row(fx, 2, 9, w);
    }

    fx->ri.asof = fx_day("2026-11-28");
    fx->ri.rule_version = fx->ls.rule_version;
    fx->ri.engine_version = "0.1.0";
    fx->ri.city = "222401";
    if (with_lifecycle)
        lifecycle_offline(&fx->ls, fx->ri.asof, &fx->lc);
}

static void
fx_free(Fixture *fx)
{
    lifecycle_free(&fx->lc);
    lists_free(&fx->ls);
    store_free(&fx->st);
    out_places_free(&fx->pl);
}

/* ---- files ---- */

static void
fx_tmpdir(char *dir, size_t n, const char *tag)
{
    snprintf(dir, n, "/tmp/%s.XXXXXX", tag);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
}

static void
fx_rmdir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static unsigned char *
fx_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t) n + 1);
    size_t got = fread(buf, 1, (size_t) n, f);
    fclose(f);
    buf[got] = 0;
    *len = got;
    return buf;
}

static bool
fx_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = fx_slurp(a, &la), *y = fx_slurp(b, &lb);
    bool same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* A worksheet read back with the project's XLSX reader: rows of NUL-terminated cells, by the
 * sheet's row number (row 0 is the sheet's first row; empty rows stay empty). */
typedef struct Sheet {
    int    nrows;
    int    ncols[256];
    char  *cell[256][32];
} Sheet;

static bool
fx_read_sheet(const char *path, const char *sheet, Sheet *s, CbError *err)
{
    memset(s, 0, sizeof *s);
    ReaderSpec spec = {.format = RF_XLSX, .sheet = sheet};
    Reader *r = reader_open(&spec, path, err);
    if (r == NULL)
        return false;
    Record rec;
    ReadStatus st;
    while ((st = reader_next(r, &rec, err)) == READ_OK) {
        if (rec.line_no < 1 || rec.line_no > 256)
            continue;
        int row = (int) rec.line_no - 1;
        int n = rec.nfields < 32 ? rec.nfields : 32;
        s->ncols[row] = n;
        for (int c = 0; c < n; c++) {
            s->cell[row][c] = malloc(rec.fields[c].len + 1);
            memcpy(s->cell[row][c], rec.fields[c].p ? rec.fields[c].p : "", rec.fields[c].len);
            s->cell[row][c][rec.fields[c].len] = '\0';
        }
        if (row + 1 > s->nrows)
            s->nrows = row + 1;
    }
    reader_close(r);
    return st == READ_EOF;
}

static const char *
fx_cell(const Sheet *s, int row, int col)
{
    if (row >= s->nrows || col >= s->ncols[row] || s->cell[row][col] == NULL)
        return "";
    return s->cell[row][col];
}

static void
fx_free_sheet(Sheet *s)
{
    for (int r = 0; r < s->nrows; r++)
        for (int c = 0; c < s->ncols[r]; c++)
            free(s->cell[r][c]);
    memset(s, 0, sizeof *s);
}

#endif
