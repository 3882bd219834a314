/*
 * test_out_xlsx.c
 *     Unit tests for the township workbooks (engine/out_xlsx.c), read back with the project's
 *     XLSX reader: one workbook per township (also without rows), the summary first, a sheet
 *     per village with rows, sheet names within 31 characters and unique, Chinese headers,
 *     masked IDs (and full ones when asked), households together and numbered (in the order of
 *     their bytes, however long their common head), plain-word
 *     hints, the hidden row key, the township's earlier answers prefilled, the hidden _canbao
 *     sheet, the CSV twin (BOM, same columns and rows), byte-identical files on a rerun, and
 *     the zip's parts deflated at level 1 (by ISA-L: every part of a large workbook inflated by
 *     zlib to the size and CRC-32 its header declares, its text intact).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <xlsxwriter.h>
#include <zlib.h>

#include "out_fixture.h"
#include "out_xlsx.h"

static Fixture fx;
static char dir[64];

static OutXlsxOptions
default_options(void)
{
    OutXlsxOptions o;
    memset(&o, 0, sizeof o);
    o.mask_ids = true;
    o.lists[0] = "unenrolled_eligible";
    o.lists[1] = "approaching_benefit_age";
    o.lists[2] = "proof_of_life_due";     /* not produced: skipped */
    o.nlists = 3;
    return o;
}

static int
setup(void **state)
{
    (void) state;
    fx_build(&fx, true);
    fx_tmpdir(dir, sizeof dir, "test_out_xlsx");
    /* the township's earlier answer for 王丽 (person 4): prefilled */
    for (size_t i = 0; i < fx.ls.lists[0].rows.len; i++)
        if (VEC_AT(&fx.ls.lists[0].rows, ListRow, i).key == idnum_key(fx_ids[4])) {
            fx.lc.rows[0][i].outcome = "已联系";
            fx.lc.rows[0][i].outcome_date = "2026-11-20";
            fx.lc.rows[0][i].note = "本人说下月去办理";
            fx.lc.rows[0][i].is_new = false;
            fx.lc.rows[0][i].first_asof = fx_day("2026-10-28");
        }
    OutXlsxOptions o = default_options();
    CbError err = {0};
    if (!out_xlsx_write_townships(dir, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, &o, &err)) {
        cb_error_print(&err);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    fx_rmdir(dir);
    fx_free(&fx);
    return 0;
}

static const char *
path_of(const char *name)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void
test_one_workbook_per_township(void **state)
{
    (void) state;
    assert_int_equal(access(path_of("township_222401001_进学街道.xlsx"), R_OK), 0);
    assert_int_equal(access(path_of("township_222401001_进学街道.csv"), R_OK), 0);
    assert_int_equal(access(path_of("township_222401100_小营镇.xlsx"), R_OK), 0);
    /* a township of the city without rows still gets its workbook; another city's does not */
    assert_int_equal(access(path_of("township_222401002_北山街道.xlsx"), R_OK), 0);
    assert_int_not_equal(access(path_of("township_222402001_新华街道.xlsx"), R_OK), 0);
}

/* Every part of the zip deflated at level 1, not at libxlsxwriter's default: minizip writes
 * the level into bits 1-2 of each local header's flags (level 1: both set, 6: neither). */
static void
test_fast_deflate(void **state)
{
    (void) state;
    FILE *f = fopen(path_of("township_222401001_进学街道.xlsx"), "rb");
    assert_non_null(f);
    unsigned char h[30];
    int parts = 0;
    while (fread(h, 1, 4, f) == 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
        assert_int_equal(fread(h + 4, 1, 26, f), 26);
        unsigned flags = h[6] | h[7] << 8, method = h[8] | h[9] << 8;
        unsigned long csize = h[18] | h[19] << 8 | (unsigned long) h[20] << 16 | (unsigned long) h[21] << 24;
        unsigned nlen = h[26] | h[27] << 8, xlen = h[28] | h[29] << 8;
        assert_int_equal(method, 8);
        assert_int_equal(flags & 6, 6);
        assert_int_equal(flags & 8, 0);   /* sizes in the header: the next part follows */
        assert_int_equal(fseek(f, (long) (nlen + xlen + csize), SEEK_CUR), 0);
        parts++;
    }
    fclose(f);
    assert_true(parts >= 5);
}

/* A part of the zip at f (its local header read): its data inflated by zlib into a buffer of
 * the size the header declares; the CRC-32 the header declares checked. */
static unsigned char *
inflate_part(FILE *f, const unsigned char h[30], unsigned long *usize_out)
{
    unsigned long crc = h[14] | h[15] << 8 | (unsigned long) h[16] << 16 | (unsigned long) h[17] << 24;
    unsigned long csize = h[18] | h[19] << 8 | (unsigned long) h[20] << 16 | (unsigned long) h[21] << 24;
    unsigned long usize = h[22] | h[23] << 8 | (unsigned long) h[24] << 16 | (unsigned long) h[25] << 24;
    unsigned nlen = h[26] | h[27] << 8, xlen = h[28] | h[29] << 8;
    assert_int_equal(fseek(f, (long) (nlen + xlen), SEEK_CUR), 0);
    unsigned char *in = malloc(csize + 1), *out = malloc(usize + 1);
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(fread(in, 1, csize, f), csize);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, -MAX_WBITS), Z_OK);
    z.next_in = in;
    z.avail_in = (uInt) csize;
    z.next_out = out;
    z.avail_out = (uInt) usize + 1;   /* room for a byte too many */
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, usize);
    assert_int_equal(z.total_in, csize);
    inflateEnd(&z);
    assert_int_equal(crc32(0, out, (uInt) usize), crc);
    free(in);
    *usize_out = usize;
    return out;
}

