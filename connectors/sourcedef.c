#include "sourcedef.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEF_BYTES (1 << 20)
#define MAX_CODES 256

/* A tiny cursor over one line, for column-accurate errors. */
typedef struct Cur {
    const char *path;
    const char *line;    /* start of the line */
    const char *p;       /* current position */
    const char *end;     /* end of the line (exclusive) */
    int lineno;
} Cur;

static int
col_of(const Cur *c, const char *at)
{
    /* columns count characters, not bytes: skip UTF-8 continuation bytes */
    int col = 1;
    for (const char *q = c->line; q < at; q++)
        if (((unsigned char) *q & 0xC0) != 0x80)
            col++;
    return col;
}

static bool
cur_fail(const Cur *c, const char *at, CbError *err, const char *msg, const char *expected)
{
    CB_FAIL(err, CBERR_INPUT, "%s", msg);
    cb_error_at(err, "%s:%d:%d", c->path, c->lineno, col_of(c, at));
    if (expected != NULL)
        cb_error_hint(err, "expected %s", expected);
    return false;
}

static void
skip_ws(Cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* Reads a token: a "quoted string" (with \" \\ \t escapes) or a bare run of characters up to
 * one of `stops` or the end of the line; bare tokens are trimmed.  Returns an arena copy. */
static bool
read_token(Cur *c, Arena *a, const char *stops, char **out, CbError *err)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == '"') {
        const char *start = c->p++;
        char *buf = arena_alloc(a, (size_t) (c->end - c->p) + 1);
        size_t n = 0;
        while (c->p < c->end && *c->p != '"') {
            if (*c->p == '\\' && c->p + 1 < c->end) {
                c->p++;
                buf[n++] = *c->p == 't' ? '\t' : *c->p;
            } else {
                buf[n++] = *c->p;
            }
            c->p++;
        }
        if (c->p >= c->end)
            return cur_fail(c, start, err, "unterminated quoted string", "a closing \"");
        c->p++;
        buf[n] = '\0';
        *out = buf;
        skip_ws(c);
        return true;
    }
    const char *start = c->p;
    /* a bare token also ends at a comment: '#' after white space */
    while (c->p < c->end && strchr(stops, *c->p) == NULL &&
           !(*c->p == '#' && c->p > start && (c->p[-1] == ' ' || c->p[-1] == '\t')))
        c->p++;
    const char *e = c->p;
    while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *out = arena_strndup(a, start, (size_t) (e - start));
    return true;
}

static const struct {
    const char *name;
    XformOp op;
} xform_table[] = {
    {"trim", XF_TRIM}, {"name", XF_NAME}, {"idnum", XF_IDNUM}, {"date", XF_DATE},
    {"month", XF_MONTH}, {"money", XF_MONEY}, {"int", XF_INT}, {"code", XF_CODE},
    {"default", XF_DEFAULT}, {"split", XF_SPLIT},
};

const char *
xform_name(XformOp op)
{
    for (size_t i = 0; i < sizeof xform_table / sizeof xform_table[0]; i++)
        if (xform_table[i].op == op)
            return xform_table[i].name;
    return "?";
}

/* The field type a typed transform produces, or -1 for text-level transforms. */
static int
xform_type(XformOp op)
{
    switch (op) {
    case XF_IDNUM: return FT_IDNUM;
    case XF_DATE: return FT_DATE;
    case XF_MONTH: return FT_MONTH;
    case XF_MONEY: return FT_MONEY;
    case XF_INT: return FT_INT;
    default: return -1;
    }
}

static const char *
type_name(FieldType t)
{
    static const char *names[] = {"an ID number", "text", "a date", "a month", "money",
                                  "an integer", "a code"};
    return names[t];
}

