/*
 * rules_types — diagnostics and the types of the rule language: type names, enum values,
 * which fact and register fields exist and where the engine keeps them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_check_int.h"

/* ------------------------------------------------------------------ diagnostics */

static void
add_diag(RuleSet *rs, const char *where, const char *hint, const char *msg)
{
    if (rs->nerrors == 0 && rs->err) {
        CB_FAIL(rs->err, CBERR_INPUT, "%s", msg);
        cb_error_at(rs->err, "%s", where);
        if (hint && *hint)
            cb_error_hint(rs->err, "%s", hint);
    }
    rs->nerrors++;
    if (rs->diags && rs->diags->len < 200) {
        RuleDiag *d = vec_push(rs->diags);
        snprintf(d->where, sizeof d->where, "%s", where);
        snprintf(d->message, sizeof d->message, "%s", msg);
        snprintf(d->hint, sizeof d->hint, "%s", hint ? hint : "");
    }
}

int
rdiag(RuleSet *rs, uint16_t file, int line, int col, const char *hint, const char *fmt, ...)
{
    char msg[600], where[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const RuleFile *rf = &((const RuleFile *) rs->files.data)[file];
    snprintf(where, sizeof where, "%s:%d:%d", rf->path, line, col);
    add_diag(rs, where, hint, msg);
    return -1;
}

int
rdiag_at(RuleSet *rs, const char *where, const char *hint, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_diag(rs, where, hint, msg);
    return -1;
}

/* ------------------------------------------------------------------ types */

RType
rtype(TypeCode t)
{
    RType r = {.t = (uint8_t) t, .et = 0, .kind = -1, .field = -1};
    return r;
}

static const char *const evidence_values[EV_COUNT + 1] = {"police", "health", "civil", "court", "medical", "township", NULL};
static const char *const link_values[4] = {"exact", "repaired", "probable", NULL};

const char *const *
rules_enum_values(RType t, int *n)
{
    const char *const *v;
    if (t.field == FIELD_EVIDENCE) {
        v = evidence_values;
    } else if (t.field == FIELD_LINK) {
        v = link_values;
    } else {
        const KindSpec *ks = factkind_spec((FactKind) t.kind);
        v = ks->fields[t.field].values;
    }
    int k = 0;
    while (k < FIELD_MAX_VALUES && v[k])
        k++;
    *n = k;
    return v;
}

const char *
rules_type_name(RType t, char *buf, size_t n)
{
    switch (t.t) {
    case T_NONE: snprintf(buf, n, "none"); break;
    case T_BOOL: snprintf(buf, n, "a condition (true/false)"); break;
    case T_INT: snprintf(buf, n, "a plain number"); break;
    case T_NUM: snprintf(buf, n, "a fraction"); break;
    case T_MONEY: snprintf(buf, n, "money (yuan)"); break;
    case T_YEARS: snprintf(buf, n, "years"); break;
    case T_MONTHS: snprintf(buf, n, "months"); break;
    case T_DAYS: snprintf(buf, n, "days"); break;
    case T_DATE: snprintf(buf, n, "a date"); break;
    case T_MONTH: snprintf(buf, n, "a calendar month"); break;
    case T_TEXT: snprintf(buf, n, "text"); break;
    case T_ENUM:
        if (t.field == FIELD_EVIDENCE)
            snprintf(buf, n, "a value of death.evidence");
        else if (t.field == FIELD_LINK)
            snprintf(buf, n, "a value of %s.link", factkind_name((FactKind) t.kind));
        else
            snprintf(buf, n, "a value of %s.%s", factkind_name((FactKind) t.kind),
                     factkind_spec((FactKind) t.kind)->fields[t.field].name);
        break;
    case T_FACT: snprintf(buf, n, "a %s fact", factkind_name((FactKind) t.kind)); break;
    case T_SET: {
        char e[96];
        RType et = t;
        et.t = t.et;
        snprintf(buf, n, "a set of (%s)", rules_type_name(et, e, sizeof e));
        break;
    }
    case T_REF: snprintf(buf, n, "a reference row"); break;
    case T_SYM: snprintf(buf, n, "a name"); break;
    default: snprintf(buf, n, "(error)"); break;
    }
    return buf;
}

bool
rtype_same(RType a, RType b)
{
    if (a.t != b.t)
        return false;
    if (a.t == T_ENUM)
        return a.kind == b.kind && a.field == b.field;
    if (a.t == T_FACT || a.t == T_REF)
        return a.kind == b.kind;
    if (a.t == T_SET)
        return a.et == b.et && a.kind == b.kind && a.field == b.field;
    return true;
}

bool
rtype_ordered(RType t)
{
    switch (t.t) {
    case T_INT: case T_NUM: case T_MONEY: case T_YEARS: case T_MONTHS: case T_DAYS: case T_DATE:
    case T_MONTH: case T_TEXT:
        return true;
    default:
        return false;
    }
}

bool
rtype_number(RType t)
{
    return t.t == T_INT || t.t == T_NUM;
}

bool
rtype_duration(RType t)
{
    return t.t == T_YEARS || t.t == T_MONTHS || t.t == T_DAYS;
}

bool
rtype_formattable(RType t)
{
    return t.t != T_FACT && t.t != T_SET && t.t != T_REF && t.t != T_SYM;
}

/* fact kind fields: slot and type; the death evidence code is a field too */
bool
rules_kind_field(int kind, const char *name, int *slot, RType *type)
{
    if (kind == FK_DEATH && strcmp(name, "evidence") == 0) {
        *slot = FS_CODE;
        *type = rtype(T_ENUM);
        type->kind = FK_DEATH;
        type->field = FIELD_EVIDENCE;
        return true;
    }
    if (strcmp(name, "link") == 0) {
        *slot = FS_LINK;
        *type = rtype(T_ENUM);
        type->kind = (int8_t) kind;
        type->field = FIELD_LINK;
        return true;
    }
    int fi = factkind_field((FactKind) kind, name);
    if (fi < 0)
        return false;
    const FieldSpec *f = &factkind_spec((FactKind) kind)->fields[fi];
    switch (f->slot) {
    case SLOT_D1: *slot = FS_D1; break;
    case SLOT_D2: *slot = FS_D2; break;
    case SLOT_CODE: *slot = FS_CODE; break;
    case SLOT_AMOUNT: *slot = FS_AMOUNT; break;
    case SLOT_AMOUNT2: *slot = FS_AMOUNT2; break;
    default: *slot = -1; break;
    }
    switch (f->type) {
    case FT_DATE: *type = rtype(T_DATE); break;
    case FT_MONTH: *type = rtype(T_MONTH); break;
    case FT_MONEY: *type = rtype(T_MONEY); break;
    case FT_INT: *type = rtype(T_INT); break;
    case FT_ENUM:
        *type = rtype(T_ENUM);
        type->kind = (int8_t) kind;
        type->field = (int8_t) fi;
        break;
    default: *type = rtype(T_TEXT); break;
    }
    return true;
}

static const struct {
    const char *name;
    RegField    f;
} reg_fields[] = {
    {"id_number", RG_ID}, {"name", RG_NAME}, {"sex", RG_SEX}, {"birth_date", RG_BIRTH},
    {"household", RG_HOUSEHOLD}, {"division", RG_DIVISION}, {"address", RG_ADDRESS}, {"phone", RG_PHONE},
    {"status", RG_STATUS}, {"cancel_reason", RG_CANCEL_REASON}, {"cancel_date", RG_CANCEL_DATE},
};

bool
rules_reg_field(const char *name, RegField *out, RType *type)
{
    for (size_t i = 0; i < sizeof reg_fields / sizeof reg_fields[0]; i++)
        if (strcmp(reg_fields[i].name, name) == 0) {
            *out = reg_fields[i].f;
            switch (reg_fields[i].f) {
            case RG_BIRTH: case RG_CANCEL_DATE: *type = rtype(T_DATE); break;
            case RG_SEX: case RG_STATUS: case RG_CANCEL_REASON:
                *type = rtype(T_ENUM);
                type->kind = FK_REGISTER;
                type->field = (int8_t) factkind_field(FK_REGISTER, name);
                break;
            default: *type = rtype(T_TEXT); break;
            }
            return true;
        }
    return false;
}

const char *
rules_reg_field_name(int i)
{
    return i >= 0 && (size_t) i < sizeof reg_fields / sizeof reg_fields[0] ? reg_fields[i].name : NULL;
}

