/*
 * rules — loading a rule set: the folder, the version hash, and the stages (lex, parse, check).
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules_int.h"

#define RULE_FILE_MAX (1 << 20)
#define RULE_FILES_MAX 64

RuleSet *
rules_new(void)
{
    RuleSet *rs = xcalloc(1, sizeof *rs);
    arena_init(&rs->arena, 64 << 10);
    vec_init(&rs->files, sizeof(RuleFile));
    vec_init(&rs->nodes, sizeof(Node));
    vec_init(&rs->args, sizeof(int32_t));
    vec_init(&rs->defines, sizeof(Define));
    vec_init(&rs->lists, sizeof(ListDef));
    vec_init(&rs->refs, sizeof(RefDecl));
    vec_init(&rs->tallies, sizeof(Tally));
    vec_init(&rs->tests, sizeof(TestCase));
    vec_reserve(&rs->nodes, 4096);
    return rs;
}

void
rules_free(RuleSet *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->tests.len; i++) {
        TestCase *tc = &((TestCase *) rs->tests.data)[i];
        vec_free(&tc->given);
        vec_free(&tc->expect);
    }
    vec_free(&rs->files);
    vec_free(&rs->nodes);
    vec_free(&rs->args);
    vec_free(&rs->defines);
    vec_free(&rs->lists);
    vec_free(&rs->refs);
    vec_free(&rs->tallies);
    vec_free(&rs->tests);
    params_free(&rs->params);
    arena_free(&rs->arena);
    free(rs);
}

const char *
rules_version(const RuleSet *rs)
{
    return rs->version;
}

const char *
rules_param_text(const RuleSet *rs, const char *name)
{
    const Param *p = params_find(&rs->params, name);
    return p ? p->text : NULL;
}

RuleStats
rules_stats(const RuleSet *rs)
{
    RuleStats s = {
        .files = (int) rs->files.len,
        .lists = (int) rs->lists.len,
        .defines = (int) rs->defines.len,
        .params = rs->params.n,
        .references = (int) rs->refs.len,
        .tests = (int) rs->tests.len,
    };
    return s;
}

static const char *base_name(const char *path);

uint16_t
rules_add_file(RuleSet *rs, const char *path, const char *text)
{
    RuleFile *rf = vec_push(&rs->files);
    rf->path = arena_strdup(&rs->arena, path);
    rf->name = base_name(rf->path);
    rf->len = strlen(text);
    rf->text = arena_strndup(&rs->arena, text, rf->len);
    return (uint16_t) (rs->files.len - 1);
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* SHA-256 over each rule file's base name, length and bytes (in the given order, which is
 * file-name order), then the parameters file's. */
static void
hash_set(RuleSet *rs, const char *params_text)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    char head[600];
    for (size_t i = 0; i < rs->files.len; i++) {
        const RuleFile *rf = &((const RuleFile *) rs->files.data)[i];
        int n = snprintf(head, sizeof head, "%s\n%zu\n", rf->name, rf->len);
        EVP_DigestUpdate(ctx, head, (size_t) n);
        EVP_DigestUpdate(ctx, rf->text, rf->len);
    }
    size_t plen = strlen(params_text);
    int n = snprintf(head, sizeof head, "parameters.conf\n%zu\n", plen);
    EVP_DigestUpdate(ctx, head, (size_t) n);
    EVP_DigestUpdate(ctx, params_text, plen);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(rs->version + 2 * i, 3, "%02x", md[i]);
}

/* The linkage parameters decide which facts reach a person, so they are part of the rule set's
 * version too: version = SHA-256(version of the rules, linkage.conf's bytes) when it exists. */
static void
fold_linkage_conf(RuleSet *rs, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/linkage.conf", dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, rs->version, strlen(rs->version));
    EVP_DigestUpdate(ctx, "\nlinkage.conf\n", 14);
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(ctx, buf, k);
    fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(rs->version + 2 * i, 3, "%02x", md[i]);
}