/* A workbook far larger than the deflater's 64 KiB of output at a time: each part deflated (by
 * ISA-L, in the program's minizip functions), inflated by zlib to the declared size and CRC-32,
 * the sheet's text intact and much smaller deflated. */
static void
test_large_parts_inflate(void **state)
{
    (void) state;
    const char *path = path_of("large.xlsx");
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(path, &wo);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "行");
    char cell[64];
    enum { ROWS = 20000 };
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < 6; c++) {
            snprintf(cell, sizeof cell, "第%d行 列%d %08x", r, c, (unsigned) (r * 2654435761u + (unsigned) c));
            assert_int_equal(worksheet_write_string(ws, (lxw_row_t) r, (lxw_col_t) c, cell, NULL), LXW_NO_ERROR);
        }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char h[30];
    int parts = 0;
    bool sheet = false;
    while (fread(h, 1, 4, f) == 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
        assert_int_equal(fread(h + 4, 1, 26, f), 26);
        assert_int_equal(h[8] | h[9] << 8, 8);   /* deflated */
        unsigned long csize = h[18] | h[19] << 8 | (unsigned long) h[20] << 16 | (unsigned long) h[21] << 24;
        char name[64] = "";
        unsigned nlen = h[26] | h[27] << 8;
        long at = ftell(f);
        assert_int_equal(fread(name, 1, nlen < sizeof name - 1 ? nlen : sizeof name - 1, f),
                         nlen < sizeof name - 1 ? nlen : sizeof name - 1);
        assert_int_equal(fseek(f, at, SEEK_SET), 0);
        unsigned long usize;
        unsigned char *x = inflate_part(f, h, &usize);
        if (strcmp(name, "xl/worksheets/sheet1.xml") == 0) {
            sheet = true;
            x[usize] = '\0';
            assert_true(usize > 1000000);
            assert_true(csize * 4 < usize);
            snprintf(cell, sizeof cell, "第%d行 列%d %08x", ROWS - 1, 5, (unsigned) ((ROWS - 1) * 2654435761u + 5u));
            assert_non_null(strstr((char *) x, cell));
            assert_non_null(strstr((char *) x, "第0行 列0 00000000"));
        }
        free(x);
        parts++;
    }
    fclose(f);
    assert_true(sheet);
    assert_true(parts >= 5);
    unlink(path);
}

static void
test_summary_first(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    /* no sheet named: the reader takes the first visible sheet */
    assert_true(fx_read_sheet(path_of("township_222401001_进学街道.xlsx"), NULL, &s, &err));
    assert_non_null(strstr(fx_cell(&s, 0, 0), "进学街道（222401001）"));
    assert_non_null(strstr(fx_cell(&s, 1, 0), "2026-11-28"));
    assert_string_equal(fx_cell(&s, 3, 0), "村（社区）代码");
    /* all three communities of the reference list, with their counts; 园辉社区 has no sheet */
    assert_string_equal(fx_cell(&s, 4, 1), "丹英社区");
    assert_string_equal(fx_cell(&s, 4, 3), "4");    /* persons */
    assert_string_equal(fx_cell(&s, 4, 4), "2");    /* households */
    assert_string_equal(fx_cell(&s, 5, 1), "民昌社区");
    assert_string_equal(fx_cell(&s, 5, 3), "1");
    assert_string_equal(fx_cell(&s, 5, 9), "1");    /* answered */
    assert_string_equal(fx_cell(&s, 6, 1), "园辉社区");
    assert_string_equal(fx_cell(&s, 6, 2), "（无）");
    assert_string_equal(fx_cell(&s, 7, 0), "合计");
    assert_string_equal(fx_cell(&s, 7, 3), "5");
    fx_free_sheet(&s);
}

