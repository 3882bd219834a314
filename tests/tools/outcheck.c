/*
 * outcheck — checks of the published outputs for tests/run-tests.sh (section outputs).
 *
 *   outcheck png FILE [MIN_COLOURS]        a screenshot is not blank: decodes the PNG (zlib),
 *                                          counts distinct colours and non-white pixels
 *   outcheck xsd SCHEMA.xsd FILE.xml...    every document is valid (libxml2 xmlSchemaValidateDoc)
 *   outcheck workbooks OUTDIR LIST.csv...  the township workbooks against the lists (full IDs):
 *                                          headers, masking, households together, numbering,
 *                                          row keys unique, rows per township and the masked
 *                                          IDs equal to the lists', summary totals, CSV twins
 *   outcheck dump FILE.xlsx [SHEET]        a sheet as tab-separated text (SHEET: a name, or the
 *                                          number of a village sheet, 1 = the first; default:
 *                                          the summary)
 *   outcheck clerk IN.xlsx OUT.xlsx [--set S:R:OUTCOME:DATE:NOTE]... [--key S:R:KEY]...
 *                  [--meta NAME=VALUE]...  writes the workbook back as a clerk would return it
 *                                          (libxlsxwriter; dates as date cells): answers in
 *                                          village sheet S (1-based), data row R (1-based); prints
 *                                          "S:R KEY" for every row it answered
 *   outcheck fbevidence YYYY-MM-DD         the township answers that are evidence for the rules on
 *                                          that day (lifecycle_feedback_evidence, PG* environment):
 *                                          prints "death N moved_out M"
 * Exit status 0 when the check passes, 1 when it fails (with what is wrong), 2 on bad usage.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <xlsxwriter.h>
#include <zlib.h>

#include "db.h"
#include "lifecycle.h"
#include "out_xlsx.h"
#include "reader.h"

/* ---------------------------------------------------------------- png */

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int
paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static int
cmd_png(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long min_colours = argc > 3 ? atol(argv[3]) : 16;
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        printf("png: cannot open %s\n", argv[2]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t) size);
    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        fclose(f);
        printf("png: short read\n");
        return 1;
    }
    fclose(f);
    if (size < 33 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) != 0) {
        printf("png: not a PNG file\n");
        return 1;
    }
    uint32_t w = 0, h = 0;
    int depth = 0, ctype = -1, interlace = 0;
    unsigned char *idat = NULL;
    size_t nidat = 0;
    for (long o = 8; o + 12 <= size;) {
        uint32_t len = be32(buf + o);
        const unsigned char *type = buf + o + 4, *data = buf + o + 8;
        if (o + 12 + (long) len > size)
            break;
        if (memcmp(type, "IHDR", 4) == 0) {
            w = be32(data);
            h = be32(data + 4);
            depth = data[8];
            ctype = data[9];
            interlace = data[12];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, nidat + len);
            memcpy(idat + nidat, data, len);
            nidat += len;
        }
        o += 12 + (long) len;
    }
    int ch = ctype == 2 ? 3 : ctype == 6 ? 4 : ctype == 0 ? 1 : ctype == 4 ? 2 : 0;
    if (w == 0 || h == 0 || depth != 8 || ch == 0 || interlace != 0) {
        printf("png: unsupported layout (%ux%u, depth %d, colour type %d, interlace %d)\n", w, h, depth, ctype,
               interlace);
        return 1;
    }
    size_t stride = (size_t) w * (size_t) ch;
    uLongf rawlen = (uLongf) ((stride + 1) * h);
    unsigned char *raw = malloc(rawlen);
    if (uncompress(raw, &rawlen, idat, (uLong) nidat) != Z_OK || rawlen != (stride + 1) * h) {
        printf("png: image data does not inflate\n");
        return 1;
    }
    unsigned char *img = calloc(stride * h, 1);
    for (uint32_t y = 0; y < h; y++) {
        int ft = raw[y * (stride + 1)];
        const unsigned char *src = raw + y * (stride + 1) + 1;
        unsigned char *cur = img + y * stride, *prev = y ? img + (y - 1) * stride : NULL;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t) ch ? cur[x - (size_t) ch] : 0, b = prev ? prev[x] : 0,
                c = prev && x >= (size_t) ch ? prev[x - (size_t) ch] : 0;
            int v = src[x];
            switch (ft) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += paeth(a, b, c); break;
            default: break;
            }
            cur[x] = (unsigned char) v;
        }
    }
    unsigned char *seen = calloc(1 << 21, 1);
    long colours = 0, nonwhite = 0;
    for (size_t i = 0; i < (size_t) w * h; i++) {
        const unsigned char *p = img + i * (size_t) ch;
        unsigned r = p[0], g = ch >= 3 ? p[1] : p[0], b = ch >= 3 ? p[2] : p[0];
        unsigned rgb = r << 16 | g << 8 | b;
        if (!(seen[rgb >> 3] & (1 << (rgb & 7)))) {
            seen[rgb >> 3] |= (unsigned char) (1 << (rgb & 7));
            colours++;
        }
        nonwhite += r < 245 || g < 245 || b < 245;
    }
    double share = 100.0 * (double) nonwhite / ((double) w * h);
    printf("png: %ux%u, %ld colours, %.1f%% not white\n", w, h, colours, share);
    free(seen);
    free(img);
    free(raw);
    free(idat);
    free(buf);
    return colours >= min_colours && share >= 1.0 ? 0 : 1;
}

