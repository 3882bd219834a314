#include "out_xlsx.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <xlsxwriter.h>

#include "factkind.h"
#include "idnum.h"
#include "parallel.h"
#include "text.h"

const char *const OUT_XLSX_COLUMNS[OXC_COUNT] = {
    [OXC_SEQ] = "序号",         [OXC_VILLAGE] = "村（社区）", [OXC_HOUSEHOLD] = "户号",
    [OXC_HH_SEQ] = "户序",      [OXC_NAME] = "姓名",         [OXC_SEX] = "性别",
    [OXC_AGE] = "年龄",         [OXC_ID] = "公民身份号码",   [OXC_PHONE] = "联系电话",
    [OXC_ADDRESS] = "住址",     [OXC_MATTER] = "事项",       [OXC_HINTS] = "提示",
    [OXC_NEW] = "本期新增",     [OXC_OUTCOME] = "结果",      [OXC_DATE] = "日期",
    [OXC_NOTE] = "备注",        [OXC_KEY] = "行键",
};

const char *const OUT_XLSX_OUTCOMES[OUT_XLSX_NOUTCOMES] = {
    "已联系", "已参保", "拒绝", "外出务工", "已迁出", "已死亡", "信息有误",
};

#define MAX_WIDTH 48.0
#define MIN_WIDTH 5.0
/* the text width from which fit_width gives MAX_WIDTH: a column this wide measures no more */
#define FULL_WIDTH ((int) ((MAX_WIDTH - 2) / 1.1) + 1)

/*
 * The workbooks' deflate.  libxlsxwriter 1.1.4 has no option for it: it asks minizip to
 * deflate every part of the zip with zlib at zlib's default level (6), and a third of the time
 * spent writing the township workbooks went to it.  minizip is a shared library (Debian's
 * libminizip1) that libxlsxwriter calls through the dynamic linker, so the three functions below,
 * defined in the program, are the ones it finds.  A part libxlsxwriter asks to deflate at the
 * default level is opened "raw" in minizip instead (minizip writes the bytes it is given, and
 * the zip's headers say deflate, level 1), deflated here by ISA-L's igzip at its level 1 (as
 * the gzip extracts are inflated: several times faster than zlib at its fastest level, and
 * about as small), its CRC-32 counted by ISA-L; closing the part hands minizip the size and
 * CRC-32 of what was deflated.  Everything else passes on to minizip unchanged.  The zip is
 * the same format, any reader opens it.  Each workbook is written whole on one thread, one part
 * at a time, so the part being deflated is the thread's.
 */
#define XLSX_ZIP_LEVEL 1
#define ZIP_OK_ 0
#define ZIP_INTERNALERROR_ (-104)   /* libxlsxwriter reports the workbook not written */
#define Z_DEFLATED_ 8
typedef unsigned int  zip_uInt;
typedef unsigned long zip_uLong;
typedef int (*ZipOpenFn)(void *, const char *, const void *, const void *, zip_uInt, const void *,
                         zip_uInt, const char *, int, int, int, int, int, int, const char *,
                         zip_uLong, zip_uLong, zip_uLong, int);
typedef int (*ZipWriteFn)(void *, const void *, unsigned);
typedef int (*ZipCloseFn)(void *);
typedef int (*ZipCloseRawFn)(void *, uint64_t, zip_uLong);
int zipOpenNewFileInZip4_64(void *file, const char *filename, const void *zipfi,
                            const void *extra_local, zip_uInt size_extra_local, const void *extra_global,
                            zip_uInt size_extra_global, const char *comment, int method, int level,
                            int raw, int window_bits, int mem_level, int strategy,
                            const char *password, zip_uLong crc_for_crypting, zip_uLong version_made_by,
                            zip_uLong flag_base, int zip64);
int zipWriteInFileInZip(void *file, const void *buf, unsigned len);
int zipCloseFileInZip(void *file);

/* minizip's own definition of name (NULL if the dynamic linker has none) */
static void *
minizip_fn(_Atomic(void *) *slot, const char *name)
{
    void *fn = atomic_load(slot);
    if (fn == NULL) {
        fn = dlsym(RTLD_NEXT, name);
        atomic_store(slot, fn);
    }
    return fn;
}

#define XLSX_DEFLATE_OUT (64 * 1024)

/* the part this thread deflates */
typedef struct ZipDeflate {
    void               *zip;        /* the zipFile whose open part it is */
    struct isal_zstream z;
    uint8_t            *level_buf;
    uint32_t            crc;
    uint64_t            size;       /* bytes given, before deflating */
    uint8_t             out[XLSX_DEFLATE_OUT];
} ZipDeflate;

static _Thread_local ZipDeflate *zip_part;

static void
zip_part_free(void)
{
    if (zip_part != NULL) {
        free(zip_part->level_buf);
        free(zip_part);
        zip_part = NULL;
    }
}

/* Deflates what the stream holds (end: and finishes it), the output written to the zip. */
static int
zip_part_deflate(ZipDeflate *d, bool end, ZipWriteFn write)
{
    d->z.end_of_stream = end ? 1 : 0;
    d->z.flush = NO_FLUSH;
    do {
        d->z.next_out = d->out;
        d->z.avail_out = XLSX_DEFLATE_OUT;
        if (isal_deflate(&d->z) != COMP_OK)
            return ZIP_INTERNALERROR_;
        unsigned n = XLSX_DEFLATE_OUT - d->z.avail_out;
        if (n > 0) {
            int rc = write(d->zip, d->out, n);
            if (rc != ZIP_OK_)
                return rc;
        }
    } while (d->z.avail_in > 0 || (end && d->z.internal_state.state != ZSTATE_END));
    return ZIP_OK_;
}

int
zipOpenNewFileInZip4_64(void *file, const char *filename, const void *zipfi, const void *extra_local,
                        zip_uInt size_extra_local, const void *extra_global, zip_uInt size_extra_global,
                        const char *comment, int method, int level, int raw, int window_bits,
                        int mem_level, int strategy, const char *password, zip_uLong crc_for_crypting,
                        zip_uLong version_made_by, zip_uLong flag_base, int zip64)
{
    static _Atomic(void *) next;
    ZipOpenFn fn = (ZipOpenFn) (uintptr_t) minizip_fn(&next, "zipOpenNewFileInZip4_64");
    if (fn == NULL)
        return ZIP_INTERNALERROR_;
    bool ours = method == Z_DEFLATED_ && !raw && level == -1 /* Z_DEFAULT_COMPRESSION */ && password == NULL;
    if (ours) {
        zip_part_free();   /* a part left open by a failed workbook */
        ZipDeflate *d = calloc(1, sizeof *d);
        uint8_t *lb = malloc(ISAL_DEF_LVL1_DEFAULT);
        if (d == NULL || lb == NULL) {
            free(d);
            free(lb);
            return ZIP_INTERNALERROR_;
        }
        isal_deflate_init(&d->z);
        d->z.level = 1;
        d->z.level_buf = lb;
        d->z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
        d->level_buf = lb;
        d->zip = file;
        zip_part = d;
    }
    int rc = fn(file, filename, zipfi, extra_local, size_extra_local, extra_global, size_extra_global,
                comment, method, ours ? XLSX_ZIP_LEVEL : level, ours ? 1 : raw, window_bits, mem_level,
                strategy, password, crc_for_crypting, version_made_by, flag_base, zip64);
    if (rc != ZIP_OK_ && ours)
        zip_part_free();
    return rc;
}