static void
test_village_sheet(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    assert_true(fx_read_sheet(path_of("township_222401001_进学街道.xlsx"), "丹英社区", &s, &err));
    for (int c = 0; c < OXC_COUNT; c++)
        assert_string_equal(fx_cell(&s, 0, c), OUT_XLSX_COLUMNS[c]);
    assert_int_equal(s.nrows, 1 + 4);
    /* household 100000001 first (ID order within it), then 100000002 */
    assert_string_equal(fx_cell(&s, 1, OXC_NAME), "金哲洙");
    assert_string_equal(fx_cell(&s, 2, OXC_NAME), "朴英姬");
    assert_string_equal(fx_cell(&s, 3, OXC_NAME), "金敏俊");
    assert_string_equal(fx_cell(&s, 4, OXC_NAME), "李建国");
    const char *hh_seq[] = {"1", "1", "1", "2"};
    for (int r = 1; r <= 4; r++) {
        char seq[4] = {(char) ('0' + r), 0};
        assert_string_equal(fx_cell(&s, r, OXC_SEQ), seq);
        assert_string_equal(fx_cell(&s, r, OXC_HH_SEQ), hh_seq[r - 1]);
        assert_string_equal(fx_cell(&s, r, OXC_VILLAGE), "丹英社区");
        assert_string_equal(fx_cell(&s, r, OXC_MATTER), "应参未参");
        assert_string_equal(fx_cell(&s, r, OXC_NEW), "新");
        assert_true(atoi(fx_cell(&s, r, OXC_KEY)) > 0);
        /* masked: first 6 and last 4 only */
        const char *id = fx_cell(&s, r, OXC_ID);
        assert_int_equal(strlen(id), 18);
        assert_memory_equal(id, "222401", 6);
        assert_memory_equal(id + 6, "********", 8);
    }
    assert_memory_equal(fx_cell(&s, 1, OXC_ID) + 14, fx_ids[0] + 14, 4);
    assert_string_equal(fx_cell(&s, 1, OXC_HOUSEHOLD), "100000001");
    assert_string_equal(fx_cell(&s, 1, OXC_SEX), "男");
    assert_string_equal(fx_cell(&s, 2, OXC_SEX), "女");
    assert_string_equal(fx_cell(&s, 1, OXC_AGE), "56");
    assert_string_equal(fx_cell(&s, 1, OXC_PHONE), "13904330001");
    assert_string_equal(fx_cell(&s, 3, OXC_PHONE), "");
    assert_string_equal(fx_cell(&s, 1, OXC_ADDRESS), "延吉市进学街道丹英社区局子街1号");
    /* flags in plain words */
    assert_string_equal(fx_cell(&s, 1, OXC_HINTS), "核查职工养老保险");
    assert_string_equal(fx_cell(&s, 2, OXC_HINTS), "政府代缴：低保");
    assert_string_equal(fx_cell(&s, 3, OXC_HINTS), "");
    assert_string_equal(fx_cell(&s, 4, OXC_HINTS), "年满60周岁可申领待遇；可能外出（可经家属联系）");
    /* nothing the identifying columns would leak */
    for (int r = 0; r < s.nrows; r++)
        for (int c = 0; c < s.ncols[r]; c++)
            for (int p = 0; p < FX_NPEOPLE; p++)
                assert_null(strstr(fx_cell(&s, r, c), fx_ids[p]));
    fx_free_sheet(&s);
}

/* Households in the order of their bytes, whether their first eight bytes tie, differ, or end
 * early (the sort compares those eight as a number before it reads the rest). */
