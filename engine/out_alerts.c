#include "out_alerts.h"

#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "factkind.h"
#include "idnum.h"

void
out_alerts_file_name(const char *kind, Day asof, const char *ext, char *out, size_t outsize)
{
    char d[9];
    out_day_compact(asof, d);
    snprintf(out, outsize, "alerts_%s_%s.%s", kind, d, ext);
}

static const char *const status_words[] = {"new", "repeated", "changed"};

/* Everything an alert says, as text. */
typedef struct Alert {
    const char *id_number, *name, *township, *township_name, *village, *village_name;
    const char *death_date, *sources, *confidence, *months, *overpaid, *funeral;
    char        item[24], first[11];
    const char *status;
    const ListRow *row;
} Alert;

static void
fill_alert(const Store *st, const ListOut *lo, const ListRow *r, const LcRow *lc, const OutPlaces *pl,
           const OutRunInfo *ri, size_t index, char id[19], Alert *a, TextBuf *tb, Arena *names)
{
    memset(a, 0, sizeof *a);
    idnum_format(r->key, id);
    const Person *p = st ? store_person(st, r->key) : NULL;
    a->row = r;
    a->id_number = id;
    a->name = out_val(r, out_col(lo, "name"));
    if (p) {   /* the register's name, as the list's column shows it when it has one */
        PersonText t;
        store_person_text_copy(st, p, tb, names, &t);
        if (t.name)
            a->name = t.name;
    }
    a->village = r->village ? r->village : p && p->division ? p->division : "";
    a->township = r->township ? r->township : "";
    const OutPlace *tp = out_places_find(pl, a->township);
    const OutPlace *vp = out_places_find(pl, a->village);
    a->township_name = tp ? tp->name : "";
    a->village_name = vp ? vp->name : "";
    a->death_date = out_val(r, out_col(lo, "death_date"));
    a->sources = out_val(r, out_col(lo, "sources"));
    a->confidence = out_val(r, out_col(lo, "confidence"));
    a->months = out_val(r, out_col(lo, "months_paid_after_death"));
    a->overpaid = out_val(r, out_col(lo, "overpaid"));
    a->funeral = out_val(r, out_col(lo, "funeral_subsidy"));
    /* without a lifecycle (no database) the row's position stands in for its number */
    snprintf(a->item, sizeof a->item, "%lld",
             (long long) (lc && lc->item_id > 0 ? lc->item_id : (int64_t) index + 1));
    date_format(lc && lc->first_asof != DAY_NONE ? lc->first_asof : ri->asof, a->first);
    a->status = status_words[lc ? lc->alert : LC_ALERT_NEW];
}

static const char *
nz(const char *s, const char *dflt)
{
    return s && s[0] ? s : dflt;
}

/* ---- XML ---- */

typedef struct Xw {
    xmlTextWriterPtr w;
    bool             failed;
} Xw;

