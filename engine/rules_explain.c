/*
 * rules_explain — why one person is or is not on each list.
 *
 * Prints the register entry, every fact with its file and record, the value of every
 * definition, and per list: each term of the list's `where` (the terms joined by `and`) with
 * its value, the first false one marked as the one that decided, and the rows the person got
 * with their evidence.  The evaluation is the run's own (the same compiled rules and
 * context), so what explain says is what the run did.
 */
#include <stdio.h>
#include <string.h>

#include "rules_int.h"

static void
source_text(const RuleSet *rs, int node, char *buf, size_t n)
{
    const Node *nd = rnode(rs, node);
    const RuleFile *rf = &((const RuleFile *) rs->files.data)[nd->file];
    size_t o = 0;
    bool space = false;
    for (uint32_t i = 0; i < nd->len && nd->off + i < rf->len && o + 4 < n; i++) {
        char ch = rf->text[nd->off + i];
        if (ch == '#') {   /* a comment inside the span: skip to the line's end */
            while (i < nd->len && rf->text[nd->off + i] != '\n')
                i++;
            space = true;
            continue;
        }
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            space = true;
            continue;
        }
        if (space && o > 0)
            buf[o++] = ' ';
        space = false;
        buf[o++] = ch;
    }
    if (o + 4 >= n && nd->len > 0) {
        memcpy(buf + (o > n - 4 ? n - 4 : o), "...", 3);
        o = (o > n - 4 ? n - 4 : o) + 3;
    }
    buf[o] = '\0';
}

static void
print_value(EvalCtx *c, RType t, Val v, FILE *out)
{
    char buf[1024];
    if (v.none) {
        fputs("none", out);
        return;
    }
    rules_format(c, t, v, buf, sizeof buf);
    if (t.t == T_TEXT)
        fprintf(out, "\"%s\"", buf);
    else
        fputs(buf, out);
}

static const char *
file_name(const Store *st, uint32_t file)
{
    return file < st->files.len ? VEC_AT(&st->files, SourceFile, file).name : "?";
}

static void
print_facts(EvalCtx *c, FILE *out)
{
    const Store *st = c->st;
    fprintf(out, "\nfacts (%u)\n", c->nf);
    static const char *const links[] = {"exact", "repaired", "probable"};
    for (uint32_t i = 0; i < c->nf; i++) {
        const Fact *f = &c->f[i];
        const KindSpec *ks = factkind_spec((FactKind) f->kind);
        fprintf(out, "  %-20s %s:%llu [%s]", ks->name, file_name(st, f->file), (unsigned long long) f->record,
                f->link < 3 ? links[f->link] : "?");
        for (int k = 0; ks->fields[k].name; k++) {
            int slot;
            RType t;
            if (!rules_kind_field(f->kind, ks->fields[k].name, &slot, &t) || slot < 0)
                continue;
            if (slot == FS_LINK)
                continue;
            Val v = {0};
            switch (slot) {
            case FS_D1: v.i = f->d1; v.none = f->d1 == DAY_NONE; break;
            case FS_D2: v.i = f->d2; v.none = f->d2 == DAY_NONE; break;
            case FS_CODE: v.i = f->code; v.none = f->code >= 0xFFFE; break;
            case FS_AMOUNT: v.i = f->amount; v.none = false; break;
            default: v.i = f->amount2; v.none = false; break;
            }
            if (v.none)
                continue;
            fprintf(out, " %s=", ks->fields[k].name);
            print_value(c, t, v, out);
        }
        if (f->kind == FK_DEATH && f->code < EV_COUNT)
            fprintf(out, " evidence=%s", evidence_name((Evidence) f->code));
        fputc('\n', out);
    }
}

static void
print_register(EvalCtx *c, FILE *out)
{
    const Person *p = c->p;
    TextBuf tb = {0};   /* its own: c->text may hold what the rules have read */
    PersonText t;
    store_person_text(c->st, p, &tb, &t);
    char id[19], d[11];
    idnum_format(p->key, id);
    fprintf(out, "register entry (%s:%llu)\n", file_name(c->st, p->file), (unsigned long long) p->record);
    fprintf(out, "  id_number      %s\n", id);
    fprintf(out, "  name           %s\n", t.name ? t.name : "");
    fprintf(out, "  sex            %s\n", p->sex == SEX_MALE ? "male" : p->sex == SEX_FEMALE ? "female" : "");
    date_format(p->birth, d);
    int age = date_age(p->birth, c->asof);
    fprintf(out, "  birth_date     %s", d);
    if (age >= 0) {
        char a[11];
        date_format(c->asof, a);
        fprintf(out, "   (age %d on %s)", age, a);
    }
    fputc('\n', out);
    fprintf(out, "  household      %s\n", t.household ? t.household : "");
    fprintf(out, "  division       %s\n", p->division ? p->division : "");
    fprintf(out, "  address        %s\n", t.address ? t.address : "");
    fprintf(out, "  phone          %s\n", t.phone ? t.phone : "");
    fprintf(out, "  status         %s\n", p->status == REG_ACTIVE ? "active" : "cancelled");
    if (p->status != REG_ACTIVE) {
        static const char *const reasons[] = {"death", "moved_out", "other"};
        date_format(p->cancel_date, d);
        fprintf(out, "  cancel_reason  %s\n", p->cancel_reason < 3 ? reasons[p->cancel_reason] : "");
        fprintf(out, "  cancel_date    %s\n", d);
    }
    textbuf_free(&tb);
}