static void
test_household_order(void **state)
{
    (void) state;
    static const struct {
        int         person;
        const char *household;
    } hh[] = {{2, "2"}, {1, "100000009"}, {3, "1000000"}, {0, "10000000"}};
    static const char *const want[] = {"李建国", "金哲洙", "朴英姬", "金敏俊"};
    ListOut *l = &fx.ls.lists[0];
    const char *was[sizeof hh / sizeof hh[0]] = {0};
    for (size_t k = 0; k < sizeof hh / sizeof hh[0]; k++)
        for (size_t i = 0; i < l->rows.len; i++) {
            ListRow *r = &VEC_AT(&l->rows, ListRow, i);
            if (r->key == idnum_key(fx_ids[hh[k].person])) {
                was[k] = r->household;
                r->household = hh[k].household;
            }
        }
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_xlsx_hh");
    OutXlsxOptions o = default_options();
    CbError err = {0};
    bool ok = out_xlsx_write_townships(d2, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, &o, &err);
    for (size_t k = 0; k < sizeof hh / sizeof hh[0]; k++)   /* as the other tests expect them */
        for (size_t i = 0; i < l->rows.len; i++) {
            ListRow *r = &VEC_AT(&l->rows, ListRow, i);
            if (r->key == idnum_key(fx_ids[hh[k].person]))
                r->household = was[k];
        }
    assert_true(ok);
    char path[512];
    snprintf(path, sizeof path, "%s/township_222401001_进学街道.xlsx", d2);
    Sheet s;
    assert_true(fx_read_sheet(path, "丹英社区", &s, &err));
    assert_int_equal(s.nrows, 1 + 4);
    for (int r = 1; r <= 4; r++) {
        assert_string_equal(fx_cell(&s, r, OXC_NAME), want[r - 1]);
        char seq[4] = {(char) ('0' + r), 0};
        assert_string_equal(fx_cell(&s, r, OXC_HH_SEQ), seq);   /* four households */
    }
    fx_free_sheet(&s);
    fx_rmdir(d2);
}

/* A list's own columns in the hints: "label：value" in the column order, codes word by word
 * (empty codes between separators skipped, unknown ones as they are), the flags first. */
static void
test_hint_columns(void **state)
{
    (void) state;
    ListOut *l = &fx.ls.lists[2];   /* deceased_beneficiaries */
    ListRow *r = NULL;
    for (size_t i = 0; i < l->rows.len; i++)
        if (VEC_AT(&l->rows, ListRow, i).key == idnum_key(fx_ids[8]))
            r = &VEC_AT(&l->rows, ListRow, i);
    assert_non_null(r);
    const char *was = r->vals[3];
    char d2[64];
    fx_tmpdir(d2, sizeof d2, "test_out_xlsx_hints");
    OutXlsxOptions o = default_options();
    o.lists[o.nlists++] = "deceased_beneficiaries";
    static const char *const sources[] = {"civil;health", ";civil;;x_other;", "health"};
    static const char *const want[] = {"民政、卫健", "民政、x_other", "卫健"};
    for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++) {
        r->vals[3] = sources[k];
        CbError err = {0};
        bool ok = out_xlsx_write_townships(d2, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, &o, &err);
        r->vals[3] = was;
        assert_true(ok);
        char path[512], hints[512];
        snprintf(path, sizeof path, "%s/township_222401001_进学街道.xlsx", d2);
        snprintf(hints, sizeof hints,
                 "死亡日期：2026-09-03；来源：%s；核实程度：已确认；死亡后发放月数：2；多发金额：396.00；"
                 "丧葬补助：2780.00", want[k]);
        Sheet s;
        assert_true(fx_read_sheet(path, "丹英社区", &s, &err));
        int found = 0;
        for (int row = 1; row < s.nrows; row++)
            if (strcmp(fx_cell(&s, row, OXC_MATTER), "待遇领取人员死亡") == 0) {
                assert_string_equal(fx_cell(&s, row, OXC_NAME), "尹秀贤");
                assert_string_equal(fx_cell(&s, row, OXC_HINTS), hints);
                found++;
            } else if (strcmp(fx_cell(&s, row, OXC_NAME), "朴英姬") == 0) {
                assert_string_equal(fx_cell(&s, row, OXC_HINTS), "政府代缴：低保");
            }
        assert_int_equal(found, 1);
        fx_free_sheet(&s);
    }
    fx_rmdir(d2);
}

static void
test_prefilled_answer(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    assert_true(fx_read_sheet(path_of("township_222401001_进学街道.xlsx"), "民昌社区", &s, &err));
    assert_int_equal(s.nrows, 2);
    assert_string_equal(fx_cell(&s, 1, OXC_NAME), "王丽");
    assert_string_equal(fx_cell(&s, 1, OXC_OUTCOME), "已联系");
    assert_string_equal(fx_cell(&s, 1, OXC_DATE), "2026-11-20");   /* a real date cell */
    assert_string_equal(fx_cell(&s, 1, OXC_NOTE), "本人说下月去办理");
    assert_string_equal(fx_cell(&s, 1, OXC_NEW), "");
    assert_string_equal(fx_cell(&s, 1, OXC_HINTS), "首次列入：2026-10-28");
    fx_free_sheet(&s);
}

