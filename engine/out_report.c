#include "out_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "factkind.h"
#include "idnum.h"

#define TREND_NIGHTS 30

void
out_report_file_name(Day asof, char *out, size_t outsize)
{
    char d[9];
    out_day_compact(asof, d);
    snprintf(out, outsize, "report_%s.html", d);
}

/* ---- history ---- */

void
out_history_init(OutHistory *h)
{
    vec_init(&h->trend, sizeof(OutTrendPoint));
    vec_init(&h->cohort, sizeof(OutCohortMember));
    vec_init(&h->feedback, sizeof(OutFeedbackCount));
    h->cohort_asof = DAY_NONE;
}

void
out_history_free(OutHistory *h)
{
    vec_free(&h->trend);
    vec_free(&h->cohort);
    vec_free(&h->feedback);
}

static Day
parse_day(const char *s)
{
    return s && *s ? date_parse(s, strlen(s)) : DAY_NONE;
}

bool
out_history_load(PGconn *conn, Day asof, int nights, OutHistory *h, CbError *err)
{
    char asof_s[11], n_s[16];
    date_format(asof, asof_s);
    snprintf(n_s, sizeof n_s, "%d", nights);
    const char *p2[] = {asof_s, n_s};
    PGresult *res = NULL;
    if (!db_exec_params(conn, "SELECT asof, list_name, rows, new_rows FROM canbao.report_trend($1::date, $2::int)",
                        2, p2, &res, err))
        return false;
    for (int t = 0; t < PQntuples(res); t++) {
        OutTrendPoint *p = vec_push(&h->trend);
        p->asof = parse_day(PQgetvalue(res, t, 0));
        snprintf(p->list, sizeof p->list, "%s", PQgetvalue(res, t, 1));
        p->rows = atoll(PQgetvalue(res, t, 2));
        p->new_rows = atoll(PQgetvalue(res, t, 3));
    }
    PQclear(res);
    const char *p1[] = {asof_s, "unenrolled_eligible"};
    if (!db_exec_params(conn, "SELECT cohort_asof, id_number, coalesce(township, '') "
                              "FROM canbao.report_cohort($1::date, $2)", 2, p1, &res, err))
        return false;
    for (int t = 0; t < PQntuples(res); t++) {
        h->cohort_asof = parse_day(PQgetvalue(res, t, 0));
        OutCohortMember *m = vec_push(&h->cohort);
        const char *id = PQgetvalue(res, t, 1);
        m->key = strlen(id) >= 17 ? idnum_key(id) : PERSON_KEY_NONE;   /* idnum_key reads 17 */
        snprintf(m->township, sizeof m->township, "%s", PQgetvalue(res, t, 2));
    }
    PQclear(res);
    if (!db_exec_params(conn, "SELECT township, outcome, n FROM canbao.report_feedback($1::date)", 1, p1,
                        &res, err))
        return false;
    for (int t = 0; t < PQntuples(res); t++) {
        OutFeedbackCount *c = vec_push(&h->feedback);
        snprintf(c->township, sizeof c->township, "%s", PQgetvalue(res, t, 0));
        snprintf(c->outcome, sizeof c->outcome, "%s", PQgetvalue(res, t, 1));
        c->n = atoll(PQgetvalue(res, t, 2));
    }
    PQclear(res);
    return true;
}

/* ---- output helpers ---- */

static void
esc(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*p, f);
        }
    }
}