/* ---------------------------------------------------------------- xsd */

static int
cmd_xsd(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(argv[2]);
    xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (schema == NULL) {
        printf("xsd: cannot load %s\n", argv[2]);
        return 1;
    }
    int bad = 0;
    for (int i = 3; i < argc; i++) {
        xmlDocPtr doc = xmlReadFile(argv[i], NULL, XML_PARSE_NONET);
        xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
        int rc = doc ? xmlSchemaValidateDoc(vc, doc) : -1;
        xmlSchemaFreeValidCtxt(vc);
        xmlFreeDoc(doc);
        printf("xsd: %s %s\n", argv[i], rc == 0 ? "valid" : "INVALID");
        bad += rc != 0;
    }
    xmlSchemaFree(schema);
    return bad ? 1 : 0;
}

/* ---------------------------------------------------------------- sheets */

typedef struct Table {
    int     nrows;
    int    *ncols;
    char ***cell;      /* [row][col], by the sheet's row number (row 0 = first row) */
} Table;

static const char *
cell(const Table *t, int r, int c)
{
    if (r < 0 || r >= t->nrows || c >= t->ncols[r] || t->cell[r] == NULL || t->cell[r][c] == NULL)
        return "";
    return t->cell[r][c];
}

static void
table_free(Table *t)
{
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols[r]; c++)
            free(t->cell[r][c]);
        free(t->cell[r]);
    }
    free(t->cell);
    free(t->ncols);
    memset(t, 0, sizeof *t);
}

static bool
read_table(const char *path, ReaderFormat fmt, const char *sheet, Table *t)
{
    memset(t, 0, sizeof *t);
    ReaderSpec spec = {.format = fmt, .sheet = sheet, .delimiter = ',', .quote = '"'};
    CbError err = {0};
    Reader *r = reader_open(&spec, path, &err);
    if (r == NULL) {
        cb_error_print(&err);
        return false;
    }
    Record rec;
    ReadStatus s;
    int cap = 0;
    uint64_t csv_row = 0;
    while ((s = reader_next(r, &rec, &err)) == READ_OK) {
        int row = fmt == RF_XLSX ? (int) rec.line_no - 1 : (int) csv_row++;
        if (row < 0)
            continue;
        if (row >= cap) {
            int nc = cap ? cap : 64;
            while (nc <= row)
                nc *= 2;
            t->cell = realloc(t->cell, (size_t) nc * sizeof *t->cell);
            t->ncols = realloc(t->ncols, (size_t) nc * sizeof *t->ncols);
            for (int i = cap; i < nc; i++) {
                t->cell[i] = NULL;
                t->ncols[i] = 0;
            }
            cap = nc;
        }
        t->ncols[row] = rec.nfields;
        t->cell[row] = calloc((size_t) rec.nfields + 1, sizeof(char *));
        for (int c = 0; c < rec.nfields; c++) {
            t->cell[row][c] = malloc(rec.fields[c].len + 1);
            memcpy(t->cell[row][c], rec.fields[c].p ? rec.fields[c].p : "", rec.fields[c].len);
            t->cell[row][c][rec.fields[c].len] = '\0';
        }
        if (row + 1 > t->nrows)
            t->nrows = row + 1;
    }
    reader_close(r);
    if (s != READ_EOF)
        cb_error_print(&err);
    return s == READ_EOF;
}