static void
test_sheet_names(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    const char *wb = path_of("township_222401100_小营镇.xlsx");
    assert_true(fx_read_sheet(wb, OUT_XLSX_META_SHEET, &s, &err));
    char names[8][128];
    int n = 0;
    for (int r = 0; r < s.nrows; r++)
        if (strcmp(fx_cell(&s, r, 0), "sheet") == 0 && n < 8)
            snprintf(names[n++], 128, "%s", fx_cell(&s, r, 1));
    fx_free_sheet(&s);
    /* 东兴村 (201: 崔顺子 approaching 60), the long name (202), the second 东兴村 (203) */
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "东兴村");
    assert_int_equal(out_text_chars(names[1]), 31);
    assert_memory_equal(names[1], FX_LONG_VILLAGE, strlen(names[1]));
    assert_string_equal(names[2], "东兴村_203");
    for (int i = 0; i < n; i++) {
        assert_true(out_text_chars(names[i]) <= 31);
        assert_true(fx_read_sheet(wb, names[i], &s, &err));
        assert_int_equal(s.nrows, 2);
        fx_free_sheet(&s);
    }
    assert_true(fx_read_sheet(wb, "东兴村", &s, &err));
    assert_string_equal(fx_cell(&s, 1, OXC_MATTER), "即将达到待遇领取年龄");
    /* not the list's age (a column of its own), rule (事项) or rule-set version (every row's) */
    assert_string_equal(fx_cell(&s, 1, OXC_HINTS), "60周岁生日：2027-01-15");
    fx_free_sheet(&s);
}

static void
test_meta_sheet(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    assert_true(fx_read_sheet(path_of("township_222401001_进学街道.xlsx"), OUT_XLSX_META_SHEET, &s, &err));
    const char *want[][2] = {{"format", OUT_XLSX_FORMAT}, {"township", "222401001"}, {"township_name", "进学街道"},
                             {"asof", "2026-11-28"}, {"rule_version", FX_RULES}, {"masked", "yes"}};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        bool found = false;
        for (int r = 0; r < s.nrows; r++)
            if (strcmp(fx_cell(&s, r, 0), want[w][0]) == 0) {
                assert_string_equal(fx_cell(&s, r, 1), want[w][1]);
                found = true;
            }
        assert_true(found);
    }
    fx_free_sheet(&s);
}

static void
test_csv_twin(void **state)
{
    (void) state;
    size_t len;
    unsigned char *csv = fx_slurp(path_of("township_222401001_进学街道.csv"), &len);
    assert_non_null(csv);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    /* header: the workbook's columns */
    char header[1024] = "";
    for (int c = 0; c < OXC_COUNT; c++) {
        strcat(header, c ? "," : "");
        strcat(header, OUT_XLSX_COLUMNS[c]);
    }
    strcat(header, "\r\n");
    assert_memory_equal(csv + 3, header, strlen(header));
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += csv[i] == '\n';
    assert_int_equal(lines, 1 + 5);
    /* the first data line matches the first row of the first village sheet */
    Sheet s;
    CbError err = {0};
    assert_true(fx_read_sheet(path_of("township_222401001_进学街道.xlsx"), "丹英社区", &s, &err));
    char first[1024] = "";
    for (int c = 0; c < OXC_COUNT; c++) {
        strcat(first, c ? "," : "");
        strcat(first, fx_cell(&s, 1, c));
    }
    strcat(first, "\r\n");
    assert_memory_equal(csv + 3 + strlen(header), first, strlen(first));
    fx_free_sheet(&s);
    free(csv);
}

