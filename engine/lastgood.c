#include "lastgood.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "release.h"
#include "text.h"

static bool
io_fail(CbError *err, const char *what, const char *path)
{
    CB_FAIL(err, CBERR_IO, "%s: %s", what, strerror(errno));
    cb_error_at(err, "%s", path);
    return false;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The regular files of dir (no dot files), sorted, malloc'ed. */
static bool
scan(const char *dir, char ***out, int *n, CbError *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return io_fail(err, "could not open extracts folder", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        *out = xrealloc(*out, sizeof(char *) * (size_t) (*n + 1));
        (*out)[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(*out, (size_t) *n, sizeof(char *), cmp_str);
    return true;
}

static void
free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A file of the source: claimed by it, or its manifest or signature. */
static bool
belongs(const SourceDef *def, const char *name)
{
    return sourcedef_claims(def, name) || (def->manifest && fnmatch(def->manifest, name, 0) == 0) ||
           (def->signature && fnmatch(def->signature, name, 0) == 0);
}

static bool
death_essential(const SourceDef *def)
{
    return def->kind == FK_REGISTER ||
           (def->kind == FK_DEATH && (def->evidence == EV_POLICE || def->evidence == EV_HEALTH));
}

/* The newest dated folder of <state>/last_good/<source>/ on or before asof. */
static Day
newest_copy(const char *state_dir, const char *source, Day asof)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/last_good/%s", state_dir, source);
    DIR *d = opendir(dir);
    if (d == NULL)
        return DAY_NONE;
    Day best = DAY_NONE;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strlen(de->d_name) != 10)
            continue;
        Day day = date_parse(de->d_name, 10);
        if (day != DAY_NONE && day <= asof && (best == DAY_NONE || day > best))
            best = day;
    }
    closedir(d);
    return best;
}

static void
add_note(SourcePlan *plan, const char *fmt, const char *a, const char *b, const char *c)
{
    if (plan->nnotes >= LASTGOOD_NOTE_MAX)
        return;
    char *buf = plan->note_buf[plan->nnotes];
    snprintf(buf, sizeof plan->note_buf[0], fmt, a, b, c);
    plan->notes[plan->nnotes++] = buf;
}

static void
remove_stale_links(const char *state_dir)
{
    DIR *d = opendir(state_dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, ".input-", 7) != 0)
            continue;
        long pid = atol(de->d_name + 7);
        if (pid > 0 && pid != (long) getpid() && kill((pid_t) pid, 0) != 0 && errno == ESRCH) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", state_dir, de->d_name);
            release_remove_tree(p);
        }
    }
    closedir(d);
}

static bool
absolute(const char *path, char *out, size_t size, CbError *err)
{
    if (realpath(path, out) == NULL)
        return io_fail(err, "could not resolve path", path);
    (void) size;
    return true;
}

/* A folder of links to every file of the night and to the stand-ins' files. */
static bool
make_links(SourcePlan *plan, const char *extracts, char **names, int nn, const char *state_dir,
           CbError *err)
{
    char ext_abs[PATH_MAX], st_abs[PATH_MAX];
    if (!release_mkdirs(state_dir, err) || !absolute(extracts, ext_abs, sizeof ext_abs, err) ||
        !absolute(state_dir, st_abs, sizeof st_abs, err))
        return false;
    remove_stale_links(st_abs);
    snprintf(plan->input_dir, sizeof plan->input_dir, "%s/.input-%ld", st_abs, (long) getpid());
    release_remove_tree(plan->input_dir);
    if (mkdir(plan->input_dir, 0755) != 0)
        return io_fail(err, "could not create folder", plan->input_dir);
    plan->links = true;
    char from[PATH_MAX * 2], to[PATH_MAX * 2];
    for (int i = 0; i < nn; i++) {
        snprintf(from, sizeof from, "%s/%s", ext_abs, names[i]);
        snprintf(to, sizeof to, "%s/%s", plan->input_dir, names[i]);
        if (symlink(from, to) != 0)
            return io_fail(err, "could not link a delivery file", to);
    }
    for (int k = 0; k < plan->n; k++) {
        SourceStatus *s = &plan->src[k];
        if (s->status != SRC_LAST_GOOD)
            continue;
        char d[11], dir[PATH_MAX];
        date_format(s->data_asof, d);
        snprintf(dir, sizeof dir, "%s/last_good/%s/%s", st_abs, s->def->name, d);
        char **files = NULL;
        int nf = 0;
        if (!scan(dir, &files, &nf, err))
            return false;
        for (int i = 0; i < nf; i++) {
            snprintf(from, sizeof from, "%s/%s", dir, files[i]);
            snprintf(to, sizeof to, "%s/%s", plan->input_dir, files[i]);
            if (symlink(from, to) != 0) {
                log_warn("event=last_good_file_skipped source=%s file=%s note=\"%s\"", s->def->name, files[i],
                         errno == EEXIST ? "a file of tonight's delivery has the same name" : strerror(errno));
                continue;
            }
            if (sourcedef_claims(s->def, files[i]))
                s->nfiles++;
        }
        free_names(files, nf);
    }
    return true;
}