int
zipWriteInFileInZip(void *file, const void *buf, unsigned len)
{
    static _Atomic(void *) next;
    ZipWriteFn fn = (ZipWriteFn) (uintptr_t) minizip_fn(&next, "zipWriteInFileInZip");
    if (fn == NULL)
        return ZIP_INTERNALERROR_;
    ZipDeflate *d = zip_part;
    if (d == NULL || d->zip != file)
        return fn(file, buf, len);
    d->crc = crc32_gzip_refl(d->crc, buf, len);
    d->size += len;
    d->z.next_in = (uint8_t *) (uintptr_t) buf;
    d->z.avail_in = len;
    return zip_part_deflate(d, false, fn);
}

int
zipCloseFileInZip(void *file)
{
    static _Atomic(void *) next, next_raw, next_write;
    ZipDeflate *d = zip_part;
    if (d == NULL || d->zip != file) {
        ZipCloseFn fn = (ZipCloseFn) (uintptr_t) minizip_fn(&next, "zipCloseFileInZip");
        return fn ? fn(file) : ZIP_INTERNALERROR_;
    }
    ZipWriteFn write = (ZipWriteFn) (uintptr_t) minizip_fn(&next_write, "zipWriteInFileInZip");
    ZipCloseRawFn close_raw = (ZipCloseRawFn) (uintptr_t) minizip_fn(&next_raw, "zipCloseFileInZipRaw64");
    int rc = write && close_raw ? ZIP_OK_ : ZIP_INTERNALERROR_;
    if (rc == ZIP_OK_) {
        d->z.next_in = NULL;
        d->z.avail_in = 0;
        rc = zip_part_deflate(d, true, write);
    }
    uint64_t size = d->size;
    uint32_t crc = d->crc;
    zip_part_free();
    /* minizip closes the part either way (with what it was told on a failure) */
    int rc2 = close_raw ? close_raw(file, size, crc) : ZIP_INTERNALERROR_;
    return rc != ZIP_OK_ ? rc : rc2;
}

void
out_xlsx_options_default(OutXlsxOptions *opt, char *buf, size_t bufsize)
{
    memset(opt, 0, sizeof *opt);
    opt->threads = 1;
    opt->mask_ids = out_mask_from_env();
    const char *env = getenv("CANBAO_TOWNSHIP_LISTS");
    if (env && *env && bufsize > 0) {
        snprintf(buf, bufsize, "%s", env);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ", ", &save); tok && opt->nlists < OUT_XLSX_MAX_LISTS;
             tok = strtok_r(NULL, ", ", &save))
            opt->lists[opt->nlists++] = tok;
        if (opt->nlists > 0)
            return;
    }
    opt->lists[0] = "unenrolled_eligible";
    opt->lists[1] = "approaching_benefit_age";
    opt->lists[2] = "proof_of_life_due";
    opt->nlists = 3;
}

/* A file name part: no slash, no control characters. */
static void
clean_name(const char *in, char *out, size_t outsize)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) (in ? in : ""); *p && o + 1 < outsize; p++)
        out[o++] = (*p < 0x20 || *p == '/' || *p == '\\') ? '_' : (char) *p;
    out[o] = '\0';
}

void
out_xlsx_stem(const char *code, const char *name, char *out, size_t outsize)
{
    char c[64], n[256];
    clean_name(code, c, sizeof c);
    clean_name(name, n, sizeof n);
    if (n[0])
        snprintf(out, outsize, "township_%s_%s", c, n);
    else
        snprintf(out, outsize, "township_%s", c);
}

/* ---- rows ---- */

typedef struct WRow {
    int             list;
    size_t          row;
    const ListRow  *lr;
    const LcRow    *lc;
    const Person   *p;
    PersonText      text;     /* p's, read back from the store (when the sort needs it) */
    bool            text_later;   /* p's text is read by the township's job instead */
    const char     *township;
    const char     *village;
    const char     *household;
    uint64_t        hh_head;  /* household's first eight bytes, big-endian (the sort's first try) */
    char            id[19];
} WRow;

/* The first eight bytes of s as a big-endian number, zeros after its end: two strings whose
 * heads differ compare as their heads do (strcmp's order of unsigned bytes). */
static uint64_t
head8(const char *s)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | (unsigned char) *s;
        s += *s != '\0';
    }
    return h;
}

/* The rows' order: township, village, household, ID number, list, row.  Within one village
 * (sort_wrows), from the household on. */