typedef struct Meta {
    char township[32], masked[8];
    int  nsheets;
    char sheet[512][128];
} Meta;

static bool
read_meta(const char *path, Meta *m, Table *raw)
{
    memset(m, 0, sizeof *m);
    if (!read_table(path, RF_XLSX, OUT_XLSX_META_SHEET, raw))
        return false;
    for (int r = 0; r < raw->nrows; r++) {
        if (strcmp(cell(raw, r, 0), "township") == 0)
            snprintf(m->township, sizeof m->township, "%s", cell(raw, r, 1));
        else if (strcmp(cell(raw, r, 0), "masked") == 0)
            snprintf(m->masked, sizeof m->masked, "%s", cell(raw, r, 1));
        else if (strcmp(cell(raw, r, 0), "sheet") == 0 && m->nsheets < 512)
            snprintf(m->sheet[m->nsheets++], sizeof m->sheet[0], "%s", cell(raw, r, 1));
    }
    return true;
}

/* ---------------------------------------------------------------- workbooks */

typedef struct Strs {
    char  **v;
    size_t  n, cap;
} Strs;

static void
strs_add(Strs *s, const char *v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = strdup(v);
}

static void
strs_free(Strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
mask(const char *id, char out[19])
{
    snprintf(out, 19, "%s", id);
    if (strlen(out) == 18)
        memset(out + 6, '*', 8);
}

static bool
masked_ok(const char *s)
{
    if (strlen(s) != 18)
        return false;
    for (int i = 0; i < 18; i++) {
        if (i >= 6 && i < 14) {
            if (s[i] != '*')
                return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (i == 17 && s[i] == 'X')))
            return false;
    }
    return true;
}

typedef struct TownCount {
    char code[32];
    long want, got;
} TownCount;

static TownCount *
town(TownCount *t, int *n, const char *code)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(t[i].code, code) == 0)
            return &t[i];
    if (*n >= 512)
        return NULL;
    snprintf(t[*n].code, sizeof t[*n].code, "%s", code);
    t[*n].want = t[*n].got = 0;
    return &t[(*n)++];
}

static int errors;