/* Parses `code(a:x, b:y, *:z)` arguments after the '('. */
static bool
parse_code_args(Cur *c, SourceDef *def, const FieldSpec *fs, Xform *xf, CbError *err)
{
    CodeEntry tmp[MAX_CODES];
    int n = 0;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == ')')
            break;
        if (n == MAX_CODES)
            return cur_fail(c, c->p, err, "too many codes in code table", "at most 256 entries");
        char *from, *to;
        const char *at = c->p;
        if (!read_token(c, &def->arena, ":,)", &from, err))
            return false;
        if (c->p >= c->end || *c->p != ':')
            return cur_fail(c, c->p, err, "code entry without ':'", "source:canonical, e.g. 死亡:death");
        c->p++;
        skip_ws(c);
        const char *to_at = c->p;
        if (!read_token(c, &def->arena, ",)", &to, err))
            return false;
        if (to[0] == '\0')
            return cur_fail(c, to_at, err, "empty canonical value in code table", "a value after ':'");
        if (fs->type == FT_ENUM && factkind_enum_value(fs, to) < 0) {
            char allowed[256] = "";
            for (int i = 0; i < FIELD_MAX_VALUES && fs->values[i]; i++) {
                strncat(allowed, i ? ", " : "", sizeof allowed - strlen(allowed) - 1);
                strncat(allowed, fs->values[i], sizeof allowed - strlen(allowed) - 1);
            }
            CB_FAIL(err, CBERR_INPUT, "unknown value \"%s\" for field %s", to, fs->name);
            cb_error_at(err, "%s:%d:%d", c->path, c->lineno, col_of(c, to_at));
            cb_error_hint(err, "expected one of: %s", allowed);
            return false;
        }
        bool is_default = strcmp(from, "*") == 0;
        for (int i = 0; i < n; i++)
            if ((is_default && tmp[i].from == NULL) ||
                (!is_default && tmp[i].from && strcmp(tmp[i].from, from) == 0))
                return cur_fail(c, at, err, "code listed twice in code table", "each source code once");
        tmp[n].from = is_default ? NULL : from;
        tmp[n].to = to;
        tmp[n].from_len = is_default ? 0 : strlen(from);
        tmp[n].to_len = strlen(to);
        n++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ')')
            break;
        return cur_fail(c, c->p, err, "unexpected text in code table", "',' or ')'");
    }
    if (n == 0)
        return cur_fail(c, c->p, err, "empty code table", "at least one source:canonical entry");
    c->p++; /* ')' */
    xf->codes = arena_alloc(&def->arena, sizeof(CodeEntry) * (size_t) n);
    memcpy(xf->codes, tmp, sizeof(CodeEntry) * (size_t) n);
    xf->ncodes = n;
    return true;
}