static void
x_start(Xw *x, const char *name)
{
    if (xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->failed = true;
}

static void
x_end(Xw *x)
{
    if (xmlTextWriterEndElement(x->w) < 0)
        x->failed = true;
}

static void
x_attr(Xw *x, const char *name, const char *value)
{
    if (xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = true;
}

static void
x_elem(Xw *x, const char *name, const char *value)
{
    if (xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = true;
}

static void
x_place(Xw *x, const char *elem, const char *code, const char *name)
{
    if (!code[0])
        return;
    x_start(x, elem);
    x_attr(x, "code", code);
    if (xmlTextWriterWriteString(x->w, BAD_CAST name) < 0)
        x->failed = true;
    x_end(x);
}

static const char *
agency_of(const Store *st, uint32_t file)
{
    if (st == NULL || file >= st->files.len)
        return NULL;
    return VEC_AT(&st->files, SourceFile, file).agency;
}

static const char *
file_name_of(const Store *st, uint32_t file)
{
    if (st == NULL || file >= st->files.len)
        return "";
    return VEC_AT(&st->files, SourceFile, file).name;
}

static void
x_alert(Xw *x, const Store *st, const Alert *a, const OutRunInfo *ri, const char *asof_s)
{
    x_start(x, "alert");
    x_attr(x, "id", a->item);
    x_attr(x, "status", a->status);
    x_attr(x, "asof", asof_s);
    x_attr(x, "rule_set_version", ri->rule_version);
    x_elem(x, "id_number", a->id_number);
    x_elem(x, "name", a->name);
    x_place(x, "township", a->township, a->township_name);
    x_place(x, "village", a->village, a->village_name);
    x_elem(x, "death_date", a->death_date);
    x_start(x, "sources");
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", a->sources);
    char *save = NULL;
    for (char *s = strtok_r(tmp, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
        x_start(x, "source");
        x_attr(x, "code", s);
        if (xmlTextWriterWriteString(x->w, BAD_CAST out_value_word("sources", s)) < 0)
            x->failed = true;
        x_end(x);
    }
    x_end(x);
    x_elem(x, "confidence", a->confidence);
    x_elem(x, "months_overpaid", nz(a->months, "0"));
    x_elem(x, "overpaid", nz(a->overpaid, "0.00"));
    x_elem(x, "funeral_subsidy", nz(a->funeral, "0.00"));
    x_elem(x, "first_detected", a->first);
    x_start(x, "evidence");
    for (int e = 0; e < a->row->nev; e++) {
        const EvRef *ev = &a->row->ev[e];
        char rec[24];
        snprintf(rec, sizeof rec, "%llu", (unsigned long long) ev->record);
        x_start(x, "record");
        x_attr(x, "file", file_name_of(st, ev->file));
        x_attr(x, "record", rec);
        x_attr(x, "kind", ev->kind < FK_COUNT ? factkind_name((FactKind) ev->kind) : "unknown");
        const char *ag = agency_of(st, ev->file);
        if (ag && ag[0])
            x_attr(x, "agency", ag);
        x_end(x);
    }
    x_end(x);
    x_end(x);
}

static bool
write_xml(const char *dir, const char *kind, const Store *st, const Alert *alerts, int n, int fresh,
          const OutRunInfo *ri, CbError *err)
{
    char name[128], asof_s[11], count[16], nnew[16];
    out_alerts_file_name(kind, ri->asof, "xml", name, sizeof name);
    date_format(ri->asof, asof_s);
    snprintf(count, sizeof count, "%d", n);
    snprintf(nnew, sizeof nnew, "%d", fresh);
    /* straight to the file: the document held in memory grew by copies (mremap at M) */
    FILE *f = out_open(dir, name, err);
    if (f == NULL)
        return false;
    xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(f, NULL);
    Xw x = {.w = ob ? xmlNewTextWriter(ob) : NULL};   /* the writer owns ob */
    if (x.w == NULL) {
        if (ob)
            xmlOutputBufferClose(ob);
        fclose(f);
        return CB_FAIL(err, CBERR_INTERNAL, "could not start an XML writer");
    }
    xmlTextWriterSetIndent(x.w, 1);
    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
        x.failed = true;
    x_start(&x, "suspension_alerts");
    x_attr(&x, "xmlns", OUT_ALERTS_NS);
    x_attr(&x, "kind", kind);
    x_attr(&x, "asof", asof_s);
    x_attr(&x, "rule_set_version", ri->rule_version);
    x_attr(&x, "engine_version", nz(ri->engine_version, "unknown"));
    x_attr(&x, "city", nz(ri->city, "000000"));
    x_attr(&x, "count", count);
    x_attr(&x, "new", nnew);
    /* a night without a death source, or with a stand-in (schema/alerts.xsd: optional) */
    char note[4096];
    size_t o = 0;
    note[0] = '\0';
    for (int i = 0; i < ri->ndata_notes && o < sizeof note - 400; i++)
        o += (size_t) snprintf(note + o, sizeof note - o, "%s%s", i ? "；" : "", ri->data_notes[i]);
    if (ri->deaths_incomplete)
        x_attr(&x, "complete", "false");
    if (note[0])
        x_attr(&x, "data_note", note);
    for (int i = 0; i < n; i++)
        x_alert(&x, st, &alerts[i], ri, asof_s);
    x_end(&x);
    if (xmlTextWriterEndDocument(x.w) < 0)
        x.failed = true;
    xmlFreeTextWriter(x.w);   /* flushes into f, which stays open */
    if (x.failed && !ferror(f)) {   /* a write that failed: out_close says so */
        fclose(f);
        return CB_FAIL(err, CBERR_INTERNAL, "could not write the alerts XML");
    }
    return out_close(f, dir, name, err);
}

/* ---- CSV ---- */

static const char *const csv_header[] = {
    "alert_id", "status", "asof", "rule_set_version", "id_number", "name", "township", "township_name",
    "village", "village_name", "death_date", "sources", "confidence", "months_overpaid", "overpaid",
    "funeral_subsidy", "first_detected", "evidence", NULL};

static bool
write_csv(const char *dir, const char *kind, const Store *st, const Alert *alerts, int n,
          const OutRunInfo *ri, CbError *err)
{
    char name[128], asof_s[11];
    out_alerts_file_name(kind, ri->asof, "csv", name, sizeof name);
    date_format(ri->asof, asof_s);
    FILE *f = out_open(dir, name, err);
    if (f == NULL)
        return false;
    for (int c = 0; csv_header[c]; c++)
        out_csv_field(f, csv_header[c], c == 0);
    fputc('\n', f);
    char ev[8192];
    for (int i = 0; i < n; i++) {
        const Alert *a = &alerts[i];
        const char *v[] = {a->item, a->status, asof_s, ri->rule_version, a->id_number, a->name,
                           a->township, a->township_name, a->village, a->village_name, a->death_date,
                           a->sources, a->confidence, nz(a->months, "0"), nz(a->overpaid, "0.00"),
                           nz(a->funeral, "0.00"), a->first};
        for (size_t c = 0; c < sizeof v / sizeof v[0]; c++)
            out_csv_field(f, v[c], c == 0);
        size_t o = 0;
        ev[0] = '\0';
        for (int e = 0; e < a->row->nev && o < sizeof ev - 300; e++)
            o += (size_t) snprintf(ev + o, sizeof ev - o, "%s%s:%llu", e ? ";" : "",
                                   file_name_of(st, a->row->ev[e].file),
                                   (unsigned long long) a->row->ev[e].record);
        out_csv_field(f, ev, false);
        fputc('\n', f);
    }
    return out_close(f, dir, name, err);
}

bool
out_alerts_write(const char *dir, const Store *st, const ListSet *ls, const LcRun *lc,
                 const OutPlaces *pl, const OutRunInfo *ri, const char *list, OutAlertCounts *counts,
                 CbError *err)
{
    OutAlertCounts cnt;
    memset(&cnt, 0, sizeof cnt);
    const ListOut *lo = out_find_list(ls, list ? list : OUT_ALERTS_LIST);
    size_t n = lo ? lo->rows.len : 0;
    int l = lo ? (int) (lo - ls->lists) : -1;
    Alert *conf = xcalloc(n + 1, sizeof(Alert)), *verify = xcalloc(n + 1, sizeof(Alert));
    char (*ids)[19] = xcalloc(n + 1, 19);
    int nc = 0, nv = 0, fresh_c = 0, fresh_v = 0;
    const ListRow *rows = lo ? lo->rows.data : NULL;
    TextBuf tb = {0};
    Arena names;
    arena_init(&names, 64 << 10);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].key == PERSON_KEY_NONE)
            continue;
        const LcRow *lr = lc && l < lc->nlists && lc->rows[l] ? &lc->rows[l][i] : NULL;
        if (lr && !lr->in_alerts) {
            cnt.held_back++;
            continue;
        }
        Alert a;
        fill_alert(st, lo, &rows[i], lr, pl, ri, i, ids[i], &a, &tb, &names);
        bool confirmed = strcmp(a.confidence, "confirmed") == 0;
        if (!confirmed)
            a.confidence = "to_verify";
        bool fresh = lr == NULL || lr->alert == LC_ALERT_NEW;
        if (confirmed) {
            conf[nc++] = a;
            fresh_c += fresh;
        } else {
            verify[nv++] = a;
            fresh_v += fresh;
        }
        if (lr && lr->alert == LC_ALERT_CHANGED)
            cnt.changed++;
        else if (lr && lr->alert == LC_ALERT_REPEATED)
            cnt.repeated++;
    }
    textbuf_free(&tb);
    bool ok = (st == NULL || store_text_ok(st, err)) &&
              write_xml(dir, "confirmed", st, conf, nc, fresh_c, ri, err) &&
              write_csv(dir, "confirmed", st, conf, nc, ri, err) &&
              write_xml(dir, "to_verify", st, verify, nv, fresh_v, ri, err) &&
              write_csv(dir, "to_verify", st, verify, nv, ri, err);
    cnt.confirmed = nc;
    cnt.to_verify = nv;
    cnt.fresh_confirmed = fresh_c;
    cnt.fresh_to_verify = fresh_v;
    if (counts)
        *counts = cnt;
    free(conf);
    free(verify);
    free(ids);
    arena_free(&names);
    return ok;
}