static int
cmp_in_village(const void *a, const void *b)
{
    const WRow *x = a, *y = b;
    int c;
    if (x->hh_head != y->hh_head)   /* most pairs: without reading either household */
        return x->hh_head < y->hh_head ? -1 : 1;
    if ((c = strcmp(x->household, y->household)) != 0)
        return c;
    if ((c = strcmp(x->id, y->id)) != 0)
        return c;
    if (x->list != y->list)
        return x->list < y->list ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* A (township, village) pair of the rows, and how many rows it has. */
typedef struct VillageKey {
    const char *township, *village;
    size_t      n;
} VillageKey;

static uint64_t
text_hash(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 0x100000001B3ull;   /* FNV-1a */
    return h;
}

static uint64_t
pair_hash(const char *township, const char *village)
{
    return text_hash(text_hash(0xCBF29CE484222325ull, township) * 31, village);
}

static int
cmp_village_key(const void *a, const void *b)
{
    const VillageKey *x = *(VillageKey *const *) a, *y = *(VillageKey *const *) b;
    int c = strcmp(x->township, y->township);
    return c != 0 ? c : strcmp(x->village, y->village);
}

/* Sorts rows[0, n) by township, village, household, ID number, list and row.  A qsort of all
 * of them compared two to four strings each time (1.5 s on one thread for the 956,000 rows
 * of M's workbooks): the few (township, village) pairs are sorted once instead, the rows
 * moved to their pair's range in place (a permutation followed cycle by cycle), and each
 * range sorted by the rest. */
static void
sort_wrows(WRow *rows, size_t n)
{
    uint32_t *slot = xmalloc((n + 1) * sizeof *slot);   /* a row's pair, then its place */
    size_t cap = 16, npair = 0, paircap = 16;   /* small: the growth runs on every night */
    uint32_t *table = xmalloc(cap * sizeof *table);      /* pair + 1, 0 free */
    memset(table, 0, cap * sizeof *table);
    VillageKey *pairs = xmalloc(paircap * sizeof *pairs);
    for (size_t i = 0; i < n; i++) {
        const WRow *w = &rows[i];
        size_t at = (size_t) (pair_hash(w->township, w->village) >> 20) & (cap - 1);
        while (table[at] != 0) {
            const VillageKey *k = &pairs[table[at] - 1];
            if (strcmp(k->township, w->township) == 0 && strcmp(k->village, w->village) == 0)
                break;
            at = (at + 1) & (cap - 1);
        }
        if (table[at] == 0) {
            if (npair == paircap) {
                paircap *= 2;
                pairs = xrealloc(pairs, paircap * sizeof *pairs);
            }
            pairs[npair] = (VillageKey){w->township, w->village, 0};
            table[at] = (uint32_t) ++npair;
            if (npair * 2 > cap) {   /* grow: every pair again */
                free(table);
                cap *= 4;
                table = xmalloc(cap * sizeof *table);
                memset(table, 0, cap * sizeof *table);
                for (size_t k = 0; k < npair; k++) {
                    uint64_t hk = pair_hash(pairs[k].township, pairs[k].village);
                    size_t a = (size_t) (hk >> 20) & (cap - 1);
                    while (table[a] != 0)
                        a = (a + 1) & (cap - 1);
                    table[a] = (uint32_t) (k + 1);
                }
                at = SIZE_MAX;   /* the pair's number is npair - 1 either way */
            }
        }
        uint32_t pair = at == SIZE_MAX ? (uint32_t) (npair - 1) : table[at] - 1;
        pairs[pair].n++;
        slot[i] = pair;
    }
    free(table);
    /* the pairs in order, and where each one's range starts */
    VillageKey **order = xmalloc((npair + 1) * sizeof *order);
    for (size_t k = 0; k < npair; k++)
        order[k] = &pairs[k];
    qsort(order, npair, sizeof *order, cmp_village_key);
    size_t *start = xmalloc((npair + 1) * sizeof *start), *next = xmalloc((npair + 1) * sizeof *next);
    size_t acc = 0;
    for (size_t k = 0; k < npair; k++) {
        size_t pair = (size_t) (order[k] - pairs);
        start[pair] = next[pair] = acc;
        acc += pairs[pair].n;
    }
    for (size_t i = 0; i < n; i++)   /* in the order they came: a stable deal */
        slot[i] = (uint32_t) next[slot[i]]++;
    for (size_t i = 0; i < n; i++)
        while (slot[i] != i) {
            size_t j = slot[i];
            WRow t = rows[j];
            rows[j] = rows[i];
            rows[i] = t;
            uint32_t d = slot[j];
            slot[j] = (uint32_t) j;
            slot[i] = d;
        }
    for (size_t k = 0; k < npair; k++)
        qsort(rows + start[k], pairs[k].n, sizeof *rows, cmp_in_village);
    free(start);
    free(next);
    free(order);
    free(pairs);
    free(slot);
}

/* The cells of one row as text (numbers as their digits), shared by the sheet and the CSV. */
typedef struct Cells {
    const char *v[OXC_COUNT];
    char        seq[TEXT_INT_MAX], hh_seq[TEXT_INT_MAX], age[TEXT_INT_MAX], id[19], key[TEXT_INT_MAX];
    char        hints[1024];
    int         age_n;       /* -1 none */
} Cells;

/* A string being built in a buffer of cap bytes, its length kept: a part that does not fit
 * whole (with its separator, counted even when first) is left out; the separator goes only
 * between parts. */
typedef struct Buf {
    char  *s;
    size_t len, cap;
} Buf;

static void
buf_add(Buf *b, const char *sep, const char *s, size_t n)
{
    size_t ns = strlen(sep);
    if (b->len + ns + n + 1 >= b->cap)
        return;
    if (b->len == 0)
        ns = 0;
    memcpy(b->s + b->len, sep, ns);
    memcpy(b->s + b->len + ns, s, n);
    b->len += ns + n;
    b->s[b->len] = '\0';
}

/* s appended to the string in buf (cap bytes), after sep unless buf is empty; left out whole
 * when it does not fit. */
static void
append(char *buf, size_t cap, const char *sep, const char *s)
{
    Buf b = {.s = buf, .len = strlen(buf), .cap = cap};
    buf_add(&b, sep, s, strlen(s));
}

static bool
is_base_column(const char *c)
{
    return strcmp(c, "id_number") == 0 || strcmp(c, "name") == 0 || strcmp(c, "township") == 0 ||
           strcmp(c, "village") == 0 || strcmp(c, "household") == 0 || strcmp(c, "flags") == 0;
}

/* Columns the hints leave out: the sheet shows them already (the person's columns, the age,
 * the list as 事项), or they are the same on every row (the rule-set version: the workbook's
 * properties and its hidden sheet carry it; the lists' CSV files and the database keep both). */
static bool
not_a_hint(const char *c)
{
    return is_base_column(c) || strcmp(c, "age") == 0 || strcmp(c, "rule") == 0 ||
           strcmp(c, "rule_version") == 0 || strcmp(c, "evidence") == 0;
}

/* What the cells of a list's rows take from its columns, found once per township instead of
 * by name on every row. */
typedef struct ListPlan {
    int         name_col, flags_col;   /* -1: none */
    int         nhint;
    int         hint_col[LIST_MAX_COLS];
    const char *hint_label[LIST_MAX_COLS];   /* the column's label, or its name */
} ListPlan;

static void
plan_lists(const ListSet *ls, ListPlan *plans)
{
    for (int l = 0; l < ls->n; l++) {
        const ListOut *lo = &ls->lists[l];
        ListPlan *p = &plans[l];
        p->name_col = out_col(lo, "name");
        p->flags_col = out_col(lo, "flags");
        p->nhint = 0;
        for (int c = 0; c < lo->ncols; c++) {
            if (not_a_hint(lo->cols[c]))
                continue;
            const char *label = out_column_label(lo->cols[c]);
            p->hint_col[p->nhint] = c;
            p->hint_label[p->nhint++] = label ? label : lo->cols[c];
        }
    }
}

/* The hints column: the flags in plain words (government-paid with its groups, from the row's
 * evidence), then the list's other columns as "label：value", then since when it is listed. */
static void
make_hints(const ListOut *lo, const ListPlan *lp, const WRow *w, Day asof, char *out, size_t cap)
{
    Buf b = {.s = out, .cap = cap};
    out[0] = '\0';
    const char *flags = out_val(w->lr, lp->flags_col);
    char tok[128];
    for (const char *p = flags; *p;) {
        const char *e = strchr(p, ';');
        size_t n = e ? (size_t) (e - p) : strlen(p);
        if (n > 0 && n < sizeof tok) {
            memcpy(tok, p, n);
            tok[n] = '\0';
            const char *word = out_flag_word(tok);
            char piece[256];
            snprintf(piece, sizeof piece, "%s", word ? word : tok);
            if (strcmp(tok, "government_paid") == 0) {
                /* which group, from the kinds of the evidence that decided the row */
                bool seen[FK_COUNT] = {false};
                char groups[128] = "";
                static const int order[] = {FK_DISABILITY, FK_DIBAO, FK_TEKUN, FK_POOR_HOUSEHOLD};
                for (int e2 = 0; e2 < w->lr->nev; e2++)
                    if (w->lr->ev[e2].kind < FK_COUNT)
                        seen[w->lr->ev[e2].kind] = true;
                for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
                    if (seen[order[k]])
                        append(groups, sizeof groups, "、", out_gov_group_word(order[k]));
                if (groups[0])
                    snprintf(piece, sizeof piece, "%s：%s", word ? word : tok, groups);
            }
            buf_add(&b, "；", piece, strlen(piece));
        }
        p = e ? e + 1 : p + n;
    }
    for (int h = 0; h < lp->nhint; h++) {
        int c = lp->hint_col[h];
        const char *v = out_val(w->lr, c);
        if (!v[0])
            continue;
        /* a list of codes (sources) word by word: "label：word、word" */
        char piece[256], vbuf[200];
        Buf vb = {.s = vbuf, .cap = sizeof vbuf};
        vbuf[0] = '\0';
        size_t vn = strnlen(v, 199);   /* as much of the value as a 200-byte copy held */
        for (size_t at = 0; at < vn;) {
            size_t end = at;
            while (end < vn && v[end] != ';')
                end++;
            if (end > at) {
                char code[200];
                memcpy(code, v + at, end - at);
                code[end - at] = '\0';
                const char *word = out_value_word(lo->cols[c], code);
                buf_add(&vb, "、", word, strlen(word));
            }
            at = end + 1;
        }
        int pn = snprintf(piece, sizeof piece, "%s：%s", lp->hint_label[h], vbuf);
        buf_add(&b, "；", piece, pn < (int) sizeof piece ? (size_t) pn : sizeof piece - 1);
    }
    if (w->lc && !w->lc->is_new && w->lc->first_asof != DAY_NONE && w->lc->first_asof < asof) {
        char d[11], piece[64];
        date_format(w->lc->first_asof, d);
        snprintf(piece, sizeof piece, "首次列入：%s", d);
        buf_add(&b, "；", piece, strlen(piece));
    }
}

/* n in decimal into out; returns out. */
static char *
fmt_int(char out[TEXT_INT_MAX], long long n)
{
    text_int(out, n);
    return out;
}

static void
make_cells(const ListSet *ls, const ListPlan *plans, const WRow *w, const PersonText *t, int seq,
           int hh_seq, const char *village_name, const OutRunInfo *ri, const OutXlsxOptions *opt,
           Cells *c)
{
    const ListOut *lo = &ls->lists[w->list];
    const ListPlan *lp = &plans[w->list];
    for (int i = 0; i < OXC_COUNT; i++)
        c->v[i] = "";
    c->v[OXC_SEQ] = fmt_int(c->seq, seq);
    c->v[OXC_VILLAGE] = village_name;
    c->v[OXC_HOUSEHOLD] = w->household;
    c->v[OXC_HH_SEQ] = fmt_int(c->hh_seq, hh_seq);
    const char *name = t->name ? t->name : out_val(w->lr, lp->name_col);
    c->v[OXC_NAME] = name;
    if (w->p)
        c->v[OXC_SEX] = w->p->sex == SEX_MALE ? "男" : w->p->sex == SEX_FEMALE ? "女" : "";
    Day birth = w->p && w->p->birth != DAY_NONE ? w->p->birth : idnum_birth_day(w->id);
    c->age_n = birth != DAY_NONE ? date_age(birth, ri->asof) : -1;
    if (c->age_n >= 0)
        c->v[OXC_AGE] = fmt_int(c->age, c->age_n);
    out_mask_id(w->id, opt->mask_ids, c->id);
    c->v[OXC_ID] = c->id;
    if (w->p) {
        c->v[OXC_PHONE] = t->phone ? t->phone : "";
        c->v[OXC_ADDRESS] = t->address ? t->address : "";
    }
    c->v[OXC_MATTER] = lo->title ? lo->title : lo->name;
    make_hints(lo, lp, w, ri->asof, c->hints, sizeof c->hints);
    c->v[OXC_HINTS] = c->hints;
    c->v[OXC_NEW] = w->lc && w->lc->is_new ? "新" : "";
    if (w->lc) {
        c->v[OXC_OUTCOME] = w->lc->outcome ? w->lc->outcome : "";
        c->v[OXC_DATE] = w->lc->outcome_date ? w->lc->outcome_date : "";
        c->v[OXC_NOTE] = w->lc->note ? w->lc->note : "";
        if (w->lc->item_id > 0)
            c->v[OXC_KEY] = fmt_int(c->key, w->lc->item_id);
    }
}

/* ---- villages and sheet names ---- */

typedef struct Village {
    const char *code;
    const char *name;          /* from the reference list, or made up from the code */
    char        sheet[128];    /* "" when the village has no rows (no sheet) */
    size_t      first, count;  /* its rows in the township's slice */
    int         households, fresh, gov, age60, absent, answered;
} Village;

static bool
sheet_taken(const Village *v, int n, const char *name)
{
    if (strcmp(name, OUT_XLSX_SUMMARY_SHEET) == 0 || strcmp(name, OUT_XLSX_META_SHEET) == 0 ||
        strcasecmp(name, "History") == 0)
        return true;
    for (int i = 0; i < n; i++)
        if (v[i].sheet[0] && strcasecmp(v[i].sheet, name) == 0)
            return true;
    return false;
}

/* Copies at most maxchars code points of s into out, replacing what Excel refuses in a sheet
 * name ([ ] : * ? / \ and ') by '_'. */
static void
sheet_clean(const char *s, int maxchars, char *out, size_t outsize)
{
    size_t o = 0;
    int chars = 0;
    const unsigned char *p = (const unsigned char *) s;
    while (*p && chars < maxchars) {
        size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 1;
        for (size_t i = 1; i < n; i++)
            if (p[i] == 0)
                n = i;
        if (o + n + 1 >= outsize)
            break;
        if (n == 1 && (strchr("[]:*?/\\'", *p) != NULL || *p < 0x20))
            out[o++] = '_';
        else {
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        chars++;
    }
    out[o] = '\0';
}

static void
assign_sheet(Village *v, int idx)
{
    char base[128];
    sheet_clean(v[idx].name, 31, base, sizeof base);
    if (base[0] == '\0')
        snprintf(base, sizeof base, "村%s", v[idx].code);
    if (!sheet_taken(v, idx, base)) {
        snprintf(v[idx].sheet, sizeof v[idx].sheet, "%s", base);
        return;
    }
    /* name (code) within 31 characters, then a counter if even that is taken */
    const char *code = v[idx].code;
    size_t cl = strlen(code);
    const char *tail = cl > 3 ? code + cl - 3 : code;
    for (int k = 1; k < 1000; k++) {
        char suffix[32], head[128], cand[160];
        if (k == 1)
            snprintf(suffix, sizeof suffix, "_%s", tail);
        else
            snprintf(suffix, sizeof suffix, "_%s_%d", tail, k);
        sheet_clean(v[idx].name, 31 - (int) strlen(suffix), head, sizeof head);
        snprintf(cand, sizeof cand, "%s%s", head, suffix);
        if (!sheet_taken(v, idx, cand)) {
            snprintf(v[idx].sheet, sizeof v[idx].sheet, "%s", cand);
            return;
        }
    }
}

/* ---- formats ---- */

typedef struct Fmts {
    lxw_format *title, *meta, *header, *header_fb, *cf_new, *sum_text, *sum_num, *sum_total;
    lxw_format *body[2][2][3];   /* [band][household start][locked text, unlocked text, unlocked date] */
} Fmts;

static void
make_formats(lxw_workbook *wb, Fmts *f)
{
    f->title = workbook_add_format(wb);
    format_set_bold(f->title);
    format_set_font_size(f->title, 14);
    f->meta = workbook_add_format(wb);
    format_set_font_color(f->meta, 0x404040);
    f->header = workbook_add_format(wb);
    format_set_bold(f->header);
    format_set_bg_color(f->header, 0xD9E1F2);
    format_set_border(f->header, LXW_BORDER_THIN);
    format_set_align(f->header, LXW_ALIGN_CENTER);
    format_set_align(f->header, LXW_ALIGN_VERTICAL_CENTER);
    format_set_text_wrap(f->header);
    f->header_fb = workbook_add_format(wb);
    format_set_bold(f->header_fb);
    format_set_bg_color(f->header_fb, 0xFFE699);
    format_set_border(f->header_fb, LXW_BORDER_THIN);
    format_set_align(f->header_fb, LXW_ALIGN_CENTER);
    format_set_align(f->header_fb, LXW_ALIGN_VERTICAL_CENTER);
    f->cf_new = workbook_add_format(wb);
    format_set_bold(f->cf_new);
    format_set_font_color(f->cf_new, 0x9C0006);
    format_set_bg_color(f->cf_new, 0xFFC7CE);
    f->sum_text = workbook_add_format(wb);
    format_set_border(f->sum_text, LXW_BORDER_THIN);
    f->sum_num = workbook_add_format(wb);
    format_set_border(f->sum_num, LXW_BORDER_THIN);
    format_set_num_format(f->sum_num, "0");
    f->sum_total = workbook_add_format(wb);
    format_set_border(f->sum_total, LXW_BORDER_THIN);
    format_set_bold(f->sum_total);
    format_set_bg_color(f->sum_total, 0xEDEDED);
    for (int band = 0; band < 2; band++)
        for (int start = 0; start < 2; start++)
            for (int kind = 0; kind < 3; kind++) {
                lxw_format *x = workbook_add_format(wb);
                format_set_border(x, LXW_BORDER_THIN);
                format_set_border_color(x, 0xBFBFBF);
                format_set_align(x, LXW_ALIGN_VERTICAL_CENTER);
                if (start) {
                    format_set_top(x, LXW_BORDER_MEDIUM);
                    format_set_top_color(x, 0x595959);
                }
                if (kind == 0) {
                    if (band)
                        format_set_bg_color(x, 0xF2F2F2);
                } else {
                    format_set_unlocked(x);
                    format_set_bg_color(x, band ? 0xFFF2CC : 0xFFFBEA);
                }
                if (kind == 2)
                    format_set_num_format(x, "yyyy-mm-dd");
                f->body[band][start][kind] = x;
            }
}

static double
fit_width(int text_width)
{
    double w = text_width * 1.1 + 2;
    return w < MIN_WIDTH ? MIN_WIDTH : w > MAX_WIDTH ? MAX_WIDTH : w;
}

static char
col_letter(int c)
{
    return (char) ('A' + c);
}

static bool
lxw_ok(lxw_error e, const char *what, const char *path, CbError *err)
{
    if (e == LXW_NO_ERROR)
        return true;
    CB_FAIL(err, CBERR_IO, "could not write workbook (%s): %s", what, lxw_strerror(e));
    cb_error_at(err, "%s", path);
    return false;
}

/* ---- one village sheet ---- */

/* Where a township's job reads its persons' text: the store, and the job's own buffer. */
typedef struct TextSrc {
    const Store *st;
    TextBuf      tb;
} TextSrc;

static bool
write_village(lxw_workbook *wb, const Fmts *f, const ListSet *ls, const ListPlan *plans,
              const WRow *rows, const Village *v, const char *township_name, const OutRunInfo *ri,
              const OutXlsxOptions *opt, TextSrc *ts, const char *path, FILE *csv, CbError *err)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, v->sheet);
    if (ws == NULL) {
        CB_FAIL(err, CBERR_INTERNAL, "could not add sheet \"%s\" to the workbook", v->sheet);
        cb_error_at(err, "%s", path);
        return false;
    }
    int width[OXC_COUNT];
    for (int c = 0; c < OXC_COUNT; c++) {
        bool fb = c == OXC_OUTCOME || c == OXC_DATE || c == OXC_NOTE;
        worksheet_write_string(ws, 0, (lxw_col_t) c, OUT_XLSX_COLUMNS[c], fb ? f->header_fb : f->header);
        width[c] = out_text_width(OUT_XLSX_COLUMNS[c]);
    }
    width[OXC_DATE] = 10;
    worksheet_set_row(ws, 0, 20, NULL);
    int hh_seq = 0, band = 1;
    const char *prev_hh = NULL;
    for (size_t i = 0; i < v->count; i++) {
        const WRow *w = &rows[v->first + i];
        bool start = prev_hh == NULL || strcmp(prev_hh, w->household) != 0 || w->household[0] == '\0';
        if (start) {
            hh_seq++;
            band ^= 1;
        }
        prev_hh = w->household;
        PersonText pt = w->text;   /* its pointers hold until the next person's read */
        if (w->text_later)
            store_person_text(ts->st, w->p, &ts->tb, &pt);
        Cells c;
        make_cells(ls, plans, w, &pt, (int) i + 1, hh_seq, v->name, ri, opt, &c);
        for (int col = 0; col < OXC_COUNT; col++)   /* the CSV twin: the same cells */
            out_csv_text_field(csv, c.v[col], col == 0);
        fputs("\r\n", csv);
        lxw_row_t r = (lxw_row_t) (i + 1);
        lxw_format *locked = f->body[band][start][0], *unl = f->body[band][start][1],
                   *unl_date = f->body[band][start][2];
        for (int col = 0; col < OXC_COUNT; col++) {
            const char *s = c.v[col];
            lxw_col_t cc = (lxw_col_t) col;
            lxw_format *fmt = col == OXC_OUTCOME || col == OXC_NOTE ? unl : col == OXC_DATE ? unl_date : locked;
            if (width[col] < FULL_WIDTH) {
                int tw = out_text_width(s);
                if (tw > width[col])
                    width[col] = tw;
            }
            if (col == OXC_SEQ)
                worksheet_write_number(ws, r, cc, (double) i + 1, fmt);
            else if (col == OXC_HH_SEQ)
                worksheet_write_number(ws, r, cc, hh_seq, fmt);
            else if (col == OXC_AGE && c.age_n >= 0)
                worksheet_write_number(ws, r, cc, c.age_n, fmt);
            else if (col == OXC_DATE && s[0]) {
                Day d = date_parse(s, strlen(s));
                int y, m, dd;
                date_to_ymd(d, &y, &m, &dd);
                if (d != DAY_NONE) {
                    lxw_datetime dt = {y, m, dd, 0, 0, 0};
                    worksheet_write_datetime(ws, r, cc, &dt, fmt);
                } else {
                    worksheet_write_string(ws, r, cc, s, fmt);
                }
            } else if (s[0])
                worksheet_write_string(ws, r, cc, s, fmt);
            else
                worksheet_write_blank(ws, r, cc, fmt);
        }
    }
    for (int c = 0; c < OXC_COUNT; c++) {
        if (c == OXC_KEY) {
            lxw_row_col_options hide = {.hidden = 1};
            worksheet_set_column_opt(ws, (lxw_col_t) c, (lxw_col_t) c, 10, NULL, &hide);
        } else {
            worksheet_set_column(ws, (lxw_col_t) c, (lxw_col_t) c, fit_width(width[c]), NULL);
        }
    }
    lxw_row_t last = (lxw_row_t) v->count;
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_autofilter(ws, 0, 0, last, OXC_COUNT - 1);
    if (v->count > 0) {
        char *list[OUT_XLSX_NOUTCOMES + 1];
        for (int i = 0; i < OUT_XLSX_NOUTCOMES; i++)
            list[i] = (char *) OUT_XLSX_OUTCOMES[i];
        list[OUT_XLSX_NOUTCOMES] = NULL;
        lxw_data_validation dv = {0};
        dv.validate = LXW_VALIDATION_TYPE_LIST;
        dv.value_list = list;
        dv.error_title = "结果";
        dv.error_message = "请从下拉列表中选择：已联系、已参保、拒绝、外出务工、已迁出、已死亡、信息有误";
        dv.input_title = "结果";
        dv.input_message = "请从下拉列表中选择联系结果";
        worksheet_data_validation_range(ws, 1, OXC_OUTCOME, last, OXC_OUTCOME, &dv);
        lxw_data_validation dd = {0};
        dd.validate = LXW_VALIDATION_TYPE_DATE;
        dd.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
        dd.minimum_datetime = (lxw_datetime){2000, 1, 1, 0, 0, 0};
        dd.maximum_datetime = (lxw_datetime){2099, 12, 31, 0, 0, 0};
        dd.error_title = "日期";
        dd.error_message = "请填写日期，例如 2026-12-01";
        worksheet_data_validation_range(ws, 1, OXC_DATE, last, OXC_DATE, &dd);
        char formula[32];
        snprintf(formula, sizeof formula, "=$%c2=\"新\"", col_letter(OXC_NEW));
        lxw_conditional_format cf = {0};
        cf.type = LXW_CONDITIONAL_TYPE_FORMULA;
        cf.value_string = formula;
        cf.format = f->cf_new;
        worksheet_conditional_format_range(ws, 1, 0, last, OXC_NEW, &cf);
    }
    lxw_protection prot = {0};
    prot.autofilter = 1;
    prot.format_columns = 1;
    prot.format_rows = 1;
    worksheet_protect(ws, NULL, &prot);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9);   /* A4 */
    worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
    worksheet_repeat_rows(ws, 0, 0);
    worksheet_fit_to_pages(ws, 1, 0);
    char asof_s[11], header[400];
    date_format(ri->asof, asof_s);
    snprintf(header, sizeof header, "&L%s %s&R数据日期 %s", township_name, v->name, asof_s);
    worksheet_set_header(ws, header);
    worksheet_set_footer(ws, "&C第 &P 页，共 &N 页");
    return true;
}