RuleSet *
rules_compile(const RuleSource *files, int n, const char *params_path, const char *params_text, CbError *err,
              Vec *diags)
{
    RuleSet *rs = rules_new();
    CbError local;
    rs->err = err ? err : &local;
    rs->diags = diags;
    memset(rs->err, 0, sizeof *rs->err);
    for (int i = 0; i < n; i++)
        rules_add_file(rs, files[i].path, files[i].text);
    hash_set(rs, params_text);
    CbError perr;
    if (!params_parse(params_path, params_text, &rs->params, &perr)) {
        rdiag_at(rs, perr.input_at, perr.hint, "%s", perr.message);
        /* keep going with no parameters: the rules' own errors are worth reporting too */
        params_parse(params_path, "", &rs->params, &perr);
    }
    bool ok = rs->nerrors == 0;
    Vec toks;
    vec_init(&toks, sizeof(Token));
    for (size_t i = 0; i < rs->files.len; i++) {
        toks.len = 0;
        if (!rules_lex(rs, (uint16_t) i, &toks) || !rules_parse(rs, (uint16_t) i, &toks))
            ok = false;
    }
    vec_free(&toks);
    if (ok)
        ok = rules_check(rs);
    if (!ok || rs->nerrors > 0) {
        rules_free(rs);
        return NULL;
    }
    rs->err = NULL;
    rs->diags = NULL;
    return rs;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
slurp(const char *path, CbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open rule file: %s", strerror(errno));
        cb_error_at(err, "%s", path);
        return NULL;
    }
    char *buf = xmalloc(RULE_FILE_MAX + 1);
    size_t n = fread(buf, 1, RULE_FILE_MAX, f);
    bool big = !feof(f) && fgetc(f) != EOF;
    fclose(f);
    if (big) {
        free(buf);
        CB_FAIL(err, CBERR_INPUT, "rule file larger than 1 MiB");
        cb_error_at(err, "%s", path);
        return NULL;
    }
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        CB_FAIL(err, CBERR_INPUT, "rule file holds a NUL byte");
        cb_error_at(err, "%s", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

RuleSet *
rules_load(const char *dir, CbError *err, Vec *diags)
{
    RuleSet *rs = NULL;
    char *names[RULE_FILES_MAX];
    char *texts[RULE_FILES_MAX];
    char *params_text = NULL;
    int n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        CB_FAIL(err, CBERR_IO, "could not open rules folder: %s", strerror(errno));
        cb_error_at(err, "%s", dir);
        return NULL;
    }
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0)
            continue;
        if (n == RULE_FILES_MAX) {
            ok = CB_FAIL(err, CBERR_INPUT, "more than %d rule files", RULE_FILES_MAX);
            cb_error_at(err, "%s", dir);
            break;
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t) n, sizeof(char *), cmp_str);
    int nt = 0;
    char path[4096];
    for (int i = 0; i < n && ok; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        texts[nt] = slurp(path, err);
        if (texts[nt] == NULL)
            ok = false;
        else
            nt++;
    }
    char ppath[4096];
    snprintf(ppath, sizeof ppath, "%s/parameters.conf", dir);
    if (ok) {
        params_text = slurp(ppath, err);
        ok = params_text != NULL;
    }
    if (ok && n == 0) {
        ok = CB_FAIL(err, CBERR_INPUT, "no rule files (*.rules) in the rules folder");
        cb_error_at(err, "%s", dir);
    }
    if (ok) {
        RuleSource src[RULE_FILES_MAX] = {{0}};
        char *paths[RULE_FILES_MAX];
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            paths[i] = xstrdup(path);
            src[i].path = paths[i];
            src[i].text = texts[i];
        }
        rs = rules_compile(src, n, ppath, params_text, err, diags);
        for (int i = 0; i < n; i++)
            free(paths[i]);
        if (rs != NULL)
            fold_linkage_conf(rs, dir);
    } else if (diags) {
        RuleDiag *dg = vec_push(diags);
        snprintf(dg->where, sizeof dg->where, "%s", err->input_at);
        snprintf(dg->message, sizeof dg->message, "%s", err->message);
        snprintf(dg->hint, sizeof dg->hint, "%s", err->hint);
    }
    for (int i = 0; i < nt; i++)
        free(texts[i]);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(params_text);
    return rs;
}
