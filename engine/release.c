#include "release.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "crypto.h"
#include "log.h"
#include "parallel.h"

static bool
io_fail(CbError *err, const char *what, const char *path)
{
    CB_FAIL(err, CBERR_IO, "%s: %s", what, strerror(errno));
    cb_error_at(err, "%s", path);
    return false;
}

bool
release_mkdirs(const char *dir, CbError *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return io_fail(err, "could not create folder", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return io_fail(err, "could not create folder", tmp);
    return true;
}

bool
release_paths(Release *r, const char *out, Day asof, int64_t run_id, CbError *err)
{
    memset(r, 0, sizeof *r);
    char cwd[PATH_MAX] = "";
    if (out[0] != '/' && getcwd(cwd, sizeof cwd) == NULL)
        return io_fail(err, "could not find the working directory", ".");
    int n = snprintf(r->out, sizeof r->out, "%s%s%s", cwd, cwd[0] ? "/" : "", out);
    if (n <= 0 || (size_t) n >= sizeof r->out - 40)
        return CB_FAIL(err, CBERR_USAGE, "output folder path too long");
    size_t l = strlen(r->out);
    while (l > 1 && r->out[l - 1] == '/')
        r->out[--l] = '\0';
    if (strcmp(r->out, "/") == 0)
        return CB_FAIL(err, CBERR_USAGE, "the output folder cannot be /");
    snprintf(r->dir, sizeof r->dir, "%s.releases", r->out);
    char d[11];
    date_format(asof, d);
    if (run_id >= 0) {
        snprintf(r->name, sizeof r->name, "%s_run%lld", d, (long long) run_id);
        snprintf(r->staging, sizeof r->staging, "%s/.staging-%lld", r->dir, (long long) run_id);
    } else {
        snprintf(r->name, sizeof r->name, "%s_dryrun", d);
        snprintf(r->staging, sizeof r->staging, "%s/.dryrun-%ld", r->dir, (long) getpid());
    }
    snprintf(r->folder, sizeof r->folder, "%s/%s", r->dir, r->name);
    return true;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
release_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool
release_begin(const Release *r, CbError *err)
{
    if (!release_mkdirs(r->dir, err))
        return false;
    DIR *d = opendir(r->dir);
    if (d == NULL)
        return io_fail(err, "could not open the releases folder", r->dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", r->dir, de->d_name);
        if (strncmp(de->d_name, ".staging-", 9) == 0 && strcmp(p, r->staging) != 0) {
            if (r->name[0] && strstr(r->name, "_dryrun") != NULL)
                continue;   /* a dry run holds no lock: another run's staging may be live */
            log_warn("event=stale_staging_removed folder=%s note=\"left by a run that did not finish\"", p);
            release_remove_tree(p);
        } else if (strncmp(de->d_name, ".dryrun-", 8) == 0 && strcmp(p, r->staging) != 0) {
            long pid = atol(de->d_name + 8);
            if (pid > 0 && kill((pid_t) pid, 0) != 0 && errno == ESRCH)
                release_remove_tree(p);
        }
    }
    closedir(d);
    release_remove_tree(r->staging);
    if (mkdir(r->staging, 0755) != 0)
        return io_fail(err, "could not create the staging folder", r->staging);
    return true;
}

void
release_discard(const Release *r)
{
    if (r->staging[0])
        release_remove_tree(r->staging);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The regular files of dir but the manifest, sorted (malloc'ed names). */
static bool
list_files(const char *dir, char ***out, int *n, CbError *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return io_fail(err, "could not open folder", dir);
    char **names = NULL;
    int len = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, RELEASE_MANIFEST) == 0)
            continue;
        names = xrealloc(names, sizeof(char *) * (size_t) (len + 1));
        names[len++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t) len, sizeof(char *), cmp_str);
    *out = names;
    *n = len;
    return true;
}

static void
free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool
sync_path(const char *path, bool dir, CbError *err)
{
    int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, "could not open for sync", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0) {
        errno = e;
        return io_fail(err, "could not sync to disk", path);
    }
    return true;
}

/* The files of a seal, synced and hashed on several threads (par_each). */
typedef struct Seal {
    const char *folder;
    char      **names;
    char      (*hex)[65];
    uint64_t   *size;
    bool       *failed;              /* per file: it could not be sealed */
    CbError    *errs;                /* per file */
} Seal;

static bool
seal_file(void *arg, size_t i)
{
    Seal *sl = arg;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", sl->folder, sl->names[i]);
    struct stat sb;
    if (!sync_path(p, false, &sl->errs[i]) || !crypto_file_sha256(p, sl->hex[i], NULL, &sl->errs[i])) {
        sl->failed[i] = true;
        return false;
    }
    if (stat(p, &sb) == 0)
        sl->size[i] = (uint64_t) sb.st_size;
    return true;
}

