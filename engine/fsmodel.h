/*
 * fsmodel — the Fellegi-Sunter model of record linkage: comparison levels with their m and u
 * probabilities, match weights, and the EM estimation of m (as Splink and fastLink do it).
 *
 * A candidate pair is described by its comparison vector: one level per comparison (0 = the
 * weakest, "else"; nlevels-1 = the strongest, usually "exact"), or FS_NULL when either side
 * lacks the field (a null comparison adds no evidence).  For level l of comparison c,
 *     m = P(level l | the two records are the same person),
 *     u = P(level l | they are not),
 * and the level's match weight is log2(m/u) bits.  A level may be term-frequency adjusted: its
 * u is then the frequency of the agreeing value (a common name such as 金英姬 is weaker
 * evidence than a rare one), floored at tf_min.
 *
 * Everything here is pure arithmetic on caller-owned arrays (fs_em keeps one scratch array of
 * a record's candidates while it runs), deterministic, thread-safe.  linkage.c computes the vectors; the unit tests feed synthetic
 * ones with known m and u.
 */
#ifndef CANBAO_FSMODEL_H
#define CANBAO_FSMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS_MAX_COMP   8
#define FS_MAX_LEVELS 6
#define FS_NULL       0xFF

typedef struct FsComparison {
    const char *name;                        /* "name", "birth" ... (static) */
    int         nlevels;
    const char *level[FS_MAX_LEVELS];        /* level names, weakest first (static) */
    double      m[FS_MAX_LEVELS];
    double      u[FS_MAX_LEVELS];
    bool        tf[FS_MAX_LEVELS];           /* level is term-frequency adjusted */
} FsComparison;

typedef struct FsModel {
    int          ncomp;
    FsComparison comp[FS_MAX_COMP];
    double       tf_min;                     /* floor of a term frequency */
} FsModel;

/* Weight in bits of level `level` of comparison c; tf is the agreeing value's frequency
 * (used only when the level is tf-adjusted and tf > 0).  0 for FS_NULL. */
double fs_level_weight(const FsModel *fm, int c, int level, double tf);

/* Sum of the level weights of a comparison vector (gamma[ncomp]); tf may be NULL. */
double fs_weight(const FsModel *fm, const uint8_t *gamma, const double *tf);

/*
 * fs_u_from_counts
 *     u of comparison c from level counts of random pairs (counts[level], nulls excluded), with
 *     add-half smoothing so that no u is 0.
 */
void fs_u_from_counts(FsModel *fm, int c, const uint64_t *counts);

typedef struct FsEmResult {
    int    iterations;
    bool   converged;
    double lambda;         /* estimated share of matches among the pairs */
    double max_change;     /* largest change of an m in the last iteration */
} FsEmResult;

/*
 * fs_em
 *     Expectation-maximisation of m on npairs comparison vectors (gamma, row-major, ncomp per
 *     pair), u held fixed.  Only the comparisons whose bit is set in estimate are in the
 *     likelihood and re-estimated (the others are the ones a blocking rule conditioned on, whose
 *     levels say nothing about match status among its pairs).  Starts from fm's m and *lambda;
 *     stops when no m moves by more than tol, or after max_iter iterations.  m values are kept
 *     at least 1e-6.  Returns false (fm unchanged) when there are no pairs or no comparison to
 *     estimate.
 *
 *     group (may be NULL) numbers the record each pair belongs to, pairs of one record next to
 *     each other.  With it the E-step knows that a record is one person at most: with rho the
 *     share of records whose person is among their k candidates (estimated too), each
 *     candidate a priori equally likely, the posterior of candidate i is
 *         (rho/k) BF_i / ((1 - rho) + (rho/k) sum_j BF_j)        (BF: likelihood ratio)
 *     instead of the pair-alone o BF_i / (1 + o BF_i).  This keeps EM from the degenerate fit
 *     "every pair matches" when a blocking rule leaves weak comparisons, as it does when
 *     linking records to a register.  res->lambda is still the share of matching pairs.
 */
bool fs_em(FsModel *fm, const uint8_t *gamma, const uint32_t *group, size_t npairs,
           unsigned estimate, double lambda, int max_iter, double tol, FsEmResult *res);

#endif
