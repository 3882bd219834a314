#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "idnum.h"

/* Columns whose values tell apart two rows of one person in one list.  A list of the rule set
 * that needs another distinction should name it here (or, better, in its rule file once the
 * rule language has a `key` clause). */
static const char *const cause_columns[] = {"case", "year", "scheme", "action", NULL};

/* The column of list l whose values are the rows' classes (-1: none): looked up once a list,
 * not once a row. */
static int
class_column(const ListOut *l)
{
    for (int c = 0; c < l->ncols; c++)
        if (strcmp(l->cols[c], "confidence") == 0)
            return c;
    return -1;
}

/* A row's class for the alert files (its "confidence"), NULL for a list without (c < 0). */
static const char *
class_at(const ListRow *r, int c)
{
    return c >= 0 && r->vals && r->vals[c] && r->vals[c][0] ? r->vals[c] : NULL;
}

/* The columns of list l that make a row's cause, in cause_columns' order. */
static int
cause_columns_of(const ListOut *l, int cols[LIST_MAX_COLS])
{
    int n = 0;
    for (int k = 0; cause_columns[k] != NULL; k++)
        for (int c = 0; c < l->ncols && n < LIST_MAX_COLS; c++)
            if (strcmp(l->cols[c], cause_columns[k]) == 0)
                cols[n++] = c;
    return n;
}

static const char *
make_cause(Arena *a, const ListOut *l, const int *cols, int ncols, const ListRow *r)
{
    char buf[512];
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < ncols; k++) {
        int c = cols[k];
        if (r->vals && r->vals[c] && r->vals[c][0] && o < sizeof buf - 2)
            o += (size_t) snprintf(buf + o, sizeof buf - o, "%s%s=%s", o ? ";" : "", l->cols[c],
                                   r->vals[c]);
    }
    return o == 0 ? "" : arena_strdup(a, buf);
}

typedef struct CauseSort {
    PersonKey   key;
    const char *cause;
    size_t      row;
} CauseSort;

static int
cmp_cause(const void *a, const void *b)
{
    const CauseSort *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    int c = strcmp(x->cause, y->cause);
    if (c != 0)
        return c;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Allocates lc->rows and sets every row's cause (unique per list and person: a second row
 * with the same key gets "#2" appended, in row order). */
static void
init_rows(const ListSet *ls, Day asof, LcRun *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->asof = asof;
    lc->nlists = ls->n;
    arena_init(&lc->arena, 1 << 20);
    for (int l = 0; l < ls->n; l++) {
        const ListOut *lo = &ls->lists[l];
        size_t n = lo->rows.len;
        lc->rows[l] = n ? arena_calloc(&lc->arena, n * sizeof(LcRow)) : NULL;
        if (n == 0)
            continue;
        const ListRow *rows = lo->rows.data;
        CauseSort *cs = xmalloc(n * sizeof *cs);
        int cols[LIST_MAX_COLS], ncols = cause_columns_of(lo, cols);
        for (size_t i = 0; i < n; i++) {
            lc->rows[l][i].cause = make_cause(&lc->arena, lo, cols, ncols, &rows[i]);
            lc->rows[l][i].first_asof = asof;
            cs[i] = (CauseSort){rows[i].key, lc->rows[l][i].cause, i};
        }
        qsort(cs, n, sizeof *cs, cmp_cause);
        int dup = 1;
        for (size_t i = 1; i < n; i++) {
            if (cs[i].key == cs[i - 1].key && strcmp(cs[i].cause, cs[i - 1].cause) == 0) {
                char buf[600];
                snprintf(buf, sizeof buf, "%s#%d", cs[i].cause, ++dup);
                lc->rows[l][cs[i].row].cause = arena_strdup(&lc->arena, buf);
            } else {
                dup = 1;
            }
        }
        free(cs);
    }
}

