/*
 * rules_lex — the tokens of a rule file.
 *
 * Names are ASCII letters, digits and '_' (Chinese text goes in "quotes"); `$name` is a
 * parameter; numbers are digits with an optional fraction (1200.50); 2026-11-28 is a date and
 * 2026-11 a month when written without spaces; "text" takes \" and \\ escapes and any UTF-8;
 * `#` starts a comment that runs to the end of the line.  Line ends are ordinary white space.
 * Every token records its line and column (columns count characters).  A lexical error is
 * reported with its position and the file's tokens are not used.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules_int.h"
#include "text.h"

typedef struct Lexer {
    RuleSet    *rs;
    uint16_t    file;
    const char *s;
    size_t      n, i;
    int         line, col;
} Lexer;

static void
advance(Lexer *lx, size_t k)
{
    while (k-- > 0 && lx->i < lx->n) {
        unsigned char ch = (unsigned char) lx->s[lx->i++];
        if (ch == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            lx->col++;
        }
    }
}

static bool
lex_error(Lexer *lx, int line, int col, const char *hint, const char *msg)
{
    rdiag(lx->rs, lx->file, line, col, hint, "%s", msg);
    return false;
}

static Token *
push(Lexer *lx, Vec *toks, TokKind kind, size_t start, int line, int col)
{
    Token *t = vec_push(toks);
    t->kind = (uint8_t) kind;
    t->file = lx->file;
    t->line = line;
    t->col = col;
    t->off = (uint32_t) start;
    t->len = (uint32_t) (lx->i - start);
    t->src = lx->s + start;
    return t;
}

static bool
is_digit_at(const Lexer *lx, size_t i)
{
    return i < lx->n && isdigit((unsigned char) lx->s[i]);
}

static bool
is_name_at(const Lexer *lx, size_t i)
{
    return i < lx->n && (isalnum((unsigned char) lx->s[i]) || lx->s[i] == '_');
}

static int
num_at(const Lexer *lx, size_t i, int n)
{
    int v = 0;
    for (int k = 0; k < n; k++)
        v = v * 10 + (lx->s[i + (size_t) k] - '0');
    return v;
}

static bool
lex_number(Lexer *lx, Vec *toks)
{
    size_t start = lx->i;
    int line = lx->line, col = lx->col;
    /* dates and months: 4 digits '-' 2 digits ['-' 2 digits], not followed by a name char */
    if (is_digit_at(lx, start + 3) && is_digit_at(lx, start + 1) && is_digit_at(lx, start + 2) &&
        start + 4 < lx->n && lx->s[start + 4] == '-' && is_digit_at(lx, start + 5) &&
        is_digit_at(lx, start + 6) && !is_digit_at(lx, start + 7)) {
        int y = num_at(lx, start, 4), m = num_at(lx, start + 5, 2);
        if (start + 7 < lx->n && lx->s[start + 7] == '-' && is_digit_at(lx, start + 8) &&
            is_digit_at(lx, start + 9) && !is_name_at(lx, start + 10)) {
            int d = num_at(lx, start + 8, 2);
            if (!date_valid_ymd(y, m, d))
                return lex_error(lx, line, col, "a calendar date YYYY-MM-DD", "invalid date");
            advance(lx, 10);
            Token *t = push(lx, toks, TK_DATE, start, line, col);
            t->num = date_from_ymd(y, m, d);
            return true;
        }
        if (!is_name_at(lx, start + 7)) {
            if (m < 1 || m > 12 || y < 1)
                return lex_error(lx, line, col, "a month YYYY-MM", "invalid month");
            advance(lx, 7);
            Token *t = push(lx, toks, TK_MONTH, start, line, col);
            t->num = rmonth(y, m);
            return true;
        }
    }
    int64_t v = 0;
    int scale = 0;
    size_t i = start;
    while (is_digit_at(lx, i)) {
        if (v > 99999999999999LL)
            return lex_error(lx, line, col, "a number below 10^15", "number too large");
        v = v * 10 + (lx->s[i++] - '0');
    }
    if (i < lx->n && lx->s[i] == '.' && is_digit_at(lx, i + 1)) {
        i++;
        while (is_digit_at(lx, i)) {
            if (scale == 6)
                return lex_error(lx, line, col, "at most six decimals", "too many decimals");
            v = v * 10 + (lx->s[i++] - '0');
            scale++;
        }
    }
    if (is_name_at(lx, i) && !isspace((unsigned char) lx->s[i])) {
        /* 16years: say what is wrong rather than lexing a name right after */
        if (isalpha((unsigned char) lx->s[i]) || lx->s[i] == '_') {
            lx->i = i;
            lx->col += (int) (i - start);
            return lex_error(lx, lx->line, lx->col, "a space between a number and its unit (16 years)",
                             "unexpected letter after a number");
        }
    }
    advance(lx, i - start);
    Token *t = push(lx, toks, TK_NUMBER, start, line, col);
    t->num = v;
    t->scale = scale;
    return true;
}