static void
test_empty_township(void **state)
{
    (void) state;
    Sheet s;
    CbError err = {0};
    assert_true(fx_read_sheet(path_of("township_222401002_北山街道.xlsx"), NULL, &s, &err));
    assert_string_equal(fx_cell(&s, 4, 1), "白川社区");
    assert_string_equal(fx_cell(&s, 4, 3), "0");
    fx_free_sheet(&s);
    size_t len;
    unsigned char *csv = fx_slurp(path_of("township_222401002_北山街道.csv"), &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += csv[i] == '\n';
    assert_int_equal(lines, 1);
    free(csv);
}

static void
test_byte_identical_and_unmasked(void **state)
{
    (void) state;
    char again[64];
    fx_tmpdir(again, sizeof again, "test_out_xlsx_again");
    sleep(1);   /* a clock second later: nothing may depend on the time of day */
    OutXlsxOptions o = default_options();
    CbError err = {0};
    assert_true(out_xlsx_write_townships(again, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, &o, &err));
    const char *names[] = {"township_222401001_进学街道.xlsx", "township_222401001_进学街道.csv",
                           "township_222401100_小营镇.xlsx", "township_222401002_北山街道.xlsx"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char b[512];
        snprintf(b, sizeof b, "%s/%s", again, names[i]);
        assert_true(fx_same_file(path_of(names[i]), b));
    }
    /* the bureau's internal copy: full numbers */
    o.mask_ids = false;
    char full[64];
    fx_tmpdir(full, sizeof full, "test_out_xlsx_full");
    assert_true(out_xlsx_write_townships(full, &fx.st, &fx.ls, &fx.lc, &fx.pl, &fx.ri, &o, &err));
    char p[512];
    snprintf(p, sizeof p, "%s/township_222401001_进学街道.xlsx", full);
    Sheet s;
    assert_true(fx_read_sheet(p, "丹英社区", &s, &err));
    assert_string_equal(fx_cell(&s, 1, OXC_ID), fx_ids[0]);
    fx_free_sheet(&s);
    fx_rmdir(again);
    fx_rmdir(full);
}

static void
test_rows_match_lists(void **state)
{
    (void) state;
    /* every person row of the chosen lists is on exactly one sheet */
    const char *books[] = {"township_222401001_进学街道.xlsx", "township_222401100_小营镇.xlsx",
                           "township_222401002_北山街道.xlsx"};
    int rows = 0;
    for (size_t b = 0; b < 3; b++) {
        Sheet m, s;
        CbError err = {0};
        assert_true(fx_read_sheet(path_of(books[b]), OUT_XLSX_META_SHEET, &m, &err));
        for (int r = 0; r < m.nrows; r++)
            if (strcmp(fx_cell(&m, r, 0), "sheet") == 0) {
                assert_true(fx_read_sheet(path_of(books[b]), fx_cell(&m, r, 1), &s, &err));
                rows += s.nrows - 1;
                fx_free_sheet(&s);
            }
        fx_free_sheet(&m);
    }
    assert_int_equal(rows, (int) (fx.ls.lists[0].rows.len + fx.ls.lists[1].rows.len));
}

static void
test_helpers(void **state)
{
    (void) state;
    char out[19];
    out_mask_id("22240119700315011X", true, out);
    assert_string_equal(out, "222401********011X");
    out_mask_id("12345", true, out);
    assert_string_equal(out, "12345");
    assert_int_equal(out_text_width("丹英社区"), 8);
    assert_int_equal(out_text_width("ab丹"), 4);
    char stem[256];
    out_xlsx_stem("222401001", "进/学", stem, sizeof stem);
    assert_string_equal(stem, "township_222401001_进_学");
    setenv("CANBAO_MASK_IDS", "0", 1);
    char buf[128];
    OutXlsxOptions o;
    setenv("CANBAO_TOWNSHIP_LISTS", "unenrolled_eligible, proof_of_life_due", 1);
    out_xlsx_options_default(&o, buf, sizeof buf);
    assert_false(o.mask_ids);
    assert_int_equal(o.nlists, 2);
    assert_string_equal(o.lists[1], "proof_of_life_due");
    unsetenv("CANBAO_MASK_IDS");
    unsetenv("CANBAO_TOWNSHIP_LISTS");
    out_xlsx_options_default(&o, buf, sizeof buf);
    assert_true(o.mask_ids);
    assert_int_equal(o.nlists, 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_workbook_per_township),
        cmocka_unit_test(test_fast_deflate),
        cmocka_unit_test(test_large_parts_inflate),
        cmocka_unit_test(test_summary_first),
        cmocka_unit_test(test_hint_columns),
        cmocka_unit_test(test_village_sheet),
        cmocka_unit_test(test_household_order),
        cmocka_unit_test(test_prefilled_answer),
        cmocka_unit_test(test_sheet_names),
        cmocka_unit_test(test_meta_sheet),
        cmocka_unit_test(test_csv_twin),
        cmocka_unit_test(test_empty_township),
        cmocka_unit_test(test_byte_identical_and_unmasked),
        cmocka_unit_test(test_rows_match_lists),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