bool
release_seal(const char *folder, int threads, int *nfiles, uint64_t *bytes, CbError *err)
{
    char **names = NULL;
    int n = 0;
    if (!list_files(folder, &names, &n, err))
        return false;
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", folder, RELEASE_MANIFEST);
    snprintf(final, sizeof final, "%s/%s", folder, RELEASE_MANIFEST);
    /* every file synced and hashed (a night's workbooks and lists: tens of megabytes, the
     * SHA-256 of which is most of the seal), on up to `threads` threads */
    size_t nn = (size_t) (n > 0 ? n : 1);
    Seal sl = {.folder = folder, .names = names, .hex = xcalloc(nn, sizeof *sl.hex),
               .size = xcalloc(nn, sizeof *sl.size), .failed = xcalloc(nn, sizeof *sl.failed),
               .errs = xcalloc(nn, sizeof *sl.errs)};
    (void) par_each((size_t) n, threads, seal_file, &sl);   /* the failure: by name, below */
    bool ok = true;
    for (int i = 0; ok && i < n; i++)   /* the first file by name that failed, whatever the threads */
        if (sl.failed[i]) {
            *err = sl.errs[i];
            ok = false;
        }
    FILE *m = ok ? fopen(tmp, "w") : NULL;
    if (ok && m == NULL)
        ok = io_fail(err, "could not write the checksum manifest", tmp);
    uint64_t total = 0;
    for (int i = 0; ok && i < n; i++) {
        total += sl.size[i];
        fprintf(m, "%s  %s\n", sl.hex[i], names[i]);
    }
    free(sl.hex);
    free(sl.size);
    free(sl.failed);
    free(sl.errs);
    if (m != NULL) {
        if (ok && (fflush(m) != 0 || ferror(m) || fsync(fileno(m)) != 0))
            ok = io_fail(err, "could not write the checksum manifest", tmp);
        if (fclose(m) != 0 && ok)
            ok = io_fail(err, "could not write the checksum manifest", tmp);
    }
    if (ok && rename(tmp, final) != 0)
        ok = io_fail(err, "could not write the checksum manifest", final);
    if (ok)
        ok = sync_path(folder, true, err);
    if (!ok)
        unlink(tmp);
    if (ok && nfiles)
        *nfiles = n;
    if (ok && bytes)
        *bytes = total;
    free_names(names, n);
    return ok;
}

bool
release_verify(const char *folder, CbError *err)
{
    char mpath[PATH_MAX];
    snprintf(mpath, sizeof mpath, "%s/%s", folder, RELEASE_MANIFEST);
    FILE *m = fopen(mpath, "r");
    if (m == NULL)
        return io_fail(err, "no checksum manifest", mpath);
    char **names = NULL;
    int n = 0;
    if (!list_files(folder, &names, &n, err)) {
        fclose(m);
        return false;
    }
    bool ok = true;
    int listed = 0;
    char line[PATH_MAX + 80];
    while (ok && fgets(line, sizeof line, m) != NULL) {
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\n')
            line[--l] = '\0';
        if (l < 67 || line[64] != ' ' || line[65] != ' ') {
            ok = CB_FAIL(err, CBERR_IO, "malformed line in the checksum manifest");
            cb_error_at(err, "%s", mpath);
            break;
        }
        const char *name = line + 66;
        char **hit = bsearch(&name, names, (size_t) n, sizeof(char *), cmp_str);
        char p[PATH_MAX], hex[65];
        snprintf(p, sizeof p, "%s/%s", folder, name);
        if (hit == NULL) {
            ok = CB_FAIL(err, CBERR_IO, "a file of the checksum manifest is missing");
            cb_error_at(err, "%s", p);
        } else if (!crypto_file_sha256(p, hex, NULL, err)) {
            ok = false;
        } else if (memcmp(hex, line, 64) != 0) {
            ok = CB_FAIL(err, CBERR_IO, "checksum mismatch");
            cb_error_at(err, "%s", p);
        } else {
            listed++;
        }
    }
    fclose(m);
    if (ok && listed != n) {
        ok = CB_FAIL(err, CBERR_IO, "%d files in the folder, %d in its checksum manifest", n, listed);
        cb_error_at(err, "%s", folder);
    }
    free_names(names, n);
    return ok;
}

bool
release_install(const Release *r, CbError *err)
{
    struct stat sb;
    if (stat(r->folder, &sb) == 0 && S_ISDIR(sb.st_mode) && lstat(r->staging, &sb) != 0)
        return true;   /* done before */
    if (rename(r->staging, r->folder) != 0)
        return io_fail(err, "could not move the staging folder to its release name", r->folder);
    return sync_path(r->dir, true, err);
}