static bool
lex_string(Lexer *lx, Vec *toks)
{
    size_t start = lx->i;
    int line = lx->line, col = lx->col;
    size_t i = start + 1;
    char *buf = arena_alloc(&lx->rs->arena, lx->n - start + 1);
    size_t o = 0;
    while (i < lx->n && lx->s[i] != '"') {
        if (lx->s[i] == '\n')
            return lex_error(lx, line, col, "a closing '\"' on the same line", "unterminated text");
        if (lx->s[i] == '\\') {
            if (i + 1 < lx->n && (lx->s[i + 1] == '"' || lx->s[i + 1] == '\\')) {
                buf[o++] = lx->s[i + 1];
                i += 2;
                continue;
            }
            lx->i = i;
            return lex_error(lx, line, col + (int) (i - start), "\\\" or \\\\", "unknown escape in text");
        }
        buf[o++] = lx->s[i++];
    }
    if (i >= lx->n)
        return lex_error(lx, line, col, "a closing '\"'", "unterminated text");
    buf[o] = '\0';
    advance(lx, i + 1 - start);
    Token *t = push(lx, toks, TK_STRING, start, line, col);
    t->str = buf;
    t->slen = (uint32_t) o;
    return true;
}

bool
rules_lex(RuleSet *rs, uint16_t file, Vec *toks)
{
    const RuleFile *rf = &((const RuleFile *) rs->files.data)[file];
    Lexer lx = {.rs = rs, .file = file, .s = rf->text, .n = rf->len, .i = 0, .line = 1, .col = 1};
    /* the text must be UTF-8 so that columns and messages make sense */
    for (size_t i = 0; i < lx.n;) {
        size_t k = utf8_char_len((const unsigned char *) lx.s + i, lx.n - i);
        if (k == 0 || (k == 1 && lx.s[i] == '\0')) {
            Lexer at = lx;
            advance(&at, i);
            return lex_error(&at, at.line, at.col, "a UTF-8 text file", "invalid UTF-8 or NUL byte");
        }
        i += k;
    }
    while (lx.i < lx.n) {
        char ch = lx.s[lx.i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            advance(&lx, 1);
            continue;
        }
        if (ch == '#') {
            while (lx.i < lx.n && lx.s[lx.i] != '\n')
                advance(&lx, 1);
            continue;
        }
        size_t start = lx.i;
        int line = lx.line, col = lx.col;
        if (isdigit((unsigned char) ch)) {
            if (!lex_number(&lx, toks))
                return false;
            continue;
        }
        if (ch == '"') {
            if (!lex_string(&lx, toks))
                return false;
            continue;
        }
        if (isalpha((unsigned char) ch) || ch == '_' || ch == '$') {
            size_t i = lx.i + (ch == '$');
            if (ch == '$' && !(i < lx.n && (isalpha((unsigned char) lx.s[i]) || lx.s[i] == '_')))
                return lex_error(&lx, line, col, "a parameter name after '$' ($min_age)", "'$' without a name");
            while (is_name_at(&lx, i))
                i++;
            advance(&lx, i - start);
            Token *t = push(&lx, toks, ch == '$' ? TK_PARAM : TK_IDENT, start, line, col);
            size_t skip = ch == '$';
            t->str = arena_strndup(&rs->arena, lx.s + start + skip, i - start - skip);
            t->slen = (uint32_t) (i - start - skip);
            continue;
        }
        int p = 0;
        char c2 = lx.i + 1 < lx.n ? lx.s[lx.i + 1] : '\0';
        size_t w = 1;
        switch (ch) {
        case '(': case ')': case '{': case '}': case ',': case '.': case '+': case '-': case '*':
        case '/':
            p = ch;
            break;
        case '=':
            p = c2 == '=' ? PU_EQ : '=';
            break;
        case '!':
            if (c2 != '=')
                return lex_error(&lx, line, col, "!= (or the word not)", "unexpected character '!'");
            p = PU_NE;
            break;
        case '<':
            p = c2 == '=' ? PU_LE : '<';
            break;
        case '>':
            p = c2 == '=' ? PU_GE : '>';
            break;
        default: {
            char msg[64];
            size_t k = utf8_char_len((const unsigned char *) lx.s + lx.i, lx.n - lx.i);
            snprintf(msg, sizeof msg, "unexpected character '%.*s'", (int) k, lx.s + lx.i);
            return lex_error(&lx, line, col,
                             (unsigned char) ch >= 0x80
                                 ? "names are ASCII letters, digits and _; Chinese text goes in \"quotes\""
                                 : "a name, a number, a \"text\", an operator or a bracket",
                             msg);
        }
        }
        if (p >= 256)
            w = 2;
        advance(&lx, w);
        Token *t = push(&lx, toks, TK_PUNCT, start, line, col);
        t->punct = (int16_t) p;
    }
    Token *eof = vec_push(toks);
    eof->kind = TK_EOF;
    eof->file = file;
    eof->line = lx.line;
    eof->col = lx.col;
    eof->off = (uint32_t) lx.n;
    return true;
}

const char *
rules_token_text(const Token *t, char *buf, size_t n)
{
    switch (t->kind) {
    case TK_EOF:
        snprintf(buf, n, "end of file");
        break;
    case TK_STRING:
        snprintf(buf, n, "\"%.40s\"", t->str);
        break;
    case TK_PARAM:
        snprintf(buf, n, "$%s", t->str);
        break;
    case TK_IDENT:
        snprintf(buf, n, "%s", t->str);
        break;
    case TK_PUNCT:
        switch (t->punct) {
        case PU_EQ: snprintf(buf, n, "=="); break;
        case PU_NE: snprintf(buf, n, "!="); break;
        case PU_LE: snprintf(buf, n, "<="); break;
        case PU_GE: snprintf(buf, n, ">="); break;
        default: snprintf(buf, n, "%c", (char) t->punct); break;
        }
        break;
    default:
        snprintf(buf, n, "%.*s", (int) t->len, t->src);
        break;
    }
    return buf;
}