bool
lastgood_plan(const SourceDef *defs, int ndefs, const char *extracts, const char *state_dir, Day asof,
              SourcePlan *plan, CbError *err)
{
    memset(plan, 0, sizeof *plan);
    snprintf(plan->input_dir, sizeof plan->input_dir, "%s", extracts);
    plan->src = xcalloc((size_t) (ndefs ? ndefs : 1), sizeof(SourceStatus));
    plan->n = ndefs;
    char **names = NULL;
    int nn = 0;
    if (!scan(extracts, &names, &nn, err))
        return false;
    bool stand_in = false;
    for (int k = 0; k < ndefs; k++) {
        SourceStatus *s = &plan->src[k];
        s->def = &defs[k];
        s->death_essential = death_essential(&defs[k]);
        for (int i = 0; i < nn; i++)
            s->nfiles += sourcedef_claims(&defs[k], names[i]);
        if (s->nfiles > 0) {
            s->status = SRC_DELIVERED;
            s->data_asof = asof;
            continue;
        }
        s->status = SRC_MISSING;
        s->data_asof = DAY_NONE;
        if (defs[k].required || defs[k].max_age_days <= 0)
            continue;
        Day last = newest_copy(state_dir, defs[k].name, asof);
        char d[11];
        date_format(last, d);
        if (last != DAY_NONE && asof - last <= defs[k].max_age_days) {
            s->status = SRC_LAST_GOOD;
            s->data_asof = last;
            stand_in = true;
            log_warn("event=source_last_good source=%s data_asof=%s max_age_days=%d note=\"missing tonight; "
                     "its last good delivery stands in\"", defs[k].name, d, defs[k].max_age_days);
        } else if (last != DAY_NONE) {
            log_warn("event=source_missing source=%s last_good=%s max_age_days=%d note=\"missing tonight; "
                     "its last good delivery is too old to stand in\"", defs[k].name, d, defs[k].max_age_days);
        }
    }
    bool ok = !stand_in || make_links(plan, extracts, names, nn, state_dir, err);
    free_names(names, nn);
    return ok;
}

void
lastgood_after_load(SourcePlan *plan, const LoadReport *rep)
{
    for (int i = 0; i < rep->nstopped; i++)
        for (int k = 0; k < plan->n; k++) {
            const char *nm = plan->src[k].def->name;
            size_t l = strlen(nm);
            if (strncmp(rep->stopped[i], nm, l) == 0 && rep->stopped[i][l] == ':') {
                plan->src[k].status = SRC_STOPPED;
                plan->src[k].data_asof = DAY_NONE;
                plan->src[k].nfiles = 0;
            }
        }
    /* the notes and the incompleteness, in words for the outputs */
    plan->nnotes = 0;
    plan->deaths_incomplete[0] = '\0';
    size_t o = 0;
    for (int k = 0; k < plan->n; k++) {
        const SourceStatus *s = &plan->src[k];
        char d[11];
        date_format(s->data_asof, d);
        if (s->status == SRC_LAST_GOOD)
            add_note(plan, "%s（%s）数据截至 %s：本期未交付，沿用上次交付", s->def->name, s->def->agency, d);
        else if (s->status == SRC_MISSING)
            add_note(plan, "%s（%s）本期未交付，无可用的上次交付%s", s->def->name, s->def->agency, "");
        else if (s->status == SRC_STOPPED)
            add_note(plan, "%s（%s）本期交付未通过清单或签名校验，未读取%s", s->def->name, s->def->agency, "");
        if (s->death_essential && (s->status == SRC_MISSING || s->status == SRC_STOPPED) &&
            o < sizeof plan->deaths_incomplete - 128)
            o += (size_t) snprintf(plan->deaths_incomplete + o, sizeof plan->deaths_incomplete - o, "%s%s（%s）",
                                   o ? "、" : "", s->def->name, s->def->agency);
    }
}