/* ---- summary and meta sheets ---- */

static void
write_summary(lxw_workbook *wb, const Fmts *f, const ListSet *ls, const WRow *rows, size_t nrows,
              const Village *v, int nv, const char *code, const char *name, const OutRunInfo *ri,
              const OutXlsxOptions *opt)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, OUT_XLSX_SUMMARY_SHEET);
    char asof_s[11], buf[512];
    date_format(ri->asof, asof_s);
    snprintf(buf, sizeof buf, "%s（%s）城乡居民基本养老保险 参保服务名单", name[0] ? name : "乡镇", code);
    worksheet_write_string(ws, 0, 0, buf, f->title);
    snprintf(buf, sizeof buf, "数据日期：%s    规则版本：%.12s    公民身份号码：%s", asof_s,
             ri->rule_version ? ri->rule_version : "", opt->mask_ids ? "仅显示前6位和后4位" : "完整显示（内部文件）");
    worksheet_write_string(ws, 1, 0, buf, f->meta);
    if (ri->deaths_incomplete || ri->ndata_notes > 0) {
        /* sources not delivered fresh tonight (the row is empty on a normal night) */
        char note[4096];
        size_t o = (size_t) snprintf(note, sizeof note, "数据说明：");
        if (ri->deaths_incomplete)
            o += (size_t) snprintf(note + o, sizeof note - o, "死亡数据不完整（缺少 %s），名单中可能有已死亡人员；",
                                   ri->deaths_incomplete);
        for (int i = 0; i < ri->ndata_notes && o < sizeof note - 400; i++)
            o += (size_t) snprintf(note + o, sizeof note - o, "%s%s", ri->data_notes[i],
                                   i + 1 < ri->ndata_notes ? "；" : "");
        worksheet_write_string(ws, 2, 0, note, f->meta);
    }
    static const char *const head[] = {"村（社区）代码", "村（社区）", "工作表", "人数", "户数", "本期新增",
                                       "政府代缴", "年满60周岁", "可能外出", "已反馈"};
    enum { NH = sizeof head / sizeof head[0] };
    int width[NH];
    for (int c = 0; c < NH; c++) {
        worksheet_write_string(ws, 3, (lxw_col_t) c, head[c], f->header);
        width[c] = out_text_width(head[c]);
    }
    int tot[7] = {0};
    lxw_row_t r = 4;
    for (int i = 0; i < nv; i++, r++) {
        const char *text[3] = {v[i].code, v[i].name, v[i].sheet[0] ? v[i].sheet : "（无）"};
        for (int c = 0; c < 3; c++) {
            worksheet_write_string(ws, r, (lxw_col_t) c, text[c], f->sum_text);
            if (out_text_width(text[c]) > width[c])
                width[c] = out_text_width(text[c]);
        }
        int nums[7] = {(int) v[i].count, v[i].households, v[i].fresh, v[i].gov, v[i].age60, v[i].absent,
                       v[i].answered};
        for (int c = 0; c < 7; c++) {
            worksheet_write_number(ws, r, (lxw_col_t) (3 + c), nums[c], f->sum_num);
            tot[c] += nums[c];
        }
    }
    worksheet_write_string(ws, r, 0, "合计", f->sum_total);
    worksheet_write_blank(ws, r, 1, f->sum_total);
    worksheet_write_blank(ws, r, 2, f->sum_total);
    for (int c = 0; c < 7; c++)
        worksheet_write_number(ws, r, (lxw_col_t) (3 + c), tot[c], f->sum_total);
    r += 2;
    /* what each matter is, with counts */
    worksheet_write_string(ws, r++, 0, "名单事项", f->header);
    for (int k = 0; k < opt->nlists; k++) {
        const ListOut *lo = out_find_list(ls, opt->lists[k]);
        if (lo == NULL)
            continue;
        int l = (int) (lo - ls->lists), n = 0;
        for (size_t i = 0; i < nrows; i++)
            n += rows[i].list == l;
        snprintf(buf, sizeof buf, "%s：%d 人", lo->title ? lo->title : lo->name, n);
        worksheet_write_string(ws, r++, 0, buf, NULL);
    }
    r++;
    static const char *const notes[] = {
        "填写说明",
        "1. 本名单是参保服务邀请名单，请按户走访，一户一次；同一户的人员排在一起（户序相同，底色相同）。",
        "2. 请在“结果”列从下拉列表选择：已联系、已参保、拒绝、外出务工、已迁出、已死亡、信息有误；“日期”列填写联系日期；“备注”列填写说明。",
        "3. 除“结果”“日期”“备注”三列外，其他各列已锁定，请勿改动；不要增删行或工作表。填好后请将本文件交回市社保局。",
        "4. “本期新增”标“新”的人员为本期首次列入名单。",
        "5. 名单依据各部门共享数据生成，如有不符请在“结果”选择“信息有误”并在“备注”说明。",
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        worksheet_write_string(ws, r++, 0, notes[i], i == 0 ? f->header : NULL);
    for (int c = 0; c < NH; c++)
        worksheet_set_column(ws, (lxw_col_t) c, (lxw_col_t) c, fit_width(width[c]), NULL);
    lxw_protection prot = {0};
    prot.format_columns = 1;
    prot.format_rows = 1;
    worksheet_protect(ws, NULL, &prot);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9);
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_set_footer(ws, "&C第 &P 页，共 &N 页");
}