/* [fields] line: canonical = column | xform | xform(args) ... */
static bool
parse_field_line(Cur *c, SourceDef *def, CbError *err)
{
    const char *key_at = c->p;
    char *key;
    if (!read_token(c, &def->arena, "=", &key, err))
        return false;
    if (c->p >= c->end || *c->p != '=')
        return cur_fail(c, c->p, err, "missing '='", "canonical_field = column | transform ...");
    c->p++;
    skip_ws(c);
    int fi = factkind_field(def->kind, key);
    if (fi < 0) {
        CB_FAIL(err, CBERR_INPUT, "unknown field \"%s\" for fact kind %s", key,
                factkind_name(def->kind));
        cb_error_at(err, "%s:%d:%d", c->path, c->lineno, col_of(c, key_at));
        char allowed[512] = "";
        const KindSpec *ks = factkind_spec(def->kind);
        for (int i = 0; ks->fields[i].name; i++) {
            strncat(allowed, i ? ", " : "", sizeof allowed - strlen(allowed) - 1);
            strncat(allowed, ks->fields[i].name, sizeof allowed - strlen(allowed) - 1);
        }
        cb_error_hint(err, "expected one of: %s", allowed);
        return false;
    }
    for (int i = 0; i < def->nfields; i++)
        if (def->fields[i].field == fi)
            return cur_fail(c, key_at, err, "field mapped twice", "each canonical field once");
    const FieldSpec *fs = &factkind_spec(def->kind)->fields[fi];
    FieldMap *fm = &def->fields[def->nfields];
    memset(fm, 0, sizeof *fm);
    fm->field = fi;
    fm->line = c->lineno;

    const char *col_at = c->p;
    char *column;
    if (!read_token(c, &def->arena, "|", &column, err))
        return false;
    if (column[0] == '\0')
        return cur_fail(c, col_at, err, "missing source column", def->header ? "a column name" : "a column position (1, 2, ...)");
    if (def->format == RF_FIXED) {
        char *endp, *endp2;
        long a = strtol(column, &endp, 10), b = -1;
        if (*endp == '-')
            b = strtol(endp + 1, &endp2, 10);
        if (*endp != '-' || *endp2 != '\0' || a < 1 || b < a || b > 1000000)
            return cur_fail(c, col_at, err, "bad fixed-width position",
                            "first-last, 1-based and inclusive, e.g. 1-18");
        fm->fixed_start = (uint32_t) a;
        fm->fixed_end = (uint32_t) b;
    } else if (def->header || def->format == RF_XML || def->format == RF_JSONL) {
        fm->column = column;
    } else {
        char *endp;
        long pos = strtol(column, &endp, 10);
        if (*endp != '\0' || pos < 1 || pos > 4096)
            return cur_fail(c, col_at, err, "bad column position", "a number from 1 (header = no)");
        fm->position = (int) pos;
    }

    int produced = -1;   /* type produced so far by typed transforms */
    while (c->p < c->end && *c->p == '|') {
        c->p++;
        skip_ws(c);
        const char *xf_at = c->p;
        const char *s = c->p;
        while (c->p < c->end && (isalnum((unsigned char) *c->p) || *c->p == '_'))
            c->p++;
        size_t len = (size_t) (c->p - s);
        Xform *xf = NULL;
        if (fm->nxf == FIELDMAP_MAX_XFORMS)
            return cur_fail(c, xf_at, err, "too many transforms", "at most 8 per field");
        for (size_t i = 0; i < sizeof xform_table / sizeof xform_table[0]; i++)
            if (strlen(xform_table[i].name) == len && strncmp(s, xform_table[i].name, len) == 0) {
                xf = &fm->xf[fm->nxf];
                memset(xf, 0, sizeof *xf);
                xf->op = xform_table[i].op;
            }
        if (xf == NULL)
            return cur_fail(c, xf_at, err, "unknown transform",
                            "one of trim, name, idnum, date, month, money, int, code(...), default(...), split(...)");
        skip_ws(c);
        if (xf->op == XF_SPLIT) {
            /* split(;、,): one record per value of the cell; first in the chain, not for the
             * register (a person is one row) */
            if (fm->nxf > 0)
                return cur_fail(c, xf_at, err, "split() after another transform", "split(...) first, right after the column");
            if (def->kind == FK_REGISTER)
                return cur_fail(c, xf_at, err, "split() in a register definition", "one person per register row: no split()");
            if (c->p >= c->end || *c->p != '(')
                return cur_fail(c, c->p, err, "missing '(' after transform", "split(separators), e.g. split(;、,)");
            c->p++;
            const char *arg_at = c->p;
            char *v;
            if (!read_token(c, &def->arena, ")", &v, err))
                return false;
            if (c->p >= c->end || *c->p != ')')
                return cur_fail(c, c->p, err, "missing ')'", "split(separators)");
            if (v[0] == '\0')
                return cur_fail(c, arg_at, err, "split() without separators", "the characters that separate the values, e.g. split(;、,)");
            c->p++;
            xf->arg = v;
        } else if (xf->op == XF_CODE || xf->op == XF_DEFAULT) {
            if (c->p >= c->end || *c->p != '(')
                return cur_fail(c, c->p, err, "missing '(' after transform", xf->op == XF_CODE ? "code(a:x, b:y)" : "default(value)");
            c->p++;
            if (xf->op == XF_CODE) {
                if (produced >= 0)
                    return cur_fail(c, xf_at, err, "code() after a typed transform", "code() before date/money/...");
                if (!parse_code_args(c, def, fs, xf, err))
                    return false;
            } else {
                char *v;
                if (!read_token(c, &def->arena, ")", &v, err))
                    return false;
                if (c->p >= c->end || *c->p != ')')
                    return cur_fail(c, c->p, err, "missing ')'", "default(value)");
                c->p++;
                xf->arg = v;
            }
        } else {
            int t = xform_type(xf->op);
            if (t >= 0) {
                if ((FieldType) t != fs->type) {
                    CB_FAIL(err, CBERR_INPUT, "transform %s gives %s, but field %s is %s",
                            xform_name(xf->op), type_name((FieldType) t), fs->name,
                            type_name(fs->type));
                    cb_error_at(err, "%s:%d:%d", c->path, c->lineno, col_of(c, xf_at));
                    return false;
                }
                produced = t;
            }
        }
        fm->nxf++;
        skip_ws(c);
    }
    if (c->p < c->end && *c->p != '#')
        return cur_fail(c, c->p, err, "unexpected text after field mapping", "'|' and a transform, or end of line");
    if (fs->type == FT_ENUM) {
        bool has_code = false;
        for (int i = 0; i < fm->nxf; i++)
            has_code |= fm->xf[i].op == XF_CODE;
        if (!has_code)
            return cur_fail(c, col_at, err, "a code field needs a code table",
                            "| code(source:canonical, ...)");
    }
    def->nfields++;
    return true;
}