static void
bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
bad(const char *fmt, ...)
{
    errors++;
    if (errors > 40)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("workbooks: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static int
cmd_workbooks(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *dir = argv[2];
    Strs want = {0}, got = {0}, keys = {0};
    TownCount *towns = calloc(512, sizeof *towns);
    int ntowns = 0;
    /* the lists: full IDs, and the township where the list says */
    for (int i = 3; i < argc; i++) {
        Table t;
        if (!read_table(argv[i], RF_CSV, NULL, &t))
            return 1;
        int c_id = -1, c_town = -1;
        for (int c = 0; c < t.ncols[0]; c++) {
            if (strcmp(cell(&t, 0, c), "id_number") == 0)
                c_id = c;
            if (strcmp(cell(&t, 0, c), "township") == 0)
                c_town = c;
        }
        if (c_id < 0) {
            printf("workbooks: %s has no id_number column\n", argv[i]);
            return 1;
        }
        for (int r = 1; r < t.nrows; r++) {
            char m[19];
            mask(cell(&t, r, c_id), m);
            strs_add(&want, m);
            if (c_town >= 0) {
                TownCount *x = town(towns, &ntowns, cell(&t, r, c_town));
                if (x)
                    x->want++;
            }
        }
        table_free(&t);
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("workbooks: cannot open %s\n", dir);
        return 1;
    }
    struct dirent *de;
    int nbooks = 0;
    long households = 0;
    Strs books = {0};
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, "township_", 9) == 0 && l > 5 && strcmp(de->d_name + l - 5, ".xlsx") == 0)
            strs_add(&books, de->d_name);
    }
    closedir(d);
    if (books.n > 1)
        qsort(books.v, books.n, sizeof *books.v, cmp_str);
    for (size_t b = 0; b < books.n; b++) {
        char path[4096], csvpath[4096];
        snprintf(path, sizeof path, "%s/%s", dir, books.v[b]);
        snprintf(csvpath, sizeof csvpath, "%s/%.*s.csv", dir, (int) strlen(books.v[b]) - 5, books.v[b]);
        nbooks++;
        Meta m;
        Table raw, summary, twin;
        if (!read_meta(path, &m, &raw)) {
            bad("%s: no readable sheet %s", books.v[b], OUT_XLSX_META_SHEET);
            continue;
        }
        table_free(&raw);
        if (strcmp(m.masked, "yes") != 0)
            bad("%s: not masked", books.v[b]);
        if (!read_table(csvpath, RF_CSV, NULL, &twin)) {
            bad("%s: no CSV twin", books.v[b]);
            continue;
        }
        for (int c = 0; c < OXC_COUNT; c++)
            if (strcmp(cell(&twin, 0, c), OUT_XLSX_COLUMNS[c]) != 0)
                bad("%s: CSV twin column %d is \"%s\", not \"%s\"", books.v[b], c + 1, cell(&twin, 0, c),
                    OUT_XLSX_COLUMNS[c]);
        int twin_row = 1;
        long rows_here = 0;
        for (int s = 0; s < m.nsheets; s++) {
            Table t;
            if (!read_table(path, RF_XLSX, m.sheet[s], &t)) {
                bad("%s: sheet %s unreadable", books.v[b], m.sheet[s]);
                continue;
            }
            for (int c = 0; c < OXC_COUNT; c++)
                if (strcmp(cell(&t, 0, c), OUT_XLSX_COLUMNS[c]) != 0)
                    bad("%s/%s: column %d is \"%s\", not \"%s\"", books.v[b], m.sheet[s], c + 1, cell(&t, 0, c),
                        OUT_XLSX_COLUMNS[c]);
            Strs seen_hh = {0};
            const char *prev_hh = NULL;
            long hh_seq = 0;
            for (int r = 1; r < t.nrows; r++) {
                const char *hh = cell(&t, r, OXC_HOUSEHOLD), *id = cell(&t, r, OXC_ID);
                char where[400];
                snprintf(where, sizeof where, "%s/%s row %d", books.v[b], m.sheet[s], r + 1);
                if (atol(cell(&t, r, OXC_SEQ)) != r)
                    bad("%s: 序号 %s", where, cell(&t, r, OXC_SEQ));
                if (!masked_ok(id))
                    bad("%s: ID \"%s\" is not masked as 6 digits, 8 stars, 4 digits", where, id);
                strs_add(&got, id);
                if (prev_hh == NULL || strcmp(prev_hh, hh) != 0 || hh[0] == '\0') {
                    for (size_t k = 0; k < seen_hh.n && hh[0]; k++)
                        if (strcmp(seen_hh.v[k], hh) == 0)
                            bad("%s: household %s appears again after another one", where, hh);
                    if (prev_hh && strcmp(prev_hh, hh) > 0)
                        bad("%s: household %s after %s (not sorted)", where, hh, prev_hh);
                    strs_add(&seen_hh, hh);
                    hh_seq++;
                    households++;
                }
                prev_hh = cell(&t, r, OXC_HOUSEHOLD);
                if (atol(cell(&t, r, OXC_HH_SEQ)) != hh_seq)
                    bad("%s: 户序 %s, expected %ld", where, cell(&t, r, OXC_HH_SEQ), hh_seq);
                if (strcmp(cell(&t, r, OXC_VILLAGE), cell(&t, 1, OXC_VILLAGE)) != 0)
                    bad("%s: another village on the sheet", where);
                if (atol(cell(&t, r, OXC_KEY)) <= 0)
                    bad("%s: no row key", where);
                strs_add(&keys, cell(&t, r, OXC_KEY));
                /* the CSV twin has the same row at the same place */
                for (int c = 0; c < OXC_COUNT; c++)
                    if (strcmp(cell(&t, r, c), cell(&twin, twin_row, c)) != 0) {
                        bad("%s: CSV twin differs in column %s (\"%s\" / \"%s\")", where, OUT_XLSX_COLUMNS[c],
                            cell(&t, r, c), cell(&twin, twin_row, c));
                        break;
                    }
                twin_row++;
                rows_here++;
            }
            for (size_t k = 0; k < seen_hh.n; k++)
                free(seen_hh.v[k]);
            free(seen_hh.v);
            table_free(&t);
        }
        if (twin.nrows != twin_row)
            bad("%s: CSV twin has %d rows, the workbook %d", books.v[b], twin.nrows - 1, twin_row - 1);
        table_free(&twin);
        /* the summary's total */
        if (read_table(path, RF_XLSX, OUT_XLSX_SUMMARY_SHEET, &summary)) {
            bool found = false;
            for (int r = 0; r < summary.nrows; r++)
                if (strcmp(cell(&summary, r, 0), "合计") == 0) {
                    found = true;
                    if (atol(cell(&summary, r, 3)) != rows_here)
                        bad("%s: summary total %s, sheets %ld", books.v[b], cell(&summary, r, 3), rows_here);
                }
            if (!found)
                bad("%s: summary without a total", books.v[b]);
            table_free(&summary);
        }
        TownCount *x = town(towns, &ntowns, m.township);
        if (x)
            x->got += rows_here;
    }
    for (int i = 0; i < ntowns; i++)
        if (towns[i].want > 0 && towns[i].got < towns[i].want)
            bad("township %s: %ld rows in its workbook, at least %ld on the lists", towns[i].code, towns[i].got,
                towns[i].want);
    if (want.n > 1)
        qsort(want.v, want.n, sizeof *want.v, cmp_str);
    if (got.n)
        qsort(got.v, got.n, sizeof *got.v, cmp_str);
    if (want.n != got.n)
        bad("%zu rows in the workbooks, %zu on the lists", got.n, want.n);
    else
        for (size_t i = 0; i < want.n; i++)
            if (strcmp(want.v[i], got.v[i]) != 0) {
                bad("the workbooks' IDs differ from the lists' (first: %s / %s)", got.v[i], want.v[i]);
                break;
            }
    if (keys.n > 1) {
        qsort(keys.v, keys.n, sizeof *keys.v, cmp_str);
        for (size_t i = 1; i < keys.n; i++)
            if (strcmp(keys.v[i], keys.v[i - 1]) == 0) {
                bad("row key %s twice", keys.v[i]);
                break;
            }
    }
    printf("workbooks: %d townships, %zu rows in %ld households, lists %zu rows%s\n", nbooks, got.n, households,
           want.n, errors ? "" : "; all checks pass");
    strs_free(&want);
    strs_free(&got);
    strs_free(&keys);
    strs_free(&books);
    free(towns);
    return errors ? 1 : 0;
}