static void
write_meta(lxw_workbook *wb, const Village *v, int nv, const char *code, const char *name,
           const OutRunInfo *ri, const OutXlsxOptions *opt)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, OUT_XLSX_META_SHEET);
    char asof_s[11], lists[512] = "";
    date_format(ri->asof, asof_s);
    for (int k = 0; k < opt->nlists; k++)
        append(lists, sizeof lists, ",", opt->lists[k]);
    const char *kv[][2] = {
        {"key", "value"},
        {"format", OUT_XLSX_FORMAT},
        {"township", code},
        {"township_name", name},
        {"asof", asof_s},
        {"rule_version", ri->rule_version ? ri->rule_version : ""},
        {"engine_version", ri->engine_version ? ri->engine_version : ""},
        {"masked", opt->mask_ids ? "yes" : "no"},
        {"lists", lists},
    };
    lxw_row_t r = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++, r++) {
        worksheet_write_string(ws, r, 0, kv[i][0], NULL);
        if (kv[i][1][0])
            worksheet_write_string(ws, r, 1, kv[i][1], NULL);
    }
    for (int i = 0; i < nv; i++) {
        if (!v[i].sheet[0])
            continue;
        worksheet_write_string(ws, r, 0, "sheet", NULL);
        worksheet_write_string(ws, r, 1, v[i].sheet, NULL);
        worksheet_write_string(ws, r, 2, v[i].code, NULL);
        r++;
    }
    lxw_protection prot = {0};
    worksheet_protect(ws, NULL, &prot);
    worksheet_hide(ws);
}