static bool
parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0) {
        *out = false;
        return true;
    }
    return false;
}

static bool
parse_source_line(Cur *c, SourceDef *def, bool *seen_fact, CbError *err)
{
    const char *key_at = c->p;
    char *key, *val;
    if (!read_token(c, &def->arena, "=", &key, err))
        return false;
    if (c->p >= c->end || *c->p != '=')
        return cur_fail(c, c->p, err, "missing '='", "key = value");
    c->p++;
    const char *val_at = c->p;
    skip_ws(c);
    val_at = c->p;

    if (strcmp(key, "files") == 0) {
        while (c->p < c->end && *c->p != '#') {
            char *g;
            if (def->nglobs == SOURCEDEF_MAX_GLOBS)
                return cur_fail(c, c->p, err, "too many file patterns", "at most 8");
            if (!read_token(c, &def->arena, ",", &g, err))
                return false;
            if (g[0] == '\0')
                return cur_fail(c, c->p, err, "empty file pattern", "a glob such as police_*.csv");
            def->globs[def->nglobs++] = g;
            if (c->p < c->end && *c->p == ',')
                c->p++;
        }
        return true;
    }
    if (!read_token(c, &def->arena, "", &val, err))
        return false;
    if (c->p < c->end && *c->p != '#')
        return cur_fail(c, c->p, err, "unexpected text after value", "end of line");

    if (strcmp(key, "name") == 0) {
        for (const char *q = val; *q; q++)
            if (!isalnum((unsigned char) *q) && *q != '_')
                return cur_fail(c, val_at, err, "bad source name", "letters, digits and _");
        if (val[0] == '\0')
            return cur_fail(c, val_at, err, "empty source name", "a name such as police_register");
        def->name = val;
    } else if (strcmp(key, "agency") == 0) {
        def->agency = val;
    } else if (strcmp(key, "fact") == 0) {
        if (!factkind_lookup(val, &def->kind))
            return cur_fail(c, val_at, err, "unknown fact kind",
                            "register, death, resident_pension, pension_payment, employee_pension, "
                            "institution_pension, student, prison, disability, dibao, tekun, "
                            "poor_household, provident_fund, employee_medical, medical_claim, "
                            "enterprise_roster, tax_collection or certification");
        *seen_fact = true;
    } else if (strcmp(key, "evidence") == 0) {
        if (!evidence_lookup(val, &def->evidence))
            return cur_fail(c, val_at, err, "unknown evidence", "police, health, civil, court or medical");
    } else if (strcmp(key, "format") == 0) {
        static const struct { const char *n; ReaderFormat f; } fm[] = {
            {"csv", RF_CSV}, {"xml", RF_XML}, {"xlsx", RF_XLSX}, {"fixed", RF_FIXED}, {"jsonl", RF_JSONL}};
        bool found = false;
        for (size_t i = 0; i < sizeof fm / sizeof fm[0]; i++)
            if (strcmp(val, fm[i].n) == 0) {
                def->format = fm[i].f;
                found = true;
            }
        if (!found)
            return cur_fail(c, val_at, err, "unknown format", "csv, xml, xlsx, fixed or jsonl");
    } else if (strcmp(key, "record") == 0) {
        if (val[0] == '\0')
            return cur_fail(c, val_at, err, "empty record path", "the record element, e.g. //记录 or data/row");
        def->record_path = val;
    } else if (strcmp(key, "manifest") == 0 || strcmp(key, "signature") == 0) {
        if (val[0] == '\0')
            return cur_fail(c, val_at, err, "empty file pattern", "a glob such as police_*.manifest");
        if (key[0] == 'm')
            def->manifest = val;
        else
            def->signature = val;
    } else if (strcmp(key, "public_key") == 0) {
        if (val[0] == '\0')
            return cur_fail(c, val_at, err, "empty key file name", "a PEM file, relative to this definition's folder");
        if (val[0] == '/') {
            def->public_key = val;
        } else {
            const char *slash = strrchr(def->path, '/');
            size_t dl = slash ? (size_t) (slash - def->path) + 1 : 0;
            char *full = arena_alloc(&def->arena, dl + strlen(val) + 1);
            memcpy(full, def->path, dl);
            strcpy(full + dl, val);
            def->public_key = full;
        }
    } else if (strcmp(key, "sheet") == 0) {
        def->sheet = val;
    } else if (strcmp(key, "positions") == 0) {
        if (strcmp(val, "bytes") == 0)
            def->fixed_chars = false;
        else if (strcmp(val, "characters") == 0)
            def->fixed_chars = true;
        else
            return cur_fail(c, val_at, err, "bad value", "bytes or characters");
    } else if (strcmp(key, "max_depth") == 0) {
        char *endp;
        long v = strtol(val, &endp, 10);
        if (*endp != '\0' || v < 2 || v > 10000)
            return cur_fail(c, val_at, err, "bad nesting limit", "a number from 2 to 10000");
        def->max_depth = (int) v;
    } else if (strcmp(key, "encoding") == 0) {
        if (strcasecmp(val, "utf-8") == 0 || strcasecmp(val, "utf8") == 0)
            def->encoding = ENC_UTF8;
        else if (strcasecmp(val, "gbk") == 0)
            def->encoding = ENC_GBK;
        else if (strcasecmp(val, "gb18030") == 0)
            def->encoding = ENC_GB18030;
        else
            return cur_fail(c, val_at, err, "unknown encoding", "utf-8, gbk or gb18030");
    } else if (strcmp(key, "header") == 0) {
        if (!parse_bool(val, &def->header))
            return cur_fail(c, val_at, err, "bad value", "yes or no");
    } else if (strcmp(key, "required") == 0) {
        if (!parse_bool(val, &def->required))
            return cur_fail(c, val_at, err, "bad value", "yes or no");
    } else if (strcmp(key, "history") == 0) {
        if (strcmp(val, "all") == 0)
            def->history = HISTORY_ALL;
        else if (strcmp(val, "latest") == 0)
            def->history = HISTORY_LATEST;
        else
            return cur_fail(c, val_at, err, "bad history", "all (every record) or latest (per person, by date)");
        def->history_line = c->lineno;
    } else if (strcmp(key, "max_age") == 0) {
        char *endp;
        long v = strtol(val, &endp, 10);
        while (*endp == ' ' || *endp == '\t')
            endp++;
        if (endp == val || v < 1 || v > 366 || (strcmp(endp, "days") != 0 && strcmp(endp, "day") != 0))
            return cur_fail(c, val_at, err, "bad maximum age", "a number of days from 1 to 366, e.g. 3 days");
        def->max_age_days = (int) v;
        def->max_age_line = c->lineno;
    } else if (strcmp(key, "delimiter") == 0 || strcmp(key, "quote") == 0) {
        if (strlen(val) != 1 || (unsigned char) val[0] >= 0x80 || val[0] == '\n' || val[0] == '\r')
            return cur_fail(c, val_at, err, "bad character", "one ASCII character, e.g. \",\" or \"\\t\"");
        if (key[0] == 'd')
            def->delimiter = val[0];
        else
            def->quote = val[0];
    } else if (strcmp(key, "max_record_bytes") == 0) {
        char *endp;
        long long v = strtoll(val, &endp, 10);
        if (*endp != '\0' || v < 64 || v > (1LL << 30))
            return cur_fail(c, val_at, err, "bad record size limit", "a number of bytes from 64 to 1073741824");
        def->max_record_bytes = (size_t) v;
    } else {
        return cur_fail(c, key_at, err, "unknown key in [source]",
                        "name, agency, fact, evidence, files, format, encoding, header, delimiter, quote, required, "
                        "history, max_age, max_record_bytes, record, sheet, positions, max_depth, manifest, signature or public_key");
    }
    return true;
}