/* 1234567 → "1,234,567" */
static const char *
num(char *buf, int64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long) (v < 0 ? -v : v));
    size_t n = strlen(tmp), o = 0;
    if (v < 0)
        buf[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *
pct(char *buf, int64_t a, int64_t b)
{
    if (b <= 0)
        snprintf(buf, 16, "–");
    else
        snprintf(buf, 16, "%.1f%%", 100.0 * (double) a / (double) b);
    return buf;
}

/* ---- townships ---- */

#define NOUT 7
static const char *const outcomes[NOUT] = {"已联系", "已参保", "拒绝", "外出务工", "已迁出", "已死亡", "信息有误"};

typedef struct Town {
    const char *code, *name;
    int64_t enrolled, unenrolled, prison, fresh;
    int64_t cohort, c_enrolled, c_still, c_other;
    int64_t service, staff, villages;
    bool    from_list;
    int64_t fb[NOUT];
} Town;

static int
cmp_town(const void *a, const void *b)
{
    return strcmp(((const Town *) a)->code, ((const Town *) b)->code);
}

/* strcmp of the first nine characters of key (a division code) with a township's code */
static int
cmp_code9(const void *key, const void *town)
{
    const unsigned char *a = key, *b = (const unsigned char *) ((const Town *) town)->code;
    size_t i = 0;
    while (i < 9 && a[i] != '\0' && a[i] == b[i])
        i++;
    return (i < 9 ? a[i] : 0) - b[i];
}

/* the township of a division code (called for every row and person: no copy of the key) */
static Town *
find_town(Town *t, int n, const char *code9)
{
    return n ? bsearch(code9 ? code9 : "", t, (size_t) n, sizeof *t, cmp_code9) : NULL;
}

static bool
live_facts(const Store *st, const Person *p)
{
    const Fact *f = store_facts(st, p);
    for (uint32_t i = 0; i < p->fact_count; i++)
        if (f[i].kind == FK_RESIDENT_PENSION &&
            (f[i].code == RP_CONTRIBUTING || f[i].code == RP_RECEIVING || f[i].code == RP_SUSPENDED))
            return true;
    return false;
}

void
out_report_enrolled_pass(const Store *st, uint8_t *e)
{
    const Person *ps = st->persons.data;
    for (size_t i = 0; i < st->persons.len; i++)
        if (store_in_pass(st, ps[i].key))
            e[i] = live_facts(st, &ps[i]);
}

static bool
live_enrolment(const OutReportInput *in, const Person *p)
{
    return in->enrolled ? in->enrolled[p - (const Person *) in->st->persons.data] != 0 : live_facts(in->st, p);
}

static int
cmp_key(const void *a, const void *b)
{
    PersonKey x = *(const PersonKey *) a, y = *(const PersonKey *) b;
    return x < y ? -1 : x > y;
}

static int
list_new(const OutReportInput *in, const ListOut *lo)
{
    if (in->lc == NULL || lo == NULL)
        return 0;
    int l = (int) (lo - in->ls->lists), n = 0;
    if (l >= in->lc->nlists || in->lc->rows[l] == NULL)
        return 0;
    for (size_t i = 0; i < lo->rows.len; i++)
        n += in->lc->rows[l][i].is_new;
    return n;
}

/* Collects the townships of the city and their figures.  Returns the count; *out is malloc'ed. */
static int
collect_towns(const OutReportInput *in, Town **out)
{
    const OutPlaces *pl = in->pl;
    const ListSet *ls = in->ls;
    size_t cap = 16 + (pl ? pl->items.len : 0);
    const ListOut *un = out_find_list(ls, "unenrolled_eligible");
    const ListOut *pr = out_find_list(ls, "unenrolled_in_prison");
    const ListOut *sf = out_find_list(ls, "township_staffing");
    cap += (un ? un->rows.len : 0) + (pr ? pr->rows.len : 0) + (sf ? sf->rows.len : 0);
    Town *t = xcalloc(cap, sizeof *t);
    int n = 0;
    size_t citylen = in->ri->city ? strlen(in->ri->city) : 0;
    for (size_t i = 0; pl && i < pl->items.len; i++) {
        const OutPlace *p = &VEC_AT(&pl->items, OutPlace, i);
        if (out_place_is_township(p) && (citylen == 0 || strncmp(p->code, in->ri->city, citylen) == 0)) {
            t[n].code = p->code;
            t[n].name = p->name;
            n++;
        }
    }
    qsort(t, (size_t) n, sizeof *t, cmp_town);
    /* townships the lists name that the reference list lacks */
    const ListOut *both[2] = {un, pr};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; both[k] && i < both[k]->rows.len; i++) {
            const ListRow *r = &VEC_AT(&both[k]->rows, ListRow, i);
            if (r->township && r->township[0] && find_town(t, n, r->township) == NULL) {
                t[n].code = r->township;
                t[n].name = "";
                n++;
                qsort(t, (size_t) n, sizeof *t, cmp_town);
            }
        }
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; both[k] && i < both[k]->rows.len; i++) {
            const ListRow *r = &VEC_AT(&both[k]->rows, ListRow, i);
            Town *x = find_town(t, n, r->township);
            if (x == NULL)
                continue;
            if (k == 0) {
                x->unenrolled++;
                int l = (int) (un - ls->lists);
                if (in->lc && l < in->lc->nlists && in->lc->rows[l] && in->lc->rows[l][i].is_new)
                    x->fresh++;
            } else {
                x->prison++;
            }
        }
    /* enrolled: a live resident enrolment, whatever the register status (as the staffing rule) */
    if (in->st) {
        /* one search per division: the register's codes are one copy each (load.c), so a
         * village's persons share the pointer (a bsearch for each person was 2 s of a thread
         * at 7 M persons); another pointer to the same code only misses the memo */
        enum { MEMO_BITS = 12 };
        const char **memo_code = xcalloc((size_t) 1 << MEMO_BITS, sizeof *memo_code);
        Town **memo_town = xcalloc((size_t) 1 << MEMO_BITS, sizeof *memo_town);
        const Person *ps = in->st->persons.data;
        for (size_t i = 0; i < in->st->persons.len; i++) {
            const char *d = ps[i].division;
            if (d == NULL)
                continue;
            size_t h = (size_t) (((uintptr_t) d * 0x9E3779B97F4A7C15ull) >> (64 - MEMO_BITS));
            if (memo_code[h] != d) {
                memo_code[h] = d;
                memo_town[h] = find_town(t, n, d);
            }
            Town *x = memo_town[h];
            if (x && live_enrolment(in, &ps[i]))
                x->enrolled++;
        }
        free(memo_code);
        free(memo_town);
    }
    /* villages from the reference list */
    for (size_t i = 0; pl && i < pl->items.len; i++) {
        const OutPlace *p = &VEC_AT(&pl->items, OutPlace, i);
        if (strcmp(p->level, "村") == 0) {
            Town *x = find_town(t, n, p->parent);
            if (x)
                x->villages++;
        }
    }
    /* staffing: the list's figures when the run has them */
    int per = in->staff_per > 0 ? in->staff_per : 6000;
    for (int i = 0; i < n; i++) {
        t[i].service = t[i].enrolled + t[i].unenrolled + t[i].prison;
        t[i].staff = (t[i].service + per - 1) / per;
        if (t[i].staff < 1)
            t[i].staff = 1;
    }
    if (sf) {
        int c_obj = out_col(sf, "service_objects"), c_staff = out_col(sf, "township_staff"),
            c_vil = out_col(sf, "villages");
        for (size_t i = 0; i < sf->rows.len; i++) {
            const ListRow *r = &VEC_AT(&sf->rows, ListRow, i);
            Town *x = find_town(t, n, out_val(r, 0));
            if (x == NULL)
                continue;
            x->from_list = true;
            if (c_obj >= 0)
                x->service = atoll(out_val(r, c_obj));
            if (c_staff >= 0)
                x->staff = atoll(out_val(r, c_staff));
            if (c_vil >= 0)
                x->villages = atoll(out_val(r, c_vil));
        }
    }
    /* the cohort of a month ago */
    if (in->hist && in->hist->cohort.len > 0) {
        size_t nk = un ? un->rows.len : 0;
        PersonKey *now = xmalloc((nk + 1) * sizeof *now);
        for (size_t i = 0; i < nk; i++)
            now[i] = VEC_AT(&un->rows, ListRow, i).key;
        qsort(now, nk, sizeof *now, cmp_key);
        for (size_t i = 0; i < in->hist->cohort.len; i++) {
            const OutCohortMember *m = &VEC_AT(&in->hist->cohort, OutCohortMember, i);
            Town *x = find_town(t, n, m->township);
            if (x == NULL)
                continue;
            x->cohort++;
            const Person *p = in->st ? store_person(in->st, m->key) : NULL;
            if (p && live_enrolment(in, p))
                x->c_enrolled++;
            else if (nk && bsearch(&m->key, now, nk, sizeof *now, cmp_key))
                x->c_still++;
            else
                x->c_other++;
        }
        free(now);
    }
    if (in->hist)
        for (size_t i = 0; i < in->hist->feedback.len; i++) {
            const OutFeedbackCount *c = &VEC_AT(&in->hist->feedback, OutFeedbackCount, i);
            Town *x = find_town(t, n, c->township);
            for (int o = 0; x && o < NOUT; o++)
                if (strcmp(outcomes[o], c->outcome) == 0)
                    x->fb[o] += c->n;
        }
    *out = t;
    return n;
}