/* ---- the CSV twin ---- */

/* The workbook's CSV twin: its header; write_village adds each sheet's rows, in sheet order. */
static FILE *
csv_begin(const char *dir, const char *name, CbError *err)
{
    FILE *f = out_open(dir, name, err);
    if (f == NULL)
        return NULL;
    fputs("\xEF\xBB\xBF", f);
    for (int c = 0; c < OXC_COUNT; c++)
        out_csv_field(f, OUT_XLSX_COLUMNS[c], c == 0);
    fputs("\r\n", f);
    return f;
}

static int
strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* ---- one township ---- */

static int
cmp_village(const void *a, const void *b)
{
    return strcmp(((const Village *) a)->code, ((const Village *) b)->code);
}

static bool
write_township(const char *dir, const Store *st, const ListSet *ls, const WRow *rows, size_t nrows,
               const char *code, const OutPlaces *pl, const OutRunInfo *ri, const OutXlsxOptions *opt,
               CbError *err)
{
    const OutPlace *tp = code[0] ? out_places_find(pl, code) : NULL;
    /* rows of persons the register places in no township still reach someone */
    const char *tname = tp ? tp->name : code[0] ? "" : "未分乡镇（街道）";
    /* villages: those of the reference list under the township, and those the rows name */
    size_t cap = nrows + 8;
    for (size_t i = 0; pl && code[0] && i < pl->items.len; i++)
        cap += strcmp(VEC_AT(&pl->items, OutPlace, i).parent, code) == 0;
    Village *v = xcalloc(cap, sizeof *v);
    int nv = 0;
    for (size_t i = 0; pl && code[0] && i < pl->items.len; i++) {
        const OutPlace *p = &VEC_AT(&pl->items, OutPlace, i);
        if (strcmp(p->parent, code) == 0 && !out_place_is_township(p)) {
            v[nv].code = p->code;
            v[nv].name = p->name;
            nv++;
        }
    }
    qsort(v, (size_t) nv, sizeof *v, cmp_village);
    char (*made)[64] = xcalloc(nrows + 1, 64);
    int nmade = 0;
    ListPlan *plans = xcalloc((size_t) ls->n + 1, sizeof *plans);
    plan_lists(ls, plans);
    for (size_t i = 0; i < nrows;) {
        size_t j = i;
        while (j < nrows && strcmp(rows[j].village, rows[i].village) == 0)
            j++;
        Village key = {.code = rows[i].village};
        Village *hit = nv ? bsearch(&key, v, (size_t) nv, sizeof *v, cmp_village) : NULL;
        if (hit == NULL) {
            hit = &v[nv++];
            hit->code = rows[i].village;
            const OutPlace *vp = out_places_find(pl, rows[i].village);
            if (vp)
                hit->name = vp->name;
            else {
                snprintf(made[nmade], 64, "%s", rows[i].village[0] ? rows[i].village : "未分村（社区）");
                hit->name = made[nmade++];
            }
        }
        hit->first = i;
        hit->count = j - i;
        const char *prev = NULL;
        for (size_t k = i; k < j; k++) {
            const WRow *w = &rows[k];
            if (prev == NULL || strcmp(prev, w->household) != 0 || w->household[0] == '\0')
                hit->households++;
            prev = w->household;
            hit->fresh += w->lc && w->lc->is_new;
            hit->answered += w->lc && w->lc->outcome != NULL;
            const char *fl = out_val(w->lr, plans[w->list].flags_col);
            hit->gov += strstr(fl, "government_paid") != NULL;
            hit->age60 += strstr(fl, "age60") != NULL;
            hit->absent += strstr(fl, "possibly_absent") != NULL;
        }
        /* keep the array sorted for the next bsearch */
        qsort(v, (size_t) nv, sizeof *v, cmp_village);
        i = j;
    }
    for (int i = 0; i < nv; i++)
        if (v[i].count > 0)
            assign_sheet(v, i);

    char stem[512], path[4096], csvname[600];
    if (code[0])
        out_xlsx_stem(code, tname, stem, sizeof stem);
    else
        snprintf(stem, sizeof stem, "township_unassigned");
    snprintf(path, sizeof path, "%s/%s.xlsx", dir, stem);
    snprintf(csvname, sizeof csvname, "%s.csv", stem);
    FILE *csv = csv_begin(dir, csvname, err);
    if (csv == NULL) {
        free(plans);
        free(made);
        free(v);
        return false;
    }
    lxw_workbook_options wopt = {.constant_memory = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(path, &wopt);
    bool ok = wb != NULL;
    if (!ok) {
        CB_FAIL(err, CBERR_IO, "could not create workbook");
        cb_error_at(err, "%s", path);
    }
    if (ok) {
        char asof_s[11], title[300];
        date_format(ri->asof, asof_s);
        snprintf(title, sizeof title, "%s 参保服务名单 %s", tname[0] ? tname : code, asof_s);
        int y, m, d;
        date_to_ymd(ri->asof, &y, &m, &d);
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
        lxw_doc_properties props = {0};
        props.title = title;
        props.subject = "城乡居民基本养老保险 参保服务名单";
        props.author = "canbao";
        props.company = "延吉市政务服务和数字化建设管理局";
        props.keywords = (char *) (ri->rule_version ? ri->rule_version : "");
        props.created = timegm(&tm);
        ok = lxw_ok(workbook_set_properties(wb, &props), "properties", path, err);
        Fmts f;
        make_formats(wb, &f);
        write_summary(wb, &f, ls, rows, nrows, v, nv, code, tname, ri, opt);
        TextSrc ts = {.st = st};
        for (int i = 0; ok && i < nv; i++)
            if (v[i].count > 0)
                ok = write_village(wb, &f, ls, plans, rows, &v[i], tname, ri, opt, &ts, path, csv, err);
        textbuf_free(&ts.tb);
        write_meta(wb, v, nv, code, tname, ri, opt);
        lxw_error e = workbook_close(wb);
        zip_part_free();   /* a part a failed workbook left open (none when it was written) */
        if (ok)
            ok = lxw_ok(e, "close", path, err);
    }
    if (ok)
        ok = out_close(csv, dir, csvname, err);
    else
        fclose(csv);   /* the staging folder is not published after a failure */
    free(plans);
    free(made);
    free(v);
    return ok;
}

/* ---- townships at once ---- */

typedef struct TownJob {
    const char *code;
    size_t      at, end;   /* its rows */
    bool        failed;
    CbError     err;
} TownJob;

typedef struct TownWork {
    const char           *dir;
    const Store          *st;
    const ListSet        *ls;
    const WRow           *rows;
    TownJob              *jobs;
    size_t               *order;   /* the jobs, largest first */
    const OutPlaces      *pl;
    const OutRunInfo     *ri;
    const OutXlsxOptions *opt;
} TownWork;

/* The i-th township of the order (par_each). */
static bool
town_job(void *arg, size_t i)
{
    TownWork *w = arg;
    TownJob *j = &w->jobs[w->order[i]];
    j->failed = !write_township(w->dir, w->st, w->ls, w->rows + j->at, j->end - j->at, j->code, w->pl,
                                w->ri, w->opt, &j->err);
    return !j->failed;
}

typedef struct JobOrder {
    size_t rows, job;
} JobOrder;

static int
cmp_job_order(const void *a, const void *b)
{
    const JobOrder *x = a, *y = b;
    if (x->rows != y->rows)
        return x->rows > y->rows ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

/* Writes the townships' files on opt->threads threads, the largest townships first so that the
 * threads finish together.  Each township's files are its own, so the bytes are the same for
 * any number of threads.  libxlsxwriter has no writable globals of its own; of the C library
 * it calls, only gmtime() shares state between threads: closing a workbook formats its creation
 * time with it, in glibc's one static struct tm.  Every workbook's creation time is the as-of
 * date (write_township), so two closes at once store the same values there and read them back
 * unchanged. */
static bool
write_jobs(const char *dir, const Store *st, const ListSet *ls, const WRow *rows, TownJob *jobs,
           size_t njobs, const OutPlaces *pl, const OutRunInfo *ri, const OutXlsxOptions *opt,
           CbError *err)
{
    TownWork w = {.dir = dir, .st = st, .ls = ls, .rows = rows, .jobs = jobs, .pl = pl, .ri = ri,
                  .opt = opt};
    JobOrder *ord = xcalloc(njobs + 1, sizeof *ord);
    for (size_t i = 0; i < njobs; i++)
        ord[i] = (JobOrder){.rows = jobs[i].end - jobs[i].at, .job = i};
    qsort(ord, njobs, sizeof *ord, cmp_job_order);
    w.order = xcalloc(njobs + 1, sizeof *w.order);
    for (size_t i = 0; i < njobs; i++)
        w.order[i] = ord[i].job;
    free(ord);
    (void) par_each(njobs, opt->threads, town_job, &w);   /* the failure: from jobs, below */
    free(w.order);
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].failed) {
            *err = jobs[i].err;
            return false;
        }
    return true;
}