bool
sourcedef_parse(const char *path, const char *text, size_t len, SourceDef *def, CbError *err)
{
    memset(def, 0, sizeof *def);
    arena_init(&def->arena, 16384);
    def->path = arena_strdup(&def->arena, path);
    def->format = RF_CSV;
    def->encoding = ENC_UTF8;
    def->header = true;
    def->delimiter = ',';
    def->quote = '"';
    def->required = false;
    def->max_record_bytes = 1 << 20;
    def->evidence = EV_COUNT;

    enum { SEC_NONE, SEC_SOURCE, SEC_FIELDS } sec = SEC_NONE;
    bool seen_source = false, seen_fields = false, seen_fact = false;
    Cur c = {.path = path, .lineno = 0};
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl : end;
        c.lineno++;
        c.line = c.p = p;
        c.end = le;
        if (c.end > c.line && c.end[-1] == '\r')
            c.end--;
        p = nl ? nl + 1 : end;
        if (memchr(c.line, '\0', (size_t) (c.end - c.line)) != NULL)
            return cur_fail(&c, c.line, err, "NUL byte in definition", "a text file");
        skip_ws(&c);
        if (c.p == c.end || *c.p == '#' || *c.p == ';')
            continue;
        if (*c.p == '[') {
            const char *s = c.p;
            const char *close = memchr(s, ']', (size_t) (c.end - s));
            if (close == NULL)
                return cur_fail(&c, s, err, "unterminated section header", "[source] or [fields]");
            size_t n = (size_t) (close - s - 1);
            if (n == 6 && strncmp(s + 1, "source", 6) == 0) {
                if (seen_source)
                    return cur_fail(&c, s, err, "second [source] section", "one [source] section");
                sec = SEC_SOURCE;
                seen_source = true;
            } else if (n == 6 && strncmp(s + 1, "fields", 6) == 0) {
                if (!seen_fact)
                    return cur_fail(&c, s, err, "[fields] before the fact kind is known",
                                    "[source] with fact = ... first");
                if (seen_fields)
                    return cur_fail(&c, s, err, "second [fields] section", "one [fields] section");
                sec = SEC_FIELDS;
                seen_fields = true;
            } else {
                return cur_fail(&c, s, err, "unknown section", "[source] or [fields]");
            }
            c.p = close + 1;
            skip_ws(&c);
            if (c.p < c.end && *c.p != '#')
                return cur_fail(&c, c.p, err, "unexpected text after section header", "end of line");
            continue;
        }
        if (sec == SEC_NONE)
            return cur_fail(&c, c.p, err, "setting outside a section", "[source] first");
        if (sec == SEC_SOURCE ? !parse_source_line(&c, def, &seen_fact, err)
                              : !parse_field_line(&c, def, err))
            return false;
    }

    Cur whole = {.path = path, .lineno = c.lineno, .line = "", .p = "", .end = ""};
    if (def->name == NULL)
        return cur_fail(&whole, whole.line, err, "definition has no name", "name = ... in [source]");
    if (!seen_fact)
        return cur_fail(&whole, whole.line, err, "definition has no fact kind", "fact = ... in [source]");
    if (def->nglobs == 0)
        return cur_fail(&whole, whole.line, err, "definition claims no files", "files = pattern, ... in [source]");
    if (def->agency == NULL)
        def->agency = def->name;
    if (def->kind == FK_DEATH && def->evidence == EV_COUNT)
        return cur_fail(&whole, whole.line, err, "death source without evidence kind",
                        "evidence = police, health, civil, court or medical");
    if (def->kind != FK_DEATH && def->evidence != EV_COUNT)
        return cur_fail(&whole, whole.line, err, "evidence is only for fact = death", "no evidence line");
    if (def->signature != NULL && (def->manifest == NULL || def->public_key == NULL))
        return cur_fail(&whole, whole.line, err, "signature without manifest or public key",
                        "manifest = ..., signature = ... and public_key = ... together");
    if (def->format == RF_XML && def->record_path == NULL)
        return cur_fail(&whole, whole.line, err, "xml source without record element",
                        "record = path of the element that holds one record, e.g. //记录");
    if (def->required && def->max_age_days > 0) {
        CB_FAIL(err, CBERR_INPUT, "max_age is for an optional source; %s is required", def->name);
        cb_error_at(err, "%s:%d:1", path, def->max_age_line);
        cb_error_hint(err, "required = no, to let the last good delivery stand in for a missing one");
        return false;
    }
    if (def->history == HISTORY_LATEST && def->kind == FK_RESIDENT_PENSION) {
        CB_FAIL(err, CBERR_INPUT, "history = latest is not for resident_pension: the nightly report counts every live enrolment");
        cb_error_at(err, "%s:%d:1", path, def->history_line);
        cb_error_hint(err, "history = all");
        return false;
    }
    if (def->history == HISTORY_LATEST && factkind_d1_type(def->kind) < 0) {
        CB_FAIL(err, CBERR_INPUT, "history = latest needs a date: fact kind %s has no date or month in its first date slot",
                factkind_spec(def->kind)->name);
        cb_error_at(err, "%s:%d:1", path, def->history_line);
        cb_error_hint(err, "history = all");
        return false;
    }
    if (def->delimiter == def->quote)
        return cur_fail(&whole, whole.line, err, "delimiter and quote are the same character", "two different characters");
    const KindSpec *ks = factkind_spec(def->kind);
    for (int i = 0; ks->fields[i].name; i++) {
        if (!ks->fields[i].required)
            continue;
        bool mapped = false;
        for (int j = 0; j < def->nfields; j++)
            mapped |= def->fields[j].field == i;
        if (!mapped) {
            CB_FAIL(err, CBERR_INPUT, "required field %s of fact kind %s is not mapped",
                    ks->fields[i].name, ks->name);
            cb_error_at(err, "%s:%d:%d", path, whole.lineno, col_of(&whole, whole.line));
            cb_error_hint(err, "add \"%s = <column>\" under [fields]", ks->fields[i].name);
            return false;
        }
    }
    return true;
}