void
lifecycle_offline(const ListSet *ls, Day asof, LcRun *lc)
{
    init_rows(ls, asof, lc);
    int64_t next = 1;
    for (int l = 0; l < ls->n; l++) {
        const ListRow *rows = ls->lists[l].rows.data;
        for (size_t i = 0; i < ls->lists[l].rows.len; i++) {
            LcRow *r = &lc->rows[l][i];
            if (rows[i].key == PERSON_KEY_NONE)
                continue;
            r->item_id = next++;
            r->is_new = true;
            r->in_alerts = true;
            r->alert = LC_ALERT_NEW;
        }
    }
}

void
lifecycle_free(LcRun *lc)
{
    arena_free(&lc->arena);
    free(lc->gone);
    memset(lc, 0, sizeof *lc);
}

static const char *
dup_or_null(Arena *a, PGresult *res, int t, int f)
{
    if (PQgetisnull(res, t, f))
        return NULL;
    return arena_strdup(a, PQgetvalue(res, t, f));
}

/* Appends s to an array literal {"a","b"} being built in buf. */
static size_t
array_add(char *buf, size_t cap, size_t o, const char *s, bool first)
{
    if (o + 4 >= cap)
        return o;
    if (!first)
        buf[o++] = ',';
    buf[o++] = '"';
    for (const char *p = s; *p && o + 3 < cap; p++) {
        if (*p == '"' || *p == '\\')
            buf[o++] = '\\';
        buf[o++] = *p;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return o;
}

/* The names of the set's lists as an array literal in buf. */
static void
lists_literal(const ListSet *ls, char *buf, size_t cap)
{
    size_t o = 0;
    buf[o++] = '{';
    buf[o] = '\0';
    for (int l = 0; l < ls->n; l++)
        o = array_add(buf, cap - 2, o, ls->lists[l].name, l == 0);
    buf[o++] = '}';
    buf[o] = '\0';
}

/* Every item of the night's lists ($1), what a row needs of it, and the township's latest
 * answer to it: the engine matches the items to the night's rows itself (by list, person and
 * cause), where PostgreSQL joined them with a copy of the rows (schema/020, 021).  An item no
 * row is about and still open is one the night no longer lists, for lifecycle_apply.  Read
 * through a cursor, ITEMS_BATCH at a time: the items of years of nights need not be in memory
 * at once. */
#define ITEMS_BATCH "100000"
static const char *const items_sql =
    "DECLARE lc_items NO SCROLL CURSOR FOR "
    "SELECT i.item_id, i.list_name, i.id_number, i.cause, i.state, "
    "       i.opened_asof >= $2::date, coalesce(i.first_asof, $2::date), i.sent_class, "
    "       i.first_sent_run IS NULL, f.outcome, f.outcome_date, f.note "
    "  FROM canbao.list_items i "
    "  LEFT JOIN (SELECT DISTINCT ON (fb.item_id) fb.item_id, fb.outcome, fb.outcome_date, fb.note "
    "               FROM canbao.feedback fb ORDER BY fb.item_id DESC, fb.feedback_id DESC) f "
    "    ON f.item_id = i.item_id "
    " WHERE i.list_name = ANY ($1::text[])";

static bool prepare(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, bool dry, CbError *err);

bool
lifecycle_prepare(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, CbError *err)
{
    return prepare(conn, ls, asof, lc, false, err);
}

bool
lifecycle_prepare_dry(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, CbError *err)
{
    return prepare(conn, ls, asof, lc, true, err);
}

/* The night's rows whose items do not exist yet (which[0, n)), as a temporary table for
 * lifecycle_register: lc_new (seq, list, ID number, cause). */
static const char *const lc_new_sql =
    "CREATE TEMP TABLE lc_new (seq integer, list_name text, id_number char(18), cause text) "
    "ON COMMIT DROP; "
    "ALTER TABLE pg_temp.lc_new ALTER seq SET STATISTICS 10, ALTER list_name SET STATISTICS 10, "
    "ALTER id_number SET STATISTICS 10, ALTER cause SET STATISTICS 10";

static bool
copy_rows(PGconn *conn, const ListSet *ls, const LcRun *lc, const uint32_t *seq_list, const size_t *seq_row,
          const uint32_t *which, size_t n, CbError *err)
{
    DbCopy c;
    if (!db_exec(conn, lc_new_sql, err) ||
        !db_copy_begin(&c, conn, "COPY pg_temp.lc_new (seq, list_name, id_number, cause) FROM STDIN", err))
        return false;
    for (size_t k = 0; k < n; k++) {
        uint32_t s = which[k];
        int l = (int) seq_list[s];
        const ListOut *lo = &ls->lists[l];
        const ListRow *row = &((const ListRow *) lo->rows.data)[seq_row[s]];
        char id[19];
        idnum_format(row->key, id);
        db_copy_int(&c, (int64_t) s);
        db_copy_text(&c, lo->name);
        db_copy_text(&c, id);
        db_copy_text(&c, lc->rows[l][seq_row[s]].cause);
        db_copy_end_row(&c);
    }
    return db_copy_end(&c, err);
}

/* The rows whose items did not exist (fresh[0, n)) registered (schema/020), each given its
 * item. */
static bool
register_new(PGconn *conn, const ListSet *ls, LcRun *lc, const uint32_t *seq_list, const size_t *seq_row,
             const uint32_t *fresh, size_t n, size_t nseq, CbError *err)
{
    PGresult *res = NULL;
    if (!copy_rows(conn, ls, lc, seq_list, seq_row, fresh, n, err) ||
        !db_exec_params(conn, "SELECT * FROM canbao.lifecycle_register()", 0, NULL, &res, err))
        return false;
    bool ok = true;
    if ((size_t) PQntuples(res) != n)
        ok = CB_FAIL(err, CBERR_INTERNAL, "lifecycle: %d items registered for %zu new rows", PQntuples(res), n);
    for (int t = 0; ok && t < PQntuples(res); t++) {
        long s = atol(PQgetvalue(res, t, 0));
        LcRow *r = s >= 0 && (size_t) s < nseq ? &lc->rows[seq_list[s]][seq_row[s]] : NULL;
        if (r == NULL || r->item_id != 0) {
            ok = CB_FAIL(err, CBERR_INTERNAL, "lifecycle: registered row %ld is not a new one", s);
            break;
        }
        r->item_id = atoll(PQgetvalue(res, t, 1));
    }
    PQclear(res);
    return ok;
}

/* The night's rows by (list, person, cause): open addressing, seq + 1 in a slot, 0 empty. */
typedef struct RowIndex {
    const ListSet *ls;
    const LcRun   *lc;
    const uint32_t *seq_list;
    const size_t  *seq_row;
    uint32_t      *slot;
    size_t         mask;
} RowIndex;

static size_t
row_hash(const RowIndex *ix, int l, PersonKey key, const char *cause)
{
    uint64_t h = (key ^ ((uint64_t) l << 57)) * 0x9E3779B97F4A7C15ull;
    for (const unsigned char *p = (const unsigned char *) cause; *p; p++)
        h = (h ^ *p) * 0x100000001B3ull;
    return (size_t) (h ^ (h >> 31)) & ix->mask;
}

static PersonKey
row_key(const RowIndex *ix, size_t s)
{
    return ((const ListRow *) ix->ls->lists[ix->seq_list[s]].rows.data)[ix->seq_row[s]].key;
}

static void
row_index_build(RowIndex *ix, size_t nseq)
{
    size_t cap = 16;
    while (cap < nseq * 2)
        cap <<= 1;
    ix->slot = xcalloc(cap, sizeof *ix->slot);
    ix->mask = cap - 1;
    for (size_t s = 0; s < nseq; s++) {
        int l = (int) ix->seq_list[s];
        size_t h = row_hash(ix, l, row_key(ix, s), ix->lc->rows[l][ix->seq_row[s]].cause);
        while (ix->slot[h] != 0)
            h = (h + 1) & ix->mask;
        ix->slot[h] = (uint32_t) s + 1;
    }
}

/* The row of list l about (key, cause), or NULL. */
static LcRow *
row_find(const RowIndex *ix, int l, PersonKey key, const char *cause)
{
    for (size_t h = row_hash(ix, l, key, cause); ix->slot[h] != 0; h = (h + 1) & ix->mask) {
        size_t s = ix->slot[h] - 1;
        LcRow *r = &ix->lc->rows[l][ix->seq_row[s]];
        if ((int) ix->seq_list[s] == l && row_key(ix, s) == key && strcmp(r->cause, cause) == 0)
            return r;
    }
    return NULL;
}

/* The index of the list named name (hint: the last one found, tried first), -1 when none. */
static int
list_index(const ListSet *ls, const char *name, int *hint)
{
    if (*hint >= 0 && strcmp(ls->lists[*hint].name, name) == 0)
        return *hint;
    for (int l = 0; l < ls->n; l++)
        if (strcmp(ls->lists[l].name, name) == 0)
            return *hint = l;
    return -1;
}

/* NULL-aware equality, as SQL's IS NOT DISTINCT FROM. */
static bool
same_text(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* What row r (class cls) needs of its item, item t of res (items_sql), as 020's join said it:
 * new since tonight, first listed, in tonight's alerts and how, the latest answer. */
static void
row_from_item(Arena *a, LcRow *r, const char *cls, PGresult *res, int t)
{
    const char *state = PQgetisnull(res, t, 4) ? NULL : PQgetvalue(res, t, 4);
    const char *sent_class = PQgetisnull(res, t, 7) ? NULL : PQgetvalue(res, t, 7);
    bool changed = !same_text(cls, sent_class);
    r->item_id = atoll(PQgetvalue(res, t, 0));
    r->state = state ? arena_strdup(a, state) : NULL;
    r->is_new = state == NULL || strcmp(state, "resolved") == 0 || strcmp(PQgetvalue(res, t, 5), "t") == 0;
    const char *fa = PQgetvalue(res, t, 6);
    r->first_asof = date_parse(fa, strlen(fa));
    r->in_alerts = state == NULL || strcmp(state, "new") == 0 || strcmp(state, "sent") == 0 ||
                   strcmp(state, "resolved") == 0 || (sent_class != NULL && changed);
    r->alert = strcmp(PQgetvalue(res, t, 8), "t") == 0 ? LC_ALERT_NEW
               : changed                                ? LC_ALERT_CHANGED
                                                        : LC_ALERT_REPEATED;
    r->outcome = dup_or_null(a, res, t, 9);
    r->outcome_date = dup_or_null(a, res, t, 10);
    r->note = dup_or_null(a, res, t, 11);
}

static bool
prepare(PGconn *conn, const ListSet *ls, Day asof, LcRun *lc, bool dry, CbError *err)
{
    init_rows(ls, asof, lc);
    /* seq → (list, row) */
    size_t total = 0;
    for (int l = 0; l < ls->n; l++)
        total += ls->lists[l].rows.len;
    uint32_t *seq_list = xmalloc((total ? total : 1) * sizeof(uint32_t));
    size_t *seq_row = xmalloc((total ? total : 1) * sizeof(size_t));
    uint32_t *fresh = xmalloc((total ? total : 1) * sizeof(uint32_t));   /* rows without an item */
    size_t nseq = 0, nfresh = 0;
    for (int l = 0; l < ls->n; l++) {
        const ListRow *rows = ls->lists[l].rows.data;
        for (size_t i = 0; i < ls->lists[l].rows.len; i++)
            if (rows[i].key != PERSON_KEY_NONE) {
                seq_list[nseq] = (uint32_t) l;
                seq_row[nseq] = i;
                /* until its item is found: what a newly registered item's would be (new, first
                 * listed tonight, its alert new, no answer) */
                lc->rows[l][i].is_new = true;
                lc->rows[l][i].in_alerts = true;
                nseq++;
            }
    }
    RowIndex ix = {.ls = ls, .lc = lc, .seq_list = seq_list, .seq_row = seq_row};
    row_index_build(&ix, nseq);
    int cc[LIST_MAX];
    for (int l = 0; l < ls->n; l++)
        cc[l] = class_column(&ls->lists[l]);

    PGresult *res = NULL;
    char asof_s[11], lists[LIST_MAX * 80 + 8];
    date_format(asof, asof_s);
    lists_literal(ls, lists, sizeof lists);
    const char *params[] = {lists, asof_s};
    /* the cursor planned for all its rows (its default plans for the first tenth) */
    bool ok = db_exec(conn, "BEGIN", err) && db_exec(conn, "SET LOCAL cursor_tuple_fraction = 1", err) &&
              db_exec_params(conn, items_sql, 2, params, NULL, err);
    int hint = -1, got = 1;
    size_t cap_gone = 0;
    while (ok && got > 0) {
        ok = db_exec_params(conn, "FETCH " ITEMS_BATCH " FROM lc_items", 0, NULL, &res, err);
        got = ok ? PQntuples(res) : 0;
        for (int t = 0; ok && t < got; t++) {
            int l = list_index(ls, PQgetvalue(res, t, 1), &hint);
            LcRow *r = NULL;
            if (l >= 0 && PQgetlength(res, t, 2) == 18)
                r = row_find(&ix, l, idnum_key(PQgetvalue(res, t, 2)), PQgetvalue(res, t, 3));
            if (r == NULL) {   /* no row is about it: still open, the night no longer lists it */
                const char *st = PQgetvalue(res, t, 4);
                if (l < 0 ||
                    (strcmp(st, "new") != 0 && strcmp(st, "sent") != 0 && strcmp(st, "acknowledged") != 0))
                    continue;
                if (lc->ngone == cap_gone) {
                    cap_gone = cap_gone ? cap_gone * 2 : 1024;
                    lc->gone = xrealloc(lc->gone, cap_gone * sizeof *lc->gone);
                }
                lc->gone[lc->ngone++] = atoll(PQgetvalue(res, t, 0));
                continue;
            }
            if (r->item_id != 0) {
                ok = CB_FAIL(err, CBERR_INTERNAL, "lifecycle: two items (%lld, %s) for one row of %s",
                             (long long) r->item_id, PQgetvalue(res, t, 0), ls->lists[l].name);
                break;
            }
            size_t i = (size_t) (r - lc->rows[l]);
            row_from_item(&lc->arena, r, class_at(&((const ListRow *) ls->lists[l].rows.data)[i], cc[l]), res, t);
        }
        if (res)
            PQclear(res);
        res = NULL;
    }
    free(ix.slot);
    for (size_t s = 0; ok && s < nseq; s++)
        if (lc->rows[seq_list[s]][seq_row[s]].item_id == 0)
            fresh[nfresh++] = (uint32_t) s;
    /* the new items, numbered in the order of the night's rows (lifecycle_register sorts) */
    if (ok && !dry && nfresh > 0)
        ok = register_new(conn, ls, lc, seq_list, seq_row, fresh, nfresh, nseq, err);
    if (ok && !dry)
        ok = db_exec(conn, "COMMIT", err);
    else
        PQclear(PQexec(conn, "ROLLBACK"));
    free(seq_list);
    free(seq_row);
    free(fresh);
    return ok;
}

bool
lifecycle_apply(PGconn *conn, int64_t run_id, const ListSet *ls, const LcRun *lc,
                int64_t *n_new, int64_t *n_open, int64_t *n_gone, CbError *err)
{
    /* into the night's own table, attached after the COPY (schema/015) */
    DbCopy c;
    if (!db_night_table(conn, "run_items", run_id, err) ||
        !db_copy_begin(&c, conn,
                       "COPY canbao.run_items_night (list_name, row_no, item_id, class, status) "
                       "FROM STDIN (FREEZE)", err))
        return false;
    for (int l = 0; l < ls->n && l < lc->nlists; l++) {
        const ListOut *lo = &ls->lists[l];
        const ListRow *rows = lo->rows.data;
        int cc = class_column(lo);
        for (size_t i = 0; i < lo->rows.len; i++) {
            if (lc->rows[l][i].item_id <= 0)
                continue;
            db_copy_text(&c, lo->name);   /* run_id: the night table's default (schema/017) */
            db_copy_int(&c, (int64_t) i + 1);
            db_copy_int(&c, lc->rows[l][i].item_id);
            db_copy_text(&c, class_at(&rows[i], cc));
            db_copy_text(&c, lc->rows[l][i].is_new ? "new" : "open");
            db_copy_end_row(&c);
        }
    }
    if (!db_copy_end(&c, err) || !db_night_attach(conn, "run_items", run_id, err))
        return false;
    char lists[LIST_MAX * 80 + 8];
    lists_literal(ls, lists, sizeof lists);
    /* the items step 1 found open and not listed, as {id,id,...} */
    char *gone = xmalloc(lc->ngone * 21 + 3), *g = gone;
    *g++ = '{';
    for (size_t k = 0; k < lc->ngone; k++)
        g += sprintf(g, k ? ",%lld" : "%lld", (long long) lc->gone[k]);
    *g++ = '}';
    *g = '\0';
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {id, lists, gone};
    PGresult *res = NULL;
    bool ok = db_exec_params(conn, "SELECT * FROM canbao.lifecycle_apply($1::bigint, $2::text[], $3::bigint[])",
                             3, params, &res, err);
    free(gone);
    if (!ok)
        return false;
    if (n_new)
        *n_new = atoll(PQgetvalue(res, 0, 0));
    if (n_open)
        *n_open = atoll(PQgetvalue(res, 0, 1));
    if (n_gone)
        *n_gone = atoll(PQgetvalue(res, 0, 2));
    PQclear(res);
    return true;
}

bool
lifecycle_mark_sent(PGconn *conn, int64_t run_id, CbError *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {id};
    bool ok = db_exec(conn, "BEGIN", err) &&
              db_exec_params(conn, "SELECT canbao.lifecycle_mark_sent($1::bigint)", 1, params, NULL, err) &&
              db_exec(conn, "COMMIT", err);
    if (!ok)
        PQclear(PQexec(conn, "ROLLBACK"));
    return ok;
}

bool
lifecycle_mark_published(PGconn *conn, int64_t run_id, bool *was_new, CbError *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long) run_id);
    const char *params[] = {id};
    PGresult *res = NULL;
    bool ok = db_exec(conn, "BEGIN", err) &&
              db_exec_params(conn, "SELECT canbao.run_published($1::bigint)", 1, params, &res, err);
    if (ok && was_new)
        *was_new = !PQgetisnull(res, 0, 0);
    if (res)
        PQclear(res);
    if (ok)
        ok = db_exec(conn, "COMMIT", err);
    else
        PQclear(PQexec(conn, "ROLLBACK"));
    return ok;
}