bool
out_xlsx_write_townships(const char *dir, const Store *st, const ListSet *ls, const LcRun *lc,
                         const OutPlaces *pl, const OutRunInfo *ri, const OutXlsxOptions *opt,
                         CbError *err)
{
    size_t n = 0;
    int sel[OUT_XLSX_MAX_LISTS], nsel = 0;
    for (int k = 0; k < opt->nlists; k++) {
        const ListOut *lo = out_find_list(ls, opt->lists[k]);
        if (lo != NULL) {
            sel[nsel++] = (int) (lo - ls->lists);
            n += lo->rows.len;
        }
    }
    WRow *rows = xcalloc(n + 1, sizeof *rows);
    size_t nr = 0;

    Arena text;
    arena_init(&text, 1 << 20);
    TextBuf tb = {0};
    for (int k = 0; k < nsel; k++) {
        int l = sel[k];
        const ListRow *lr = ls->lists[l].rows.data;
        for (size_t i = 0; i < ls->lists[l].rows.len; i++) {
            if (lr[i].key == PERSON_KEY_NONE)
                continue;
            WRow *w = &rows[nr++];
            w->list = l;
            w->row = i;
            w->lr = &lr[i];
            w->lc = lc && l < lc->nlists && lc->rows[l] ? &lc->rows[l][i] : NULL;
            w->p = st ? store_person(st, lr[i].key) : NULL;
            /* the person's text here only when the sort needs its household; otherwise the
             * township's job reads it as it writes the row, on its own thread and without a
             * copy (here, a read and four copies for each of M's 956,000 rows: half of the
             * 1.4 s before the workbooks could start) */
            if (w->p && lr[i].household == NULL)
                store_person_text_copy(st, w->p, &tb, &text, &w->text);
            else
                w->text_later = w->p != NULL;
            idnum_format(lr[i].key, w->id);
            w->village = lr[i].village ? lr[i].village : w->p && w->p->division ? w->p->division : "";
            w->township = lr[i].township ? lr[i].township : "";
            w->household = lr[i].household ? lr[i].household : w->text.household ? w->text.household : "";
            w->hh_head = head8(w->household);
        }
    }
    textbuf_free(&tb);
    sort_wrows(rows, nr);

    /* townships: the city's of the reference list, and any other the rows name */
    size_t ncode = 0, capc = nr + (pl ? pl->items.len : 0) + 1;
    const char **codes = xcalloc(capc, sizeof *codes);
    size_t citylen = ri->city ? strlen(ri->city) : 0;
    for (size_t i = 0; pl && i < pl->items.len; i++) {
        const OutPlace *p = &VEC_AT(&pl->items, OutPlace, i);
        if (out_place_is_township(p) && (citylen == 0 || strncmp(p->code, ri->city, citylen) == 0))
            codes[ncode++] = p->code;
    }
    for (size_t i = 0; i < nr; i++)
        if (i == 0 || strcmp(rows[i].township, rows[i - 1].township) != 0)
            codes[ncode++] = rows[i].township;
    qsort(codes, ncode, sizeof *codes, strcmp_ptr);
    bool ok = st == NULL || store_text_ok(st, err);
    /* one job per township, in code order: its rows are rows[at, end) */
    TownJob *jobs = xcalloc(ncode + 1, sizeof *jobs);
    size_t njobs = 0, at = 0;
    for (size_t k = 0; k < ncode; k++) {
        if (k > 0 && strcmp(codes[k], codes[k - 1]) == 0)
            continue;
        while (at < nr && strcmp(rows[at].township, codes[k]) < 0)
            at++;
        size_t end = at;
        while (end < nr && strcmp(rows[end].township, codes[k]) == 0)
            end++;
        jobs[njobs++] = (TownJob){.code = codes[k], .at = at, .end = end};
        at = end;
    }
    if (ok)
        ok = write_jobs(dir, st, ls, rows, jobs, njobs, pl, ri, opt, err);
    if (ok && st != NULL)   /* a text the jobs could not read back */
        ok = store_text_ok(st, err);
    free(jobs);
    free(codes);
    free(rows);
    arena_free(&text);
    return ok;
}