bool
sourcedef_load(const char *path, SourceDef *def, CbError *err)
{
    memset(def, 0, sizeof *def);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open definition: %m");
        cb_error_at(err, "%s", path);
        return false;
    }
    char *buf = xmalloc(MAX_DEF_BYTES + 1);
    size_t n = fread(buf, 1, MAX_DEF_BYTES + 1, f);
    bool ok;
    if (ferror(f)) {
        ok = CB_FAIL(err, CBERR_IO, "could not read definition: %m");
        cb_error_at(err, "%s", path);
    } else if (n > MAX_DEF_BYTES) {
        ok = CB_FAIL(err, CBERR_INPUT, "definition larger than 1 MiB");
        cb_error_at(err, "%s", path);
    } else {
        ok = sourcedef_parse(path, buf, n, def, err);
    }
    free(buf);
    fclose(f);
    if (!ok)
        sourcedef_free(def);
    return ok;
}

void
sourcedef_free(SourceDef *def)
{
    arena_free(&def->arena);
    memset(def, 0, sizeof *def);
}

bool
sourcedef_claims(const SourceDef *def, const char *file_name)
{
    for (int i = 0; i < def->nglobs; i++)
        if (fnmatch(def->globs[i], file_name, 0) == 0)
            return true;
    return false;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

bool
sourcedefs_load_dir(const char *dir, SourceDef **defs, int *n, CbError *err)
{
    *defs = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open connector definitions folder: %m");
        cb_error_at(err, "%s", dir);
        return false;
    }
    char **names = NULL;
    int nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0 || de->d_name[0] == '.')
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 32;
            names = xrealloc(names, sizeof(char *) * (size_t) cap);
        }
        names[nn++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (nn > 1)   /* names is NULL when nothing matched: qsort must not see it */
        qsort(names, (size_t) nn, sizeof(char *), cmp_str);
    SourceDef *out = xcalloc((size_t) (nn ? nn : 1), sizeof(SourceDef));
    bool ok = true;
    int loaded = 0;
    for (int i = 0; i < nn && ok; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        ok = sourcedef_load(path, &out[loaded], err);
        if (!ok)
            break;
        for (int j = 0; j < loaded; j++)
            if (strcmp(out[j].name, out[loaded].name) == 0) {
                ok = CB_FAIL(err, CBERR_INPUT, "source name \"%s\" defined twice", out[j].name);
                cb_error_at(err, "%s", path);
                cb_error_detail(err, "also defined in %s", out[j].path);
            }
        loaded++;
    }
    for (int i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    if (!ok) {
        sourcedefs_free(out, loaded);
        return false;
    }
    if (nn == 0) {
        free(out);
        CB_FAIL(err, CBERR_INPUT, "no connector definitions (*.conf) found");
        cb_error_at(err, "%s", dir);
        return false;
    }
    *defs = out;
    *n = loaded;
    return true;
}

void
sourcedefs_free(SourceDef *defs, int n)
{
    for (int i = 0; i < n; i++)
        sourcedef_free(&defs[i]);
    free(defs);
}