/* ---------------------------------------------------------------- dump */

static int
cmd_dump(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *sheet = OUT_XLSX_SUMMARY_SHEET;
    Meta m;
    Table raw, t;
    if (argc > 3) {
        sheet = argv[3];
        int k = atoi(argv[3]);
        if (k > 0) {
            if (!read_meta(argv[2], &m, &raw) || k > m.nsheets)
                return 1;
            table_free(&raw);
            sheet = m.sheet[k - 1];
        }
    }
    if (!read_table(argv[2], RF_XLSX, sheet, &t))
        return 1;
    for (int r = 0; r < t.nrows; r++) {
        for (int c = 0; c < t.ncols[r]; c++)
            printf("%s%s", c ? "\t" : "", cell(&t, r, c));
        printf("\n");
    }
    table_free(&t);
    return 0;
}

/* ---------------------------------------------------------------- clerk */

typedef struct Set {
    int  sheet, row;
    char outcome[64], date[16], note[256], key[32];
    bool is_key;
} Set;

/* A date the clerk typed: a date cell when it is one, else text as typed. */
static bool
real_date(const char *s, lxw_datetime *dt)
{
    int y, mo, dd;
    if (sscanf(s, "%d-%d-%d", &y, &mo, &dd) != 3 || y < 1900 || mo < 1 || mo > 12 || dd < 1 || dd > 31)
        return false;
    *dt = (lxw_datetime){y, mo, dd, 0, 0, 0};
    return true;
}