/* ---- SVG charts ---- */

#define FONT "font-family=\"'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif\""

/* Horizontal bars: one per label, value / max of the width, the value's text at the end.  When
 * step > 0, vertical grid lines every step (e.g. every 6000 service objects). */
static void
svg_hbars(FILE *f, const char *title, const char *const *labels, const double *values,
          const char *const *texts, int n, double max, double step, const char *color)
{
    int row = 26, left = 150, width = 760, height = 40 + n * row + 20;
    double w = width - left - 110;
    if (max <= 0)
        max = 1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" " FONT " font-size=\"13\">\n", width, height, width, height);
    fprintf(f, "<title>");
    esc(f, title);
    fprintf(f, "</title>\n<text x=\"0\" y=\"18\" font-size=\"15\" font-weight=\"bold\">");
    esc(f, title);
    fprintf(f, "</text>\n");
    if (step > 0)
        for (double g = step; g <= max && g / step < 200; g += step) {
            double x = left + w * g / max;
            fprintf(f, "<line x1=\"%.1f\" y1=\"32\" x2=\"%.1f\" y2=\"%d\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>\n",
                    x, x, 36 + n * row);
        }
    for (int i = 0; i < n; i++) {
        int y = 36 + i * row;
        double bw = values[i] > 0 ? w * values[i] / max : 0;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 8, y + 15);
        esc(f, labels[i]);
        fprintf(f, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left, y + 3,
                bw, row - 8, color);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\">", left + bw + 6, y + 15);
        esc(f, texts[i]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<line x1=\"%d\" y1=\"32\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left, left, 36 + n * row);
    fprintf(f, "</svg>\n");
}

