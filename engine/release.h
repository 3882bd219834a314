/*
 * release — the published output folder, switched from one night's complete set of files to
 * the next in one step.
 *
 * `canbao run --out /srv/canbao/lists` makes /srv/canbao/lists a symbolic link to a release
 * folder, /srv/canbao/lists.releases/2026-11-28_run42/, that holds every file of one run and
 * SHA256SUMS (`sha256sum -c` checks it).  A run writes its files into a staging folder
 * (lists.releases/.staging-42), syncs them, writes SHA256SUMS last; after the database commit
 * it renames the staging folder to its release name and replaces the link with rename(2).
 * Readers of /srv/canbao/lists see the previous set or the new one, never a mixture; a crash at
 * any point leaves the previous set in place.  Old release folders are pruned (the newest
 * `keep`, and always the one the link points to).  An output folder that is a real directory
 * (made by an older canbao, or by hand) is moved into the releases folder once, as
 * legacy-<time>, and replaced by the link.
 *
 * Paths are absolute (a relative --out is taken from the working directory).  Every function
 * returns false with err filled (CBERR_IO) on failure.
 */
#ifndef CANBAO_RELEASE_H
#define CANBAO_RELEASE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cberror.h"
#include "date.h"

#define RELEASE_MANIFEST "SHA256SUMS"

typedef struct Release {
    char out[PATH_MAX];        /* the output folder (the link), absolute, no trailing '/' */
    char dir[PATH_MAX];        /* <out>.releases */
    char name[64];             /* 2026-11-28_run42 */
    char folder[PATH_MAX];     /* <dir>/<name> */
    char staging[PATH_MAX];    /* <dir>/.staging-42 (a dry run: .dryrun-<pid>) */
} Release;

/* Fills the paths of run run_id's release (run_id < 0: a dry run of this process). */
bool release_paths(Release *r, const char *out, Day asof, int64_t run_id, CbError *err);

/* Creates the releases folder and an empty staging folder; removes staging folders left by
 * runs that died (the caller holds the run lock; a dry run's only when its process is gone). */
bool release_begin(const Release *r, CbError *err);

/* Syncs every file of folder to disk, then writes folder/SHA256SUMS (SHA-256 of each file,
 * by name) by a rename, and syncs the folder.  The files are synced and hashed on up to
 * `threads` threads; the manifest is the same whatever their number.  Returns the file count
 * and bytes when asked. */
bool release_seal(const char *folder, int threads, int *nfiles, uint64_t *bytes, CbError *err);

/* True when folder/SHA256SUMS exists, lists every other file of the folder and every digest
 * matches. */
bool release_verify(const char *folder, CbError *err);

/* Renames the staging folder to the release folder (nothing to do when that is done). */
bool release_install(const Release *r, CbError *err);

/* Points the output folder's link at the release folder, atomically (rename of a new link). */
bool release_switch(const Release *r, CbError *err);

/* The release folder name the output folder points to ("" when it is not a link of ours). */
void release_current(const char *out, char *name, size_t size);

/* The run id in a release name (2026-11-28_run42 → 42), or -1. */
int64_t release_run_id(const char *name);

/* The highest run id among the release folders of the output folder, or -1 when there are
 * none: a database made anew numbers its runs after it (schema/018). */
int64_t release_newest_run(const char *out);

/* Removes release folders beyond the newest `keep` (never the current one); logs each. */
void release_prune(const char *out, int keep);

/* Removes the staging folder (after a failure, or a dry run). */
void release_discard(const Release *r);

/* Removes a folder and everything in it (no symbolic link is followed). */
void release_remove_tree(const char *path);

/* mkdir -p. */
bool release_mkdirs(const char *dir, CbError *err);

#endif