static void
print_evidence(EvalCtx *c, const ListRow *row, FILE *out)
{
    fprintf(out, "        evidence:");
    for (int e = 0; e < row->nev; e++)
        fprintf(out, "%s %s:%llu (%s)", e ? ";" : "", file_name(c->st, row->ev[e].file),
                (unsigned long long) row->ev[e].record, factkind_name((FactKind) row->ev[e].kind));
    fputc('\n', out);
}

/* one term of a condition: its text, its value, and for a comparison both sides */
static void
print_term(EvalCtx *c, int node, const char *mark, FILE *out)
{
    const RuleSet *rs = c->rs;
    char text[400];
    source_text(rs, node, text, sizeof text);
    Val v = rules_eval(c, node);
    fprintf(out, "      %-5s %s", rules_truthy(v) ? "true" : "false", text);
    const Node *n = rnode(rs, node);
    const Node *inner = n->op == OP_NOT ? rnode(rs, n->a) : n;
    if (inner->op == OP_CMP || inner->op == OP_WITHIN || inner->op == OP_INSET || inner->op == OP_IN ||
        inner->op == OP_UNDER) {
        Val a = rules_eval(c, inner->a);
        fputs("   (", out);
        print_value(c, rnode(rs, inner->a)->type, a, out);
        if (inner->op == OP_CMP || inner->op == OP_WITHIN) {
            int other = inner->b;
            Val b = rules_eval(c, other);
            fputs(" vs ", out);
            print_value(c, rnode(rs, other)->type, b, out);
        }
        fputc(')', out);
    } else if (inner->op == OP_DEF) {
        const Define *df = rdef(rs, (int) inner->k);
        if (df->type.t != T_BOOL) {
            fputs("   (", out);
            print_value(c, df->type, rules_eval(c, node), out);
            fputc(')', out);
        }
    }
    fprintf(out, "%s\n", mark);
}

bool
rules_explain(const RuleSet *rs, Store *st, const Person *p, Day asof, const char *refdir, FILE *out, CbError *err)
{
    RefData rd;
    if (!rules_ref_read(rs, st, refdir, &rd, err)) {
        rules_ref_free(&rd);
        return false;
    }
    ListSet ls;
    rules_lists_init(rs, &ls);
    EvalCtx c;
    rules_ctx_init(&c, rs, st, asof, &rd, &ls);
    rules_ctx_person(&c, p);
    char id[19], a[11];
    idnum_format(p->key, id);
    date_format(asof, a);
    fprintf(out, "canbao explain %s as of %s (rule set %.16s)\n\n", id, a, rs->version);
    print_register(&c, out);
    print_facts(&c, out);

    fprintf(out, "\ndefinitions\n");
    for (size_t d = 0; d < rs->defines.len; d++) {
        const Define *df = rdef(rs, (int) d);
        if (df->kind >= 0 || df->nparams > 0 || df->state != 2)
            continue;
        Val v = rules_eval(&c, df->body);
        fprintf(out, "  %-24s = ", df->name);
        print_value(&c, df->type, v, out);
        fputc('\n', out);
    }

    fprintf(out, "\nlists\n");
    for (int k = 0; k < rs->norder; k++) {
        int li = rs->order[k];
        const ListDef *l = rlist(rs, li);
        const RuleFile *rf = &((const RuleFile *) rs->files.data)[l->file];
        size_t before = ls.lists[li].rows.len;
        c.li = li;
        int n = rules_emit_list(&c, li);
        fprintf(out, "  %s (%s:%d) — %s\n", l->name, rf->path, l->line,
                n == 0 ? "not listed" : n == 1 ? "1 row" : "rows");
        bool decided = false;
        for (int t = 0; t < l->nconj; t++) {
            Val v = rules_eval(&c, l->conj[t]);
            bool mark = !decided && !rules_truthy(v);
            decided |= mark;
            print_term(&c, l->conj[t], mark ? "   <- decides: not listed" : "", out);
        }
        if (!decided && n == 0)
            for (int r = 0; r < l->nrows; r++)
                if (l->rows[r].when >= 0) {
                    fprintf(out, "      row clause at line %d:\n", l->rows[r].line);
                    c.ri = r;
                    if (l->rows[r].set < 0)
                        print_term(&c, l->rows[r].when, "", out);
                    else
                        fprintf(out, "      (one row per value of its for each; none qualified)\n");
                }
        for (size_t r = before; r < ls.lists[li].rows.len; r++) {
            const ListRow *row = &VEC_AT(&ls.lists[li].rows, ListRow, r);
            fprintf(out, "      row:");
            for (int col = 0; col < ls.lists[li].ncols; col++)
                if (strcmp(ls.lists[li].cols[col], "rule_version") != 0)
                    fprintf(out, " %s=%s", ls.lists[li].cols[col], row->vals[col]);
            fputc('\n', out);
            print_evidence(&c, row, out);
        }
    }
    for (size_t t = 0; t < rs->tallies.len; t++) {
        const Tally *tl = &((const Tally *) rs->tallies.data)[t];
        const ListDef *l = rlist(rs, tl->list);
        bool in = tl->cond < 0 || rules_truthy(rules_eval(&c, tl->cond));
        char key[512] = "";
        Val kv = rules_eval(&c, tl->key);
        rules_format(&c, rnode(rs, tl->key)->type, kv, key, sizeof key);
        char text[400] = "";
        if (tl->cond >= 0)
            source_text(rs, tl->cond, text, sizeof text);
        fprintf(out, "  %s — %s %s (%s)\n", l->name, in ? "counted for" : "not counted for", key[0] ? key : "(none)",
                text);
    }
    rules_ctx_done(&c);
    lists_free(&ls);
    rules_ref_free(&rd);
    return true;
}