/* A line chart of up to 3 series over nights (x labels MM-DD), with dots and a legend. */
static void
svg_lines(FILE *f, const char *title, const Day *nights, int n, const double *const *series,
          const char *const *names, const char *const *colors, int ns)
{
    int width = 560, height = 260, left = 64, right = 16, top = 44, bottom = 40;
    double pw = width - left - right, ph = height - top - bottom;
    double max = 0;
    for (int s = 0; s < ns; s++)
        for (int i = 0; i < n; i++)
            if (series[s][i] > max)
                max = series[s][i];
    /* a round top: 1, 2 or 5 times a power of ten */
    double top_v = 1;
    while (top_v < max)
        top_v *= 10;
    if (top_v / 5 >= max && max > 0)
        top_v /= 5;
    else if (top_v / 2 >= max && max > 0)
        top_v /= 2;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" " FONT " font-size=\"12\">\n", width, height, width, height);
    fprintf(f, "<title>");
    esc(f, title);
    fprintf(f, "</title>\n<text x=\"0\" y=\"16\" font-size=\"15\" font-weight=\"bold\">");
    esc(f, title);
    fprintf(f, "</text>\n");
    for (int s = 0; s < ns; s++) {
        int lx = left + s * 170;
        fprintf(f, "<rect x=\"%d\" y=\"24\" width=\"14\" height=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"31\">", lx,
                colors[s], lx + 18);
        esc(f, names[s]);
        fprintf(f, "</text>\n");
    }
    for (int g = 0; g <= 4; g++) {
        double y = top + ph - ph * g / 4.0;
        char b[32];
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, width - right, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left - 6, y + 4,
                num(b, (int64_t) llround(top_v * g / 4.0)));
    }
    double dx = n > 1 ? pw / (n - 1) : 0;
    int every = n > 12 ? (n + 11) / 12 : 1;
    for (int i = 0; i < n; i++) {
        double x = left + (n > 1 ? dx * i : pw / 2);
        if (i % every == 0 || i == n - 1) {
            int y, m, d;
            date_to_ymd(nights[i], &y, &m, &d);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%02d-%02d</text>\n", x,
                    height - bottom + 16, m, d);
        }
    }
    for (int s = 0; s < ns; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[s]);
        for (int i = 0; i < n; i++) {
            double x = left + (n > 1 ? dx * i : pw / 2);
            double y = top + ph - (top_v > 0 ? ph * series[s][i] / top_v : 0);
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", x, y);
        }
        fprintf(f, "\"/>\n");
        for (int i = 0; i < n; i++) {
            double x = left + (n > 1 ? dx * i : pw / 2);
            double y = top + ph - (top_v > 0 ? ph * series[s][i] / top_v : 0);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, colors[s]);
        }
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, top, left, top + ph);
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, top + ph,
            width - right, top + ph);
    fprintf(f, "</svg>\n");
}

/* ---- page sections ---- */

static const char *css =
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;"
    "margin:24px;color:#222;background:#fff;max-width:1120px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px solid #2f5597;padding-bottom:4px;"
    "margin-top:28px}\n"
    ".meta{color:#555;font-size:13px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
    ".card{border:1px solid #c9d3e6;background:#f3f6fb;border-radius:6px;padding:10px 14px;min-width:150px}\n"
    ".card .v{font-size:26px;font-weight:bold;color:#2f5597}.card .l{font-size:13px;color:#444}\n"
    ".card .s{font-size:12px;color:#a00}\n"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}\n"
    "th,td{border:1px solid #ccc;padding:4px 8px}th{background:#d9e1f2}td.n{text-align:right}\n"
    "tr.total td{font-weight:bold;background:#eee}\n"
    ".bar{display:inline-block;height:10px;background:#c00000;vertical-align:middle}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}\n"
    ".note{font-size:12px;color:#555}\n";

static void
card(FILE *f, const char *label, int64_t v, const char *sub)
{
    char b[32];
    fprintf(f, "<div class=\"card\"><div class=\"v\">%s</div><div class=\"l\">", num(b, v));
    esc(f, label);
    fprintf(f, "</div>");
    if (sub && sub[0]) {
        fprintf(f, "<div class=\"s\">");
        esc(f, sub);
        fprintf(f, "</div>");
    }
    fprintf(f, "</div>\n");
}

static int64_t
list_rows(const ListSet *ls, const char *name)
{
    const ListOut *lo = out_find_list(ls, name);
    return lo ? (int64_t) lo->rows.len : 0;
}