bool
lifecycle_feedback_evidence(PGconn *conn, Day asof, Vec *out, CbError *err)
{
    char asof_s[11];
    date_format(asof, asof_s);
    const char *params[] = {asof_s};
    PGresult *res = NULL;
    if (!db_exec_params(conn,
                        "SELECT id_number, kind, coalesce(reported_date::text, ''), recorded_asof, "
                        "township, feedback_id FROM canbao.feedback_evidence "
                        "WHERE recorded_asof <= $1::date ORDER BY id_number, kind, feedback_id",
                        1, params, &res, err))
        return false;
    for (int t = 0; t < PQntuples(res); t++) {
        const char *id = PQgetvalue(res, t, 0);
        if (strlen(id) < 17)
            continue;
        LcFeedbackEvidence *e = vec_push(out);
        e->key = idnum_key(id);
        e->kind = strcmp(PQgetvalue(res, t, 1), "death") == 0 ? LC_FB_DEATH : LC_FB_MOVED_OUT;
        const char *d = PQgetvalue(res, t, 2);
        e->date = *d ? date_parse(d, strlen(d)) : DAY_NONE;
        const char *r = PQgetvalue(res, t, 3);
        e->recorded = date_parse(r, strlen(r));
        snprintf(e->township, sizeof e->township, "%s", PQgetvalue(res, t, 4));
        e->feedback_id = atoll(PQgetvalue(res, t, 5));
    }
    PQclear(res);
    return true;
}
