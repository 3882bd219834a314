#include "fsmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

double
fs_level_weight(const FsModel *fm, int c, int level, double tf)
{
    if (level == FS_NULL || c < 0 || c >= fm->ncomp || level >= fm->comp[c].nlevels)
        return 0.0;
    const FsComparison *fc = &fm->comp[c];
    double u = fc->u[level];
    if (fc->tf[level] && tf > 0.0)
        u = tf > fm->tf_min ? tf : fm->tf_min;
    return log2(fc->m[level] / u);
}

double
fs_weight(const FsModel *fm, const uint8_t *gamma, const double *tf)
{
    double w = 0.0;
    for (int c = 0; c < fm->ncomp; c++)
        w += fs_level_weight(fm, c, gamma[c], tf ? tf[c] : 0.0);
    return w;
}

void
fs_u_from_counts(FsModel *fm, int c, const uint64_t *counts)
{
    FsComparison *fc = &fm->comp[c];
    double total = 0.0;
    for (int l = 0; l < fc->nlevels; l++)
        total += (double) counts[l] + 0.5;
    for (int l = 0; l < fc->nlevels; l++)
        fc->u[l] = ((double) counts[l] + 0.5) / total;
}

/* log likelihood ratio of a pair over the comparisons in use, from the table lw[c][level] */
static double
log_bf(const FsModel *fm, double lw[FS_MAX_COMP][FS_MAX_LEVELS], const uint8_t *g, unsigned use)
{
    double l = 0.0;
    for (int c = 0; c < fm->ncomp; c++)
        if ((use & (1u << c)) && g[c] != FS_NULL)
            l += lw[c][g[c]];
    return l;
}

bool
fs_em(FsModel *fm, const uint8_t *gamma, const uint32_t *group, size_t npairs, unsigned estimate,
      double lambda, int max_iter, double tol, FsEmResult *res)
{
    memset(res, 0, sizeof *res);
    unsigned use = 0;
    for (int c = 0; c < fm->ncomp; c++)
        if (estimate & (1u << c))
            use |= 1u << c;
    if (npairs == 0 || use == 0)
        return false;
    if (lambda <= 0.0 || lambda >= 1.0)
        lambda = 0.5;
    double m[FS_MAX_COMP][FS_MAX_LEVELS];
    for (int c = 0; c < fm->ncomp; c++)
        memcpy(m[c], fm->comp[c].m, sizeof m[c]);

    /* grouped: rho = P(a record's person is among its candidates), each candidate a priori
     * equally likely; count the records */
    size_t ngroups = 0;
    if (group != NULL)
        for (size_t p = 0; p < npairs; p++)
            ngroups += p == 0 || group[p] != group[p - 1];
    double rho = ngroups ? lambda * (double) npairs / (double) ngroups : 0.0;
    if (rho < 0.05)
        rho = 0.05;
    if (rho > 0.95)
        rho = 0.95;

    double *gl = NULL;           /* the current record's pairs' log BF */
    size_t  glcap = 0;
    for (int it = 1; it <= max_iter; it++) {
        double num[FS_MAX_COMP][FS_MAX_LEVELS], den[FS_MAX_COMP];
        double lw[FS_MAX_COMP][FS_MAX_LEVELS];
        memset(num, 0, sizeof num);
        memset(den, 0, sizeof den);
        for (int c = 0; c < fm->ncomp; c++)
            for (int l = 0; l < fm->comp[c].nlevels; l++)
                lw[c][l] = log(m[c][l]) - log(fm->comp[c].u[l]);
        double wsum = 0.0, lo0 = log(lambda) - log(1.0 - lambda);
        size_t gfrom = 0, gto = 0;   /* the current record's pairs */
        double gmax = 0.0, gden = 1.0, gprior = 0.0;
        for (size_t p = 0; p < npairs; p++) {
            const uint8_t *g = gamma + p * (size_t) fm->ncomp;
            double w;
            if (group == NULL) {
                double lo = lo0 + log_bf(fm, lw, g, use);   /* log-odds of a match, pair alone */
                w = lo > 40 ? 1.0 : lo < -40 ? 0.0 : 1.0 / (1.0 + exp(-lo));
            } else {
                if (p >= gto) {
                    /* a new record with k candidates:
                     *   p_i = (rho/k) BF_i / ((1 - rho) + (rho/k) sum_j BF_j),
                     * computed scaled by e^-max(log BF) */
                    gfrom = p;
                    gto = p + 1;
                    while (gto < npairs && group[gto] == group[p])
                        gto++;
                    if (gto - gfrom > glcap) {
                        glcap = (gto - gfrom) * 2;
                        free(gl);
                        gl = xmalloc(glcap * sizeof(double));
                    }
                    gmax = -INFINITY;
                    for (size_t q = gfrom; q < gto; q++) {
                        gl[q - gfrom] = log_bf(fm, lw, gamma + q * (size_t) fm->ncomp, use);
                        gmax = fmax(gmax, gl[q - gfrom]);
                    }
                    double sum = 0.0;
                    for (size_t q = gfrom; q < gto; q++)
                        sum += exp(gl[q - gfrom] - gmax);
                    gprior = rho / (double) (gto - gfrom);
                    gden = (1.0 - rho) * exp(fmin(-gmax, 700.0)) + gprior * sum;
                }
                w = gprior * exp(gl[p - gfrom] - gmax) / gden;
            }
            wsum += w;
            for (int c = 0; c < fm->ncomp; c++)
                if ((use & (1u << c)) && g[c] != FS_NULL) {
                    num[c][g[c]] += w;
                    den[c] += w;
                }
        }
        double change = 0.0;
        for (int c = 0; c < fm->ncomp; c++) {
            if (!(use & (1u << c)) || den[c] <= 0.0)
                continue;
            double total = 0.0;
            for (int l = 0; l < fm->comp[c].nlevels; l++) {
                double v = num[c][l] / den[c];
                if (v < 1e-6)
                    v = 1e-6;
                num[c][l] = v;
                total += v;
            }
            for (int l = 0; l < fm->comp[c].nlevels; l++) {
                double v = num[c][l] / total;
                if (fabs(v - m[c][l]) > change)
                    change = fabs(v - m[c][l]);
                m[c][l] = v;
            }
        }
        lambda = wsum / (double) npairs;
        if (group != NULL && ngroups > 0) {
            rho = wsum / (double) ngroups;
            rho = rho < 1e-6 ? 1e-6 : rho > 1 - 1e-6 ? 1 - 1e-6 : rho;
        }
        if (lambda < 1e-9)
            lambda = 1e-9;
        if (lambda > 1 - 1e-9)
            lambda = 1 - 1e-9;
        res->iterations = it;
        res->max_change = change;
        if (change < tol) {
            res->converged = true;
            break;
        }
    }
    free(gl);
    for (int c = 0; c < fm->ncomp; c++)
        if (use & (1u << c))
            memcpy(fm->comp[c].m, m[c], sizeof m[c]);
    res->lambda = lambda;
    return true;
}