char *
lastgood_json(const SourcePlan *plan)
{
    static const char *const names[] = {"delivered", "last_good", "missing", "stopped"};
    size_t cap = 512 + (size_t) plan->n * 600, o = 0;
    char *out = xmalloc(cap);
    out[o++] = '[';
    for (int k = 0; k < plan->n; k++) {
        const SourceStatus *s = &plan->src[k];
        char d[11];
        date_format(s->data_asof, d);
        if (k)
            out[o++] = ',';
        o += (size_t) snprintf(out + o, cap - o, "{\"source\":");
        o = json_str(out, cap, o, s->def->name);
        o += (size_t) snprintf(out + o, cap - o, ",\"agency\":");
        o = json_str(out, cap, o, s->def->agency);
        o += (size_t) snprintf(out + o, cap - o,
                               ",\"required\":%s,\"max_age_days\":%d,\"status\":\"%s\",\"files\":%d,"
                               "\"data_asof\":%s%s%s}",
                               s->def->required ? "true" : "false", s->def->max_age_days, names[s->status],
                               s->nfiles, d[0] ? "\"" : "", d[0] ? d : "null", d[0] ? "\"" : "");
    }
    out[o++] = ']';
    out[o] = '\0';
    return out;
}

static bool
copy_file(const char *from, const char *to, CbError *err)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return io_fail(err, "could not open", from);
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return io_fail(err, "could not create", to);
    }
    static char buf[1 << 16];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (ferror(in))
        ok = false;
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        ok = false;
    if (fclose(out) != 0)
        ok = false;
    fclose(in);
    if (!ok)
        return io_fail(err, "could not copy", to);
    return true;
}

static void
save_one(const SourceDef *def, const char *extracts, char **names, int nn, const char *state_dir, Day asof)
{
    char d[11], base[PATH_MAX], tmp[PATH_MAX + 32], final[PATH_MAX + 32];
    date_format(asof, d);
    snprintf(base, sizeof base, "%s/last_good/%s", state_dir, def->name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", base, d);
    snprintf(final, sizeof final, "%s/%s", base, d);
    Day newest = newest_copy(state_dir, def->name, INT32_MAX);
    if (newest != DAY_NONE && newest > asof)
        return;   /* a night before the newest copy (a rerun of an old night) keeps the newest */
    CbError err = {0};
    bool ok = release_mkdirs(base, &err);
    if (ok) {
        release_remove_tree(tmp);
        ok = mkdir(tmp, 0755) == 0 || io_fail(&err, "could not create folder", tmp);
    }
    int copied = 0;
    for (int i = 0; ok && i < nn; i++) {
        if (!belongs(def, names[i]))
            continue;
        char from[PATH_MAX * 2], to[PATH_MAX * 2];
        snprintf(from, sizeof from, "%s/%s", extracts, names[i]);
        snprintf(to, sizeof to, "%s/%s", tmp, names[i]);
        ok = copy_file(from, to, &err);
        copied++;
    }
    if (ok) {
        /* tonight's copy replaces the older ones (a same-night copy first moves aside) */
        char old[PATH_MAX + 40];
        snprintf(old, sizeof old, "%s/.%s.old", base, d);
        release_remove_tree(old);
        struct stat sb;
        if (stat(final, &sb) == 0 && rename(final, old) != 0)
            ok = io_fail(&err, "could not replace", final);
        if (ok && rename(tmp, final) != 0)
            ok = io_fail(&err, "could not rename", tmp);
        release_remove_tree(old);
    }
    if (!ok) {
        release_remove_tree(tmp);
        log_warn("event=last_good_not_saved source=%s note=\"%s: %s\"", def->name, err.input_at, err.message);
        return;
    }
    DIR *dd = opendir(base);
    struct dirent *de;
    while (dd != NULL && (de = readdir(dd)) != NULL) {
        if (strlen(de->d_name) != 10 || strcmp(de->d_name, d) == 0 || date_parse(de->d_name, 10) == DAY_NONE)
            continue;
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", base, de->d_name);
        release_remove_tree(p);
    }
    if (dd)
        closedir(dd);
    log_info("event=last_good_saved source=%s asof=%s files=%d", def->name, d, copied);
}

void
lastgood_save(const SourcePlan *plan, const char *extracts, const char *state_dir, Day asof)
{
    char **names = NULL;
    int nn = 0;
    bool scanned = false;
    for (int k = 0; k < plan->n; k++) {
        const SourceStatus *s = &plan->src[k];
        if (s->status != SRC_DELIVERED || s->def->required || s->def->max_age_days <= 0)
            continue;
        CbError err = {0};
        if (!scanned && !scan(extracts, &names, &nn, &err)) {
            log_warn("event=last_good_not_saved note=\"%s\"", err.message);
            return;
        }
        scanned = true;
        save_one(s->def, extracts, names, nn, state_dir, asof);
    }
    free_names(names, nn);
}

void
lastgood_free(SourcePlan *plan)
{
    if (plan->links)
        release_remove_tree(plan->input_dir);
    free(plan->src);
    memset(plan, 0, sizeof *plan);
}
