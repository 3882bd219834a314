#include "out_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "factkind.h"
#include "reader.h"

/* ---- places ---- */

void
out_places_init(OutPlaces *pl)
{
    vec_init(&pl->items, sizeof(OutPlace));
    arena_init(&pl->arena, 64 << 10);
}

void
out_places_free(OutPlaces *pl)
{
    vec_free(&pl->items);
    arena_free(&pl->arena);
    memset(pl, 0, sizeof *pl);
}

void
out_places_add(OutPlaces *pl, const char *code, const char *name, const char *level,
               const char *parent)
{
    OutPlace *p = vec_push(&pl->items);
    p->code = arena_strdup(&pl->arena, code ? code : "");
    p->name = arena_strdup(&pl->arena, name ? name : "");
    p->level = arena_strdup(&pl->arena, level ? level : "");
    p->parent = arena_strdup(&pl->arena, parent ? parent : "");
}

static int
cmp_place(const void *a, const void *b)
{
    return strcmp(((const OutPlace *) a)->code, ((const OutPlace *) b)->code);
}

void
out_places_sort(OutPlaces *pl)
{
    if (pl->items.len > 1)
        qsort(pl->items.data, pl->items.len, sizeof(OutPlace), cmp_place);
}

const OutPlace *
out_places_find(const OutPlaces *pl, const char *code)
{
    if (code == NULL || pl == NULL || pl->items.len == 0)
        return NULL;
    OutPlace key = {.code = code};
    return bsearch(&key, pl->items.data, pl->items.len, sizeof(OutPlace), cmp_place);
}

bool
out_place_is_township(const OutPlace *p)
{
    return p != NULL && strcmp(p->level, "乡镇") == 0;
}

/* Copies a field into the arena, trimmed of ASCII space. */
static char *
field_dup(Arena *a, const RecField *f)
{
    const char *s = f->p ? f->p : "";
    size_t n = f->p ? f->len : 0;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return arena_strndup(a, s, n);
}

bool
out_places_load(const char *path, OutPlaces *pl, CbError *err)
{
    out_places_init(pl);
    ReaderSpec spec = {.format = RF_CSV, .delimiter = ',', .quote = '"'};
    Reader *r = reader_open(&spec, path, err);
    if (r == NULL)
        return false;
    static const char *const want[4] = {"代码", "名称", "级别", "上级代码"};
    int col[4] = {-1, -1, -1, -1};
    bool ok = true, header = true;
    Record rec;
    for (;;) {
        ReadStatus s = reader_next(r, &rec, err);
        if (s == READ_EOF)
            break;
        if (s == READ_ERROR) {
            ok = false;
            break;
        }
        if (s == READ_BAD)
            continue;   /* a malformed row names no place we could trust */
        if (header) {
            header = false;
            for (int i = 0; i < rec.nfields; i++)
                for (int w = 0; w < 4; w++)
                    if (rec.fields[i].p && strlen(want[w]) == rec.fields[i].len &&
                        memcmp(rec.fields[i].p, want[w], rec.fields[i].len) == 0)
                        col[w] = i;
            for (int w = 0; w < 4; w++)
                if (col[w] < 0) {
                    ok = CB_FAIL(err, CBERR_INPUT, "column %s not found in the reference list of divisions",
                                 want[w]);
                    cb_error_at(err, "%s", path);
                    cb_error_hint(err, "the header must hold 代码, 名称, 级别 and 上级代码");
                    break;
                }
            if (!ok)
                break;
            continue;
        }
        const char *v[4];
        for (int w = 0; w < 4; w++)
            v[w] = col[w] < rec.nfields ? field_dup(&pl->arena, &rec.fields[col[w]]) : "";
        if (v[0][0] == '\0')
            continue;
        OutPlace *p = vec_push(&pl->items);
        p->code = v[0];
        p->name = v[1];
        p->level = v[2];
        p->parent = v[3];
    }
    reader_close(r);
    if (ok && header) {
        ok = CB_FAIL(err, CBERR_INPUT, "the reference list of divisions is empty");
        cb_error_at(err, "%s", path);
    }
    out_places_sort(pl);
    return ok;
}

/* ---- IDs ---- */

void
out_mask_id(const char *id, bool mask, char out[19])
{
    size_t n = id ? strlen(id) : 0;
    if (n > 18)
        n = 18;
    memcpy(out, id ? id : "", n);
    out[n] = '\0';
    if (mask && n == 18)
        memset(out + 6, '*', 8);
}

bool
out_mask_from_env(void)
{
    const char *v = getenv("CANBAO_MASK_IDS");
    if (v == NULL)
        return true;
    return !(strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0);
}

/* ---- words ---- */

typedef struct Word {
    const char *key, *word;
} Word;

/* The list's flag tokens in the words a village clerk uses; an invitation, never a reproach. */
static const Word flag_words[] = {
    {"government_paid", "政府代缴"},
    {"employment_signal", "核查职工养老保险"},
    {"age60", "年满60周岁可申领待遇"},
    {"possibly_absent", "可能外出（可经家属联系）"},
};