static void
section_cards(FILE *f, const OutReportInput *in)
{
    const ListSet *ls = in->ls;
    int64_t reg = 0;
    size_t citylen = in->ri->city ? strlen(in->ri->city) : 0;
    if (in->st) {
        const Person *ps = in->st->persons.data;
        for (size_t i = 0; i < in->st->persons.len; i++)
            reg += ps[i].status == REG_ACTIVE && ps[i].division &&
                   (citylen == 0 || strncmp(ps[i].division, in->ri->city, citylen) == 0);
    }
    char sub[128];
    fprintf(f, "<div class=\"cards\">\n");
    card(f, "户籍人口（在册）", reg, NULL);
    const ListOut *un = out_find_list(ls, "unenrolled_eligible");
    snprintf(sub, sizeof sub, "本期新增 %d 人", list_new(in, un));
    card(f, "应参未参", list_rows(ls, "unenrolled_eligible"), sub);
    const ListOut *db = out_find_list(ls, "deceased_beneficiaries");
    snprintf(sub, sizeof sub, "本期新发现 %d 人", list_new(in, db));
    card(f, "待遇领取人员死亡", list_rows(ls, "deceased_beneficiaries"), sub);
    if (in->alerts) {
        snprintf(sub, sizeof sub, "新 %d，待核实 %d（新 %d）", in->alerts->fresh_confirmed, in->alerts->to_verify,
                 in->alerts->fresh_to_verify);
        card(f, "暂停发放提醒（已确认）", in->alerts->confirmed, sub);
    }
    card(f, "退回记录（无法读取或匹配）", in->st ? (int64_t) in->st->rejects.len : 0, NULL);
    fprintf(f, "</div>\n");
}

static void
section_coverage(FILE *f, const OutReportInput *in, Town *t, int n)
{
    char b1[32], b2[32], b3[32], b4[32], b5[16];
    fprintf(f, "<h2>各乡镇（街道）参保率</h2>\n<p class=\"note\">参保率 = 已参保 ÷ (已参保 + 应参未参)；"
               "已参保：城乡居民养老保险在缴、领取或暂停；应参未参含服刑人员。</p>\n");
    fprintf(f, "<table><tr><th>代码</th><th>乡镇（街道）</th><th>已参保</th><th>应参未参</th><th>其中服刑</th>"
               "<th>本期新增</th><th>参保率</th></tr>\n");
    int64_t te = 0, tu = 0, tp = 0, tf = 0;
    const char **labels = xcalloc((size_t) n + 1, sizeof *labels);
    const char **texts = xcalloc((size_t) n + 1, sizeof *texts);
    double *vals = xcalloc((size_t) n + 1, sizeof *vals);
    char (*tx)[16] = xcalloc((size_t) n + 1, 16);
    for (int i = 0; i < n; i++) {
        int64_t elig = t[i].enrolled + t[i].unenrolled + t[i].prison;
        fprintf(f, "<tr><td>%s</td><td>", t[i].code);
        esc(f, t[i].name);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td></tr>\n",
                num(b1, t[i].enrolled), num(b2, t[i].unenrolled + t[i].prison), num(b3, t[i].prison),
                num(b4, t[i].fresh), pct(b5, t[i].enrolled, elig));
        te += t[i].enrolled;
        tu += t[i].unenrolled + t[i].prison;
        tp += t[i].prison;
        tf += t[i].fresh;
        labels[i] = t[i].name[0] ? t[i].name : t[i].code;
        vals[i] = elig > 0 ? 100.0 * (double) t[i].enrolled / (double) elig : 0;
        pct(tx[i], t[i].enrolled, elig);
        texts[i] = tx[i];
    }
    fprintf(f, "<tr class=\"total\"><td></td><td>合计</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
               "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n</table>\n",
            num(b1, te), num(b2, tu), num(b3, tp), num(b4, tf), pct(b5, te, te + tu));
    svg_hbars(f, "参保率（%）", labels, vals, texts, n, 100, 10, "#2f5597");
    free(labels);
    free(texts);
    free(vals);
    free(tx);
    (void) in;
}