static void
copy_sheet(lxw_workbook *wb, const char *name, const Table *t, const Set *sets, int nsets, int sheet_no,
           lxw_format *datefmt)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols[r]; c++) {
            const char *v = cell(t, r, c);
            if (!v[0])
                continue;
            lxw_datetime dt;
            if (sheet_no > 0 && r > 0 && c == OXC_DATE && real_date(v, &dt)) {
                worksheet_write_datetime(ws, (lxw_row_t) r, (lxw_col_t) c, &dt, datefmt);
                continue;
            }
            worksheet_write_string(ws, (lxw_row_t) r, (lxw_col_t) c, v, NULL);
        }
    for (int i = 0; i < nsets; i++) {
        const Set *s = &sets[i];
        if (s->sheet != sheet_no)
            continue;
        lxw_row_t r = (lxw_row_t) s->row;
        if (s->is_key) {
            worksheet_write_string(ws, r, OXC_KEY, s->key, NULL);
            continue;
        }
        if (s->outcome[0])
            worksheet_write_string(ws, r, OXC_OUTCOME, s->outcome, NULL);
        lxw_datetime dt;
        if (s->date[0] && real_date(s->date, &dt)) {
            worksheet_write_datetime(ws, r, OXC_DATE, &dt, datefmt);
        } else if (s->date[0]) {
            worksheet_write_string(ws, r, OXC_DATE, s->date, NULL);
        }
        if (s->note[0])
            worksheet_write_string(ws, r, OXC_NOTE, s->note, NULL);
        printf("%d:%d %s\n", s->sheet, s->row, cell(t, s->row, OXC_KEY));
    }
}