const char *
out_flag_word(const char *token)
{
    for (size_t i = 0; i < sizeof flag_words / sizeof flag_words[0]; i++)
        if (strcmp(flag_words[i].key, token) == 0)
            return flag_words[i].word;
    return NULL;
}

const char *
out_gov_group_word(int kind)
{
    switch (kind) {
    case FK_DISABILITY: return "重度残疾";
    case FK_DIBAO: return "低保";
    case FK_TEKUN: return "特困";
    case FK_POOR_HOUSEHOLD: return "贫困户";
    default: return NULL;
    }
}

static const Word column_labels[] = {
    {"id_number", "公民身份号码"},
    {"name", "姓名"},
    {"township", "乡镇（街道）"},
    {"village", "村（社区）"},
    {"household", "户号"},
    {"flags", "提示"},
    {"release_date", "释放日期"},
    {"death_date", "死亡日期"},
    {"sources", "来源"},
    {"confidence", "核实程度"},
    {"months_paid_after_death", "死亡后发放月数"},
    {"overpaid", "多发金额"},
    {"funeral_subsidy", "丧葬补助"},
    {"action", "操作"},
    {"from_month", "起始月份"},
    {"scheme", "险种"},
    {"birthday60", "60周岁生日"},
    {"last_sign_of_life", "最后生存迹象"},
    {"case", "情形"},
    {"year", "年度"},
    {"amount", "金额"},
};

const char *
out_column_label(const char *col)
{
    for (size_t i = 0; i < sizeof column_labels / sizeof column_labels[0]; i++)
        if (strcmp(column_labels[i].key, col) == 0)
            return column_labels[i].word;
    return NULL;
}

static const Word value_words[] = {
    {"confirmed", "已确认"},
    {"to_verify", "待核实"},
    {"suspend", "暂停发放"},
    {"resume", "恢复发放"},
    {"employee", "职工养老保险"},
    {"institution", "机关事业单位养老保险"},
    {"collection_without_enrolment", "有缴费无参保"},
    {"enrolled_without_collection", "参保未缴费"},
    {"subsidy_above_tier", "补助超过最高档次"},
    {"police", "公安"},
    {"health", "卫健"},
    {"civil", "民政"},
    {"court", "法院"},
    {"medical", "医保"},
};

const char *
out_value_word(const char *col, const char *value)
{
    (void) col;
    for (size_t i = 0; i < sizeof value_words / sizeof value_words[0]; i++)
        if (strcmp(value_words[i].key, value) == 0)
            return value_words[i].word;
    return value;
}

/* ---- lists ---- */

int
out_col(const ListOut *l, const char *name)
{
    for (int c = 0; c < l->ncols; c++)
        if (strcmp(l->cols[c], name) == 0)
            return c;
    return -1;
}

const ListOut *
out_find_list(const ListSet *ls, const char *name)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->lists[i].name && strcmp(ls->lists[i].name, name) == 0)
            return &ls->lists[i];
    return NULL;
}

const char *
out_val(const ListRow *r, int c)
{
    if (c < 0 || r->vals == NULL || r->vals[c] == NULL)
        return "";
    return r->vals[c];
}

/* ---- text ---- */

/* Decodes one code point; advances *s.  Invalid bytes count as one narrow character. */
static unsigned
next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) {
            n = 1;
            break;
        }
    if (n == 1) {
        *s = p + 1;
        return c < 0x80 ? c : 0xFFFD;
    }
    unsigned cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    *s = p + n;
    return cp;
}

static bool
wide(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

int
out_text_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *) (s ? s : "");
    while (*p)
        w += wide(next_cp(&p)) ? 2 : 1;
    return w;
}

int
out_text_chars(const char *s)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *) (s ? s : "");
    while (*p) {
        next_cp(&p);
        n++;
    }
    return n;
}

void
out_csv_field(FILE *f, const char *s, bool first)
{
    /* a file is written by one thread: no stdio lock per character */
    if (!first)
        putc_unlocked(',', f);
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs_unlocked(s, f);
        return;
    }
    putc_unlocked('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            putc_unlocked('"', f);
        putc_unlocked(*p, f);
    }
    putc_unlocked('"', f);
}

void
out_csv_text_field(FILE *f, const char *s, bool first)
{
    if (s != NULL && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                      s[0] == '\r')) {
        size_t n = strlen(s);
        char *q = xmalloc(n + 2);
        q[0] = '\'';
        memcpy(q + 1, s, n + 1);
        out_csv_field(f, q, first);
        free(q);
        return;
    }
    out_csv_field(f, s, first);
}

FILE *
out_open(const char *dir, const char *name, CbError *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not create output file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
    }
    return f;
}

bool
out_close(FILE *f, const char *dir, const char *name, CbError *err)
{
    bool ok = !ferror(f);
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not write output file (disk full?): %s", strerror(errno));
        cb_error_at(err, "%s/%s", dir, name);
    }
    return ok;
}

void
out_day_compact(Day d, char out[9])
{
    char b[11];
    date_format(d, b);
    if (b[0] == '\0') {
        out[0] = '\0';
        return;
    }
    memcpy(out, b, 4);
    memcpy(out + 4, b + 5, 2);
    memcpy(out + 6, b + 8, 2);
    out[8] = '\0';
}