static void
section_outreach(FILE *f, const OutReportInput *in, Town *t, int n)
{
    char b1[32], b2[32], b3[32], b4[32], b5[16], d[11];
    fprintf(f, "<h2>动员成效（考核用，实施细则第十九条）</h2>\n");
    if (in->hist == NULL || in->hist->cohort_asof == DAY_NONE) {
        fprintf(f, "<p>尚无一个月前的名单（数据库中没有 %s 以前一个月的运行记录），本期不计算。</p>\n",
                (date_format(date_add_months(in->ri->asof, -1), d), d));
    } else {
        date_format(in->hist->cohort_asof, d);
        fprintf(f, "<p class=\"note\">%s 应参未参名单上的人员，到本期的情况：已参保 = 现有城乡居民养老保险参保记录；"
                   "仍未参保 = 仍在本期名单上；其他 = 已不在名单上（迁出、死亡、转入职工保险等）。</p>\n", d);
        fprintf(f, "<table><tr><th>乡镇（街道）</th><th>一个月前名单</th><th>已参保</th><th>仍未参保</th><th>其他</th>"
                   "<th>参保转化率</th></tr>\n");
        int64_t a = 0, e = 0, s = 0, o = 0;
        for (int i = 0; i < n; i++) {
            fprintf(f, "<tr><td>");
            esc(f, t[i].name[0] ? t[i].name : t[i].code);
            fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                       "<td class=\"n\">%s</td></tr>\n",
                    num(b1, t[i].cohort), num(b2, t[i].c_enrolled), num(b3, t[i].c_still), num(b4, t[i].c_other),
                    pct(b5, t[i].c_enrolled, t[i].cohort));
            a += t[i].cohort;
            e += t[i].c_enrolled;
            s += t[i].c_still;
            o += t[i].c_other;
        }
        fprintf(f, "<tr class=\"total\"><td>合计</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n</table>\n",
                num(b1, a), num(b2, e), num(b3, s), num(b4, o), pct(b5, e, a));
    }
    /* the townships' answers */
    bool any = false;
    for (int i = 0; i < n && !any; i++)
        for (int k = 0; k < NOUT; k++)
            any |= t[i].fb[k] > 0;
    fprintf(f, "<h3>乡镇反馈（各行最新结果）</h3>\n");
    if (!any) {
        fprintf(f, "<p>尚未收到乡镇反馈。</p>\n");
        return;
    }
    fprintf(f, "<table><tr><th>乡镇（街道）</th>");
    for (int k = 0; k < NOUT; k++)
        fprintf(f, "<th>%s</th>", outcomes[k]);
    fprintf(f, "</tr>\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "<tr><td>");
        esc(f, t[i].name[0] ? t[i].name : t[i].code);
        fprintf(f, "</td>");
        for (int k = 0; k < NOUT; k++)
            fprintf(f, "<td class=\"n\">%s</td>", num(b1, t[i].fb[k]));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void
section_staffing(FILE *f, const OutReportInput *in, Town *t, int n)
{
    int per = in->staff_per > 0 ? in->staff_per : 6000;
    char b1[32], b2[32], b3[32];
    bool from_list = false;
    for (int i = 0; i < n; i++)
        from_list |= t[i].from_list;
    fprintf(f, "<h2>经办人员配备（实施细则第十六条：每 %d 名服务对象 1 人，每个行政村 1 名协办员）</h2>\n", per);
    fprintf(f, "<p class=\"note\">服务对象 = 已参保 + 应参未参。数据来源：%s。</p>\n",
            from_list ? "本期 township_staffing 名单" : "本报告按上述口径计算（本期无 township_staffing 名单）");
    fprintf(f, "<table><tr><th>乡镇（街道）</th><th>服务对象</th><th>应配经办人员</th><th>行政村（应配协办员）</th></tr>\n");
    const char **labels = xcalloc((size_t) n + 1, sizeof *labels);
    const char **texts = xcalloc((size_t) n + 1, sizeof *texts);
    double *vals = xcalloc((size_t) n + 1, sizeof *vals);
    char (*tx)[48] = xcalloc((size_t) n + 1, 48);
    double max = 0;
    for (int i = 0; i < n; i++) {
        fprintf(f, "<tr><td>");
        esc(f, t[i].name[0] ? t[i].name : t[i].code);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                num(b1, t[i].service), num(b2, t[i].staff), num(b3, t[i].villages));
        labels[i] = t[i].name[0] ? t[i].name : t[i].code;
        vals[i] = (double) t[i].service;
        snprintf(tx[i], 48, "%s 人，需 %lld 名", num(b1, t[i].service), (long long) t[i].staff);
        texts[i] = tx[i];
        if (vals[i] > max)
            max = vals[i];
    }
    fprintf(f, "</table>\n");
    char title[128];
    snprintf(title, sizeof title, "服务对象（虚线：每 %d 人）", per);
    svg_hbars(f, title, labels, vals, texts, n, max > 0 ? max * 1.05 : 1, per, "#548235");
    free(labels);
    free(texts);
    free(vals);
    free(tx);
}

static int
cmp_day(const void *a, const void *b)
{
    Day x = *(const Day *) a, y = *(const Day *) b;
    return x < y ? -1 : x > y;
}