static int
cmd_clerk(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    Set sets[256];
    int nsets = 0;
    char meta_set[16][128];
    int nmeta = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < 256) {
            Set *s = &sets[nsets++];
            memset(s, 0, sizeof *s);
            char *spec = strdup(argv[++i]);
            char *f[5] = {0};
            int k = 0;
            for (char *p = spec; p && k < 5; k++) {   /* empty fields count: 1:2:已联系::备注 */
                f[k] = p;
                p = strchr(p, ':');
                if (p)
                    *p++ = '\0';
            }
            s->sheet = f[0] ? atoi(f[0]) : 0;
            s->row = f[1] ? atoi(f[1]) : 0;
            snprintf(s->outcome, sizeof s->outcome, "%s", f[2] ? f[2] : "");
            snprintf(s->date, sizeof s->date, "%s", f[3] ? f[3] : "");
            snprintf(s->note, sizeof s->note, "%s", f[4] ? f[4] : "");
            free(spec);
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && nsets < 256) {
            Set *s = &sets[nsets++];
            memset(s, 0, sizeof *s);
            s->is_key = true;
            if (sscanf(argv[++i], "%d:%d:%31s", &s->sheet, &s->row, s->key) != 3)
                return 2;
        } else if (strcmp(argv[i], "--meta") == 0 && i + 1 < argc && nmeta < 16) {
            snprintf(meta_set[nmeta++], sizeof meta_set[0], "%s", argv[++i]);
        } else {
            return 2;
        }
    }
    Meta m;
    Table meta, summary;
    if (!read_meta(argv[2], &m, &meta) || !read_table(argv[2], RF_XLSX, OUT_XLSX_SUMMARY_SHEET, &summary))
        return 1;
    lxw_workbook *wb = workbook_new(argv[3]);
    lxw_format *datefmt = workbook_add_format(wb);
    format_set_num_format(datefmt, "yyyy-mm-dd");
    copy_sheet(wb, OUT_XLSX_SUMMARY_SHEET, &summary, sets, nsets, 0, datefmt);
    for (int s = 0; s < m.nsheets; s++) {
        Table t;
        if (!read_table(argv[2], RF_XLSX, m.sheet[s], &t))
            return 1;
        copy_sheet(wb, m.sheet[s], &t, sets, nsets, s + 1, datefmt);
        table_free(&t);
    }
    for (int i = 0; i < nmeta; i++) {
        char *eq = strchr(meta_set[i], '=');
        if (eq == NULL)
            return 2;
        *eq = '\0';
        for (int r = 0; r < meta.nrows; r++)
            if (strcmp(cell(&meta, r, 0), meta_set[i]) == 0) {
                free(meta.cell[r][1]);
                meta.cell[r][1] = strdup(eq + 1);
            }
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, OUT_XLSX_META_SHEET);
    for (int r = 0; r < meta.nrows; r++)
        for (int c = 0; c < meta.ncols[r]; c++)
            if (cell(&meta, r, c)[0])
                worksheet_write_string(ws, (lxw_row_t) r, (lxw_col_t) c, cell(&meta, r, c), NULL);
    worksheet_hide(ws);
    table_free(&meta);
    table_free(&summary);
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : 1;
}

/* ---------------------------------------------------------------- fbevidence */

static int
cmd_fbevidence(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    CbError err = {0};
    PGconn *conn = db_connect(NULL, &err);
    Vec v;
    vec_init(&v, sizeof(LcFeedbackEvidence));
    if (conn == NULL || !lifecycle_feedback_evidence(conn, date_parse(argv[2], strlen(argv[2])), &v, &err)) {
        cb_error_print(&err);
        db_close(conn);
        return 1;
    }
    int n[2] = {0, 0};
    for (size_t i = 0; i < v.len; i++) {
        const LcFeedbackEvidence *e = &VEC_AT(&v, LcFeedbackEvidence, i);
        n[e->kind == LC_FB_DEATH ? 0 : 1]++;
        if (e->key == PERSON_KEY_NONE || e->feedback_id <= 0 || e->recorded == DAY_NONE)
            n[0] = n[1] = -1000;
    }
    printf("death %d moved_out %d\n", n[0], n[1]);
    vec_free(&v);
    db_close(conn);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: outcheck png|xsd|workbooks|dump|clerk ...\n");
        return 2;
    }
    int rc = 2;
    if (strcmp(argv[1], "png") == 0)
        rc = cmd_png(argc, argv);
    else if (strcmp(argv[1], "xsd") == 0)
        rc = cmd_xsd(argc, argv);
    else if (strcmp(argv[1], "workbooks") == 0)
        rc = cmd_workbooks(argc, argv);
    else if (strcmp(argv[1], "dump") == 0)
        rc = cmd_dump(argc, argv);
    else if (strcmp(argv[1], "clerk") == 0)
        rc = cmd_clerk(argc, argv);
    else if (strcmp(argv[1], "fbevidence") == 0)
        rc = cmd_fbevidence(argc, argv);
    if (rc == 2)
        fprintf(stderr, "outcheck: bad usage (see the comment at the top of tests/tools/outcheck.c)\n");
    return rc;
}