static void
base_and_parent(const char *path, char *parent, size_t psize, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash + 1;
    size_t pl = (size_t) (slash - path);
    if (pl == 0)
        pl = 1;   /* "/x" */
    snprintf(parent, psize, "%.*s", (int) pl, path);
}

bool
release_switch(const Release *r, CbError *err)
{
    char parent[PATH_MAX], target[PATH_MAX];
    const char *base;
    base_and_parent(r->out, parent, sizeof parent, &base);
    /* relative, so that the whole tree can move */
    snprintf(target, sizeof target, "%s.releases/%s", base, r->name);
    struct stat sb;
    if (lstat(r->out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* a real folder (an older canbao, or made by hand): moved aside once */
        if (rmdir(r->out) != 0) {
            char aside[PATH_MAX];
            snprintf(aside, sizeof aside, "%s/legacy-%lld", r->dir, (long long) time(NULL));
            if (rename(r->out, aside) != 0)
                return io_fail(err, "could not move the old output folder aside", r->out);
            log_warn("event=output_folder_moved from=%s to=%s note=\"the output folder is now a link to "
                     "the release of each run\"", r->out, aside);
        }
    } else if (lstat(r->out, &sb) == 0 && !S_ISLNK(sb.st_mode)) {
        errno = EEXIST;
        return io_fail(err, "the output folder is a file", r->out);
    }
    /* the new link is made next to the old one (hidden; one run at a time holds the run lock,
     * so the name is free or a leftover of a run that died), then renamed over it */
    char inparent[PATH_MAX];
    snprintf(inparent, sizeof inparent, "%s/.%s.link", parent, base);
    unlink(inparent);
    if (symlink(target, inparent) != 0)
        return io_fail(err, "could not create the link to the new release", inparent);
    if (rename(inparent, r->out) != 0) {
        bool f = io_fail(err, "could not switch the output folder to the new release", r->out);
        unlink(inparent);
        return f;
    }
    return sync_path(parent, true, err);
}

void
release_current(const char *out, char *name, size_t size)
{
    name[0] = '\0';
    char target[PATH_MAX];
    ssize_t n = readlink(out, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    const char *nm = slash ? slash + 1 : target;
    if (release_run_id(nm) >= 0 || strncmp(nm, "legacy-", 7) == 0)
        snprintf(name, size, "%s", nm);
}

int64_t
release_run_id(const char *name)
{
    /* YYYY-MM-DD_run<digits> */
    if (strlen(name) < 15 || name[4] != '-' || name[7] != '-' || strncmp(name + 10, "_run", 4) != 0)
        return -1;
    const char *p = name + 14;
    if (*p < '0' || *p > '9')
        return -1;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

typedef struct Old {
    char    name[256];
    int64_t run;       /* legacy folders: -1 (oldest) */
} Old;

static int
cmp_old_desc(const void *a, const void *b)
{
    const Old *x = a, *y = b;
    return x->run < y->run ? 1 : x->run > y->run ? -1 : strcmp(y->name, x->name);
}

/* The release folders in <out>.releases (and the legacy ones: run -1), in no order. */
static int
list_releases(const char *out, char *dir, size_t dsize, Old **out_o)
{
    snprintf(dir, dsize, "%s.releases", out);
    *out_o = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    Old *o = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t run = release_run_id(de->d_name);
        if (run < 0 && strncmp(de->d_name, "legacy-", 7) != 0)
            continue;
        o = xrealloc(o, sizeof(Old) * (size_t) (n + 1));
        snprintf(o[n].name, sizeof o[n].name, "%s", de->d_name);
        o[n].run = run;
        n++;
    }
    closedir(d);
    *out_o = o;
    return n;
}

int64_t
release_newest_run(const char *out)
{
    char dir[PATH_MAX];
    Old *o;
    int n = list_releases(out, dir, sizeof dir, &o);
    int64_t newest = -1;
    for (int i = 0; i < n; i++)
        if (o[i].run > newest)
            newest = o[i].run;
    free(o);
    return newest;
}

void
release_prune(const char *out, int keep)
{
    char dir[PATH_MAX], cur[256];
    release_current(out, cur, sizeof cur);
    Old *o;
    int n = list_releases(out, dir, sizeof dir, &o);
    if (n == 0)
        return;
    qsort(o, (size_t) n, sizeof(Old), cmp_old_desc);
    for (int i = keep < 1 ? 1 : keep; i < n; i++) {
        if (strcmp(o[i].name, cur) == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, o[i].name);
        release_remove_tree(p);
        log_info("event=release_pruned folder=%s", p);
    }
    free(o);
}