static void
section_trend(FILE *f, const OutReportInput *in)
{
    /* nights: history, then tonight */
    size_t nh = in->hist ? in->hist->trend.len : 0;
    Day *nights = xmalloc((nh + 1) * sizeof *nights);
    int n = 0;
    for (size_t i = 0; i < nh; i++) {
        Day d = VEC_AT(&in->hist->trend, OutTrendPoint, i).asof;
        if (d < in->ri->asof)
            nights[n++] = d;
    }
    qsort(nights, (size_t) n, sizeof *nights, cmp_day);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || nights[m - 1] != nights[i])
            nights[m++] = nights[i];
    n = m;
    nights[n++] = in->ri->asof;
    double *un = xcalloc((size_t) n, sizeof(double)), *dead = xcalloc((size_t) n, sizeof(double)),
           *dead_new = xcalloc((size_t) n, sizeof(double)), *un_new = xcalloc((size_t) n, sizeof(double));
    for (size_t i = 0; i < nh; i++) {
        const OutTrendPoint *p = &VEC_AT(&in->hist->trend, OutTrendPoint, i);
        Day *hit = bsearch(&p->asof, nights, (size_t) n - 1, sizeof *nights, cmp_day);
        if (hit == NULL)
            continue;
        int k = (int) (hit - nights);
        if (strcmp(p->list, "unenrolled_eligible") == 0) {
            un[k] = (double) p->rows;
            un_new[k] = (double) p->new_rows;
        } else if (strcmp(p->list, "deceased_beneficiaries") == 0 ||
                   strcmp(p->list, "deceased_contributors") == 0) {
            dead[k] += (double) p->rows;
            dead_new[k] += (double) p->new_rows;
        }
    }
    un[n - 1] = (double) list_rows(in->ls, "unenrolled_eligible");
    un_new[n - 1] = list_new(in, out_find_list(in->ls, "unenrolled_eligible"));
    dead[n - 1] = (double) (list_rows(in->ls, "deceased_beneficiaries") + list_rows(in->ls, "deceased_contributors"));
    dead_new[n - 1] = list_new(in, out_find_list(in->ls, "deceased_beneficiaries")) +
                      list_new(in, out_find_list(in->ls, "deceased_contributors"));
    fprintf(f, "<h2>近期趋势（最近 %d 个夜间运行）</h2>\n<div class=\"charts\">\n", n);
    const double *s1[] = {un, un_new};
    const char *n1[] = {"应参未参", "当晚新增"};
    const char *c1[] = {"#2f5597", "#ed7d31"};
    svg_lines(f, "应参未参人数", nights, n, s1, n1, c1, 2);
    const double *s2[] = {dead, dead_new};
    const char *n2[] = {"名单上的死亡人员", "当晚新发现"};
    const char *c2[] = {"#7f7f7f", "#c00000"};
    svg_lines(f, "发现死亡（待遇领取和缴费人员）", nights, n, s2, n2, c2, 2);
    fprintf(f, "</div>\n");
    free(nights);
    free(un);
    free(dead);
    free(dead_new);
    free(un_new);
}

static void
section_lists(FILE *f, const OutReportInput *in)
{
    char b1[32], b2[32];
    fprintf(f, "<h2>各名单行数</h2>\n<table><tr><th>名单</th><th>名称</th><th>行数</th><th>本期新增</th></tr>\n");
    for (int i = 0; i < in->ls->n; i++) {
        const ListOut *lo = &in->ls->lists[i];
        fprintf(f, "<tr><td>");
        esc(f, lo->title);
        if (in->ri->deaths_incomplete && out_col(lo, "death_date") >= 0)
            fprintf(f, "（不完整）");
        fprintf(f, "</td><td><code>");
        esc(f, lo->name);
        fprintf(f, "</code></td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", num(b1, (int64_t) lo->rows.len),
                num(b2, list_new(in, lo)));
    }
    fprintf(f, "</table>\n");
    if (in->alerts)
        fprintf(f, "<p class=\"note\">暂停发放提醒：已确认 %d 条（新 %d），待核实 %d 条（新 %d），其中类别变化 %d 条；"
                   "已确认收到或已撤销未再发送 %d 条。</p>\n",
                in->alerts->confirmed, in->alerts->fresh_confirmed, in->alerts->to_verify,
                in->alerts->fresh_to_verify, in->alerts->changed, in->alerts->held_back);
}

typedef struct Agency {
    const char *agency;
    int64_t files, read, rejected;
} Agency;

static int
cmp_agency(const void *a, const void *b)
{
    return strcmp(((const Agency *) a)->agency, ((const Agency *) b)->agency);
}

static void
section_rejects(FILE *f, const OutReportInput *in)
{
    char b1[32], b2[32], b3[32], b4[16];
    fprintf(f, "<h2>各部门数据退回情况</h2>\n");
    size_t nf = in->st ? in->st->files.len : 0;
    Agency *a = xcalloc(nf + 1, sizeof *a);
    int na = 0;
    for (size_t i = 0; i < nf; i++) {
        const SourceFile *sf = &VEC_AT(&in->st->files, SourceFile, i);
        const char *name = sf->agency ? sf->agency : "";
        int k = 0;
        while (k < na && strcmp(a[k].agency, name) != 0)
            k++;
        if (k == na)
            a[na++].agency = name;
        a[k].files++;
        a[k].read += (int64_t) sf->read;
        a[k].rejected += (int64_t) sf->rejected;
    }
    qsort(a, (size_t) na, sizeof *a, cmp_agency);
    fprintf(f, "<table><tr><th>部门</th><th>文件</th><th>读取记录</th><th>退回</th><th>退回比例</th><th></th></tr>\n");
    int64_t tr = 0, tj = 0, tf = 0;
    for (int k = 0; k < na; k++) {
        double share = a[k].read > 0 ? (double) a[k].rejected / (double) a[k].read : 0;
        int px = (int) lround(share * 2000);
        if (px > 200)
            px = 200;
        if (a[k].rejected > 0 && px < 1)
            px = 1;
        fprintf(f, "<tr><td>");
        esc(f, a[k].agency);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td><span class=\"bar\" style=\"width:%dpx\"></span></td></tr>\n",
                num(b1, a[k].files), num(b2, a[k].read), num(b3, a[k].rejected), pct(b4, a[k].rejected, a[k].read), px);
        tr += a[k].read;
        tj += a[k].rejected;
        tf += a[k].files;
    }
    fprintf(f, "<tr class=\"total\"><td>合计</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
               "<td class=\"n\">%s</td><td></td></tr>\n</table>\n",
            num(b1, tf), num(b2, tr), num(b3, tj), pct(b4, tj, tr));
    fprintf(f, "<p class=\"note\">每条退回记录的文件、位置和原因见 rejects.csv。</p>\n");
    free(a);
}

static void
section_timings(FILE *f, const OutReportInput *in)
{
    fprintf(f, "<h2>运行耗时</h2>\n");
    if (in->ntimings <= 0) {
        fprintf(f, "<p>未记录。</p>\n");
        return;
    }
    double total = 0;
    for (int i = 0; i < in->ntimings; i++)
        total += in->timings[i].seconds;
    fprintf(f, "<table><tr><th>阶段</th><th>秒</th><th>占比</th></tr>\n");
    for (int i = 0; i < in->ntimings; i++) {
        fprintf(f, "<tr><td>");
        esc(f, in->timings[i].stage);
        fprintf(f, "</td><td class=\"n\">%.2f</td><td class=\"n\">%.0f%%</td></tr>\n", in->timings[i].seconds,
                total > 0 ? 100.0 * in->timings[i].seconds / total : 0.0);
    }
    fprintf(f, "<tr class=\"total\"><td>合计</td><td class=\"n\">%.2f</td><td></td></tr>\n</table>\n", total);
    static const char *const colors[] = {"#2f5597", "#ed7d31", "#a5a5a5", "#ffc000", "#5b9bd5", "#70ad47"};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"40\" viewBox=\"0 0 760 40\" "
               "role=\"img\" " FONT " font-size=\"12\"><title>运行耗时</title>\n");
    double x = 0;
    for (int i = 0; i < in->ntimings; i++) {
        double w = total > 0 ? 760.0 * in->timings[i].seconds / total : 0;
        fprintf(f, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"22\" fill=\"%s\"/>", x, w, colors[i % 6]);
        if (w > 50) {
            fprintf(f, "<text x=\"%.1f\" y=\"36\">", x + 2);
            esc(f, in->timings[i].stage);
            fprintf(f, "</text>");
        }
        fprintf(f, "\n");
        x += w;
    }
    fprintf(f, "</svg>\n");
}

bool
out_report_write(const char *dir, const OutReportInput *in, CbError *err)
{
    char name[64], asof_s[11];
    out_report_file_name(in->ri->asof, name, sizeof name);
    date_format(in->ri->asof, asof_s);
    FILE *f = out_open(dir, name, err);
    if (f == NULL)
        return false;
    Town *t = NULL;
    int n = collect_towns(in, &t);
    const OutPlace *city = in->ri->city ? out_places_find(in->pl, in->ri->city) : NULL;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
               "<title>参保数据比对日报 %s</title>\n<style>\n%s</style>\n</head>\n<body>\n", asof_s, css);
    fprintf(f, "<h1>");
    esc(f, city ? city->name : "");
    fprintf(f, "%s城乡居民基本养老保险 数据比对日报</h1>\n", city ? " " : "");
    fprintf(f, "<p class=\"meta\">数据日期 %s · 行政区划 ", asof_s);
    esc(f, in->ri->city ? in->ri->city : "");
    fprintf(f, " · 规则版本 <code>%.12s</code> · canbao ", in->ri->rule_version ? in->ri->rule_version : "");
    esc(f, in->ri->engine_version ? in->ri->engine_version : "");
    fprintf(f, "</p>\n");
    /* sources not delivered fresh tonight, and death lists built without a death source */
    if (in->ri->deaths_incomplete) {
        fprintf(f, "<p class=\"note\" style=\"color:#c00000;font-weight:bold\">死亡名单不完整：缺少 ");
        esc(f, in->ri->deaths_incomplete);
        fprintf(f, " 的数据（data incomplete: deaths without these sources）。</p>\n");
    }
    for (int i = 0; i < in->ri->ndata_notes; i++) {
        fprintf(f, "<p class=\"note\" style=\"color:#c00000\">");
        esc(f, in->ri->data_notes[i]);
        fprintf(f, "</p>\n");
    }
    section_cards(f, in);
    section_coverage(f, in, t, n);
    section_outreach(f, in, t, n);
    section_staffing(f, in, t, n);
    section_trend(f, in);
    section_lists(f, in);
    section_rejects(f, in);
    section_timings(f, in);
    fprintf(f, "<p class=\"note\">本页由 canbao 生成，无脚本、无外部资源，可离线打开和打印。"
               "名单为参保服务邀请名单，不作为任何处罚依据。</p>\n</body>\n</html>\n");
    free(t);
    return out_close(f, dir, name, err);
}
